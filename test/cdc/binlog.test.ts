import { describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { createMySqlSource } from '../../core/cdc/index';
import { decodeOffset, encodeOffset, type SourceOffset } from '../../core/cdc/offset';
import type { SourceRecord, TransactionBatch } from '../../core/cdc/types';
import { changeEvents, collectUntil, sourceConfig, usePrivateMariaDb } from './helpers';

const txs = (rs: SourceRecord[]): TransactionBatch[] => rs.flatMap((r) => (r.kind === 'transaction' ? [r.batch] : []));

describe('binlog phase (private MariaDB)', () => {
  const server = usePrivateMariaDb(['CREATE DATABASE app; CREATE DATABASE other', 'CREATE TABLE app.t (id INT PRIMARY KEY, name VARCHAR(20), n BIGINT)', 'CREATE TABLE other.x (id INT PRIMARY KEY)']);

  it('emits whole committed transactions with ops, images, GTID and file:pos', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { startupMode: { mode: 'latest-offset' } }));
    const it = source.start();
    // The first record arrives once the stream is connected (a heartbeat at the latest).
    const first = await collectUntil(it, (rs) => rs.length > 0);
    await server.root.query("BEGIN; INSERT INTO app.t VALUES (1, 'a', 10), (2, 'b', 20); UPDATE app.t SET name = 'bb' WHERE id = 2; DELETE FROM app.t WHERE id = 1; COMMIT");
    await server.root.query("BEGIN; INSERT INTO app.t VALUES (9, 'rolled back', 0); ROLLBACK");
    await server.root.query('INSERT INTO other.x VALUES (1)');
    await server.root.query("INSERT INTO app.t VALUES (3, 'c', 9007199254740993)");
    const rs = await collectUntil(it, (all) => txs(all).length >= 2, 20_000, first);
    const [t1, t2] = txs(rs);
    expect(t1!.events.map((e) => [e.op, e.before, e.after])).toEqual([
      ['c', null, { id: 1, name: 'a', n: 10n }],
      ['c', null, { id: 2, name: 'b', n: 20n }],
      ['u', { id: 2, name: 'b', n: 20n }, { id: 2, name: 'bb', n: 20n }],
      ['d', { id: 1, name: 'a', n: 10n }, null],
    ]);
    expect(t1!.events.every((e) => e.table.db === 'app' && e.table.table === 't' && e.offset === t1!.endOffset)).toBe(true);
    expect(t2!.events.map((e) => e.after)).toEqual([{ id: 3, name: 'c', n: 9007199254740993n }]);
    expect(t1!.gtid).toMatch(/^0-1-\d+$/);
    expect(t1!.endOffset.file).toMatch(/^binlog\.\d{6}$/);
    expect(t2!.endOffset.pos).toBeGreaterThan(t1!.endOffset.pos);
    // The GTID set after t2 covers t2 itself (the other.x transaction sits in between).
    const seq = (g: string) => BigInt(g.split('-')[2]!);
    expect(seq(t2!.endOffset.gtidSet!)).toBe(seq(t2!.gtid!));
    expect(seq(t2!.gtid!) - seq(t1!.gtid!)).toBe(2n);
    // The server's own view agrees with the offset after the last transaction.
    const [st] = await server.root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    expect(t2!.endOffset.file).toBe(st[0]!.File);
    expect(t2!.endOffset.pos).toBe(BigInt(st[0]!.Position));
    await source.stop();
    expect((await it.next()).done).toBe(true);
  });

  it('heartbeats advance the offset while only uncaptured tables change', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { startupMode: { mode: 'latest-offset' }, heartbeatIntervalMs: 200 }));
    const it = source.start();
    await collectUntil(it, (rs) => rs.length > 0);
    await server.root.query('INSERT INTO other.x VALUES (2), (3)');
    const [st] = await server.root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const target = BigInt(st[0]!.Position);
    const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'heartbeat' && r.offset.pos >= target));
    expect(txs(rs)).toEqual([]);
    await source.stop();
  });

  it('an idle source still heartbeats: the server sends heartbeats at heartbeat.interval', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], startupMode: { mode: 'latest-offset' }, heartbeatIntervalMs: 150 }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.filter((r) => r.kind === 'heartbeat').length >= 3, 10_000);
    expect(rs.every((r) => r.kind === 'heartbeat')).toBe(true);
    const [st] = await server.root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const last = rs.at(-1) as Extract<SourceRecord, { kind: 'heartbeat' }>;
    expect([last.offset.file, last.offset.pos]).toEqual([st[0]!.File, BigInt(st[0]!.Position)]);
    await source.stop();
  });

  it('backpressure: a slow consumer pauses the binlog connection and still gets every transaction in order', async () => {
    await server.root.query('CREATE TABLE app.bp (id INT PRIMARY KEY)');
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.bp'], startupMode: { mode: 'latest-offset' }, queueHighWaterMark: 4 }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    // 300 transactions land while nobody reads: the reader must hold at most a few and pause.
    await server.root.query(Array.from({ length: 300 }, (_, i) => `INSERT INTO app.bp VALUES (${i})`).join(';'));
    await collectUntil(it, (all) => changeEvents(all).length >= 300, 30_000, rs);
    expect(changeEvents(rs).map((e) => e.after!.id)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await source.stop();
  });

  it('restarts from a saved file:pos offset and from a GTID offset without loss or repeats', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { startupMode: { mode: 'latest-offset' } }));
    const it = source.start();
    await collectUntil(it, (rs) => rs.length > 0);
    for (let i = 100; i < 110; i++) await server.root.query(`INSERT INTO app.t VALUES (${i}, 'r${i}', ${i})`);
    const rs = await collectUntil(it, (all) => txs(all).length >= 10);
    await source.stop();
    const saved: SourceOffset = decodeOffset(encodeOffset(txs(rs)[4]!.endOffset)); // after id 104
    for (let i = 110; i < 115; i++) await server.root.query(`INSERT INTO app.t VALUES (${i}, 'r${i}', ${i})`);
    const ids = (rs2: SourceRecord[]) => changeEvents(rs2).map((e) => e.after!.id);

    const again = createMySqlSource(sourceConfig(server.db));
    const it2 = again.start(saved);
    const rs2 = await collectUntil(it2, (all) => changeEvents(all).some((e) => e.after?.id === 114));
    expect(ids(rs2)).toEqual([105, 106, 107, 108, 109, 110, 111, 112, 113, 114]);
    await again.stop();

    // GTID only: the server finds the position itself.
    const byGtid = createMySqlSource(sourceConfig(server.db, { startupMode: { mode: 'specific-offset', gtidSet: saved.gtidSet! } }));
    const it3 = byGtid.start();
    const rs3 = await collectUntil(it3, (all) => changeEvents(all).some((e) => e.after?.id === 114));
    expect(ids(rs3)).toEqual([105, 106, 107, 108, 109, 110, 111, 112, 113, 114]);
    // Offsets from a GTID start still carry file:pos, equal to those of the file:pos run.
    expect(txs(rs3).at(-1)!.endOffset.pos).toBe(txs(rs2).at(-1)!.endOffset.pos);
    expect(txs(rs3).at(-1)!.endOffset.gtidSet).toBe(txs(rs2).at(-1)!.endOffset.gtidSet);
    await byGtid.stop();
  });

  it('earliest-offset replays history; timestamp starts at the first transaction at or after it', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], startupMode: { mode: 'earliest-offset' } }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 114));
    const firstIds = changeEvents(rs).filter((e) => e.op === 'c').map((e) => e.after!.id);
    expect(firstIds.slice(0, 2)).toEqual([1, 2]);
    // CREATE TABLE app.t is in the history: it comes out as a schema change before the rows.
    const firstSchema = rs.findIndex((r) => r.kind === 'schema-change');
    expect(firstSchema).toBeGreaterThanOrEqual(0);
    expect(firstSchema).toBeLessThan(rs.findIndex((r) => r.kind === 'transaction'));
    const t110 = txs(rs).find((b) => b.events[0]!.after?.id === 110)!;
    await source.stop();

    const byTime = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.t'], startupMode: { mode: 'timestamp', timestampMs: t110.commitTsMs } }));
    const it2 = byTime.start();
    const rs2 = await collectUntil(it2, (all) => changeEvents(all).some((e) => e.after?.id === 114));
    const got = changeEvents(rs2).map((e) => e.after!.id);
    // Binlog timestamps have 1 s resolution: everything from that second on, never anything earlier.
    expect(got.at(-1)).toBe(114);
    expect(got.every((id) => Number(id) >= 100 || Number(id) === 3)).toBe(true);
    expect(txs(rs2).every((b) => b.commitTsMs >= t110.commitTsMs)).toBe(true);
    await byTime.stop();
  });

  it('hands out a large transaction in parts after its commit: in order, each but the last partial, all with its end offset; a small one stays one batch', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { startupMode: { mode: 'latest-offset' } }));
    const it = source.start();
    const first = await collectUntil(it, (rs) => rs.length > 0);
    // ~1 MB of rows events (TRANSACTION_PART_BYTES is 16 KiB), then updates and deletes of the same rows.
    const rows = Array.from({ length: 30_000 }, (_, i) => `(${10_000 + i}, 'big-${i}', ${i})`);
    await server.root.query(`BEGIN; INSERT INTO app.t VALUES ${rows.join(',')}; UPDATE app.t SET n = n + 1 WHERE id >= 10000 AND id < 10100; DELETE FROM app.t WHERE id >= 39990 AND id < 40000; COMMIT`);
    await server.root.query("INSERT INTO app.t VALUES (99999, 'small', 1)");
    const rs = await collectUntil(it, (all) => txs(all).some((b) => b.events.some((e) => e.after?.id === 99999)), 30_000, first);
    const batches = txs(rs);
    const big = batches.filter((b) => b.events.some((e) => e.table.table === 't' && Number(e.after?.id ?? e.before?.id) >= 10_000 && Number(e.after?.id ?? e.before?.id) < 99_999));
    expect(big.length).toBeGreaterThanOrEqual(3);
    expect(big.slice(0, -1).every((b) => b.partial === true)).toBe(true);
    expect(big.at(-1)!.partial).toBeUndefined();
    expect(new Set(big.map((b) => `${b.endOffset.file}:${b.endOffset.pos}:${b.gtid}`)).size).toBe(1);
    const events = big.flatMap((b) => b.events);
    expect(events.length).toBe(30_000 + 100 + 10);
    expect(events.slice(0, 30_000).map((e) => e.after!.id)).toEqual(rows.map((_, i) => 10_000 + i));
    expect(events.slice(30_000, 30_100).map((e) => [e.op, e.before!.n, e.after!.n])).toEqual(Array.from({ length: 100 }, (_, i) => ['u', BigInt(i), BigInt(i + 1)]));
    expect(events.slice(30_100).map((e) => [e.op, e.before!.id])).toEqual(Array.from({ length: 10 }, (_, i) => ['d', 39_990 + i]));
    expect(events.every((e) => e.offset === big.at(-1)!.endOffset)).toBe(true);
    const small = batches.find((b) => b.events.some((e) => e.after?.id === 99999))!;
    expect(small.partial).toBeUndefined();
    expect(small.events.length).toBe(1);
    await source.stop();
  });
});
