import { describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { findFreePort } from '../support/mariadb';
import { createMySqlSource } from '../../core/cdc/index';
import type { SourceOffset } from '../../core/cdc/offset';
import type { SourceRecord } from '../../core/cdc/types';
import { changeEvents, collectUntil, rootConnection, sourceConfig, usePrivateMariaDb, waitFor } from './helpers';

const ids = (rs: SourceRecord[]) => changeEvents(rs).map((e) => Number(e.after!.id));

describe('faults (private MariaDB)', () => {
  const server = usePrivateMariaDb(['CREATE DATABASE app', 'CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))']);

  it('a server restart mid-stream: the stream reconnects by itself and misses or repeats nothing', { timeout: 150_000 }, async () => {
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], startupMode: { mode: 'latest-offset' }, heartbeatIntervalMs: 300 }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    for (let i = 1; i <= 5; i++) await server.root.query('INSERT INTO app.t VALUES (?, ?)', [i, `before-${i}`]);
    await collectUntil(it, (all) => ids(all).includes(5), 20_000, rs);
    await server.root.end();
    await server.db.restart();
    server.root = await rootConnection(server.db);
    for (let i = 6; i <= 10; i++) await server.root.query('INSERT INTO app.t VALUES (?, ?)', [i, `after-${i}`]);
    await collectUntil(it, (all) => ids(all).includes(10), 30_000, rs);

    // A hard kill (SIGKILL) while a writer keeps inserting: every committed row arrives once.
    let stop = false;
    let next = 11;
    const writer = (async () => {
      while (!stop) {
        try {
          const c = await mysql.createConnection(server.db.rootConfig());
          try {
            while (!stop) {
              // IGNORE: an insert whose commit survived the kill but whose reply was lost is retried.
              await c.query('INSERT IGNORE INTO app.t VALUES (?, ?)', [next, `w-${next}`]);
              next++;
            }
          } finally {
            // end() would wait for a reply the killed server never sends.
            c.destroy();
          }
        } catch {
          // The server is down for a moment: try again until it is back.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    await waitFor(async () => next > 60, 'writes before the kill');
    await server.root.end();
    await server.db.restart({ kill: true });
    server.root = await rootConnection(server.db);
    await waitFor(async () => next > 120, 'writes after the restart', 60_000);
    stop = true;
    await writer;
    await server.root.query("INSERT INTO app.t VALUES (1000000, 'end')");
    await collectUntil(it, (all) => ids(all).includes(1000000), 60_000, rs);
    await source.stop();

    const [rows] = await server.root.query<mysql.RowDataPacket[]>('SELECT id FROM app.t ORDER BY id');
    expect(ids(rs)).toEqual(rows.map((r) => Number(r.id)));
    expect(source.reconnects).toBeGreaterThanOrEqual(2);
  });

  it('a purged binlog is SourceUnavailable naming the missing file and asking for a re-snapshot', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], startupMode: { mode: 'latest-offset' } }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    await server.root.query("INSERT INTO app.t VALUES (2000000, 'p')");
    await collectUntil(it, (all) => ids(all).includes(2000000), 20_000, rs);
    await source.stop();
    const offset = rs.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : [])).at(-1)! as SourceOffset;
    await server.root.query('FLUSH BINARY LOGS');
    const [st] = await server.root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    // The server keeps a file while a (just killed) dump thread or crash recovery still holds it:
    // purge until it is really gone.
    await waitFor(async () => {
      await server.root.query(`PURGE BINARY LOGS TO '${st[0]!.File}'`);
      const [logs] = await server.root.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
      return logs.length === 1;
    }, 'the old binlogs to be purged');

    const again = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'] }));
    await expect(again.start(offset).next()).rejects.toThrowError(
      expect.objectContaining({
        code: 'SourceUnavailable',
        message: `binlog file ${offset.file} needed to resume at ${offset.file}:${offset.pos} is no longer on 127.0.0.1:${server.db.port} (purged; oldest is ${st[0]!.File}): a re-snapshot is needed (startup mode initial)`,
      }),
    );
    // The same through a GTID start, where the server itself reports the gap.
    const byGtid = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], startupMode: { mode: 'specific-offset', gtidSet: '0-1-1' } }));
    await expect(collectUntil(byGtid.start(), () => false)).rejects.toThrowError(
      expect.objectContaining({ code: 'SourceUnavailable', message: expect.stringMatching(/GTID 0-1-1 is no longer on .*a re-snapshot is needed/) }),
    );
    await byGtid.stop();
  });

  it('wrong password, unreachable host and a missing privilege are clear errors naming host and user, never the password', async () => {
    const wrong = createMySqlSource(sourceConfig(server.db, { password: 'not-the-password' }));
    const e1 = await wrong.preflight().catch((e: unknown) => e as Error & { code: string });
    expect(e1).toMatchObject({ code: 'InvalidInput', message: `preflight: access denied for cdc@127.0.0.1:${server.db.port}: wrong username or password` });
    expect(JSON.stringify(e1) + (e1 as Error).message).not.toContain('not-the-password');

    const port = await findFreePort();
    const away = createMySqlSource(sourceConfig(server.db, { port }));
    await expect(away.start().next()).rejects.toThrowError(
      expect.objectContaining({ code: 'SourceUnavailable', message: `source start: cannot reach 127.0.0.1:${port} as cdc (ECONNREFUSED) (3 attempts, connect.max-retries 3)` }),
    );

    await server.root.query("CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY 'weak-pw'; GRANT SELECT ON *.* TO 'weak'@'127.0.0.1'");
    const weak = createMySqlSource(sourceConfig(server.db, { username: 'weak', password: 'weak-pw' }));
    const report = await weak.preflight();
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'privileges')!.message).toBe(
      `privileges: weak@127.0.0.1:${server.db.port} lacks REPLICATION SLAVE, BINLOG MONITOR ON *.*; GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'weak'@'…'`,
    );
    await expect(weak.start().next()).rejects.toThrowError(expect.objectContaining({ code: 'InvalidInput', message: expect.stringContaining('lacks REPLICATION SLAVE, BINLOG MONITOR') }));
  });
});
