import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { createMySqlSource } from '../../core/cdc/index';
import { decodeOffset, encodeOffset } from '../../core/cdc/offset';
import type { Row, SourceRecord } from '../../core/cdc/types';
import { applyEvents, changeEvents, collectUntil, rootConnection, sourceConfig } from './helpers';

const tablesOf = (rs: SourceRecord[]) => changeEvents(rs).map((e) => `${e.op} ${e.table.table} ${(e.after ?? e.before)!.id}`);
const schemaChanges = (rs: SourceRecord[]) => rs.flatMap((r) => (r.kind === 'schema-change' ? [`${r.event.table.table}: ${r.event.changes.map((c) => c.kind).join(',')}`] : []));

async function tableRows(root: mysql.Connection, table: string): Promise<Map<string, Row>> {
  const [rows] = await root.query<mysql.RowDataPacket[]>(`SELECT * FROM ${table} ORDER BY id`);
  return new Map(rows.map((r) => [String(r.id), { ...r } as Row]));
}

/**
 * Newly added tables (Flink CDC semantics): `scan.binlog.newly-added-table.enabled` decides
 * whether a matching table created while streaming is captured from its CREATE;
 * `scan.newly-added-table.enabled` snapshots tables that newly match on a restart from an offset.
 */
describe('newly added tables (private MariaDB)', () => {
  let db: PrivateMariaDb;
  let root: mysql.Connection;
  let writer: mysql.Connection;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    root = await rootConnection(db);
    writer = await rootConnection(db);
    await root.query('CREATE DATABASE app');
    await root.query('CREATE TABLE app.a (id INT PRIMARY KEY, v VARCHAR(20))');
  });
  afterAll(async () => {
    await writer?.end();
    await root?.end();
    await db?.stop();
  });

  it('binlog phase, option off: a table created while streaming is not captured; a known table dropped and re-created is', async () => {
    const source = createMySqlSource(sourceConfig(db, { startupMode: { mode: 'latest-offset' }, binlogNewlyAddedTables: false }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    await root.query('CREATE TABLE app.n1 (id INT PRIMARY KEY)');
    await root.query('INSERT INTO app.n1 VALUES (1)');
    await root.query("BEGIN; INSERT INTO app.n1 VALUES (2); INSERT INTO app.a VALUES (1, 'a'); COMMIT");
    await root.query('CREATE TABLE app.k (id INT PRIMARY KEY)');
    await root.query('DROP TABLE app.a');
    await root.query('CREATE TABLE app.a (id INT PRIMARY KEY, v VARCHAR(20))');
    await root.query("INSERT INTO app.a VALUES (2, 'b')");
    await collectUntil(it, (all) => tablesOf(all).length >= 2, 20_000, rs);
    await source.stop();
    expect(tablesOf(rs)).toEqual(['c a 1', 'c a 2']);
    expect(schemaChanges(rs)).toEqual(['a: drop-table', 'a: create-table']);
    await root.query('DROP TABLE app.n1, app.k');
  });

  it('binlog phase, option on: a table created while streaming is captured from its CREATE', async () => {
    const source = createMySqlSource(sourceConfig(db, { startupMode: { mode: 'latest-offset' }, binlogNewlyAddedTables: true }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    await root.query('CREATE TABLE app.n2 (id INT PRIMARY KEY, w INT)');
    await root.query('INSERT INTO app.n2 VALUES (1, 10), (2, 20)');
    await root.query('UPDATE app.n2 SET w = 21 WHERE id = 2');
    await collectUntil(it, (all) => tablesOf(all).length >= 3, 20_000, rs);
    await source.stop();
    expect(schemaChanges(rs)).toEqual(['n2: create-table']);
    expect(changeEvents(rs).map((e) => [e.op, e.table.table, e.after])).toEqual([
      ['c', 'n2', { id: 1, w: 10 }],
      ['c', 'n2', { id: 2, w: 20 }],
      ['u', 'n2', { id: 2, w: 21 }],
    ]);
    await root.query('DROP TABLE app.n2');
  });

  it('restart with scan.newly-added-table.enabled: a newly matched table is snapshotted under concurrent writes, then streamed; known tables neither miss nor repeat', async () => {
    await root.query('TRUNCATE TABLE app.a');
    await root.query('CREATE TABLE app.b (id INT PRIMARY KEY, v VARCHAR(20))');
    await root.query(`INSERT INTO app.b VALUES ${Array.from({ length: 60 }, (_, i) => `(${i + 1}, 'b${i + 1}')`).join(',')}`);
    // First run captures only app.a.
    const first = createMySqlSource(sourceConfig(db, { tables: ['app\\.a'], startupMode: { mode: 'latest-offset' } }));
    const it1 = first.start();
    const rs1 = await collectUntil(it1, (all) => all.length > 0);
    await root.query("INSERT INTO app.a VALUES (1, 'a1')");
    await collectUntil(it1, (all) => changeEvents(all).length >= 1, 20_000, rs1);
    await first.stop();
    const saved = decodeOffset(encodeOffset(rs1.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : [])).at(-1)!));
    expect(saved.schemas!.map((s) => s.table.table)).toEqual(['a']);
    // While the pipeline is down: more changes to both tables (b's reach the lake through its snapshot).
    await root.query("INSERT INTO app.a VALUES (2, 'a2')");
    await root.query("UPDATE app.b SET v = 'down' WHERE id <= 3");
    await root.query('DELETE FROM app.b WHERE id = 60');
    // An ALTER of the new table after the offset: its schema (read at the restart) already has it,
    // and row images from before it must not stand in for the snapshot's rows.
    await root.query('ALTER TABLE app.b ADD COLUMN w INT NOT NULL DEFAULT 7');
    await root.query("UPDATE app.b SET w = 8 WHERE id = 4");

    // Restart with a pattern that now also matches app.b; chunks of 7 rows, writes inside chunk windows.
    let hook = 0;
    const second = createMySqlSource(
      sourceConfig(db, {
        tables: ['app\\.(a|b)'],
        scanNewlyAddedTables: true,
        binlogNewlyAddedTables: false,
        chunkSize: 7,
        afterChunkSelect: async (table, lastKey) => {
          if (table.table !== 'b') return;
          hook++;
          const k = Number(lastKey ?? 0n);
          await writer.query(`UPDATE app.b SET v = 'w${hook}' WHERE id IN (${k + 1}, ${k + 8}, ${k + 20})`);
          await writer.query(`DELETE FROM app.b WHERE id = ${k + 15}`);
          await writer.query(`INSERT INTO app.b (id, v) VALUES (${1000 + hook}, 'new${hook}')`);
          await writer.query(`INSERT INTO app.a VALUES (${100 + hook}, 'during')`);
        },
      }),
    );
    const it2 = second.start(saved);
    const rs2 = await collectUntil(it2, (all) => all.some((r) => r.kind === 'snapshot-complete'), 30_000);
    // After the snapshot: plain streaming of both tables.
    await root.query("INSERT INTO app.b (id, v) VALUES (5000, 'after')");
    await root.query("UPDATE app.a SET v = 'after' WHERE id = 1");
    await collectUntil(it2, (all) => changeEvents(all).some((e) => e.after?.id === 5000) && changeEvents(all).some((e) => e.after?.v === 'after' && e.table.table === 'a'), 20_000, rs2);
    await second.stop();

    expect(hook).toBeGreaterThan(5);
    const events = changeEvents(rs2);
    // app.b: the stream applied to an empty map equals the table (no loss, no duplicate).
    const b = new Map<string, Row>();
    applyEvents(b, events.filter((e) => e.table.table === 'b'));
    expect(b).toEqual(await tableRows(root, 'app.b'));
    // app.a: continues from the saved offset (row 1 was before it) and ends equal to the table.
    const a = new Map<string, Row>([['1', { id: 1, v: 'a1' }]]);
    applyEvents(a, events.filter((e) => e.table.table === 'a'));
    expect(a).toEqual(await tableRows(root, 'app.a'));
    expect(events.filter((e) => e.table.table === 'a')[0]).toMatchObject({ op: 'c', after: { id: 2, v: 'a2' } });
    // The new snapshot phase is round 1: its offsets order after the saved one at the same position.
    const offsets = rs2.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : []));
    expect(offsets.every((o) => o.round === 1)).toBe(true);
    expect(offsets.at(-1)!.schemas!.map((s) => s.table.table).sort()).toEqual(['a', 'b']);
    expect(rs2.filter((r) => r.kind === 'snapshot-progress').every((r) => r.kind === 'snapshot-progress' && r.progress.table.table === 'b')).toBe(true);
    // The ALTER before the restart is part of b's schema, not a schema change of the stream.
    expect(schemaChanges(rs2)).toEqual([]);
    expect(offsets.at(-1)!.schemas!.find((s) => s.table.table === 'b')!.columns.map((c) => c.name)).toEqual(['id', 'v', 'w']);
    expect(b.get('1')).toEqual({ id: 1, v: 'w1', w: 7 });
  });

  it('restart without either option: the newly matched table is not captured', async () => {
    await root.query('CREATE TABLE app.c (id INT PRIMARY KEY)');
    const first = createMySqlSource(sourceConfig(db, { tables: ['app\\.a'], startupMode: { mode: 'latest-offset' } }));
    const it1 = first.start();
    const rs1 = await collectUntil(it1, (all) => all.length > 0);
    await root.query("INSERT INTO app.a VALUES (7000, 'x')");
    await collectUntil(it1, (all) => changeEvents(all).length >= 1, 20_000, rs1);
    await first.stop();
    const saved = rs1.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : [])).at(-1)!;
    const second = createMySqlSource(sourceConfig(db, { tables: ['app\\.(a|c)'], binlogNewlyAddedTables: false }));
    const it2 = second.start(saved);
    const rs2 = await collectUntil(it2, (all) => all.length > 0);
    await root.query('INSERT INTO app.c VALUES (1)');
    await root.query("INSERT INTO app.a VALUES (7001, 'y')");
    await collectUntil(it2, (all) => changeEvents(all).length >= 1, 20_000, rs2);
    await second.stop();
    expect(tablesOf(rs2)).toEqual(['c a 7001']);
    expect(rs2.some((r) => r.kind === 'snapshot-progress')).toBe(false);
  });
});
