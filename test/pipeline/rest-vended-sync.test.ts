import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { scanRows } from '../../core/lake';
import { defaultWriteEnv } from '../../core/lake/write';
import { loadPipelineConfig, runPipeline } from '../../core/pipeline';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { requireAccessKeys, signingKeyId, startS3Lake, type S3Lake, useAwsEnv } from '../support/s3-server';
import { createShards, pipelineYaml, sourceRows } from './run-helpers';

// A sync into a REST catalog over an s3:// warehouse whose S3 keys come only from the catalog:
// the catalog vends each table its own keys, the proxy in front of s3rver lets a table's keys
// reach that table only, and the sink's own keys (the AWS environment) reach nothing.
const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];
const TOKEN = 'vended-sync-token-0123456789';
const SERVER = { accessKeyId: 'SERVER', secretAccessKey: 'server-secret' };
const TABLES = ['orders', 'orders__changelog'];

describe('sync into a REST catalog with vended credentials', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let work: string;
  let lake: S3Lake;
  let catalog: RestCatalogServer;
  let restoreEnv: (() => void) | undefined;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 30);
    work = await mkdtemp(join(tmpdir(), 'tidemark-vended-sync-'));
    lake = await startS3Lake(['lake']);
    requireAccessKeys(lake.proxy, [
      { prefix: 'lake/', keyIds: [SERVER.accessKeyId] },
      ...TABLES.map((t) => ({ prefix: `lake/wh/ods/${t}/`, keyIds: [SERVER.accessKeyId, `KEY-${t}`], sessionToken: `token-${t}` })),
    ]);
    catalog = await startRestCatalogServer({
      warehouse: 's3://lake/wh',
      token: TOKEN,
      env: { ...defaultWriteEnv, storage: lake.storage({ credentials: SERVER }) },
      vendCredentials: (location) => {
        const t = location.split('/').pop()!;
        return { 's3.endpoint': lake.endpoint, 's3.path-style-access': 'true', 'client.region': 'us-east-1', 's3.access-key-id': `KEY-${t}`, 's3.secret-access-key': `secret-${t}`, 's3.session-token': `token-${t}` };
      },
    });
    restoreEnv = useAwsEnv(lake.endpoint, { accessKeyId: 'NOBODY', secretAccessKey: 'nobody-secret' });
  });
  afterAll(async () => {
    restoreEnv?.();
    await catalog?.close();
    await lake?.close();
    await conn?.end();
    await db?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes every table file with that table\'s vended keys; the catalog table equals the source', async () => {
    const yaml = pipelineYaml(db, { warehouse: 'wh', name: 'vended' }).replace('  catalog.properties.type: hadoop\n', `  catalog.properties.type: rest\n  catalog.properties.uri: ${catalog.uri}\n  catalog.properties.token: env:CATALOG_TOKEN\n`);
    const config = loadPipelineConfig(yaml, { fileName: 'vended.yaml', env: { DB_PASS: db.password, CATALOG_TOKEN: TOKEN }, baseDir: work }).config;
    const from = lake.proxy.requests.length;
    const run = await runPipeline({ config, untilCaughtUp: true });
    expect(run.commits).toBeGreaterThan(0);
    const seen = lake.proxy.requests.slice(from);
    expect(seen.filter((r) => signingKeyId(r.headers) === 'NOBODY').map((r) => `${r.method} ${r.url}`)).toEqual([]);
    const dataPuts = seen.filter((r) => r.method === 'PUT' && r.url.startsWith('/lake/wh/ods/orders/data/'));
    expect(dataPuts.length).toBeGreaterThan(0);
    for (const r of dataPuts) expect([signingKeyId(r.headers), r.headers['x-amz-security-token']]).toEqual(['KEY-orders', 'token-orders']);
    const rows = (await scanRows(lake.storage({ credentials: SERVER }), 's3://lake/wh/ods/orders', {})).rows;
    const flat = rows
      .map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c] === null || r[c] === undefined ? null : c === 'created' ? String(r[c]).replace(/Z$/, '').padEnd(26, '0') : String(r[c])])))
      .sort((a, b) => (`${a.__table_name__}|${String(a.id).padStart(10, '0')}` < `${b.__table_name__}|${String(b.id).padStart(10, '0')}` ? -1 : 1));
    expect(flat).toEqual(await sourceRows(conn, COLUMNS));
  }, 120_000);
});
