import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { scanRows, type Row } from '../../core/lake';
import { appendRows, createTable, expireSnapshots, removeOrphanFiles, rewriteDataFiles, seededWriteEnv, type WriteEnv } from '../../core/lake/write';
import type { WritableStorage } from '../../core/storage';
import { createLocalWritableStorage } from '../../core/storage/node/writable';
import { plainRows } from '../lake/helpers';
import { S3RVER_CREDENTIALS, startS3Lake, type S3Lake, useAwsEnv } from '../support/s3-server';

// Snapshot expiry and orphan removal on an s3:// table, side by side with the same table (same
// seeded ids) in a local folder: the previews and the deletions must name the same files, and
// the rows left must be the same.
let restoreEnv: (() => void) | undefined;

let lake: S3Lake;
let s3: WritableStorage;
const local = createLocalWritableStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-s3-maint-'));

beforeAll(async () => {
  lake = await startS3Lake(['lake']);
  s3 = lake.storage();
  restoreEnv = useAwsEnv(lake.endpoint, S3RVER_CREDENTIALS);
});

afterAll(async () => {
  restoreEnv?.();
  await lake?.close();
  rmSync(work, { recursive: true, force: true });
});

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
];
const row = (id: number): Row => ({ id: BigInt(id), name: `n${id}` });

/** Four appends and a compaction, with the same ids wherever the table is written. */
async function history(root: string, storage: WritableStorage | null): Promise<WriteEnv> {
  const env: WriteEnv = { ...seededWriteEnv(7), ...(storage ? { storage } : {}) };
  await createTable(root, { columns: COLUMNS, env });
  for (let i = 0; i < 3; i++) await appendRows(root, [row(2 * i), row(2 * i + 1)], { env });
  await rewriteDataFiles(root, { env });
  await appendRows(root, [row(100)], { env });
  return env;
}

/** Paths relative to the table root, so both sides compare. */
const relativeTo = (root: string, paths: string[]) => paths.map((p) => p.slice(root.length + 1)).sort();

async function filesOf(storage: WritableStorage, root: string): Promise<string[]> {
  return relativeTo(root, (await storage.listRecursive(root)).map((f) => f.path));
}

async function rowsOf(storage: WritableStorage, root: string) {
  return plainRows((await scanRows(storage, root, {})).rows).sort((a, b) => Number(a.id) - Number(b.id));
}

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('maintenance of an s3:// table through the storage port', () => {
  it('expire: the same preview, commit and deletions as on a local folder; rows unchanged', async () => {
    const localRoot = join(work, 'expire');
    const s3Root = 's3://lake/wh/db/expire';
    const localEnv = await history(localRoot, null);
    const s3Env = await history(s3Root, s3);
    expect(await filesOf(s3, s3Root)).toEqual(await filesOf(local, localRoot));
    const rowsBefore = await rowsOf(local, localRoot);
    expect(rowsBefore.length).toBe(7);

    const preview = await expireSnapshots(s3Root, { retainLast: 1, dryRun: true, env: s3Env });
    const localPreview = await expireSnapshots(localRoot, { retainLast: 1, dryRun: true, env: localEnv });
    expect(preview.expiredSnapshotIds).toEqual(localPreview.expiredSnapshotIds);
    expect(preview.expiredSnapshotIds.length).toBe(4);
    for (const kind of ['manifestLists', 'manifests', 'dataFiles', 'deleteFiles'] as const) {
      expect(relativeTo(s3Root, preview.deleted[kind])).toEqual(relativeTo(localRoot, localPreview.deleted[kind]));
    }
    // Three appends of two rows were compacted away: their data files go with the snapshots.
    expect(preview.deleted.dataFiles.length).toBe(3);
    // Sizes differ from the folder's (manifests hold absolute paths): they are the listing's sizes.
    const sizes = new Map((await s3.listRecursive(s3Root)).map((f) => [f.path, f.size]));
    const named = Object.values(preview.deleted).flat();
    expect(preview.deletedBytes).toBe(named.reduce((a, p) => a + sizes.get(p)!, 0));
    expect(preview.deletedBytes).toBeGreaterThan(0);
    expect(preview.metadataFile).toBeNull();
    // The preview touched nothing.
    expect(await filesOf(s3, s3Root)).toEqual(await filesOf(local, localRoot));

    const done = await expireSnapshots(s3Root, { retainLast: 1, env: s3Env });
    const localDone = await expireSnapshots(localRoot, { retainLast: 1, env: localEnv });
    expect(done.metadataFile).toBe(`${s3Root}/metadata/v7.metadata.json`);
    expect(relativeTo(s3Root, done.deleted.dataFiles)).toEqual(relativeTo(s3Root, preview.deleted.dataFiles));
    const after = await filesOf(s3, s3Root);
    expect(after).toEqual(await filesOf(local, localRoot));
    for (const p of relativeTo(s3Root, [...done.deleted.dataFiles, ...done.deleted.manifests, ...done.deleted.manifestLists])) expect(after).not.toContain(p);
    expect(localDone.expiredSnapshotIds).toEqual(done.expiredSnapshotIds);
    expect(await rowsOf(s3, s3Root)).toEqual(rowsBefore);
  });

  it('remove-orphans: lists by one recursive listing, keeps every referenced file, deletes the rest', async () => {
    const localRoot = join(work, 'orphans');
    const s3Root = 's3://lake/wh/db/orphans';
    const localEnv = await history(localRoot, null);
    const s3Env = await history(s3Root, s3);
    for (const [storage, root] of [[s3, s3Root], [local, localRoot]] as const) {
      await storage.writeFile(`${root}/data/crashed-writer.parquet`, 'not referenced');
      await storage.writeFile(`${root}/metadata/snap-orphan.avro`, 'not referenced either');
    }
    const rowsBefore = await rowsOf(s3, s3Root);
    const later = Date.now() + 60_000;
    const preview = await removeOrphanFiles(s3Root, { olderThanMs: later, dryRun: true, env: s3Env });
    const localPreview = await removeOrphanFiles(localRoot, { olderThanMs: later, dryRun: true, env: localEnv });
    expect(relativeTo(s3Root, preview.orphans.map((o) => o.path))).toEqual(['data/crashed-writer.parquet', 'metadata/snap-orphan.avro']);
    expect(relativeTo(localRoot, localPreview.orphans.map((o) => o.path))).toEqual(['data/crashed-writer.parquet', 'metadata/snap-orphan.avro']);
    expect(preview.orphans.map((o) => o.size)).toEqual([14, 21]);
    expect(preview.referencedCount).toBe(localPreview.referencedCount);
    // S3's LastModified is the age compared: nothing is older than a minute ago.
    expect((await removeOrphanFiles(s3Root, { olderThanMs: Date.now() - 60_000, dryRun: true, env: s3Env })).orphans).toEqual([]);
    expect(await filesOf(s3, s3Root)).toContain('data/crashed-writer.parquet');

    const removed = await removeOrphanFiles(s3Root, { olderThanMs: later, env: s3Env });
    expect(removed.removed).toBe(true);
    const after = await filesOf(s3, s3Root);
    expect(after).not.toContain('data/crashed-writer.parquet');
    expect(after).not.toContain('metadata/snap-orphan.avro');
    await removeOrphanFiles(localRoot, { olderThanMs: later, env: localEnv });
    expect(after).toEqual(await filesOf(local, localRoot));
    expect(await rowsOf(s3, s3Root)).toEqual(rowsBefore);
  });

  it('the CLI: expire and remove-orphans take s3:// tables; their previews match the folder', async () => {
    const localRoot = join(work, 'cli');
    const s3Root = 's3://lake/wh/db/cli';
    await history(localRoot, null);
    await history(s3Root, s3);
    const preview = await cli('expire', s3Root, '--retain-last', '2', '--dry-run');
    expect(preview.code, preview.err).toBe(0);
    expect(preview.out.split(s3Root).join(localRoot)).toBe((await cli('expire', localRoot, '--retain-last', '2', '--dry-run')).out);
    expect(preview.out).toMatch(/^would expire 3 snapshot\(s\): /);
    expect(preview.out).toContain(`would delete data file ${s3Root}/data/`);
    const expired = await cli('expire', s3Root, '--retain-last', '2');
    expect(expired.out.split('\n')[0]).toBe(preview.out.split('\n')[0]!.replace('would expire', 'expired'));
    expect((await cli('snapshots', s3Root, '--json')).out).toBe((await cli('expire', localRoot, '--retain-last', '2'), await cli('snapshots', localRoot, '--json')).out);

    await s3.writeFile(`${s3Root}/data/left-behind.parquet`, 'x');
    const orphans = await cli('remove-orphans', s3Root, '--older-than', new Date(Date.now() + 60_000).toISOString(), '--dry-run');
    expect(orphans.out).toBe(`would remove ${s3Root}/data/left-behind.parquet (1 bytes)\n1 orphan file(s), 1 bytes (dry run: nothing removed)`);
    const gone = await cli('remove-orphans', s3Root, '--older-than', new Date(Date.now() + 60_000).toISOString());
    expect(gone.out).toBe(`removed ${s3Root}/data/left-behind.parquet (1 bytes)\nremoved 1 orphan file(s), 1 bytes`);
    expect(await s3.stat(`${s3Root}/data/left-behind.parquet`)).toBeNull();
  }, 60_000);

  it('names an unreachable REST catalog, and refuses a profile on a local path', async () => {
    const rest = await cli('expire', 'rest+http://127.0.0.1:1/wh#db.t', '--retain-last', '1');
    expect(rest.code).toBe(1);
    expect(rest.err).toMatch(/^error\[SourceUnavailable\]: GET http:\/\/127\.0\.0\.1:1\/v1\/config\?warehouse=wh: REST catalog unreachable/);
    const profile = await cli('remove-orphans', join(work, 'cli'), '--profile', 'prod');
    expect(profile.err).toBe(`error[InvalidInput]: --profile prod: the profile is for s3:// paths and REST catalogs, and ${join(work, 'cli')} is a local path`);
  });
});
