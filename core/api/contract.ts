/**
 * The contract between the UI and the engine: every call (`area.verb`) with its input schema
 * (validated at the boundary; wire form in, core form out) and output type, and every pushed event.
 * Electron main and the browser-mode server build their handler tables against `HandlerTable`,
 * so a missing or extra handler fails to compile.
 */
import { z } from 'zod';
import type { Wire } from './wire';
import type { ColumnStats, KeyVersion, PipelinePlan, PreflightReport, RowDiff, SchemaDiff, SyncProgress } from './results';

/** A 64-bit id on the wire: a decimal string, parsed to bigint for core. */
export const wireBigint = z
  .string()
  .regex(/^-?\d{1,20}$/, 'expected a decimal integer string')
  .transform((s) => BigInt(s));

const tablePath = z.string().min(1, 'expected a table folder path');
/** Pipeline names become file names in the app's data folder: keep them plain. */
/** Profile names too are file keys: plain. */
const profileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a profile name of letters, digits, . _ - (max 64)');
const pipelineName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a name of letters, digits, . _ - (max 64)');

/** Which version of a table: a snapshot id, the snapshot current at a time, or a ref; none = current. */
export const versionInput = z
  .object({
    snapshotId: wireBigint.optional(),
    asOfTimestampMs: z.number().int().optional(),
    ref: z.string().min(1).optional(),
  })
  .strict()
  .refine((v) => [v.snapshotId, v.asOfTimestampMs, v.ref].filter((x) => x !== undefined).length <= 1, 'choose one of snapshotId, asOfTimestampMs, ref');

const diffVersion = z.union([z.literal('current'), wireBigint]);
const refName = z.string().min(1, 'expected a tag or branch name').refine((n) => n.trim() === n, 'expected a name without leading or trailing spaces');
const refType = z.enum(['tag', 'branch']);
const taskId = z.string().regex(/^[\w.:-]{1,100}$/, 'expected a task id of letters, digits, . _ : -');
const compactionScope = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('all') }).strict(),
  z.object({ kind: z.literal('small'), belowBytes: z.number().int().positive().optional() }).strict(),
  z.object({ kind: z.literal('partition'), partition: z.string() }).strict(),
]);

/**
 * Bounds of the query engine's memory budget setting, in MiB: DuckDB-wasm has ~3.1 GiB usable
 * (KNOWN-FACTS), so more than 3 GiB would let a query reach its out-of-memory error again.
 */
export const MEMORY_BUDGET_MIB = { min: 16, max: 3072, default: 1536 } as const;
const memoryBudgetMiB = z
  .number()
  .int('expected a whole number of MiB')
  .min(MEMORY_BUDGET_MIB.min, `expected at least ${MEMORY_BUDGET_MIB.min} MiB`)
  .max(MEMORY_BUDGET_MIB.max, `expected at most ${MEMORY_BUDGET_MIB.max} MiB (DuckDB-wasm has ~3.1 GiB)`);

export const FILTER_OPS = ['=', '!=', '<', '<=', '>', '>=', 'contains', 'is null', 'is not null'] as const;

export const callInputs = {
  'app.version': z.object({}).strict(),
  'app.initialState': z.object({}).strict(),
  /** The app's settings, saved in its data folder. */
  'settings.read': z.object({}).strict(),
  /** Saves the given settings (the others are kept) and applies them to the main process's engine. */
  'settings.save': z.object({ queryMemoryBudgetMiB: memoryBudgetMiB.optional() }).strict(),
  'lake.openWarehouse': z.object({ path: z.string().min(1, 'expected a folder path') }).strict(),
  'lake.tableInfo': z.object({ path: tablePath }).strict(),
  'lake.snapshots': z.object({ path: tablePath }).strict(),
  'lake.schema': z.object({ path: tablePath, version: versionInput.optional() }).strict(),
  'lake.files': z.object({ path: tablePath, version: versionInput.optional() }).strict(),
  /** Creates a tag or branch at a snapshot (default: the current one), or moves it there. */
  'lake.setRef': z.object({ path: tablePath, name: refName, type: refType, snapshotId: wireBigint.optional() }).strict(),
  'lake.removeRef': z.object({ path: tablePath, name: refName, type: refType }).strict(),
  /** Rolls main back to one of its ancestors. */
  'lake.rollback': z.object({ path: tablePath, snapshotId: wireBigint }).strict(),
  /** Applies a snapshot onto a branch (default main): fast-forward, or an append re-applied. */
  'lake.cherryPick': z.object({ path: tablePath, snapshotId: wireBigint, branch: refName.optional() }).strict(),
  /** Compacts the whole table, one partition (its values as JSON text) or the small files; dryRun previews. */
  'lake.compact': z.object({ path: tablePath, scope: compactionScope, dryRun: z.boolean().default(false), task: taskId.optional() }).strict(),
  /** Expires snapshots (retainLast and/or olderThanMs) and deletes the files only they reached; dryRun previews. */
  'lake.expire': z
    .object({ path: tablePath, retainLast: z.number().int().min(1).optional(), olderThanMs: z.number().int().optional(), dryRun: z.boolean().default(false) })
    .strict()
    .refine((v) => v.retainLast !== undefined || v.olderThanMs !== undefined, 'give retainLast, olderThanMs or both'),
  /** Deletes files under the table no metadata names, last modified before olderThanMs; dryRun lists them. */
  'lake.removeOrphans': z.object({ path: tablePath, olderThanMs: z.number().int(), dryRun: z.boolean().default(false) }).strict(),
  /** Cancels a running task started with that id (a compaction): nothing is committed. */
  'lake.cancel': z.object({ task: taskId }).strict(),
  'query.page': z
    .object({
      path: tablePath,
      version: versionInput.optional(),
      offset: z.number().int().min(0).default(0),
      limit: z.number().int().min(0).max(10_000).default(200),
      sort: z.array(z.object({ column: z.string(), desc: z.boolean().default(false) }).strict()).default([]),
      filters: z.array(z.object({ column: z.string(), op: z.enum(FILTER_OPS), value: z.string().optional() }).strict()).default([]),
      /**
       * The grid's first page: rows carry only the first N columns' values (those in view), so
       * that only their pages are decoded before the first paint; `columns` still lists every
       * column. Honoured for Iceberg pages in file order (unsorted, unfiltered); others carry all.
       */
      leadColumns: z.number().int().min(1).optional(),
    })
    .strict(),
  'query.count': z.object({ path: tablePath, version: versionInput.optional() }).strict(),
  /**
   * Sets the memory a console query's table data may take in the engine that answers this call
   * (the renderer's own, or main's): the UI sends the saved setting at start and after a change.
   */
  'query.configure': z.object({ memoryBudgetMiB }).strict(),
  /** Forgets what the query engine keeps of a table's current metadata (after a tag, rollback, compaction…). */
  'query.refresh': z.object({ path: tablePath }).strict(),
  'query.sql': z.object({ warehouse: z.string().min(1), sql: z.string().min(1, 'expected SQL'), limit: z.number().int().min(1).max(100_000).default(10_000) }).strict(),
  'query.schemaDiff': z.object({ path: tablePath, from: diffVersion, to: diffVersion }).strict(),
  'query.rowDiff': z.object({ path: tablePath, from: wireBigint, to: wireBigint, key: z.array(z.string()).optional(), limit: z.number().int().min(0).max(10_000).default(200) }).strict(),
  'query.keyHistory': z.object({ path: tablePath, key: z.record(z.string(), z.string()).refine((k) => Object.keys(k).length > 0, 'expected at least one key column') }).strict(),
  'query.stats': z.object({ path: tablePath, version: versionInput.optional() }).strict(),
  'query.export': z
    .object({
      to: z.string().min(1, 'expected an output file path'),
      format: z.enum(['csv', 'parquet']),
      path: tablePath.optional(),
      version: versionInput.optional(),
      warehouse: z.string().optional(),
      sql: z.string().optional(),
    })
    .strict()
    .refine((v) => (v.path !== undefined) !== (v.sql !== undefined && v.warehouse !== undefined), 'give either path (a table) or warehouse + sql'),
  /**
   * Opens a remote lake: `s3://bucket/prefix` (a warehouse or one table) or a REST catalog
   * `rest+http(s)://host:port/<warehouse>`, with a saved connection profile. Its tables get paths
   * under a lake id (`/~remote/<id>/…`) that every other call and the file route take: the main
   * process holds the credentials and signs; no URL with a secret reaches the renderer.
   */
  'lake.openRemote': z.object({ target: z.string().min(1, 'expected s3://bucket/prefix or rest+http(s)://host:port/warehouse'), profile: profileName.optional() }).strict(),
  'profiles.list': z.object({}).strict(),
  /**
   * Saves a connection profile (replacing one of that name). A secret is either a value, kept in
   * the OS keychain (Electron), or `env:NAME`, a variable read when the profile is used (the only
   * form in browser mode); omitted on a replace, the stored secret is kept.
   */
  'profiles.save': z
    .object({
      name: profileName,
      endpoint: z.string().url('expected an http(s):// endpoint URL').optional(),
      region: z.string().min(1).optional(),
      pathStyle: z.boolean().optional(),
      accessKeyId: z.string().min(1).optional(),
      secretAccessKey: z.string().min(1).optional(),
      sessionToken: z.string().min(1).optional(),
      token: z.string().min(1).optional(),
      credential: z.string().min(1).optional(),
    })
    .strict(),
  'profiles.delete': z.object({ name: profileName }).strict(),
  'sync.list': z.object({}).strict(),
  'sync.read': z.object({ name: pipelineName }).strict(),
  'sync.save': z.object({ name: pipelineName, yaml: z.string() }).strict(),
  'sync.delete': z.object({ name: pipelineName }).strict(),
  'sync.validate': z.object({ yaml: z.string(), name: z.string().optional() }).strict(),
  'sync.testConnection': z.object({ name: pipelineName }).strict(),
  'sync.plan': z.object({ name: pipelineName }).strict(),
  'sync.start': z.object({ name: pipelineName, untilCaughtUp: z.boolean().default(false) }).strict(),
  'sync.stop': z.object({ name: pipelineName }).strict(),
  'sync.status': z.object({ name: pipelineName }).strict(),
} as const;

export interface AppVersion {
  /** Tidemark's version (package.json). */
  version: string;
  /** Node.js version of the process that serves the contract. */
  node: string;
  /** Electron version, or null in browser mode / CLI. */
  electron: string | null;
  /** 'electron' or 'browser'. */
  mode: 'electron' | 'browser';
}

export interface TableEntry {
  /** Namespace path inside the warehouse, e.g. `demo` (nested namespaces joined by '.'). */
  namespace: string;
  name: string;
  /** Absolute path of the table root. */
  path: string;
  format: 'iceberg' | 'paimon';
}

export interface WarehouseListing {
  /** Absolute path of the warehouse folder. */
  path: string;
  tables: TableEntry[];
}

export interface TableHealth {
  dataFiles: number;
  deleteFiles: number;
  /** Mean data file size in bytes (0 without files). */
  meanFileSizeBytes: number;
  smallFiles: boolean;
  /** Delete files per data file. */
  deleteFileRatio: number;
  badge: 'ok' | 'warn';
  notes: string[];
}

export interface RefInfo {
  name: string;
  type: 'branch' | 'tag';
  snapshotId: bigint;
}

/** What a tag, branch, rollback or cherry-pick call did. */
export interface RefChangeInfo {
  name: string;
  type: 'branch' | 'tag';
  /** Where the ref points now; null when it was removed. */
  snapshotId: bigint | null;
  /** Where it pointed before; null when it was created. */
  previousSnapshotId: bigint | null;
  /** For a cherry-pick: the branch moved to the snapshot, or a new snapshot re-applied its append. */
  mode: 'fast-forward' | 'append' | null;
}

/** A compaction's preview (dryRun) or result. */
export interface CompactionInfo {
  dryRun: boolean;
  snapshotId: bigint | null;
  files: number;
  bytes: number;
  records: number;
  deleteFiles: number;
  deleteBytes: number;
  partitions: number;
  targetFileSizeBytes: number;
  estimatedFiles: number;
  /** After a run: the snapshot committed (null: nothing to compact), files written, live rows. */
  committedSnapshotId: bigint | null;
  writtenFiles: number | null;
  liveRecords: number | null;
}

/** Snapshot expiry's preview (dryRun) or result. */
export interface ExpiryInfo {
  dryRun: boolean;
  expiredSnapshotIds: bigint[];
  keptSnapshots: number;
  /** Files deleted (or that would be), and their bytes. */
  files: number;
  bytes: number;
}

/** Orphan removal's preview (dryRun) or result. */
export interface OrphansInfo {
  dryRun: boolean;
  files: number;
  bytes: number;
  /** The first 100 paths. */
  paths: string[];
  referencedCount: number;
}

export interface TableInfo {
  path: string;
  format: 'iceberg' | 'paimon';
  formatVersion: number;
  location: string;
  tableUuid: string | null;
  currentSnapshotId: bigint | null;
  snapshotCount: number;
  totalRecords: number | null;
  totalSizeBytes: number | null;
  lastCommitMs: number | null;
  health: TableHealth;
  refs: RefInfo[];
}

export interface SnapshotInfo {
  snapshotId: bigint;
  parentSnapshotId: bigint | null;
  sequenceNumber: bigint;
  timestampMs: number;
  operation: string;
  schemaId: number | null;
  addedRecords: number | null;
  deletedRecords: number | null;
  totalRecords: number | null;
  addedFiles: number | null;
  addedDeleteFiles: number | null;
  /** Source position written by Tidemark's sync (`tidemark.*` summary keys). */
  source: Record<string, string>;
  summary: Record<string, string>;
}

export interface FieldInfo {
  id: number;
  name: string;
  /** Type as the spec spells it; nested types as struct<…>, list<…>, map<…, …>. */
  type: string;
  required: boolean;
  doc: string | null;
  children: FieldInfo[];
}

export interface SchemaInfo {
  schemaId: number;
  fields: FieldInfo[];
  identifierFields: string[];
  partitionSpec: string;
}

export interface FileEntry {
  content: 'data' | 'position-deletes' | 'equality-deletes';
  path: string;
  recordCount: number;
  fileSizeInBytes: number;
  sequenceNumber: bigint;
  fileSequenceNumber: bigint | null;
  specId: number;
  partition: unknown[];
  /** For data files: the delete files that apply to it. */
  deletes: string[];
  /** For equality delete files: the field ids rows are matched on. */
  equalityIds?: number[];
  /**
   * For Iceberg v3 deletion vectors (content position-deletes in a Puffin file): the blob's byte
   * range and the data file it applies to. One Puffin file holds the vectors of several data files.
   */
  deletionVector?: { offset: number; length: number; referencedDataFile: string };
}

export interface ColumnInfo {
  name: string;
  type: string;
}

export interface ResultPage {
  columns: ColumnInfo[];
  rows: unknown[][];
  /**
   * All rows matching the filters (not only this page). While `totalPending`, an upper bound: the
   * version's records before deletes.
   */
  totalRows: number;
  /**
   * True when deletes apply to the version and its exact live count is still unknown: the page did
   * not wait for it; `query.count` answers it (the grid shows "counting…" meanwhile).
   */
  totalPending: boolean;
  offset: number;
  snapshotId: bigint | null;
}

export interface SqlResult {
  columns: ColumnInfo[];
  rows: unknown[][];
  /** True when more rows existed than the limit. */
  truncated: boolean;
  elapsedMs: number;
}

export type * from './results';

export interface PipelineEntry {
  name: string;
  /** The YAML file in the app's data folder. */
  file: string;
  running: boolean;
  /** The last progress the runner reported (live, or from its status file), null before any run. */
  status: SyncProgress | null;
}

export interface PipelineIssue {
  code: string;
  line: number;
  path: string;
  message: string;
}

/** A remote lake opened by `lake.openRemote`. */
export interface RemoteLakeListing extends WarehouseListing {
  /** Its id in file paths (`path` is `/~remote/<lakeId>`). */
  lakeId: string;
  /** What was opened, for titles: the s3:// or rest+ URI (never holds a secret). */
  label: string;
  kind: 's3' | 'rest';
}

/** Where a profile's secret is kept: the OS keychain, an environment variable, or not set. */
export type SecretRef = 'keychain' | `env:${string}` | null;

/** A saved connection profile as the UI sees it: settings, and where each secret is (never its value). */
export interface ProfileInfo {
  name: string;
  endpoint: string | null;
  region: string | null;
  pathStyle: boolean | null;
  accessKeyId: string | null;
  secretAccessKey: SecretRef;
  sessionToken: SecretRef;
  token: SecretRef;
  credential: SecretRef;
}

/** The app's settings (`<dataDir>/settings.json`). */
export interface AppSettings {
  /** Memory a console query's table data may take in the query engine, MiB (MEMORY_BUDGET_MIB). */
  queryMemoryBudgetMiB: number;
}

export interface PipelineValidation {
  ok: boolean;
  errors: PipelineIssue[];
  warnings: PipelineIssue[];
}

export interface CallOutputs {
  'app.version': AppVersion;
  'app.initialState': { warehouse: string | null };
  'settings.read': AppSettings;
  'settings.save': AppSettings;
  'lake.openWarehouse': WarehouseListing;
  'lake.tableInfo': TableInfo;
  'lake.snapshots': SnapshotInfo[];
  'lake.schema': SchemaInfo;
  'lake.files': FileEntry[];
  'lake.setRef': RefChangeInfo;
  'lake.removeRef': RefChangeInfo;
  'lake.rollback': RefChangeInfo;
  'lake.cherryPick': RefChangeInfo;
  'lake.compact': CompactionInfo;
  'lake.expire': ExpiryInfo;
  'lake.removeOrphans': OrphansInfo;
  'lake.cancel': { task: string; cancelled: boolean };
  'query.page': ResultPage;
  /** Exact live rows of a table version. */
  'query.count': { rows: number };
  'query.refresh': { path: string };
  'query.configure': { memoryBudgetMiB: number };
  'query.sql': SqlResult;
  'query.schemaDiff': SchemaDiff;
  'query.rowDiff': RowDiff;
  'query.keyHistory': KeyVersion[];
  'query.stats': ColumnStats[];
  'query.export': { to: string; rows: number };
  'lake.openRemote': RemoteLakeListing;
  'profiles.list': ProfileInfo[];
  'profiles.save': ProfileInfo;
  'profiles.delete': { name: string; deleted: boolean };
  'sync.list': PipelineEntry[];
  'sync.read': { name: string; file: string; yaml: string };
  'sync.save': { name: string; file: string; validation: PipelineValidation };
  'sync.delete': { name: string };
  'sync.validate': PipelineValidation;
  'sync.testConnection': PreflightReport;
  'sync.plan': PipelinePlan;
  'sync.start': { name: string; started: boolean };
  'sync.stop': { name: string; stopped: boolean };
  'sync.status': SyncProgress | null;
}

export type CallName = keyof typeof callInputs & keyof CallOutputs;
/** What core receives (after validation and wire decoding). */
export type CallInput<K extends CallName> = z.output<(typeof callInputs)[K]>;
/** What a client sends. */
export type WireCallInput<K extends CallName> = z.input<(typeof callInputs)[K]>;
export type CallOutput<K extends CallName> = CallOutputs[K];
export type WireCallOutput<K extends CallName> = Wire<CallOutputs[K]>;

/** Events pushed from the engine to the UI. */
export interface ApiEvents {
  /** A long-running operation reports progress (rows done, estimate). */
  'app.progress': { task: string; done: number; total: number | null; message: string };
  /** The desktop shell's menu asks the UI to open a warehouse (File → Open / Open Recent). */
  'app.openWarehouse': { path: string };
  /** A running pipeline's progress, after every commit round and phase change. */
  'sync.progress': SyncProgress;
  /** A running pipeline committed a snapshot, changed a schema, warned or stopped. */
  'sync.event': { pipeline: string; type: string; message: string };
}
export type EventName = keyof ApiEvents;

export interface HandlerContext {
  /** Pushes an event to the UI that made the call (and any other listener). */
  emit<E extends EventName>(event: E, payload: ApiEvents[E]): void;
}

export type HandlerTable = {
  [K in CallName]: (input: CallInput<K>, ctx: HandlerContext) => Promise<CallOutput<K>>;
};

export const CALL_NAMES = Object.keys(callInputs) as CallName[];

export function isCallName(name: unknown): name is CallName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(callInputs, name);
}
