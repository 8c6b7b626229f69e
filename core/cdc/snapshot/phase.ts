/**
 * The snapshot phase: Flink CDC's incremental-snapshot (DBLog) method, lock-free, interleaved with
 * the binlog stream so that the emitted sequence is one consistent history.
 *
 * For each chunk (lastKey, upper] of a table:
 *  1. SELECT the chunk, and take its watermark W: the exact MariaDB consistent-snapshot position,
 *     or the high watermark read after the SELECT.
 *  2. Drain the binlog from where the stream stands up to W. Changes to rows already emitted
 *     (earlier tables, earlier chunks) are emitted; changes to rows of later chunks are skipped
 *     (their SELECT will see them); changes to rows of this chunk are folded into the chunk buffer
 *     in binlog order. Each binlog image is the whole row, so folding an already-seen change is a
 *     no-op overwrite: the buffer ends as the chunk's state at W either way.
 *  3. Emit the buffer as `r` events with the offset (W, snapshot state after this chunk).
 * A restart resumes the binlog at that offset and the snapshot at the next chunk: nothing is lost
 * or repeated, and the consumer's state always equals the source state at the stream position
 * for every row emitted so far.
 */
import type mysql from 'mysql2/promise';
import { performance } from 'node:perf_hooks';
import type { Flavor } from '../flavor';
import { comparePositions } from '../offset';
import { decodeKeyTuple, encodeKeyTuple, keyColumnSql, readCollations } from './chunk-keys';
import { checkSpatialChunkKey, readPrefixedKeyColumns } from './key-indexes';
import { limitToPrefixIndex, planChunks, type ChunkBound, type ChunkPlan } from './chunk-plan';
import { chunkQueries, type ChunkResult, type ChunkSource } from './reader';
import { ChunkWindows, integerKeyset, usesChunkWindows } from './chunk-windows';
import { tupleKeyset, usesTupleWindows } from './tuple-windows';
import { int64NumberColumns, snapshotRowConverter } from './rows';
import { decodeTextRows } from './text-columns';
import { makeChunkFilter } from './chunk-filter';
import { ColumnsSnapshotBatch, SnapshotBatch, textRowObjects } from './chunk-batches';
import type { StreamState } from '../binlog/stream-state';
import { TidemarkError } from '../../errors/index';
import { formatTableId, type ChangeEvent, type Row, type SourceRecord, type TableSchema, type TransactionBatch } from '../types';

export interface SnapshotPhaseOptions {
  conn: mysql.Connection;
  flavor: Flavor;
  state: StreamState;
  /** Row-count estimates by `db.table` (INFORMATION_SCHEMA.TABLES.TABLE_ROWS). */
  estimates: Map<string, number>;
}

/** The stored form of a chunk bound (SnapshotState.lastKey). */
function encodeBound(b: ChunkBound): string {
  return typeof b === 'bigint' ? b.toString() : encodeKeyTuple(b);
}

/** Reads SnapshotState.lastKey for `plan`; DataInvalid naming the table when it does not fit. */
function decodeBound(plan: ChunkPlan, text: string | null): ChunkBound | null {
  if (text === null) return null;
  const table = formatTableId(plan.schema.table);
  if (plan.tuple) return decodeKeyTuple(text, plan.tuple.columns, plan.tuple.kinds, table);
  if (plan.keyColumn !== null && /^-?\d+$/.test(text)) return BigInt(text);
  throw new TidemarkError('DataInvalid', `offset snapshot.lastKey ${JSON.stringify(text.slice(0, 200))} of ${table} does not fit its chunk key (${plan.keyColumn ?? 'none: one chunk'})`, {
    table,
    lastKey: text.slice(0, 200),
  });
}

interface TableProgress {
  rowsDone: number;
  startedAt: number;
  estimate: number;
}

/**
 * Steps 2 and 3 for one chunk: drains the binlog up to its watermark, then emits its rows and a
 * progress record. False when the table vanished during the drain (the chunk is not emitted).
 * Advances the snapshot state and `progress.rowsDone`.
 *
 * A generator of its own so that nothing of the chunk (rows, events, the drain's closures) stays
 * reachable once it is emitted: inline in the loop, the closures' context held the emitted chunk
 * while the next one arrived, so each young-generation GC copied two chunks' rows and promoted
 * them to the old generation (--trace-gc figures: docs/perf-notes.md).
 */
async function* emitChunk(
  opts: SnapshotPhaseOptions,
  plan: ChunkPlan,
  lastKey: ChunkBound | null,
  chunk: ChunkResult,
  progress: TableProgress,
): AsyncGenerator<SourceRecord, boolean> {
  const { state } = opts;
  const { config, catalog } = state;
  const snap = state.snapshot!;
  const id = plan.schema.table;
  // The chunk's rows by key, built only once a binlog change must be folded in (rarely).
  let buffer: Map<string, Record<string, unknown>> | null = null;
  const rowsByKey = () => {
    if (!buffer) {
      buffer = new Map();
      for (const row of chunk.rows) buffer.set(catalog.keyOf(id, row), row);
    }
    return buffer;
  };
  if (plan.keyless && !chunk.exact) throw keylessNeedsExact(plan);
  const filter = makeChunkFilter(opts, plan, lastKey, chunk, rowsByKey);
  while (comparePositions(state.pos, chunk.watermark) < 0) {
    for (const rec of await state.step(filter)) yield rec;
  }
  if (!catalog.has(id)) {
    // Dropped or renamed away during the drain (its schema change is already out): its rows
    // are gone from the consumer's point of view, so the chunk is not emitted.
    snap.tableIndex++;
    snap.lastKey = null;
    delete snap.chunks;
    return false;
  }
  if (chunk.upper === null) {
    snap.tableIndex++;
    snap.lastKey = null;
    delete snap.chunks;
  } else {
    snap.lastKey = encodeBound(chunk.upper);
    snap.chunks = (snap.chunks ?? 0) + 1;
  }
  const now = config.now();
  const offset = state.offset();
  let batch: TransactionBatch | null = null;
  // The catalog may have changed during the drain (DDL); rows still carry the SELECT's columns.
  const columns = chunk.text ? decodeTextRows(chunk.text, catalog.get(id)!) : null;
  if (columns !== null) {
    if (columns.count > 0) batch = new ColumnsSnapshotBatch(columns, offset, now);
  } else if (buffer === null) {
    // Rows straight from one SELECT share their keys: one conversion plan for the chunk.
    const rows = chunk.text ? textRowObjects(chunk.text) : chunk.rows;
    const schema = catalog.get(id)!;
    const names = rows.length === 0 ? [] : Object.keys(rows[0]!);
    const convert = rows.length === 0 ? null : snapshotRowConverter(schema, names, { int64Numbers: true });
    if (convert !== null) {
      for (let i = 0; i < rows.length; i++) convert(rows[i]!);
      batch = new SnapshotBatch(id, rows as Row[], int64NumberColumns(schema, names), offset, now);
    } else if (rows.length > 0) {
      batch = { events: rows.map((raw) => ({ op: 'r', before: null, after: catalog.convertRow(id, raw, undefined, rows), table: id, opTsMs: now, offset })), endOffset: offset, commitTsMs: now };
    }
  } else {
    const events: ChangeEvent[] = [];
    for (const raw of (buffer as Map<string, Record<string, unknown>>).values()) events.push({ op: 'r', before: null, after: catalog.convertRow(id, raw), table: id, opTsMs: now, offset });
    if (events.length > 0) batch = { events, endOffset: offset, commitTsMs: now };
  }
  if (batch !== null) {
    progress.rowsDone += batch.snapshotColumns?.count ?? batch.snapshotRows?.rows.length ?? batch.events.length;
    yield { kind: 'transaction', batch };
  } else yield { kind: 'heartbeat', offset };
  const elapsed = Math.max(1, now - progress.startedAt);
  const rowsDone = progress.rowsDone;
  const rate = (rowsDone * 1000) / elapsed;
  const done = chunk.upper === null;
  const estimate = progress.estimate;
  yield {
    kind: 'snapshot-progress',
    progress: {
      table: id,
      rowsDone,
      rowsEstimated: estimate,
      rowsPerSecond: Math.round(rate),
      etaMs: done ? 0 : rate > 0 && estimate > rowsDone ? Math.round(((estimate - rowsDone) * 1000) / rate) : null,
      done,
    },
  };
  return true;
}

function keylessNeedsExact(plan: ChunkPlan): TidemarkError {
  const table = formatTableId(plan.schema.table);
  return new TidemarkError(
    'Unsupported',
    `${table} has no primary key: its snapshot needs MariaDB's consistent-snapshot watermark (a high watermark folds concurrent changes into a chunk by row identity, which a table without a key lacks)`,
    { table },
  );
}

/**
 * The table's chunk plan, with the typed literals of a tuple key (its columns' collations read
 * from the server) ready for the reads and the binlog filter.
 */
async function prepareChunks(opts: SnapshotPhaseOptions, schema: TableSchema): Promise<ChunkPlan> {
  const plan = planChunks(schema, opts.state.config);
  const chunked = plan.keyColumn !== null || plan.tuple !== null;
  if (chunked && plan.keyless && (opts.state.config.snapshotWatermark !== 'auto' || opts.flavor.kind !== 'mariadb')) throw keylessNeedsExact(plan);
  if (plan.tuple && !plan.keyless) limitToPrefixIndex(plan.tuple, await readPrefixedKeyColumns(opts.conn, schema));
  await checkSpatialChunkKey(opts.conn, plan);
  if (plan.tuple) plan.tuple.sql = keyColumnSql(schema, plan.tuple.columns, await readCollations(opts.conn, schema));
  return plan;
}

/** Chunks a table is read one query each before serverBound may switch it to windows. */
const CHUNKS_BEFORE_SWITCH = 64;
/** Share of the time the event loop sat idle waiting for chunks above which serverBound switches. */
const IDLE_SHARE = 0.12;

/**
 * Whether a table whose chunks come one query each should switch to windows (snapshot-reader.ts
 * ChunkWindows): after `chunks` chunks, the event loop sat idle waiting for the next chunk
 * (`idleMs`: waiting on the server, the client's own parsing of the rows excluded) for more than
 * IDLE_SHARE of the `elapsedMs` since the table's first chunk. The threshold separates a table
 * held in the server's memory (the client is the slower side: windows would only add their CPU)
 * from one larger than the buffer pool; fewer chunks than CHUNKS_BEFORE_SWITCH gave too noisy a
 * share (the snapshot bench's idle shares: docs/perf-notes.md).
 */
export function serverBound(chunks: number, idleMs: number, elapsedMs: number): boolean {
  return chunks >= CHUNKS_BEFORE_SWITCH && idleMs > IDLE_SHARE * elapsedMs;
}

export async function* runSnapshotPhase(opts: SnapshotPhaseOptions): AsyncGenerator<SourceRecord> {
  const { state } = opts;
  const { config, catalog } = state;
  const snap = state.snapshot!;
  while (snap.tableIndex < snap.tables.length) {
    const id = snap.tables[snap.tableIndex]!;
    const name = formatTableId(id);
    const schema = catalog.get(id);
    if (!schema) {
      // Dropped (or renamed away) since the table list was made: nothing left to read.
      snap.tableIndex++;
      snap.lastKey = null;
      delete snap.chunks;
      continue;
    }
    const plan = await prepareChunks(opts, schema);
    let lastKey = decodeBound(plan, snap.lastKey);
    const progress: TableProgress = { rowsDone: 0, startedAt: config.now(), estimate: opts.estimates.get(name) ?? 0 };
    // Windows for a single integer key, or a unique tuple key read in its index's order.
    const keyset =
      config.snapshotWindows === 'never'
        ? null
        : plan.keyColumn !== null
          ? usesChunkWindows(opts.conn, opts.flavor, config, plan)
            ? integerKeyset(plan, plan.keyColumn)
            : null
          : usesTupleWindows(opts.conn, opts.flavor, config, plan)
            ? tupleKeyset(plan)
            : null;
    const windowed = keyset !== null;
    const queries = windowed && config.snapshotWindows === 'always' ? null : chunkQueries(opts.conn, opts.flavor, config, plan, lastKey);
    let chunks: ChunkSource = queries ?? new ChunkWindows(opts.conn, config, plan, keyset!, lastKey);
    // While chunks come one query each (auto): the event loop's idle time waiting for them since
    // the table's first chunk; once serverBound, the chunk being read ahead is the last by query.
    const waits = queries && windowed && config.snapshotWindows === 'auto' ? { chunks: 0, idleMs: 0, since: performance.now(), switching: false } : null;
    try {
      for (;;) {
        const asked = waits ? performance.eventLoopUtilization() : null;
        const chunk = await chunks.next();
        const idle = asked ? performance.eventLoopUtilization(asked).idle : 0;
        if (chunk === null) {
          snap.tableIndex++;
          snap.lastKey = null;
          delete snap.chunks;
          break;
        }
        const upper = chunk.upper;
        const emitted = yield* emitChunk(opts, plan, lastKey, chunk, progress);
        if (!emitted) break; // a chunk read ahead, if any, is dropped
        if (upper === null) break;
        lastKey = upper;
        if (waits?.switching) {
          chunks = new ChunkWindows(opts.conn, config, plan, keyset!, lastKey);
          waits.switching = false;
        } else if (waits && chunks === queries) {
          waits.chunks++;
          waits.idleMs += idle;
          if (serverBound(waits.chunks, waits.idleMs, performance.now() - waits.since)) {
            queries.lastAhead();
            waits.switching = true;
          }
        }
      }
    } finally {
      chunks.close();
    }
  }
  state.snapshot = null;
  yield { kind: 'snapshot-complete', offset: state.offset() };
}
