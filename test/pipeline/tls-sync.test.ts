/**
 * A pipeline run end to end over TLS: a private MariaDB that refuses every session without TLS
 * (require_secure_transport=ON), a pipeline with `jdbc.properties.sslMode: VERIFY_IDENTITY` and a
 * PEM CA; the snapshot and then binlog changes land in the lake row for row.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPipelineConfig, runPipeline } from '../../core/pipeline';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { makeTestCertificates } from '../support/tls-certs';
import { createShards, lakeRows, pipelineYaml, sourceRows } from './run-helpers';

const certs = makeTestCertificates();
let db: PrivateMariaDb;
let conn: mysql.Connection;
let dir: string;

beforeAll(async () => {
  db = await startPrivateMariaDb({ extraArgs: [...certs.serverArgs('localhost'), '--require-secure-transport=ON'] });
  conn = await mysql.createConnection(db.rootConfig());
  dir = await mkdtemp(join(tmpdir(), 'tidemark-tls-sync-'));
});
afterAll(async () => {
  await conn?.end();
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  certs.remove();
});

describe('pipeline over TLS (require_secure_transport=ON)', () => {
  it('VERIFY_IDENTITY with a PEM CA: the snapshot, then inserts, updates and deletes from the binlog, reach the lake', async () => {
    await createShards(conn, 15);
    const warehouse = join(dir, 'lake');
    const tls = `heartbeat.interval: 200ms\n  jdbc.properties.sslMode: VERIFY_IDENTITY\n  jdbc.properties.trustCertificateKeyStoreUrl: ${certs.caFile}`;
    const yaml = pipelineYaml(db, { warehouse, changelog: false, name: 'tls' }).replace('heartbeat.interval: 200ms', tls);
    const { config } = loadPipelineConfig(yaml, { fileName: 'tls.yaml', env: { DB_PASS: db.password } });
    const columns = ['__table_name__', 'id', 'customer', 'amount'];

    await runPipeline({ config, untilCaughtUp: true });
    const afterSnapshot = await lakeRows(warehouse, columns);
    expect(afterSnapshot).toHaveLength(4 * 15);
    expect(afterSnapshot).toEqual(await sourceRows(conn, columns));

    await conn.query("INSERT INTO app.order_2 (customer, amount) VALUES ('over-tls', 9.50)");
    await conn.query("UPDATE app.order_0 SET customer = 'changed' WHERE id = 3");
    await conn.query('DELETE FROM app.order_3 WHERE id = 1');
    await runPipeline({ config, untilCaughtUp: true });
    const afterBinlog = await lakeRows(warehouse, columns);
    expect(afterBinlog).toEqual(await sourceRows(conn, columns));
    expect(afterBinlog.find((r) => r.customer === 'over-tls')).toMatchObject({ __table_name__: 'order_2', id: '16', amount: '9.50' });
    expect(afterBinlog.find((r) => r.__table_name__ === 'order_0' && r.id === '3')!.customer).toBe('changed');
    expect(afterBinlog).toHaveLength(4 * 15);
  });
});
