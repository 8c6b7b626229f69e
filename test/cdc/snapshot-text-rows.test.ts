import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import mysql from 'mysql2';
import { SchemaCatalog } from '../../core/cdc/schema/catalog';
import { columnValues } from '../../core/cdc/columns';
import { decodeTextRows } from '../../core/cdc/snapshot/text-columns';
import { captureTextRows, TextRows, type TextField } from '../../core/cdc/snapshot/text-rows';
import { connectionOptions } from '../../core/cdc/connect';
import { resolveConfig } from '../../core/cdc/config';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { COLUMNS, config, outcome, rawRow, schemaOf, viaCatalog } from './snapshot-samples';

/** Fields whose values the server sends as bytes (the binary character set). */
const BINARY = new Set(['bit1', 'bits', 'bin', 'g']);

/** A text-protocol row payload of `values`: each field length-encoded (0xFB for NULL), as the server sends it. */
function payload(values: unknown[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (v === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const bytes = Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8');
    const n = bytes.length;
    parts.push(n < 251 ? Buffer.from([n]) : n < 65536 ? Buffer.from([0xfc, n & 255, n >> 8]) : Buffer.from([0xfd, n & 255, (n >> 8) & 255, n >> 16]), bytes);
  }
  return Buffer.concat(parts);
}

/** Text rows of `rows`, each payload in a buffer of its own (after some leading bytes, as in a socket chunk), or all in one. */
function textRows(fields: TextField[], rows: unknown[][], shared: boolean): TextRows {
  const text = new TextRows(fields, 2);
  if (shared) {
    const payloads = rows.map(payload);
    const buf = Buffer.concat([Buffer.from([9, 9, 9]), ...payloads]);
    let at = 3;
    for (const p of payloads) {
      text.add(buf, at);
      at += p.length;
    }
  } else for (const r of rows) text.add(Buffer.concat([Buffer.from([7, 7]), payload(r)]), 2);
  return text;
}

describe('snapshot text rows decoded into columns', () => {
  const schema = schemaOf(COLUMNS);
  const catalog = new SchemaCatalog(config);
  catalog.set(schema);
  const names = COLUMNS.map((c) => c[0]);
  const fields = names.map((name) => ({ name, binary: BINARY.has(name) }));

  it('gives exactly the catalog’s values for every column kind (random rows from each column’s samples)', () => {
    const rowArb = fc.tuple(...COLUMNS.map(([, , , samples]) => fc.constantFrom(...samples)));
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 40 }), fc.boolean(), (rows, shared) => {
        const expected = outcome(() => viaCatalog(catalog, schema, rows.map((values) => rawRow(names, values))));
        const ours = outcome(() => {
          const decoded = decodeTextRows(textRows(fields, rows, shared), schema)!;
          expect(decoded.names).toEqual(names);
          const columns = decoded.columns.map((c) => columnValues(c, decoded.count));
          return rows.map((_, i) => Object.fromEntries(names.map((n, c) => [n, columns[c]![i]])));
        });
        expect(ours).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps typed columns typed and strings as UTF-8 bytes', () => {
    const decoded = decodeTextRows(textRows(fields, [COLUMNS.map(([, , , samples]) => samples[0])], false), schema)!;
    const formOf = (name: string) => {
      const c = decoded.columns[names.indexOf(name)]!;
      return Array.isArray(c) ? 'plain' : c.form;
    };
    expect([formOf('id'), formOf('flag'), formOf('big'), formOf('at'), formOf('ts'), formOf('d'), formOf('name'), formOf('doc'), formOf('price')]).toEqual([
      'number', 'boolean', 'bigint', 'bigint', 'bigint', 'number', 'utf8', 'utf8', 'plain',
    ]);
  });

  it('a value that does not convert fails as the catalog’s path does, naming the column', () => {
    for (const [column, bad] of [
      ['price', '1.234'],
      ['tod', '24:00:00'],
      ['at', 'yesterday'],
      ['ts', '2024-13-01 00:00:00.000x'],
      ['id', 'x'],
      ['big', '12a'],
      ['d', 'abc'],
    ] as const) {
      const values = [1, bad];
      const ours = outcome(() => decodeTextRows(textRows([{ name: 'id', binary: false }, { name: column, binary: false }], [values], false), schema));
      expect(ours).toMatchObject({ error: 'DataInvalid' });
      expect((ours as { message: string }).message).toContain(`app.t.${column}`);
      expect(ours).toEqual(outcome(() => viaCatalog(catalog, schema, [rawRow(['id', column], values)])));
    }
  });

  it('gives null (the general path’s turn) for a field that is no column of the schema', () => {
    expect(decodeTextRows(textRows([{ name: 'id', binary: false }, { name: 'gone', binary: false }], [[1, 'x']], false), schema)).toBeNull();
  });

  it('reads long values (length prefixes 0xFC and 0xFD)', () => {
    const long = 'x'.repeat(300);
    const longer = 'é'.repeat(40_000);
    const decoded = decodeTextRows(textRows([{ name: 'id', binary: false }, { name: 'name', binary: false }], [[1, long], [2, longer], [3, null]], true), schema)!;
    expect(columnValues(decoded.columns[1]!, 3)).toEqual([long, longer, null]);
  });
});

describe('captureTextRows on a real server (pins the mysql2 internals it relies on)', () => {
  let db: PrivateMariaDb;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    const root = mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await root.promise().query(
      `CREATE DATABASE app; CREATE TABLE app.t (id BIGINT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2), at DATETIME(6), bin VARBINARY(4));
       INSERT INTO app.t VALUES (1, 'ünï', 1.50, '2024-01-02 03:04:05.000006', 0x00ff), (2, NULL, NULL, NULL, NULL), (3, REPEAT('z', 20), -2.25, '1999-12-31 23:59:59', '')`,
    );
    await root.promise().end();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('hands over the rows of the chosen result set as bytes and leaves the others to mysql2', async () => {
    const options = connectionOptions(resolveConfig({ hostname: db.host, port: db.port, username: db.user, password: db.password, tables: ['app\\.t'], serverId: 1 }));
    const conn = mysql.createConnection({ ...options, multipleStatements: true });
    try {
      const sql = 'SELECT 41 AS a; SELECT id, name, price, at, bin FROM app.t ORDER BY id; SELECT 42 AS b';
      const [mysqlRows] = (await conn.promise().query(sql)) as unknown as [Record<string, unknown>[][]];
      let text: TextRows | null = null;
      const results = await new Promise<unknown[]>((resolve, reject) => {
        const command = conn.query(sql, (e, r) => (e ? reject(e) : resolve(r as unknown[])));
        captureTextRows(command, 1, (buf, start, fields) => (text ??= new TextRows(fields, 1)).add(buf, start));
      });
      expect(results[0]).toEqual([{ a: 41 }]);
      expect(results[1]).toEqual([]);
      expect(results[2]).toEqual([{ b: 42 }]);
      const rows = text as TextRows | null;
      expect(rows?.count).toBe(3);
      expect(rows!.fields.map((f) => [f.name, f.binary])).toEqual([['id', false], ['name', false], ['price', false], ['at', false], ['bin', true]]);
      // The server's text of each field: what mysql2 gives for the same SELECT with the source's options (bytes for binary fields).
      const expected = mysqlRows[1]!.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null || Buffer.isBuffer(v) ? v : String(v)])));
      expect([0, 1, 2].map((i) => rows!.rawRow(i))).toEqual(expected);
      expect(rows!.integer(2, 0, 'app.t')).toBe(3n);
    } finally {
      conn.end();
    }
  }, 60_000);
});
