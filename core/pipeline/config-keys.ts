/**
 * Every key Tidemark knows per YAML block, with its value kind. Key names are Flink CDC 3.x's,
 * verbatim (STYLE.md), plus Tidemark-only keys under the one prefix `tidemark.` (README.md).
 *
 * `effect` says what Tidemark does with a key: `honoured` keys change what Tidemark does;
 * `flink-only` keys are accepted so that the same file runs on a cluster, but mean nothing to a
 * single process (validation warns once when one is set); `tidemark` keys are removed by
 * export-flink.
 */
export type ValueKind = 'string' | 'int' | 'bool' | 'duration' | 'enum' | 'list';

export interface KeySpec {
  key: string;
  kind: ValueKind;
  /** For `enum`: accepted values, compared case-insensitively (as Flink's enum options are). */
  values?: readonly string[];
  /** For `int`: smallest accepted value. */
  min?: number;
  /** For `int`: largest accepted value. */
  max?: number;
  required?: boolean;
  effect: 'honoured' | 'flink-only' | 'tidemark';
}

export const TIDEMARK_PREFIX = 'tidemark.';

const honoured = (key: string, kind: ValueKind, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'honoured', ...extra });
const flinkOnly = (key: string, kind: ValueKind, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'flink-only', ...extra });
const tidemark = (key: string, kind: ValueKind, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'tidemark', ...extra });

export const STARTUP_MODES = ['initial', 'earliest-offset', 'latest-offset', 'specific-offset', 'timestamp', 'snapshot'] as const;

export const SOURCE_KEYS: KeySpec[] = [
  honoured('type', 'string', { required: true }),
  honoured('name', 'string'),
  honoured('hostname', 'string', { required: true }),
  honoured('port', 'int', { min: 1, max: 65535 }),
  honoured('username', 'string', { required: true }),
  honoured('password', 'string', { required: true }),
  honoured('tables', 'string', { required: true }),
  honoured('tables.exclude', 'string'),
  honoured('server-id', 'string'),
  honoured('scan.startup.mode', 'enum', { values: STARTUP_MODES }),
  honoured('scan.startup.specific-offset.file', 'string'),
  honoured('scan.startup.specific-offset.pos', 'int', { min: 0 }),
  honoured('scan.startup.specific-offset.gtid-set', 'string'),
  honoured('scan.startup.specific-offset.skip-events', 'int', { min: 0 }),
  honoured('scan.startup.specific-offset.skip-rows', 'int', { min: 0 }),
  honoured('scan.startup.timestamp-millis', 'int', { min: 0 }),
  honoured('scan.incremental.snapshot.chunk.size', 'int', { min: 1 }),
  honoured('scan.snapshot.fetch.size', 'int', { min: 1 }),
  honoured('scan.newly-added-table.enabled', 'bool'),
  honoured('scan.binlog.newly-added-table.enabled', 'bool'),
  honoured('scan.parse.online.schema.changes.enabled', 'bool'),
  honoured('schema-change.enabled', 'bool'),
  honoured('heartbeat.interval', 'duration'),
  honoured('connect.timeout', 'duration'),
  honoured('connect.max-retries', 'int', { min: 0 }),
  honoured('server-time-zone', 'string'),
  honoured('metadata.list', 'list'),
  honoured('treat-tinyint1-as-boolean.enabled', 'bool'),
  honoured('include-comments.enabled', 'bool'),
  tidemark('tidemark.row-metadata', 'enum', { values: ['auto', 'schema-history'] }),
  flinkOnly('connection.pool.size', 'int', { min: 1 }),
  flinkOnly('scan.incremental.close-idle-reader.enabled', 'bool'),
  flinkOnly('scan.incremental.snapshot.unbounded-chunk-first.enabled', 'bool'),
  flinkOnly('scan.incremental.snapshot.backfill.skip', 'bool'),
  honoured('scan.incremental.snapshot.chunk.key-column', 'string'),
  flinkOnly('use.legacy.json.format', 'bool'),
];

export const SCHEMA_CHANGE_TYPES = [
  'create.table',
  'add.column',
  'alter.column.type',
  'rename.column',
  'drop.column',
  'drop.table',
  'truncate.table',
] as const;

export const SINK_KEYS: KeySpec[] = [
  honoured('type', 'string', { required: true }),
  honoured('name', 'string'),
  honoured('catalog.properties.type', 'string', { required: true }),
  honoured('catalog.properties.warehouse', 'string', { required: true }),
  honoured('partition.key', 'string'),
  honoured('sink.compaction.enabled', 'bool'),
  honoured('sink.compaction.commit.interval', 'int', { min: 1 }),
  honoured('include.schema.changes', 'list'),
  honoured('exclude.schema.changes', 'list'),
  flinkOnly('sink.compaction.commit.parallelism', 'int', { min: -1 }),
  tidemark('tidemark.expire-snapshots.max-age', 'duration'),
  tidemark('tidemark.expire-snapshots.retain-last', 'int', { min: 1 }),
];

export const ROUTE_KEYS: KeySpec[] = [
  honoured('source-table', 'string', { required: true }),
  honoured('sink-table', 'string', { required: true }),
  honoured('replace-symbol', 'string'),
  honoured('description', 'string'),
  tidemark('tidemark.key.shard-columns', 'list'),
];

export const TRANSFORM_KEYS: KeySpec[] = [
  honoured('source-table', 'string', { required: true }),
  honoured('projection', 'string'),
  honoured('filter', 'string'),
  honoured('primary-keys', 'string'),
  honoured('partition-keys', 'string'),
  honoured('table-options', 'string'),
  honoured('converter-after-transform', 'enum', { values: ['SOFT_DELETE'] }),
  honoured('description', 'string'),
];

export const PIPELINE_KEYS: KeySpec[] = [
  honoured('name', 'string'),
  honoured('parallelism', 'int', { min: 1 }),
  honoured('schema.change.behavior', 'enum', { values: ['lenient', 'try_evolve', 'evolve', 'ignore', 'exception'] }),
  honoured('route-mode', 'enum', { values: ['ALL_MATCH', 'FIRST_MATCH'] }),
  honoured('local-time-zone', 'string'),
  honoured('execution.checkpointing.interval', 'duration'),
  honoured('execution.runtime-mode', 'enum', { values: ['STREAMING', 'BATCH'] }),
  flinkOnly('operator.uid.prefix', 'string'),
  flinkOnly('schema.operator.uid', 'string'),
  flinkOnly('schema-operator.rpc-timeout', 'duration'),
  flinkOnly('sink.partitioning.strategy', 'enum', { values: ['SINK_DEFINED', 'PRIMARY_KEY', 'TABLE_ID'] }),
  tidemark('tidemark.changelog.enabled', 'bool'),
  tidemark('tidemark.status-file', 'string'),
];

/** Keys whose suffix is free-form and passed through as strings. */
export const PREFIX_KEYS: Record<'source' | 'sink', string[]> = {
  source: ['debezium.', 'jdbc.properties.'],
  sink: ['catalog.properties.', 'table.properties.'],
};

/** Top-level blocks. `model` and `user-defined-function` run Java code: Unsupported. */
export const TOP_LEVEL_KEYS = ['source', 'sink', 'route', 'transform', 'pipeline'] as const;
