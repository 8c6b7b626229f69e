/**
 * Schema-history mode (config rowMetadata, core/cdc/binlog/history-columns.ts) on a MariaDB that writes
 * no column metadata to its binlog (binlog_row_metadata=NO_LOG, as MySQL 5.7): character sets
 * followed through DDL, the preflight's account of it, and a history out of step with the binlog.
 * Names, types and replay across DDL are covered for both modes in ddl.test.ts and types.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { createMySqlSource } from '../../core/cdc/index';
import { encodeOffset, decodeOffset, type SourceOffset } from '../../core/cdc/offset';
import type { ChangeEvent, SourceRecord } from '../../core/cdc/types';
import { changeEvents, collectUntil, sourceConfig, usePrivateMariaDb } from './helpers';

/** Row changes as `op table {row}` lines, bigints as `12n`. */
function rows(records: SourceRecord[]): string[] {
  return changeEvents(records).map((e: ChangeEvent) => `${e.op} ${e.table.table} ${JSON.stringify(e.after ?? e.before, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
}

describe('schema-history mode (private MariaDB, binlog_row_metadata=NO_LOG)', () => {
  const server = usePrivateMariaDb(
    [
      // latin1 by default, as MySQL 5.7's databases were: text columns created without a character
      // set take it, and latin1 bytes decoded as UTF-8 would come out wrong.
      'CREATE DATABASE app CHARACTER SET latin1',
      "CREATE TABLE app.p (id INT PRIMARY KEY, name VARCHAR(20), note TEXT CHARACTER SET utf8mb4, kind ENUM('a','b'), n INT UNSIGNED)",
    ],
    ['--binlog-row-metadata=NO_LOG'],
  );

  it('preflight: the default asks for FULL metadata or the schema history; the schema history needs none', async () => {
    const auto = await createMySqlSource(sourceConfig(server.db)).preflight();
    const check = auto.checks.find((c) => c.name === 'binlog_row_metadata')!;
    expect(check.ok).toBe(false);
    expect(check.message).toMatch(/^binlog_row_metadata: expected FULL, found NO_LOG; .*tidemark\.row-metadata: schema-history\)$/);
    const history = await createMySqlSource(sourceConfig(server.db, { rowMetadata: 'schema-history' })).preflight();
    expect(history.ok).toBe(true);
    expect(history.checks.find((c) => c.name === 'binlog_row_metadata')!.message).toBe(
      'binlog_row_metadata=NO_LOG, not used: row column names and types come from the schema history (tidemark.row-metadata: schema-history)',
    );
  });

  it('decodes text in the character set the history gives it, through CREATE, ADD, CONVERT TO and a changed table default, live and replayed', async () => {
    const config = sourceConfig(server.db, { startupMode: { mode: 'latest-offset' }, rowMetadata: 'schema-history' });
    const source = createMySqlSource(config);
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    const statements = [
      "INSERT INTO app.p VALUES (1, 'café', '😀', 'b', 4294967295)",
      // Created in the stream: the database's latin1 for `t`, utf8mb4 named for `u`.
      'CREATE TABLE app.q (id INT PRIMARY KEY, t VARCHAR(10), u VARCHAR(10) CHARACTER SET utf8mb4)',
      "INSERT INTO app.q VALUES (1, 'über', '中文')",
      "ALTER TABLE app.p ADD COLUMN city VARCHAR(20) AFTER name, MODIFY kind ENUM('a','b','c')",
      "INSERT INTO app.p VALUES (2, 'Zoë', 'Malmö', 'ok', 'c', 7)",
      'ALTER TABLE app.q CONVERT TO CHARACTER SET utf8mb4',
      "INSERT INTO app.q VALUES (2, '東京', 'ß')",
      'ALTER TABLE app.p DEFAULT CHARACTER SET utf8mb4',
      'ALTER TABLE app.p ADD COLUMN emoji VARCHAR(10)',
      "INSERT INTO app.p VALUES (3, 'Åsa', 'Göteborg', NULL, 'a', 0, '🎉')",
      "UPDATE app.p SET name = 'François' WHERE id = 1",
    ];
    for (const s of statements) await server.root.query(s);
    const expected = [
      'c p {"id":1,"name":"café","note":"😀","kind":"b","n":"4294967295n"}',
      'c q {"id":1,"t":"über","u":"中文"}',
      'c p {"id":2,"name":"Zoë","city":"Malmö","note":"ok","kind":"c","n":"7n"}',
      'c q {"id":2,"t":"東京","u":"ß"}',
      'c p {"id":3,"name":"Åsa","city":"Göteborg","note":null,"kind":"a","n":"0n","emoji":"🎉"}',
      'u p {"id":1,"name":"François","city":null,"note":"😀","kind":"b","n":"4294967295n","emoji":null}',
    ];
    await collectUntil(it, (all) => rows(all).length >= expected.length, 20_000, rs);
    await source.stop();
    expect(rows(rs)).toEqual(expected);

    // Replayed from before the first row (the start's heartbeat), after all of it happened: the same rows.
    expect(rs[0]!.kind).toBe('heartbeat');
    const start = rs[0]!.kind === 'heartbeat' ? rs[0]!.offset : null;
    const replay = createMySqlSource({ ...config, serverId: config.serverId + 1000 });
    const it2 = replay.start(start);
    const rs2 = await collectUntil(it2, (all) => rows(all).length >= expected.length);
    await replay.stop();
    expect(rows(rs2)).toEqual(expected);
  });

  it('a DDL committed between the start-up schema read and the start position is in the history', async () => {
    await server.root.query('CREATE TABLE app.s (id INT PRIMARY KEY, v VARCHAR(10))');
    let altered = false;
    const source = createMySqlSource(
      sourceConfig(server.db, {
        tables: ['app\\.s'],
        startupMode: { mode: 'latest-offset' },
        rowMetadata: 'schema-history',
        beforeStartPosition: async () => {
          if (altered) return;
          altered = true;
          await server.root.query('ALTER TABLE app.s ADD COLUMN w INT AFTER id');
        },
      }),
    );
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    await server.root.query("INSERT INTO app.s VALUES (1, 5, 'x')");
    await collectUntil(it, (all) => rows(all).length >= 1, 20_000, rs);
    await source.stop();
    expect(altered).toBe(true);
    expect(rows(rs)).toEqual(['c s {"id":1,"w":5,"v":"x"}']);
  });

  it('a history out of step with the binlog stops the stream naming the table, never misnames a value', async () => {
    await server.root.query('CREATE TABLE app.r (id INT PRIMARY KEY, v VARCHAR(10), w INT)');
    const config = sourceConfig(server.db, { tables: ['app\\.r'], startupMode: { mode: 'latest-offset' }, rowMetadata: 'schema-history' });
    const source = createMySqlSource(config);
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    await server.root.query("INSERT INTO app.r VALUES (1, 'x', 2)");
    await collectUntil(it, (all) => rows(all).length >= 1, 20_000, rs);
    await source.stop();
    expect(rs[0]!.kind).toBe('heartbeat');
    const at = rs[0]!.kind === 'heartbeat' ? rs[0]!.offset : (null as never);
    await server.root.query("INSERT INTO app.r VALUES (2, 'y', 3)");

    // An offset whose history lost a column, or typed one wrongly (edited by hand, say).
    const tamper = (edit: (cols: { name: string; mysqlType: string }[]) => void): SourceOffset => {
      const o = JSON.parse(encodeOffset(at)) as { schemas: { table: { table: string }; columns: { name: string; mysqlType: string }[] }[] };
      edit(o.schemas.find((s) => s.table.table === 'r')!.columns);
      return decodeOffset(JSON.stringify(o));
    };
    const fails = async (offset: SourceOffset, message: RegExp) => {
      const s = createMySqlSource({ ...config, serverId: config.serverId + 2000 });
      const i = s.start(offset);
      await expect(collectUntil(i, (all) => rows(all).length > 0)).rejects.toThrowError(expect.objectContaining({ code: 'DataInvalid', message: expect.stringMatching(message) }));
      await s.stop();
    };
    await fails(
      tamper((cols) => cols.pop()),
      /^app\.r: its binlog rows have 3 columns, the schema history has 2 \(id, v\): the history missed a DDL statement/,
    );
    await fails(
      tamper((cols) => {
        cols[1]!.mysqlType = 'int(11)';
        cols[2]!.mysqlType = 'varchar(10)';
      }),
      /^app\.r\.v: column 2 of its binlog rows has binlog type bytes, the schema history says int\(11\)/,
    );
  });
});
