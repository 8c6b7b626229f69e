import { describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import type { PrivateMariaDb } from '../support/mariadb';
import { createMySqlSource } from '../../core/cdc/index';
import { serverBound } from '../../core/cdc/snapshot/phase';
import { SNAPSHOT_WINDOW_BATCH_ROWS } from '../../core/cdc/snapshot/chunk-windows';
import type { Row, SourceRecord } from '../../core/cdc/types';
import { applyEvents, changeEvents, collectUntil, sourceConfig, usePrivateMariaDb, waitFor } from './helpers';

const ROWS = 6000;
const CHUNK = 500;

/** A small deterministic PRNG so a failing run can be replayed by its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Inserts, updates (some moving the key) and deletes across the whole key range until stopped. */
function startWriter(db: PrivateMariaDb, table: string, seed: number) {
  let stop = false;
  let ops = 0;
  const rand = rng(seed);
  const done = (async () => {
    const conn = await mysql.createConnection(db.rootConfig());
    let nextId = ROWS + 1;
    try {
      while (!stop) {
        const r = rand();
        const id = 1 + Math.floor(rand() * (ROWS + 200));
        if (r < 0.35) await conn.query(`INSERT IGNORE INTO app.${table} VALUES (?, ?, ?)`, [nextId++, `ins-${ops}`, ops]);
        else if (r < 0.7) await conn.query(`UPDATE app.${table} SET v = ?, n = n + 1 WHERE id = ?`, [`upd-${ops}`, id]);
        else if (r < 0.8) await conn.query(`UPDATE IGNORE app.${table} SET id = ? WHERE id = ?`, [nextId++, id]);
        else if (r < 0.9) await conn.query(`DELETE FROM app.${table} WHERE id = ?`, [id]);
        else {
          // A multi-row transaction spanning several chunks.
          await conn.query('BEGIN');
          await conn.query(`UPDATE app.${table} SET n = n + 100 WHERE id IN (?, ?, ?)`, [id, (id * 7) % ROWS, (id * 13) % ROWS]);
          await conn.query('COMMIT');
        }
        ops++;
      }
    } finally {
      await conn.end();
    }
  })();
  return {
    get ops() {
      return ops;
    },
    async stop() {
      stop = true;
      await done;
    },
  };
}

async function tableState(root: mysql.Connection, table: string): Promise<Map<string, Row>> {
  const [rows] = await root.query<mysql.RowDataPacket[]>({ sql: `SELECT id, v, n FROM app.${table}`, supportBigNumbers: true, bigNumberStrings: true });
  return new Map(rows.map((r) => [String(r.id), { id: Number(r.id), v: r.v as string, n: BigInt(r.n) }]));
}

async function fillTable(root: mysql.Connection, table: string): Promise<void> {
  await root.query(`CREATE TABLE app.${table} (id INT PRIMARY KEY, v VARCHAR(40), n BIGINT NOT NULL)`);
  const values = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 'v${i + 1}', ${i + 1})`);
  await root.query(`INSERT INTO app.${table} VALUES ${values.join(',')}`);
}

describe('snapshot phase (private MariaDB)', () => {
  const server = usePrivateMariaDb(['CREATE DATABASE app']);

  // The last variant is MySQL 5.7's path: high watermarks, and the binlog rows folded into chunks
  // decoded with the schema history's columns (rowMetadata schema-history; FULL metadata ignored).
  // Chunks of 1500 rows in windows are handed on in batches of SNAPSHOT_WINDOW_BATCH_ROWS (1024).
  for (const [watermark, windows, rowMetadata, chunk] of [
    ['auto', 'never', 'auto', CHUNK],
    ['auto', 'always', 'auto', CHUNK],
    ['auto', 'always', 'auto', 1500],
    ['high-watermark', 'never', 'auto', CHUNK],
    ['high-watermark', 'never', 'schema-history', CHUNK],
  ] as const) {
    it(`concurrent writer during a ${ROWS / chunk}-chunk snapshot: stream applied to a map equals the table (${watermark}, windows ${windows}, row metadata ${rowMetadata})`, async () => {
      const table = `w_${watermark.replace('-', '_')}_${windows}_${rowMetadata.replace('-', '_')}_${chunk}`;
      await fillTable(server.root, table);
      const writer = startWriter(server.db, table, watermark === 'auto' ? 1 : 2);
      await waitFor(async () => writer.ops >= 20, 'the writer to get going');
      // Writes placed exactly between each chunk's SELECT and its watermark: the window whose
      // changes must be folded into the chunk (high-watermark) or come after it (exact snapshot).
      const hookConn = await mysql.createConnection(server.db.rootConfig());
      let hookWrites = 0;
      const afterChunkSelect = async (_t: unknown, lastKey: unknown) => {
        const base = Number(lastKey ?? 0n);
        await hookConn.query(`UPDATE app.${table} SET v = 'hook', n = n + 1000 WHERE id = ?`, [base + 5]);
        await hookConn.query(`DELETE FROM app.${table} WHERE id = ?`, [base + 7]);
        await hookConn.query(`INSERT IGNORE INTO app.${table} VALUES (?, 'reborn', 7)`, [base + 7]);
        await hookConn.query(`UPDATE IGNORE app.${table} SET id = ? WHERE id = ?`, [base + 400_000, base + 9]);
        hookWrites++;
      };
      const source = createMySqlSource(
        sourceConfig(server.db, { tables: [`app\\.${table}`], chunkSize: chunk, snapshotWatermark: watermark, snapshotWindows: windows, rowMetadata, afterChunkSelect }),
      );
      const it = source.start();
      const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
      const opsDuringSnapshot = writer.ops;
      await writer.stop();
      await server.root.query(`INSERT INTO app.${table} VALUES (999999, 'end', 0)`);
      await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs);
      await source.stop();
      await hookConn.end();
      const batch = windows === 'always' ? Math.min(chunk, SNAPSHOT_WINDOW_BATCH_ROWS) : chunk;
      expect(hookWrites).toBeGreaterThanOrEqual(Math.floor(ROWS / batch));

      const state = new Map<string, Row>();
      applyEvents(state, changeEvents(rs)); // throws on any duplicate insert or update/delete of a missing key
      expect(state).toEqual(await tableState(server.root, table));
      // The writer really overlapped the snapshot, and the stream interleaved binlog changes with chunks.
      expect(opsDuringSnapshot).toBeGreaterThan(20);
      const snapshotPart = rs.slice(0, rs.findIndex((r) => r.kind === 'snapshot-complete'));
      const reads = changeEvents(snapshotPart).filter((e) => e.op === 'r').length;
      // Rows are handed on a chunk (or, in windows, a batch) at a time: with exact watermarks, whole
      // ones come out at that size (high watermarks fold the window's changes into the chunk).
      const readBatches = snapshotPart.flatMap((r) => (r.kind === 'transaction' && r.batch.events[0]?.op === 'r' ? [r.batch.events.length] : []));
      if (watermark === 'auto') expect(readBatches.filter((n) => n === batch).length).toBeGreaterThanOrEqual(2);
      expect(reads).toBeGreaterThan(ROWS * 0.9);
      const progress = rs.flatMap((r) => (r.kind === 'snapshot-progress' ? [r.progress] : []));
      expect(progress.length).toBeGreaterThanOrEqual(Math.floor(ROWS / batch));
      expect(progress.at(-1)).toMatchObject({ table: { db: 'app', table }, done: true, rowsDone: reads, etaMs: 0 });
      expect(progress[0]!.rowsEstimated).toBeGreaterThan(0);
    });
  }

  it('switches a table to windows once the event loop sat idle waiting for chunks more than 12% of the time, from the 64th chunk', () => {
    expect(serverBound(63, 90, 100)).toBe(false);
    expect(serverBound(64, 13, 100)).toBe(true);
    expect(serverBound(64, 11, 100)).toBe(false);
    expect(serverBound(600, 4, 100)).toBe(false);
  });

  it('a server slower than the client (each chunk query held 25 ms): auto switches to windows after 64 chunks; the stream still equals the table', async () => {
    const table = 'slow';
    await fillTable(server.root, table);
    const writer = startWriter(server.db, table, 6);
    await waitFor(async () => writer.ops >= 20, 'the writer to get going');
    const reads: string[] = [];
    const afterChunkSelect = async (_t: unknown, _lastKey: unknown, read: 'query' | 'window') => {
      reads.push(read);
      if (read === 'query') await new Promise((r) => setTimeout(r, 25));
    };
    const source = createMySqlSource(sourceConfig(server.db, { tables: [`app\\.${table}`], chunkSize: 40, snapshotWindows: 'auto', afterChunkSelect }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
    await writer.stop();
    await server.root.query(`INSERT INTO app.${table} VALUES (999999, 'end', 0)`);
    await collectUntil(it, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs);
    await source.stop();
    // 64 chunks by query, the one read ahead of the switch, then windows to the end.
    expect(reads.slice(0, 65)).toEqual(Array(65).fill('query'));
    expect(reads.slice(65).length).toBeGreaterThan(50);
    expect(reads.slice(65).every((r) => r === 'window')).toBe(true);
    const state = new Map<string, Row>();
    applyEvents(state, changeEvents(rs));
    expect(state).toEqual(await tableState(server.root, table));
  });

  it('several tables: changes to tables already snapshotted are emitted, to later ones folded into their snapshot', async () => {
    await fillTable(server.root, 'm1');
    await fillTable(server.root, 'm2');
    const w1 = startWriter(server.db, 'm1', 4);
    const w2 = startWriter(server.db, 'm2', 5);
    await waitFor(async () => w1.ops >= 20 && w2.ops >= 20, 'the writers to get going');
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.m[12]'], chunkSize: CHUNK * 2 }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
    await w1.stop();
    await w2.stop();
    await server.root.query("INSERT INTO app.m1 VALUES (999999, 'end', 0)");
    await server.root.query("INSERT INTO app.m2 VALUES (999999, 'end', 0)");
    await collectUntil(it, (all) => changeEvents(all).filter((e) => e.after?.id === 999999).length === 2, 20_000, rs);
    await source.stop();
    for (const table of ['m1', 'm2']) {
      const state = new Map<string, Row>();
      applyEvents(state, changeEvents(rs).filter((e) => e.table.table === table));
      expect(state).toEqual(await tableState(server.root, table));
    }
    // m1 was snapshotted first: its binlog changes show up while m2's chunks are still being read.
    const firstM2Read = rs.findIndex((r) => r.kind === 'transaction' && r.batch.events[0]!.op === 'r' && r.batch.events[0]!.table.table === 'm2');
    const m1ChangesDuringM2 = changeEvents(rs.slice(firstM2Read, rs.findIndex((r) => r.kind === 'snapshot-complete'))).filter((e) => e.table.table === 'm1' && e.op !== 'r');
    expect(m1ChangesDuringM2.length).toBeGreaterThan(0);
  });

  for (const [windows, rowMetadata] of [
    ['never', 'auto'],
    ['always', 'auto'],
    ['never', 'schema-history'],
  ] as const) {
    it(`resumes an interrupted snapshot at chunk granularity: no row lost or repeated (windows ${windows}, row metadata ${rowMetadata})`, async () => {
      const table = `resume_${windows}_${rowMetadata.replace('-', '_')}`;
      await fillTable(server.root, table);
      const writer = startWriter(server.db, table, 3);
      await waitFor(async () => writer.ops >= 20, 'the writer to get going');
      const first = createMySqlSource(sourceConfig(server.db, { tables: [`app\\.${table}`], chunkSize: CHUNK, snapshotWindows: windows, rowMetadata }));
      const it = first.start();
      // Commit point: the offset after the third chunk batch.
      const rs1 = await collectUntil(it, (all) => all.filter((r) => r.kind === 'transaction' && r.batch.events[0]!.op === 'r').length >= 3);
      await first.stop();
      const cut = rs1.findLastIndex((r) => r.kind === 'transaction' && r.batch.events[0]!.op === 'r');
      const committed = rs1.slice(0, cut + 1);
      const offset = (committed[cut] as Extract<SourceRecord, { kind: 'transaction' }>).batch.endOffset;
      expect(offset.snapshot).toMatchObject({ tableIndex: 0, lastKey: expect.any(String) });

      const second = createMySqlSource(sourceConfig(server.db, { tables: [`app\\.${table}`], chunkSize: CHUNK, snapshotWindows: windows, rowMetadata }));
      const it2 = second.start(offset);
      const rs2 = await collectUntil(it2, (all) => all.some((r) => r.kind === 'snapshot-complete'), 60_000);
      await writer.stop();
      await server.root.query(`INSERT INTO app.${table} VALUES (999999, 'end', 0)`);
      await collectUntil(it2, (all) => changeEvents(all).some((e) => e.after?.id === 999999), 20_000, rs2);
      await second.stop();

      const state = new Map<string, Row>();
      applyEvents(state, changeEvents(committed));
      applyEvents(state, changeEvents(rs2));
      expect(state).toEqual(await tableState(server.root, table));
    });
  }

  it('a composite key chunked by a repeating column: no key value straddles two chunks', async () => {
    await server.root.query('CREATE TABLE app.comp (tenant INT, id INT, v INT, PRIMARY KEY (tenant, id))');
    // 40 tenants × 25 rows; chunks of 60 rows would cut tenants in half if bounded by row count.
    await server.root.query('INSERT INTO app.comp SELECT seq DIV 25, seq MOD 25, seq FROM app.seq_0_to_999');
    const source = createMySqlSource(
      sourceConfig(server.db, { tables: ['app\\.comp'], chunkSize: 60, chunkKeyColumns: { 'app.comp': 'tenant' }, startupMode: { mode: 'snapshot' } }),
    );
    const all: SourceRecord[] = [];
    for await (const r of source.start()) all.push(r);
    const batches = all.flatMap((r) => (r.kind === 'transaction' ? [r.batch] : []));
    const keys = changeEvents(all).map((e) => `${e.after!.tenant}/${e.after!.id}`);
    expect(new Set(keys).size).toBe(1000);
    expect(keys.length).toBe(1000);
    // Each chunk holds whole tenants: 60 rows reach into a third tenant, so chunks are 3 tenants (75 rows).
    for (const b of batches) {
      const tenants = new Set(b.events.map((e) => e.after!.tenant));
      expect(b.events.length).toBe(tenants.size * 25);
    }
    expect(batches.map((b) => b.events.length).slice(0, 3)).toEqual([75, 75, 75]);
    expect(batches.map((b) => b.endOffset.snapshot?.lastKey ?? null).slice(0, 3)).toEqual(['2', '5', '8']);
  });

  it('startup mode snapshot ends the stream after the snapshot (a VARCHAR key)', async () => {
    await server.root.query('CREATE TABLE app.s (code VARCHAR(10) PRIMARY KEY, qty INT)');
    await server.root.query("INSERT INTO app.s VALUES ('a', 1), ('b', 2), ('c', 3)");
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.s'], startupMode: { mode: 'snapshot' } }));
    const all: SourceRecord[] = [];
    for await (const r of source.start()) all.push(r);
    expect(all.at(-1)!.kind).toBe('snapshot-complete');
    expect(changeEvents(all).map((e) => [e.op, e.after])).toEqual([
      ['r', { code: 'a', qty: 1 }],
      ['r', { code: 'b', qty: 2 }],
      ['r', { code: 'c', qty: 3 }],
    ]);
    const done = all.at(-1) as Extract<SourceRecord, { kind: 'snapshot-complete' }>;
    expect(done.offset.snapshot).toBeNull();
  });
});
