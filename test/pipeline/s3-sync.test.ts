import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../../core/lake';
import { loadPipelineConfig, planPipeline, runPipeline, type PipelineConfig } from '../../core/pipeline';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { S3RVER_CREDENTIALS, startS3Lake, type S3Lake } from '../support/s3-server';
import { changelogRows, createShards, lakeRows, pipelineYaml, sourceRows } from './run-helpers';

const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];

/**
 * A sync into an s3:// warehouse (s3rver behind a proxy that honours conditional PUTs, as AWS S3
 * does): the Iceberg Flink connector's S3FileIO keys, the sink worker writing through its own S3
 * storage, compaction every 4 commits, a changelog table. Read back through the S3 store.
 */
describe('sync into an s3:// warehouse', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let lake: S3Lake;
  let work: string;

  beforeAll(async () => {
    [db, lake] = await Promise.all([startPrivateMariaDb(), startS3Lake(['lake'])]);
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 60);
    work = await mkdtemp(join(tmpdir(), 'tidemark-s3-sync-'));
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    await lake?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const s3Keys = (endpoint: string) => `  catalog.properties.io-impl: org.apache.iceberg.aws.s3.S3FileIO
  catalog.properties.s3.endpoint: ${endpoint}
  catalog.properties.s3.access-key-id: env:S3_KEY
  catalog.properties.s3.secret-access-key: \${env:S3_SECRET}
  catalog.properties.s3.path-style-access: true
  catalog.properties.client.region: us-east-1
`;
  const configFor = (warehouse: string, endpoint: string, name: string): PipelineConfig =>
    loadPipelineConfig(pipelineYaml(db, { warehouse, name, extraSink: s3Keys(endpoint) }), {
      fileName: `${name}.yaml`,
      env: { DB_PASS: db.password, S3_KEY: S3RVER_CREDENTIALS.accessKeyId, S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey },
      baseDir: work,
    }).config;

  it('snapshot and binlog land row for row; a second sync resumes exactly once', async () => {
    const warehouse = 's3://lake/wh';
    const config = configFor(warehouse, lake.endpoint, 'to-s3');
    expect(config.sink.stateDir).toBe(join(work, '.tidemark', 's3', 'lake', 'wh'));
    const storage = lake.storage();
    expect((await planPipeline(config)).targets.map((t) => [t.path, t.exists])).toEqual([['s3://lake/wh/ods/orders', false]]);

    const first = await runPipeline({ config, untilCaughtUp: true });
    expect(first.commits).toBeGreaterThan(0);
    expect((await lakeRows(warehouse, COLUMNS, 'orders', storage)).length).toBe(240);
    expect(await lakeRows(warehouse, COLUMNS, 'orders', storage)).toEqual(await sourceRows(conn, COLUMNS));
    const afterFirst = await loadTable(storage, `${warehouse}/ods/orders`);
    expect(afterFirst.metadataFile).toMatch(/^s3:\/\/lake\/wh\/ods\/orders\/metadata\/v\d+\.metadata\.json$/);
    expect(await changelogRows(warehouse, storage)).toHaveLength(240);
    const plan = await planPipeline(config);
    expect(plan.targets.map((t) => [t.path, t.exists])).toEqual([['s3://lake/wh/ods/orders', true]]);
    expect(plan.resumeFrom).not.toBeNull();

    // Binlog changes: inserts, updates, deletes in every shard.
    for (const s of [0, 1, 2, 3]) {
      await conn.query(`INSERT INTO app.order_${s} (id, customer, amount, created) VALUES (1000, 'x${s}', 1.00, '2024-02-01 00:00:00.000')`);
      await conn.query(`UPDATE app.order_${s} SET amount = amount + 10 WHERE id % 7 = 0`);
      await conn.query(`DELETE FROM app.order_${s} WHERE id % 11 = 0`);
    }
    const [counted] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM app.order_0 WHERE id % 7 = 0');
    const updated = Number(counted[0]!.n);
    const second = await runPipeline({ config, untilCaughtUp: true });
    expect(second.commits).toBeGreaterThan(0);
    const lakeNow = await lakeRows(warehouse, COLUMNS, 'orders', storage);
    expect(lakeNow).toEqual(await sourceRows(conn, COLUMNS));
    // Exactly once: the changelog holds the snapshot's 240 inserts and each binlog change once
    // (4 inserts, the updates, 5 deletes per shard of 60 rows), nothing re-read.
    const log = await changelogRows(warehouse, storage);
    expect(log).toHaveLength(240 + 4 + 4 * updated + 4 * 5);

    // A third run with nothing new commits nothing and changes no row.
    const before = await loadTable(storage, `${warehouse}/ods/orders`);
    const third = await runPipeline({ config, untilCaughtUp: true });
    expect(third.commits).toBe(0);
    expect((await loadTable(storage, `${warehouse}/ods/orders`)).metadataFile).toBe(before.metadataFile);
  }, 180_000);

  it('refuses a store that ignores If-None-Match, naming it, and publishes no table', async () => {
    // s3rver itself, without the proxy: a second create of the same key succeeds there.
    const config = configFor('s3://lake/unsafe', lake.s3.endpoint, 'unsafe');
    await expect(runPipeline({ config, untilCaughtUp: true })).rejects.toMatchObject({
      code: 'Unsupported',
      message: expect.stringContaining(`S3 ${lake.s3.endpoint} does not honour conditional PUT (If-None-Match: *) for s3://lake/unsafe/ods/orders/metadata/v1.metadata.json`),
    });
    const keys = (await lake.storage().listRecursive('s3://lake/unsafe')).map((o) => o.path);
    expect(keys.filter((k) => k.endsWith('.metadata.json'))).toEqual([]);
  }, 60_000);
});
