/**
 * Every key Tidemark knows per YAML block, with its value kind. Key names are Flink CDC 3.x's,
 * verbatim (STYLE.md), plus Tidemark-only keys under the one prefix `tidemark.` (README.md).
 *
 * `effect` says what Tidemark does with a key:
 * - `honoured`: changes what Tidemark does; `reader` names the code that reads its value
 *   (test/pipeline/config-keys.test.ts checks each one);
 * - `tidemark`: the same, for Tidemark-only keys (export-flink removes them);
 * - `flink-only`: accepted so that the same file runs on a cluster, meaningless to a single
 *   process (validation warns "has no effect in Tidemark");
 * - `ignored`: means something in Flink CDC that Tidemark does not do; validation warns with the
 *   `reason`, so a config prototyped here never silently behaves differently on Flink;
 * - `unsupported`: a value would change the data in a way Tidemark cannot reproduce: an
 *   Unsupported error with the `reason`;
 * - `label`: a name or description for people; read by nothing, no warning.
 */
export type ValueKind = 'string' | 'int' | 'bool' | 'duration' | 'enum' | 'list';

export type KeyEffect = 'honoured' | 'tidemark' | 'flink-only' | 'ignored' | 'unsupported' | 'label';

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
  effect: KeyEffect;
  /**
   * For `honoured` and `tidemark` keys: the code that acts on the value, as `path#function`
   * (path under the repository root). `core/pipeline/runner/source.ts#toSourceConfig` means the value
   * is handed to the CDC source (core/cdc MySqlSourceConfig), where core/cdc must read it.
   */
  reader?: string;
  /** For `ignored` and `unsupported`: why, shown by validate. */
  reason?: string;
}

export const TIDEMARK_PREFIX = 'tidemark.';

/** The reader of every key handed to the CDC source. */
export const SOURCE_READER = 'core/pipeline/runner/source.ts#toSourceConfig';

const honoured = (key: string, kind: ValueKind, reader: string, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'honoured', reader, ...extra });
const flinkOnly = (key: string, kind: ValueKind, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'flink-only', ...extra });
const ignored = (key: string, kind: ValueKind, reason: string, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'ignored', reason, ...extra });
const unsupported = (key: string, kind: ValueKind, reason: string, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'unsupported', reason, ...extra });
const label = (key: string): KeySpec => ({ key, kind: 'string', effect: 'label' });
const tidemark = (key: string, kind: ValueKind, reader: string, extra: Partial<KeySpec> = {}): KeySpec => ({ key, kind, effect: 'tidemark', reader, ...extra });
const toSource = (key: string, kind: ValueKind, extra: Partial<KeySpec> = {}): KeySpec => honoured(key, kind, SOURCE_READER, extra);

export const STARTUP_MODES = ['initial', 'earliest-offset', 'latest-offset', 'specific-offset', 'timestamp', 'snapshot'] as const;

const TIME_ZONE_REASON =
  "Tidemark reads TIMESTAMP columns as UTC instants whatever the server's time zone (its sessions run with time_zone '+00:00' and the binlog holds UTC seconds); use server-time-zone, which Tidemark checks against the server as Flink CDC does";

export const SOURCE_KEYS: KeySpec[] = [
  honoured('type', 'string', 'core/pipeline/config/export-flink.ts#exportFlinkYaml', { required: true }),
  label('name'),
  toSource('hostname', 'string', { required: true }),
  toSource('port', 'int', { min: 1, max: 65535 }),
  toSource('username', 'string', { required: true }),
  toSource('password', 'string', { required: true }),
  toSource('tables', 'string', { required: true }),
  toSource('tables.exclude', 'string'),
  toSource('server-id', 'string'),
  toSource('scan.startup.mode', 'enum', { values: STARTUP_MODES }),
  toSource('scan.startup.specific-offset.file', 'string'),
  toSource('scan.startup.specific-offset.pos', 'int', { min: 0 }),
  toSource('scan.startup.specific-offset.gtid-set', 'string'),
  toSource('scan.startup.specific-offset.skip-events', 'int', { min: 0 }),
  toSource('scan.startup.specific-offset.skip-rows', 'int', { min: 0 }),
  toSource('scan.startup.timestamp-millis', 'int', { min: 0 }),
  toSource('scan.incremental.snapshot.chunk.size', 'int', { min: 1 }),
  ignored('scan.snapshot.fetch.size', 'int', "mysql2 has no fetch size: each chunk's SELECT streams its rows as the server sends them, and memory is bounded by scan.incremental.snapshot.chunk.size", { min: 1 }),
  toSource('scan.newly-added-table.enabled', 'bool'),
  toSource('scan.binlog.newly-added-table.enabled', 'bool'),
  toSource('scan.parse.online.schema.changes.enabled', 'bool'),
  honoured('schema-change.enabled', 'bool', 'core/pipeline/sink/evolution.ts#appliedBehavior'),
  toSource('heartbeat.interval', 'duration'),
  toSource('connect.timeout', 'duration'),
  toSource('connect.max-retries', 'int', { min: 0 }),
  toSource('server-time-zone', 'string'),
  honoured('metadata.list', 'list', 'core/pipeline/config/validate.ts#validatePipeline'),
  toSource('treat-tinyint1-as-boolean.enabled', 'bool'),
  ignored('include-comments.enabled', 'bool', 'table and column comments are not read: the Iceberg schema gets no field docs'),
  tidemark('tidemark.row-metadata', 'enum', SOURCE_READER, { values: ['auto', 'schema-history'] }),
  flinkOnly('connection.pool.size', 'int', { min: 1 }),
  flinkOnly('scan.incremental.close-idle-reader.enabled', 'bool'),
  flinkOnly('scan.incremental.snapshot.unbounded-chunk-first.enabled', 'bool'),
  flinkOnly('scan.incremental.snapshot.backfill.skip', 'bool'),
  toSource('scan.incremental.snapshot.chunk.key-column', 'string'),
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
  honoured('type', 'string', 'core/pipeline/config/validate.ts#readSink', { required: true }),
  label('name'),
  honoured('catalog.properties.type', 'string', 'core/pipeline/config/validate.ts#readSink', { required: true }),
  honoured('catalog.properties.warehouse', 'string', 'core/pipeline/runner/plan.ts#planPipeline', { required: true }),
  // The Iceberg Flink connector's S3FileIO keys, for an s3:// warehouse.
  honoured('catalog.properties.io-impl', 'string', 'core/pipeline/config/sink-storage.ts#readSinkStorage'),
  ...['s3.endpoint', 's3.access-key-id', 's3.secret-access-key', 'client.region'].map((k) => honoured(`catalog.properties.${k}`, 'string', 'core/pipeline/sink/iceberg/storage.ts#sinkS3Config')),
  honoured('catalog.properties.s3.path-style-access', 'bool', 'core/pipeline/sink/iceberg/storage.ts#sinkS3Config'),
  // The Iceberg REST catalog's keys (catalog.properties.type: rest).
  ...['uri', 'token', 'credential'].map((k) => honoured(`catalog.properties.${k}`, 'string', 'core/pipeline/sink/iceberg/storage.ts#sinkRestClient')),
  honoured('partition.key', 'string', 'core/pipeline/sink/schema.ts#designTarget'),
  honoured('sink.compaction.enabled', 'bool', 'core/pipeline/sink/iceberg/writer.ts#maintainTarget'),
  honoured('sink.compaction.commit.interval', 'int', 'core/pipeline/sink/iceberg/writer.ts#maintainTarget', { min: 1 }),
  honoured('include.schema.changes', 'list', 'core/pipeline/runner/plan.ts#planPipeline'),
  honoured('exclude.schema.changes', 'list', 'core/pipeline/runner/plan.ts#planPipeline'),
  flinkOnly('sink.compaction.commit.parallelism', 'int', { min: -1 }),
  tidemark('tidemark.expire-snapshots.max-age', 'duration', 'core/pipeline/sink/iceberg/writer.ts#maintainTarget'),
  tidemark('tidemark.expire-snapshots.retain-last', 'int', 'core/pipeline/sink/iceberg/writer.ts#maintainTarget', { min: 1 }),
  tidemark('tidemark.remove-orphans.older-than', 'duration', 'core/pipeline/sink/iceberg/writer.ts#maintainTarget'),
];

export const ROUTE_KEYS: KeySpec[] = [
  honoured('source-table', 'string', 'core/pipeline/config/route.ts#planRoutes', { required: true }),
  honoured('sink-table', 'string', 'core/pipeline/config/route.ts#planRoutes', { required: true }),
  honoured('replace-symbol', 'string', 'core/pipeline/config/route.ts#planRoutes'),
  label('description'),
  tidemark('tidemark.key.shard-columns', 'list', 'core/pipeline/config/route.ts#planRoutes'),
];

export const TRANSFORM_KEYS: KeySpec[] = [
  honoured('source-table', 'string', 'core/pipeline/config/route.ts#planRoutes', { required: true }),
  honoured('projection', 'string', 'core/pipeline/config/route.ts#planRoutes'),
  honoured('filter', 'string', 'core/pipeline/config/route.ts#planRoutes'),
  honoured('primary-keys', 'string', 'core/pipeline/config/route.ts#planRoutes'),
  honoured('partition-keys', 'string', 'core/pipeline/runner/plan.ts#planPipeline'),
  honoured('table-options', 'string', 'core/pipeline/runner/run.ts#PipelineRun'),
  unsupported('converter-after-transform', 'enum', 'SOFT_DELETE keeps deleted rows as inserts marked -D; Tidemark would apply the deletes, so the lake would differ from Flink\'s', { values: ['SOFT_DELETE'] }),
  label('description'),
];

export const PIPELINE_KEYS: KeySpec[] = [
  honoured('name', 'string', 'core/pipeline/runner/plan.ts#planPipeline'),
  flinkOnly('parallelism', 'int', { min: 1 }),
  honoured('schema.change.behavior', 'enum', 'core/pipeline/runner/plan.ts#planPipeline', { values: ['lenient', 'try_evolve', 'evolve', 'ignore', 'exception'] }),
  honoured('route-mode', 'enum', 'core/pipeline/config/route.ts#planRoutes', { values: ['ALL_MATCH', 'FIRST_MATCH'] }),
  honoured('local-time-zone', 'string', 'core/pipeline/transform/projection.ts#compileTransform'),
  honoured('transform.decimal.precision.mode', 'enum', 'core/pipeline/transform/projection.ts#compileTransform', { values: ['UP_TO_19', 'UP_TO_38'] }),
  honoured('execution.checkpointing.interval', 'duration', 'core/pipeline/runner/plan.ts#planPipeline'),
  honoured('execution.runtime-mode', 'enum', 'core/pipeline/config/validate.ts#readPipeline', { values: ['STREAMING', 'BATCH'] }),
  flinkOnly('operator.uid.prefix', 'string'),
  flinkOnly('schema.operator.uid', 'string'),
  flinkOnly('schema-operator.rpc-timeout', 'duration'),
  flinkOnly('sink.partitioning.strategy', 'enum', { values: ['SINK_DEFINED', 'PRIMARY_KEY', 'TABLE_ID'] }),
  tidemark('tidemark.changelog.enabled', 'bool', 'core/pipeline/runner/plan.ts#planPipeline'),
  tidemark('tidemark.status-file', 'string', 'core/pipeline/runner/run.ts#statusFilePath'),
];

/**
 * The `debezium.*` keys Tidemark reads (suffix after the prefix). Every other one is reported as
 * ignored with DEBEZIUM_OTHER_REASON.
 */
export const DEBEZIUM_KEYS: KeySpec[] = [honoured('skipped.operations', 'string', 'core/pipeline/runner/run.ts#PipelineRun')];
export const DEBEZIUM_OTHER_REASON = 'Tidemark does not run Debezium; of the debezium.* options it reads only debezium.skipped.operations';

/** TLS: the settings core/cdc applies to every source connection (config-tls.ts, core/cdc README). */
const TLS_READER = 'core/pipeline/config/tls.ts#readSourceTls';
const TLS_UNSUPPORTED_REASON = 'client certificates, keystore types and passwords, and TLS protocol or cipher choices are not supported: Tidemark verifies the server with a PEM CA file (trustCertificateKeyStoreUrl) and negotiates with Node\'s defaults';

/**
 * `jdbc.properties.*`: MySQL Connector/J properties, which Flink CDC adds to its JDBC URL. Tidemark
 * uses mysql2, so each is either mapped to a mysql2 option (`honoured`) or reported with its
 * reason; names are matched case-insensitively, as Connector/J does.
 */
export const JDBC_PROPERTIES: KeySpec[] = [
  toSource('connectTimeout', 'int', { min: 1 }),
  ...['useSSL', 'requireSSL', 'verifyServerCertificate', 'sslMode', 'trustCertificateKeyStoreUrl'].map((k) => honoured(k, 'string', TLS_READER)),
  ...[
    'trustCertificateKeyStoreType', 'trustCertificateKeyStorePassword',
    'clientCertificateKeyStoreUrl', 'clientCertificateKeyStoreType', 'clientCertificateKeyStorePassword',
    'fallbackToSystemTrustStore', 'fallbackToSystemKeyStore', 'enabledTLSProtocols', 'enabledSslCipherSuites',
  ].map((k) => ignored(k, 'string', TLS_UNSUPPORTED_REASON)),
  ...['characterEncoding', 'characterSetResults', 'useUnicode', 'connectionCollation'].map((k) =>
    ignored(k, 'string', 'Tidemark always talks utf8mb4 to the server and decodes every column by its own character set, so no character is lost'),
  ),
  ignored('zeroDateTimeBehavior', 'string', 'zero dates always become null in nullable columns and 1970-01-01 in NOT NULL ones (core/cdc README, Values), snapshot and binlog alike'),
  ...['serverTimezone', 'connectionTimeZone', 'forceConnectionTimeZoneToSession', 'preserveInstants'].map((k) => ignored(k, 'string', TIME_ZONE_REASON)),
  ignored('tinyInt1isBit', 'string', 'use treat-tinyint1-as-boolean.enabled, which Tidemark reads'),
  ignored('socketTimeout', 'string', 'mysql2 has no read timeout; a silent binlog connection is detected by missed heartbeats (heartbeat.interval)'),
];
export const JDBC_OTHER_REASON = 'Tidemark reads MySQL with mysql2, not Connector/J; this property has no mysql2 counterpart that Tidemark maps (core/pipeline/README.md lists those it does)';

/** `catalog.properties.*` other than type and warehouse (read as keys of their own). */
export const CATALOG_OTHER_REASON = 'Tidemark writes a hadoop catalog (a local folder or s3://) and reads only catalog.properties.type, warehouse, uri, token, credential, io-impl, s3.endpoint, s3.access-key-id, s3.secret-access-key, s3.path-style-access and client.region';

/** Keys whose suffix is free-form and passed through as strings. */
export const PREFIX_KEYS: Record<'source' | 'sink', string[]> = {
  source: ['debezium.', 'jdbc.properties.'],
  sink: ['catalog.properties.', 'table.properties.'],
};

/** Top-level blocks. `model` and `user-defined-function` run Java code: Unsupported. */
export const TOP_LEVEL_KEYS = ['source', 'sink', 'route', 'transform', 'pipeline'] as const;

const PAIMON_READER = 'core/pipeline/config/paimon-sink.ts#readPaimonSink';
const PAIMON_SINK_READER = 'core/pipeline/sink/paimon/index.ts#createPaimonSink';

/** `sink.type: paimon`: the keys of Flink CDC's Paimon pipeline connector, verbatim. */
export const PAIMON_SINK_KEYS: KeySpec[] = [
  honoured('type', 'string', 'core/pipeline/config/validate.ts#readSink', { required: true }),
  label('name'),
  honoured('catalog.properties.metastore', 'enum', PAIMON_READER, { values: ['filesystem', 'hive'] }),
  honoured('catalog.properties.warehouse', 'string', 'core/pipeline/runner/plan.ts#planPipeline', { required: true }),
  honoured('commit.user', 'string', PAIMON_SINK_READER),
  honoured('partition.key', 'string', 'core/pipeline/sink/schema.ts#designTarget'),
  honoured('include.schema.changes', 'list', 'core/pipeline/runner/plan.ts#planPipeline'),
  honoured('exclude.schema.changes', 'list', 'core/pipeline/runner/plan.ts#planPipeline'),
];

const PAIMON_TABLE_READER = 'core/pipeline/sink/paimon/table.ts#paimonTableOptions';
const PAIMON_WRITER = 'core/lake/paimon/write/commit-changes.ts#commitPaimonChanges';
const PAIMON_EXPIRY = 'core/pipeline/sink/paimon/index.ts#maintainPaimonTarget';

/**
 * `table.properties.*` of a Paimon sink: Paimon table options stored in the created table's schema.
 * These are acted on by Tidemark's writer; any other option is stored as given (Java Paimon reads
 * it) and validate says Tidemark's writer does not act on it.
 */
export const PAIMON_TABLE_PROPERTIES: KeySpec[] = [
  honoured('bucket', 'int', PAIMON_TABLE_READER, { min: -2 }),
  honoured('bucket-key', 'string', PAIMON_WRITER),
  honoured('dynamic-bucket.target-row-num', 'int', 'core/lake/paimon/write/dynamic-bucket.ts#dynamicBucketOptionsOf', { min: 1 }),
  honoured('dynamic-bucket.max-buckets', 'int', 'core/lake/paimon/write/dynamic-bucket.ts#dynamicBucketOptionsOf', { min: -1 }),
  honoured('file.format', 'enum', PAIMON_TABLE_READER, { values: ['parquet', 'orc', 'avro'] }),
  honoured('changelog-producer', 'enum', PAIMON_TABLE_READER, { values: ['none', 'input', 'lookup', 'full-compaction'] }),
  honoured('changelog-producer.row-deduplicate', 'bool', 'core/lake/paimon/write/compact.ts#lookupChangelog'),
  honoured('lookup.wait', 'bool', 'core/pipeline/sink/paimon/writer.ts#PaimonRoundWriter'),
  honoured('deletion-vectors.enabled', 'bool', PAIMON_WRITER),
  honoured('num-sorted-run.compaction-trigger', 'int', 'core/lake/paimon/write/compact.ts#universalOptionsOf', { min: 1 }),
  honoured('num-levels', 'int', 'core/lake/paimon/write/compact.ts#universalOptionsOf', { min: 2 }),
  honoured('compaction.max-size-amplification-percent', 'int', 'core/lake/paimon/write/compact.ts#universalOptionsOf', { min: 0 }),
  honoured('compaction.size-ratio', 'int', 'core/lake/paimon/write/compact.ts#universalOptionsOf', { min: 0 }),
  honoured('snapshot.num-retained.min', 'int', PAIMON_EXPIRY, { min: 1 }),
  honoured('snapshot.num-retained.max', 'int', PAIMON_EXPIRY, { min: 1 }),
  honoured('snapshot.time-retained', 'string', PAIMON_EXPIRY),
  honoured('snapshot.expire.limit', 'int', PAIMON_EXPIRY, { min: 1 }),
  honoured('write-only', 'bool', PAIMON_WRITER),
  honoured('merge-engine', 'enum', PAIMON_TABLE_READER, { values: ['deduplicate', 'partial-update', 'aggregation', 'first-row'] }),
  honoured('sequence.field', 'string', PAIMON_TABLE_READER),
  honoured('manifest.format', 'enum', PAIMON_TABLE_READER, { values: ['avro', 'orc', 'parquet'] }),
];

export const PAIMON_OTHER_OPTION_REASON = "stored in the created table's options (Java Paimon reads it); Tidemark's writer does not act on it";
