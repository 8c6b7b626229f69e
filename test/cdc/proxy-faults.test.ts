import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMySqlSource } from '../../core/cdc/index';
import type { SourceRecord } from '../../core/cdc/types';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { changeEvents, collectUntil, rootConnection, sourceConfig } from './helpers';

const ids = (rs: SourceRecord[]) => changeEvents(rs).map((e) => Number(e.after!.id));

describe('network faults between the source and the server (local TCP proxy)', () => {
  let db: PrivateMariaDb;
  let root: mysql.Connection;
  let proxy: TcpProxy;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    root = await rootConnection(db);
    await root.query('CREATE DATABASE app');
    await root.query('CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
    proxy = await startTcpProxy(db.port);
  });
  afterAll(async () => {
    await proxy?.close();
    await root?.end();
    await db?.stop();
  });

  it('dropped, slowed and stalled connections: the stream resumes by itself, every row exactly once', { timeout: 150_000 }, async () => {
    const source = createMySqlSource(sourceConfig(db, { port: proxy.port, tables: ['app\\.t'], startupMode: { mode: 'latest-offset' }, heartbeatIntervalMs: 300, connectTimeoutMs: 3000 }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    const insert = async (from: number, to: number) => {
      for (let i = from; i <= to; i++) await root.query('INSERT INTO app.t VALUES (?, ?)', [i, `v${i}`]);
    };

    await insert(1, 5);
    await collectUntil(it, (all) => ids(all).includes(5), 20_000, rs);

    // Drop: every connection through the proxy is cut mid-stream.
    const before = proxy.connections;
    proxy.dropAll();
    await insert(6, 10);
    await collectUntil(it, (all) => ids(all).includes(10), 60_000, rs);
    expect(proxy.connections).toBeGreaterThan(before);

    // Slow: every chunk delayed by 50 ms.
    proxy.setMode('slow', 50);
    await insert(11, 15);
    await collectUntil(it, (all) => ids(all).includes(15), 60_000, rs);

    // Stall: bytes held (the socket stays open) while rows are written, then released.
    proxy.setMode('stall');
    await insert(16, 20);
    proxy.setMode('pass');
    await collectUntil(it, (all) => ids(all).includes(20), 60_000, rs);

    await source.stop();
    const seen = ids(rs);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(source.reconnects).toBeGreaterThanOrEqual(1);
  });
});
