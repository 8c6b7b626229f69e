/**
 * A server whose time zone is not UTC. Its TIMESTAMP values are instants, read as UTC µs by the
 * snapshot (session time_zone '+00:00') and by the binlog (UTC seconds) alike, and DATETIME is
 * wall-clock time as written: no setting is needed for the values. server-time-zone is checked
 * against the server before the start, as Flink CDC checks it (MySqlValidator).
 */
import { describe, expect, it } from 'vitest';
import { createMySqlSource } from '../../core/cdc';
import { isTidemarkError } from '../../core/errors';
import { zoneOffsetSeconds } from '../../core/cdc/time-zone';
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

  it('checks server-time-zone against the server: a zone at its offset passes, another stops the start', async () => {
    const check = async (zone: string) => (await createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], serverTimeZone: zone })).preflight()).checks.find((c) => c.name === 'server_time_zone');
    expect(await check('+05:00')).toEqual({ name: 'server_time_zone', ok: true, message: 'server-time-zone +05:00 is UTC+05:00, as the server\'s time_zone +05:00' });
    // Pakistan has kept +05:00 all year since 2009.
    expect((await check('Asia/Karachi'))?.ok).toBe(true);
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], serverTimeZone: 'Asia/Shanghai' }));
    let error: unknown = null;
    try {
      for await (const r of source.start(null)) throw new Error(`started: ${r.kind}`);
    } catch (e) {
      error = e;
    }
    expect(isTidemarkError(error) && error.code).toBe('InvalidInput');
    expect((error as Error).message).toContain(
      "server-time-zone: Asia/Shanghai is UTC+08:00 now, but the server's time_zone +05:00 is UTC+05:00; Flink CDC refuses to start with this",
    );
  });

  it('computes zone offsets from names and fixed offsets', () => {
    const at = new Date(Date.UTC(2024, 6, 1));
    expect(['UTC', 'Z', '+08:00', 'GMT-08:00', 'UTC+5:30', 'Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'No/Where'].map((z) => zoneOffsetSeconds(z, at))).toEqual([
      0, 0, 28800, -28800, 19800, 28800, 7200, -14400, null,
    ]);
    expect(zoneOffsetSeconds('Europe/Berlin', new Date(Date.UTC(2024, 0, 1)))).toBe(3600);
  });
});
