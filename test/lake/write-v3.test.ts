import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTable, readAvroFile, readManifestList, scanRows } from '../../core/lake';
import { appendRows, applyRowDelta, createTable, rollbackTo, seededWriteEnv, setSnapshotRef } from '../../core/lake/write';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';
import { expectCode, plain } from './helpers';

/**
 * Creating a format-version 3 table is opt-in (`format-version: 3` as a table property at creation;
 * writing stays v2 by default). The metadata Tidemark writes is checked for the spec's shape (spec
 * "Row Lineage", "First Row ID Assignment") from the raw JSON and Avro, and read back by Tidemark's
 * reader, whose `_row_id`s follow from it.
 */
const work = mkdtempSync(join(tmpdir(), 'tm-v3-write-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const storage = createLocalStorage();
const columns = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
];

function latestMetadata(root: string): Record<string, unknown> {
  const dir = join(root, 'metadata');
  const file = readdirSync(dir).filter((n) => /^v\d+\.metadata\.json$/.test(n)).sort((a, b) => parseInt(a.slice(1)) - parseInt(b.slice(1))).at(-1)!;
  return JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
}

describe('creating and writing an Iceberg v3 table', () => {
  it('is v2 by default; format-version 3 gives next-row-id 0 and is not kept as a property', async () => {
    const v2 = join(work, 'v2');
    await createTable(v2, { columns, env: seededWriteEnv(1) });
    expect(latestMetadata(v2)['format-version']).toBe(2);
    expect(latestMetadata(v2)).not.toHaveProperty('next-row-id');
    const v3 = join(work, 'v3-empty');
    await createTable(v3, { columns, properties: { 'format-version': '3', owner: 'x' }, env: seededWriteEnv(1) });
    const json = latestMetadata(v3);
    expect(json['format-version']).toBe(3);
    expect(json['next-row-id']).toBe(0);
    expect(json.properties).toEqual({ 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', owner: 'x' });
    await expectCode(createTable(join(work, 'v4'), { columns, properties: { 'format-version': '4' } }), 'InvalidInput', /^table property format-version: expected 2 or 3, found "4"$/);
  });

  it('appends and deletes assign row ids as the spec says, and the reader inherits them', async () => {
    const root = join(work, 'v3');
    const env = seededWriteEnv(2);
    await createTable(root, { columns, identifierColumns: ['id'], properties: { 'format-version': '3' }, env });
    await appendRows(root, [{ id: 1n, name: 'a' }, { id: 2n, name: 'b' }, { id: 3n, name: 'c' }], { env });
    await appendRows(root, [{ id: 4n, name: 'd' }, { id: 5n, name: 'e' }], { env });
    await applyRowDelta(root, { deleteKeys: [{ id: 2n }] }, { env });

    const json = latestMetadata(root) as { 'next-row-id': number; snapshots: Record<string, unknown>[] };
    expect(json['next-row-id']).toBe(5);
    expect(json.snapshots.map((s) => [s['first-row-id'], s['added-rows']])).toEqual([
      [0, 3],
      [3, 2],
      [5, 0], // an equality delete adds no rows
    ]);

    const table = await loadTable(storage, root);
    const last = table.metadata.snapshots.at(-1)!;
    const listBytes = await storage.readFile(table.resolve(last.manifestList));
    const list = await readManifestList(listBytes, last.manifestList);
    // New manifests first: the delete manifest (no first_row_id), then the two data manifests, whose
    // first_row_id were assigned when they were written and are kept.
    expect(list.map((m) => [m.content, m.firstRowId ?? null])).toEqual([
      [1, null],
      [0, 3n],
      [0, 0n],
    ]);
    const listFile = await readAvroFile(listBytes, last.manifestList);
    expect(listFile.metadata['format-version']).toBe('3');
    expect(listFile.metadata['first-row-id']).toBe('5');
    const manifest = await readAvroFile(await storage.readFile(table.resolve(list[1]!.manifestPath)), list[1]!.manifestPath);
    expect(manifest.metadata['format-version']).toBe('3');
    // Files are written without first_row_id: they inherit the manifest's.
    expect((manifest.records[0] as { data_file: { first_row_id: unknown } }).data_file.first_row_id).toBeNull();

    const { rows } = await scanRows(storage, root, { columns: ['id', '_row_id', '_last_updated_sequence_number'] });
    expect(plain(rows.sort((x, y) => Number(x.id) - Number(y.id)))).toEqual(
      plain([
        { id: 1n, _row_id: 0n, _last_updated_sequence_number: 1n },
        { id: 3n, _row_id: 2n, _last_updated_sequence_number: 1n },
        { id: 4n, _row_id: 3n, _last_updated_sequence_number: 2n },
        { id: 5n, _row_id: 4n, _last_updated_sequence_number: 2n },
      ]),
    );
    const engine = await createNodeQueryEngine(storage);
    try {
      const page = await engine.scan(root, { columns: ['id', '_row_id'] });
      expect(plain(page.rows.sort((x, y) => Number(x[0]) - Number(y[0])))).toEqual(plain([[1n, 0n], [3n, 2n], [4n, 3n], [5n, 4n]]));
    } finally {
      await engine.close();
    }
  });

  it('a Spark-written v3 table takes a tag, an append and a rollback, and stays v3 with its lineage', async () => {
    const root = join(work, 'spark-v3');
    cpSync(join(FIXTURES, 'iceberg-v3/impala/iceberg_v3_row_lineage'), root, { recursive: true });
    const before = await loadTable(storage, root);
    const current = before.metadata.currentSnapshotId!;
    const env = seededWriteEnv(4);
    await setSnapshotRef(root, 'q4-close', 'tag', current, env);
    await appendRows(root, [{ i: 4 }], { env });
    const json = latestMetadata(root) as { 'format-version': number; 'next-row-id': number; refs: Record<string, unknown>; snapshots: Record<string, unknown>[] };
    expect(json['format-version']).toBe(3);
    // The fixture's next-row-id (6: Spark's compaction assigned 3 more) is where the append's ids
    // start; earlier snapshots keep theirs.
    expect(before.metadata.nextRowId).toBe(6n);
    expect(json['next-row-id']).toBe(7);
    expect(json.snapshots.map((s) => s['first-row-id'])).toEqual([...before.metadata.snapshots.map((s) => Number(s.firstRowId)), 6]);
    expect(json.refs['q4-close']).toEqual({ 'snapshot-id': Number(current), type: 'tag' });
    const { rows } = await scanRows(storage, root, { columns: ['i', '_row_id'] });
    expect(plain(rows.sort((x, y) => Number(x.i) - Number(y.i)))).toEqual(plain([{ i: 1, _row_id: 0n }, { i: 2, _row_id: 1n }, { i: 3, _row_id: 2n }, { i: 4, _row_id: 6n }]));
    await rollbackTo(root, current, env);
    expect((await scanRows(storage, root)).rows).toHaveLength(3);
    // Row ids are never reused: a rollback leaves next-row-id where it was.
    expect((latestMetadata(root) as { 'next-row-id': number })['next-row-id']).toBe(7);
  });
});
