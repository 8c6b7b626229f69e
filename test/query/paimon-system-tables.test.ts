import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { formatJavaDuration } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, createPaimonTag, evolvePaimonSchema } from '../../core/lake/paimon/write';
import { createTable, seededWriteEnv } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import type { HandlerContext } from '../../core/api/contract';
import { createQueryCalls } from '../../core/query/calls';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { javaFloatText, splitSystemTableName } from '../../core/query/paimon-system-tables';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectError } from '../paimon/helpers';
import { FIXTURES } from '../support/fixtures';

const storage = createLocalStorage();
const paimonWarehouse = join(FIXTURES, 'paimon');
const fixtureRoot = (t: string) => join(paimonWarehouse, 'paimon-cpp', t);
const FIXTURE_TABLES = ['pk_table_scan_and_read_mor', 'pk_table_scan_and_read_dv', 'pk_table_with_alter_table', 'pk_table_nested_type', 'append_09', 'append_complex_data'];
let engine: QueryEngine;

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
});
afterAll(async () => {
  await engine?.close();
});

type Obj = Record<string, unknown>;

async function select(warehouse: string, sql: string): Promise<Obj[]> {
  const r = await queryWarehouse(engine, warehouse, sql);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

async function columnsOf(warehouse: string, sql: string): Promise<string[]> {
  return (await queryWarehouse(engine, warehouse, sql)).columns.map((c) => c.name);
}

/** A snapshot / tag JSON file as Java wrote it, with 64-bit members as decimal text. */
function readJson(path: string): Obj {
  const text = readFileSync(path, 'utf8');
  return JSON.parse(text.replace(/"(commitIdentifier|watermark)"\s*:\s*(-?\d+)/g, '"$1": "$2"')) as Obj;
}

/** The UTC wall clock of epoch ms as DuckDB prints a TIMESTAMP through Tidemark's result set. */
const utc = (ms: number) => new Date(ms).toISOString().replace('Z', '000');

const num = (v: unknown) => (v === null || v === undefined ? null : BigInt(v as bigint));

describe('Paimon system tables over tables Java Paimon wrote', () => {
  it('$snapshots has Java\'s columns in order, one row per snapshot file with its values', async () => {
    expect(await columnsOf(paimonWarehouse, 'SELECT * FROM "paimon-cpp".append_09$snapshots')).toEqual([
      'snapshot_id', 'schema_id', 'commit_user', 'commit_identifier', 'commit_kind', 'commit_time', 'base_manifest_list', 'delta_manifest_list',
      'changelog_manifest_list', 'total_record_count', 'delta_record_count', 'changelog_record_count', 'watermark', 'next_row_id', 'operation', 'writer_version',
    ]);
    for (const t of FIXTURE_TABLES) {
      const dir = join(fixtureRoot(t), 'snapshot');
      const ids = readdirSync(dir).filter((n) => /^snapshot-\d+$/.test(n)).map((n) => Number(n.slice(9))).sort((a, b) => a - b);
      const rows = await select(paimonWarehouse, `SELECT * FROM "paimon-cpp".${t}$snapshots ORDER BY snapshot_id`);
      expect(rows.map((r) => Number(r.snapshot_id)), t).toEqual(ids);
      rows.forEach((r, i) => {
        const j = readJson(join(dir, `snapshot-${ids[i]}`));
        expect(r, `${t} snapshot ${ids[i]}`).toEqual({
          snapshot_id: BigInt(j.id as number),
          schema_id: BigInt(j.schemaId as number),
          commit_user: j.commitUser,
          commit_identifier: BigInt(j.commitIdentifier as string),
          commit_kind: j.commitKind,
          commit_time: utc(j.timeMillis as number),
          base_manifest_list: j.baseManifestList,
          delta_manifest_list: j.deltaManifestList,
          changelog_manifest_list: j.changelogManifestList ?? null,
          total_record_count: num(j.totalRecordCount),
          delta_record_count: num(j.deltaRecordCount),
          changelog_record_count: num(j.changelogRecordCount),
          watermark: num(j.watermark),
          next_row_id: num(j.nextRowId),
          operation: null,
          writer_version: null,
        });
      });
    }
    // The fixture's README: commits 1, 2, a compaction, then commits 3 and 4.
    const mor = await select(paimonWarehouse, 'SELECT snapshot_id, commit_kind, commit_identifier, total_record_count FROM "paimon-cpp".pk_table_scan_and_read_mor$snapshots ORDER BY 1');
    expect(mor.map((r) => [Number(r.snapshot_id), r.commit_kind, Number(r.commit_identifier)])).toEqual([
      [1, 'APPEND', 1], [2, 'APPEND', 2], [3, 'COMPACT', 2], [4, 'APPEND', 3], [5, 'APPEND', 4],
    ]);
    expect(mor.map((r) => Number(r.total_record_count))).toEqual([9, 11, 10, 13, 16]);
  });

  it('$schemas lists every schema file; $options the latest schema\'s options', async () => {
    const t = 'pk_table_with_alter_table';
    const rows = await select(paimonWarehouse, `SELECT * FROM "paimon-cpp".${t}$schemas ORDER BY schema_id`);
    expect(rows.map((r) => r.schema_id)).toEqual([0n, 1n]);
    rows.forEach((r, i) => {
      const j = JSON.parse(readFileSync(join(fixtureRoot(t), 'schema', `schema-${i}`), 'utf8')) as Obj;
      expect(JSON.parse(r.fields as string), `schema ${i}`).toEqual(j.fields);
      expect(JSON.parse(r.partition_keys as string)).toEqual(j.partitionKeys);
      expect(JSON.parse(r.primary_keys as string)).toEqual(j.primaryKeys);
      expect(JSON.parse(r.options as string)).toEqual(j.options);
      expect(r.comment).toBe(j.comment ?? null);
      expect(r.update_time).toBe(utc(j.timeMillis as number));
    });
    // The ALTER renamed key2 to key_2 (primary key) and added e.
    expect(JSON.parse(rows[1]!.primary_keys as string)).toEqual(['key0', 'key1', 'key_2']);
    expect(rows[1]!.fields).toContain('{"id":9,"name":"e","type":"INT"}');

    const latest = JSON.parse(readFileSync(join(fixtureRoot(t), 'schema', 'schema-1'), 'utf8')) as { options: Record<string, string> };
    const options = await select(paimonWarehouse, `SELECT key, value FROM "paimon-cpp".${t}$options`);
    expect(options).toEqual(Object.entries(latest.options).map(([key, value]) => ({ key, value })));
    expect(options).toContainEqual({ key: 'deletion-vectors.enabled', value: 'true' });
    expect(await select(paimonWarehouse, `SELECT value FROM "paimon-cpp".pk_table_scan_and_read_mor$options WHERE key = 'bucket-key'`)).toEqual([{ value: 'f2' }]);
  });

  it('$files lists each version\'s data files: record counts add up to the snapshot\'s, paths and sizes are the files\'', async () => {
    for (const t of ['pk_table_scan_and_read_mor', 'append_09', 'pk_table_scan_and_read_dv']) {
      const dir = join(fixtureRoot(t), 'snapshot');
      for (const n of readdirSync(dir).filter((x) => /^snapshot-\d+$/.test(x))) {
        const j = readJson(join(dir, n));
        const files = await select(paimonWarehouse, `SELECT * FROM "paimon-cpp".${t}$files FOR VERSION AS OF ${j.id}`);
        const total = files.reduce((s, f) => s + Number(f.record_count), 0);
        expect(total, `${t} ${n}`).toBe(j.totalRecordCount);
        for (const f of files) {
          expect(statSync(f.file_path as string).size, f.file_path as string).toBe(Number(f.file_size_in_bytes));
          expect(f.file_format).toBe('parquet');
          expect(Number(f.schema_id)).toBe(j.schemaId);
        }
      }
    }
    const mor = await select(paimonWarehouse, 'SELECT * FROM "paimon-cpp".pk_table_scan_and_read_mor$files ORDER BY min_sequence_number, file_path');
    expect(mor).toHaveLength(6);
    // Partition f1, trimmed primary key (f0, f2), stats by column name, as Java prints them.
    const lucy = mor.find((f) => f.partition === '{20}')!;
    expect(lucy).toMatchObject({
      bucket: 0,
      level: 5,
      record_count: 2n,
      min_key: '[Lucy, 1]',
      max_key: '[Paul, 1]',
      null_value_counts: '{f0=0, f1=0, f2=0, f3=0}',
      min_value_stats: '{f0=Lucy, f1=20, f2=1, f3=14.1}',
      max_value_stats: '{f0=Paul, f1=20, f2=1, f3=18.1}',
      min_sequence_number: 0n,
      deleteRowCount: 0n,
      file_source: 'APPEND',
      first_row_id: null,
      write_cols: null,
    });
    expect(lucy.file_path).toMatch(/\/f1=20\/bucket-0\/data-[0-9a-f-]+\.parquet$/);
    expect(mor.filter((f) => f.file_source === 'COMPACT').map((f) => f.min_value_stats)).toEqual(['{f0=Alice, f1=10, f2=1, f3=11.0}']);
    // The Tony delete (snapshot 2) is a level-0 file holding one retraction.
    expect(mor.filter((f) => f.deleteRowCount === 1n).map((f) => [f.min_key, Number(f.level)])).toContainEqual(['[Tony, 0]', 0]);
    // Append tables have no key.
    expect(await select(paimonWarehouse, 'SELECT DISTINCT min_key FROM "paimon-cpp".append_09$files')).toEqual([{ min_key: null }]);
  });

  it('$files stats follow field ids through the ALTER: a file of schema 0 shows its renamed columns\' bounds', async () => {
    const t = 'pk_table_with_alter_table';
    const [old] = await select(paimonWarehouse, `SELECT file_path, record_count, null_value_counts, min_value_stats, max_value_stats FROM "paimon-cpp".${t}$files WHERE schema_id = 0`);
    const parse = (text: unknown) => Object.fromEntries((text as string).slice(1, -1).split(', ').map((kv) => kv.split('=') as [string, string]));
    // Schema 0 named the columns key2, b and d that schema 1 calls key_2, c and a (same field ids);
    // schema 1's d (field id 8) is new: no bounds, every row null.
    const bytes = readFileSync(old!.file_path as string);
    const rows = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, compressors })) as Obj[];
    expect(rows).toHaveLength(Number(old!.record_count));
    const min = (c: string) => String(Math.min(...rows.map((r) => Number(r[c]))));
    const max = (c: string) => String(Math.max(...rows.map((r) => Number(r[c]))));
    const lo = parse(old!.min_value_stats);
    const hi = parse(old!.max_value_stats);
    expect([lo.key_2, lo.c, lo.a, hi.key_2, hi.c, hi.a]).toEqual([min('key2'), min('b'), min('d'), max('key2'), max('b'), max('d')]);
    expect([lo.d, hi.d, lo.e]).toEqual(['null', 'null', 'null']);
    expect(parse(old!.null_value_counts)).toMatchObject({ d: String(rows.length), e: String(rows.length), a: '0', key_2: '0' });
  });

  it('$audit_log: merged rows with their row kind; the +I / +U ones are the live rows of every version', async () => {
    expect(await columnsOf(paimonWarehouse, 'SELECT * FROM "paimon-cpp".pk_table_scan_and_read_mor$audit_log')).toEqual(['rowkind', 'f0', 'f1', 'f2', 'f3']);
    const expected = JSON.parse(readFileSync(join(paimonWarehouse, 'expected.json'), 'utf8')) as { tables: Record<string, { latestF0?: string[] }> };
    const log = await select(paimonWarehouse, 'SELECT rowkind, f0, f3 FROM "paimon-cpp".pk_table_scan_and_read_mor$audit_log');
    expect(log.filter((r) => r.rowkind !== '-D').map((r) => r.f0).sort()).toEqual([...expected.tables['paimon-cpp/pk_table_scan_and_read_mor']!.latestF0!].sort());
    // Tony (deleted in snapshot 2) and Alex (deleted in snapshot 5) are retractions still in level 0.
    expect(log.filter((r) => r.rowkind === '-D').map((r) => r.f0).sort()).toEqual(['Alex', 'Tony']);
    expect(log.find((r) => r.f0 === 'Alice')).toEqual({ rowkind: '+U', f0: 'Alice', f3: 19.1 });
    for (const t of FIXTURE_TABLES) {
      const dir = join(fixtureRoot(t), 'snapshot');
      for (const n of readdirSync(dir).filter((x) => /^snapshot-\d+$/.test(x))) {
        const id = n.slice(9);
        const [a] = await select(paimonWarehouse, `SELECT count(*) AS n FROM "paimon-cpp".${t}$audit_log FOR VERSION AS OF ${id} WHERE rowkind IN ('+I', '+U')`);
        const [b] = await select(paimonWarehouse, `SELECT count(*) AS n FROM "paimon-cpp".${t} FOR VERSION AS OF ${id}`);
        expect(a!.n, `${t} ${n}`).toBe(b!.n);
      }
    }
    expect(await select(paimonWarehouse, 'SELECT DISTINCT rowkind FROM "paimon-cpp".append_09$audit_log')).toEqual([{ rowkind: '+I' }]);
  });

  it('unknown system tables, $ on an Iceberg table and a missing base table are NotFound naming what exists', async () => {
    await expectError(
      select(paimonWarehouse, 'SELECT * FROM "paimon-cpp".append_09$nope'),
      'NotFound',
      'no system table $nope on Paimon table paimon-cpp.append_09; supported: $snapshots, $schemas, $options, $audit_log, $files, $tags',
    );
    await expectError(
      select(join(FIXTURES, 'iceberg'), 'SELECT * FROM icebird.java_bunnies$snapshots'),
      'NotFound',
      'icebird.java_bunnies is an Iceberg table; system tables ($snapshots, $schemas, $options, $audit_log, $files, $tags) exist on Paimon tables only',
    );
    await expectError(select(paimonWarehouse, 'SELECT * FROM "paimon-cpp".nope$files'), 'NotFound', 'table paimon-cpp.nope not found in warehouse');
    await expectError(select(paimonWarehouse, 'SELECT * FROM "paimon-cpp".append_09$snapshots FOR VERSION AS OF 1'), 'InvalidInput', 'FOR … AS OF applies to $files and $audit_log');
    await expectError(select(paimonWarehouse, 'SELECT * FROM "paimon-cpp".append_09$files FOR VERSION AS OF 99'), 'NotFound', 'snapshot 99 not found');
  });
});

describe('Paimon system tables over a table Tidemark wrote', () => {
  let warehouse: string;
  let root: string;

  beforeAll(async () => {
    warehouse = mkdtempSync(join(tmpdir(), 'tidemark-paimon-systables-'));
    root = join(warehouse, 'ods', 'orders');
    const env = seededWriteEnv(7);
    await createPaimonTable(
      root,
      {
        columns: [{ name: 'id', type: 'BIGINT' }, { name: 'name', type: 'STRING' }, { name: 'amount', type: 'DECIMAL(10, 2)' }],
        primaryKeys: ['id'],
        options: { bucket: '1', 'table-read.sequence-number.enabled': 'true' },
      },
      env,
    );
    await commitPaimonChanges(
      root,
      [{ kind: '+I', row: { id: 1n, name: 'ann', amount: '10.00' } }, { kind: '+I', row: { id: 2n, name: 'bob', amount: '20.00' } }, { kind: '+I', row: { id: 3n, name: 'cy', amount: '30.00' } }],
      { commitUser: 'sync-a', commitIdentifier: 1n, compaction: 'none', env },
    );
    await createPaimonTag(root, 'before-fix', { snapshotId: 1n, timeRetainedMs: 90_000, env });
    await commitPaimonChanges(
      root,
      [{ kind: '-U', row: { id: 1n, name: 'ann', amount: '10.00' } }, { kind: '+U', row: { id: 1n, name: 'ann', amount: '11.00' } }, { kind: '-D', row: { id: 2n, name: 'bob', amount: '20.00' } }, { kind: '+I', row: { id: 4n, name: 'dee', amount: '40.00' } }],
      { commitUser: 'sync-a', commitIdentifier: 2n, compaction: 'none', env },
    );
    // An Iceberg table beside it, for the error on `$` over Iceberg.
    await createTable(join(warehouse, 'ods', 'events'), { columns: [{ name: 'id', type: 'long', required: true }] });
  });

  it('$audit_log shows +I / +U / -D (with _SEQUENCE_NUMBER, as the table asks) and time-travels', async () => {
    expect(await columnsOf(warehouse, 'SELECT * FROM ods.orders$audit_log')).toEqual(['rowkind', '_SEQUENCE_NUMBER', 'id', 'name', 'amount']);
    const log = await select(warehouse, 'SELECT rowkind, _SEQUENCE_NUMBER AS seq, id, name, CAST(amount AS VARCHAR) AS amount FROM ods.orders$audit_log ORDER BY id');
    expect(log.map((r) => [r.rowkind, r.id, r.name, r.amount])).toEqual([
      ['+U', 1n, 'ann', '11.00'],
      ['-D', 2n, 'bob', '20.00'],
      ['+I', 3n, 'cy', '30.00'],
      ['+I', 4n, 'dee', '40.00'],
    ]);
    // Commit 1 wrote sequence numbers 0..2; commit 2's changes come after.
    expect(log[2]!.seq).toBe(2n);
    for (const r of [log[0]!, log[1]!, log[3]!]) expect(r.seq as bigint).toBeGreaterThan(2n);
    expect(await select(warehouse, 'SELECT rowkind, id FROM ods.orders$audit_log FOR VERSION AS OF 1 ORDER BY id')).toEqual([
      { rowkind: '+I', id: 1n }, { rowkind: '+I', id: 2n }, { rowkind: '+I', id: 3n },
    ]);
    expect(await select(warehouse, "SELECT count(*) AS n FROM ods.orders$audit_log FOR VERSION AS OF 'before-fix'")).toEqual([{ n: 3n }]);
    // A join of a system table with the table itself: the live rows are the audit log's +I / +U ones.
    expect(await select(warehouse, "SELECT o.id FROM ods.orders o JOIN ods.orders$audit_log a ON a.id = o.id WHERE a.rowkind IN ('+I', '+U') ORDER BY 1")).toEqual([{ id: 1n }, { id: 3n }, { id: 4n }]);
  });

  it('$snapshots, $tags, $files, $schemas and $options show what the writer wrote', async () => {
    const snaps = await select(warehouse, 'SELECT snapshot_id, schema_id, commit_user, commit_identifier, commit_kind, total_record_count, delta_record_count FROM ods.orders$snapshots ORDER BY 1');
    expect(snaps).toEqual([
      { snapshot_id: 1n, schema_id: 0n, commit_user: 'sync-a', commit_identifier: 1n, commit_kind: 'APPEND', total_record_count: 3n, delta_record_count: 3n },
      { snapshot_id: 2n, schema_id: 0n, commit_user: 'sync-a', commit_identifier: 2n, commit_kind: 'APPEND', total_record_count: 6n, delta_record_count: 3n },
    ]);
    const tag = JSON.parse(readFileSync(join(root, 'tag', 'tag-before-fix'), 'utf8')) as { tagCreateTime: number[]; timeMillis: number };
    const [y, mo, d, h, mi, s] = tag.tagCreateTime;
    expect(await select(warehouse, 'SELECT * FROM ods.orders$tags')).toEqual([
      {
        tag_name: 'before-fix',
        snapshot_id: 1n,
        schema_id: 0n,
        commit_time: utc(tag.timeMillis),
        record_count: 3n,
        create_time: utc(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!)),
        time_retained: 'PT1M30S',
      },
    ]);
    const files = await select(warehouse, 'SELECT level, record_count, deleteRowCount, min_key, max_key, file_source, partition FROM ods.orders$files ORDER BY min_sequence_number');
    expect(files).toEqual([
      { level: 0, record_count: 3n, deleteRowCount: 0n, min_key: '[1]', max_key: '[3]', file_source: 'APPEND', partition: '{}' },
      { level: 0, record_count: 3n, deleteRowCount: 1n, min_key: '[1]', max_key: '[4]', file_source: 'APPEND', partition: '{}' },
    ]);

    // A full compaction drops the -D (nothing older stays below it); the files become one.
    const schemasBefore = await select(warehouse, 'SELECT count(*) AS n FROM ods.orders$schemas');
    expect(schemasBefore).toEqual([{ n: 1n }]);
    await compactPaimonTable(root, { commitUser: 'sync-a', full: true, env: seededWriteEnv(8, Date.UTC(2025, 0, 1)) });
    expect(await select(warehouse, 'SELECT rowkind, id FROM ods.orders$audit_log ORDER BY id')).toEqual([
      { rowkind: '+U', id: 1n }, { rowkind: '+I', id: 3n }, { rowkind: '+I', id: 4n },
    ]);
    expect(await select(warehouse, 'SELECT level, record_count, file_source FROM ods.orders$files')).toEqual([{ level: 5, record_count: 3n, file_source: 'COMPACT' }]);
    expect((await select(warehouse, 'SELECT commit_kind FROM ods.orders$snapshots ORDER BY snapshot_id')).map((r) => r.commit_kind)).toEqual(['APPEND', 'APPEND', 'COMPACT']);

    await evolvePaimonSchema(root, [{ op: 'addColumn', name: 'note', type: 'STRING' }, { op: 'setOption', key: 'snapshot.num-retained.min', value: '5' }]);
    const schemas = await select(warehouse, 'SELECT schema_id, fields, primary_keys, options FROM ods.orders$schemas ORDER BY 1');
    expect(schemas.map((r) => r.schema_id)).toEqual([0n, 1n]);
    expect(JSON.parse(schemas[1]!.fields as string)).toContainEqual({ id: 3, name: 'note', type: 'STRING' });
    expect(schemas[1]!.primary_keys).toBe('["id"]');
    expect(await select(warehouse, "SELECT value FROM ods.orders$options WHERE key = 'snapshot.num-retained.min'")).toEqual([{ value: '5' }]);
  });

  it('the console\'s query.sql call (the same handler in the renderer\'s worker) answers system tables', async () => {
    const calls = createQueryCalls({ storage, engine: async () => engine });
    const ctx: HandlerContext = { emit: () => undefined };
    const r = await calls['query.sql']({ warehouse, sql: "SELECT rowkind, count(*) AS n FROM ods.orders$audit_log GROUP BY rowkind ORDER BY rowkind", limit: 100 }, ctx);
    expect(r.columns.map((c) => c.name)).toEqual(['rowkind', 'n']);
    // After the full compaction of the test above: the -D is gone.
    expect(r.rows).toEqual([['+I', 2n], ['+U', 1n]]);
    expect(r.truncated).toBe(false);
  });

  it('the CLI answers the same SQL; `$` on the Iceberg table beside it is NotFound', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['query', warehouse, 'SELECT snapshot_id, commit_kind FROM ods.orders$snapshots ORDER BY 1 LIMIT 2', '--format', 'json'], { out: (t) => out.push(t), err: (t) => err.push(t) });
    expect(code, err.join('\n')).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual([{ snapshot_id: '1', commit_kind: 'APPEND' }, { snapshot_id: '2', commit_kind: 'APPEND' }]);
    const failed: string[] = [];
    expect(await runCli(['query', warehouse, 'SELECT * FROM ods.events$files'], { out: () => {}, err: (t) => failed.push(t) })).toBe(3);
    expect(failed.join('\n')).toContain('error[NotFound]: ods.events$files: ods.events is an Iceberg table');
  });
});

describe('Java text forms', () => {
  it('Duration.toString, Double/Float.toString, system-table names', () => {
    expect([0, 1.5, 90, 3600, 86_400, 3661].map(formatJavaDuration)).toEqual(['PT0S', 'PT1.5S', 'PT1M30S', 'PT1H', 'PT24H', 'PT1H1M1S']);
    expect([11, 11.1, -0.5, 1e7, 1.5e-4, 123456.789].map((v) => javaFloatText(v, false))).toEqual(['11.0', '11.1', '-0.5', '1.0E7', '1.5E-4', '123456.789']);
    expect(javaFloatText(Math.fround(1.1), true)).toBe('1.1');
    expect(splitSystemTableName(['ods', 'orders$audit_log'])).toEqual({ base: ['ods', 'orders'], system: 'audit_log' });
    expect(splitSystemTableName(['ods', 'orders'])).toBeNull();
  });
});
