import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { createProfileStore } from '../../core/app/profiles';
import { S3RVER_CREDENTIALS, startHttpProxy } from '../support/s3-server';
import { S3_WAREHOUSE, startRemoteLake, type RemoteLake } from './remote-lake';

// The CLI on a REST catalog (Tidemark's server) whose tables live in s3rver must print what it
// prints on the same lake opened as a plain folder; AWS profiles from the shared files feed s3://.
const ENV_KEYS = [
  'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'TIDEMARK_S3_PATH_STYLE', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'TEST_CATALOG_TOKEN', 'TIDEMARK_HOME', 'TEST_SAVED_SECRET',
] as const;
const saved: Record<string, string | undefined> = {};
let lake: RemoteLake;
let awsDir: string;
let restUri: string;

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  for (const k of ENV_KEYS) saved[k] = process.env[k];
  for (const k of ENV_KEYS) delete process.env[k];
  // Never the machine's ~/.aws: the shared files are the test's own.
  awsDir = await mkdtemp(join(tmpdir(), 'tidemark-aws-'));
  process.env.AWS_CONFIG_FILE = join(awsDir, 'config');
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(awsDir, 'credentials');
  // The app's data folder, where its saved profiles are: the test's own too.
  process.env.TIDEMARK_HOME = join(awsDir, 'home');
  lake = await startRemoteLake({ oauthClients: { reader: 'reader-secret-42' } });
  restUri = `rest+${lake.catalog.uri}wh`;
  await writeFile(process.env.AWS_CONFIG_FILE, `[default]\nregion = eu-west-3\n\n[profile lake]\nregion = us-east-1\nendpoint_url = ${lake.s3.endpoint}\ns3 =\n  addressing_style = path\n`);
  await writeFile(process.env.AWS_SHARED_CREDENTIALS_FILE, `[lake]\naws_access_key_id = ${S3RVER_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${S3RVER_CREDENTIALS.secretAccessKey}\n\n[half]\naws_access_key_id = ONLYID\n`);
}, 60_000);

afterAll(async () => {
  await lake?.close();
  if (awsDir) await rm(awsDir, { recursive: true, force: true });
  for (const k of ENV_KEYS) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

/** The command on the REST table and on the local folder: equal output, after putting the roots back. */
async function same(command: string, table: string, ...rest: string[]) {
  const local = await run(command, join(lake.warehouse, ...table.split('.')), ...rest);
  expect(local.code, local.err).toBe(0);
  const before = lake.proxy.requests.length;
  const remote = await run(command, `${restUri}#${table}`, '--token', lake.catalog.token, ...rest);
  expect(remote.err).toBe('');
  expect(remote.code).toBe(0);
  expect(lake.proxy.requests.length, 'the files are read from S3').toBeGreaterThan(before);
  expect(remote.out.split(`${S3_WAREHOUSE}/${table.split('.').join('/')}`).join(join(lake.warehouse, ...table.split('.')))).toBe(local.out);
  return local.out;
}

describe('REST catalog tables in the CLI', () => {
  it('reads snapshots, schema, count, scan, files, stats, diff and history as the plain folder does', async () => {
    const snapshots = JSON.parse(await same('snapshots', 'demo.orders', '--json')) as { snapshotId: string }[];
    expect(snapshots).toHaveLength(6);
    await same('schema', 'demo.orders', '--json');
    expect(await same('count', 'demo.orders')).toMatch(/^\d+$/);
    expect(await same('count', 'demo.orders', '--snapshot', snapshots[1]!.snapshotId)).toMatch(/^\d+$/);
    await same('scan', 'demo.orders', '--limit', '20', '--format', 'json');
    await same('scan', 'demo.customers', '--format', 'csv');
    await same('files', 'demo.orders', '--json');
    const diff = JSON.parse(await same('diff', 'demo.orders', snapshots[0]!.snapshotId, snapshots[5]!.snapshotId, '--json')) as { addedCount: number };
    expect(diff.addedCount).toBeGreaterThan(0);
    await same('schema-diff', 'demo.orders', snapshots[0]!.snapshotId, 'current');
    await same('stats', 'demo.orders', '--json');
    expect(await same('history', 'demo.orders', '--key', 'order_id=3', '--json')).toContain('order_id');
  }, 120_000);

  it('lists the catalog as a warehouse and runs SQL over it', async () => {
    const remote = await run('tables', restUri, '--token', lake.catalog.token, '--json');
    expect(remote.code, remote.err).toBe(0);
    expect((JSON.parse(remote.out) as { namespace: string; name: string; format: string }[]).map((t) => `${t.namespace}.${t.name}:${t.format}`)).toEqual(['demo.customers:iceberg', 'demo.orders:iceberg']);
    const sql = 'SELECT count(*) AS n, sum(amount) AS s FROM demo.orders';
    const local = await run('query', lake.warehouse, sql, '--format', 'json');
    expect(local.code, local.err).toBe(0);
    const viaCatalog = await run('query', restUri, sql, '--format', 'json', '--token', lake.catalog.token);
    expect(viaCatalog.err).toBe('');
    expect(viaCatalog.out).toBe(local.out);
  }, 120_000);

  it('takes --catalog URI with <table> as namespace.table, a token from env:NAME, and OAuth2 --credential', async () => {
    const local = await run('count', join(lake.warehouse, 'demo', 'orders'));
    process.env.TEST_CATALOG_TOKEN = lake.catalog.token;
    const byFlag = await run('count', 'demo.orders', '--catalog', lake.catalog.uri, '--token', 'env:TEST_CATALOG_TOKEN');
    expect(byFlag).toEqual(local);
    const byOAuth = await run('count', `${restUri}#demo.orders`, '--credential', 'reader:reader-secret-42');
    expect(byOAuth).toEqual(local);
  }, 60_000);

  it('reads s3:// with --profile, and with AWS_PROFILE, from the shared config and credentials files', async () => {
    const local = await run('count', join(lake.warehouse, 'demo', 'orders'));
    expect(await run('count', `${S3_WAREHOUSE}/demo/orders`, '--profile', 'lake')).toEqual(local);
    process.env.AWS_PROFILE = 'lake';
    try {
      expect(await run('snapshots', `${S3_WAREHOUSE}/demo/orders`)).toEqual({ ...(await run('snapshots', join(lake.warehouse, 'demo', 'orders'))) });
    } finally {
      delete process.env.AWS_PROFILE;
    }
  }, 60_000);

  it("takes --profile NAME from the app's saved profiles (env:NAME secrets) for s3:// and REST", async () => {
    const profiles = createProfileStore({ dataDir: process.env.TIDEMARK_HOME!, secrets: null });
    await profiles.save({ name: 'saved-lake', endpoint: lake.s3.endpoint, pathStyle: true, region: 'us-east-1', accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: 'env:TEST_SAVED_SECRET' });
    await profiles.save({ name: 'saved-cat', token: 'env:TEST_CATALOG_TOKEN' });
    const local = await run('count', join(lake.warehouse, 'demo', 'orders'));
    const unset = await run('count', `${S3_WAREHOUSE}/demo/orders`, '--profile', 'saved-lake');
    expect(unset.err).toBe('error[InvalidInput]: profile saved-lake: secretAccessKey refers to the environment variable TEST_SAVED_SECRET, which is not set');
    process.env.TEST_SAVED_SECRET = S3RVER_CREDENTIALS.secretAccessKey;
    process.env.TEST_CATALOG_TOKEN = lake.catalog.token;
    expect(await run('count', `${S3_WAREHOUSE}/demo/orders`, '--profile', 'saved-lake')).toEqual(local);
    expect(await run('count', `${restUri}#demo.orders`, '--profile', 'saved-cat')).toEqual(local);
  }, 60_000);

  it('bad input: typed errors naming the URL or profile, never a secret', async () => {
    const badToken = await run('count', `${restUri}#demo.orders`, '--token', 'wrong-token-secret');
    expect(badToken.code).toBe(2);
    expect(badToken.err).toMatch(/^error\[InvalidInput\]: GET http:\/\/127\.0\.0\.1:\d+\/v1\/config\?warehouse=wh: 401/);
    const badCredential = await run('count', `${restUri}#demo.orders`, '--credential', 'reader:not-the-secret');
    expect(badCredential.err).toMatch(/^error\[InvalidInput\]: POST http:\/\/127\.0\.0\.1:\d+\/v1\/oauth\/tokens: OAuth2 client credentials refused/);
    const missing = await run('count', `${restUri}#demo.nope`, '--token', lake.catalog.token);
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^error\[NotFound\]: .*demo\.nope|^error\[NotFound\]: .*nope/);
    const unreachable = await run('count', 'rest+http://127.0.0.1:9/wh#demo.orders', '--token', 'unreachable-secret');
    expect(unreachable.err).toMatch(/^error\[SourceUnavailable\]: GET http:\/\/127\.0\.0\.1:9\/v1\/config\?warehouse=wh: REST catalog unreachable/);
    const noTable = await run('count', restUri, '--token', lake.catalog.token);
    expect(noTable.err).toContain('name the table after #');
    const userinfo = await run('count', `rest+http://user:pw-secret@127.0.0.1:9/wh#demo.orders`);
    expect(userinfo.err).toContain('put no credentials in the catalog URI');
    const noProfile = await run('count', `${S3_WAREHOUSE}/demo/orders`, '--profile', 'nobody');
    expect(noProfile.err).toBe(
      `error[InvalidInput]: AWS profile "nobody" is in neither ${process.env.AWS_CONFIG_FILE} nor ${process.env.AWS_SHARED_CREDENTIALS_FILE}, nor among the app's saved profiles (${join(process.env.TIDEMARK_HOME!, 'profiles.json')})`,
    );
    const half = await run('count', `${S3_WAREHOUSE}/demo/orders`, '--profile', 'half');
    expect(half.err).toBe('error[InvalidInput]: AWS profile "half": aws_secret_access_key is not set while its pair is');
    const wrongKeys = await run('count', 's3://lake/wh/demo/orders', '--profile', 'lake');
    expect(wrongKeys.code).toBe(0);
    process.env.AWS_ACCESS_KEY_ID = 'NOTAKEY';
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret-key';
    process.env.AWS_ENDPOINT_URL = lake.s3.endpoint;
    try {
      const denied = await run('count', `${S3_WAREHOUSE}/demo/orders`);
      expect(denied.code).not.toBe(0);
      expect(denied.err).toContain('s3://lake/wh/demo/orders');
      expect(denied.err).not.toContain('wrong-secret-key');
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
      delete process.env.AWS_ENDPOINT_URL;
    }
    // A table the catalog lists but fails to load is an error naming its URL, not a table left out.
    const proxy = await startHttpProxy(lake.catalog.port);
    proxy.decide = (req) => (req.url.includes('/tables/customers') ? { status: 500, body: '{"error":{"message":"boom","type":"ServerError","code":500}}' } : { forward: true });
    const halfListed = await run('tables', `rest+${proxy.endpoint}/wh`, '--token', lake.catalog.token);
    await proxy.close();
    expect(halfListed.code).toBe(1);
    expect(halfListed.err).toMatch(/^error\[SourceUnavailable\]: GET http:\/\/127\.0\.0\.1:\d+\/v1\/wh\/namespaces\/demo\/tables\/customers: 500 ServerError: boom$/);
    for (const r of [badToken, badCredential, missing, unreachable, userinfo, halfListed]) {
      for (const secret of ['wrong-token-secret', 'not-the-secret', 'unreachable-secret', 'pw-secret', lake.catalog.token]) expect(r.err).not.toContain(secret);
    }
  }, 60_000);
});
