import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countRows, loadTable, parseJsonBigint, planScan, scanRows, type Row } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectCode, fixturesRoot, plain, plainRows } from './helpers';

/**
 * Golden interop loop: every table in test/fixtures/iceberg/expected.json, written by Spark,
 * Java Iceberg, PyIceberg, Athena and duckdb-iceberg. expected.json is the truth.
 */
interface Expected {
  rows: Record<string, number>;
  current?: { where: string; rows: number; values: Record<string, unknown> };
  currentRows?: Record<string, unknown>[];
  currentKeys?: Record<string, unknown[]>;
  currentColumns?: string[];
  unknownSnapshot?: string;
  missingFiles?: Record<string, string>;
  tpchQ6Current?: string;
}
const expected = parseJsonBigint(readFileSync(`${fixturesRoot}/expected.json`, 'utf8')) as { tables: Record<string, Expected> };
const storage = createLocalStorage();

/** The fixture `where` strings are one equality: `"Col" = 'text'` or `col = DATE 'yyyy-mm-dd'`. */
function parseWhere(where: string): (r: Row) => boolean {
  const m = /^"?([^"=]+?)"?\s*=\s*(?:DATE\s+)?'([^']*)'$/.exec(where.trim());
  if (!m) throw new Error(`unsupported where ${where}`);
  return (r) => r[m[1]!] === m[2];
}

function byKey(a: Record<string, unknown>, b: Record<string, unknown>): number {
  return JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
}

describe('interop golden tables', () => {
  for (const [name, exp] of Object.entries(expected.tables)) {
    const root = `${fixturesRoot}/${name}`;
    describe(name, () => {
      for (const [id, count] of Object.entries(exp.rows)) {
        it(`snapshot ${id} has ${count} live rows (count and scan agree)`, async () => {
          expect(await countRows(storage, root, { snapshotId: BigInt(id) })).toBe(Number(count));
          const { rows } = await scanRows(storage, root, { snapshotId: BigInt(id) });
          expect(rows.length).toBe(Number(count));
        });
      }
      if (exp.current) {
        const cur = exp.current;
        it(`current: ${cur.where} → ${cur.rows} row(s) with the listed values`, async () => {
          const { rows } = await scanRows(storage, root);
          const hits = rows.filter(parseWhere(cur.where));
          expect(hits.length).toBe(Number(cur.rows));
          for (const [col, v] of Object.entries(cur.values)) expect(plain(hits[0]![col])).toEqual(plain(v));
        });
      }
      if (exp.currentRows) {
        it('current rows equal the listed rows', async () => {
          const want = plain(exp.currentRows) as Record<string, unknown>[];
          const cols = Object.keys(want[0]!);
          const { rows } = await scanRows(storage, root, { columns: cols });
          expect(plainRows(rows).sort(byKey)).toEqual([...want].sort(byKey));
        });
      }
      if (exp.currentKeys) {
        it('current keys equal the listed keys', async () => {
          for (const [col, keys] of Object.entries(exp.currentKeys!)) {
            const { rows } = await scanRows(storage, root, { columns: [col] });
            expect(rows.map((r) => plain(r[col])).sort()).toEqual((plain(keys) as unknown[]).sort());
          }
        });
      }
      if (exp.currentColumns) {
        it('current columns are the listed names (renames applied by field id)', async () => {
          const { columns, rows } = await scanRows(storage, root);
          expect(columns.map((c) => c.name)).toEqual(exp.currentColumns);
          expect(Object.keys(rows[0]!)).toEqual(exp.currentColumns);
          // The renamed column still reads its data (matched by field id 3, not by name).
          expect(rows.some((r) => typeof r.event_date === 'string')).toBe(true);
        });
      }
      if (exp.unknownSnapshot) {
        it('an unknown snapshot fails with NotFound naming the id', async () => {
          await expectCode(planScan(storage, root, { snapshotId: 1234n }), 'NotFound', /snapshot 1234 not found/);
          await expectCode(countRows(storage, root, { snapshotId: 1234n }), 'NotFound', /1234/);
        });
      }
      for (const [id] of Object.entries(exp.missingFiles ?? {})) {
        it(`snapshot ${id} with a missing manifest list fails with NotFound naming the file`, async () => {
          await expectCode(scanRows(storage, root, { snapshotId: BigInt(id) }), 'NotFound', /manifest list .*not found: .*snap-7342794868382145167-1-34f7dec7.*\.avro/);
        });
      }
      if (exp.tpchQ6Current) {
        it(`TPC-H Q6 on the current snapshot = ${exp.tpchQ6Current}`, async () => {
          const { rows } = await scanRows(storage, root, { columns: ['l_shipdate', 'l_discount', 'l_quantity', 'l_extendedprice'] });
          // Exact decimal arithmetic: price (scale 2) × discount (scale 2) → scale 4.
          const unscaled = (s: string) => BigInt(s.replace('.', ''));
          let sum = 0n;
          for (const r of rows) {
            const d = Number(r.l_discount);
            if (String(r.l_shipdate) >= '1994-01-01' && String(r.l_shipdate) < '1995-01-01' && d >= 0.05 && d <= 0.07 && Number(r.l_quantity) < 24) {
              sum += unscaled(String(r.l_extendedprice)) * unscaled(String(r.l_discount));
            }
          }
          const text = sum.toString();
          expect(`${text.slice(0, -4)}.${text.slice(-4)}`).toBe(exp.tpchQ6Current);
        });
      }
    });
  }
});

describe('fixture details beyond expected.json', () => {
  it('add_columns_with_defaults: rows written before the columns existed show initial-default values', async () => {
    const { rows } = await scanRows(storage, `${fixturesRoot}/duckdb-iceberg/add_columns_with_defaults`);
    const old = rows.filter((r) => r.col_integer === 342342);
    expect(old.length).toBe(2);
    expect(plain(old[0])).toMatchObject({
      col_boolean: true,
      col_long: '-9223372036854775808',
      col_decimal: '12345.00',
      col_date: '2003-10-20',
      col_time: '00:00:00.012345',
      col_timestamp: '1970-01-01T00:00:00.012345',
      col_timestamptz: '1970-01-01T00:00:00.012345+00:00',
      col_string: 'HELLO',
      col_uuid: 'f79c3e09-677c-4bbd-a479-3f349cb785e7',
      col_fixed: [1, 2, 3, 255, 3],
      col_binary: [1, 2],
    });
  });

  it('add_columns_with_defaults_in_struct: struct children added later take their defaults', async () => {
    const { rows } = await scanRows(storage, `${fixturesRoot}/duckdb-iceberg/add_columns_with_defaults_in_struct`);
    const structs = rows.map((r) => r.a as Record<string, unknown>);
    expect(structs.length).toBe(2);
    expect(structs.every((s) => 'col_integer' in s)).toBe(true);
  });

  it('hive_partitioned_table: partition columns absent from the Parquet files come from the manifest', async () => {
    const { rows } = await scanRows(storage, `${fixturesRoot}/duckdb-iceberg/hive_partitioned_table`);
    expect(rows.every((r) => typeof r.event_date === 'string')).toBe(true);
    expect(new Set(rows.map((r) => r.event_date))).toEqual(new Set(['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04']));
  });

  it('partition_decimal_bigint: decimal(16,11) identity partition values are exact', async () => {
    const { rows } = await scanRows(storage, `${fixturesRoot}/duckdb-iceberg/partition_decimal_bigint`, { columns: ['partition_col'] });
    expect(rows.map((r) => r.partition_col)).toContain('-9876.54321098765');
    expect(rows.map((r) => r.partition_col)).toContain('0.00000000001');
  });

  it('map_stats: map columns read as key/value pairs and timestamptz keeps microseconds', async () => {
    const { rows } = await scanRows(storage, `${fixturesRoot}/duckdb-iceberg/map_stats`);
    const row = rows.find((r) => r.timestamp === '2026-01-01T00:00:00.000000+00:00')!;
    expect(row.input).toBe('hello');
    expect(row.metadata).toEqual([{ key: 'key', value: 'value1' }]);
    expect(rows.map((r) => r.timestamp).sort()).toEqual(['2026-01-01T00:00:00.000000+00:00', '2026-01-02T00:00:00.000000+00:00']);
  });

  it('athena_example: object-storage data paths resolve under the local data folder', async () => {
    const plan = await planScan(storage, `${fixturesRoot}/icebird/athena_example`);
    expect(plan.files[0]!.path).toBe(`${fixturesRoot}/icebird/athena_example/data/sNoYhg/20250401_023623_00108_u4nkm-ee75816e-a3dd-4356-97b3-1c6d0128a41f.parquet`);
  });

  it('equality_delete_cross_partition: metadata named vfinal.metadata.json is found without a hint', async () => {
    const t = await loadTable(storage, `${fixturesRoot}/duckdb-iceberg/equality_delete_cross_partition`);
    expect(t.metadataFile.endsWith('vfinal.metadata.json')).toBe(true);
    expect(t.metadata.currentSnapshotId).toBe(9876543210123456789n);
  });

  it('java_bunnies: snapshot ids above 2^53 survive JSON parsing exactly', async () => {
    const t = await loadTable(storage, `${fixturesRoot}/icebird/java_bunnies`);
    expect(t.metadata.snapshots.map((s) => s.snapshotId)).toEqual([4951213507629824583n, 6458828015811002920n, 9158179788527662767n]);
    const plan = await planScan(storage, t);
    expect(plan.files.map((f) => [f.sequenceNumber, f.deletes.map((d) => [d.content, d.sequenceNumber])])).toEqual([
      [3n, []],
      [1n, [[1, 2n], [2, 3n]]],
    ]);
  });
});
