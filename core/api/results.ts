/**
 * Result types of the contract's calls and events, owned here: the code that produces them (sync
 * runner, connection test, plan, diffs, key history, stats) returns values of its own types, and
 * the handlers that answer a call (core/app) are typed by the contract, so an internal change that
 * alters what crosses the IPC boundary fails to typecheck instead of changing the contract unseen.
 * Plain data only: 64-bit values are bigint or decimal strings (STYLE.md).
 */

// ---- sync: progress, plan, connection test -------------------------------------------------

export interface TableProgress {
  /** Target table `namespace.table`. */
  table: string;
  /** Change events routed to this table since the run started (snapshot reads included). */
  rowsIn: number;
  /** Rows (after deduplication) committed: inserts + upserts + key deletes. */
  rowsCommitted: number;
  commits: number;
  lastSnapshotId: string | null;
  lastCommitAtMs: number | null;
  /** Commit time − source commit time of the newest change in the last commit (ms). */
  lagMs: number | null;
  /** Snapshot phase of this table's sources: rows read, estimate, ETA; null once streaming only. */
  snapshot: { rowsDone: number; rowsEstimated: number; etaMs: number | null; done: boolean } | null;
  lastError: string | null;
}

export type SyncPhase = 'starting' | 'snapshot' | 'streaming' | 'stopping' | 'stopped' | 'failed';

export interface SyncProgress {
  pipeline: string;
  phase: SyncPhase;
  /** Source position of the last commit round (`file:pos`), GTID set. */
  committedPosition: string | null;
  committedGtid: string | null;
  /** Transactions read from the source but not yet committed. */
  bufferedTransactions: number;
  tables: TableProgress[];
  lastError: string | null;
  updatedAtMs: number;
}

export type SchemaChangeType = 'create.table' | 'add.column' | 'alter.column.type' | 'rename.column' | 'drop.column' | 'drop.table' | 'truncate.table';

export type TableCapture =
  | { state: 'initial' | 'captured' | 'snapshotting'; action: string }
  | { state: 'newly-added'; handling: 'snapshot' | 'binlog' | 'not-captured'; action: string };

export interface PlanWarning {
  kind: 'key-collision' | 'key-mismatch' | 'no-primary-key' | 'bad-target' | 'transform' | 'one-chunk' | 'bucket-size';
  message: string;
  target: string | null;
}

/** How a Paimon target's rows spread over its buckets (from INFORMATION_SCHEMA estimates of its sources). */
export interface BucketPlan {
  /** `bucket` of the table (the existing table's, else table.properties.bucket); dynamic bucket: the buckets its rows will fill. */
  count: number;
  /** Dynamic bucket (`bucket` -1 or unset): a new bucket every `targetRowNum` keys (dynamic-bucket.target-row-num); null for a fixed count. */
  dynamic: { targetRowNum: number } | null;
  /** The bucket key: `bucket-key`, else the primary key minus partition columns. */
  key: string[];
  rowsEstimated: number;
  bytesEstimated: number;
  rowsPerBucket: number;
  bytesPerBucket: number;
}

/** `tidemark plan` / sync.plan: what a sync would do, without writing anything. */
export interface PipelinePlan {
  pipeline: string;
  /** The sink's lake format. */
  sink: 'iceberg' | 'paimon';
  source: string;
  /** Binlog position the next sync resumes at; null before the first commit (or when it replays from scan.startup.mode). */
  resumeFrom: string | null;
  sourceTables: { table: string; primaryKey: string[]; targets: string[]; transform: number | null; capture: TableCapture }[];
  targets: {
    table: string;
    path: string;
    exists: boolean;
    sources: string[];
    key: string[];
    /** Lake type in the spec's spelling; only key columns are required. */
    columns: { name: string; type: string; required: boolean }[];
    partitionBy: { column: string; transform: string }[];
    changelog: string | null;
    /** Paimon targets: the fixed bucket count and how the source's estimated rows spread over it; null for Iceberg targets. */
    buckets: BucketPlan | null;
  }[];
  notCaptured: string[];
  excluded: string[];
  warnings: PlanWarning[];
  schemaChangeBehavior: string;
  schemaChanges: Record<SchemaChangeType, string>;
  commitIntervalMs: number;
}

export interface PreflightCheck {
  name:
    | 'tls'
    | 'binlog'
    | 'binlog_format'
    | 'binlog_row_image'
    | 'binlog_row_metadata'
    | 'binlog_transaction_compression'
    | 'binlog_row_value_options'
    | 'server_id'
    | 'privileges'
    | 'tables'
    | 'primary_keys'
    | 'server_time_zone';
  ok: boolean;
  /** One line: what was expected, what was found, and how to fix it. */
  message: string;
}

export interface PreflightReport {
  ok: boolean;
  server: string;
  checks: PreflightCheck[];
  /** Whether the checking session was encrypted (every connection of the source uses the same TLS settings). */
  tls?: { encrypted: boolean; version: string | null; cipher: string | null };
}

// ---- explorer: diffs, key history, column stats --------------------------------------------

export interface DiffField {
  id: number;
  /** Dotted path of names from the top level. */
  path: string;
  type: string;
  required: boolean;
}

export interface SchemaDiff {
  added: DiffField[];
  removed: DiffField[];
  renamed: { id: number; from: string; to: string }[];
  typeChanged: { id: number; path: string; from: string; to: string }[];
  nullabilityChanged: { id: number; path: string; from: 'required' | 'optional'; to: 'required' | 'optional' }[];
  identifierChanged: { from: string[]; to: string[] } | null;
  partitionSpecChanged: { from: string; to: string } | null;
}

export interface ChangedRow {
  key: Record<string, unknown>;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  changedColumns: string[];
}

export interface RowDiff {
  from: bigint;
  to: bigint;
  key: string[];
  addedCount: number;
  removedCount: number;
  changedCount: number;
  added: Record<string, unknown>[];
  removed: Record<string, unknown>[];
  changed: ChangedRow[];
}

export type KeyStatus = 'inserted' | 'updated' | 'deleted' | 'unchanged' | 'unreadable';

export interface KeyVersion {
  snapshotId: bigint;
  sequenceNumber: bigint;
  timestampMs: number;
  operation: string;
  status: KeyStatus;
  /** The row at this snapshot (null once deleted). More than one row means the key is not unique. */
  rows: Record<string, unknown>[];
  /** Columns whose value differs from the previous version's (status `updated`, one row each). */
  changedColumns: string[];
  /** Source position: Tidemark's sync offsets of the commit (`tidemark.*`) and, with an audit changelog, the row's own (`changelog.*`). */
  source: Record<string, string>;
  /** Why the snapshot could not be read (status `unreadable`: a file is missing or corrupt). */
  error?: string;
}

export interface HistogramBin {
  /** Inclusive lower edge (canonical value of the column's type, numbers as number). */
  low: unknown;
  high: unknown;
  count: number;
}

export interface ColumnStats {
  name: string;
  type: string;
  count: number;
  nulls: number;
  min: unknown;
  max: unknown;
  approxDistinct: number;
  histogram: HistogramBin[] | null;
  topValues: { value: unknown; count: number }[] | null;
}
