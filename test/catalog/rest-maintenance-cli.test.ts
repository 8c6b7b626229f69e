import { readdirSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IcebergRestCatalog } from 'iceberg-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { RestCatalogClient, startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { loadTable, scanRows } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node';
import { startHttpProxy, type HttpProxy } from '../support/s3-server';
import { copyWarehouse, makeDemoSource, stageAppend } from './helpers';

// `tidemark expire` and `tidemark remove-orphans` on a REST catalog table: committed through
// Tidemark's own served catalog (requirements and updates; a 409 rebuilt and retried), compared
// with the same commands on a twin copy of the lake opened as a plain folder, and the result read
// back by iceberg-js.
const TOKEN = 'maint-token';
const storage = createLocalStorage();
let source: Awaited<ReturnType<typeof makeDemoSource>>;
let served: ReturnType<typeof copyWarehouse>;
let twin: ReturnType<typeof copyWarehouse>;
let server: RestCatalogServer;
let proxy: HttpProxy;

beforeAll(async () => {
  source = await makeDemoSource();
  served = copyWarehouse(source.dir, 'lake');
  twin = copyWarehouse(source.dir, 'lake');
  server = await startRestCatalogServer({ warehouse: served.warehouse, token: TOKEN });
  proxy = await startHttpProxy(server.port);
});

afterEach(() => {
  proxy.decide = () => ({ forward: true });
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  served?.dispose();
  twin?.dispose();
  source?.dispose();
});

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const servedRoot = (t: string) => join(served.warehouse, 'demo', t);
const twinRoot = (t: string) => join(twin.warehouse, 'demo', t);
const metadataFiles = (root: string) => readdirSync(join(root, 'metadata')).filter((f) => f.endsWith('.metadata.json')).sort();
const liveRows = async (root: string) => (await scanRows(storage, root, {})).rows.length;

describe('expire and remove-orphans through a REST catalog', () => {
  it('expire rest+http://…#demo.orders: the same preview and deletions as on the folder, committed by the catalog', async () => {
    const target = `rest+${server.uri}lake#demo.orders`;
    const rowsBefore = await liveRows(servedRoot('orders'));
    const versionsBefore = metadataFiles(servedRoot('orders'));

    const preview = await cli('expire', target, '--retain-last', '2', '--dry-run', '--token', TOKEN);
    expect(preview.err).toBe('');
    expect(preview.code).toBe(0);
    const twinPreview = await cli('expire', twinRoot('orders'), '--retain-last', '2', '--dry-run');
    expect(preview.out.split(served.warehouse).join(twin.warehouse)).toBe(twinPreview.out);
    expect(preview.out).toMatch(/^would expire 4 snapshot\(s\): /);
    expect(metadataFiles(servedRoot('orders'))).toEqual(versionsBefore);

    const done = await cli('expire', target, '--retain-last', '2', '--token', TOKEN, '--json');
    expect(done.err).toBe('');
    const result = JSON.parse(done.out) as { expiredSnapshotIds: string[]; metadataFile: string; deleted: { dataFiles: string[] } };
    const twinResult = JSON.parse((await cli('expire', twinRoot('orders'), '--retain-last', '2', '--json')).out) as typeof result;
    expect(result.expiredSnapshotIds).toEqual(twinResult.expiredSnapshotIds);
    expect(result.deleted.dataFiles.map((p) => p.split(served.warehouse).join(twin.warehouse))).toEqual(twinResult.deleted.dataFiles);
    // The catalog published the next version; the files it no longer reaches are gone, rows stay.
    const next = `v${versionsBefore.length + 1}.metadata.json`;
    expect(metadataFiles(servedRoot('orders'))).toEqual([...versionsBefore, next].sort());
    expect(result.metadataFile).toBe(join(servedRoot('orders'), 'metadata', next));
    for (const f of result.deleted.dataFiles) expect(await storage.stat(f)).toBeNull();
    expect(await liveRows(servedRoot('orders'))).toBe(rowsBefore);
    const committed = (await loadTable(storage, servedRoot('orders'))).metadata;
    expect(committed.snapshots.map((s) => String(s.snapshotId))).toEqual((await loadTable(storage, twinRoot('orders'))).metadata.snapshots.map((s) => String(s.snapshotId)));
    expect(committed.snapshots).toHaveLength(2);

    // A third-party client reads the catalog's new version (iceberg-js rounds 63-bit ids: compare counts and times).
    const js = new IcebergRestCatalog({ baseUrl: server.uri, warehouse: 'lake', auth: { type: 'bearer', token: TOKEN } });
    const loaded = await js.loadTable({ namespace: ['demo'], name: 'orders' });
    expect(loaded.snapshots?.map((s) => s['timestamp-ms'])).toEqual(committed.snapshots.map((s) => s.timestampMs));
    expect((await cli('snapshots', target, '--token', TOKEN)).out).toBe((await cli('snapshots', twinRoot('orders'))).out.split(twin.warehouse).join(served.warehouse));
  }, 120_000);

  it('remove-orphans --catalog URI demo.customers: removes only the unreferenced old file', async () => {
    const root = servedRoot('customers');
    const orphan = join(root, 'data', 'left-behind.parquet');
    await writeFile(orphan, 'orphan bytes');
    const old = new Date(Date.now() - 10 * 86_400_000);
    await utimes(orphan, old, old);
    const rowsBefore = await liveRows(root);
    const preview = await cli('remove-orphans', 'demo.customers', '--catalog', `${server.uri}`, '--token', TOKEN, '--dry-run');
    expect(preview.err).toBe('');
    expect(preview.out).toBe(`would remove ${orphan} (12 bytes)\n1 orphan file(s), 12 bytes (dry run: nothing removed)`);
    expect(await storage.stat(orphan)).not.toBeNull();
    const removed = await cli('remove-orphans', 'demo.customers', '--catalog', `rest+${server.uri}lake`, '--token', TOKEN);
    expect(removed.out).toBe(`removed ${orphan} (12 bytes)\nremoved 1 orphan file(s), 12 bytes`);
    expect(await storage.stat(orphan)).toBeNull();
    expect(await liveRows(root)).toBe(rowsBefore);
  }, 60_000);

  it('a commit that loses a race (409) is rebuilt on the winner and retried', async () => {
    const root = servedRoot('orders');
    const client = new RestCatalogClient({ uri: server.uri, warehouse: 'lake', token: TOKEN });
    const commits: number[] = [];
    let appended: bigint | null = null;
    // The first commit the CLI sends waits until another writer has appended to main through the
    // catalog: its assert-ref-snapshot-id then fails (409) and the expiry is rebuilt and resent.
    proxy.decide = async (req) => {
      if (req.method !== 'POST' || !/\/namespaces\/demo\/tables\/orders$/.test(req.url)) return { forward: true };
      commits.push(commits.length + 1);
      if (commits.length === 1) {
        const id = 777_000_001n;
        const { snapshot } = await stageAppend(root, [{ order_id: 9001n, customer_id: 1n, amount: '1.00', order_status: 'new', ordered_at: '2024-03-04T10:00:00.000000+00:00', discount: null }], id, 99);
        const current = await client.loadTable(['demo'], 'orders');
        await client.commitTable(['demo'], 'orders', {
          requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': current.metadata.currentSnapshotId }],
          updates: [{ action: 'add-snapshot', snapshot }, { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id }],
        });
        appended = id;
      }
      return { forward: true };
    };
    const seen = proxy.requests.length;
    const out = await cli('expire', `rest+${proxy.endpoint}/lake#demo.orders`, '--retain-last', '1', '--token', TOKEN, '--json');
    expect(out.err).toBe('');
    expect(out.code).toBe(0);
    expect(commits).toEqual([1, 2]);
    const posts = proxy.requests.slice(seen).filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(2);
    // Rebuilt on the winner: main is the appended snapshot, the only one retained.
    const after = (await loadTable(storage, root)).metadata;
    expect(appended).not.toBeNull();
    expect(after.currentSnapshotId).toBe(appended);
    expect(after.snapshots.map((s) => s.snapshotId)).toEqual([appended]);
    const result = JSON.parse(out.out) as { expiredSnapshotIds: string[] };
    expect(result.expiredSnapshotIds).toHaveLength(2);
    expect(result.expiredSnapshotIds).not.toContain(String(appended));
  }, 60_000);

  it('bad input: a wrong token, a missing table, flags without a catalog', async () => {
    const wrong = await cli('expire', `rest+${server.uri}lake#demo.orders`, '--retain-last', '1', '--token', 'not-the-token');
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(new RegExp(`^error\\[InvalidInput\\]: GET ${server.uri.replace(/[.]/g, '\\.')}v1/config\\?warehouse=lake: 401`));
    expect(wrong.err).not.toContain('not-the-token');
    const missing = await cli('remove-orphans', `rest+${server.uri}lake#demo.nothing`, '--token', TOKEN);
    expect(missing.code).toBe(3);
    expect(missing.err).toContain('demo.nothing');
    const stray = await cli('expire', twinRoot('orders'), '--retain-last', '1', '--token', TOKEN);
    expect(stray).toMatchObject({ code: 2, err: 'error[InvalidInput]: expire: --token and --credential go with a REST catalog (--catalog URI or a rest+http(s):// table)' });
  });
});
