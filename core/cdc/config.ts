/**
 * Configuration of a MySQL/MariaDB source. Field names follow the Flink CDC mysql connector
 * options (noted beside each), so the pipeline YAML layer (core/pipeline) maps them one to one.
 */
import { TidemarkError } from '../errors/index';
import { readTrustedCa, SSL_MODES, type ResolvedTls, type SslMode } from './tls';
import type { TableId } from './types';

export type StartupMode =
  | { mode: 'initial' }
  | { mode: 'snapshot' }
  | { mode: 'latest-offset' }
  | { mode: 'earliest-offset' }
  /**
   * `scan.startup.specific-offset.file` + `.pos`, or `.gtid-set`; `skipEvents` / `skipRows`
   * (`.skip-events`, `.skip-rows`): events and rows to skip after it (binlog-reader.ts SkipState).
   */
  | { mode: 'specific-offset'; file?: string; pos?: bigint; gtidSet?: string; skipEvents?: number; skipRows?: number }
  /** `scan.startup.timestamp-millis`: first transaction committed at or after it. */
  | { mode: 'timestamp'; timestampMs: number };

export interface MySqlSourceConfig {
  hostname: string;
  port?: number;
  username: string;
  password: string;
  /** `tables`: regexes matched against the whole `db.table` name. */
  tables: string[];
  /** `tables.exclude`. */
  tablesExclude?: string[];
  /** `server-id`: the replica id this reader announces; must differ from every server and replica. */
  serverId: number;
  /** `scan.startup.mode`; default initial. */
  startupMode?: StartupMode;
  /** `scan.incremental.snapshot.chunk.size`; default 8096 rows. */
  chunkSize?: number;
  /**
   * `scan.incremental.snapshot.chunk.key-column`, per table (`db.table` → a column of its primary
   * key, or any NOT NULL column of a table without one).
   */
  chunkKeyColumns?: Record<string, string>;
  /**
   * The same by table pattern (regex source, anchored, on `db.table`; the pipeline's
   * `<table-pattern>:<column>[;…]` form): the first match applies where chunkKeyColumns names no column.
   */
  chunkKeyColumnPatterns?: { regex: string; column: string }[];
  /** `treat-tinyint1-as-boolean.enabled`; default true. */
  tinyInt1IsBoolean?: boolean;
  /**
   * `scan.newly-added-table.enabled`: on a restart from an offset, tables that match now but are not
   * in the offset's schema history are snapshotted (incremental snapshot, interleaved with the
   * binlog from the offset), then streamed. Default false: they are only streamed from the offset.
   */
  scanNewlyAddedTables?: boolean;
  /**
   * `scan.binlog.newly-added-table.enabled`: a matching table created (or renamed into a matching
   * name from an uncaptured one) during the binlog phase is captured from its CREATE on. When false,
   * only tables known at start (and renames of captured tables) are captured, as in Flink CDC.
   * Default true here (the library); the pipeline passes Flink CDC's default, false.
   */
  binlogNewlyAddedTables?: boolean;
  /** `scan.parse.online.schema.changes.enabled`: recognise pt-osc / gh-ost swaps; default false. */
  parseOnlineSchemaChanges?: boolean;
  /** `heartbeat.interval` in ms: server heartbeat period and idle offset advance; default 30000. */
  heartbeatIntervalMs?: number;
  /**
   * TLS of every connection to the server (Connector/J `sslMode`, tls.ts): `disabled` (default
   * here; the pipeline passes Connector/J's default, `preferred`), `preferred`, `required`,
   * `verify-ca`, `verify-identity`.
   */
  sslMode?: SslMode;
  /**
   * PEM file (path or `file:` URL) of the CA certificates trusted by `verify-ca` and
   * `verify-identity`; default Node's bundled CA store. Read when the source is created.
   */
  sslCaFile?: string;
  /**
   * `server-time-zone`: when set, preflight checks that its offset from UTC now equals the
   * server's, as Flink CDC does before it starts (time-zone.ts). TIMESTAMP values do not depend on
   * it here. Default: not checked.
   */
  serverTimeZone?: string;
  /** `connect.timeout` in ms; default 30000. */
  connectTimeoutMs?: number;
  /**
   * `connect.max-retries`: attempts to open a connection to a server that cannot be reached, 300 ms
   * apart (at least one; connect-retry.ts); default 3, as Flink CDC.
   */
  connectMaxRetries?: number;
  /** How long to keep reconnecting after losing the server before failing; default 300000 ms. */
  reconnectTimeoutMs?: number;
  /**
   * Snapshot watermarks. `auto`: on MariaDB each chunk is read in START TRANSACTION WITH CONSISTENT
   * SNAPSHOT, whose binlog_snapshot_position is an exact watermark; elsewhere the high watermark
   * (SHOW MASTER STATUS after the SELECT). `high-watermark` forces the latter (for tests).
   */
  snapshotWatermark?: 'auto' | 'high-watermark';
  /**
   * MariaDB exact-watermark chunks read in windows of several chunks per query (snapshot-reader.ts
   * ChunkWindows): `auto` switches a table to them once the client waits on the server
   * (snapshot/phase.ts serverBound), `always` from its first chunk, `never` not at all (for tests).
   */
  snapshotWindows?: 'auto' | 'always' | 'never';
  /**
   * How MariaDB exact-watermark chunks of an integer key are decoded: `columns` (default) straight
   * from the text protocol's bytes into typed columns (snapshot/text-columns.ts), `rows` through
   * mysql2's row objects (the general path every other chunk takes; for tests that compare the two).
   */
  snapshotDecode?: 'columns' | 'rows';
  /**
   * Where the column names and types of binlog rows come from. `auto` (default): the binlog's own
   * column metadata, which needs binlog_row_metadata=FULL where the server has that variable
   * (MySQL 8.0.1+, MariaDB 10.5+); a server without it (MySQL 5.7) uses the schema history.
   * `schema-history`: always the schema history (the schemas read at start, or carried by the
   * offset, kept in step with the binlog's DDL), with any binlog_row_metadata: for a server that
   * cannot be set to FULL (MySQL 8 defaults to MINIMAL), and how MySQL 5.7's path is tested.
   */
  rowMetadata?: 'auto' | 'schema-history';
  /** Transactions buffered ahead of the consumer before the binlog connection pauses; default 1024. */
  queueHighWaterMark?: number;
  /** Clock for progress events (ms). Default Date.now. */
  now?: () => number;
  /**
   * Test hook: runs after a chunk's SELECT and before its watermark is taken (in windows: when the
   * chunk is handed on, its watermark taken before), so tests can place writes exactly inside the
   * chunk's window; `read` says how the chunk was read; `lastKey` is the chunk's lower bound (bigint
   * for a single integer key, else the key tuple in the driver's form). Never set in production.
   */
  afterChunkSelect?: (table: TableId, lastKey: bigint | readonly (string | number | Buffer)[] | null, read: 'query' | 'window') => Promise<void>;
  /**
   * Test hook: runs after the start-up schemas are read and before a fresh start reads its binlog
   * start position, so tests can commit a DDL in between. Never set in production.
   */
  beforeStartPosition?: () => Promise<void>;
}

export type ResolvedConfig = Required<Omit<MySqlSourceConfig, 'tablesExclude' | 'chunkKeyColumns' | 'chunkKeyColumnPatterns' | 'afterChunkSelect' | 'beforeStartPosition' | 'sslMode' | 'sslCaFile' | 'serverTimeZone'>> & {
  tls: ResolvedTls;
  serverTimeZone: string | null;
  chunkKeyColumnPatterns: { regex: RegExp; column: string }[];
  afterChunkSelect: MySqlSourceConfig['afterChunkSelect'];
  beforeStartPosition: MySqlSourceConfig['beforeStartPosition'];
  tablesExclude: string[];
  chunkKeyColumns: Record<string, string>;
  tableRegexes: RegExp[];
  excludeRegexes: RegExp[];
};

function compileRegex(pattern: string, key: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (e) {
    throw new TidemarkError('InvalidInput', `${key}: invalid regex ${JSON.stringify(pattern)}: ${(e as Error).message}`, {
      key,
      pattern,
    });
  }
}

export function resolveConfig(config: MySqlSourceConfig): ResolvedConfig {
  if (!config.hostname) throw new TidemarkError('InvalidInput', 'source.hostname is required', { key: 'hostname' });
  if (!config.username) throw new TidemarkError('InvalidInput', 'source.username is required', { key: 'username' });
  if (!Number.isInteger(config.serverId) || config.serverId < 1 || config.serverId > 0xffffffff) {
    throw new TidemarkError('InvalidInput', `source.server-id: expected an integer 1..4294967295, found ${config.serverId}`, {
      key: 'server-id',
    });
  }
  const chunkSize = config.chunkSize ?? 8096;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw new TidemarkError('InvalidInput', `scan.incremental.snapshot.chunk.size: expected a positive integer, found ${chunkSize}`, {
      key: 'scan.incremental.snapshot.chunk.size',
    });
  }
  const sslMode = config.sslMode ?? 'disabled';
  if (!SSL_MODES.includes(sslMode)) {
    throw new TidemarkError('InvalidInput', `jdbc.properties.sslMode: expected one of ${SSL_MODES.join(', ')}, found ${JSON.stringify(sslMode)}`, { key: 'jdbc.properties.sslMode' });
  }
  const verifies = sslMode === 'verify-ca' || sslMode === 'verify-identity';
  const trusted = verifies && config.sslCaFile !== undefined ? readTrustedCa(config.sslCaFile, 'jdbc.properties.trustCertificateKeyStoreUrl') : null;
  if (config.connectMaxRetries !== undefined && (!Number.isInteger(config.connectMaxRetries) || config.connectMaxRetries < 0)) {
    throw new TidemarkError('InvalidInput', `connect.max-retries: expected an integer >= 0, found ${config.connectMaxRetries}`, { key: 'connect.max-retries' });
  }
  if (!config.tables?.length) throw new TidemarkError('InvalidInput', 'source.tables: at least one table pattern is required', { key: 'tables' });
  return {
    hostname: config.hostname,
    port: config.port ?? 3306,
    username: config.username,
    password: config.password ?? '',
    tables: config.tables,
    tablesExclude: config.tablesExclude ?? [],
    serverId: config.serverId,
    startupMode: config.startupMode ?? { mode: 'initial' },
    chunkSize,
    chunkKeyColumns: config.chunkKeyColumns ?? {},
    chunkKeyColumnPatterns: (config.chunkKeyColumnPatterns ?? []).map((p, i) => ({ regex: compileRegex(p.regex, `scan.incremental.snapshot.chunk.key-column[${i}]`), column: p.column })),
    tinyInt1IsBoolean: config.tinyInt1IsBoolean ?? true,
    parseOnlineSchemaChanges: config.parseOnlineSchemaChanges ?? false,
    scanNewlyAddedTables: config.scanNewlyAddedTables ?? false,
    binlogNewlyAddedTables: config.binlogNewlyAddedTables ?? true,
    heartbeatIntervalMs: config.heartbeatIntervalMs ?? 30_000,
    connectTimeoutMs: config.connectTimeoutMs ?? 30_000,
    tls: { mode: sslMode, ca: trusted?.ca ?? null, caFile: trusted?.path ?? null },
    connectMaxRetries: config.connectMaxRetries ?? 3,
    serverTimeZone: config.serverTimeZone ?? null,
    reconnectTimeoutMs: config.reconnectTimeoutMs ?? 300_000,
    snapshotWatermark: config.snapshotWatermark ?? 'auto',
    snapshotWindows: config.snapshotWindows ?? 'auto',
    snapshotDecode: config.snapshotDecode ?? 'columns',
    rowMetadata: config.rowMetadata ?? 'auto',
    queueHighWaterMark: config.queueHighWaterMark ?? 1024,
    now: config.now ?? Date.now,
    afterChunkSelect: config.afterChunkSelect,
    beforeStartPosition: config.beforeStartPosition,
    tableRegexes: config.tables.map((p, i) => compileRegex(p, `tables[${i}]`)),
    excludeRegexes: (config.tablesExclude ?? []).map((p, i) => compileRegex(p, `tables.exclude[${i}]`)),
  };
}

/** pt-osc (`_t_new`, `_t_old`) and gh-ost (`_t_gho`, `_t_del`, `_t_ghc`) helper tables. */
export function parseShadowTableName(table: string): { original: string; tool: 'pt-osc' | 'gh-ost'; role: string } | null {
  const m = /^_+(.+)_(new|old|gho|del|ghc)$/.exec(table);
  if (!m) return null;
  const role = m[2]!;
  return { original: m[1]!, tool: role === 'new' || role === 'old' ? 'pt-osc' : 'gh-ost', role };
}

/** Whether the configuration captures this table (shadow tables never, when online DDL parsing is on). */
export function isCapturedTable(config: ResolvedConfig, id: TableId): boolean {
  const name = `${id.db}.${id.table}`;
  if (!config.tableRegexes.some((r) => r.test(name))) return false;
  if (config.excludeRegexes.some((r) => r.test(name))) return false;
  if (config.parseOnlineSchemaChanges && parseShadowTableName(id.table)) return false;
  return true;
}
