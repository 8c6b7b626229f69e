/**
 * Chunk keys of any shape: the column tuple a table's snapshot is chunked by, its bounds as the
 * server returned them, their stored form in offsets, and where a binlog row falls against them.
 *
 * A bound is the key of a row the server returned (keyset order, never computed here), kept in the
 * driver's form: text for character, decimal and temporal columns, a Buffer for binary ones, a
 * number (or decimal text above 2^53) for integers. Ordering is the server's: every comparison of
 * a non-integer key is written in SQL with the column's own type and collation, because a
 * case-insensitive PAD SPACE collation makes 'a', 'A' and 'a ' one key, and only the server knows
 * its collations. All-integer keys compare in JS (exact, and no round trip).
 *
 * A bound may be shorter than the key (a prefix): everything whose first columns are at or below it
 * is done. Offsets written before tuple chunking held the first column of a composite integer key
 * as decimal text; such a bound reads as a one-column prefix.
 */
import type mysql from 'mysql2/promise';
import { TidemarkError } from '../../errors/index';
import { quoteId } from '../connect';
import { formatTableId, type TableSchema } from '../types';
import { enumColumnSql, setColumnSql } from './chunk-key-members';
import { isSpatialType } from '../schema/type-map';
import { formatInet4, formatInet6, formatUuid, isInet4Text, isInet6Text, isUuidText } from '../schema/uuid-inet6';

/** One key column value in the driver's form (see above). */
export type KeyValue = string | number | Buffer;
/** Key values in key-column order; a prefix of the key when shorter. */
export type KeyTuple = readonly KeyValue[];

/**
 * How a column's values order, if we can chunk by it: integers in JS, the rest by the server.
 * `enum` and `set` order by member index and bit value, which the server does not cut by an index
 * range (only equality and IN lists are ranged on such a column): their comparisons are written
 * out (chunk-key-members.ts). `lob` (TEXT/BLOB) can only be indexed by a prefix, which cannot
 * return rows in the column's order: bounds come from rows read in index order (reader.ts).
 * `spatial` columns are keyed the same way (a B-tree index on a spatial column holds a prefix of
 * its stored bytes, even POINT's whole 25), and compare as those bytes: SRID, then WKB.
 */
export type KeyColumnKind = 'integer' | 'server' | 'enum' | 'set' | 'lob' | 'spatial';

const INTEGER = /^(tinyint|smallint|mediumint|int|integer|bigint)\b/i;
const SERVER_ORDERED = /^(decimal|numeric|date|datetime|timestamp|time|year|char|varchar|binary|varbinary|bit|float|double|real|uuid|inet4|inet6)\b/i;
const LOB = /^(tinytext|text|mediumtext|longtext|tinyblob|blob|mediumblob|longblob)\b/i;

/**
 * Whether chunks can be cut by this column type, and how its values compare. Null for types this
 * list does not know (e.g. MariaDB 11's VECTOR): such a column ends the key tuple, and a table
 * whose first key column is one is read as one chunk (`tidemark plan` warns).
 */
export function keyColumnKind(mysqlType: string): KeyColumnKind | null {
  if (INTEGER.test(mysqlType)) return 'integer';
  if (SERVER_ORDERED.test(mysqlType)) return 'server';
  if (/^enum\s*\(/i.test(mysqlType)) return 'enum';
  if (/^set\s*\(/i.test(mysqlType)) return 'set';
  if (LOB.test(mysqlType)) return 'lob';
  if (isSpatialType(mysqlType)) return 'spatial';
  return null;
}

/** Kinds whose index holds a prefix of the value: rows never come in the key's order. */
export function isPrefixIndexedKind(kind: KeyColumnKind): boolean {
  return kind === 'lob' || kind === 'spatial';
}

/** A comparison of a key column with a value, in the column's order. */
export type KeyComparison = '<' | '<=' | '=' | '>=' | '>';

export interface KeyColumnSql {
  name: string;
  /** The value as an SQL expression of the column's type and collation. */
  literal(v: unknown): string;
  /**
   * The value as an SQL expression that orders as the column does, to compare with another such
   * expression (placeKeys): the literal, or the member index / bit value of an ENUM / SET.
   */
  ordinal(v: unknown): string;
  /**
   * Set for ENUM and SET columns, whose order a comparison with a literal does not follow: the
   * condition `column <op> v` in the column's order, written so the server can range it.
   */
  compare?: (op: KeyComparison, v: unknown) => string;
}

function invalidValue(table: string, column: string, v: unknown): TidemarkError {
  const shown = Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : JSON.stringify(v);
  return new TidemarkError('DataInvalid', `chunk key ${table}.${column}: value ${shown} is not a value of the column's type`, { table, column });
}

const NUMBER_TEXT = /^-?\d+(\.\d+)?$/;
const TEMPORAL_TEXT = /^-?[\d:. -]+$/;
const NAME = /^\w+$/;

/**
 * Typed SQL literals for the key columns of `schema` (character columns with the collation and
 * character set `collations` gives): strings travel as UTF-8 hex, so no value is ever quoted
 * (sql_mode NO_BACKSLASH_ESCAPES cannot change their meaning); numbers and temporal text are
 * checked against their form first.
 */
export function keyColumnSql(schema: TableSchema, columns: readonly string[], collations: ReadonlyMap<string, { charset: string; collation: string }>): KeyColumnSql[] {
  const table = formatTableId(schema.table);
  return columns.map((name) => {
    const col = schema.columns.find((c) => c.name === name);
    if (!col) throw new TidemarkError('Internal', `chunk key column ${table}.${name} is not a column of the table`, { table, column: name });
    const bad = (v: unknown) => invalidValue(table, name, v);
    const kind = keyColumnKind(col.mysqlType);
    if (kind === 'enum' || kind === 'set') {
      const text = textLiteral(table, name, collations.get(name), bad);
      return { name, ...(kind === 'enum' ? enumColumnSql(quoteId(name), col.mysqlType, text, bad) : setColumnSql(quoteId(name), col.mysqlType, bad)) };
    }
    const literal = columnLiteral(table, name, col.mysqlType, collations, bad);
    return { name, literal, ordinal: literal };
  });
}

/** The literal of a value of a column of any other kind than ENUM / SET. */
function columnLiteral(
  table: string,
  name: string,
  mysqlType: string,
  collations: ReadonlyMap<string, { charset: string; collation: string }>,
  bad: (v: unknown) => TidemarkError,
): (v: unknown) => string {
  const type = mysqlType.toLowerCase();
  const base = /^\w+/.exec(type)![0];
  const size = /^\w+\((\d+)\)/.exec(type)?.[1];
  if (INTEGER.test(type)) {
    return (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : fail(bad(v))) : typeof v === 'string' && /^-?\d+$/.test(v) ? v : fail(bad(v)));
  }
  if (base === 'decimal' || base === 'numeric') {
    return (v) => (typeof v === 'string' && NUMBER_TEXT.test(v) ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : fail(bad(v)));
  }
  if (base === 'date' || base === 'datetime' || base === 'time' || base === 'timestamp') {
    // TIMESTAMP: both paths deliver UTC text (session time_zone '+00:00', zongji timezone 'Z'),
    // and the reading session compares in UTC, where no local time is ambiguous.
    const cast = base === 'date' ? 'DATE' : base === 'time' ? `TIME(${size ?? 0})` : `DATETIME(${size ?? 0})`;
    return (v) => (typeof v === 'string' && TEMPORAL_TEXT.test(v) ? `CAST('${v}' AS ${cast})` : fail(bad(v)));
  }
  if (base === 'year') {
    // zongji adds 1900 to the stored byte, so its 1900 is the zero year 0000 (column-codec.ts).
    return (v) => (typeof v === 'number' && Number.isInteger(v) ? String(v === 1900 ? 0 : v) : typeof v === 'string' && /^\d+$/.test(v) ? String(Number(v) === 1900 ? 0 : Number(v)) : fail(bad(v)));
  }
  if (base === 'bit') {
    // Compared as the unsigned number the bits spell: the index's order, and a range the server uses.
    return (v) => (Buffer.isBuffer(v) || v instanceof Uint8Array ? (v.length === 0 ? '0' : BigInt(`0x${Buffer.from(v).toString('hex')}`).toString()) : fail(bad(v)));
  }
  if (base === 'float' || base === 'double' || base === 'real') {
    // Values arrive as exact doubles (FLOAT through CAST … AS DOUBLE, snapshot-reader.ts; the
    // binlog's float32): the shortest text that reads back as the same double, as a DOUBLE.
    return (v) => (typeof v === 'number' && Number.isFinite(v) ? `CAST(${String(v)} AS DOUBLE)` : fail(bad(v)));
  }
  if (base === 'inet4') {
    // INET4 orders as its 4 bytes; the binlog's bytes are printed as the server prints them.
    return (v) => {
      const text = v instanceof Uint8Array ? formatInet4(v, `${table}.${name}`) : v;
      return typeof text === 'string' && isInet4Text(text) ? `CAST('${text}' AS INET4)` : fail(bad(v));
    };
  }
  if (base === 'uuid' || base === 'inet6') {
    // MariaDB orders UUIDs by swapped segments (nnnnnnnnnnnn-vsss-Vhhh-mmmm-llllllll for versions
    // 1–5 of the RFC variant, as written otherwise), INET6 as 16 bytes: a value goes back as the
    // type's text cast to the type, so the column's own comparison applies (no order assumed
    // here). Binlog keys, placed before conversion, are bytes: printed as the server prints them.
    const uuid = base === 'uuid';
    const where = `${table}.${name}`;
    return (v) => {
      const text = v instanceof Uint8Array ? (uuid ? formatUuid(v, where) : formatInet6(v, where)) : v;
      if (typeof text !== 'string' || !(uuid ? isUuidText(text) : isInet6Text(text))) return fail(bad(v));
      return `CAST('${text}' AS ${uuid ? 'UUID' : 'INET6'})`;
    };
  }
  if (isSpatialType(type)) {
    // The stored bytes both paths hand over (schema/wkb.ts), which is what the server compares:
    // a geometry against a binary string compares byte by byte, and ranges the index on it.
    return (v) => (v instanceof Uint8Array && v.length >= 9 ? `CAST(X'${Buffer.from(v).toString('hex')}' AS BINARY)` : fail(bad(v)));
  }
  if (base === 'binary' || base === 'varbinary' || /blob$/.test(base)) {
    const cast = base === 'binary' ? `BINARY(${size ?? 1})` : 'BINARY';
    // BINARY(n) pads with 0x00 as the column does (the binlog drops trailing zero bytes).
    return (v) => (Buffer.isBuffer(v) || v instanceof Uint8Array ? `CAST(X'${Buffer.from(v).toString('hex')}' AS ${cast})` : fail(bad(v)));
  }
  const c = collations.get(name);
  if (c?.charset === 'binary') {
    return (v) => (typeof v === 'string' || Buffer.isBuffer(v) ? `CAST(X'${Buffer.from(v as string).toString('hex')}' AS BINARY)` : fail(bad(v)));
  }
  return textLiteral(table, name, c, bad);
}

/**
 * A character column's literal: UTF-8 hex converted to the column's character set, with its
 * collation (text bytes from zongji, when it knows no character set, as they are).
 */
function textLiteral(table: string, name: string, c: { charset: string; collation: string } | undefined, bad: (v: unknown) => TidemarkError): (v: unknown) => string {
  if (!c || !NAME.test(c.charset) || !NAME.test(c.collation)) {
    throw new TidemarkError('Internal', `chunk key ${table}.${name}: no collation known for the column`, { table, column: name });
  }
  return (v) =>
    typeof v === 'string'
      ? `CONVERT(_utf8mb4 X'${Buffer.from(v, 'utf8').toString('hex')}' USING ${c.charset}) COLLATE ${c.collation}`
      : Buffer.isBuffer(v)
        ? `CONVERT(_binary X'${v.toString('hex')}' USING ${c.charset}) COLLATE ${c.collation}`
        : fail(bad(v));
}

function fail(e: TidemarkError): never {
  throw e;
}

/** Character sets and collations of a table's columns, from INFORMATION_SCHEMA. */
export async function readCollations(conn: mysql.Connection, schema: TableSchema): Promise<Map<string, { charset: string; collation: string }>> {
  const hex = (s: string) => `CONVERT(_utf8mb4 X'${Buffer.from(s, 'utf8').toString('hex')}' USING utf8mb4)`;
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT COLUMN_NAME AS name, CHARACTER_SET_NAME AS cs, COLLATION_NAME AS coll FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${hex(schema.table.db)} AND TABLE_NAME = ${hex(schema.table.table)}`,
  );
  const out = new Map<string, { charset: string; collation: string }>();
  for (const r of rows) if (r.cs !== null && r.coll !== null) out.set(String(r.name), { charset: String(r.cs), collation: String(r.coll) });
  return out;
}

/** A tuple (or a single value) in SQL. */
function tupleSql(parts: string[]): string {
  return parts.length === 1 ? parts[0]! : `(${parts.join(', ')})`;
}

/** `columns[0..bound.length)` as a column tuple and as the bound's literals. */
function sides(cols: readonly KeyColumnSql[], bound: KeyTuple): { keys: string; values: string; first: string; firstValue: string } {
  const used = cols.slice(0, bound.length);
  const values = used.map((c, i) => c.literal(bound[i]));
  return { keys: tupleSql(used.map((c) => quoteId(c.name))), values: tupleSql(values), first: quoteId(used[0]!.name), firstValue: values[0]! };
}

/** `column <op> v` in the column's order. */
function compareSql(c: KeyColumnSql, op: KeyComparison, v: KeyValue): string {
  return c.compare ? c.compare(op, v) : `${quoteId(c.name)} ${op} ${c.literal(v)}`;
}

/**
 * A tuple comparison spelled out column by column (a row-value comparison would compare an ENUM or
 * SET column as text): `a > x OR (a = x AND (b > y OR …))`, ending with `last` on the last column.
 */
function lexicographicSql(cols: readonly KeyColumnSql[], bound: KeyTuple, strict: '>' | '<', last: '>' | '<='): string {
  const n = bound.length;
  let sql = compareSql(cols[n - 1]!, last, bound[n - 1]!);
  for (let i = n - 2; i >= 0; i--) sql = `(${compareSql(cols[i]!, strict, bound[i]!)} OR (${compareSql(cols[i]!, '=', bound[i]!)} AND ${sql}))`;
  return sql;
}

/**
 * WHERE condition: the row's key is after `bound`. The leading `first >= v` lets the server use a
 * range on the index (a row-value comparison alone may not be turned into one).
 */
export function afterBoundSql(cols: readonly KeyColumnSql[], bound: KeyTuple): string {
  if (cols.slice(0, bound.length).some((c) => c.compare)) {
    const lex = lexicographicSql(cols, bound, '>', '>');
    return cols[0]!.compare || bound.length === 1 ? lex : `${compareSql(cols[0]!, '>=', bound[0]!)} AND ${lex}`;
  }
  const s = sides(cols, bound);
  return bound.length === 1 ? `${s.keys} > ${s.values}` : `${s.first} >= ${s.firstValue} AND ${s.keys} > ${s.values}`;
}

/** WHERE condition: the row's key (its prefix as long as `bound`) is at or below `bound`. */
export function atMostBoundSql(cols: readonly KeyColumnSql[], bound: KeyTuple): string {
  if (cols.slice(0, bound.length).some((c) => c.compare)) {
    const lex = lexicographicSql(cols, bound, '<', '<=');
    return cols[0]!.compare || bound.length === 1 ? lex : `${compareSql(cols[0]!, '<=', bound[0]!)} AND ${lex}`;
  }
  const s = sides(cols, bound);
  return bound.length === 1 ? `${s.keys} <= ${s.values}` : `${s.first} <= ${s.firstValue} AND ${s.keys} <= ${s.values}`;
}

/** The column of unorderedBoundSql's row holding how many rows it looked at. */
export const UNORDERED_ROWS = 'tidemark_chunk_rows';

/**
 * The bound of the next chunk of a key whose index is not in the key's order (a TEXT/BLOB prefix):
 * the greatest key, by the server's comparison, of the next `limit` rows after the last bound in
 * the index's order (a range read of `limit` rows; only they are sorted), with how many there were
 * (fewer than `limit`: the table's last chunk). The chunk is then every row in (last bound, this
 * bound], so it is exact whatever order the rows came in; it holds the `limit` rows and any others
 * in that key range, i.e. rows sharing the index prefix of a bound.
 */
export function unorderedBoundSql(table: string, columns: readonly string[], keys: string, where: string, limit: number): string {
  const order = columns.map((c) => `b.${quoteId(c)} DESC`).join(', ');
  return `SELECT b.*, COUNT(*) OVER () AS ${UNORDERED_ROWS} FROM (SELECT ${keys} FROM ${table}${where} LIMIT ${limit}) AS b ORDER BY ${order} LIMIT 1`;
}

/** The key tuple of a driver row (snapshot SELECT or zongji image). */
export function keyTupleOf(row: Record<string, unknown>, columns: readonly string[]): KeyTuple {
  return columns.map((c) => row[c] as KeyValue);
}

/** Stored form of a tuple bound in SnapshotState.lastKey: a JSON array, binary values as {hex}. */
export function encodeKeyTuple(bound: KeyTuple): string {
  return JSON.stringify(bound.map((v) => (typeof v === 'string' || typeof v === 'number' ? v : { hex: Buffer.from(v).toString('hex') })));
}

/**
 * Reads encodeKeyTuple's text for a key of `columns`; a plain decimal (an offset from before tuple
 * chunking, which chunked composite integer keys by their first column) is a one-column prefix.
 */
export function decodeKeyTuple(text: string, columns: readonly string[], kinds: readonly KeyColumnKind[], table: string): KeyTuple {
  const bad = (why: string) =>
    new TidemarkError('DataInvalid', `offset snapshot.lastKey ${JSON.stringify(text.slice(0, 200))} of ${table}: ${why} (chunk key: ${columns.join(', ')})`, { table, lastKey: text.slice(0, 200) });
  if (/^-?\d+$/.test(text)) {
    if (kinds[0] !== 'integer') throw bad('a plain number, but the first key column is not an integer');
    return [text];
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad('not a JSON array');
  }
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > columns.length) throw bad(`expected a list of 1 to ${columns.length} values`);
  return raw.map((v: unknown) => {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
    const hex = (v as { hex?: unknown } | null)?.hex;
    if (typeof hex === 'string' && /^([0-9a-f]{2})*$/.test(hex)) return Buffer.from(hex, 'hex');
    throw bad(`value ${JSON.stringify(v)} is neither text, a number nor {hex}`);
  });
}

/** Whether the prefix of integer key `key` as long as `bound` is at or below it. */
export function integerTupleAtMost(key: KeyTuple, bound: KeyTuple): boolean {
  for (let i = 0; i < bound.length; i++) {
    const a = BigInt(key[i] as number | string);
    const b = BigInt(bound[i] as number | string);
    if (a !== b) return a < b;
  }
  return true;
}

/** Where a key stands against the chunk (lastKey, upper]: done (at or below lastKey), in it, or after it. */
export type KeyPlace = 'done' | 'chunk' | 'after';

/** Key tuples placed per query (a transaction touching more rows of the table takes several). */
const PLACE_BATCH = 500;

/**
 * Places keys against a chunk's bounds by asking the server: one SELECT of CASE expressions per
 * PLACE_BATCH keys, each comparison written with the columns' types and collations.
 */
export async function placeKeys(conn: mysql.Connection, cols: readonly KeyColumnSql[], keys: readonly KeyTuple[], lastKey: KeyTuple | null, upper: KeyTuple | null): Promise<KeyPlace[]> {
  if (lastKey === null && upper === null) return keys.map(() => 'chunk');
  // Literal against literal: ordinals, so ENUM and SET values compare by index / bit value.
  const ordinals = (key: KeyTuple, n: number) => tupleSql(cols.slice(0, n).map((c, i) => c.ordinal(key[i])));
  const lo = lastKey && ordinals(lastKey, lastKey.length);
  const hi = upper && ordinals(upper, upper.length);
  const out: KeyPlace[] = [];
  for (let start = 0; start < keys.length; start += PLACE_BATCH) {
    const batch = keys.slice(start, start + PLACE_BATCH);
    const exprs = batch.map((key) => {
      const done = lo ? `WHEN ${ordinals(key, lastKey!.length)} <= ${lo} THEN 0 ` : '';
      const inChunk = hi ? `WHEN ${ordinals(key, upper!.length)} <= ${hi} THEN 1 ELSE 2` : 'ELSE 1';
      return `CASE ${done}${inChunk} END`;
    });
    const [rows] = await conn.query<mysql.RowDataPacket[][]>({ sql: `SELECT ${exprs.join(', ')}`, rowsAsArray: true });
    const row = (rows as unknown as unknown[][])[0]!;
    for (let i = 0; i < batch.length; i++) {
      const v = Number(row[i]);
      out.push(v === 0 ? 'done' : v === 1 ? 'chunk' : 'after');
    }
  }
  return out;
}
