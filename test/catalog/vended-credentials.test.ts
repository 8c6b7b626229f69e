import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { createRestTableCatalog, RestCatalogClient, startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { TidemarkError } from '../../core/errors';
import { scanRows, type Row } from '../../core/lake';
import { appendRows, defaultWriteEnv, expireSnapshots, newTableMetadata, removeOrphanFiles, seededWriteEnv, type WriteEnv } from '../../core/lake/write';
import { REPO_ROOT } from '../support/fixtures';
import { requireAccessKeys, signingKeyId, startS3Lake, type S3Lake, useAwsEnv } from '../support/s3-server';
import { plainRows } from '../lake/helpers';

// Vended credentials end to end: Tidemark's catalog serves an s3:// warehouse and hands each
// table its own keys in the load result; the proxy in front of s3rver lets a table's keys reach
// that table only (as scoped STS keys would), so the writers and readers below, whose own keys
// reach nothing, can only succeed by using what the catalog vended for each table.
const SERVER = { accessKeyId: 'SERVER', secretAccessKey: 'server-secret' };
const NOBODY = { accessKeyId: 'NOBODY', secretAccessKey: 'nobody-secret' };
const TABLES = ['orders', 'items'];
let restoreEnv: (() => void) | undefined;

let lake: S3Lake;
let server: RestCatalogServer;

function vendedFor(location: string): Record<string, string> {
  const table = location.split('/').pop()!;
  return { 's3.endpoint': lake.endpoint, 's3.path-style-access': 'true', 'client.region': 'us-east-1', 's3.access-key-id': `KEY-${table}`, 's3.secret-access-key': `secret-${table}`, 's3.session-token': `token-${table}` };
}

beforeAll(async () => {
  lake = await startS3Lake(['lake']);
  requireAccessKeys(lake.proxy, [
    { prefix: 'lake/', keyIds: [SERVER.accessKeyId] },
    ...TABLES.map((t) => ({ prefix: `lake/wh/db/${t}/`, keyIds: [SERVER.accessKeyId, `KEY-${t}`], sessionToken: `token-${t}` })),
  ]);
  server = await startRestCatalogServer({ warehouse: 's3://lake/wh', token: 'vend-token', env: { ...defaultWriteEnv, storage: lake.storage({ credentials: SERVER }) }, vendCredentials: vendedFor });
  // The readers' own keys reach nothing: only vended ones do.
  restoreEnv = useAwsEnv(lake.endpoint, NOBODY);
});

afterAll(async () => {
  restoreEnv?.();
  await server?.close();
  await lake?.close();
});

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
];
const rowsOf = (table: string): Row[] => [1, 2, 3].map((i) => ({ id: BigInt(i), name: `${table}-${i}` }));

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A writer through the catalog whose own S3 keys (NOBODY) reach nothing. */
function writerEnv(seed: number): WriteEnv {
  const client = new RestCatalogClient({ uri: server.uri, token: 'vend-token' });
  const catalog = createRestTableCatalog(client, server.uri, { s3: { endpoint: lake.endpoint, pathStyle: true, region: 'us-east-1', credentials: NOBODY, env: {} } });
  return { ...seededWriteEnv(seed), catalog, storage: catalog.bindStorage!(lake.storage({ credentials: NOBODY })) };
}

describe('credentials vended per table by a catalog over an s3:// warehouse', () => {
  it('the load result carries the table its own keys, under its location', async () => {
    const env = writerEnv(1);
    await env.catalog!.openTable('db', 'orders', () => newTableMetadata('', { columns: COLUMNS, env }));
    const loaded = await new RestCatalogClient({ uri: server.uri, token: 'vend-token' }).loadTable(['db'], 'orders');
    expect(loaded.metadataLocation).toBe('s3://lake/wh/db/orders/metadata/v1.metadata.json');
    expect(loaded.storageCredentials).toEqual([{ prefix: 's3://lake/wh/db/orders', config: vendedFor('s3://lake/wh/db/orders') }]);
  });

  it('a writer with no keys of its own writes each table with that table\'s vended keys', async () => {
    const env = writerEnv(2);
    const from = lake.proxy.requests.length;
    for (const t of TABLES) {
      const { root } = await env.catalog!.openTable('db', t, () => newTableMetadata('', { columns: COLUMNS, env }));
      expect(root).toBe(`s3://lake/wh/db/${t}`);
      await appendRows(root, rowsOf(t), { env });
    }
    const seen = lake.proxy.requests.slice(from);
    const byClient = seen.filter((r) => signingKeyId(r.headers) !== SERVER.accessKeyId);
    // Data files, manifests and manifest lists: written by the client, each with its table's keys and token.
    for (const t of TABLES) {
      const puts = byClient.filter((r) => r.method === 'PUT' && r.url.startsWith(`/lake/wh/db/${t}/`));
      expect(puts.length).toBeGreaterThanOrEqual(3);
      for (const r of puts) expect([signingKeyId(r.headers), r.headers['x-amz-security-token']]).toEqual([`KEY-${t}`, `token-${t}`]);
    }
    expect(byClient.filter((r) => signingKeyId(r.headers) === NOBODY.accessKeyId)).toEqual([]);
    for (const t of TABLES) {
      const scanned = await scanRows(lake.storage({ credentials: SERVER }), `s3://lake/wh/db/${t}`, {});
      expect(plainRows(scanned.rows).sort((a, b) => Number(a.id) - Number(b.id))).toEqual(plainRows(rowsOf(t)));
    }
  });

  it('expiry and orphan removal through the catalog: committed there, files deleted with the vended keys', async () => {
    const env = writerEnv(3);
    const root = 's3://lake/wh/db/items';
    await appendRows(root, [{ id: 10n, name: 'items-10' }], { env });
    const storage = lake.storage({ credentials: SERVER });
    const before = (await storage.listRecursive(`${root}/data`)).map((f) => f.path);
    expect(before).toHaveLength(2);
    const from = lake.proxy.requests.length;
    const expired = await expireSnapshots(root, { retainLast: 1, env });
    expect(expired.expiredSnapshotIds).toHaveLength(1);
    // Nothing is deleted: the retained snapshot still reads the first append's data file.
    expect(expired.deleted.dataFiles).toEqual([]);
    expect(expired.deleted.manifestLists).toHaveLength(1);
    const loaded = await new RestCatalogClient({ uri: server.uri, token: 'vend-token' }).loadTable(['db'], 'items');
    expect(loaded.metadata.snapshots.map((s) => s.snapshotId)).not.toContain(expired.expiredSnapshotIds[0]);
    expect(await storage.stat(expired.deleted.manifestLists[0]!)).toBeNull();
    const deletes = lake.proxy.requests.slice(from).filter((r) => r.method === 'DELETE');
    expect(deletes.map((r) => signingKeyId(r.headers))).toEqual(deletes.map(() => 'KEY-items'));

    await storage.writeFile(`${root}/data/left-behind.parquet`, 'x');
    const orphans = await removeOrphanFiles(root, { olderThanMs: Date.now() + 60_000, env });
    expect(orphans.orphans.map((o) => o.path)).toEqual([`${root}/data/left-behind.parquet`]);
    expect(await storage.stat(`${root}/data/left-behind.parquet`)).toBeNull();
    const rows = plainRows((await scanRows(storage, root, {})).rows).sort((a, b) => Number(a.id) - Number(b.id));
    expect(rows).toEqual(plainRows([...rowsOf('items'), { id: 10n, name: 'items-10' }]));
  });

  it('the proxy holds each key to its table: one table\'s vended keys cannot read the other', async () => {
    const items = lake.storage({ credentials: { accessKeyId: 'KEY-items', secretAccessKey: 'secret-items', sessionToken: 'token-items' } });
    await expect(items.readFile('s3://lake/wh/db/items/metadata/v1.metadata.json')).resolves.toBeInstanceOf(Uint8Array);
    const refused = await items.readFile('s3://lake/wh/db/orders/metadata/v2.metadata.json').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TidemarkError);
    expect((refused as TidemarkError).message).toContain('access denied');
    expect((refused as TidemarkError).message).not.toContain('secret-items');
  });

  it('the CLI reads catalog tables with the vended keys, its own AWS keys reaching nothing', async () => {
    const uri = `rest+${server.uri}wh#db.orders`;
    const scan = await cli('scan', uri, '--format', 'json', '--token', 'vend-token');
    expect(scan.code, scan.err).toBe(0);
    expect(JSON.parse(scan.out)).toEqual([1, 2, 3].map((i) => ({ id: String(i), name: `orders-${i}` })));
    // Without the catalog, the same files with the environment's keys: refused, naming the URL and no secret.
    const direct = await cli('count', 's3://lake/wh/db/orders');
    expect(direct.code).not.toBe(0);
    expect(direct.err).toContain('s3://lake/wh/db/orders');
    expect(direct.err).not.toContain(NOBODY.secretAccessKey);
  });

  it('`tidemark catalog` on a missing bucket fails at start naming it; --vend-credentials on a folder is refused', async () => {
    const missing = await cli('catalog', 's3://no-such-bucket/wh');
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^error\[NotFound\]: .*no-such-bucket/);
    expect(missing.err).not.toContain(NOBODY.secretAccessKey);
    const local = await cli('catalog', tmpdir(), '--vend-credentials');
    expect(local).toMatchObject({ code: 2, err: `error[InvalidInput]: catalog: --profile and --vend-credentials are for an s3:// warehouse, and ${tmpdir()} is a local folder` });
  });

  it('`tidemark catalog s3://… --vend-credentials` serves the bucket and vends its own S3 settings', async () => {
    const child = spawn(`${REPO_ROOT}/bin/tidemark`, ['catalog', 's3://lake/wh', '--vend-credentials', '--token', 'cli-token'], {
      cwd: REPO_ROOT,
      env: { ...process.env, AWS_ACCESS_KEY_ID: SERVER.accessKeyId, AWS_SECRET_ACCESS_KEY: SERVER.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
      const m = /^uri=(\S+) token=cli-token$/.exec(line);
      expect(m, line).not.toBeNull();
      const loaded = await new RestCatalogClient({ uri: m![1]!, token: 'cli-token' }).loadTable(['db'], 'items');
      expect(loaded.storageCredentials).toEqual([
        { prefix: 's3://lake/wh/db/items', config: { 's3.endpoint': lake.endpoint, 'client.region': 'us-east-1', 's3.path-style-access': 'true', 's3.access-key-id': SERVER.accessKeyId, 's3.secret-access-key': SERVER.secretAccessKey } },
      ]);
      const count = await cli('count', `rest+${m![1]!}wh#db.items`, '--token', 'cli-token');
      expect(count).toMatchObject({ code: 0, out: '4' });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }, 60_000);
});
