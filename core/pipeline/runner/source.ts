import type mysql from 'mysql2/promise';
import { openSourceConnection, type MySqlSourceConfig, type SourceOffset, type StartupMode, type TableSchema } from '../../cdc';
import { TidemarkError } from '../../errors';
import { readSourceTls } from '../config/tls';
import type { PipelineConfig } from '../config/types';

/** The CDC source configuration of a pipeline (Flink CDC mysql connector keys, one to one). */
export function toSourceConfig(config: PipelineConfig, overrides: Partial<MySqlSourceConfig> = {}): MySqlSourceConfig {
  const s = config.source;
  const st = s.startup;
  let startupMode: StartupMode;
  if (st.mode === 'specific-offset') {
    const skip = { ...(st.skipEvents > 0 ? { skipEvents: st.skipEvents } : {}), ...(st.skipRows > 0 ? { skipRows: st.skipRows } : {}) };
    startupMode = st.gtidSet !== null
      ? { mode: 'specific-offset', gtidSet: st.gtidSet, ...skip }
      : { mode: 'specific-offset', file: st.file ?? '', pos: BigInt(st.pos ?? 4), ...skip };
  } else if (st.mode === 'timestamp') {
    startupMode = { mode: 'timestamp', timestampMs: st.timestampMillis };
  } else {
    startupMode = { mode: st.mode };
  }
  // Flink CDC picks a server id from the range per reader; one reader here, so the range's first.
  const serverId = s.serverId?.start ?? 5400 + Math.floor(Math.random() * 1000);
  return {
    hostname: s.hostname,
    port: s.port,
    username: s.username,
    password: s.password,
    tables: [s.tables.regex],
    ...(s.tablesExclude ? { tablesExclude: [s.tablesExclude.regex] } : {}),
    serverId,
    startupMode,
    chunkSize: s.snapshotChunkSize,
    ...(s.chunkKeyColumns ? { chunkKeyColumnPatterns: s.chunkKeyColumns.map((c) => ({ regex: c.table.regex, column: c.column })) } : {}),
    tinyInt1IsBoolean: s.treatTinyint1AsBoolean,
    parseOnlineSchemaChanges: s.parseOnlineSchemaChangesEnabled,
    rowMetadata: s.rowMetadata,
    scanNewlyAddedTables: s.newlyAddedTableEnabled,
    binlogNewlyAddedTables: s.binlogNewlyAddedTableEnabled,
    heartbeatIntervalMs: s.heartbeatIntervalMs,
    connectTimeoutMs: s.connectTimeoutMs,
    ...tlsOf(s.jdbcProperties),
    connectMaxRetries: s.connectMaxRetries,
    ...(s.serverTimeZone !== null ? { serverTimeZone: s.serverTimeZone } : {}),
    ...overrides,
  };
}

/** `jdbc.properties.*` TLS keys (config-tls.ts) as the source's sslMode and CA file. */
function tlsOf(props: Record<string, string>): Pick<MySqlSourceConfig, 'sslMode' | 'sslCaFile'> {
  const tls = readSourceTls(props);
  return { sslMode: tls.sslMode, ...(tls.caFile !== null ? { sslCaFile: tls.caFile } : {}) };
}

/**
 * Reads the server's current end of binlog. The runner uses it (a) as the start point of a fresh
 * run, stored with every table it creates, and (b) as the target of `--until-caught-up`.
 * Read-only: SHOW MASTER STATUS (SHOW BINARY LOG STATUS on MySQL ≥ 8.2, which removed the former).
 */
export async function readBinlogEnd(config: MySqlSourceConfig): Promise<{ file: string; pos: bigint }> {
  // The source's own connection settings (TLS included), tried per connect.max-retries (this is
  // the first connection of a fresh run); failures name the endpoint and cause.
  const conn = await openSourceConnection(config, 'read the binlog position');
  try {
    let rows: mysql.RowDataPacket[];
    try {
      [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    } catch {
      [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW BINARY LOG STATUS');
    }
    const row = rows[0];
    if (!row) throw new TidemarkError('SourceUnavailable', `binary logging is off on ${config.hostname}:${config.port ?? 3306} (SHOW MASTER STATUS returned no row)`, { host: config.hostname });
    return { file: String(row.File), pos: BigInt(row.Position) };
  } finally {
    await conn.end().catch(() => {});
  }
}

/**
 * The offset a fresh run starts from, made explicit so it can be stored with the target tables
 * before any record arrives. For `initial` / `snapshot`: the current binlog end with nothing of
 * the snapshot emitted. The snapshot phase is correct from any binlog point at or after the one
 * the source would have picked itself (each chunk's SELECT sees every earlier change), so the
 * offset is a valid resume point for a restart before the first commit round completes. For
 * `latest-offset`: the current binlog end. Other modes restart deterministically from their
 * configuration: null.
 */
export async function planStartOffset(config: PipelineConfig, source: MySqlSourceConfig, tables: TableSchema[]): Promise<SourceOffset | null> {
  const mode = config.source.startup.mode;
  if (mode !== 'initial' && mode !== 'snapshot' && mode !== 'latest-offset') return null;
  const end = await readBinlogEnd(source);
  return {
    file: end.file,
    pos: end.pos,
    gtidSet: null,
    snapshot: mode === 'latest-offset' ? null : { tables: tables.map((t) => ({ db: t.table.db, table: t.table.table })), tableIndex: 0, lastKey: null },
    schemas: null,
  };
}
