import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient, type TidemarkClient } from '../../core/api';
import { AllowedRoots } from '../../core/app/file-server';
import { createHandlers } from '../../core/app/handlers';
import { startBrowserServer, type BrowserServer } from '../../core/app/http-server';
import { createProfileStore } from '../../core/app/profiles';
import { catalogMayNameLocalFiles, createRemoteLakes } from '../../core/app/remote-lakes';
import { startRestCatalogServer } from '../../core/catalog';
import type { SecretStore } from '../../core/app/sync-service';
import { createHttpStorage, type StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node';
import { s3ErrorXml, startHttpProxy } from '../support/s3-server';
import { S3_WAREHOUSE, startRemoteLake, type RemoteLake } from '../catalog/remote-lake';

// The app API over the contract (handlers behind the browser-mode server, the typed HTTP client,
// the file route) opening the demo lake in s3rver and through Tidemark's REST catalog: the same
// answers as the lake opened as a plain folder, and no secret in any file, reply, log or error.
const S3_SECRET = 'tidemark-s3-secret-9c1e7b';
const CATALOG_SECRET_VAR = 'TIDEMARK_TEST_CATALOG_TOKEN';
const SECRETS = [S3_SECRET, 'wrong-secret-5d2a', 'env-secret-41f0'];

/** The keychain as Electron's adapter presents it (electron/secrets.ts encrypts with safeStorage): values kept outside the data folder. */
function memoryKeychain(): SecretStore & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return {
    values,
    save: async (k, v) => void values.set(k, v),
    load: async (k) => values.get(k) ?? null,
    remove: async (k) => void values.delete(k),
  };
}

interface App {
  server: BrowserServer;
  client: TidemarkClient;
  files: StoragePort;
  dataDir: string;
}

let lake: RemoteLake;
let base: string;
const apps: App[] = [];
const logged: string[] = [];
const originals = { log: console.log, error: console.error, warn: console.warn, info: console.info };

async function startApp(secrets: SecretStore | null, env: Record<string, string | undefined>): Promise<App> {
  const dataDir = await mkdtemp(join(base, 'data-'));
  const rendererDir = join(dataDir, 'renderer');
  await mkdir(rendererDir);
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><div id="root"></div>');
  const profiles = createProfileStore({ dataDir, secrets, env });
  const remote = createRemoteLakes({ local: createLocalStorage(), profiles });
  const roots = new AllowedRoots();
  const handlers = createHandlers({ storage: remote.storage, mode: 'browser', electronVersion: null, allowRoot: (p) => roots.add(p), initialWarehouse: null, remote, profiles });
  const server = await startBrowserServer({ handlers, storage: remote.storage, roots, rendererDir });
  const url = `http://127.0.0.1:${server.port}`;
  const app = { server, client: createHttpClient({ baseUrl: url, token: server.token }), files: createHttpStorage({ baseUrl: url, token: server.token }), dataDir };
  apps.push(app);
  return app;
}

async function ok<T>(reply: Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }>): Promise<T> {
  const r = await reply;
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  for (const s of SECRETS) expect(JSON.stringify(r.value)).not.toContain(s);
  return r.value;
}

async function failure(reply: Promise<{ ok: true; value: unknown } | { ok: false; error: { code: string; message: string; context?: unknown } }>) {
  const r = await reply;
  expect(r.ok).toBe(false);
  if (r.ok) throw new Error('expected an error');
  for (const s of SECRETS) expect(JSON.stringify(r.error)).not.toContain(s);
  return r.error;
}

/** A port nothing listens on: taken from the OS, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await allFiles(p)));
    else out.push(p);
  }
  return out;
}

beforeAll(async () => {
  for (const k of ['log', 'error', 'warn', 'info'] as const) console[k] = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
  base = await mkdtemp(join(tmpdir(), 'tidemark-remote-app-'));
  lake = await startRemoteLake();
}, 60_000);

afterAll(async () => {
  Object.assign(console, originals);
  for (const a of apps) await a.server.close();
  await lake?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

/** The same calls on a local table path and on its remote path: equal values. */
async function sameAnswers(app: App, localTable: string, remoteTable: string) {
  const c = app.client;
  const local = await ok(c.call('lake.snapshots', { path: localTable }));
  const remote = await ok(c.call('lake.snapshots', { path: remoteTable }));
  expect(remote).toEqual(local);
  expect(local).toHaveLength(6);
  const first = local[0]!.snapshotId;
  const second = local[2]!.snapshotId;
  const last = local[5]!.snapshotId;
  expect(await ok(c.call('lake.schema', { path: remoteTable }))).toEqual(await ok(c.call('lake.schema', { path: localTable })));
  const page = { offset: 0, limit: 50, sort: [{ column: 'order_id', desc: false }], filters: [] };
  const remotePage = await ok(c.call('query.page', { path: remoteTable, ...page }));
  expect(remotePage.rows.length).toBeGreaterThan(0);
  expect(remotePage).toEqual(await ok(c.call('query.page', { path: localTable, ...page })));
  // Time travel: the table as of its third snapshot.
  const old = await ok(c.call('query.page', { path: remoteTable, version: { snapshotId: second }, ...page }));
  expect(old).toEqual(await ok(c.call('query.page', { path: localTable, version: { snapshotId: second }, ...page })));
  expect(old.rows).not.toEqual(remotePage.rows);
  const diff = await ok(c.call('query.rowDiff', { path: remoteTable, from: first, to: last, limit: 200 }));
  expect(diff).toEqual(await ok(c.call('query.rowDiff', { path: localTable, from: first, to: last, limit: 200 })));
  expect(diff.addedCount + diff.changedCount + diff.removedCount).toBeGreaterThan(0);
}

describe('remote lakes in the app API', () => {
  it('opens s3:// with a saved profile (secret in the keychain): tables, pages, time travel, diff, file route', async () => {
    const keychain = memoryKeychain();
    const app = await startApp(keychain, {});
    const saved = await ok(app.client.call('profiles.save', { name: 'lake', endpoint: lake.proxy.endpoint, region: 'us-east-1', pathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: S3_SECRET }));
    expect(saved).toEqual({ name: 'lake', endpoint: lake.proxy.endpoint, region: 'us-east-1', pathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'keychain', sessionToken: null, token: null, credential: null });
    expect([...keychain.values.values()]).toEqual([S3_SECRET]);
    const listing = await ok(app.client.call('lake.openRemote', { target: S3_WAREHOUSE, profile: 'lake' }));
    expect(listing.kind).toBe('s3');
    expect(listing.label).toBe(S3_WAREHOUSE);
    expect(listing.tables.map((t) => `${t.namespace}.${t.name}:${t.path}`)).toEqual([`demo.customers:/~remote/${listing.lakeId}/demo/customers`, `demo.orders:/~remote/${listing.lakeId}/demo/orders`]);
    const signed = lake.proxy.requests.filter((r) => String(r.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 Credential=S3RVER/'));
    expect(signed.length).toBeGreaterThan(0);
    await ok(app.client.call('lake.openWarehouse', { path: lake.warehouse }));
    await sameAnswers(app, join(lake.warehouse, 'demo', 'orders'), `${listing.path}/demo/orders`);
    // The renderer's file route serves the remote objects by lake id, with ranges.
    const local = createLocalStorage();
    const names = (await app.files.list(`${listing.path}/demo/orders/metadata`)).map((e) => e.name);
    expect(names).toEqual((await local.list(join(lake.warehouse, 'demo/orders/metadata'))).map((e) => e.name));
    const meta = names.find((n) => n.endsWith('.metadata.json'))!;
    const bytes = await local.readFile(join(lake.warehouse, 'demo/orders/metadata', meta));
    expect(await app.files.readFile(`${listing.path}/demo/orders/metadata/${meta}`)).toEqual(bytes);
    expect(await app.files.readRange(`${listing.path}/demo/orders/metadata/${meta}`, 5, 20)).toEqual(bytes.slice(5, 25));
    const unopened = await fetch(`http://127.0.0.1:${app.server.port}/fs/read?path=${encodeURIComponent('/~remote/99/demo/orders/metadata/x')}`, { headers: { authorization: `Bearer ${app.server.token}` } });
    expect(unopened.status).toBe(403);
    // Writes refuse remote tables by name.
    const refused = await failure(app.client.call('lake.setRef', { path: `${listing.path}/demo/orders`, name: 't1', type: 'tag' }));
    expect(refused).toMatchObject({ code: 'Unsupported', message: `tag t1: ${listing.path}/demo/orders is in a remote lake, which the app opens read-only` });
    // Nothing in the data folder holds the secret; the profile file says where it is.
    const profileFile = await readFile(join(app.dataDir, 'profiles.json'), 'utf8');
    expect(JSON.parse(profileFile)).toEqual([saved]);
    expect((await stat(join(app.dataDir, 'profiles.json'))).mode & 0o077).toBe(0);
    for (const f of await allFiles(app.dataDir)) for (const s of SECRETS) expect(await readFile(f, 'utf8')).not.toContain(s);
  }, 120_000);

  it('opens a REST catalog with a profile whose token is an env: reference (browser mode)', async () => {
    const app = await startApp(null, { [CATALOG_SECRET_VAR]: lake.catalog.token });
    const literal = await failure(app.client.call('profiles.save', { name: 'cat', token: 'env-secret-41f0' }));
    expect(literal).toMatchObject({ code: 'InvalidInput', message: 'profile cat: token: browser mode keeps no secrets; give it as env:NAME (an environment variable of the Tidemark process)' });
    await ok(app.client.call('profiles.save', { name: 'cat', token: `env:${CATALOG_SECRET_VAR}` }));
    expect(await ok(app.client.call('profiles.list', {}))).toEqual([{ name: 'cat', endpoint: null, region: null, pathStyle: null, accessKeyId: null, secretAccessKey: null, sessionToken: null, token: `env:${CATALOG_SECRET_VAR}`, credential: null }]);
    const before = lake.proxy.requests.length;
    const listing = await ok(app.client.call('lake.openRemote', { target: `rest+${lake.catalog.uri}wh`, profile: 'cat' }));
    expect(listing.kind).toBe('rest');
    expect(listing.tables.map((t) => `${t.namespace}.${t.name}`)).toEqual(['demo.customers', 'demo.orders']);
    await ok(app.client.call('lake.openWarehouse', { path: lake.warehouse }));
    await sameAnswers(app, join(lake.warehouse, 'demo', 'orders'), `${listing.path}/demo/orders`);
    // The catalog vends the S3 settings: the table files came from s3rver.
    expect(lake.proxy.requests.length).toBeGreaterThan(before);
    expect(await readFile(join(app.dataDir, 'profiles.json'), 'utf8')).not.toContain(lake.catalog.token);
    // A catalog on this machine may name local folders: Tidemark's server over the folder itself.
    const local = await startRestCatalogServer({ warehouse: lake.warehouse, token: lake.catalog.token });
    try {
      const listing2 = await ok(app.client.call('lake.openRemote', { target: `rest+${local.uri}wh`, profile: 'cat' }));
      expect(listing2.tables.map((t) => t.path)).toEqual([`${listing2.path}/demo/customers`, `${listing2.path}/demo/orders`]);
      expect(await ok(app.client.call('lake.snapshots', { path: `${listing2.path}/demo/orders` }))).toEqual(await ok(app.client.call('lake.snapshots', { path: join(lake.warehouse, 'demo', 'orders') })));
    } finally {
      await local.close();
    }
    expect(catalogMayNameLocalFiles('http://127.0.0.1:8181/')).toBe(true);
    expect(catalogMayNameLocalFiles('http://localhost:8181/')).toBe(true);
    expect(catalogMayNameLocalFiles('http://[::1]:8181/')).toBe(true);
    expect(catalogMayNameLocalFiles('https://catalog.example.com/')).toBe(false);
    expect(catalogMayNameLocalFiles('http://10.0.0.5:8181/')).toBe(false);
    const deleted = await ok(app.client.call('profiles.delete', { name: 'cat' }));
    expect(deleted).toEqual({ name: 'cat', deleted: true });
  }, 120_000);

  it('bad input: typed errors naming the URL, bucket or profile, never a secret', async () => {
    const keychain = memoryKeychain();
    const app = await startApp(keychain, {});
    const c = app.client;
    await ok(c.call('profiles.save', { name: 'good', endpoint: lake.proxy.endpoint, pathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: S3_SECRET }));
    await ok(c.call('profiles.save', { name: 'wrong', endpoint: lake.s3.endpoint, pathStyle: true, accessKeyId: 'NOSUCHKEY', secretAccessKey: 'wrong-secret-5d2a' }));
    const closedPort = await freePort();
    await ok(c.call('profiles.save', { name: 'down', endpoint: `http://127.0.0.1:${closedPort}`, pathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: S3_SECRET }));
    const wrongKeys = await failure(c.call('lake.openRemote', { target: S3_WAREHOUSE, profile: 'wrong' }));
    expect(wrongKeys).toMatchObject({ code: 'Io' });
    expect(wrongKeys.message).toMatch(/^S3 GET s3:\/\/lake\/wh\/: access denied at http:\/\/127\.0\.0\.1:\d+ \(InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records\.\); check the credentials/);
    const missingBucket = await failure(c.call('lake.openRemote', { target: 's3://nobucket/wh', profile: 'good' }));
    expect(missingBucket.code).toBe('NotFound');
    expect(missingBucket.message).toMatch(/^bucket not found: nobucket at http:\/\/127\.0\.0\.1:\d+/);
    const nothing = await failure(c.call('lake.openRemote', { target: 's3://lake/empty', profile: 'good' }));
    expect(nothing.code).toBe('NotFound');
    expect(nothing.message).toMatch(/^not found: s3:\/\/lake\/empty \(no objects below "empty\/" in bucket lake at http:\/\/127\.0\.0\.1:\d+\)$/);
    lake.proxy.decide = (req) => (req.method === 'GET' ? { status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') } : { forward: true });
    const denied = await failure(c.call('lake.openRemote', { target: S3_WAREHOUSE, profile: 'good' }));
    expect(denied.message).toMatch(/^S3 GET s3:\/\/lake\/wh\/: access denied at http:\/\/127\.0\.0\.1:\d+ \(AccessDenied: Access Denied\)/);
    lake.proxy.decide = () => ({ status: 500, body: s3ErrorXml('InternalError', 'We encountered an internal error') });
    const broken = await failure(c.call('lake.openRemote', { target: S3_WAREHOUSE, profile: 'good' }));
    expect(broken.message).toMatch(/^S3 GET s3:\/\/lake\/wh\/ failed: HTTP 500/);
    lake.proxy.decide = () => ({ forward: true });
    const down = await failure(c.call('lake.openRemote', { target: S3_WAREHOUSE, profile: 'down' }));
    expect(down.message).toMatch(new RegExp(`^S3 GET s3://lake/wh/ failed: cannot reach http://127\\.0\\.0\\.1:${closedPort}`));
    const catalogDown = await failure(c.call('lake.openRemote', { target: `rest+http://127.0.0.1:${closedPort}/wh`, profile: 'good' }));
    expect(catalogDown).toMatchObject({ code: 'SourceUnavailable' });
    expect(catalogDown.message).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.1:${closedPort}/v1/config\\?warehouse=wh: REST catalog unreachable`));
    const noAuth = await failure(c.call('lake.openRemote', { target: `rest+${lake.catalog.uri}wh` }));
    expect(noAuth.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/v1\/config\?warehouse=wh: 401/);
    // A catalog answering 500: SourceUnavailable naming the URL.
    const catalogProxy = await startHttpProxy(lake.catalog.port);
    catalogProxy.decide = () => ({ status: 500, body: '{"error":{"message":"boom","type":"ServerError","code":500}}' });
    const catalog500 = await failure(c.call('lake.openRemote', { target: `rest+${catalogProxy.endpoint}/wh` }));
    await catalogProxy.close();
    expect(catalog500).toMatchObject({ code: 'SourceUnavailable' });
    expect(catalog500.message).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/v1\/config\?warehouse=wh: 500 ServerError: boom$/);
    const unknownProfile = await failure(c.call('lake.openRemote', { target: S3_WAREHOUSE, profile: 'nobody' }));
    expect(unknownProfile).toMatchObject({ code: 'NotFound', message: 'no saved profile named "nobody"' });
    const half = await failure(c.call('profiles.save', { name: 'half', secretAccessKey: 'wrong-secret-5d2a' }));
    expect(half.message).toBe('profile half: give the access key id and the secret access key together');
    const notATarget = await failure(c.call('lake.openRemote', { target: 'ftp://x/y' }));
    expect(notATarget.code).toBe('InvalidInput');
    for (const f of await allFiles(app.dataDir)) for (const s of SECRETS) expect(await readFile(f, 'utf8')).not.toContain(s);
  }, 120_000);

  it('logged nothing that holds a secret', () => {
    for (const line of logged) for (const s of [...SECRETS, lake.catalog.token]) expect(line).not.toContain(s);
  });
});
