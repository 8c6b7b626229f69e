import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import * as parquet from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { decodeSingleValue } from '../../core/lake';
import { planScan } from '../../core/lake/scan-plan';
import { loadTable } from '../../core/lake/table';
import { appendRows, applyRowDelta, createTable, evolveSchema } from '../../core/lake/write';
import { CHANGELOG_COLUMNS } from '../../core/pipeline/sink/changelog';
import { readColumnStats } from '../../core/query/column-stats';
import type { QueryEngine } from '../../core/query/engine';
import { exportParquet, formatCsv } from '../../core/query/export';
import { readKeyHistory } from '../../core/query/key-history';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { diffRows } from '../../core/query/row-diff';
import { icebergSource, openTableSource } from '../../core/query/table-source';
import { diffSchemas, readSchemaVersion } from '../../core/query/schema-diff';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const warehouse = join(FIXTURES, 'iceberg');
const storage = createLocalStorage();
let engine: QueryEngine;
let tmp: string;

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
  tmp = await mkdtemp(join(tmpdir(), 'tidemark-query-'));
});
afterAll(async () => {
  await engine?.close();
  await rm(tmp, { recursive: true, force: true });
});

const table = (name: string) => loadTable(storage, join(warehouse, name));

describe('schema diff', () => {
  it('shows added columns between snapshots (java_bunnies, spark_bunnies)', async () => {
    const jb = await table('icebird/java_bunnies');
    const d1 = diffSchemas(await readSchemaVersion(storage, jb, 4951213507629824583n), await readSchemaVersion(storage, jb, 9158179788527662767n));
    expect(d1.added).toEqual([{ id: 9, path: '__happy__', type: 'boolean', required: false }]);
    expect(d1.removed).toEqual([]);
    expect(d1.renamed).toEqual([]);
    const sb = await table('icebird/spark_bunnies');
    const d2 = diffSchemas(await readSchemaVersion(storage, sb, 7505300640432048841n), await readSchemaVersion(storage, sb, 2701171901096418979n));
    expect(d2.added).toEqual([{ id: 9, path: 'breed_name_length', type: 'int', required: false }]);
  });

  it('shows a rename made without a new snapshot when diffing against current', async () => {
    const t = await table('icebird/spark_rename_column');
    const d = diffSchemas(await readSchemaVersion(storage, t, 5276958600260276572n), await readSchemaVersion(storage, t, 'current'));
    expect(d).toEqual({ added: [], removed: [], renamed: [{ id: 3, from: 'date', to: 'event_date' }], typeChanged: [], nullabilityChanged: [], identifierChanged: null, partitionSpecChanged: null });
  });

  it('diff(a, a) is empty and reversing swaps added and removed', async () => {
    const jb = await table('icebird/java_bunnies');
    const a = await readSchemaVersion(storage, jb, 4951213507629824583n);
    const b = await readSchemaVersion(storage, jb, 'current');
    expect(diffSchemas(a, a)).toEqual({ added: [], removed: [], renamed: [], typeChanged: [], nullabilityChanged: [], identifierChanged: null, partitionSpecChanged: null });
    expect(diffSchemas(b, a).removed).toEqual(diffSchemas(a, b).added);
  });
});

describe('row diff', () => {
  it('diff(a, a) is empty', async () => {
    const t = await table('duckdb-iceberg/equality_deletes_mytable');
    const d = await diffRows(engine, icebergSource(engine, t), 853766660775201079n, 853766660775201079n, { key: ['id'] });
    expect([d.addedCount, d.removedCount, d.changedCount]).toEqual([0, 0, 0]);
    const whole = await diffRows(engine, icebergSource(engine, t), 853766660775201079n, 853766660775201079n);
    expect([whole.addedCount, whole.removedCount, whole.changedCount]).toEqual([0, 0, 0]);
  });

  it('finds added and removed rows by key across equality deletes', async () => {
    const t = await table('duckdb-iceberg/equality_deletes_mytable');
    const d = await diffRows(engine, icebergSource(engine, t), 853766660775201079n, 1916084761853986166n, { key: ['id'] });
    expect(d.addedCount).toBe(1);
    expect(d.removedCount).toBe(3);
    expect(d.added).toEqual([{ id: 5, name: 'e', bir: '2025-01-05' }]);
    expect(d.removed.map((r) => r.id).sort()).toEqual([1, 2, 3]);
  });

  it('finds changed rows with the changed columns (java_bunnies update of New Zealand)', async () => {
    const t = await table('icebird/java_bunnies');
    const d = await diffRows(engine, icebergSource(engine, t), 6458828015811002920n, 9158179788527662767n, { key: ['Breed Name'] });
    expect(d.changedCount).toBe(1);
    expect(d.changed[0]!.key).toEqual({ 'Breed Name': 'New Zealand' });
    expect(d.changed[0]!.changedColumns).toContain('__happy__');
    expect(d.changed[0]!.after.__happy__).toBe(true);
    expect(d.addedCount + d.removedCount).toBe(0);
  });

  it('rejects an unknown key column naming it', async () => {
    const t = await table('duckdb-iceberg/equality_deletes_mytable');
    await expect(diffRows(engine, icebergSource(engine, t), 853766660775201079n, 1916084761853986166n, { key: ['nope'] })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: 'diff: key column "nope" not in the schema; columns: id, name, bir',
    });
  });
});

describe('key history', () => {
  it('lists insert and delete of one key, and marks the snapshot whose manifest list is missing', async () => {
    const t = await table('duckdb-iceberg/equality_deletes_mytable');
    const h = await readKeyHistory(engine, icebergSource(engine, t), { id: '1' });
    expect(h.map((v) => [v.snapshotId, v.status])).toEqual([
      [853766660775201079n, 'inserted'],
      [7342794868382145167n, 'unreadable'],
      [1584331123492059582n, 'deleted'],
    ]);
    expect(h[0]!.rows).toEqual([{ id: 1, name: 'a', bir: '2025-01-01' }]);
    expect(h[1]!.error).toMatch(/^manifest list of snapshot 7342794868382145167 not found: /);
  });

  it('shows an update as before → after', async () => {
    const t = await table('icebird/java_bunnies');
    const h = await readKeyHistory(engine, icebergSource(engine, t), { 'Breed Name': 'New Zealand' });
    // Snapshot 2 only added the __happy__ column (null for this row): unchanged.
    expect(h.map((v) => v.status)).toEqual(['inserted', 'unchanged', 'updated']);
    expect(h[2]!.rows[0]!.__happy__).toBe(true);
    expect(h[2]!.rows[0]!['Popularity Rank']).toBe(0n);
  });
});

describe('key history across renames', () => {
  it('compares versions by field id: a rename is not an update, and a renamed key still finds old versions', async () => {
    const root = join(tmp, 'kh-rename', 'orders');
    await createTable(root, { columns: [{ name: 'order_id', type: 'long', required: true }, { name: 'status', type: 'string' }], identifierColumns: ['order_id'] });
    await appendRows(root, [1n, 2n, 3n].map((id) => ({ order_id: id, status: 'new' })));
    await evolveSchema(root, [{ op: 'rename', name: 'status', newName: 'order_status' }]);
    await applyRowDelta(root, { upserts: [{ order_id: 9n, order_status: 'paid' }] });
    await applyRowDelta(root, { upserts: [{ order_id: 3n, order_status: 'shipped' }] });
    await evolveSchema(root, [{ op: 'rename', name: 'order_id', newName: 'id' }]);
    await applyRowDelta(root, { deleteKeys: [{ id: 3n }] });
    const t = await loadTable(storage, root);
    const h = await readKeyHistory(engine, icebergSource(engine, t), { id: '3' });
    expect(h.map((v) => [v.operation, v.status, v.changedColumns])).toEqual([
      ['append', 'inserted', []],
      ['overwrite', 'unchanged', []],
      ['overwrite', 'updated', ['order_status']],
      ['delete', 'deleted', []],
    ]);
    // Every version under the newest names.
    expect(h[0]!.rows).toEqual([{ id: 3n, order_status: 'new' }]);
    expect(h[2]!.rows).toEqual([{ id: 3n, order_status: 'shipped' }]);
    // The old key name resolves too (the newest version that has it).
    expect((await readKeyHistory(engine, icebergSource(engine, t), { order_id: '3' })).map((v) => v.status)).toEqual(['inserted', 'unchanged', 'updated', 'deleted']);
  });
});

describe('key history with an audit changelog', () => {
  it('gives each change of the row the binlog position of its source change', async () => {
    const root = join(tmp, 'kh-changelog', 'shop', 'orders');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    await appendRows(root, [{ id: 1n, v: 'a' }, { id: 2n, v: 'b' }]);
    await applyRowDelta(root, { upserts: [{ id: 2n, v: 'b2' }] });
    await applyRowDelta(root, { deleteKeys: [{ id: 2n }] });
    const snaps = (await loadTable(storage, root)).metadata.snapshots.map((s) => s.snapshotId);
    const changelog = `${root}__changelog`;
    await createTable(changelog, { columns: CHANGELOG_COLUMNS.map((c) => ({ ...c })) });
    const row = (seq: number, op: string, before: string | null, after: string | null, pos: number, snapshot: bigint) => ({
      op, before, after, op_ts: null, binlog_file: 'bin.000001', binlog_pos: BigInt(pos), gtid: null, source_table: 'shop.orders', target_snapshot_id: snapshot, seq: BigInt(seq),
    });
    await appendRows(changelog, [
      row(1, 'c', null, '{"id":1,"v":"a"}', 100, snaps[0]!),
      row(2, 'c', null, '{"id":2,"v":"b"}', 200, snaps[0]!),
      row(3, 'u', '{"id":2,"v":"b"}', '{"id":2,"v":"b2"}', 300, snaps[1]!),
      row(4, 'd', '{"id":2,"v":"b2"}', null, 400, snaps[2]!),
    ]);
    const h = await readKeyHistory(engine, icebergSource(engine, await loadTable(storage, root)), { id: '2' });
    expect(h.map((v) => [v.status, v.source['changelog.binlog'], v.source['changelog.op']])).toEqual([
      ['inserted', 'bin.000001:200', 'c'],
      ['updated', 'bin.000001:300', 'u'],
      ['deleted', 'bin.000001:400', 'd'],
    ]);
    // A table without a changelog has no such entries.
    const plain = await readKeyHistory(engine, icebergSource(engine, await loadTable(storage, join(tmp, 'kh-rename', 'orders'))), { id: '3' });
    expect(plain.some((v) => Object.keys(v.source).some((k) => k.startsWith('changelog.')))).toBe(false);
  });
});

describe('key history on a table of many files', () => {
  it('loads only the data files whose key bounds hold the key, with the same answer as a full read', async () => {
    const root = join(tmp, 'kh', 'events');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    for (let c = 0; c < 4; c++) await appendRows(root, Array.from({ length: 100 }, (_, i) => ({ id: BigInt(c * 100 + i), v: `c${c}` })));
    await applyRowDelta(root, { upserts: [{ id: 150n, v: 'changed' }] });
    await applyRowDelta(root, { deleteKeys: [{ id: 150n }] });
    // A storage port that records which data files the engine reads.
    const read: string[] = [];
    const counting = {
      ...storage,
      readFile: (path: string) => (read.push(path), storage.readFile(path)),
      readRange: (path: string, offset: number, length: number) => (read.push(path), storage.readRange(path, offset, length)),
    };
    const own = await createNodeQueryEngine(counting);
    try {
      const t = await loadTable(counting, root);
      const h = await readKeyHistory(own, icebergSource(own, t), { id: '150' });
      expect(h.map((v) => [v.operation, v.status, v.rows.map((r) => r.v)])).toEqual([
        ['append', 'inserted', ['c1']],
        ['append', 'unchanged', ['c1']],
        ['append', 'unchanged', ['c1']],
        ['overwrite', 'updated', ['changed']],
        ['delete', 'deleted', []],
      ]);
      // Of the four appended files (ids 0–99, 100–199, 200–299, 300–399) only the one holding 150
      // is read; the upsert's file too.
      const dataReads = new Set(read.filter((p) => p.includes('/data/')));
      const appended = (await planScan(counting, root, { snapshotId: t.metadata.snapshots[3]!.snapshotId })).files;
      expect(appended).toHaveLength(4);
      const readOnes = appended.filter((f) => dataReads.has(f.path)).map((f) => f.path);
      const holds150 = appended.filter((f) => {
        const lo = decodeSingleValue('long', f.dataFile.lowerBounds!.get(1)!) as bigint;
        const hi = decodeSingleValue('long', f.dataFile.upperBounds!.get(1)!) as bigint;
        return lo <= 150n && 150n <= hi;
      });
      expect(holds150).toHaveLength(1);
      expect(readOnes).toEqual(holds150.map((f) => f.path));
      // Text that is not an integer prunes nothing and still answers by the SQL filter.
      expect(await readKeyHistory(own, icebergSource(own, t), { id: 'x' })).toEqual([]);
    } finally {
      await own.close();
    }
  });
});

describe('load progress', () => {
  it('reports each data file of a version as it loads, with record totals', async () => {
    const root = join(tmp, 'progress', 't');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }] });
    for (let c = 0; c < 3; c++) await appendRows(root, Array.from({ length: 10 + c }, (_, i) => ({ id: BigInt(c * 100 + i) })));
    const seen: { doneFiles: number; totalFiles: number; doneRecords: number; totalRecords: number }[] = [];
    const own = await createNodeQueryEngine(storage, { onLoadProgress: (p) => seen.push(p) });
    try {
      // A count reads manifests only (no deletes here): no data file is loaded.
      expect(await own.count(root)).toBe(33);
      expect(seen).toEqual([]);
      expect((await own.scan(root)).rows).toHaveLength(33);
      expect(seen.map((p) => [p.doneFiles, p.totalFiles, p.totalRecords])).toEqual([
        [1, 3, 33],
        [2, 3, 33],
        [3, 3, 33],
      ]);
      expect(seen.at(-1)!.doneRecords).toBe(33);
      expect(seen.every((p) => (p as { table?: string }).table === root)).toBe(true);
    } finally {
      await own.close();
    }
  });
});

describe('row diff and key history on Paimon tables', () => {
  const paimon = join(FIXTURES, 'paimon/paimon-cpp/pk_table_scan_and_read_mor');

  it('diffs snapshot 2 against 5 by the primary key', async () => {
    const source = await openTableSource(engine, paimon);
    expect(source.format).toBe('paimon');
    const d = await diffRows(engine, source, 2n, 5n);
    expect(d.key).toEqual(['f0', 'f1', 'f2']);
    // 8 rows at snapshot 2, 11 at snapshot 5 (expected.json).
    expect(d.addedCount - d.removedCount).toBe(3);
    expect((await diffRows(engine, source, 5n, 5n)).changedCount + (await diffRows(engine, source, 5n, 5n)).addedCount).toBe(0);
  });

  it('lists the history of Alice', async () => {
    const h = await readKeyHistory(engine, await openTableSource(engine, paimon), { f0: 'Alice' });
    expect(h.length).toBeGreaterThan(0);
    expect(h[0]!.status).toBe('inserted');
    expect(h.at(-1)!.rows.map((r) => r.f3)).toContain(19.1);
  });
});

describe('column stats', () => {
  it('computes counts, nulls, min/max, histogram and top values', async () => {
    const { view, columns } = await engine.registerView(await table('icebird/java_bunnies'));
    const stats = await readColumnStats(engine, { relation: `"${view}"`, columns });
    const byName = Object.fromEntries(stats.map((s) => [s.name, s]));
    expect(byName['Lifespan']).toMatchObject({ type: 'long', count: 15, nulls: 0, min: 5n, max: 10n });
    expect(byName['__happy__']).toMatchObject({ count: 15, nulls: 14 });
    const hist = byName['Average Weight']!.histogram!;
    expect(hist).toHaveLength(20);
    expect(hist.reduce((n, b) => n + b.count, 0)).toBe(15);
    expect(hist[0]!.low).toBe(0.9);
    expect(byName['Ear Type']!.topValues!.reduce((n, v) => n + v.count, 0)).toBe(15);
    expect(byName['Ear Type']!.topValues!.map((v) => v.value).sort()).toEqual(['Erect', 'Lop']);
  });
});

describe('export', () => {
  it('writes Parquet that an independent reader (hyparquet) reads back, and CSV', async () => {
    const { view } = await engine.registerView(await table('duckdb-iceberg/equality_deletes_mytable'), { snapshotId: 1916084761853986166n });
    const bytes = await exportParquet(engine.session, parquet, `SELECT * FROM "${view}" ORDER BY id`);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    expect(rows.map((r) => Number(r.id))).toEqual([4, 5]);
    expect(rows.map((r) => r.name)).toEqual(['d', 'e']);
    const csv = formatCsv(await engine.query(`SELECT * FROM "${view}" ORDER BY id`));
    expect(csv).toBe('id,name,bir\n4,d,2025-01-04\n5,e,2025-01-05\n');
    expect(formatCsv({ columns: [{ name: 'a,b', type: '' }], rows: [['x"y'], [null], [' pad']] })).toBe('"a,b"\n"x""y"\n\n" pad"\n');
  });

  it('tidemark export writes the file', async () => {
    const out: string[] = [];
    const to = join(tmp, 'bunnies.csv');
    const code = await runCli(['export', join(warehouse, 'icebird/java_bunnies'), '--to', to], { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(out).toEqual([`wrote 15 rows to ${to}`]);
    expect(code).toBe(0);
    expect(out).toEqual([`wrote 15 rows to ${to}`]);
    expect((await readFile(to, 'utf8')).split('\n')).toHaveLength(17);
  });
});

describe('SQL over a warehouse', () => {
  it('resolves ns.table with time travel', async () => {
    const r = await queryWarehouse(
      engine,
      warehouse,
      'SELECT (SELECT count(*) FROM icebird.java_bunnies FOR VERSION AS OF 4951213507629824583) AS a, (SELECT count(*) FROM icebird.java_bunnies) AS b',
    );
    expect(r.rows).toEqual([[21n, 15n]]);
    const ts = await queryWarehouse(engine, warehouse, "SELECT count(*) FROM duckdb-iceberg.equality_deletes_mytable FOR TIMESTAMP AS OF TIMESTAMP '2025-09-26 09:37:30'".replace('duckdb-iceberg', '"duckdb-iceberg"'));
    expect(ts.rows).toEqual([[4n]]);
  });

  it('queries Paimon tables by name, with time travel', async () => {
    const paimon = join(FIXTURES, 'paimon');
    const r = await queryWarehouse(engine, paimon, 'SELECT (SELECT count(*) FROM "paimon-cpp".pk_table_scan_and_read_mor FOR VERSION AS OF 2), (SELECT f3 FROM "paimon-cpp".pk_table_scan_and_read_mor WHERE f0 = \'Alice\')');
    expect(r.rows).toEqual([[8n, 19.1]]);
  });

  it('filters on a merge-on-read view keep rows re-inserted after an equality delete', async () => {
    // Regression: chained ANTI JOINs + filter pushdown in DuckDB 1.4 dropped this row.
    const r = await queryWarehouse(engine, warehouse, `SELECT "Breed Name", "Popularity Rank", __happy__ FROM icebird.java_bunnies WHERE "Origin Country" = 'New Zealand'`);
    expect(r.rows).toEqual([['New Zealand', 0n, true]]);
  });

  it('returns typed errors for bad SQL, unknown tables and snapshots, and times before the first snapshot', async () => {
    await expect(queryWarehouse(engine, warehouse, 'SELEC 1')).rejects.toMatchObject({ code: 'InvalidInput', message: 'Parser Error: syntax error at or near "SELEC" (line 1, column 1)' });
    await expect(queryWarehouse(engine, warehouse, 'SELECT * FROM demo.nope')).rejects.toMatchObject({ code: 'NotFound', message: expect.stringMatching(/^table demo\.nope not found in warehouse /) });
    await expect(queryWarehouse(engine, warehouse, 'SELECT * FROM icebird.spark_bunnies FOR VERSION AS OF 1234')).rejects.toMatchObject({ code: 'NotFound', message: expect.stringContaining('1234') });
    await expect(queryWarehouse(engine, warehouse, "SELECT * FROM icebird.spark_bunnies FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00'")).rejects.toMatchObject({
      code: 'NotFound',
      message: 'no snapshot at or before 2000-01-01T00:00:00.000Z',
    });
    await expect(queryWarehouse(engine, warehouse, "SELECT * FROM read_parquet('x.parquet')")).rejects.toMatchObject({ code: 'Unsupported' });
  });
});
