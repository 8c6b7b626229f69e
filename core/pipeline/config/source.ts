import { isMap, isScalar, type Node, type YAMLMap } from 'yaml';
import { DEBEZIUM_KEYS, DEBEZIUM_OTHER_REASON, JDBC_OTHER_REASON, JDBC_PROPERTIES, PREFIX_KEYS, SOURCE_KEYS } from './keys';
import { getBool, getList, getNumber, getString, lineOfKey, readBlock, reportPrefixed, type ReadContext } from './read';
import type { SourceConfig, StartupOptions } from './types';
import { parseInteger, parseServerId, parseSkippedOperations, parseTimeZone } from './values';
import { readSourceTls, verifiesCertificate } from './tls';
import { isTidemarkError } from '../../errors';
import { readTrustedCa } from '../../cdc';
import { compileTablePattern } from './table-pattern';

const OFFSET_KEYS = [
  'scan.startup.specific-offset.file',
  'scan.startup.specific-offset.pos',
  'scan.startup.specific-offset.gtid-set',
  'scan.startup.specific-offset.skip-events',
  'scan.startup.specific-offset.skip-rows',
];

/** The `source` block: a MySQL or MariaDB server read by binlog (Flink CDC MySQL connector keys). */
export function readSource(entry: { node: unknown; line: number }, ctx: ReadContext): SourceConfig | null {
  const typeNode = isMap(entry.node) ? ((entry.node as YAMLMap).get('type', true) as Node | undefined) : undefined;
  const type = typeNode && isScalar(typeNode) ? String(typeNode.value).trim().toLowerCase() : null;
  if (type !== null && type !== 'mysql' && type !== 'mariadb') {
    ctx.issues.error(ctx.issues.lineOf(typeNode), 'source.type', `source type ${JSON.stringify(type)} is not supported: Tidemark reads MySQL and MariaDB binlogs (type: mysql or mariadb)`, 'Unsupported');
    return null;
  }
  const b = readBlock(entry.node, 'source', entry.line, SOURCE_KEYS, PREFIX_KEYS.source, ctx);
  const err = (key: string, message: string) => ctx.issues.error(lineOfKey(b, key), `source.${key}`, message);

  const pattern = (key: string) => {
    const text = getString(b, key);
    if (text === null) return null;
    const compiled = compileTablePattern(text);
    if ('error' in compiled) {
      err(key, compiled.error);
      return null;
    }
    return compiled.pattern;
  };
  const tables = pattern('tables');
  const tablesExclude = pattern('tables.exclude');

  let serverId: SourceConfig['serverId'] = null;
  const sid = getString(b, 'server-id');
  if (sid !== null) {
    const parsed = parseServerId(sid);
    if ('error' in parsed) err('server-id', parsed.error);
    else serverId = parsed.value;
  }

  const startup = readStartup(b, ctx);

  const metadataList: 'op_ts'[] = [];
  for (const m of getList(b, 'metadata.list') ?? []) {
    if (m === 'op_ts') metadataList.push('op_ts');
    else err('metadata.list', `unknown metadata ${JSON.stringify(m)}: the MySQL source provides op_ts`);
  }

  let serverTimeZone: string | null = null;
  const tz = getString(b, 'server-time-zone');
  if (tz !== null) {
    const parsed = parseTimeZone(tz);
    if ('error' in parsed) err('server-time-zone', parsed.error);
    else serverTimeZone = parsed.value;
  }

  const debezium = b.prefixed.get('debezium.') ?? {};
  reportPrefixed(b, 'debezium.', DEBEZIUM_KEYS, DEBEZIUM_OTHER_REASON, ctx);
  const connectTimeoutMs = readConnectTimeout(b, ctx);
  let skippedOperations: SourceConfig['skippedOperations'] = ['t'];
  if (debezium['skipped.operations'] !== undefined) {
    const parsed = parseSkippedOperations(debezium['skipped.operations']);
    if ('error' in parsed) ctx.issues.error(lineOfKey(b, 'debezium.skipped.operations'), 'source.debezium.skipped.operations', parsed.error);
    else skippedOperations = parsed.value;
  }

  // As Flink CDC's MySQL pipeline source: with both, a table created in the binlog phase would be
  // streamed and then snapshotted again after a restart.
  if (getBool(b, 'scan.newly-added-table.enabled', false) && getBool(b, 'scan.binlog.newly-added-table.enabled', false)) {
    ctx.issues.error(lineOfKey(b, 'scan.binlog.newly-added-table.enabled'), 'source.scan.binlog.newly-added-table.enabled', 'cannot be true together with scan.newly-added-table.enabled (rows of a table created while streaming would be read twice after a restart); choose one');
  }
  const jdbcProperties = readJdbcProperties(b, ctx);
  const chunkKeyColumns = readChunkKeyColumns(getString(b, 'scan.incremental.snapshot.chunk.key-column'), (message) => err('scan.incremental.snapshot.chunk.key-column', message));
  if (!tables || type === null) return null;
  return {
    type: type as SourceConfig['type'],
    name: getString(b, 'name'),
    hostname: getString(b, 'hostname') ?? '',
    port: getNumber(b, 'port', 3306),
    username: getString(b, 'username') ?? '',
    password: getString(b, 'password') ?? '',
    tables,
    tablesExclude,
    serverId,
    startup,
    snapshotChunkSize: getNumber(b, 'scan.incremental.snapshot.chunk.size', 8096),
    ...(chunkKeyColumns.length > 0 ? { chunkKeyColumns } : {}),
    snapshotFetchSize: getNumber(b, 'scan.snapshot.fetch.size', 1024),
    newlyAddedTableEnabled: getBool(b, 'scan.newly-added-table.enabled', false),
    binlogNewlyAddedTableEnabled: getBool(b, 'scan.binlog.newly-added-table.enabled', false),
    parseOnlineSchemaChangesEnabled: getBool(b, 'scan.parse.online.schema.changes.enabled', false),
    schemaChangeEnabled: getBool(b, 'schema-change.enabled', true),
    heartbeatIntervalMs: getNumber(b, 'heartbeat.interval', 30_000),
    connectTimeoutMs,
    connectMaxRetries: getNumber(b, 'connect.max-retries', 3),
    serverTimeZone,
    metadataList,
    skippedOperations,
    treatTinyint1AsBoolean: getBool(b, 'treat-tinyint1-as-boolean.enabled', true),
    includeComments: getBool(b, 'include-comments.enabled', false),
    rowMetadata: getString(b, 'tidemark.row-metadata') === 'schema-history' ? 'schema-history' : 'auto',
    debezium,
    jdbcProperties,
  };
}

/**
 * Every `jdbc.properties.*` key without the prefix, values as text: the free-form ones and the TLS
 * keys (declared in config-keys.ts, so their values are checked). The TLS settings are checked as
 * the source will use them (config-tls.ts): a CA file that cannot be used is an error here.
 */
const SSL_MODES = ['DISABLED', 'PREFERRED', 'REQUIRED', 'VERIFY_CA', 'VERIFY_IDENTITY'];

function readJdbcProperties(b: ReturnType<typeof readBlock>, ctx: ReadContext): Record<string, string> {
  // Connector/J matches property names case-insensitively: known ones get their canonical name.
  const props: Record<string, string> = {};
  const given = new Map<string, string>();
  for (const [suffix, value] of Object.entries(b.prefixed.get('jdbc.properties.') ?? {})) {
    const name = JDBC_PROPERTIES.find((s) => s.key.toLowerCase() === suffix.toLowerCase())?.key ?? suffix;
    props[name] = value;
    given.set(name, suffix);
  }
  const at = (name: string) => lineOfKey(b, `jdbc.properties.${given.get(name) ?? name}`);
  if (props.sslMode !== undefined && !SSL_MODES.includes(props.sslMode.trim().toUpperCase())) {
    ctx.issues.error(at('sslMode'), 'source.jdbc.properties.sslMode', `expected one of ${SSL_MODES.join(', ')}, found ${JSON.stringify(props.sslMode)}`);
    delete props.sslMode;
  } else if (props.sslMode !== undefined) props.sslMode = props.sslMode.trim().toUpperCase();
  for (const flagKey of ['useSSL', 'requireSSL', 'verifyServerCertificate'] as const) {
    if (props[flagKey] !== undefined && !/^(true|false)$/i.test(props[flagKey].trim())) {
      ctx.issues.error(at(flagKey), `source.jdbc.properties.${flagKey}`, `expected true or false, found ${JSON.stringify(props[flagKey])}`);
      delete props[flagKey];
    }
  }
  const tls = readSourceTls(props);
  if (props.sslMode !== undefined) {
    for (const legacy of ['useSSL', 'requireSSL', 'verifyServerCertificate'] as const) {
      if (props[legacy] !== undefined) ctx.issues.warn(at(legacy), `source.jdbc.properties.${legacy}`, 'ignored: jdbc.properties.sslMode is set (as in Connector/J, the legacy keys count only without it)');
    }
  }
  if (tls.caFile !== null) {
    const key = 'jdbc.properties.trustCertificateKeyStoreUrl';
    if (!verifiesCertificate(tls.sslMode)) {
      ctx.issues.warn(at('trustCertificateKeyStoreUrl'), `source.${key}`, `ignored: sslMode ${tls.sslMode.toUpperCase().replace('-', '_')} does not verify the server's certificate (VERIFY_CA and VERIFY_IDENTITY do)`);
    } else {
      try {
        readTrustedCa(tls.caFile, key);
        ctx.issues.warn(at('trustCertificateKeyStoreUrl'), `source.${key}`, 'a PEM CA file: Tidemark reads it; Flink CDC (Connector/J) reads a JKS or PKCS12 keystore at this key, so give the cluster a keystore of the same CA');
      } catch (e) {
        if (!isTidemarkError(e)) throw e;
        ctx.issues.error(at('trustCertificateKeyStoreUrl'), `source.${key}`, e.message.startsWith(`${key}: `) ? e.message.slice(key.length + 2) : e.message, e.code);
      }
    }
  }
  return props;
}

/**
 * `connect.timeout`, else `jdbc.properties.connectTimeout` (Connector/J's milliseconds), else
 * Flink CDC's default of 30 s. Reports every other jdbc.properties key as ignored.
 */
function readConnectTimeout(b: ReturnType<typeof readBlock>, ctx: ReadContext): number {
  const jdbc = reportPrefixed(b, 'jdbc.properties.', JDBC_PROPERTIES, JDBC_OTHER_REASON, ctx);
  const spec = JDBC_PROPERTIES.find((s) => s.key === 'connectTimeout')!;
  const given = jdbc.get(spec);
  if (!given) return getNumber(b, 'connect.timeout', 30_000);
  const key = `jdbc.properties.${given.suffix}`;
  const parsed = parseInteger(given.value, spec.min);
  if ('error' in parsed) {
    ctx.issues.error(lineOfKey(b, key), `source.${key}`, `${parsed.error} (milliseconds)`);
    return 30_000;
  }
  if (b.values.has('connect.timeout')) {
    ctx.issues.warn(lineOfKey(b, key), `source.${key}`, 'ignored: connect.timeout is set and wins');
    return getNumber(b, 'connect.timeout', 30_000);
  }
  return parsed.value;
}

/**
 * `scan.incremental.snapshot.chunk.key-column`: Flink CDC's MySQL pipeline form,
 * `<table-pattern>:<column>` entries separated by `;` (the pattern as `tables` writes one).
 */
function readChunkKeyColumns(text: string | null, err: (message: string) => void): NonNullable<SourceConfig['chunkKeyColumns']> {
  if (text === null) return [];
  const out: NonNullable<SourceConfig['chunkKeyColumns']> = [];
  for (const entry of text.split(';').map((e) => e.trim()).filter((e) => e !== '')) {
    const colon = entry.lastIndexOf(':');
    const column = colon < 0 ? '' : entry.slice(colon + 1).trim();
    const table = colon < 0 ? '' : entry.slice(0, colon).trim();
    if (table === '' || column === '') {
      err(`expected <table-pattern>:<column> entries separated by ';', found ${JSON.stringify(entry)}`);
      continue;
    }
    const compiled = compileTablePattern(table);
    if ('error' in compiled) err(compiled.error);
    else out.push({ table: compiled.pattern, column });
  }
  if (out.length === 0 && text.trim() === '') err('expected <table-pattern>:<column> entries separated by \';\', found an empty value');
  return out;
}

function readStartup(b: ReturnType<typeof readBlock>, ctx: ReadContext): StartupOptions {
  const mode = getString(b, 'scan.startup.mode') ?? 'initial';
  const modeLine = lineOfKey(b, 'scan.startup.mode');
  if (mode !== 'specific-offset') {
    for (const key of OFFSET_KEYS) {
      if (b.values.has(key)) ctx.issues.warn(lineOfKey(b, key), `source.${key}`, `ignored: scan.startup.mode is ${mode}, not specific-offset`);
    }
  }
  if (mode !== 'timestamp' && b.values.has('scan.startup.timestamp-millis')) {
    ctx.issues.warn(lineOfKey(b, 'scan.startup.timestamp-millis'), 'source.scan.startup.timestamp-millis', `ignored: scan.startup.mode is ${mode}, not timestamp`);
  }
  if (mode === 'specific-offset') {
    const file = getString(b, 'scan.startup.specific-offset.file');
    const pos = b.values.has('scan.startup.specific-offset.pos') ? getNumber(b, 'scan.startup.specific-offset.pos', 0) : null;
    const gtidSet = getString(b, 'scan.startup.specific-offset.gtid-set');
    if (gtidSet === null && (file === null || pos === null)) {
      ctx.issues.error(modeLine, 'source.scan.startup.mode', 'specific-offset needs scan.startup.specific-offset.file and scan.startup.specific-offset.pos, or scan.startup.specific-offset.gtid-set');
    }
    return {
      mode,
      file,
      pos,
      gtidSet,
      skipEvents: getNumber(b, 'scan.startup.specific-offset.skip-events', 0),
      skipRows: getNumber(b, 'scan.startup.specific-offset.skip-rows', 0),
    };
  }
  if (mode === 'timestamp') {
    if (!b.values.has('scan.startup.timestamp-millis')) {
      ctx.issues.error(modeLine, 'source.scan.startup.mode', 'timestamp needs scan.startup.timestamp-millis (ms since the epoch)');
    }
    return { mode, timestampMillis: getNumber(b, 'scan.startup.timestamp-millis', 0) };
  }
  return { mode: mode as 'initial' | 'earliest-offset' | 'latest-offset' | 'snapshot' };
}
