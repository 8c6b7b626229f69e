import { describe, expect, it } from 'vitest';
import type mysql from 'mysql2/promise';
import { createMySqlSource } from '../../core/cdc/index';
import type { SourceRecord } from '../../core/cdc/types';
import { collectUntil, sourceConfig, usePrivateMariaDb } from './helpers';

/** A compact, readable trace of a record stream: one string per row change or schema change. */
function trace(records: SourceRecord[]): string[] {
  const out: string[] = [];
  for (const r of records) {
    if (r.kind === 'transaction') {
      for (const e of r.batch.events) {
        const row = e.after ?? e.before!;
        out.push(`${e.op} ${e.table.table} ${JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
      }
    } else if (r.kind === 'schema-change') {
      const ev = r.event;
      const desc = ev.changes.map((c) => {
        switch (c.kind) {
          case 'add-column':
            return `add ${c.column.name}:${c.column.icebergType.type} ${c.position.kind === 'after' ? `after ${c.position.column}` : c.position.kind}`;
          case 'drop-column':
            return `drop ${c.name}`;
          case 'rename-column':
            return `rename ${c.from}->${c.to}`;
          case 'modify-column':
            return `modify ${c.from}->${c.column.name}:${c.column.icebergType.type}`;
          case 'rename-table':
            return `rename-table ->${c.to.table}`;
          case 'create-table':
            return `create ${c.schema.columns.map((x) => x.name).join(',')}`;
          default:
            return c.kind;
        }
      });
      out.push(`schema ${ev.table.table}${ev.onlineSchemaChangeTool ? ` (${ev.onlineSchemaChangeTool})` : ''}: ${desc.join('; ')} => ${ev.schemaAfter ? ev.schemaAfter.columns.map((c) => c.name).join(',') : 'gone'}`);
    }
  }
  return out;
}

const EXPECTED = [
  'c d {"id":1,"a":"x","b":1}',
  'schema d: add c:int after a => id,a,c,b',
  'c d {"id":2,"a":"y","c":5,"b":2}',
  'schema d: drop b => id,a,c',
  'schema d: rename a->aa => id,aa,c',
  'schema d: modify c->c:long => id,aa,c',
  'c d {"id":3,"aa":"z","c":"9n"}',
  'schema d: rename-table ->d2 => id,aa,c',
  'c d2 {"id":4,"aa":"q","c":"7n"}',
  'schema d2 (pt-osc): add extra:int last => id,aa,c,extra',
  'c d2 {"id":5,"aa":"w","c":"1n","extra":42}',
  'schema gh (gh-ost): drop v => id',
  'c gh {"id":2}',
  'schema d2: truncate-table => id,aa,c,extra',
  'c d2 {"id":6,"aa":"after","c":"0n","extra":null}',
];

// binlog_row_metadata=FULL: row column names from the binlog. NO_LOG, as MySQL 5.7 writes it (no
// column metadata at all): from the schema history (config rowMetadata, history-columns.ts), where
// the replay below is the case that needs it (zongji alone would name old rows by today's columns).
const MODES = [
  { name: 'binlog column metadata', serverArgs: [] as string[], rowMetadata: 'auto' as const },
  { name: 'schema history, binlog_row_metadata=NO_LOG', serverArgs: ['--binlog-row-metadata=NO_LOG'], rowMetadata: 'schema-history' as const },
];

describe.each(MODES)('DDL mid-stream (private MariaDB, $name)', ({ serverArgs, rowMetadata }) => {
  const server = usePrivateMariaDb(['CREATE DATABASE app', 'CREATE TABLE app.d (id INT PRIMARY KEY, a VARCHAR(10), b INT)', 'CREATE TABLE app.gh (id INT PRIMARY KEY, v INT)'], serverArgs);

  it('emits typed schema changes in stream order, with the right column names on the rows around them', async () => {
    const config = sourceConfig(server.db, { startupMode: { mode: 'latest-offset' }, parseOnlineSchemaChanges: true, rowMetadata });
    const source = createMySqlSource(config);
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    const statements = [
      "INSERT INTO app.d VALUES (1, 'x', 1)",
      'ALTER TABLE app.d ADD COLUMN c INT AFTER a',
      "INSERT INTO app.d VALUES (2, 'y', 5, 2)",
      'ALTER TABLE app.d DROP COLUMN b',
      'ALTER TABLE app.d RENAME COLUMN a TO aa',
      'ALTER TABLE app.d MODIFY c BIGINT',
      "INSERT INTO app.d VALUES (3, 'z', 9)",
      'RENAME TABLE app.d TO app.d2',
      "INSERT INTO app.d2 VALUES (4, 'q', 7)",
      // pt-osc: shadow copy, altered, filled, swapped in; its rows are not the table's changes.
      'CREATE TABLE app._d2_new LIKE app.d2',
      'ALTER TABLE app._d2_new ADD COLUMN extra INT',
      'INSERT INTO app._d2_new SELECT *, NULL FROM app.d2',
      'RENAME TABLE app.d2 TO app._d2_old, app._d2_new TO app.d2',
      'DROP TABLE app._d2_old',
      "INSERT INTO app.d2 VALUES (5, 'w', 1, 42)",
      // gh-ost: ghost table altered, swapped with _del.
      'CREATE TABLE app._gh_gho LIKE app.gh',
      'ALTER TABLE app._gh_gho DROP COLUMN v',
      'RENAME TABLE app.gh TO app._gh_del, app._gh_gho TO app.gh',
      'INSERT INTO app.gh VALUES (2)',
      'TRUNCATE TABLE app.d2',
      "INSERT INTO app.d2 VALUES (6, 'after', 0, NULL)",
    ];
    for (const s of statements) await server.root.query(s);
    await collectUntil(it, (all) => trace(all).length >= EXPECTED.length, 20_000, rs);
    await source.stop();
    expect(trace(rs)).toEqual(EXPECTED);
    const firstTx = rs.find((r) => r.kind === 'transaction')!;

    // Replaying the same binlog from an offset before the DDL (the tables have changed since)
    // gives the same names and the same schema changes.
    const offset = firstTx.kind === 'transaction' ? firstTx.batch.endOffset : null;
    const replay = createMySqlSource({ ...config, serverId: config.serverId + 1000 });
    const it2 = replay.start(offset);
    const rs2 = await collectUntil(it2, (all) => trace(all).length >= EXPECTED.length - 1);
    await replay.stop();
    expect(trace(rs2)).toEqual(EXPECTED.slice(1));
  });

  it('DDL the parser cannot read stops the stream with an error naming it, on captured tables only', async () => {
    await server.root.query('CREATE DATABASE other');
    await server.root.query('CREATE TABLE app.bad (id INT PRIMARY KEY)');
    await server.root.query('CREATE TABLE other.ok (id INT PRIMARY KEY)');
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.bad'], startupMode: { mode: 'latest-offset' }, rowMetadata }));
    const it = source.start();
    await collectUntil(it, (all) => all.length > 0);
    // TABLE_CHECKSUM is MariaDB's synonym of CHECKSUM, outside our grammar.
    await server.root.query('ALTER TABLE other.ok TABLE_CHECKSUM = 1');
    await server.root.query('INSERT INTO app.bad VALUES (1)');
    await server.root.query('ALTER TABLE app.bad TABLE_CHECKSUM = 1');
    const rs: SourceRecord[] = [];
    await collectUntil(it, (all) => all.some((r) => r.kind === 'transaction'), 20_000, rs);
    await expect(collectUntil(it, () => false, 20_000, rs)).rejects.toThrowError(
      expect.objectContaining({ code: 'Unsupported', message: expect.stringContaining('cannot parse DDL "ALTER TABLE app.bad TABLE_CHECKSUM = 1"') }),
    );
    await source.stop();
  });

  it('CREATE TABLE … SELECT: the create comes before its rows, and offsets stay on commit boundaries', async () => {
    const source = createMySqlSource(sourceConfig(server.db, { tables: ['app\\.(ctas|d2)'], startupMode: { mode: 'latest-offset' }, rowMetadata }));
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.length > 0);
    await server.root.query("CREATE TABLE app.ctas (PRIMARY KEY (id)) SELECT 1 AS id, 'x' AS v UNION ALL SELECT 2, 'y'");
    await collectUntil(it, (all) => trace(all).length >= 3, 20_000, rs);
    await source.stop();
    expect(trace(rs)).toEqual(['schema ctas: create id,v => id,v', 'c ctas {"id":1,"v":"x"}', 'c ctas {"id":2,"v":"y"}']);
    const offsets = rs.flatMap((r) => (r.kind === 'transaction' ? [r.batch.endOffset] : r.kind === 'schema-change' ? [r.event.offset] : []));
    expect(offsets.every((o) => o.pos > 4n)).toBe(true);
    const [st] = await server.root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    expect(offsets.at(-1)!.pos).toBe(BigInt(st[0]!.Position));
  });
});
