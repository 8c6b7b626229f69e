import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable, parseTableMetadata, planScan } from '../../core/lake';
import { loadPipelineConfig, runPipeline } from '../../core/pipeline';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { S3RVER_CREDENTIALS, startS3Lake, type S3Lake } from '../support/s3-server';
import { createShards, lakeRows, pipelineYaml, sourceRows, waitUntil } from './run-helpers';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tidemark');
const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];

/**
 * kill -9 of `tidemark sync` while it commits into S3: the proxy in front of s3rver kills the
 * process the moment a metadata version's conditional PUT arrives, before forwarding it. Whatever
 * the store then holds, every version is whole, every file a version names is there, and the
 * resumed sync ends equal to the source, every change once.
 */
describe('kill -9 during a commit to S3', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let lake: S3Lake;
  let work: string;

  beforeAll(async () => {
    [db, lake] = await Promise.all([startPrivateMariaDb(), startS3Lake(['lake'])]);
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 400);
    work = await mkdtemp(join(tmpdir(), 'tidemark-s3-crash-'));
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    await lake?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('leaves no half-commit; the resumed sync holds every row once', async () => {
    const warehouse = 's3://lake/crash';
    const sink = `  catalog.properties.s3.endpoint: ${lake.endpoint}
  catalog.properties.s3.access-key-id: env:S3_KEY
  catalog.properties.s3.secret-access-key: env:S3_SECRET
  catalog.properties.s3.path-style-access: true
`;
    // Small chunks and a short interval: many commits during the snapshot.
    const yaml = pipelineYaml(db, { warehouse, name: 'crash', extraSink: sink, intervalMs: 100, chunkSize: 50 });
    const yamlPath = join(work, 'crash.yaml');
    await writeFile(yamlPath, yaml);
    const env = { DB_PASS: db.password, S3_KEY: S3RVER_CREDENTIALS.accessKeyId, S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey };
    const child = spawn(process.execPath, [BIN, 'sync', yamlPath], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    const honour = lake.proxy.decide;
    let killedAt: string | null = null;
    lake.proxy.decide = (req, n) => {
      // The third version of the target (two commits in): kill, then let the PUT through or not.
      if (killedAt === null && req.method === 'PUT' && /\/ods\/orders\/metadata\/v3\.metadata\.json$/.test(req.url)) {
        killedAt = req.url;
        child.kill('SIGKILL');
        return { drop: true };
      }
      return honour(req, n);
    };
    let gone = false;
    void exited.then(() => (gone = true));
    // New rows while the sync runs, so that rounds keep coming: the whole snapshot may fit in one.
    let inserted = 0;
    const feeding = (async () => {
      while (killedAt === null && !gone) {
        await conn.query(`INSERT INTO app.order_0 (customer, amount, created) VALUES ('feed', 1.00, NULL)`);
        inserted++;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await waitUntil(() => killedAt !== null || gone, 'a metadata PUT to kill at', 180_000);
      if (killedAt === null) throw new Error(`the sync exited before its third metadata PUT:\n${stderr}`);
      await exited;
    } finally {
      child.kill('SIGKILL');
      lake.proxy.decide = honour;
      await feeding;
    }
    expect(stderr).not.toMatch(/error/i);

    // No half-commit: every version present parses, and every file the current one names exists.
    const storage = lake.storage();
    const root = `${warehouse}/ods/orders`;
    const versions = (await storage.listRecursive(`${root}/metadata`)).filter((o) => o.path.endsWith('.metadata.json'));
    expect(versions.map((o) => o.path.split('/').pop())).toEqual(['v1.metadata.json', 'v2.metadata.json']);
    for (const v of versions) parseTableMetadata(new TextDecoder().decode(await storage.readFile(v.path)), v.path);
    const table = await loadTable(storage, root);
    const plan = await planScan(storage, table);
    for (const f of plan.files) expect(await storage.stat(f.path)).not.toBeNull();
    const partial = await lakeRows(warehouse, COLUMNS, 'orders', storage);
    expect(new Set(partial.map((r) => `${r.__table_name__}|${r.id}`)).size).toBe(partial.length);

    // The resumed sync, in-process: every row once.
    const config = loadPipelineConfig(yaml, { fileName: 'crash.yaml', env, baseDir: work }).config;
    await runPipeline({ config, untilCaughtUp: true });
    const rows = await lakeRows(warehouse, COLUMNS, 'orders', storage);
    expect(rows).toHaveLength(1600 + inserted);
    expect(rows).toEqual(await sourceRows(conn, COLUMNS));
  }, 240_000);
});
