/**
 * The plain-data vocabulary of the CDC source: tables, columns with their Iceberg types, change
 * events, schema-change events and transaction batches. Everything here is serialisable (bigint
 * where 64-bit); no class instances, so batches can cross IPC once bigints are encoded.
 */
import type { SnapshotColumn } from './columns';
import type { SourceOffset } from './offset';

export type { SnapshotColumn } from './columns';

export interface TableId {
  db: string;
  table: string;
}

/** `db.table`, the form used in logs, maps and error messages. */
export function formatTableId(id: TableId): string {
  return `${id.db}.${id.table}`;
}

/**
 * Iceberg v2 primitive types (spec "Primitive Types"). MySQL types map onto these in
 * type-map.ts; `decimal` keeps precision and scale, p ≤ 38.
 */
export type IcebergType =
  | { type: 'boolean' }
  | { type: 'int' }
  | { type: 'long' }
  | { type: 'float' }
  | { type: 'double' }
  | { type: 'decimal'; precision: number; scale: number }
  | { type: 'date' }
  | { type: 'time' }
  | { type: 'timestamp' }
  | { type: 'timestamptz' }
  | { type: 'string' }
  | { type: 'binary' };

export interface ColumnSchema {
  name: string;
  /** The server's full column type, e.g. `bigint(20) unsigned`, `decimal(38,10)`, `enum('a','b')`. */
  mysqlType: string;
  icebergType: IcebergType;
  nullable: boolean;
  /** 1-based position in the table, as ORDINAL_POSITION. */
  position: number;
  /**
   * Character set of a text column (char, varchar, text, enum, set; MariaDB's json), as
   * CHARACTER_SET_NAME; absent for other types and where unknown. It decodes the column's binlog
   * bytes when the binlog does not describe its columns (schema-history mode, change-processor.ts).
   */
  charset?: string;
}

export interface TableSchema {
  table: TableId;
  columns: ColumnSchema[];
  /** Primary key column names in key order; empty when the table has none. */
  primaryKey: string[];
  /** The table's default character set (text columns added without one take it); absent where unknown. */
  charset?: string;
}

/**
 * A column value in its canonical form, identical whether it came from a snapshot SELECT or a
 * binlog row image (schema/column-codec.ts converts both):
 * boolean → boolean; int/float/double → number; long → bigint; decimal → string (plain decimal
 * text with exactly `scale` fraction digits); string → string; binary → Uint8Array;
 * date → number (days since 1970-01-01); time → bigint (µs since midnight);
 * timestamp → bigint (µs since 1970-01-01 of the wall-clock value, no zone);
 * timestamptz → bigint (µs since the UTC epoch); null → null.
 */
export type ColumnValue = null | boolean | number | bigint | string | Uint8Array;

export type Row = Record<string, ColumnValue>;

/** c = insert, u = update, d = delete, r = read during the snapshot phase (Debezium's letters). */
export type ChangeOp = 'c' | 'u' | 'd' | 'r';

export interface ChangeEvent {
  op: ChangeOp;
  /** Row image before the change: null for c and r. */
  before: Row | null;
  /** Row image after the change: null for d. */
  after: Row | null;
  table: TableId;
  /** Commit time of the source transaction in ms since the epoch (the snapshot read time for r). */
  opTsMs: number;
  /** Resume point after the transaction (or snapshot chunk) that holds this event. */
  offset: SourceOffset;
}

/**
 * One whole committed source transaction (or one snapshot chunk), restricted to captured tables;
 * or, when `partial`, one part of a large one (see there).
 */
export interface TransactionBatch {
  events: ChangeEvent[];
  /** Resume point after this batch: restarting from it neither repeats nor skips a transaction. */
  endOffset: SourceOffset;
  /**
   * Set on every part of a transaction but the last: a transaction whose rows events take more
   * than TRANSACTION_PART_BYTES (stream-state.ts) of binlog is handed out in parts, in order, all of
   * them after its commit was read (never a change of an uncommitted transaction). `endOffset` is
   * the transaction's end on every part: a consumer must not commit at a partial batch (it would
   * resume after the whole transaction), only at the last part.
   */
  partial?: true;
  /** GTID of the source transaction (`domain-server-seq` or `uuid:n`); absent for snapshot chunks. */
  gtid?: string;
  /** Commit time in ms since the epoch. */
  commitTsMs: number;
  /**
   * Set on a snapshot chunk's batch (snapshot/phase.ts): its rows in order, each the `after` of one
   * `r` event of `table` whose opTsMs is commitTsMs, except that in the columns named in
   * `int64Numbers` (long, timestamp, timestamptz) a number stands for the bigint of the same value
   * (µs for timestamps). A consumer may read these instead of `events`, which are built only when
   * first read, with bigints (no event object and no BigInt a value on the runner's snapshot path).
   */
  snapshotRows?: { table: TableId; rows: Row[]; int64Numbers: string[] };
  /**
   * Set instead of `snapshotRows` on a chunk decoded straight into columns (snapshot/text-columns.ts):
   * its `events` are built on first read from these columns.
   */
  snapshotColumns?: SnapshotColumns;
}

/** A snapshot chunk's rows as columns: `columns[c]` holds column `names[c]` of `count` rows. */
export interface SnapshotColumns {
  table: TableId;
  count: number;
  names: string[];
  columns: SnapshotColumn[];
}

export type ColumnPosition = { kind: 'first' } | { kind: 'after'; column: string } | { kind: 'last' };

export type SchemaChange =
  | { kind: 'create-table'; schema: TableSchema }
  | { kind: 'drop-table' }
  | { kind: 'truncate-table' }
  | { kind: 'rename-table'; to: TableId }
  | { kind: 'add-column'; column: ColumnSchema; position: ColumnPosition }
  | { kind: 'drop-column'; name: string }
  | { kind: 'rename-column'; from: string; to: string }
  /** Type, nullability and/or position change; `from` differs from `column.name` for CHANGE a b. */
  | { kind: 'modify-column'; from: string; column: ColumnSchema; position: ColumnPosition | null }
  /**
   * The primary key after ADD / DROP PRIMARY KEY (or an inline PRIMARY KEY on an added or modified
   * column) in one ALTER TABLE: key columns in order, empty when the table has none left.
   */
  | { kind: 'alter-primary-key'; primaryKey: string[] };

export interface SchemaChangeEvent {
  table: TableId;
  changes: SchemaChange[];
  /** The statement as logged, for audit and error messages. */
  ddl: string;
  /** Schema of the table after the change (null after drop-table); for rename-table, of the new name. */
  schemaAfter: TableSchema | null;
  /** Set when the change was recognised from a pt-osc / gh-ost shadow-table swap. */
  onlineSchemaChangeTool?: 'pt-osc' | 'gh-ost';
  opTsMs: number;
  offset: SourceOffset;
}

export interface SnapshotProgressEvent {
  table: TableId;
  rowsDone: number;
  /** From INFORMATION_SCHEMA.TABLES.TABLE_ROWS: an estimate, may be below rowsDone. */
  rowsEstimated: number;
  rowsPerSecond: number;
  /** Estimated ms until the table finishes; null when unknown. */
  etaMs: number | null;
  done: boolean;
}

/** What the source yields, in order. Only `transaction`, `schema-change` and `heartbeat` carry offsets to commit. */
export type SourceRecord =
  | { kind: 'transaction'; batch: TransactionBatch }
  | { kind: 'schema-change'; event: SchemaChangeEvent }
  | { kind: 'snapshot-progress'; progress: SnapshotProgressEvent }
  /** No captured change, but the offset moved (idle source, or changes to other tables). */
  | { kind: 'heartbeat'; offset: SourceOffset }
  /** The snapshot phase finished; with startup mode `snapshot` the iterator ends after this. */
  | { kind: 'snapshot-complete'; offset: SourceOffset };
