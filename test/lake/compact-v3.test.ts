/**
 * Compaction of Iceberg format-version 3 tables (spec "Row Lineage"): a rewrite keeps every row's
 * `_row_id` and `_last_updated_sequence_number` by materializing them in the new files, so the
 * (lineage, columns) of every row are the same before and after — read through Tidemark's reader,
 * DuckDB and (the raw file) hyparquet. The ids the replace snapshot's files are assigned count as
 * consumed (added-rows, as Spark's rewrite does), so an append afterwards gets fresh ids.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { loadTable, planScan, scanRows } from '../../core/lake';
import { appendRows, applyRowDelta, commitSnapshot, compactDataFiles, createTable, partitionText, rewriteDataFiles, seededWriteEnv } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { diffRows } from '../../core/query/row-diff';
import { openTableSource } from '../../core/query/table-source';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tm-compact-v3-'));
let engine: QueryEngine;
beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
});
afterAll(async () => {
  await engine.close();
  rmSync(work, { recursive: true, force: true });
});

const LINEAGE = ['_row_id', '_last_updated_sequence_number'];

/** Rows id 1..24 over regions a/b in 6 appends (12 small files), then ids 3 and 12 deleted. */
async function v3Table(name: string) {
  const root = join(work, name);
  const env = seededWriteEnv(7);
  await createTable(root, {
    columns: [{ name: 'id', type: 'long', required: true }, { name: 'region', type: 'string', required: true }, { name: 'v', type: 'string' }],
    identifierColumns: ['id'],
    partitionBy: [{ column: 'region', transform: 'identity' }],
    properties: { 'format-version': '3' },
    env,
  });
  for (let a = 0; a < 6; a++) {
    await appendRows(root, Array.from({ length: 4 }, (_, i) => {
      const id = a * 4 + i + 1;
      return { id: BigInt(id), region: id % 2 === 0 ? 'a' : 'b', v: `v${id}` };
    }), { env });
  }
  await applyRowDelta(root, { deleteKeys: [{ id: 3n }, { id: 12n }] }, { env });
  return { root, env };
}

/** Every live row as text: columns then lineage, sorted; through Tidemark's reader. */
async function viaReader(root: string, columns: string[]): Promise<string[]> {
  const { rows } = await scanRows(storage, root, { columns: [...columns, ...LINEAGE] });
  return rows.map((r) => [...columns, ...LINEAGE].map((c) => String(r[c])).join('|')).sort();
}

/** The same through the DuckDB merge-on-read engine. */
async function viaDuckDb(root: string, columns: string[]): Promise<string[]> {
  const page = await engine.scan(root, { columns: [...columns, ...LINEAGE], limit: 1000 });
  return page.rows.map((r) => r.map(String).join('|')).sort();
}

async function nextRowId(root: string): Promise<bigint> {
  return (await loadTable(storage, root)).metadata.nextRowId!;
}

/** The raw `_row_id`/`_last_updated_sequence_number` of each current data file, read by field id with hyparquet. */
async function materialized(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of (await planScan(storage, root)).files) {
    const buf = readFileSync(f.path.replace(/^file:\/\//, ''));
    const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
    const ids = new Map(parquetMetadata(file).schema.filter((s) => s.field_id !== undefined).map((s) => [s.field_id!, s.name]));
    const rowId = ids.get(2147483540);
    const seq = ids.get(2147483539);
    if (!rowId || !seq) continue;
    for (const r of await parquetReadObjects({ file, compressors, columns: ['id', rowId, seq] })) out.push(`${r.id}|${r[rowId]}|${r[seq]}`);
  }
  return out.sort();
}

describe('compaction of a format-version 3 table keeps each row\'s lineage', () => {
  it('whole table: rows and lineage unchanged in both readers, materialized in the files', async () => {
    const { root, env } = await v3Table('all');
    const cols = ['id', 'region', 'v'];
    const before = await viaReader(root, cols);
    expect(before).toHaveLength(22);
    expect(await viaDuckDb(root, cols)).toEqual(before);
    const next = await nextRowId(root);
    expect(next).toBe(24n);

    const result = await compactDataFiles(root, { scope: { kind: 'all' }, env });
    expect(result).toMatchObject({ files: 12, liveRecords: 22, writtenFiles: 2 });
    expect(await viaReader(root, cols)).toEqual(before);
    expect(await viaDuckDb(root, cols)).toEqual(before);
    // Every row of the new files carries its lineage explicitly.
    const raw = await materialized(root);
    expect(raw).toHaveLength(22);
    expect(raw).toEqual(before.map((r) => { const [id, , , rid, seq] = r.split('|'); return `${id}|${rid}|${seq}`; }).sort());

    // The replace snapshot's files are assigned ids past next-row-id (their rows keep theirs).
    const m = (await loadTable(storage, root)).metadata;
    const replace = m.snapshots.at(-1)!;
    expect(replace.summary.operation).toBe('replace');
    expect(replace.firstRowId).toBe(24n);
    expect(replace.addedRows).toBe(22n);
    expect(m.nextRowId).toBe(46n);

    // A row diff across the compaction (rows matched by _row_id, no key) finds nothing.
    const source = await openTableSource(engine, root);
    expect(await diffRows(engine, source, m.snapshots.at(-2)!.snapshotId, replace.snapshotId)).toMatchObject({ addedCount: 0, removedCount: 0, changedCount: 0 });

    // An append after the compaction gets fresh ids from next-row-id, at its own sequence number.
    await appendRows(root, [{ id: 100n, region: 'a', v: 'new' }, { id: 101n, region: 'b', v: 'new' }], { env });
    const after = await viaReader(root, cols);
    const seq = (await loadTable(storage, root)).metadata.lastSequenceNumber;
    expect(after.filter((r) => r.endsWith(`|${seq}`)).sort()).toEqual([`100|a|new|46|${seq}`, `101|b|new|47|${seq}`].sort());
    expect(after.filter((r) => !r.includes('|new|'))).toEqual(before);
    expect(await viaDuckDb(root, cols)).toEqual(after);
  });

  it('one partition and small files: only the chosen rows move; every lineage stays', async () => {
    const { root, env } = await v3Table('partial');
    const cols = ['id', 'region', 'v'];
    const before = await viaReader(root, cols);
    const partition = await compactDataFiles(root, { scope: { kind: 'partition', partition: partitionText(['a']) }, env });
    expect(partition).toMatchObject({ files: 6, writtenFiles: 1 });
    expect(await viaReader(root, cols)).toEqual(before);
    expect(await viaDuckDb(root, cols)).toEqual(before);
    const small = await compactDataFiles(root, { scope: { kind: 'small' }, env });
    expect(small).toMatchObject({ files: 6, writtenFiles: 1 });
    expect(await viaReader(root, cols)).toEqual(before);
    expect(await viaDuckDb(root, cols)).toEqual(before);
    // A second compaction rewrites files that already hold materialized lineage: kept as stored.
    await compactDataFiles(root, { scope: { kind: 'all' }, env });
    expect(await viaReader(root, cols)).toEqual(before);
    expect(await materialized(root)).toHaveLength(22);
  });

  it('rewriteDataFiles keeps lineage too', async () => {
    const { root, env } = await v3Table('rewrite');
    const before = await viaReader(root, ['id', 'v']);
    await rewriteDataFiles(root, { env });
    expect(await viaReader(root, ['id', 'v'])).toEqual(before);
  });

  it('a Spark-written v3 table compacts the same, and an append then gets fresh row ids', async () => {
    const root = join(work, 'spark-v3');
    cpSync(join(FIXTURES, 'iceberg-v3/impala/iceberg_v3_row_lineage'), root, { recursive: true });
    const env = seededWriteEnv(8);
    await appendRows(root, [{ i: 4 }, { i: 5 }], { env });
    const before = await viaReader(root, ['i']);
    expect(before).toHaveLength(5);
    expect(await viaDuckDb(root, ['i'])).toEqual(before);
    const next = await nextRowId(root);
    await compactDataFiles(root, { scope: { kind: 'all' }, env });
    expect(await viaReader(root, ['i'])).toEqual(before);
    expect(await viaDuckDb(root, ['i'])).toEqual(before);
    expect(await nextRowId(root)).toBe(next + 5n);
    await appendRows(root, [{ i: 6 }], { env });
    const { rows } = await scanRows(storage, root, { columns: ['i', '_row_id'] });
    expect(rows.find((r) => r.i === 6)?._row_id).toBe(next + 5n);
    expect(new Set(rows.map((r) => r._row_id)).size).toBe(6);
  });

  it('the CLI compact command and the app\'s lake.compact call compact a v3 table, lineage kept', async () => {
    const { root } = await v3Table('cli-app');
    const before = await viaReader(root, ['id', 'v']);
    let out = '';
    const code = await runCli(['compact', root, '--partition', partitionText(['b'])], { out: (t) => (out += t), err: (t) => (out += t) });
    expect([code, out]).toEqual([0, expect.stringMatching(/^snapshot \d+: rewrote .* into 1 file\(s\), 11 rows$/)]);
    expect(await viaReader(root, ['id', 'v'])).toEqual(before);
    const handlers = createHandlers({ storage, mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null });
    const preview = await dispatchCall(handlers, 'lake.compact', { path: root, scope: { kind: 'all' }, dryRun: true }, { emit: () => undefined });
    expect(preview).toMatchObject({ ok: true, value: { files: 7, dryRun: true } });
    const done = await dispatchCall(handlers, 'lake.compact', { path: root, scope: { kind: 'all' } }, { emit: () => undefined });
    expect(done).toMatchObject({ ok: true, value: { files: 7, writtenFiles: 2, liveRecords: 22 } });
    expect(await viaReader(root, ['id', 'v'])).toEqual(before);
  });

  it('a Spark-written v3 table with deletion vectors: small files then all, deleted rows stay deleted', async () => {
    const root = join(work, 'spark-dv');
    cpSync(join(FIXTURES, 'iceberg-v3/impala/iceberg_v3_deletion_vectors'), root, { recursive: true });
    const env = seededWriteEnv(9);
    const before = await viaReader(root, ['i']);
    expect(before.map((r) => r.split('|')[0])).toEqual(['1', '3', '5']);
    expect(await viaDuckDb(root, ['i'])).toEqual(before);
    const small = await compactDataFiles(root, { scope: { kind: 'small' }, env });
    expect(small).toMatchObject({ files: 5, deleteFiles: 2, liveRecords: 3, writtenFiles: 1 });
    // The vectors of the rewritten files go with them (a vector names one data file).
    const afterSmall = (await loadTable(storage, root)).metadata.snapshots.at(-1)!.summary;
    expect([afterSmall['removed-delete-files'], afterSmall['total-delete-files']]).toEqual(['2', '0']);
    expect(await viaReader(root, ['i'])).toEqual(before);
    expect(await viaDuckDb(root, ['i'])).toEqual(before);
    const all = await compactDataFiles(root, { scope: { kind: 'all' }, env });
    expect(all).toMatchObject({ files: 1, deleteFiles: 0, liveRecords: 3 });
    expect(await viaReader(root, ['i'])).toEqual(before);
    expect(await viaDuckDb(root, ['i'])).toEqual(before);
  });

  it('a table upgraded from v1 (rows without ids): kept rows stay id-less until the rewrite, then get fresh ids', async () => {
    const root = join(work, 'upgraded');
    cpSync(join(FIXTURES, 'iceberg-v3/duckdb-iceberg/merch_v1_v3_upgraded'), root, { recursive: true });
    const env = seededWriteEnv(10);
    const before = await viaReader(root, ['id', 'league', 'ats_qty']);
    // Spec "Row Lineage": data from before the upgrade has no first_row_id, so no _row_id yet.
    expect(before.map((r) => r.split('|')[3])).toEqual(['null', 'null', 'null', 'null']);
    const next = await nextRowId(root);
    await compactDataFiles(root, { scope: { kind: 'all' }, env });
    const after = await viaReader(root, ['id', 'league', 'ats_qty']);
    expect(after.map((r) => r.split('|').slice(0, 3).join('|'))).toEqual(before.map((r) => r.split('|').slice(0, 3).join('|')));
    // Written null, the ids are inherited from the new file's first_row_id: fresh, from next-row-id.
    expect(after.map((r) => BigInt(r.split('|')[3]!)).sort((x, y) => (x < y ? -1 : 1))).toEqual([next, next + 1n, next + 2n, next + 3n]);
    expect(await viaDuckDb(root, ['id', 'league', 'ats_qty'])).toEqual(after);
    expect(await nextRowId(root)).toBe(next + 4n);
  });

  it('replacing one file of a Puffin file\'s two vectors: its vector goes, the other stays whole', async () => {
    const root = join(work, 'spark-dv-one');
    cpSync(join(FIXTURES, 'iceberg-v3/impala/iceberg_v3_deletion_vectors'), root, { recursive: true });
    const before = await viaReader(root, ['i']);
    const withDv = (await planScan(storage, root)).files.filter((f) => f.deletes.length > 0);
    expect(withDv).toHaveLength(2);
    // Its rows are all deleted: removing the file alone changes no live row.
    const emptied = withDv.find((f) => f.recordCount === f.deletes[0]!.dataFile.recordCount)!;
    await commitSnapshot(root, async () => ({ operation: 'replace', removeFiles: new Set([emptied.dataFile.filePath]) }), { env: seededWriteEnv(11) });
    const after = await planScan(storage, root);
    expect(after.files.map((f) => [f.dataFile.filePath, f.deletes.map((d) => [d.dataFile.contentOffset, d.dataFile.contentSizeInBytes])]).filter((e) => e[1]!.length > 0)).toEqual(
      withDv.filter((f) => f !== emptied).map((f) => [f.dataFile.filePath, f.deletes.map((d) => [d.dataFile.contentOffset, d.dataFile.contentSizeInBytes])]),
    );
    expect((await loadTable(storage, root)).metadata.snapshots.at(-1)!.summary['removed-delete-files']).toBe('1');
    expect(await viaReader(root, ['i'])).toEqual(before);
    expect(await viaDuckDb(root, ['i'])).toEqual(before);
  });
});
