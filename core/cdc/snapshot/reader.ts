/**
 * Reads one snapshot chunk of a table, lock-free, and reports the binlog watermark the chunk is
 * consistent with (see phase.ts for how the watermark is used).
 *
 * Chunks are key ranges (lastKey, upper], where `upper` is the key of the chunk-size-th row after
 * lastKey in the key's order (null for the last chunk, which is open-ended so rows inserted past
 * the current maximum belong to it). A single integer key takes the fast paths below (bounds as
 * bigint, one-trip reads, windows); any other key (character, binary, temporal, decimal,
 * composite) is chunked as a tuple whose bounds come from the server and whose comparisons the
 * server makes (chunk-keys.ts). A table whose key cannot be ordered that way is read as one chunk.
 */
import type mysql from 'mysql2/promise';
import { TidemarkError } from '../../errors/index';
import { afterBoundSql, atMostBoundSql, keyTupleOf, unorderedBoundSql, UNORDERED_ROWS, type KeyTuple } from './chunk-keys';
import { integerBound, tupleBound, tupleSqlOf, type ChunkBound, type ChunkPlan, type TupleKey } from './chunk-plan';
import type { ResolvedConfig } from '../config';
import { quoteId } from '../connect';
import { beginConsistentSnapshot, readServerPosition, type Flavor } from '../flavor';
import type { BinlogPosition } from '../offset';
import { isSpatialType } from '../schema/type-map';
import { formatTableId, type TableSchema } from '../types';
import { captureTextRows, TextRows } from './text-rows';

/**
 * The SELECT list: FLOAT through CAST(… AS DOUBLE) so the text protocol carries the exact float32
 * value (its plain text form is rounded to 6 digits), spatial values in their stored form (SRID,
 * then WKB: schema/wkb.ts), which is also how the server compares them as chunk keys.
 */
export function selectList(schema: TableSchema): string {
  return schema.columns
    .map((c) => {
      const q = quoteId(c.name);
      if (isSpatialType(c.mysqlType)) return `CAST(${q} AS BINARY) AS ${q}`;
      if (/^float\b/i.test(c.mysqlType)) return `CAST(${q} AS DOUBLE) AS ${q}`;
      return q;
    })
    .join(', ');
}

export interface ChunkResult {
  /** The chunk's rows as mysql2 objects; empty when `text` holds them. */
  rows: Record<string, unknown>[];
  /** The chunk's rows as the server sent them (text-rows.ts), on the exact paths that decode them as columns. */
  text?: TextRows;
  /** Inclusive upper key of this chunk; null when it is the table's last chunk. */
  upper: ChunkBound | null;
  /**
   * The binlog position the rows are consistent with, in one of two senses: `exact` true — the
   * rows are precisely the state at this position (MariaDB consistent snapshot); false — a high
   * watermark read after the SELECT, so the rows are the state at some point at or before it.
   */
  watermark: BinlogPosition;
  exact: boolean;
}

export function toKey(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' || typeof v === 'string') return BigInt(v);
  throw new TidemarkError('DataInvalid', `chunk key value ${String(v)} is not an integer`, {});
}

export async function readChunk(
  conn: mysql.Connection,
  flavor: Flavor,
  config: ResolvedConfig,
  plan: ChunkPlan,
  lastKey: ChunkBound | null,
): Promise<ChunkResult> {
  const oneTrip = (conn as unknown as { config?: { multipleStatements?: boolean } }).config?.multipleStatements === true;
  if (oneTrip && config.snapshotWatermark === 'auto' && flavor.kind === 'mariadb' && plan.keyColumn !== null && plan.schema.primaryKey.length === 1) {
    return readChunkInOneTrip(conn, flavor, config, plan, plan.keyColumn, integerBound(lastKey));
  }
  const t = `${quoteId(plan.schema.table.db)}.${quoteId(plan.schema.table.table)}`;
  const exactPos = config.snapshotWatermark === 'auto' ? await beginConsistentSnapshot(conn, flavor) : null;
  try {
    let upper: ChunkBound | null = null;
    let rows: mysql.RowDataPacket[];
    if (plan.tuple !== null) {
      [rows, upper] = await selectTupleChunk(conn, config, plan, plan.tuple, tupleBound(lastKey));
    } else if (plan.keyColumn === null) {
      [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT ${selectList(plan.schema)} FROM ${t}`);
    } else if (plan.schema.primaryKey.length === 1) {
      // A unique key: one keyset-paginated SELECT; the chunk ends at its last row's key.
      const k = quoteId(plan.keyColumn);
      const from = integerBound(lastKey);
      const after = from === null ? '' : ` WHERE ${k} > ${from.toString()}`;
      [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT ${selectList(plan.schema)} FROM ${t}${after} ORDER BY ${k} LIMIT ${config.chunkSize}`);
      upper = rows.length === config.chunkSize ? toKey(rows[rows.length - 1]![plan.keyColumn]) : null;
    } else {
      // One column of a composite key may repeat: fix the bound first so no key value straddles two chunks.
      const k = quoteId(plan.keyColumn);
      const from = integerBound(lastKey);
      const after = from === null ? '' : `WHERE ${k} > ${from.toString()}`;
      const [b] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT ${k} AS k FROM ${t} ${after} ORDER BY ${k} LIMIT 1 OFFSET ${config.chunkSize - 1}`,
      );
      const to = b[0] ? toKey(b[0].k) : null;
      upper = to;
      const conds = [from === null ? null : `${k} > ${from.toString()}`, to === null ? null : `${k} <= ${to.toString()}`].filter(Boolean);
      [rows] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT ${selectList(plan.schema)} FROM ${t}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`,
      );
    }
    await config.afterChunkSelect?.(plan.schema.table, lastKey, 'query');
    if (exactPos) {
      await conn.query('COMMIT');
      return { rows, upper, watermark: exactPos, exact: true };
    }
    const hw = await readServerPosition(conn, flavor);
    return { rows, upper, watermark: { file: hw.file, pos: hw.pos }, exact: false };
  } catch (e) {
    if (exactPos) await conn.query('ROLLBACK').catch(() => {});
    throw e;
  }
}

/**
 * A chunk of a tuple key after `lastKey`, in the key's order on the server: a keyset page when the
 * tuple is unique (the bound is its last row's key), else the bound first (the chunk-size-th key,
 * so that keys the collation holds equal, e.g. 'a' and 'A ', never straddle two chunks), then the
 * rows up to it.
 */
async function selectTupleChunk(conn: mysql.Connection, config: ResolvedConfig, plan: ChunkPlan, tuple: TupleKey, lastKey: KeyTuple | null): Promise<[mysql.RowDataPacket[], KeyTuple | null]> {
  const t = `${quoteId(plan.schema.table.db)}.${quoteId(plan.schema.table.table)}`;
  const sql = tupleSqlOf(plan);
  // Qualified: the SELECT list names FLOAT columns' DOUBLE casts alike, and ORDER BY would take the
  // alias (a filesort) instead of the column (the index's order).
  const order = tuple.columns.map((c) => `${t}.${quoteId(c)}`).join(', ');
  const keys = selectList({ ...plan.schema, columns: tuple.columns.map((c) => plan.schema.columns.find((x) => x.name === c)!) });
  const after = lastKey === null ? null : afterBoundSql(sql, lastKey);
  if (tuple.unique) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT ${selectList(plan.schema)} FROM ${t}${after ? ` WHERE ${after}` : ''} ORDER BY ${order} LIMIT ${config.chunkSize}`);
    return [rows, rows.length === config.chunkSize ? keyTupleOf(rows[rows.length - 1]!, tuple.columns) : null];
  }
  const where = after ? ` WHERE ${after}` : '';
  const [b] = await conn.query<mysql.RowDataPacket[]>(
    tuple.ordered ? `SELECT ${keys} FROM ${t}${where} ORDER BY ${order} LIMIT 1 OFFSET ${config.chunkSize - 1}` : unorderedBoundSql(t, tuple.columns, keys, where, config.chunkSize),
  );
  const upper = b[0] && (tuple.ordered || Number(b[0][UNORDERED_ROWS]) === config.chunkSize) ? keyTupleOf(b[0], tuple.columns) : null;
  const conds = [after, upper === null ? null : atMostBoundSql(sql, upper)].filter((c) => c !== null);
  const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT ${selectList(plan.schema)} FROM ${t}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''}`);
  return [rows, upper];
}

/**
 * One multi-statement round trip (MariaDB): a consistent snapshot, the binlog position it sees
 * (result 1), the `limit` rows after `lastKey` by the key (result 2), COMMIT.
 */
export function consistentKeysetSql(plan: ChunkPlan, keyColumn: string, lastKey: bigint | null, limit: number): string {
  const t = `${quoteId(plan.schema.table.db)}.${quoteId(plan.schema.table.table)}`;
  const k = quoteId(keyColumn);
  const after = lastKey === null ? '' : ` WHERE ${k} > ${lastKey.toString()}`;
  return (
    `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY; SHOW STATUS LIKE 'binlog_snapshot_%'; ` +
    `SELECT ${selectList(plan.schema)} FROM ${t}${after} ORDER BY ${k} LIMIT ${limit}; COMMIT`
  );
}

/**
 * The MariaDB exact-watermark chunk of a single-column integer key as one multi-statement round
 * trip: consistent snapshot, its binlog position, the keyset SELECT, COMMIT. Sent as four
 * queries, each waited for in turn while the event loop was busy converting the previous chunk,
 * the reads stalled the snapshot (docs/perf-notes.md); in one trip the server streams the rows
 * into the socket meanwhile. Same statements, same results as readChunk's path.
 */
async function readChunkInOneTrip(
  conn: mysql.Connection,
  flavor: Flavor,
  config: ResolvedConfig,
  plan: ChunkPlan,
  keyColumn: string,
  lastKey: bigint | null,
): Promise<ChunkResult> {
  let results: unknown[];
  let text: TextRows | undefined;
  const sql = consistentKeysetSql(plan, keyColumn, lastKey, config.chunkSize);
  try {
    if (config.snapshotDecode === 'columns') [results, text] = await queryTextRows(conn, sql, 2, config.chunkSize);
    else [results] = await conn.query<mysql.RowDataPacket[][]>(sql);
  } catch (e) {
    // A failing statement ends the batch: the transaction may still be open.
    await conn.query('ROLLBACK').catch(() => {});
    throw e;
  }
  const status = results[1] as mysql.RowDataPacket[];
  const rows = text ? [] : (results[2] as mysql.RowDataPacket[]);
  const count = text ? text.count : rows.length;
  const upper = count < config.chunkSize ? null : text ? text.integer(count - 1, text.fieldIndex(keyColumn), formatTableId(plan.schema.table)) : toKey(rows[rows.length - 1]![keyColumn]);
  await config.afterChunkSelect?.(plan.schema.table, lastKey, 'query');
  const byName = Object.fromEntries(status.map((r) => [String(r.Variable_name), String(r.Value)]));
  const file = byName.Binlog_snapshot_file;
  const pos = byName.Binlog_snapshot_position;
  if (!file || pos === undefined) {
    // No snapshot position reported: the SELECT is done, so the binlog end now is a high watermark.
    // Not exact after all: such a chunk folds binlog rows in by key, which takes mysql2's row objects.
    if (text) return readChunkInOneTrip(conn, flavor, { ...config, snapshotDecode: 'rows' }, plan, keyColumn, lastKey);
    const hw = await readServerPosition(conn, flavor);
    return { rows, upper, watermark: { file: hw.file, pos: hw.pos }, exact: false };
  }
  return { rows, ...(text ? { text } : {}), upper, watermark: { file, pos: BigInt(pos) }, exact: true };
}

/**
 * A multi-statement query through mysql2's callback API whose result set `index` is kept as text
 * rows (text-rows.ts; at most `capacity` rows expected) and the others as mysql2 gives them.
 */
function queryTextRows(conn: mysql.Connection, sql: string, index: number, capacity: number): Promise<[unknown[], TextRows]> {
  const core = (conn as unknown as { connection: { query(sql: string, cb: (e: unknown, results: unknown) => void): unknown } }).connection;
  return new Promise((resolve, reject) => {
    let rows: TextRows | null = null;
    const command = core.query(sql, (e, results) => (e ? reject(e) : resolve([results as unknown[], rows ?? new TextRows([], 0)])));
    captureTextRows(command, index, (buf, start, fields) => (rows ??= new TextRows(fields, capacity)).add(buf, start));
  });
}

/** Hands out a table's chunks in order; null when the table vanished (dropped meanwhile). */
export interface ChunkSource {
  next(): Promise<ChunkResult | null>;
  /** Stops reading ahead (the phase stopped early); queued chunks are dropped. */
  close(): void;
}

/** chunkQueries' source: `lastAhead` makes the chunk already being read the last one it hands out. */
export interface ChunkQueries extends ChunkSource {
  lastAhead(): void;
}

/**
 * Chunks by readChunk, one query per chunk, the next one read while the current one is handed on
 * (its watermark is taken after this one's, so the order of watermarks, drains and emissions is
 * unchanged).
 */
export function chunkQueries(conn: mysql.Connection, flavor: Flavor, config: ResolvedConfig, plan: ChunkPlan, lastKey: ChunkBound | null): ChunkQueries {
  const read = (from: ChunkBound | null) =>
    readChunk(conn, flavor, config, plan, from).catch((e: unknown) => {
      if ((e as { errno?: number }).errno === 1146) return null; // dropped meanwhile; the DROP reaches the consumer through the stream
      throw e;
    });
  let next: Promise<ChunkResult | null> | null = read(lastKey);
  let ahead = true;
  return {
    async next() {
      if (next === null) throw new TidemarkError('Internal', 'snapshot chunk asked for after the table was done');
      const chunk = await next;
      next = ahead && chunk !== null && chunk.upper !== null ? read(chunk.upper) : null;
      next?.catch(() => {}); // awaited in the next call; not an unhandled rejection meanwhile
      return chunk;
    },
    lastAhead() {
      ahead = false;
    },
    close() {
      next?.catch(() => {});
      next = null;
    },
  };
}
