import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable, scanRows } from '../../core/lake';
import { appendDataFiles, appendRows, applyRowDelta, createTable, currentSchema, evolveSchema, RollingDataFileWriter, seededWriteEnv, type ColumnBatch, type WriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { createS3Storage } from '../../core/storage/s3/index';
import { S3RVER_CREDENTIALS, startS3Lake, type S3Lake } from '../support/s3-server';
import { expectCode, plainRows } from './helpers';

// The Iceberg write path on an object store (WriteEnv.storage): the same operations as on a local
// folder give the same rows, metadata is published with conditional PUTs, large files go up in
// parts, and a store that ignores If-None-Match is refused before anything is published.
let lake: S3Lake;
const work = mkdtempSync(join(tmpdir(), 'tidemark-write-s3-'));

beforeAll(async () => {
  lake = await startS3Lake(['lake']);
});
afterAll(async () => {
  await lake?.close();
  rmSync(work, { recursive: true, force: true });
});

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
];

/** The same history of commits on `root`: create, append, upsert and delete, add a column, append. */
async function writeHistory(root: string, env: WriteEnv) {
  await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], env });
  await appendRows(root, [1, 2, 3].map((i) => ({ id: BigInt(i), name: `n${i}` })), { env });
  await applyRowDelta(root, { upserts: [{ id: 2n, name: 'two' }], deleteKeys: [{ id: 3n }] }, { env });
  await evolveSchema(root, [{ op: 'add', name: 'note', type: 'string' }], env);
  await appendRows(root, [{ id: 4n, name: 'n4', note: 'new' }], { env });
}

const sortById = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

describe('Iceberg writes into S3', () => {
  it('commits the same table history as on a local folder, every file under the s3:// root', async () => {
    const storage = lake.storage();
    const root = 's3://lake/wh/db/history';
    await writeHistory(root, { ...seededWriteEnv(7), storage });
    const local = join(work, 'history');
    await writeHistory(local, seededWriteEnv(7));

    const remote = await scanRows(storage, root);
    const onDisk = await scanRows(createLocalStorage(), local);
    expect(sortById(plainRows(remote.rows))).toEqual([
      { id: 1, name: 'n1', note: null },
      { id: 2, name: 'two', note: null },
      { id: 4, name: 'n4', note: 'new' },
    ]);
    expect(sortById(plainRows(remote.rows))).toEqual(sortById(plainRows(onDisk.rows)));

    const table = await loadTable(storage, root);
    expect(table.metadataFile).toBe(`${root}/metadata/v5.metadata.json`);
    expect(table.metadata.location).toBe(root);
    expect(table.metadata.snapshots).toHaveLength(3);
    expect(table.metadata.snapshots.map((s) => s.manifestList.startsWith(`${root}/metadata/snap-`))).toEqual([true, true, true]);
    for (const f of remote.plan.files) expect(f.dataFile.filePath).toMatch(/^s3:\/\/lake\/wh\/db\/history\/data\/[0-9a-f-]+\.parquet$/);
    const keys = (await storage.listRecursive(root)).map((o) => o.path.slice(root.length + 1));
    expect(keys.filter((k) => /^metadata\/v\d+\./.test(k))).toEqual([1, 2, 3, 4, 5].map((v) => `metadata/v${v}.metadata.json`));
    expect(keys.filter((k) => !/^(data|metadata)\//.test(k))).toEqual([]);
    expect(new TextDecoder().decode(await storage.readFile(`${root}/metadata/version-hint.text`))).toBe('5');
    // Each version went up with If-None-Match: * (the proxy honours it, as AWS S3 does).
    const versionPuts = lake.proxy.requests.filter((r) => r.method === 'PUT' && /\/history\/metadata\/v\d+\.metadata\.json$/.test(r.url));
    expect(versionPuts.map((r) => r.headers['if-none-match'])).toEqual(Array(5).fill('*'));
  });

  it('two writers racing on one table both commit: the loser of a version retries on top of the winner', async () => {
    const root = 's3://lake/wh/db/race';
    const storage = lake.storage();
    await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], env: { ...seededWriteEnv(1), storage } });
    const a = { ...seededWriteEnv(2), storage: lake.storage() };
    const b = { ...seededWriteEnv(3), storage: lake.storage() };
    await Promise.all([
      appendRows(root, [{ id: 1n, name: 'a' }], { env: a }),
      appendRows(root, [{ id: 2n, name: 'b' }], { env: b }),
    ]);
    const table = await loadTable(storage, root);
    expect(table.metadataFile).toBe(`${root}/metadata/v3.metadata.json`);
    expect(table.metadata.snapshots).toHaveLength(2);
    expect(sortById(plainRows((await scanRows(storage, root)).rows))).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
  });

  it('streams a rolling data file up in multipart parts; the file is invisible until finished', async () => {
    const root = 's3://lake/wh/db/rolling';
    const storage = lake.storage({ partSizeBytes: 64 * 1024, multipartThresholdBytes: 64 * 1024 });
    const env = { ...seededWriteEnv(4), storage };
    const metadata = await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], env });
    const writer = new RollingDataFileWriter({ root, schema: currentSchema(metadata), spec: metadata.partitionSpecs[0]!, env }, 1 << 30, 8192);
    const rows = 60_000;
    for (let lo = 0; lo < rows; lo += 10_000) {
      const batch: ColumnBatch = { length: 10_000, columns: { id: [], name: [] } };
      for (let i = lo; i < lo + 10_000; i++) {
        batch.columns.id!.push(BigInt(i));
        batch.columns.name!.push(`name-${(i * 2654435761) % 4294967296}-${i}`);
      }
      await writer.write(batch);
    }
    expect((await storage.listRecursive(`${root}/data`)).length).toBe(0);
    const files = await writer.finish();
    expect(files).toHaveLength(1);
    expect(files[0]!.fileSizeInBytes).toBeGreaterThan(4 * 64 * 1024);
    const parts = lake.proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('/rolling/data/') && r.url.includes('partNumber='));
    expect(parts.length).toBe(Math.ceil(files[0]!.fileSizeInBytes / (64 * 1024)));
    expect((await storage.stat(files[0]!.filePath))?.size).toBe(files[0]!.fileSizeInBytes);
    await appendDataFiles(root, files, { env });
    const read = await scanRows(storage, root);
    expect(read.rows.length).toBe(rows);
    expect(read.rows.map((r) => Number(r.id))).toEqual(Array.from({ length: rows }, (_, i) => i));
  });

  it('refuses a store that ignores If-None-Match, naming it, before any metadata is published', async () => {
    // s3rver itself (no proxy) stores a second create over the first.
    const storage = createS3Storage({ endpoint: lake.s3.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1', pathStyle: true, env: {} });
    const root = 's3://lake/wh/db/unsafe';
    await expectCode(
      createTable(root, { columns: COLUMNS, env: { ...seededWriteEnv(5), storage } }),
      'Unsupported',
      new RegExp(`S3 ${lake.s3.endpoint.replace(/[.]/g, '\\.')} does not honour conditional PUT \\(If-None-Match: \\*\\) for s3://lake/wh/db/unsafe/metadata/v1\\.metadata\\.json`),
    );
    expect((await storage.listRecursive(root)).map((o) => o.path)).toEqual([]);
  });
});
