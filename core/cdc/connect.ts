/**
 * Connections to the source server. All reads use the same driver options so that snapshot values
 * and binlog values convert identically (schema/column-codec.ts): dates as text, BIGINT above 2^53
 * as text, JSON as text, TIMESTAMP rendered in UTC. Connection failures become typed errors naming
 * host and user, never the password.
 */
import mysql from 'mysql2/promise';
import type { ConnectionOptions } from 'mysql2';
import { TidemarkError } from '../errors/index';
import { resolveConfig, type MySqlSourceConfig, type ResolvedConfig } from './config';
import { checkPeerIdentity, formatSslMode, markServerWithoutTls, sslOptions, wantsTls, type SessionTls } from './tls';

/**
 * Driver options shared by mysql2 (snapshot, control) and zongji (binlog). `useTls`: ask for TLS
 * (default: as `config.tls` says, PREFERRED falling back to plain once the server offered none).
 */
export function connectionOptions(config: ResolvedConfig, useTls = wantsTls(config.tls, config)): ConnectionOptions {
  return {
    ...(useTls ? { ssl: sslOptions(config.tls, config.hostname) } : {}),
    host: config.hostname,
    port: config.port,
    user: config.username,
    password: config.password,
    connectTimeout: config.connectTimeoutMs,
    // BIGINT as a Number while exact, as text above 2^53 (as zongji delivers binlog values): the
    // type map takes both, and a Number converts several times faster than text (docs/perf-notes.md).
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: false,
    dateStrings: true,
    jsonStrings: true,
    timezone: 'Z',
    charset: 'utf8mb4',
  };
}

export function describeEndpoint(config: ResolvedConfig): string {
  return `${config.username}@${config.hostname}:${config.port}`;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET']);

/** mysql2's codes for a failed TLS negotiation: the server offers none, or the handshake failed. */
export function isTlsHandshakeError(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'HANDSHAKE_NO_SSL_SUPPORT' || code === 'HANDSHAKE_SSL_ERROR';
}

/** The TLS settings in force, for messages: `sslMode VERIFY_CA with CA file /x/ca.pem`. */
function describeTls(config: ResolvedConfig): string {
  const { mode, caFile } = config.tls;
  const verifies = mode === 'verify-ca' || mode === 'verify-identity';
  return `jdbc.properties.sslMode ${formatSslMode(mode)}${verifies ? (caFile ? ` with CA file ${caFile}` : " with Node's bundled CA certificates") : ''}`;
}

function mapTlsError(err: { code?: string; message?: string }, config: ResolvedConfig, what: string, context: Record<string, unknown>, e: unknown): TidemarkError {
  const at = `${config.hostname}:${config.port}`;
  const ctx = { ...context, sslMode: formatSslMode(config.tls.mode) };
  const message = err.message ?? String(e);
  if (err.code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return new TidemarkError(
      'SourceUnavailable',
      `${what}: ${at} does not offer TLS, but ${describeTls(config)} requires it: enable TLS on the server (ssl_cert, ssl_key), or set jdbc.properties.sslMode to PREFERRED or DISABLED`,
      ctx,
      e,
    );
  }
  if (/altnames|cert's list|does not match|Hostname\/IP/i.test(message)) return notIssuedFor(message, config, what, ctx, e);
  if (/certificate has expired|certificate is not yet valid/i.test(message)) {
    return new TidemarkError(
      'SourceUnavailable',
      `${what}: the TLS certificate of ${at} is outside its validity period (${describeTls(config)}): ${message}; the server needs a current certificate (ssl_cert)`,
      ctx,
      e,
    );
  }
  if (/certificate|issuer|self.signed|CERT_/i.test(message)) {
    return new TidemarkError(
      'SourceUnavailable',
      `${what}: the TLS certificate of ${at} is not trusted (${describeTls(config)}): ${message}; set jdbc.properties.trustCertificateKeyStoreUrl to the PEM file of the CA that signed the server's certificate`,
      ctx,
      e,
    );
  }
  return new TidemarkError('SourceUnavailable', `${what}: TLS handshake with ${at} failed (${describeTls(config)}): ${message}`, ctx, e);
}

/** VERIFY_IDENTITY: the certificate does not name the host connected to. */
function notIssuedFor(message: string, config: ResolvedConfig, what: string, context: Record<string, unknown>, e: unknown): TidemarkError {
  return new TidemarkError(
    'SourceUnavailable',
    `${what}: the TLS certificate of ${config.hostname}:${config.port} is not issued for ${config.hostname} (${describeTls(config)}): ${message}; connect by a name the certificate lists, or set jdbc.properties.sslMode to VERIFY_CA`,
    { ...context, sslMode: formatSslMode(config.tls.mode) },
    e,
  );
}

/** Maps a driver error to a TidemarkError; `what` says what we were doing. */
export function mapConnectionError(e: unknown, config: ResolvedConfig, what: string): TidemarkError {
  if (e instanceof TidemarkError) return e;
  const err = e as { code?: string; errno?: number; message?: string; sqlMessage?: string };
  const context = { host: config.hostname, port: config.port, user: config.username, driverCode: err.code ?? null };
  const endpoint = describeEndpoint(config);
  if (isTlsHandshakeError(e)) return mapTlsError(err, config, what, context, e);
  if (err.code === 'ER_ACCESS_DENIED_ERROR' || err.errno === 1045) {
    return new TidemarkError('InvalidInput', `${what}: access denied for ${endpoint}: wrong username or password`, context, e);
  }
  if (err.code === 'ER_DBACCESS_DENIED_ERROR' || err.errno === 1044 || err.errno === 1227 || err.errno === 1142) {
    return new TidemarkError('InvalidInput', `${what}: ${endpoint} lacks a privilege: ${err.sqlMessage ?? err.message}`, context, e);
  }
  if ((err.code && UNREACHABLE.has(err.code)) || /connect ETIMEDOUT|getaddrinfo/i.test(err.message ?? '')) {
    return new TidemarkError(
      'SourceUnavailable',
      `${what}: cannot reach ${config.hostname}:${config.port} as ${config.username} (${err.code ?? err.message})`,
      context,
      e,
    );
  }
  if (err.code === 'PROTOCOL_CONNECTION_LOST' || err.errno === 2013 || err.errno === 1053) {
    return new TidemarkError('SourceUnavailable', `${what}: lost the connection to ${config.hostname}:${config.port}`, context, e);
  }
  return new TidemarkError('SourceUnavailable', `${what} on ${endpoint}: ${err.sqlMessage ?? err.message ?? String(e)}`, context, e);
}

/**
 * Opens a mysql2 connection with UTC session time, the form every snapshot read relies on.
 * `multipleStatements` lets the snapshot send a chunk's whole transaction as one round trip
 * (snapshot-reader.ts); only statements built from quoted identifiers and integers are sent.
 */
export async function openConnection(config: ResolvedConfig, what: string, options: { multipleStatements?: boolean } = {}): Promise<mysql.Connection> {
  const conn = await connect(config, what, { multipleStatements: options.multipleStatements === true });
  // A dead socket must surface as a rejected query, not as an unhandled 'error' event.
  conn.on('error', () => {});
  try {
    await conn.query("SET time_zone = '+00:00'");
  } catch (e) {
    await conn.end().catch(() => {});
    throw mapConnectionError(e, config, what);
  }
  return conn;
}

function isAccessDenied(e: unknown): boolean {
  const err = e as { code?: string; errno?: number };
  return err.code === 'ER_ACCESS_DENIED_ERROR' || err.errno === 1045;
}

/** The socket under a mysql2 promise connection (a TLSSocket once TLS is up). */
function socketOf(conn: mysql.Connection): unknown {
  return (conn as unknown as { connection: { stream?: unknown } }).connection.stream;
}

/**
 * Connects with the source's TLS settings. PREFERRED retries without TLS when the server offers
 * none (Connector/J's meaning), once per source. VERIFY_IDENTITY checks the certificate against
 * the configured host name once connected (tls.ts sslOptions says why not always before).
 */
async function connect(config: ResolvedConfig, what: string, extra: ConnectionOptions): Promise<mysql.Connection> {
  const useTls = wantsTls(config.tls, config);
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({ ...connectionOptions(config, useTls), ...extra });
  } catch (e) {
    if (useTls && config.tls.mode === 'preferred' && (e as { code?: string }).code === 'HANDSHAKE_NO_SSL_SUPPORT') {
      markServerWithoutTls(config);
      return await connect(config, what, extra);
    }
    if (!useTls && isAccessDenied(e)) throw await explainRefusedPlainLogin(e, config, what);
    throw mapConnectionError(e, config, what);
  }
  if (useTls && config.tls.mode === 'verify-identity') {
    const failure = checkPeerIdentity(socketOf(conn), config.hostname);
    if (failure) {
      await conn.end().catch(() => {});
      throw identityError(failure, config, what);
    }
  }
  return conn;
}

/** A certificate that does not name the configured host (VERIFY_IDENTITY). */
export function identityError(failure: Error, config: ResolvedConfig, what: string): TidemarkError {
  return notIssuedFor(failure.message, config, what, { host: config.hostname, port: config.port, user: config.username, driverCode: null }, failure);
}

/**
 * A login without TLS refused as "access denied" may be a server (require_secure_transport=ON)
 * or an account (REQUIRE SSL) that insists on TLS: MariaDB answers both with the same error 1045
 * as a wrong password. The same login is tried once over TLS (unverified: the credentials already
 * went to this server in the clear); if it succeeds, the refusal is reported as what it was.
 */
async function explainRefusedPlainLogin(e: unknown, config: ResolvedConfig, what: string): Promise<TidemarkError> {
  const original = mapConnectionError(e, config, what);
  let probe: mysql.Connection;
  try {
    probe = await mysql.createConnection({ ...connectionOptions(config, false), ssl: { rejectUnauthorized: false } });
  } catch {
    return original;
  }
  probe.on('error', () => {});
  let serverWide = false;
  try {
    const [rows] = await probe.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.require_secure_transport AS r');
    serverWide = /^(1|ON)$/i.test(String(rows[0]?.r));
  } catch {
    // No such variable (MySQL before 5.7.8, MariaDB before 10.5.2): only accounts can require TLS.
  } finally {
    await probe.end().catch(() => {});
  }
  const why = serverWide ? 'the server requires TLS (require_secure_transport=ON)' : `the account ${config.username} requires TLS (REQUIRE SSL)`;
  return new TidemarkError(
    'SourceUnavailable',
    `${what}: ${config.hostname}:${config.port} refused ${describeEndpoint(config)} without TLS: ${why}, and the server reports that as "access denied" although the password is right; ` +
      `connect with TLS: set jdbc.properties.sslMode to VERIFY_CA or VERIFY_IDENTITY (with jdbc.properties.trustCertificateKeyStoreUrl: the PEM file of the server's CA), or to REQUIRED (encrypted, not verified)`,
    { host: config.hostname, port: config.port, user: config.username, driverCode: 'ER_ACCESS_DENIED_ERROR', sslMode: formatSslMode(config.tls.mode) },
    e,
  );
}

/** Whether this session is encrypted, and how (its Ssl_version and Ssl_cipher status). */
export async function readSessionTls(conn: mysql.Connection): Promise<SessionTls> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')");
  const status = Object.fromEntries(rows.map((r) => [String(r.Variable_name).toLowerCase(), String(r.Value ?? '')]));
  const cipher = status.ssl_cipher || null;
  return { encrypted: cipher !== null, version: cipher !== null ? status.ssl_version || null : null, cipher };
}

/** A connection to the source server with the source's settings (TLS included), for callers outside core/cdc. */
export async function connectToSource(config: MySqlSourceConfig, what: string): Promise<mysql.Connection> {
  return await openConnection(resolveConfig(config), what);
}

/** Quotes an identifier with backticks (doubling embedded ones). */
export function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
