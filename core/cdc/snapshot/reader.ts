/**
 * Reads one snapshot chunk of a table, lock-free, and reports the binlog watermark the chunk is
 * consistent with (see snapshot-phase.ts for how the watermark is used).
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
import { PullQueue } from '../pull-queue';
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
function consistentKeysetSql(plan: ChunkPlan, keyColumn: string, lastKey: bigint | null, limit: number): string {
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
 * the reads stalled the snapshot (~11 ms per 8096-row chunk, measured); in one trip the server
 * streams the rows into the socket meanwhile. Same statements, same results as readChunk's path.
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

/** Whether the table's chunks can be read by ChunkWindows (else one readChunk per chunk only). */
export function usesChunkWindows(conn: mysql.Connection, flavor: Flavor, config: ResolvedConfig, plan: ChunkPlan): boolean {
  const multi = (conn as unknown as { config?: { multipleStatements?: boolean } }).config?.multipleStatements === true;
  return multi && config.snapshotWatermark === 'auto' && flavor.kind === 'mariadb' && plan.keyColumn !== null && plan.schema.primaryKey.length === 1;
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

/**
 * Chunk sizes per MariaDB consistent snapshot in ChunkWindows: each window is one query (consistent
 * snapshot, its binlog position, a keyset SELECT of this many times the chunk size, COMMIT) whose
 * rows are cut into chunks as they arrive. Bounds the rows read ahead of the consumer and how long a
 * window's read view lives: the time the server takes to send its rows, never the consumer's pace
 * (the rows are read off the socket as they come, without pausing it).
 */
export const SNAPSHOT_WINDOW_CHUNKS = 4;

/**
 * Rows of a window handed on per chunk, at most (the configured chunk size when smaller): each is
 * a chunk of its own for the snapshot phase (offset, progress, one transaction record). Rows that
 * arrive while the consumer works on earlier ones stay alive until their chunk is emitted; cut at
 * the chunk size (8096) they outlived young-generation collections and were copied and promoted:
 * 5M rows with a 128 MiB buffer pool (measured 2026-11-29, in the sync thread, 3 runs each) took
 * 2.33–2.49 s (GC 74–86 ms) in batches of 1024 against 2.52–2.66 s (GC 204–232 ms) in chunks of
 * 8096; with a 1 GiB pool the same either way (2.13–2.25 s against 2.08–2.20).
 */
export const SNAPSHOT_WINDOW_BATCH_ROWS = 1024;

/** Chunks queued unconsumed below which the next window is asked for. */
const OPEN_NEXT_WINDOW_BELOW = 4;

interface QueuedChunk {
  chunk: ChunkResult | null;
  /** The chunk's lower bound (exclusive), for the test hook. */
  from: ChunkBound | null;
}

/** How ChunkWindows reads a key: one window's statements after a bound, and a row's bound. */
export interface WindowKeyset {
  sql(lastKey: ChunkBound | null, limit: number): string;
  boundOf(row: Record<string, unknown>): ChunkBound;
  /** The key column when it is one integer column: then a window's rows may be kept as text rows (bound from their bytes). */
  textKey?: string;
}

/** The keyset of a single integer key column. */
export function integerKeyset(plan: ChunkPlan, keyColumn: string): WindowKeyset {
  return { sql: (lastKey, limit) => consistentKeysetSql(plan, keyColumn, integerBound(lastKey), limit), boundOf: (row) => toKey(row[keyColumn]), textKey: keyColumn };
}

/**
 * The MariaDB exact-watermark chunks of a unique key read in its index's order (a single integer
 * column, or a tuple: tuple-windows.ts), read in windows of
 * SNAPSHOT_WINDOW_CHUNKS times the chunk size per consistent snapshot, handed on in chunks of
 * SNAPSHOT_WINDOW_BATCH_ROWS rows: every chunk of a window carries the window's exact position,
 * the state its rows are in (snapshot-phase.ts: a chunk is emitted once the stream is drained to
 * its watermark; for a window's later chunks nothing is left to drain). The next window is asked
 * for when this one's rows are in and fewer than OPEN_NEXT_WINDOW_BELOW chunks wait.
 *
 * Why: one query per chunk leaves the server idle between a chunk's rows and the next chunk's
 * query; where the server is the slower side (a table larger than its buffer pool) that idle time
 * is the snapshot's. Windows keep it streaming, but mysql2 then hands over every row as an event,
 * which costs the client 8–14% more CPU (measured 2026-11-28, 5M rows): snapshot-phase.ts switches
 * a table to windows only once it has seen the client wait on the server (serverBound).
 */
export class ChunkWindows implements ChunkSource {
  /** Chunks read and not yet handed on; each one taken may ask for the next window. */
  private readonly queue = new PullQueue<QueuedChunk>(
    () => new TidemarkError('Cancelled', 'snapshot chunk reader closed'),
    () => this.maybeOpen(),
  );
  /** The key after which the next window starts, while one is still to be asked for. */
  private pendingFrom: ChunkBound | null | undefined = undefined;
  private reading = false;
  private closed = false;
  private readonly core: { query(sql: string): QueryEvents };

  constructor(
    conn: mysql.Connection,
    private readonly config: ResolvedConfig,
    private readonly plan: ChunkPlan,
    private readonly keyset: WindowKeyset,
    lastKey: ChunkBound | null,
  ) {
    // The callback connection under the promise one: its query emits rows as they are parsed.
    this.core = (conn as unknown as { connection: { query(sql: string): QueryEvents } }).connection;
    this.openWindow(lastKey);
  }

  async next(): Promise<ChunkResult | null> {
    const q = await this.queue.next();
    if (q.chunk !== null) await this.config.afterChunkSelect?.(this.plan.schema.table, q.from, 'window');
    return q.chunk;
  }

  close(): void {
    // A window being read runs to its end (it is not paused, so it ends soon); nothing follows it.
    this.closed = true;
    this.pendingFrom = undefined;
    this.queue.close();
  }

  private push(q: QueuedChunk): void {
    this.queue.push(q);
  }

  private fail(e: unknown): void {
    this.queue.fail(e);
  }

  /** Asks for the pending window once fewer than a window's chunks wait unconsumed. */
  private maybeOpen(): void {
    if (this.reading || this.closed || this.pendingFrom === undefined) return;
    if (this.queue.size >= OPEN_NEXT_WINDOW_BELOW) return;
    const from = this.pendingFrom;
    this.pendingFrom = undefined;
    this.openWindow(from);
  }

  private openWindow(lastKey: ChunkBound | null): void {
    const { config, plan, keyset } = this;
    const size = config.chunkSize;
    const limit = size * SNAPSHOT_WINDOW_CHUNKS;
    const batch = Math.min(size, SNAPSHOT_WINDOW_BATCH_ROWS);
    this.reading = true;
    const query = this.core.query(keyset.sql(lastKey, limit));
    const status = new Map<string, string>();
    let watermark: BinlogPosition | null = null;
    let rows: Record<string, unknown>[] = [];
    let from = lastKey;
    let count = 0;
    let failed = false;
    const fail = (e: unknown) => {
      failed = true;
      this.reading = false;
      // A failing statement ends the batch: the transaction may still be open.
      this.core.query('ROLLBACK').on('error', () => {});
      if ((e as { errno?: number }).errno === 1146) this.push({ chunk: null, from }); // dropped meanwhile; the DROP reaches the consumer through the stream
      else this.fail(e);
    };
    const position = (): BinlogPosition => {
      const file = status.get('Binlog_snapshot_file');
      const pos = status.get('Binlog_snapshot_position');
      if (!file || pos === undefined) {
        throw new TidemarkError('SourceUnavailable', `MariaDB reported no binlog snapshot position for the snapshot of ${formatTableId(plan.schema.table)} (is the binary log on?)`, {
          table: formatTableId(plan.schema.table),
        });
      }
      return { file, pos: BigInt(pos) };
    };
    query.on('result', (row: Record<string, unknown>, index?: number) => {
      if (failed) return;
      if (index === 1) {
        status.set(String(row.Variable_name), String(row.Value));
        return;
      }
      if (index !== 2) return;
      try {
        watermark ??= position();
        rows.push(row);
        count++;
        if (rows.length === batch) {
          const upper = keyset.boundOf(row);
          this.push({ chunk: { rows, upper, watermark, exact: true }, from });
          rows = [];
          from = upper;
        }
      } catch (e) {
        fail(e);
      }
    });
    // Text rows (text-rows.ts) for a single integer key: cut into chunks as they arrive, as above.
    const textKey = config.snapshotDecode === 'columns' ? keyset.textKey : undefined;
    let text: TextRows | null = null;
    if (textKey !== undefined) {
      const table = formatTableId(plan.schema.table);
      captureTextRows(query, 2, (buf, start, fields) => {
        if (failed) return;
        try {
          watermark ??= position();
          (text ??= new TextRows(fields, batch)).add(buf, start);
          count++;
          if (text.count === batch) {
            const upper = text.integer(batch - 1, text.fieldIndex(textKey), table);
            this.push({ chunk: { rows: [], text, upper, watermark, exact: true }, from });
            text = null;
            from = upper;
          }
        } catch (e) {
          fail(e);
        }
      });
    }
    query.on('error', (e: unknown) => {
      if (!failed) fail(e);
    });
    query.on('end', () => {
      if (failed) return;
      this.reading = false;
      try {
        if (count < limit) {
          // The table's end as of this snapshot: the last chunk is open-ended (upper null).
          const last = text as TextRows | null;
          this.push({ chunk: { rows, ...(last ? { text: last } : {}), upper: null, watermark: watermark ?? position(), exact: true }, from });
          return;
        }
        this.pendingFrom = from;
        this.maybeOpen();
      } catch (e) {
        fail(e);
      }
    });
  }
}

/** The events of a mysql2 callback-API query this module listens to. */
interface QueryEvents {
  on(event: 'result', listener: (row: Record<string, unknown>, index?: number) => void): QueryEvents;
  on(event: 'error', listener: (e: unknown) => void): QueryEvents;
  on(event: 'end', listener: () => void): QueryEvents;
}
