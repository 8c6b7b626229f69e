import type { ErrorCode } from '../../errors';

/**
 * The normalized, typed form of a Flink CDC 3.x pipeline YAML file (plain data: no classes, no
 * functions). Durations are milliseconds; regexes are kept both as written (Flink CDC syntax) and
 * as the JavaScript source that full-matches `db.table` (see table-pattern.ts).
 */
export interface PipelineConfig {
  source: SourceConfig;
  sink: SinkConfig;
  routes: RouteRule[];
  transforms: TransformRule[];
  pipeline: PipelineOptions;
}

/** A comma-separated Flink CDC table list, e.g. `app.order_\.*, app.users`. */
export interface TablePattern {
  /** As written in the YAML file. */
  text: string;
  /** JavaScript regex source, anchored: matches the whole `db.table` identifier or nothing. */
  regex: string;
}

export type StartupMode = 'initial' | 'earliest-offset' | 'latest-offset' | 'specific-offset' | 'timestamp' | 'snapshot';

export type StartupOptions =
  | { mode: 'initial' | 'earliest-offset' | 'latest-offset' | 'snapshot' }
  | {
      mode: 'specific-offset';
      /** Binlog file name and position, or a GTID set (or both; the GTID set wins when present). */
      file: string | null;
      pos: number | null;
      gtidSet: string | null;
      skipEvents: number;
      skipRows: number;
    }
  | { mode: 'timestamp'; timestampMillis: number };

/** Debezium's operation letters: c = insert, u = update, d = delete, t = truncate. */
export type SkippedOperation = 'c' | 'u' | 'd' | 't';

export interface SourceConfig {
  /** `mariadb` is Tidemark's spelling; Flink CDC reads MariaDB with `type: mysql`. */
  type: 'mysql' | 'mariadb';
  name: string | null;
  hostname: string;
  port: number;
  username: string;
  /** Resolved from `${env:NAME}` when written as a reference. Never printed. */
  password: string;
  tables: TablePattern;
  tablesExclude: TablePattern | null;
  /** Inclusive range; a single id is a range of one. Null: pick one in 5400..6400 at start. */
  serverId: { start: number; end: number } | null;
  startup: StartupOptions;
  /** Rows per snapshot chunk (Flink CDC default 8096). */
  snapshotChunkSize: number;
  /** `scan.incremental.snapshot.chunk.key-column` (`<table-pattern>:<column>[;…]`); absent when unset. */
  chunkKeyColumns?: { table: TablePattern; column: string }[];
  snapshotFetchSize: number;
  newlyAddedTableEnabled: boolean;
  binlogNewlyAddedTableEnabled: boolean;
  parseOnlineSchemaChangesEnabled: boolean;
  schemaChangeEnabled: boolean;
  heartbeatIntervalMs: number;
  connectTimeoutMs: number;
  connectMaxRetries: number;
  /** IANA name or fixed offset; null = ask the server (its `time_zone`). */
  serverTimeZone: string | null;
  /** Metadata columns the source attaches to each row; only `op_ts` exists for MySQL. */
  metadataList: 'op_ts'[];
  /** From `debezium.skipped.operations`; default `['t']` (truncates are not replicated). */
  skippedOperations: SkippedOperation[];
  treatTinyint1AsBoolean: boolean;
  includeComments: boolean;
  /** `tidemark.row-metadata`: where binlog rows' column names come from (core/cdc config.ts rowMetadata). */
  rowMetadata: 'auto' | 'schema-history';
  /** Every `debezium.*` key without the prefix, values as strings. */
  debezium: Record<string, string>;
  /** Every `jdbc.properties.*` key without the prefix. */
  jdbcProperties: Record<string, string>;
}

/** An Iceberg partition field: source column plus transform in the spec's spelling (`bucket[4]`). */
export interface PartitionField {
  sourceColumn: string;
  transform: string;
}

export type SchemaChangeType =
  | 'create.table'
  | 'add.column'
  | 'alter.column.type'
  | 'rename.column'
  | 'drop.column'
  | 'drop.table'
  | 'truncate.table';

export interface SinkConfig {
  /** `iceberg`: Iceberg v2 tables (sink/iceberg); `paimon`: Paimon primary-key tables (sink/paimon, options in `paimon`). */
  type: 'iceberg' | 'paimon';
  name: string | null;
  /** `hadoop`: tables are folders under `warehouse`; `rest`: an Iceberg REST catalog at `rest.uri` owns them. */
  catalogType: 'hadoop' | 'rest';
  /** The REST catalog (`catalog.properties.uri`, `token`, `credential`); null fields when not given. */
  rest: SinkRestSettings;
  /**
   * For `rest`: the catalog's warehouse name (sent to its /v1/config; may be empty). Else: absolute local folder (a `file://` URI is accepted and turned into a path), or an object store
   * prefix `s3://bucket/prefix` (`s3a://` accepted) without a trailing slash.
   */
  warehouse: string;
  /**
   * The S3 settings of an `s3://` warehouse (the Iceberg Flink connector's `catalog.properties.s3.*`
   * and `client.region`); null fields fall back to the AWS environment variables.
   */
  s3: SinkS3Settings;
  /**
   * Local folder of the runner's lock, checkpoint and status files: `<warehouse>/.tidemark` for a
   * local warehouse; for an object store `.tidemark/s3/<bucket>/<prefix>` beside the YAML file
   * (the lock is a local file: it keeps out runners of this machine only).
   */
  stateDir: string;
  /** Other `catalog.properties.*` keys, without the prefix. */
  catalogProperties: Record<string, string>;
  /** `partition.key` per target table id (`namespace.table`), in declaration order. */
  partitionKeys: Record<string, PartitionField[]>;
  /** `table.properties.*` without the prefix: Iceberg table properties for created tables. */
  tableProperties: Record<string, string>;
  compactionEnabled: boolean;
  /** Compact a table after this many of its commits (Flink CDC default 10). */
  compactionCommitInterval: number;
  /**
   * Schema change types applied to the lake after `include.schema.changes` /
   * `exclude.schema.changes` and the behavior's defaults (lenient drops truncate and drop table).
   */
  schemaChanges: SchemaChangeType[];
  tidemark: {
    /** Expire snapshots older than this (ms); null keeps all. Tagged snapshots are always kept. */
    expireSnapshotsMaxAgeMs: number | null;
    /** Always keep at least this many recent snapshots when expiring. */
    expireSnapshotsRetainLast: number;
    /** Delete unreferenced files older than this (ms), at most hourly; null never does. */
    removeOrphansOlderThanMs: number | null;
  };
  /** The Paimon sink's own keys (Flink CDC's Paimon pipeline connector); null for an Iceberg sink. */
  paimon: PaimonSinkOptions | null;
}

export interface PaimonSinkOptions {
  /** `commit.user` (Flink CDC default `admin`): every snapshot the sync commits names it. */
  commitUser: string;
  /** `catalog.properties.metastore`: only `filesystem` is written. */
  metastore: 'filesystem';
}

/** The REST catalog of a sink; plain data (it crosses to the sink worker). Secrets are never printed. */
export interface SinkRestSettings {
  uri: string | null;
  /** A bearer token (`env:NAME` resolved). */
  token: string | null;
  /** OAuth2 client credentials `client_id:client_secret` (`env:NAME` resolved). */
  credential: string | null;
}

/** S3 settings of a sink; plain data (it crosses to the sink worker). Secrets are never printed. */
export interface SinkS3Settings {
  endpoint: string | null;
  region: string | null;
  pathStyle: boolean | null;
  accessKeyId: string | null;
  secretAccessKey: string | null;
}

/** Metadata columns a merged target may add to its key so rows of different shards stay apart. */
export type ShardColumn = '__schema_name__' | '__table_name__';

export interface RouteRule {
  sourceTable: TablePattern;
  sinkTable: string;
  replaceSymbol: string | null;
  description: string | null;
  tidemark: { shardColumns: ShardColumn[] };
}

export interface TransformRule {
  sourceTable: TablePattern;
  projection: string | null;
  filter: string | null;
  primaryKeys: string[] | null;
  partitionKeys: string[] | null;
  tableOptions: Record<string, string>;
  converterAfterTransform: 'SOFT_DELETE' | null;
  description: string | null;
}

export type SchemaChangeBehavior = 'lenient' | 'try_evolve' | 'evolve' | 'ignore' | 'exception';

export interface PipelineOptions {
  name: string;
  parallelism: number;
  schemaChangeBehavior: SchemaChangeBehavior;
  routeMode: 'ALL_MATCH' | 'FIRST_MATCH';
  /** IANA name or fixed offset; null = the machine's zone (Flink's `systemDefault`). */
  localTimeZone: string | null;
  /** transform.decimal.precision.mode: the largest DECIMAL precision in transform expressions (19 or 38). */
  transformDecimalPrecisionMode: 'UP_TO_19' | 'UP_TO_38';
  /** Commit interval (Flink: the checkpoint interval), default 30 000 ms. */
  checkpointIntervalMs: number;
  tidemark: {
    /** Write `<table>__changelog` audit tables. */
    changelogEnabled: boolean;
    /** Where the runner writes its status JSON for the UI; null = none. */
    statusFile: string | null;
  };
}

/** One validation finding, tied to the YAML line and key path it is about. */
export interface ConfigIssue {
  code: ErrorCode;
  /** 1-based line in the YAML file. */
  line: number;
  /** Key path such as `source.tables` or `route[1].source-table`. */
  path: string;
  message: string;
}

export interface ValidationResult {
  /** Null when there is at least one error. */
  config: PipelineConfig | null;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}
