/**
 * The MariaDB exact-watermark chunks of a unique key read in windows (ChunkWindows): one consistent
 * snapshot and one streaming SELECT per several chunks, for tables whose reads wait on the server.
 * One query per chunk (reader.ts) stays the default.
 */
import type mysql from 'mysql2/promise';
import { TidemarkError } from '../../errors/index';
import type { ResolvedConfig } from '../config';
import type { Flavor } from '../flavor';
import type { BinlogPosition } from '../offset';
import { PullQueue } from '../pull-queue';
import { formatTableId } from '../types';
import { integerBound, type ChunkBound, type ChunkPlan } from './chunk-plan';
import { consistentKeysetSql, toKey, type ChunkResult, type ChunkSource } from './reader';
import { captureTextRows, TextRows } from './text-rows';

/** Whether the table's chunks can be read by ChunkWindows (else one readChunk per chunk only). */
export function usesChunkWindows(conn: mysql.Connection, flavor: Flavor, config: ResolvedConfig, plan: ChunkPlan): boolean {
  const multi = (conn as unknown as { config?: { multipleStatements?: boolean } }).config?.multipleStatements === true;
  return multi && config.snapshotWatermark === 'auto' && flavor.kind === 'mariadb' && plan.keyColumn !== null && plan.schema.primaryKey.length === 1;
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
 * the chunk size (8096) they outlived young-generation collections and were copied and promoted,
 * which made a server-bound snapshot slower (figures: docs/perf-notes.md, "Figures moved out of
 * code comments").
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
 * the state its rows are in (phase.ts: a chunk is emitted once the stream is drained to
 * its watermark; for a window's later chunks nothing is left to drain). The next window is asked
 * for when this one's rows are in and fewer than OPEN_NEXT_WINDOW_BELOW chunks wait.
 *
 * Why: one query per chunk leaves the server idle between a chunk's rows and the next chunk's
 * query; where the server is the slower side (a table larger than its buffer pool) that idle time
 * is the snapshot's. Windows keep it streaming, but mysql2 then hands over every row as an event,
 * which costs the client more CPU (docs/perf-notes.md): phase.ts switches a table to windows only
 * once it has seen the client wait on the server (serverBound).
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
