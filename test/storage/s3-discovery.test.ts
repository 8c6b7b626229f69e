import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IcebergRestCatalog } from 'iceberg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { createProfileStore } from '../../core/app/profiles';
import { createRemoteLakes } from '../../core/app/remote-lakes';
import { RestCatalogClient, startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { listWarehouseTables } from '../../core/lake';
import { defaultWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { FIXTURES } from '../support/fixtures';
import { S3RVER_CREDENTIALS, s3ErrorXml, startS3Lake, uploadFolder, useAwsEnv, type S3Lake } from '../support/s3-server';

// Table discovery on an object store: s3rver 3.7 leaves out of a delimited listing every folder
// that holds only folders (a namespace of tables, a table of metadata/ and data/), where AWS S3
// lists them. The warehouse below is uploaded without folder markers, as Tidemark's writers leave
// it, with nested namespaces, a namespace holding a table and a namespace, and one holding its
// properties file beside a table: every table must be found, by open, the CLI and the REST catalog.
const WH = 's3://lake/wh';
const ICEBIRD = join(FIXTURES, 'iceberg/icebird');
const PAIMON = join(FIXTURES, 'paimon/paimon-cpp');

let lake: S3Lake;
let local: string;
let server: RestCatalogServer;
let restoreEnv: () => void;

/** namespace.name (format) of each table, as the local folder lists them. */
const EXPECTED = [
  'deep.a.b.java_bunnies (iceberg)',
  'deep.spark_bunnies (iceberg)',
  'icebird.athena_example (iceberg)',
  'icebird.java_bunnies (iceberg)',
  'icebird.spark_bunnies (iceberg)',
  'icebird.spark_rename_column (iceberg)',
  'named.spark_rename_column (iceberg)',
  'paimon.pk_table_scan_and_read_mor (paimon)',
];

function described(tables: { namespace: string; name: string; format: string }[]): string[] {
  return tables.map((t) => `${t.namespace}.${t.name} (${t.format})`).sort();
}

beforeAll(async () => {
  lake = await startS3Lake(['lake']);
  local = await mkdtemp(join(tmpdir(), 'tidemark-s3-discovery-'));
  await cp(ICEBIRD, join(local, 'icebird'), { recursive: true });
  await cp(join(ICEBIRD, 'java_bunnies'), join(local, 'deep/a.db/b/java_bunnies'), { recursive: true });
  await cp(join(ICEBIRD, 'spark_bunnies'), join(local, 'deep/spark_bunnies'), { recursive: true });
  await cp(join(ICEBIRD, 'spark_rename_column'), join(local, 'named/spark_rename_column'), { recursive: true });
  await writeFile(join(local, 'named/.tidemark-namespace.json'), '{"owner":"tests"}');
  await cp(join(PAIMON, 'pk_table_scan_and_read_mor'), join(local, 'paimon.db/pk_table_scan_and_read_mor'), { recursive: true });
  expect(await uploadFolder(lake.s3.endpoint, local, WH, { folderMarkers: false })).toBeGreaterThan(60);
  restoreEnv = useAwsEnv(lake.endpoint, S3RVER_CREDENTIALS);
  server = await startRestCatalogServer({ warehouse: WH, token: 'list-token', env: { ...defaultWriteEnv, storage: lake.storage() } });
});

afterAll(async () => {
  await server?.close();
  restoreEnv?.();
  await lake?.close();
  if (local) await rm(local, { recursive: true, force: true });
});

describe('tables are found on a store whose delimited listing leaves out folders of folders', () => {
  it('the local folder lists the expected tables (the reference)', async () => {
    expect(described(await listWarehouseTables(createLocalStorage(), local))).toEqual(EXPECTED);
  });

  it("s3rver's delimited listing does leave them out (what the discovery must not rely on)", async () => {
    // A namespace of table folders only: nothing at all in a delimited listing.
    await expect(lake.storage().list(`${WH}/icebird`)).rejects.toMatchObject({ code: 'NotFound' });
    // A namespace holding its properties file: the file, but not its table.
    expect(await lake.storage().list(`${WH}/named`)).toEqual([{ name: '.tidemark-namespace.json', kind: 'file' }]);
  });

  it('listFolders finds every sub-folder from the keys, skipping past each one', async () => {
    const storage = lake.storage();
    expect(await storage.listFolders!(WH)).toEqual(['deep', 'icebird', 'named', 'paimon.db']);
    expect(await storage.listFolders!(`${WH}/deep`)).toEqual(['a.db', 'spark_bunnies']);
    expect(await storage.listFolders!(`${WH}/icebird`)).toEqual(['athena_example', 'java_bunnies', 'spark_bunnies', 'spark_rename_column']);
    expect(await storage.listFolders!(`${WH}/named`)).toEqual(['spark_rename_column']);
    expect(await storage.listFolders!(`${WH}/icebird/java_bunnies`)).toEqual(['data', 'metadata']);
    expect(await storage.listFolders!(`${WH}/nothing-here`)).toEqual([]);
    // Pages of 2 keys: the skip past a folder and the plain files between folders both page right.
    const small = lake.storage({ listPageSize: 2 });
    expect(await small.listFolders!(`${WH}/named`)).toEqual(['spark_rename_column']);
    expect(await small.listFolders!(WH)).toEqual(['deep', 'icebird', 'named', 'paimon.db']);
    expect(await small.listFolders!(`${WH}/icebird`)).toEqual(['athena_example', 'java_bunnies', 'spark_bunnies', 'spark_rename_column']);
  });

  it('listWarehouseTables on s3:// finds every table, in a bounded number of requests', async () => {
    const before = lake.proxy.requests.length;
    const tables = await listWarehouseTables(lake.storage(), WH);
    const requests = lake.proxy.requests.slice(before);
    expect(described(tables)).toEqual(EXPECTED);
    expect(tables.find((t) => t.name === 'java_bunnies' && t.namespace === 'deep.a.b')!.path).toBe(`${WH}/deep/a.db/b/java_bunnies`);
    // 8 tables in 6 namespace folders (deep, deep/a.db, deep/a.db/b, icebird, named, paimon.db):
    // each folder's skip listing costs one request per sub-folder plus one, each Iceberg table one
    // listing of metadata/, each namespace (and the Paimon table) a few more.
    expect(requests.every((r) => r.method === 'GET' || r.method === 'HEAD')).toBe(true);
    expect(requests.length).toBeLessThanOrEqual(45);
    console.log(`listWarehouseTables on s3rver: ${tables.length} tables, ${requests.length} requests`);
  });

  it('a table folder the store refuses to list fails the listing naming it; it is not left out as "not a table"', async () => {
    lake.proxy.decide = (req) => (decodeURIComponent(req.url).includes('prefix=wh/icebird/java_bunnies/') ? { status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') } : { forward: true });
    try {
      await expect(listWarehouseTables(lake.storage(), WH)).rejects.toMatchObject({ code: 'Io', message: expect.stringMatching(/^S3 GET s3:\/\/lake\/wh\/icebird\/java_bunnies\/\S*: access denied/) });
    } finally {
      lake.proxy.decide = () => ({ forward: true });
    }
    expect(described(await listWarehouseTables(lake.storage(), WH))).toEqual(EXPECTED);
  });

  it('the CLI `tables s3://…` lists what `tables <folder>` lists', async () => {
    const out: string[] = [];
    const err: string[] = [];
    expect(await runCli(['tables', WH, '--json'], { out: (t) => out.push(t), err: (t) => err.push(t) })).toBe(0);
    expect(err).toEqual([]);
    expect(described(JSON.parse(out.join('\n')) as { namespace: string; name: string; format: string }[])).toEqual(EXPECTED);
  });

  it("the app's lake.openRemote lists every table", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-s3-discovery-app-'));
    try {
      const profiles = createProfileStore({ dataDir, secrets: null, env: { LAKE_SECRET: S3RVER_CREDENTIALS.secretAccessKey } });
      await profiles.save({ name: 'lake', endpoint: lake.endpoint, region: 'us-east-1', pathStyle: true, accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: 'env:LAKE_SECRET' });
      const remote = createRemoteLakes({ local: createLocalStorage(), profiles });
      const opened = await remote.open(WH, 'lake');
      expect(described(opened.tables)).toEqual(EXPECTED);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('the REST catalog served over the s3:// warehouse lists every namespace and Iceberg table', async () => {
    const client = new RestCatalogClient({ uri: server.uri, token: 'list-token' });
    expect(await client.listNamespaces()).toEqual([['deep'], ['icebird'], ['named'], ['paimon']]);
    expect(await client.listNamespaces(['deep'])).toEqual([['deep', 'a']]);
    expect(await client.listNamespaces(['deep', 'a'])).toEqual([['deep', 'a', 'b']]);
    expect((await client.listTables(['deep', 'a', 'b'])).map((t) => t.name)).toEqual(['java_bunnies']);
    expect((await client.listTables(['deep'])).map((t) => t.name)).toEqual(['spark_bunnies']);
    expect((await client.listTables(['icebird'])).map((t) => t.name)).toEqual(['athena_example', 'java_bunnies', 'spark_bunnies', 'spark_rename_column']);
    expect((await client.listTables(['named'])).map((t) => t.name)).toEqual(['spark_rename_column']);
    // Paimon tables are not Iceberg catalog tables.
    expect(await client.listTables(['paimon'])).toEqual([]);
    const loaded = await client.loadTable(['deep', 'a', 'b'], 'java_bunnies');
    expect(loaded.metadataLocation).toMatch(/^s3:\/\/lake\/wh\/deep\/a\.db\/b\/java_bunnies\/metadata\/.*\.metadata\.json$/);
    // A third-party client sees the same.
    const js = new IcebergRestCatalog({ baseUrl: server.uri, auth: { type: 'bearer', token: 'list-token' } });
    expect((await js.listTables({ namespace: ['icebird'] })).identifiers.map((t) => t.name)).toEqual(['athena_example', 'java_bunnies', 'spark_bunnies', 'spark_rename_column']);
  });

  it('the CLI lists the served catalog (rest+http://…) with every table', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['tables', `rest+${server.uri.replace(/\/$/, '')}/wh`, '--token', 'list-token', '--json'], { out: (t) => out.push(t), err: (t) => err.push(t) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    expect(described(JSON.parse(out.join('\n')) as { namespace: string; name: string; format: string }[])).toEqual(EXPECTED.filter((t) => t.endsWith('(iceberg)')));
  });
});
