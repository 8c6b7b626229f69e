/**
 * Row groups and files pruned by a console query's comparisons on timestamp columns (issue 24:
 * min/max pruning from the WHERE clause): a timestamp's Parquet statistics are exact INT64 µs, used
 * only in files that store the column in µs; a literal is taken only where DuckDB reads it the same
 * whatever the session's time zone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int64, Table, tableToIPC, TimestampMillisecond, vectorFromArray } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFooter, readFooterLength } from '../../core/lake';
import { loadTable } from '../../core/lake/table';
import { createTable } from '../../core/lake/write';
import { fieldPredicates, type QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { selectRowGroups } from '../../core/query/row-groups';
import { pushdownFilter } from '../../core/query/sql-scope';
import { findTableRefs } from '../../core/query/sql-rewrite';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { createLocalStorage } from '../../core/storage/node/index';
import { appendInRowGroups } from '../support/row-groups';

const storage = createLocalStorage();
let dir: string;
let root: string;
let engine: QueryEngine;
const HOUR = 3_600_000_000n;
const BASE = 1_704_067_200_000_000n; // 2024-01-01T00:00:00Z in µs

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-timestamps-'));
  root = join(dir, 'ns', 't');
  await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'ts', type: 'timestamp' }, { name: 'tsz', type: 'timestamptz' }], identifierColumns: ['id'] });
  // Ten row groups of 100 rows, one hour each: 2024-01-01 00:00 … 09:59 (local and UTC alike).
  const iso = (us: bigint) => new Date(Number(us / 1000n)).toISOString().replace('Z', '').replace(/\.(\d{3})$/, (_, ms: string) => `.${ms}000`);
  const rows = Array.from({ length: 1000 }, (_, i) => {
    const us = BASE + BigInt(Math.floor(i / 100)) * HOUR + BigInt(i % 100) * 30_000_000n;
    return { id: BigInt(i), ts: iso(us), tsz: `${iso(us)}+00:00` };
  });
  await appendInRowGroups(root, rows, 100, null, 'hours');
  engine = await createNodeQueryEngine(storage);
}, 60_000);

afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

const filterOf = async (sql: string) => {
  const schema = (await loadTable(storage, root)).metadata.schemas[0]!;
  const refs = findTableRefs(sql);
  return pushdownFilter(sql, refs[0]!, refs, schema);
};

describe('pruning on timestamps', () => {
  it('takes local literals for timestamp and zoned ones for timestamptz, as canonical values; leaves the rest to SQL', async () => {
    expect(await filterOf("SELECT * FROM ns.t WHERE ts >= '2024-01-01 07:00' AND tsz < '2024-01-01T03:00:00+01:00' AND ts <> '2024-01-01T05:30:00.5'")).toEqual([
      { column: 'ts', op: '>=', value: '2024-01-01T07:00:00.000000' },
      { column: 'tsz', op: '<', value: '2024-01-01T02:00:00.000000+00:00' },
      { column: 'ts', op: '!=', value: '2024-01-01T05:30:00.500000' },
    ]);
    expect(await filterOf("SELECT * FROM ns.t WHERE ts = '2024-01-02'")).toEqual([{ column: 'ts', op: '=', value: '2024-01-02T00:00:00.000000' }]);
    // A zoned literal for a local column, a local one for a zoned column (the session's zone would
    // decide), finer than µs, an impossible date, a number: not used.
    expect(await filterOf("SELECT * FROM ns.t WHERE ts > '2024-01-01T03:00:00Z' AND tsz > '2024-01-01 03:00' AND ts < '2024-01-01 03:00:00.1234567' AND ts > '2024-13-01' AND ts > 5")).toEqual([]);
    const schema = (await loadTable(storage, root)).metadata.schemas[0]!;
    expect(fieldPredicates(schema, [{ column: 'ts', op: '>=', value: '2024-01-01T07:00:00.000000' }, { column: 'tsz', op: '<', value: '2024-01-01T02:00:00.000000+00:00' }, { column: 'ts', op: '=', value: 'not a time' }])).toEqual([
      { fieldId: 2, op: '>=', value: BASE + 7n * HOUR, timeUnit: 'micros' },
      { fieldId: 3, op: '<', value: BASE + 2n * HOUR, timeUnit: 'micros' },
    ]);
  });

  it('loads only the row groups whose time range admits the comparison, with the same answer as SQL', async () => {
    const table = await loadTable(storage, root);
    const schema = table.metadata.schemas[0]!;
    const plan = await engine.plan(table);
    const file = plan.files[0]!;
    const load = (filter: Parameters<typeof fieldPredicates>[1]) => engine.files.load(file.path, file.fileSizeInBytes, [1], 'data file', undefined, fieldPredicates(schema, filter));
    expect((await load([{ column: 'ts', op: '>=', value: '2024-01-01T07:00:00.000000' }])).rowGroups?.indexes).toEqual([7, 8, 9]);
    expect((await load([{ column: 'tsz', op: '<', value: '2024-01-01T02:00:00.000000+00:00' }])).rowGroups?.indexes).toEqual([0, 1]);
    expect((await load([{ column: 'ts', op: '=', value: '2024-01-01T05:30:00.000000' }])).rowGroups?.indexes).toEqual([5]);
    const q = async (where: string) => (await queryWarehouse(engine, dir, `SELECT count(*), min(id), max(id) FROM ns.t WHERE ${where}`)).rows;
    expect(await q("ts >= '2024-01-01 07:00'")).toEqual([[300n, 700n, 999n]]);
    expect(await q("tsz < '2024-01-01T03:00:00+01:00'")).toEqual([[200n, 0n, 199n]]);
    expect(await q("ts = '2024-01-01T05:30:00'")).toEqual([[1n, 560n, 560n]]);
    expect(await q("ts > '2024-01-01 09:49:30'")).toEqual([[0n, null, null]]);
    expect(await q("ts >= '2024-01-01 09:49:30' AND id % 2 = 1")).toEqual([[1n, 999n, 999n]]);
  });

  it('does not prune a file that stores the column in another unit', () => {
    // The same instants as milliseconds (TIMESTAMP(MILLIS)), two row groups.
    const ms = [0, 1, 2, 3].map((h) => BigInt(Number((BASE + BigInt(h) * HOUR) / 1000n)));
    const table = new Table({ id: vectorFromArray([0n, 1n, 2n, 3n], new Int64()), ts: vectorFromArray(ms.map((v) => Number(v)), new TimestampMillisecond()) });
    const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(table, 'stream')), new WriterPropertiesBuilder().setCompression(Compression.UNCOMPRESSED).setMaxRowGroupSize(2).build());
    const footerLength = readFooterLength(bytes, bytes.length, 'ms.parquet', 'file');
    const footer = parseFooter(bytes.subarray(bytes.length - 8 - footerLength, bytes.length - 8), bytes.length, 'ms.parquet');
    expect(footer.columns.map((c) => c.timeUnit)).toEqual([null, 'millis']);
    // In µs, 03:00 is above both groups' millisecond maxima: pruned if the unit were ignored.
    expect(selectRowGroups(footer, [{ column: 'ts', op: '>=', value: BASE + 3n * HOUR, timeUnit: 'micros' }])).toBeNull();
    expect(selectRowGroups(footer, [{ column: 'ts', op: '>=', value: ms[3]!, timeUnit: 'millis' }])?.indexes).toEqual([1]);
  });
});
