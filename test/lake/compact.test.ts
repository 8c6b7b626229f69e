/**
 * Compaction with previews (core/lake/write/compact.ts) and expiry's dry run: the preview names
 * what the run then does; rows are unchanged; partial compactions touch only their files; a cancel
 * leaves no commit and no written file; a commit racing the compaction is kept.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countRows, loadTable, planScan, scanRows } from '../../core/lake';
import { appendRows, applyRowDelta, compactDataFiles, createTable, expireSnapshots, partitionText, planCompaction, seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-compact-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Rows id 1..40 over regions a/b in 8 appends (16 small files), then ids 3 and 12 deleted by equality deletes. */
async function smallFilesTable(name: string) {
  const root = join(work, name);
  const env = seededWriteEnv(3);
  await createTable(root, {
    columns: [{ name: 'id', type: 'long', required: true }, { name: 'region', type: 'string', required: true }, { name: 'v', type: 'string' }],
    identifierColumns: ['id'],
    partitionBy: [{ column: 'region', transform: 'identity' }],
    env,
  });
  for (let a = 0; a < 8; a++) {
    await appendRows(root, Array.from({ length: 5 }, (_, i) => {
      const id = a * 5 + i + 1;
      return { id: BigInt(id), region: id % 2 === 0 ? 'a' : 'b', v: `v${id}` };
    }), { env });
  }
  await applyRowDelta(root, { deleteKeys: [{ id: 3n }, { id: 12n }] }, { env });
  return { root, env };
}

const ids = async (root: string, snapshotId?: bigint) => (await scanRows(storage, root, snapshotId === undefined ? {} : { snapshotId })).rows.map((r) => `${r.id}:${r.region}:${r.v}`).sort();
const dataFiles = async (root: string) => (await planScan(storage, root)).files.map((f) => f.dataFile.filePath).sort();
const parquetOnDisk = (root: string) => readdirSync(join(root, 'data'), { recursive: true }).filter((p) => String(p).endsWith('.parquet')).length;

describe('compaction with a preview', () => {
  it('small files: the preview counts what the run rewrites; rows unchanged; delete files kept', async () => {
    const { root, env } = await smallFilesTable('small');
    const before = await ids(root);
    const plan = await planScan(storage, root);
    expect(plan.files).toHaveLength(16); // 8 appends × 2 regions
    const preview = await planCompaction(root, { kind: 'small' });
    expect(preview).toMatchObject({ files: 16, records: 40, partitions: 2, deleteFiles: 0, estimatedFiles: 2 });
    expect(preview.bytes).toBe(plan.files.reduce((n, f) => n + f.fileSizeInBytes, 0));
    const progress: number[] = [];
    const result = await compactDataFiles(root, { scope: { kind: 'small' }, env, onProgress: (p) => progress.push(p.doneFiles) });
    expect(result).toMatchObject({ files: 16, writtenFiles: 2, liveRecords: 38 });
    expect(progress).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(await ids(root)).toEqual(before);
    const after = await planScan(storage, root);
    expect(after.files).toHaveLength(2);
    // The equality delete file stays in the table (a partial compaction), but applies to no new file.
    expect(after.deleteFiles.length).toBe(plan.deleteFiles.length);
    expect(after.files.every((f) => f.deletes.length === 0)).toBe(true);
    const snap = (await loadTable(storage, root)).metadata.snapshots.at(-1)!;
    expect(snap.summary).toMatchObject({ operation: 'replace', 'deleted-data-files': '16', 'added-data-files': '2', 'total-data-files': '2', 'total-records': '38' });
    expect(await countRows(storage, root)).toBe(38);
    // Nothing small is left to compact: a second run commits nothing.
    expect(await planCompaction(root, { kind: 'small' })).toMatchObject({ files: 0 });
    expect((await compactDataFiles(root, { scope: { kind: 'small' }, env })).committedSnapshotId).toBeNull();
  });

  it('one partition: only its files are replaced', async () => {
    const { root, env } = await smallFilesTable('partition');
    const before = await ids(root);
    const bFiles = (await planScan(storage, root)).files.filter((f) => f.partition[0] === 'b').map((f) => f.dataFile.filePath).sort();
    const aFiles = (await dataFiles(root)).filter((p) => !bFiles.includes(p));
    const scope = { kind: 'partition' as const, partition: partitionText(['a']) };
    expect(await planCompaction(root, scope)).toMatchObject({ files: 8, partitions: 1, estimatedFiles: 1 });
    await compactDataFiles(root, { scope, env });
    const now = await dataFiles(root);
    expect(now.filter((p) => bFiles.includes(p))).toEqual(bFiles);
    expect(now.filter((p) => aFiles.includes(p))).toEqual([]);
    expect(now).toHaveLength(9);
    expect(await ids(root)).toEqual(before);
  });

  it('whole table: every delete file goes; the preview says how many', async () => {
    const { root, env } = await smallFilesTable('all');
    const before = await ids(root);
    const preview = await planCompaction(root, { kind: 'all' });
    expect(preview).toMatchObject({ files: 16, deleteFiles: 1 });
    await compactDataFiles(root, { scope: { kind: 'all' }, env });
    const plan = await planScan(storage, root);
    expect(plan.deleteFiles).toEqual([]);
    expect(await ids(root)).toEqual(before);
  });

  it('a cancel commits nothing and leaves no written file', async () => {
    const { root, env } = await smallFilesTable('cancel');
    const snapshots = (await loadTable(storage, root)).metadata.snapshots.length;
    const files = parquetOnDisk(root);
    const abort = new AbortController();
    const err = await compactDataFiles(root, { scope: { kind: 'small' }, env, signal: abort.signal, onProgress: (p) => p.doneFiles === 9 && abort.abort() }).catch((e: unknown) => e as { code: string; message: string });
    expect(err).toMatchObject({ code: 'Cancelled', message: `compaction of ${root} cancelled; nothing was committed` });
    expect((await loadTable(storage, root)).metadata.snapshots.length).toBe(snapshots);
    expect(parquetOnDisk(root)).toBe(files);
  });

  it('a commit racing the compaction is kept: the compaction plans again', async () => {
    const { root, env } = await smallFilesTable('race');
    let raced: Promise<unknown> | null = null;
    const result = await compactDataFiles(root, {
      scope: { kind: 'small' },
      env,
      onProgress: (p) => {
        if (p.doneFiles === 1 && raced === null) raced = appendRows(root, [{ id: 100n, region: 'a', v: 'late' }], { env: seededWriteEnv(99) });
      },
    });
    await raced;
    expect(await ids(root)).toContain('100:a:late');
    expect(await countRows(storage, root)).toBe(39);
    expect(result.committedSnapshotId).toBe((await loadTable(storage, root)).metadata.currentSnapshotId);
  });
});

describe('expire snapshots: dry run', () => {
  it('names the snapshots and files the real run then expires and deletes', async () => {
    const { root, env } = await smallFilesTable('expire');
    await compactDataFiles(root, { scope: { kind: 'all' }, env });
    const preview = await expireSnapshots(root, { retainLast: 1, dryRun: true, env });
    expect(preview.metadataFile).toBeNull();
    expect(preview.expiredSnapshotIds).toHaveLength(9);
    expect(preview.deleted.dataFiles).toHaveLength(16);
    expect(preview.deletedBytes).toBeGreaterThan(0);
    expect((await loadTable(storage, root)).metadata.snapshots).toHaveLength(10);
    expect(parquetOnDisk(root)).toBe(16 + 1 + 2);
    const run = await expireSnapshots(root, { retainLast: 1, env });
    expect({ ...run, metadataFile: null }).toEqual(preview);
    expect(parquetOnDisk(root)).toBe(2);
  });
});
