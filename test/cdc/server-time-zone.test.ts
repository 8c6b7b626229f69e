/**
 * A server whose time zone is not UTC (why server-time-zone is accepted but not needed here): its
 * TIMESTAMP values are instants, read as UTC µs by the snapshot (session time_zone '+00:00') and
 * by the binlog (UTC seconds) alike; DATETIME is wall-clock time and stays as written.
 */
import { describe, expect, it } from 'vitest';
import { createMySqlSource } from '../../core/cdc';
import { changeEvents, collectUntil, sourceConfig, usePrivateMariaDb } from './helpers';
import type mysql from 'mysql2/promise';

describe('a server in time zone +05:00', () => {
  const server = usePrivateMariaDb(
    ['CREATE DATABASE app', 'CREATE TABLE app.t (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL, dt DATETIME(3))', "INSERT INTO app.t VALUES (1, '2024-03-01 12:00:00.250', '2024-03-01 12:00:00.250')"],
    ['--default-time-zone=+05:00'],
  );

  it('gives TIMESTAMP as the UTC instant and DATETIME as written, in the snapshot and the binlog', async () => {
    const [[zone]] = await server.root.query<mysql.RowDataPacket[]>('SELECT @@global.time_zone AS z, UNIX_TIMESTAMP(ts) AS epoch FROM app.t');
    // The server's own reading: 12:00 at +05:00 is 07:00 UTC.
    expect([zone!.z, String(zone!.epoch)]).toEqual(['+05:00', '1709276400.250']);
    expect(Date.UTC(2024, 2, 1, 7, 0, 0, 250)).toBe(1709276400250);

    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'] }));
    const it = source.start(null);
    try {
      const snap = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'));
      await server.root.query("INSERT INTO app.t VALUES (2, '2024-03-01 12:00:00.250', '2024-03-01 12:00:00.250')");
      const streamed = await collectUntil(it, (all) => changeEvents(all).length > 0);
      const values = [...changeEvents(snap), ...changeEvents(streamed)].map((e) => [e.op, e.after!.ts, e.after!.dt]);
      const instant = BigInt(Date.UTC(2024, 2, 1, 7, 0, 0, 250)) * 1000n;
      const wall = BigInt(Date.UTC(2024, 2, 1, 12, 0, 0, 250)) * 1000n;
      expect(values).toEqual([
        ['r', instant, wall],
        ['c', instant, wall],
      ]);
    } finally {
      await source.stop();
      await it.return(undefined);
    }
  });
});
