import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestCatalogClient, startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { TidemarkError } from '../../core/errors';
import { loadTable, scanRows } from '../../core/lake';
import { appendRows } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { expectCode } from '../lake/helpers';
import { copyWarehouse, makeDemoSource, stageAppend } from './helpers';

/** Tidemark's REST catalog client against Tidemark's server: bearer token and OAuth2 client credentials. */
const storage = createLocalStorage();
let source: Awaited<ReturnType<typeof makeDemoSource>>;
let lake: ReturnType<typeof copyWarehouse>;
let server: RestCatalogServer;
let serverClock = 1_000_000;

beforeAll(async () => {
  source = await makeDemoSource();
  lake = copyWarehouse(source.dir, 'north');
  server = await startRestCatalogServer({
    warehouse: lake.warehouse,
    token: 'bearer-1',
    oauthClients: { spark: 's3cret' },
    tokenTtlSeconds: 600,
    now: () => serverClock,
    tableConfig: { 's3.access-key-id': 'vended-key', 's3.session-token': 'vended-session' },
    storageCredentials: [{ prefix: 's3://bucket/north/', config: { 's3.secret-access-key': 'vended-secret' } }],
  });
});
afterAll(async () => {
  await server.close();
  lake.dispose();
  source.dispose();
});

describe('RestCatalogClient with a bearer token', () => {
  const client = () => new RestCatalogClient({ uri: server.uri, warehouse: 'north', token: 'bearer-1' });

  it('reads the config and uses its prefix', async () => {
    const seen: string[] = [];
    const c = new RestCatalogClient({
      uri: server.uri,
      warehouse: 'north',
      token: 'bearer-1',
      fetch: (url, init) => {
        seen.push(`${init?.method} ${new URL(String(url)).pathname}`);
        return fetch(url, init);
      },
    });
    const config = await c.config();
    expect(config.overrides).toEqual({ prefix: 'north', warehouse: 'north' });
    expect(await c.listNamespaces()).toEqual([['demo']]);
    expect(seen).toEqual(['GET /v1/config', 'GET /v1/north/namespaces']);
    await expectCode(new RestCatalogClient({ uri: server.uri, warehouse: 'south', token: 'bearer-1' }).config(), 'InvalidInput', /warehouse "south" is not served here/);
  });

  it('manages namespaces', async () => {
    const c = client();
    expect(await c.createNamespace(['fin'], { owner: 'li' })).toEqual({ namespace: ['fin'], properties: { owner: 'li' } });
    await c.createNamespace(['fin', 'eu']);
    expect(await c.listNamespaces()).toEqual([['demo'], ['fin']]);
    expect(await c.listNamespaces(['fin'])).toEqual([['fin', 'eu']]);
    expect(await c.loadNamespace(['fin'])).toEqual({ namespace: ['fin'], properties: { owner: 'li' } });
    expect(await c.updateNamespaceProperties(['fin'], { updates: { region: 'eu' }, removals: ['owner'] })).toEqual({ updated: ['region'], removed: ['owner'], missing: [] });
    expect(await c.namespaceExists(['fin', 'eu'])).toBe(true);
    await c.dropNamespace(['fin', 'eu']);
    expect(await c.namespaceExists(['fin', 'eu'])).toBe(false);
    await expectCode(c.dropNamespace(['demo']), 'InvalidInput', /409 NamespaceNotEmptyException: namespace demo is not empty/);
    await c.dropNamespace(['fin']); // its properties file goes with it
    expect(await c.listNamespaces()).toEqual([['demo']]);
    await expectCode(c.loadNamespace(['ghost']), 'NotFound', /^GET http:\/\/127\.0\.0\.1:\d+\/v1\/north\/namespaces\/ghost: 404 NoSuchNamespaceException: namespace ghost does not exist/);
  });

  it('lists and loads tables: exact metadata, location and vended config', async () => {
    const c = client();
    expect(await c.listTables(['demo'])).toEqual([
      { namespace: ['demo'], name: 'customers' },
      { namespace: ['demo'], name: 'orders' },
    ]);
    const loaded = await c.loadTable(['demo'], 'orders');
    const ours = await loadTable(storage, join(lake.warehouse, 'demo', 'orders'));
    expect(loaded.metadataLocation).toBe(ours.metadataFile);
    expect(loaded.metadata).toEqual(ours.metadata); // 63-bit ids exact
    expect(loaded.config).toEqual({ 's3.access-key-id': 'vended-key', 's3.session-token': 'vended-session' });
    expect(loaded.storageCredentials).toEqual([{ prefix: 's3://bucket/north/', config: { 's3.secret-access-key': 'vended-secret' } }]);
    expect(await c.tableExists(['demo'], 'orders')).toBe(true);
    expect(await c.tableExists(['demo'], 'nope')).toBe(false);
  });

  it('creates a table, commits an append, and gets a typed conflict on a stale commit', async () => {
    const c = client();
    await c.createNamespace(['app']);
    const created = await c.createTable(['app'], {
      name: 'users',
      schema: { type: 'struct', 'schema-id': 0, 'identifier-field-ids': [1], fields: [{ id: 1, name: 'id', type: 'long', required: true }, { id: 2, name: 'email', type: 'string', required: false }] },
    });
    const root = join(lake.warehouse, 'app', 'users');
    expect(created.metadataLocation).toBe(join(root, 'metadata', 'v1.metadata.json'));
    expect(created.metadata.location).toBe(root);
    expect(created.metadata.currentSnapshotId).toBeNull();

    const id = 2n ** 62n + 1n;
    const { snapshot } = await stageAppend(root, [{ id: 1n, email: 'a@x.org' }], id, 21);
    const committed = await c.commitTable(['app'], 'users', {
      requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }],
      updates: [
        { action: 'add-snapshot', snapshot },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
      ],
    });
    expect(committed.metadataLocation).toBe(join(root, 'metadata', 'v2.metadata.json'));
    expect(committed.metadata.currentSnapshotId).toBe(id);
    expect((await scanRows(storage, await loadTable(storage, root))).rows).toEqual([{ id: 1n, email: 'a@x.org' }]);

    const { snapshot: late } = await stageAppend(root, [{ id: 2n, email: 'b@x.org' }], 5n, 22);
    const e = await expectCode(
      c.commitTable(['app'], 'users', {
        requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }],
        updates: [{ action: 'add-snapshot', snapshot: late }],
      }),
      'CommitConflict',
      /409 CommitFailedException: app\.users: requirement failed: ref main was created concurrently/,
    );
    expect((e as TidemarkError).context).toMatchObject({ status: 409, restType: 'CommitFailedException' });
    expect((await loadTable(storage, root)).metadataFile).toBe(committed.metadataLocation);

    await c.dropTable(['app'], 'users');
    expect(await c.tableExists(['app'], 'users')).toBe(false);
    await c.dropNamespace(['app']);
  });

  it('commitTableWithRetry rebuilds a commit that lost to another writer', async () => {
    const c = client();
    const root = join(lake.warehouse, 'demo', 'customers');
    const builds: bigint[] = [];
    const done = await c.commitTableWithRetry(['demo'], 'customers', async (t) => {
      builds.push(t.metadata.currentSnapshotId!);
      // The first attempt is overtaken by a Tidemark append committed while it was being built.
      if (builds.length === 1) await appendRows(root, [{ customer_id: 60n, name: 'Sixty', city: 'Oslo', signup_date: '2025-03-04' }]);
      return {
        requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': t.metadata.currentSnapshotId }],
        updates: [{ action: 'set-properties', updates: { attempt: String(builds.length) } }],
      };
    });
    expect(builds.length).toBe(2);
    expect(builds[1]).not.toBe(builds[0]);
    expect(done.metadata.properties.attempt).toBe('2');
    expect(done.metadata.currentSnapshotId).toBe(builds[1]);
    const rows = (await scanRows(storage, await loadTable(storage, root))).rows;
    expect(rows.length).toBe(21);
    await expectCode(
      c.commitTableWithRetry(['demo'], 'customers', () => ({ requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 9 }], updates: [] }), 2),
      'CommitConflict',
      /current schema id is 0, expected 9/,
    );
  });

  it('a staged create (stage-create) becomes a table with the assert-create commit', async () => {
    const c = client();
    const staged = await c.createTable(['demo'], { name: 'staged', 'stage-create': true, schema: { type: 'struct', fields: [{ id: 1, name: 'x', type: 'int', required: false }] } });
    expect(staged.metadataLocation).toBeNull();
    expect(await c.tableExists(['demo'], 'staged')).toBe(false);
    const done = await c.commitTable(['demo'], 'staged', {
      requirements: [{ type: 'assert-create' }],
      updates: [
        { action: 'assign-uuid', uuid: staged.metadata.tableUuid },
        { action: 'upgrade-format-version', 'format-version': 2 },
        { action: 'add-schema', schema: { type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'x', type: 'int', required: false }] } },
        { action: 'set-current-schema', 'schema-id': -1 },
        { action: 'set-properties', updates: { 'created-by': 'ctas' } },
      ],
    });
    const ours = await loadTable(storage, join(lake.warehouse, 'demo', 'staged'));
    expect(done.metadataLocation).toBe(ours.metadataFile);
    expect([ours.metadata.tableUuid, ours.metadata.properties['created-by'], ours.metadata.schemas[0]!.fields[0]!.name]).toEqual([staged.metadata.tableUuid, 'ctas', 'x']);
    await expectCode(c.commitTable(['demo'], 'staged', { requirements: [{ type: 'assert-create' }], updates: [] }), 'CommitConflict', /table already exists/);
    await c.dropTable(['demo'], 'staged');
  });

  it('names the URL and never the token in errors; 401 without a token', async () => {
    const anonymous = new RestCatalogClient({ uri: server.uri });
    const e = await expectCode(anonymous.listNamespaces(), 'InvalidInput', /^GET http:\/\/127\.0\.0\.1:\d+\/v1\/config: 401 NotAuthorizedException: missing bearer token/);
    expect((e as TidemarkError).context.status).toBe(401);
    const wrong = await expectCode(new RestCatalogClient({ uri: server.uri, token: 'bearer-2' }).listNamespaces(), 'InvalidInput', /401 NotAuthorizedException: the bearer token is not valid/);
    expect(wrong.message).not.toContain('bearer-2');
    const raw = await fetch(`${server.uri}v1/namespaces`);
    expect([raw.status, await raw.json()]).toEqual([401, { error: { message: 'missing bearer token: send Authorization: Bearer <token>', type: 'NotAuthorizedException', code: 401 } }]);
    await expectCode(new RestCatalogClient({ uri: 'http://127.0.0.1:1/' }).config(), 'SourceUnavailable', /^GET http:\/\/127\.0\.0\.1:1\/v1\/config: REST catalog unreachable/);
  });
});

describe('RestCatalogClient with OAuth2 client credentials', () => {
  it('fetches a token, refreshes it when the server says it expired and before it expires', async () => {
    let clientClock = 0;
    const c = new RestCatalogClient({ uri: server.uri, warehouse: 'north', credential: 'spark:s3cret', now: () => clientClock });
    expect(await c.listNamespaces()).toEqual([['demo']]);
    expect(c.tokenRequests).toBe(1);
    await c.listTables(['demo']);
    expect(c.tokenRequests).toBe(1);
    // The server's clock passes the token's 600 s: 419, then one refresh and the call succeeds.
    serverClock += 601_000;
    expect((await c.loadTable(['demo'], 'orders')).metadata.snapshots.length).toBe(6);
    expect(c.tokenRequests).toBe(2);
    // The client's clock reaches the refresh point (60 s before expiry): a new token first.
    clientClock += 541_000;
    await c.listNamespaces();
    expect(c.tokenRequests).toBe(3);
  });

  it('asks the token endpoint it is given (oauth2ServerUri)', async () => {
    const posted: string[] = [];
    const c = new RestCatalogClient({
      uri: server.uri,
      credential: 'spark:s3cret',
      oauth2ServerUri: `${server.uri}v1/oauth/tokens?realm=tidemark`,
      fetch: (url, init) => {
        if (init?.method === 'POST') posted.push(`${String(url)} ${String(init.body)}`);
        return fetch(url, init);
      },
    });
    expect(await c.listNamespaces()).toEqual([['demo']]);
    expect(posted).toEqual([`${server.uri}v1/oauth/tokens?realm=tidemark grant_type=client_credentials&scope=catalog&client_id=spark&client_secret=s3cret`]);
  });

  it('refuses wrong client credentials and bearer tokens it did not issue', async () => {
    await expectCode(new RestCatalogClient({ uri: server.uri, credential: 'spark:wrong' }).config(), 'InvalidInput', /^POST http:\/\/127\.0\.0\.1:\d+\/v1\/oauth\/tokens: OAuth2 client credentials refused \(invalid_client: unknown client id or wrong client secret\)$/);
    const res = await fetch(`${server.uri}v1/oauth/tokens`, { method: 'POST', body: 'grant_type=password&client_id=spark&client_secret=s3cret', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect([res.status, await res.json()]).toEqual([400, { error: 'unsupported_grant_type', error_description: 'grant_type "password" is not supported: expected client_credentials' }]);
    const basic = await fetch(`${server.uri}v1/oauth/tokens`, {
      method: 'POST',
      body: 'grant_type=client_credentials',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('spark:s3cret').toString('base64')}` },
    });
    const token = ((await basic.json()) as { access_token: string }).access_token;
    expect(basic.status).toBe(200);
    const ok = await fetch(`${server.uri}v1/config`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  });
});
