/**
 * The MySQL/MariaDB CDC source: preflight, then (per startup mode or saved offset) the snapshot
 * phase and the binlog phase, as one ordered async stream of SourceRecords.
 *
 * Offsets: every transaction, schema change and heartbeat carries the offset *after* it. A consumer
 * that stores the offset atomically with the data it derived from the records before it, and later
 * calls start(thatOffset), sees every change exactly once.
 */
import type mysql from 'mysql2/promise';
import { TidemarkError, isTidemarkError } from '../errors/index';
import { BinlogReader, type BinlogStart } from './binlog/reader';
import { SchemaCatalog } from './schema/catalog';
import { resolveConfig, type MySqlSourceConfig, type ResolvedConfig } from './config';
import { mapConnectionError, readSessionTls } from './connect';
import { openConnectionRetrying } from './connect-retry';
import { createDdlContext } from './ddl/handler';
import { detectFlavor, readServerPosition, readStartPosition, type Flavor, type ServerPosition } from './flavor';
import { comparePositions, formatPosition, type BinlogPosition, type SnapshotState, type SourceOffset } from './offset';
import { runPreflight, runPreflightDetailed, tlsCheck, type PreflightReport } from './preflight';
import { listMatchedTables, readDefaultCharsets, readTableSchemas, type MatchedTable } from './schema/information-schema';
import { runSnapshotPhase } from './snapshot/phase';
import { StreamState } from './binlog/stream-state';
import { formatTableId, type SourceRecord, type TableId, type TableSchema } from './types';

export interface MySqlSource {
  /** Runs the preflight checks without starting; never throws for a failed check (see `ok`). */
  preflight(): Promise<PreflightReport>;
  /** Current schemas of the matched tables (for creating targets before the first record). */
  describeTables(): Promise<TableSchema[]>;
  /** Size estimates of the matched tables (INFORMATION_SCHEMA.TABLES: TABLE_ROWS, DATA_LENGTH), for planning. */
  estimateTables(): Promise<MatchedTable[]>;
  /**
   * Starts reading: from `offset` when given (a value previously carried by a record), else per
   * the configured startup mode. Throws InvalidInput/Unsupported when preflight fails,
   * SourceUnavailable when the server or the needed binlog is gone.
   */
  start(offset?: SourceOffset | null): AsyncGenerator<SourceRecord, void, undefined>;
  /** Ends a running start(): its iterator finishes normally. */
  stop(): Promise<void>;
  /** Binlog reconnects so far (after connection loss or server restart). */
  readonly reconnects: number;
}

async function listBinlogs(conn: mysql.Connection): Promise<string[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
  return rows.map((r) => String(r.Log_name));
}

async function assertBinlogPresent(conn: mysql.Connection, config: ResolvedConfig, at: BinlogPosition): Promise<void> {
  const logs = await listBinlogs(conn);
  if (logs.includes(at.file)) return;
  throw new TidemarkError(
    'SourceUnavailable',
    `binlog file ${at.file} needed to resume at ${formatPosition(at)} is no longer on ${config.hostname}:${config.port} (purged; oldest is ${logs[0] ?? 'none'}): a re-snapshot is needed (startup mode initial)`,
    { file: at.file, pos: at.pos.toString(), oldest: logs[0] ?? null },
  );
}

/**
 * Schema-history mode, fresh start: the catalog was read before the start position, and must be the
 * schemas *at* it — a DDL committed in between is in neither the catalog nor the binlog read from
 * the position, and its table's rows would be decoded with the old columns. The schemas are read
 * again after the position: unchanged means no DDL committed in between; else the position is read
 * again after them (a few tries).
 */
async function pinSchemasAt(conn: mysql.Connection, flavor: Flavor, catalog: SchemaCatalog, first: TableSchema[], at: ServerPosition): Promise<ServerPosition> {
  const options = { tinyInt1IsBoolean: catalog.config.tinyInt1IsBoolean };
  const ids = first.map((s) => s.table);
  let before = JSON.stringify(first);
  let pos = at;
  for (let attempt = 0; attempt < 5; attempt++) {
    const schemas = await readTableSchemas(conn, ids, options);
    const after = JSON.stringify(schemas);
    if (after === before) return pos;
    for (const id of ids) if (!schemas.some((s) => s.table.db === id.db && s.table.table === id.table)) catalog.delete(id);
    for (const s of schemas) catalog.set(s);
    before = after;
    pos = await readStartPosition(conn, flavor);
  }
  throw new TidemarkError(
    'SourceUnavailable',
    `the captured tables' schemas kept changing while the start position was read on ${catalog.config.hostname}:${catalog.config.port} (5 tries); start again once the DDL is done`,
    { host: catalog.config.hostname },
  );
}

/** What the preflight found, once every check the start needs has passed. */
interface Checked {
  matched: Awaited<ReturnType<typeof runPreflightDetailed>>['matched'];
  schemas: TableSchema[];
  columnsFromHistory: boolean;
}

/**
 * Runs the preflight and throws naming every failed check. Keys (or chunk keys) are needed to
 * snapshot only: a start that only streams (from a binlog-phase offset without newly added tables,
 * or a non-snapshot startup mode) identifies rows of a keyless table by all their columns.
 */
async function checkBeforeStart(ctrl: mysql.Connection, flavor: Flavor, config: ResolvedConfig, offset: SourceOffset | null): Promise<Checked> {
  const { report, matched, schemas, columnsFromHistory } = await runPreflightDetailed(ctrl, flavor, config);
  const snapshotting = offset ? offset.snapshot !== null || config.scanNewlyAddedTables : config.startupMode.mode === 'initial' || config.startupMode.mode === 'snapshot';
  const failed = report.checks.filter((c) => !c.ok && (c.name !== 'primary_keys' || snapshotting));
  if (failed.length > 0) {
    throw new TidemarkError('InvalidInput', `preflight failed on ${report.server}:\n${failed.map((c) => `  ${c.message}`).join('\n')}`, {
      host: config.hostname,
      failed: failed.map((c) => c.name).join(','),
    });
  }
  return { matched, schemas, columnsFromHistory };
}

/** The catalog at the start, and (scan.newly-added-table.enabled) the tables the offset's history does not know. */
interface StartCatalog {
  catalog: SchemaCatalog;
  newlyAdded: TableSchema[];
  /** The stream passes over the newly added tables' rows and DDL until here (their snapshot's SELECTs supersede them). */
  catchUpTo: BinlogPosition | null;
}

async function loadStartCatalog(ctrl: mysql.Connection, flavor: Flavor, config: ResolvedConfig, offset: SourceOffset | null, checked: Checked): Promise<StartCatalog> {
  const typeOptions = { tinyInt1IsBoolean: config.tinyInt1IsBoolean };
  const catalog = new SchemaCatalog(config);
  catalog.columnsFromHistory = checked.columnsFromHistory;
  if (!offset?.schemas) {
    for (const s of checked.schemas) catalog.set(s);
    const missing: TableId[] = (offset?.snapshot?.tables ?? []).filter((t) => !catalog.has(t));
    for (const s of await readTableSchemas(ctrl, missing, typeOptions)) catalog.set(s);
    return { catalog, newlyAdded: [], catchUpTo: null };
  }
  // The schema history at the offset: later DDL is replayed from the binlog.
  for (const s of offset.schemas) catalog.set(s);
  if (!config.scanNewlyAddedTables) return { catalog, newlyAdded: [], catchUpTo: null };
  // Tables matched now that the offset's schema history does not know were not captured before;
  // they get a snapshot phase of their own from the offset.
  let newlyAdded = checked.schemas.filter((s) => !catalog.has(s.table) && !(offset.snapshot?.tables ?? []).some((t) => t.db === s.table.db && t.table === s.table.table));
  let catchUpTo: BinlogPosition | null = null;
  if (newlyAdded.length > 0) {
    // Their rows and DDL up to here are superseded by the snapshot's SELECTs (each sees every
    // earlier commit) and their schemas are read after it (StreamState.catchUp).
    catchUpTo = await readServerPosition(ctrl, flavor);
    newlyAdded = await readTableSchemas(ctrl, newlyAdded.map((s) => s.table), typeOptions);
  }
  for (const s of newlyAdded) catalog.set(s);
  return { catalog, newlyAdded, catchUpTo };
}

/** Where the binlog reader starts, the stream's first position, and the snapshot phase to run first (if any). */
interface StartPosition {
  start: BinlogStart;
  startPos: BinlogPosition;
  gtidSeed: string | null;
  snapshot: SnapshotState | null;
  skipBeforeMs: number | null;
}

/** The start of a resumed stream: the offset's own position (or, before a GTID start saw its first event, its GTID set). */
async function startFromOffset(ctrl: mysql.Connection, config: ResolvedConfig, offset: SourceOffset): Promise<StartPosition> {
  if (offset.file === '' && offset.gtidSet !== null) {
    return { start: { gtidSet: offset.gtidSet }, startPos: { file: '', pos: 0n }, gtidSeed: offset.gtidSet, snapshot: offset.snapshot, skipBeforeMs: null };
  }
  await assertBinlogPresent(ctrl, config, offset);
  return { start: { file: offset.file, pos: offset.pos }, startPos: offset, gtidSeed: offset.gtidSet, snapshot: offset.snapshot, skipBeforeMs: null };
}

/** The start of a fresh stream, per scan.startup.mode. */
async function startFromMode(ctrl: mysql.Connection, flavor: Flavor, config: ResolvedConfig, catalog: SchemaCatalog, checked: Checked): Promise<StartPosition> {
  const mode = config.startupMode;
  if (mode.mode === 'initial' || mode.mode === 'snapshot' || mode.mode === 'latest-offset') {
    await config.beforeStartPosition?.();
    let sp = await readStartPosition(ctrl, flavor);
    if (checked.columnsFromHistory) sp = await pinSchemasAt(ctrl, flavor, catalog, checked.schemas, sp);
    const snapshot = mode.mode === 'latest-offset' ? null : { tables: checked.matched.map((m) => m.id), tableIndex: 0, lastKey: null };
    return { start: { file: sp.file, pos: sp.pos }, startPos: sp, gtidSeed: sp.gtidSet, snapshot, skipBeforeMs: null };
  }
  if (mode.mode === 'earliest-offset' || mode.mode === 'timestamp') {
    const first = (await listBinlogs(ctrl))[0];
    if (!first) throw new TidemarkError('SourceUnavailable', `no binlog files on ${config.hostname}:${config.port}`, { host: config.hostname });
    return { start: { file: first, pos: 4n }, startPos: { file: first, pos: 4n }, gtidSeed: null, snapshot: null, skipBeforeMs: mode.mode === 'timestamp' ? mode.timestampMs : null };
  }
  if (mode.file !== undefined && mode.pos !== undefined) {
    const startPos = { file: mode.file, pos: mode.pos };
    await assertBinlogPresent(ctrl, config, startPos);
    return { start: { file: mode.file, pos: mode.pos }, startPos, gtidSeed: mode.gtidSet ?? null, snapshot: null, skipBeforeMs: null };
  }
  if (mode.gtidSet !== undefined) {
    return { start: { gtidSet: mode.gtidSet }, startPos: { file: '', pos: 0n }, gtidSeed: mode.gtidSet, snapshot: null, skipBeforeMs: null };
  }
  throw new TidemarkError('InvalidInput', 'scan.startup.mode specific-offset needs specific-offset.file and .pos, or .gtid-set', { key: 'scan.startup.mode' });
}

/**
 * Newly added tables join the snapshot phase: behind the unfinished tables on a restart inside
 * one, else in a new phase at a position the stream has already passed once — a new round keeps
 * offsets ordered (the same position now comes after the earlier one).
 */
function queueNewlyAdded(snapshot: SnapshotState | null, round: number, newlyAdded: TableSchema[]): { snapshot: SnapshotState | null; round: number } {
  if (newlyAdded.length === 0) return { snapshot, round };
  const added = newlyAdded.map((s) => s.table);
  if (snapshot) return { snapshot: { ...snapshot, tables: [...snapshot.tables, ...added] }, round };
  return { snapshot: { tables: added, tableIndex: 0, lastKey: null }, round: round + 1 };
}

/**
 * XA transactions prepared before the offset and unfinished at it: their rows are in the binlog
 * before the offset, so the reader starts at the first of them and collects only those.
 */
async function planXaReplay(ctrl: mysql.Connection, config: ResolvedConfig, offset: SourceOffset | null, position: StartPosition) {
  const pendingXa = offset && offset.file !== '' ? (offset.preparedXa ?? []) : [];
  if (pendingXa.length === 0) return { pendingXa, start: position.start, replayXa: undefined };
  const first = pendingXa.map((x) => x.start).reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b));
  await assertBinlogPresent(ctrl, config, first);
  return { pendingXa, start: { file: first.file, pos: first.pos } as BinlogStart, replayXa: { until: position.startPos, xids: new Set(pendingXa.map((x) => x.xid)) } };
}

export function createMySqlSource(input: MySqlSourceConfig): MySqlSource {
  const config = resolveConfig(input);
  const typeOptions = { tinyInt1IsBoolean: config.tinyInt1IsBoolean };
  let reader: BinlogReader | null = null;
  let stopped = false;
  let reconnectsBefore = 0;

  async function withConnection<T>(what: string, fn: (c: mysql.Connection, f: Flavor) => Promise<T>): Promise<T> {
    const conn = await openConnectionRetrying(config, what);
    try {
      return await fn(conn, await detectFlavor(conn));
    } catch (e) {
      throw mapConnectionError(e, config, what);
    } finally {
      await conn.end().catch(() => {});
    }
  }

  let running = false;

  async function* run(offset: SourceOffset | null): AsyncGenerator<SourceRecord, void, undefined> {
    if (running) throw new TidemarkError('InvalidInput', 'this source is already started; stop() it before starting again', {});
    running = true;
    stopped = false;
    let ctrl: mysql.Connection;
    try {
      ctrl = await openConnectionRetrying(config, 'source start');
    } catch (e) {
      running = false;
      throw e;
    }
    let snapConn: mysql.Connection | null = null;
    try {
      const flavor = await detectFlavor(ctrl);
      const checked = await checkBeforeStart(ctrl, flavor, config, offset);
      const estimates = new Map(checked.matched.map((m) => [formatTableId(m.id), m.rowsEstimated]));
      const { catalog, newlyAdded, catchUpTo } = await loadStartCatalog(ctrl, flavor, config, offset, checked);
      const readSchema = async (id: TableId) => (await readTableSchemas(ctrl, [id], typeOptions))[0] ?? null;
      const position = offset ? await startFromOffset(ctrl, config, offset) : await startFromMode(ctrl, flavor, config, catalog, checked);
      const { snapshot, round } = queueNewlyAdded(position.snapshot, offset?.round ?? 0, newlyAdded);
      const { pendingXa, start, replayXa } = await planXaReplay(ctrl, config, offset, position);
      const ddl = createDdlContext(catalog, config.parseOnlineSchemaChanges, readSchema, await readDefaultCharsets(ctrl));
      // The reader filters by pattern only: whether a new table is captured is decided in stream order (StreamState).
      // skip-events / skip-rows apply to the configured position only, never to a resume offset.
      const mode = config.startupMode;
      const skip = !offset && mode.mode === 'specific-offset' ? { events: mode.skipEvents ?? 0, rows: mode.skipRows ?? 0 } : null;
      const { gtidSeed, startPos } = position;
      reader = new BinlogReader({ config, flavor, start, gtidSeed, isCaptured: (id) => catalog.matches(id), columnsFromHistory: checked.columnsFromHistory, ...(replayXa ? { replayXa } : {}), ...(skip ? { skip } : {}) });
      reader.start();
      const state = new StreamState(config, reader, catalog, ddl, startPos, gtidSeed, snapshot, readSchema, pendingXa);
      state.round = round;
      if (catchUpTo) for (const s of newlyAdded) state.catchUp.set(formatTableId(s.table), catchUpTo);
      state.skipBeforeMs = position.skipBeforeMs;

      if (state.snapshot) {
        snapConn = await openConnectionRetrying(config, 'snapshot', { multipleStatements: true });
        yield* runSnapshotPhase({ conn: snapConn, flavor, state, estimates });
        await snapConn.end().catch(() => {});
        snapConn = null;
      }
      if (config.startupMode.mode === 'snapshot') return;
      for (;;) {
        if (stopped) return;
        for (const rec of await state.step(null)) yield rec;
      }
    } catch (e) {
      if (stopped && isTidemarkError(e) && e.code === 'Cancelled') return;
      throw isTidemarkError(e) ? e : mapConnectionError(e, config, 'source');
    } finally {
      if (reader) {
        reconnectsBefore += reader.reconnects;
        await reader.close();
        reader = null;
      }
      if (snapConn) await snapConn.end().catch(() => {});
      await ctrl.end().catch(() => {});
      running = false;
    }
  }

  return {
    preflight: () =>
      withConnection('preflight', async (conn, flavor) => {
        const report = await runPreflight(conn, flavor, config);
        const tls = await readSessionTls(conn);
        return { ...report, checks: [tlsCheck(tls, config), ...report.checks], tls };
      }),
    describeTables: () =>
      withConnection('describe tables', async (conn) => readTableSchemas(conn, (await listMatchedTables(conn, config)).map((m) => m.id), typeOptions)),
    estimateTables: () => withConnection('estimate table sizes', (conn) => listMatchedTables(conn, config)),
    start: (offset) => run(offset ?? null),
    async stop() {
      stopped = true;
      await reader?.close();
    },
    get reconnects() {
      return reconnectsBefore + (reader?.reconnects ?? 0);
    },
  };
}
