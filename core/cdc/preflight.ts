/**
 * Checks run before a source starts, one line each, so a misconfigured server is explained up
 * front instead of failing mid-stream.
 */
import type mysql from 'mysql2/promise';
import type { ResolvedConfig } from './config';
import { describeEndpoint } from './connect';
import { monitorPrivilege, replicaHostsSql, type Flavor } from './flavor';
import { listMatchedTables, readTableSchemas, type MatchedTable } from './schema/information-schema';
import { chunkKeyColumnOf, planChunks } from './snapshot/chunk-plan';
import { formatOffset, readServerOffset, zoneOffsetSeconds } from './time-zone';
import { formatTableId, type TableSchema } from './types';
import { formatSslMode, type SessionTls } from './tls';
import type { PreflightCheck, PreflightReport } from '../api';
export type { PreflightCheck, PreflightReport };

/**
 * The connection's TLS, as the first check of a connection test. Always ok: a connection that
 * does not meet its sslMode is refused before any check runs.
 */
export function tlsCheck(session: SessionTls, config: ResolvedConfig): PreflightCheck {
  const { mode, caFile } = config.tls;
  const setting = `jdbc.properties.sslMode ${formatSslMode(mode)}`;
  if (!session.encrypted) {
    const why = mode === 'preferred' ? `the server offers no TLS (${setting})` : setting;
    return { name: 'tls', ok: true, message: `not encrypted: ${why}` };
  }
  const trust = caFile ? `CA file ${caFile}` : "Node's bundled CA certificates";
  const verified =
    mode === 'verify-identity'
      ? `certificate verified against ${trust}, host name ${config.hostname} checked`
      : mode === 'verify-ca'
        ? `certificate verified against ${trust} (host name not checked)`
        : 'certificate not verified';
  return { name: 'tls', ok: true, message: `encrypted: ${session.version ?? 'TLS'}, ${session.cipher}; ${verified} (${setting})` };
}

async function readVariables(conn: mysql.Connection): Promise<Record<string, string>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('log_bin','binlog_format','binlog_row_image','binlog_row_metadata','binlog_transaction_compression','binlog_row_value_options','server_id')",
  );
  return Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
}

function expectVar(vars: Record<string, string>, name: PreflightCheck['name'], expected: string, fix: string): PreflightCheck {
  const found = vars[name];
  if (found === undefined) return { name, ok: false, message: `${name}: expected ${expected}, but the server has no such variable (${fix})` };
  const ok = found.toUpperCase() === expected;
  return { name, ok, message: ok ? `${name}=${found}` : `${name}: expected ${expected}, found ${found}; ${fix}` };
}

/** Grants of the current user, flattened to privilege names (ALL PRIVILEGES expands to everything). */
async function readGlobalPrivileges(conn: mysql.Connection): Promise<Set<string>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW GRANTS FOR CURRENT_USER()');
  const privs = new Set<string>();
  for (const r of rows) {
    const line = String(Object.values(r)[0]);
    const m = /^GRANT (.+?) ON (\S+) TO /i.exec(line);
    if (!m) continue;
    const on = m[2]!.replace(/`/g, '');
    for (const p of m[1]!.split(',')) privs.add(`${p.trim().toUpperCase()}@${on}`);
  }
  return privs;
}

function hasPrivilege(privs: Set<string>, priv: string): boolean {
  return privs.has(`${priv}@*.*`) || privs.has('ALL PRIVILEGES@*.*') || (priv === 'BINLOG MONITOR' && privs.has('REPLICATION CLIENT@*.*'));
}

/** `server-time-zone` against the server's zone now, as Flink CDC validates it before it starts. */
async function checkServerTimeZone(conn: mysql.Connection, zone: string, nowMs: number): Promise<PreflightCheck> {
  const name = 'server_time_zone';
  const configured = zoneOffsetSeconds(zone, new Date(nowMs));
  const server = await readServerOffset(conn);
  if (configured === null) return { name, ok: false, message: `server-time-zone: unknown time zone ${JSON.stringify(zone)}` };
  if (server.seconds === null) return { name, ok: false, message: `server-time-zone: cannot read the offset of the server's time_zone ${server.setting}` };
  const ok = configured === server.seconds;
  return {
    name,
    ok,
    message: ok
      ? `server-time-zone ${zone} is UTC${formatOffset(configured)}, as the server's time_zone ${server.setting}`
      : `server-time-zone: ${zone} is UTC${formatOffset(configured)} now, but the server's time_zone ${server.setting} is UTC${formatOffset(server.seconds)}; Flink CDC refuses to start with this (its snapshot would shift TIMESTAMP values): set server-time-zone to the server's zone, or leave it out`,
  };
}

export async function runPreflight(conn: mysql.Connection, flavor: Flavor, config: ResolvedConfig): Promise<PreflightReport> {
  return (await runPreflightDetailed(conn, flavor, config)).report;
}

/** The report plus what it read on the way (matched tables and their schemas), for start-up to reuse. */
export async function runPreflightDetailed(
  conn: mysql.Connection,
  flavor: Flavor,
  config: ResolvedConfig,
): Promise<{ report: PreflightReport; matched: MatchedTable[]; schemas: TableSchema[]; columnsFromHistory: boolean }> {
  const checks: PreflightCheck[] = [];
  const vars = await readVariables(conn);
  const logBin = vars.log_bin?.toUpperCase() === 'ON';
  checks.push({
    name: 'binlog',
    ok: logBin,
    message: logBin ? 'log_bin=ON' : `log_bin: expected ON, found ${vars.log_bin ?? 'missing'}; start the server with --log-bin`,
  });
  checks.push(expectVar(vars, 'binlog_format', 'ROW', 'set binlog_format=ROW (SET GLOBAL binlog_format=ROW, and in the server config)'));
  checks.push(expectVar(vars, 'binlog_row_image', 'FULL', 'set binlog_row_image=FULL so updates carry whole before/after rows'));
  // Column names and types of rows: from the binlog (FULL metadata) or from the schema history.
  const columnsFromHistory = config.rowMetadata === 'schema-history' || vars.binlog_row_metadata === undefined;
  if (!columnsFromHistory) {
    checks.push(
      expectVar(
        vars,
        'binlog_row_metadata',
        'FULL',
        'set binlog_row_metadata=FULL (MySQL 8.0.1+, MariaDB 10.5+): without it rows replayed after an ALTER get wrong column names; or name them from the schema history (source option tidemark.row-metadata: schema-history)',
      ),
    );
  } else {
    checks.push({
      name: 'binlog_row_metadata',
      ok: true,
      message:
        vars.binlog_row_metadata === undefined
          ? 'binlog_row_metadata: not on this server (MySQL before 8.0.1): row column names and types come from the schema history'
          : `binlog_row_metadata=${vars.binlog_row_metadata}, not used: row column names and types come from the schema history (tidemark.row-metadata: schema-history)`,
    });
  }
  // MySQL 8 only (MariaDB has neither variable; its log_bin_compress events zongji decodes): a
  // compressed transaction (TRANSACTION_PAYLOAD event) or a partial JSON update is an event zongji
  // cannot decode, and its rows would be lost.
  if (vars.binlog_transaction_compression !== undefined) {
    const ok = vars.binlog_transaction_compression.toUpperCase() === 'OFF' || vars.binlog_transaction_compression === '0';
    checks.push({
      name: 'binlog_transaction_compression',
      ok,
      message: ok
        ? 'binlog_transaction_compression=OFF'
        : `binlog_transaction_compression: expected OFF, found ${vars.binlog_transaction_compression}; SET GLOBAL binlog_transaction_compression=OFF (compressed transactions cannot be decoded: their rows would be lost)`,
    });
  }
  if (vars.binlog_row_value_options !== undefined) {
    const ok = !/PARTIAL_JSON/i.test(vars.binlog_row_value_options);
    checks.push({
      name: 'binlog_row_value_options',
      ok,
      message: ok
        ? `binlog_row_value_options='${vars.binlog_row_value_options}'`
        : `binlog_row_value_options: expected '', found ${vars.binlog_row_value_options}; SET GLOBAL binlog_row_value_options='' (partial JSON updates cannot be decoded: those updates would be lost)`,
    });
  }
  const serverId = Number(vars.server_id ?? 0);
  let sidOk = serverId !== config.serverId;
  let sidMsg = sidOk ? `server-id ${config.serverId} differs from the server's ${serverId}` : `server-id: ${config.serverId} is the server's own server_id; choose another`;
  if (sidOk) {
    // Listing replicas needs REPLICATION MASTER ADMIN (MariaDB) / REPLICATION SLAVE (MySQL): best effort.
    try {
      const [hosts] = await conn.query<mysql.RowDataPacket[]>(replicaHostsSql(flavor));
      const clash = hosts.find((h) => Number(h.Server_id ?? h.Server_Id) === config.serverId);
      if (clash) {
        sidOk = false;
        sidMsg = `server-id: ${config.serverId} is already used by a replica connected from ${String(clash.Host ?? '?')}; choose another`;
      }
    } catch {
      sidMsg += ' (connected replicas not listed: needs REPLICATION MASTER ADMIN)';
    }
  }
  checks.push({ name: 'server_id', ok: sidOk, message: sidMsg });

  const privs = await readGlobalPrivileges(conn);
  const needed = ['SELECT', 'REPLICATION SLAVE', monitorPrivilege(flavor)];
  const missing = needed.filter((p) => !hasPrivilege(privs, p));
  checks.push({
    name: 'privileges',
    ok: missing.length === 0,
    message:
      missing.length === 0
        ? `${describeEndpoint(config)} has ${needed.join(', ')}`
        : `privileges: ${describeEndpoint(config)} lacks ${missing.join(', ')} ON *.*; GRANT ${missing.join(', ')} ON *.* TO '${config.username}'@'…'`,
  });

  const matched = await listMatchedTables(conn, config);
  checks.push({
    name: 'tables',
    ok: matched.length > 0,
    message:
      matched.length > 0
        ? `${matched.length} table(s) matched: ${matched.slice(0, 10).map((m) => formatTableId(m.id)).join(', ')}${matched.length > 10 ? ', …' : ''}`
        : `tables: no table on ${config.hostname}:${config.port} matches ${config.tables.join(', ')}${config.tablesExclude.length ? ` (excluding ${config.tablesExclude.join(', ')})` : ''}`,
  });
  const schemas = await readTableSchemas(conn, matched.map((m) => m.id), { tinyInt1IsBoolean: config.tinyInt1IsBoolean });
  const noKey = schemas.filter((s) => s.primaryKey.length === 0 && chunkKeyColumnOf(config, s.table) === undefined);
  let pkOk = noKey.length === 0;
  let pkMsg = pkOk ? 'every matched table has a primary key' : `primary_keys: no primary key (and no scan.incremental.snapshot.chunk.key-column) on ${noKey.map((s) => formatTableId(s.table)).join(', ')}`;
  for (const s of schemas) {
    try {
      if (s.primaryKey.length > 0 || chunkKeyColumnOf(config, s.table) !== undefined) planChunks(s, config);
    } catch (e) {
      pkOk = false;
      pkMsg = (e as Error).message;
    }
  }
  checks.push({ name: 'primary_keys', ok: pkOk, message: pkMsg });
  if (config.serverTimeZone !== null) checks.push(await checkServerTimeZone(conn, config.serverTimeZone, config.now()));
  const report = { ok: checks.every((c) => c.ok), server: `${flavor.version} at ${config.hostname}:${config.port}`, checks };
  return { report, matched, schemas, columnsFromHistory };
}
