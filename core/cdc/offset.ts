/**
 * Source offsets: where a restarted source continues. An offset always names the point *after* the
 * last batch handed to the consumer, so "commit the offset with the data" gives exactly-once.
 */
import { TidemarkError } from '../errors/index';
import type { TableId, TableSchema } from './types';

export interface BinlogPosition {
  /** Binlog file name as the server lists it, e.g. `binlog.000003`. */
  file: string;
  /** Byte offset in that file of the next event to read. 64-bit: files may exceed 4 GiB. */
  pos: bigint;
}

/** Progress of the snapshot phase, resumable at chunk granularity. */
export interface SnapshotState {
  /** The tables to snapshot, in order; those before `tableIndex` are complete. */
  tables: TableId[];
  tableIndex: number;
  /**
   * Chunk key (decimal text) of the last row emitted for `tables[tableIndex]`: rows with a key at or
   * below it are already emitted. null: nothing of that table emitted yet.
   */
  lastKey: string | null;
  /**
   * Chunks of `tables[tableIndex]` emitted up to this offset (absent before its first chunk, and
   * in offsets written before the count existed). It orders two offsets inside one table's snapshot
   * whose `lastKey`s are key tuples: their order is the server's (collations, UUID), not one JS knows.
   */
  chunks?: number;
}

/**
 * An XA transaction prepared (its rows are in the binlog) but not yet committed or rolled back at
 * an offset. Its rows are emitted only at its XA COMMIT, so a restart from that offset re-reads
 * the binlog from `start` to collect them again (and passes over everything else before the offset).
 */
export interface PreparedXa {
  /** `formatId:gtridHex:bqualHex`. */
  xid: string;
  /** Position of the first event of the prepared group. */
  start: BinlogPosition;
}

export interface SourceOffset extends BinlogPosition {
  /**
   * Executed GTIDs up to this point: a MariaDB GTID position (`0-1-42,1-3-7`) or a MySQL GTID set
   * (`uuid:1-42`). null when unknown (a MySQL server without gtid_mode, or a file:pos start
   * with no seed).
   */
  gtidSet: string | null;
  /** Present while the snapshot phase is unfinished. */
  snapshot: SnapshotState | null;
  /**
   * Schemas of the captured tables as of this position (the binlog's schema history). A restart
   * decodes the binlog after this point with them instead of the server's current schemas, which
   * may already include later DDL. null: take the server's current schemas.
   */
  schemas: TableSchema[] | null;
  /** XA transactions on captured tables prepared before this point and not finished at it; absent = none. */
  preparedXa?: PreparedXa[];
  /**
   * Snapshot phases of newly added tables (scan.newly-added-table.enabled) begun at or before this
   * point; absent = 0. Such a phase starts at a binlog position a finished stream already reached,
   * so offsets order by (position, round, snapshot progress): see compareOffsets in core/pipeline.
   */
  round?: number;
}

/** Splits `binlog.000123` into its base and sequence so positions compare across rotations. */
function splitFile(file: string): { base: string; seq: number } {
  const m = /^(.*)\.(\d+)$/.exec(file);
  if (!m) return { base: file, seq: 0 };
  return { base: m[1]!, seq: Number(m[2]) };
}

/** Orders binlog positions: negative when a is before b. Files order by their numeric suffix. */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  if (a.file !== b.file) {
    const fa = splitFile(a.file);
    const fb = splitFile(b.file);
    if (fa.seq !== fb.seq) return fa.seq - fb.seq;
    return a.file < b.file ? -1 : 1;
  }
  return a.pos === b.pos ? 0 : a.pos < b.pos ? -1 : 1;
}

export function formatPosition(p: BinlogPosition): string {
  return `${p.file}:${p.pos}`;
}

interface OffsetJson {
  file: string;
  pos: string;
  gtidSet: string | null;
  snapshot: SnapshotState | null;
  schemas: TableSchema[] | null;
  preparedXa?: { xid: string; file: string; pos: string }[];
  round?: number;
}

/**
 * JSON text of an offset: bigint positions become decimal strings (STYLE: 64-bit on the wire).
 * `schemas: false` leaves the schema history out (smaller, e.g. for per-commit summaries); a
 * restart from such an offset decodes with the server's current schemas.
 */
export function encodeOffset(offset: SourceOffset, options: { schemas?: boolean } = {}): string {
  const json: OffsetJson = {
    file: offset.file,
    pos: offset.pos.toString(),
    gtidSet: offset.gtidSet,
    snapshot: offset.snapshot,
    schemas: options.schemas === false ? null : offset.schemas,
  };
  // Only written when present, so offsets without pending XA keep their earlier JSON form.
  if (offset.round) json.round = offset.round;
  if (offset.preparedXa?.length) json.preparedXa = offset.preparedXa.map((x) => ({ xid: x.xid, file: x.start.file, pos: x.start.pos.toString() }));
  return JSON.stringify(json);
}

function invalid(text: string, what: string): TidemarkError {
  return new TidemarkError('InvalidInput', `source offset: ${what} in ${JSON.stringify(text.slice(0, 200))}`, {
    offset: text.slice(0, 200),
  });
}

function isTableId(v: unknown): v is TableId {
  return typeof v === 'object' && v !== null && typeof (v as TableId).db === 'string' && typeof (v as TableId).table === 'string';
}

/** Parses `encodeOffset` output; anything else is InvalidInput naming the bad field. */
export function decodeOffset(text: string): SourceOffset {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw invalid(text, `not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(text, 'expected an object');
  const o = raw as Record<string, unknown>;
  if (typeof o.file !== 'string' || o.file === '') throw invalid(text, 'field "file" must be a non-empty string');
  if (typeof o.pos !== 'string' || !/^\d{1,20}$/.test(o.pos)) throw invalid(text, 'field "pos" must be a decimal string');
  const gtidSet = o.gtidSet ?? null;
  if (gtidSet !== null && typeof gtidSet !== 'string') throw invalid(text, 'field "gtidSet" must be a string or null');
  let snapshot: SnapshotState | null = null;
  if (o.snapshot !== null && o.snapshot !== undefined) {
    const s = o.snapshot as Record<string, unknown>;
    if (typeof s !== 'object' || !Array.isArray(s.tables) || !s.tables.every(isTableId)) {
      throw invalid(text, 'field "snapshot.tables" must be a list of {db, table}');
    }
    if (typeof s.tableIndex !== 'number' || !Number.isInteger(s.tableIndex) || s.tableIndex < 0 || s.tableIndex > s.tables.length) {
      throw invalid(text, 'field "snapshot.tableIndex" must be an index into snapshot.tables');
    }
    if (s.lastKey !== null && typeof s.lastKey !== 'string') throw invalid(text, 'field "snapshot.lastKey" must be a string or null');
    if (s.chunks !== undefined && (typeof s.chunks !== 'number' || !Number.isInteger(s.chunks) || s.chunks < 1)) throw invalid(text, 'field "snapshot.chunks" must be a positive integer');
    snapshot = {
      tables: s.tables.map((t: TableId) => ({ db: t.db, table: t.table })),
      tableIndex: s.tableIndex,
      lastKey: (s.lastKey as string | null) ?? null,
      ...(s.chunks !== undefined ? { chunks: s.chunks } : {}),
    };
  }
  let schemas: TableSchema[] | null = null;
  if (o.schemas !== null && o.schemas !== undefined) {
    const ok =
      Array.isArray(o.schemas) &&
      o.schemas.every(
        (s: Partial<TableSchema>) => isTableId(s?.table) && Array.isArray(s.columns) && Array.isArray(s.primaryKey) && s.columns.every((c) => typeof c?.name === 'string' && typeof c.mysqlType === 'string' && typeof c.icebergType?.type === 'string'),
      );
    if (!ok) throw invalid(text, 'field "schemas" must be a list of table schemas');
    schemas = o.schemas as TableSchema[];
  }
  let preparedXa: PreparedXa[] | undefined;
  if (o.preparedXa !== undefined && o.preparedXa !== null) {
    const list = o.preparedXa as { xid?: unknown; file?: unknown; pos?: unknown }[];
    const ok = Array.isArray(list) && list.every((x) => typeof x?.xid === 'string' && typeof x.file === 'string' && x.file !== '' && typeof x.pos === 'string' && /^\d{1,20}$/.test(x.pos));
    if (!ok) throw invalid(text, 'field "preparedXa" must be a list of {xid, file, pos}');
    if (list.length > 0) preparedXa = list.map((x) => ({ xid: x.xid as string, start: { file: x.file as string, pos: BigInt(x.pos as string) } }));
  }
  if (o.round !== undefined && (typeof o.round !== 'number' || !Number.isInteger(o.round) || o.round < 0)) throw invalid(text, 'field "round" must be a non-negative integer');
  const round = (o.round as number | undefined) ?? 0;
  return { file: o.file, pos: BigInt(o.pos), gtidSet, snapshot, schemas, ...(preparedXa ? { preparedXa } : {}), ...(round > 0 ? { round } : {}) };
}
