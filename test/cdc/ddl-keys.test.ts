import { describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { createMySqlSource } from '../../core/cdc/index';
import type { SourceRecord } from '../../core/cdc/types';
import { collectUntil, sourceConfig, usePrivateMariaDb } from './helpers';

/** `table: change kinds => key after` for each schema change; `op table id` for each row. */
function trace(records: SourceRecord[]): string[] {
  return records.flatMap((r) => {
    if (r.kind === 'transaction') return r.batch.events.map((e) => `${e.op} ${e.table.table} ${(e.after ?? e.before)!.id}`);
    if (r.kind !== 'schema-change') return [];
    const ev = r.event;
    const changes = ev.changes.map((c) => (c.kind === 'alter-primary-key' ? `pk(${c.primaryKey.join(',')})` : c.kind));
    return [`${ev.table.table}: ${changes.join('; ')} => key (${ev.schemaAfter!.primaryKey.join(',')})`];
  });
}

const EXPECTED = [
  'k: create-table => key ()',
  'k: pk(id) => key (id)',
  'p: pk(id,k) => key (id,k)',
  'c p 2',
  'p: add-column; pk(id2) => key (id2)',
  'p: pk() => key ()',
  'c p 3',
  's: create-table => key (id)',
  's: drop-column; pk() => key ()',
];

describe('primary-key changes in DDL (private MariaDB)', () => {
  const server = usePrivateMariaDb(['CREATE DATABASE app', 'CREATE TABLE app.p (id INT PRIMARY KEY, k INT NOT NULL, v INT)', 'INSERT INTO app.p VALUES (1, 1, 1)']);

  it('ADD / DROP PRIMARY KEY become typed alter-primary-key changes with the key in schemaAfter, also on replay', async () => {
    const config = sourceConfig(server.db, { startupMode: { mode: 'latest-offset' } });
    const source = createMySqlSource(config);
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    const startOffset = rs.find((r) => r.kind === 'heartbeat');
    for (const sql of [
      // Created while streaming: a table without a key fails the preflight of a starting source.
      'CREATE TABLE app.k (id INT NOT NULL, v INT)',
      'ALTER TABLE app.k ADD PRIMARY KEY (id)',
      'ALTER TABLE app.p DROP PRIMARY KEY, ADD CONSTRAINT PRIMARY KEY (id, k)',
      'INSERT INTO app.p VALUES (2, 2, 2)',
      'ALTER TABLE app.p DROP PRIMARY KEY, ADD COLUMN id2 INT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST',
      'ALTER TABLE app.p MODIFY id2 INT NOT NULL, DROP PRIMARY KEY',
      'INSERT INTO app.p (id2, id, k, v) VALUES (9, 3, 3, 3)',
      // Dropping a key column shortens or removes the key implicitly (the server drops it from the
      // index; MariaDB refuses when other columns remain in that index, MySQL does not).
      'CREATE TABLE app.s (id INT PRIMARY KEY, z INT NOT NULL)',
      'ALTER TABLE app.s DROP COLUMN id',
    ]) await server.root.query(sql);
    await collectUntil(it, (all) => trace(all).length >= EXPECTED.length, 20_000, rs);
    await source.stop();
    // MODIFY without a type change is still a modify-column change; the key change comes last.
    expect(trace(rs).map((l) => l.replace('modify-column; ', ''))).toEqual(EXPECTED);
    // The server agrees with the key history's end.
    const [keys] = await server.root.query<mysql.RowDataPacket[]>("SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'app' AND TABLE_NAME = 'k' AND CONSTRAINT_NAME = 'PRIMARY'");
    expect(keys.map((r) => r.c)).toEqual(['id']);

    // Replay from before the DDL with the schema history of that point: the same changes.
    if (startOffset?.kind !== 'heartbeat') throw new Error('no heartbeat before the DDL');
    // app.p and app.s have no key now: fine for a start that only streams (no snapshot to chunk).
    const replay = createMySqlSource({ ...config, serverId: config.serverId + 1000 });
    const it2 = replay.start(startOffset.offset);
    const rs2 = await collectUntil(it2, (all) => trace(all).length >= EXPECTED.length);
    await replay.stop();
    expect(trace(rs2).map((l) => l.replace('modify-column; ', ''))).toEqual(EXPECTED);
  });
});
