import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { createMySqlSource } from '../../core/cdc/index';
import { decodeOffset, encodeOffset, type SourceOffset } from '../../core/cdc/offset';
import { parseXaStatement } from '../../core/cdc/flavor';
import type { Row, SourceRecord } from '../../core/cdc/types';
import { applyEvents, changeEvents, collectUntil, rootConnection, sourceConfig } from './helpers';

/** One line per row change: `op id v`, in stream order. */
const rows = (rs: SourceRecord[]): string[] =>
  rs.flatMap((r) => (r.kind === 'transaction' ? r.batch.events.map((e) => `${e.op} ${(e.after ?? e.before)!.id} ${(e.after ?? e.before)!.v}`) : []));

/**
 * XA transactions as MariaDB 10.11 logs them: the prepared group (rows, XA END, XA_PREPARE) sits
 * in the binlog before transactions that commit earlier; its outcome (XA COMMIT / XA ROLLBACK) is a
 * later group of its own. The source emits the rows at the XA COMMIT and drops them on rollback.
 */
describe('XA transactions (private MariaDB)', () => {
  let db: PrivateMariaDb;
  let root: mysql.Connection;
  let xa: mysql.Connection;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    root = await rootConnection(db);
    xa = await rootConnection(db);
    await root.query('CREATE DATABASE app; CREATE DATABASE other');
    await root.query('CREATE TABLE app.t (id INT PRIMARY KEY, v INT)');
    await root.query('CREATE TABLE other.u (id INT PRIMARY KEY)');
  });
  afterAll(async () => {
    await xa?.end();
    await root?.end();
    await db?.stop();
  });

  it('parses the XA statements both servers log', () => {
    expect(parseXaStatement("XA COMMIT X'7831',X'',1")).toEqual({ verb: 'commit', xid: '1:7831:', onePhase: false });
    expect(parseXaStatement("XA ROLLBACK X'7833',X'62',7")).toEqual({ verb: 'rollback', xid: '7:7833:62', onePhase: false });
    expect(parseXaStatement("XA COMMIT 'x3','b',7 ONE PHASE")).toEqual({ verb: 'commit', xid: '7:7833:62', onePhase: true });
    expect(parseXaStatement("XA START X'7831'")).toEqual({ verb: 'start', xid: '1:7831:', onePhase: false });
    expect(parseXaStatement('XA RECOVER')).toBeNull();
  });

  it('emits an XA transaction at its XA COMMIT, drops it on XA ROLLBACK, and resumes mid-XA without loss or repeats', async () => {
    const config = sourceConfig(db, { startupMode: { mode: 'latest-offset' } });
    const source = createMySqlSource(config);
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    // x1 prepared first, a plain transaction commits meanwhile, then x1 commits: x1's rows come after it.
    await xa.query("XA START 'x1'; INSERT INTO app.t VALUES (1, 1), (2, 2); XA END 'x1'; XA PREPARE 'x1'");
    await root.query('INSERT INTO app.t VALUES (100, 100)');
    await collectUntil(it, (all) => rows(all).length >= 1, 20_000, rs);
    // The offset after the plain transaction holds x1 as prepared and unfinished.
    const mid = rs.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : [])).at(-1)!;
    expect(mid.preparedXa?.map((x) => x.xid)).toEqual(['1:7831:']);
    await xa.query("XA COMMIT 'x1'");
    // Prepared then rolled back: nothing. Rolled back before PREPARE: not even logged.
    await xa.query("XA START 'x2'; INSERT INTO app.t VALUES (3, 3); XA END 'x2'; XA PREPARE 'x2'; XA ROLLBACK 'x2'");
    await xa.query("XA START 'x5'; INSERT INTO app.t VALUES (5, 5); XA END 'x5'; XA ROLLBACK 'x5'");
    // XA on an uncaptured table only moves the position; ONE PHASE is logged as a plain transaction.
    await xa.query("XA START 'x6'; INSERT INTO other.u VALUES (1); XA END 'x6'; XA PREPARE 'x6'; XA COMMIT 'x6'");
    await xa.query("XA START 'x3','b',7; UPDATE app.t SET v = 33 WHERE id = 1; XA END 'x3','b',7; XA COMMIT 'x3','b',7 ONE PHASE");
    await root.query('INSERT INTO app.t VALUES (200, 200)');
    await collectUntil(it, (all) => rows(all).length >= 5, 20_000, rs);
    await source.stop();
    expect(rows(rs)).toEqual(['c 100 100', 'c 1 1', 'c 2 2', 'u 1 33', 'c 200 200']);
    const last = rs.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : [])).at(-1)!;
    expect(last.preparedXa).toBeUndefined();

    // Restart from the offset taken between x1's PREPARE and its COMMIT (through its JSON form):
    // x1's rows are collected again from before the offset, and nothing before the offset repeats.
    const restored: SourceOffset = decodeOffset(encodeOffset(mid));
    expect(restored.preparedXa).toEqual(mid.preparedXa);
    const again = createMySqlSource({ ...config, serverId: config.serverId + 1000 });
    const it2 = again.start(restored);
    const rs2 = await collectUntil(it2, (all) => rows(all).length >= 4);
    await again.stop();
    expect(rows(rs2)).toEqual(['c 1 1', 'c 2 2', 'u 1 33', 'c 200 200']);
    const [st] = await root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const end = rs2.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : [])).at(-1)!;
    expect(end.pos).toBe(BigInt(st[0]!.Position));
    // The GTID set after the replay counts the XA COMMIT group too (same as the first run).
    expect(end.gtidSet).toBe(last.gtidSet);
  });

  it('an XA transaction prepared before a restart and committed after it is emitted once, at its commit', async () => {
    const config = sourceConfig(db, { startupMode: { mode: 'latest-offset' } });
    const source = createMySqlSource(config);
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    await xa.query("XA START 'y1'; DELETE FROM app.t WHERE id = 100; XA END 'y1'; XA PREPARE 'y1'");
    await root.query('INSERT INTO app.t VALUES (300, 300)');
    await collectUntil(it, (all) => rows(all).length >= 1, 20_000, rs);
    await source.stop();
    const offset = rs.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : [])).at(-1)!;
    expect(offset.preparedXa).toHaveLength(1);
    // The source is down while y1 commits and more work happens.
    await xa.query("XA COMMIT 'y1'");
    await root.query('INSERT INTO app.t VALUES (301, 301)');
    const again = createMySqlSource({ ...config, serverId: config.serverId + 2000 });
    const it2 = again.start(decodeOffset(encodeOffset(offset)));
    const rs2 = await collectUntil(it2, (all) => rows(all).length >= 2);
    await again.stop();
    expect(rows(rs).concat(rows(rs2))).toEqual(['c 300 300', 'd 100 100', 'c 301 301']);
  });

  for (const watermark of ['auto', 'high-watermark'] as const) {
    it(`XA transactions prepared and finished across chunk windows of a snapshot: the stream applied to a map equals the table (${watermark})`, async () => {
      const table = `s_${watermark.replace('-', '_')}`;
      await root.query(`CREATE TABLE app.${table} (id INT PRIMARY KEY, v INT)`);
      await root.query(`INSERT INTO app.${table} VALUES ${Array.from({ length: 100 }, (_, i) => `(${i + 1}, ${i + 1})`).join(',')}`);
      // Each chunk window: one XA prepared on its own connection, touching this chunk and later
      // ones; the previous window's XA commits (odd chunks) or rolls back (even chunks).
      const open: { conn: mysql.Connection; xid: string; n: number }[] = [];
      let n = 0;
      const afterChunkSelect = async (_t: unknown, lastKey: unknown) => {
        const base = Number(lastKey ?? 0n);
        const prev = open.shift();
        if (prev) await prev.conn.query(`XA ${prev.n % 2 ? 'COMMIT' : 'ROLLBACK'} '${prev.xid}'`);
        n++;
        const c = await rootConnection(db);
        const xid = `${table}-${n}`;
        await c.query(`XA START '${xid}'; UPDATE app.${table} SET v = v + 1000 WHERE id IN (${base + 1}, ${base + 15}, ${base + 40}); INSERT INTO app.${table} VALUES (${5000 + n}, ${n}); DELETE FROM app.${table} WHERE id = ${base + 3}; XA END '${xid}'; XA PREPARE '${xid}'`);
        open.push({ conn: c, xid, n });
      };
      const source = createMySqlSource(sourceConfig(db, { tables: [`app\\.${table}`], chunkSize: 10, snapshotWatermark: watermark, afterChunkSelect }));
      const it = source.start();
      const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
      for (const o of open) await o.conn.query(`XA COMMIT '${o.xid}'`);
      await root.query(`INSERT INTO app.${table} VALUES (99999, 0)`);
      await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 99999), 20_000, rs);
      await source.stop();
      for (const o of open.splice(0)) await o.conn.end();
      expect(n).toBeGreaterThanOrEqual(10);
      const state = new Map<string, Row>();
      applyEvents(state, changeEvents(rs));
      const [rows] = await root.query<mysql.RowDataPacket[]>(`SELECT * FROM app.${table}`);
      expect(state).toEqual(new Map(rows.map((r) => [String(r.id), { id: r.id, v: r.v }])));
      // Rolled-back XA transactions left nothing: their inserted ids are absent.
      expect([...state.keys()].filter((k) => Number(k) > 5000 && Number(k) < 6000 && (Number(k) - 5000) % 2 === 0 && Number(k) - 5000 < n)).toEqual([]);
    });
  }
});
