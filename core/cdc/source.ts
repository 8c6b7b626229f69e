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
import { listMatchedTables, readDefaultCharsets, readTableSchemas } from './schema/information-schema';
import { runSnapshotPhase } from './snapshot/phase';
import { StreamState } from './binlog/stream-state';
import { formatTableId, type SourceRecord, type TableId, type TableSchema } from './types';

export interface MySqlSource {
  /** Runs the preflight checks without starting; never throws for a failed check (see `ok`). */
  preflight(): Promise<PreflightReport>;
  /** Current schemas of the matched tables (for creating targets before the first record). */
  describeTables(): Promise<TableSchema[]>;
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
      const { report, matched, schemas, columnsFromHistory } = await runPreflightDetailed(ctrl, flavor, config);
      // Keys (or chunk keys) are needed to snapshot: a start that only streams (from a binlog-phase
      // offset without newly added tables, or a non-snapshot startup mode) identifies rows of a
      // keyless table by all their columns, e.g. after its key was dropped.
      const snapshotting = offset ? offset.snapshot !== null || config.scanNewlyAddedTables : config.startupMode.mode === 'initial' || config.startupMode.mode === 'snapshot';
      const failed = report.checks.filter((c) => !c.ok && (c.name !== 'primary_keys' || snapshotting));
      if (failed.length > 0) {
        throw new TidemarkError('InvalidInput', `preflight failed on ${report.server}:\n${failed.map((c) => `  ${c.message}`).join('\n')}`, {
          host: config.hostname,
          failed: failed.map((c) => c.name).join(','),
        });
      }
      const estimates = new Map(matched.map((m) => [formatTableId(m.id), m.rowsEstimated]));
      const catalog = new SchemaCatalog(config);
      catalog.columnsFromHistory = columnsFromHistory;
      const readSchema = async (id: TableId) => (await readTableSchemas(ctrl, [id], typeOptions))[0] ?? null;
      // scan.newly-added-table.enabled: tables matched now that the offset's schema history does
      // not know were not captured before; they get a snapshot phase of their own from the offset.
      let newlyAdded: TableSchema[] = [];
      let catchUpTo: BinlogPosition | null = null;
      if (offset?.schemas) {
        // The schema history at the offset: later DDL is replayed from the binlog.
        for (const s of offset.schemas) catalog.set(s);
        if (config.scanNewlyAddedTables) {
          newlyAdded = schemas.filter((s) => !catalog.has(s.table) && !(offset.snapshot?.tables ?? []).some((t) => t.db === s.table.db && t.table === s.table.table));
          if (newlyAdded.length > 0) {
            // Their rows and DDL up to here are superseded by the snapshot's SELECTs (each sees
            // every earlier commit) and their schemas are read after it: the stream passes over
            // both until this position (StreamState.catchUp).
            catchUpTo = await readServerPosition(ctrl, flavor);
            newlyAdded = await readTableSchemas(ctrl, newlyAdded.map((s) => s.table), typeOptions);
          }
          for (const s of newlyAdded) catalog.set(s);
        }
      } else {
        for (const s of schemas) catalog.set(s);
        const missing: TableId[] = (offset?.snapshot?.tables ?? []).filter((t) => !catalog.has(t));
        for (const s of await readTableSchemas(ctrl, missing, typeOptions)) catalog.set(s);
      }

      const mode = config.startupMode;
      let start: BinlogStart;
      let startPos: BinlogPosition;
      let gtidSeed: string | null = null;
      let snapshot: SnapshotState | null = null;
      let skipBeforeMs: number | null = null;
      if (offset && offset.file === '' && offset.gtidSet !== null) {
        // An offset taken before a GTID start saw its first event: only the GTID set is known.
        start = { gtidSet: offset.gtidSet };
        startPos = { file: '', pos: 0n };
        gtidSeed = offset.gtidSet;
        snapshot = offset.snapshot;
      } else if (offset) {
        await assertBinlogPresent(ctrl, config, offset);
        start = { file: offset.file, pos: offset.pos };
        startPos = offset;
        gtidSeed = offset.gtidSet;
        snapshot = offset.snapshot;
      } else if (mode.mode === 'initial' || mode.mode === 'snapshot' || mode.mode === 'latest-offset') {
        await config.beforeStartPosition?.();
        let sp = await readStartPosition(ctrl, flavor);
        if (columnsFromHistory) sp = await pinSchemasAt(ctrl, flavor, catalog, schemas, sp);
        start = { file: sp.file, pos: sp.pos };
        startPos = sp;
        gtidSeed = sp.gtidSet;
        if (mode.mode !== 'latest-offset') snapshot = { tables: matched.map((m) => m.id), tableIndex: 0, lastKey: null };
      } else if (mode.mode === 'earliest-offset' || mode.mode === 'timestamp') {
        const first = (await listBinlogs(ctrl))[0];
        if (!first) throw new TidemarkError('SourceUnavailable', `no binlog files on ${config.hostname}:${config.port}`, { host: config.hostname });
        start = { file: first, pos: 4n };
        startPos = { file: first, pos: 4n };
        if (mode.mode === 'timestamp') skipBeforeMs = mode.timestampMs;
      } else if (mode.file !== undefined && mode.pos !== undefined) {
        startPos = { file: mode.file, pos: mode.pos };
        await assertBinlogPresent(ctrl, config, startPos);
        start = { file: mode.file, pos: mode.pos };
        gtidSeed = mode.gtidSet ?? null;
      } else if (mode.gtidSet !== undefined) {
        start = { gtidSet: mode.gtidSet };
        startPos = { file: '', pos: 0n };
        gtidSeed = mode.gtidSet;
      } else {
        throw new TidemarkError('InvalidInput', 'scan.startup.mode specific-offset needs specific-offset.file and .pos, or .gtid-set', { key: 'scan.startup.mode' });
      }
      let round = offset?.round ?? 0;
      if (newlyAdded.length > 0) {
        const added = newlyAdded.map((s) => s.table);
        if (snapshot) {
          // Restart inside a snapshot phase: the new tables queue behind the unfinished ones.
          snapshot = { tables: [...snapshot.tables, ...added], tableIndex: snapshot.tableIndex, lastKey: snapshot.lastKey };
        } else {
          // A new snapshot phase at a position the stream has already passed once: a new round
          // keeps offsets ordered (the same position now comes after the earlier one).
          snapshot = { tables: added, tableIndex: 0, lastKey: null };
          round++;
        }
      }

      // XA transactions prepared before the offset and unfinished at it: their rows are in the
      // binlog before the offset, so the reader starts at the first of them and collects only those.
      const pendingXa = offset && offset.file !== '' ? (offset.preparedXa ?? []) : [];
      let replayXa: { until: BinlogPosition; xids: Set<string> } | undefined;
      if (pendingXa.length > 0) {
        const first = pendingXa.map((x) => x.start).reduce((a, b) => (comparePositions(a, b) <= 0 ? a : b));
        await assertBinlogPresent(ctrl, config, first);
        start = { file: first.file, pos: first.pos };
        replayXa = { until: startPos, xids: new Set(pendingXa.map((x) => x.xid)) };
      }
      const ddl = createDdlContext(catalog, config.parseOnlineSchemaChanges, readSchema, await readDefaultCharsets(ctrl));
      // The reader filters by pattern only: whether a new table is captured is decided in stream order (StreamState).
      // skip-events / skip-rows apply to the configured position only, never to a resume offset.
      const skip = !offset && mode.mode === 'specific-offset' ? { events: mode.skipEvents ?? 0, rows: mode.skipRows ?? 0 } : null;
      reader = new BinlogReader({ config, flavor, start, gtidSeed, isCaptured: (id) => catalog.matches(id), columnsFromHistory, ...(replayXa ? { replayXa } : {}), ...(skip ? { skip } : {}) });
      reader.start();
      const state = new StreamState(config, reader, catalog, ddl, startPos, gtidSeed, snapshot, readSchema, pendingXa);
      state.round = round;
      if (catchUpTo) for (const s of newlyAdded) state.catchUp.set(formatTableId(s.table), catchUpTo);
      state.skipBeforeMs = skipBeforeMs;

      if (state.snapshot) {
        snapConn = await openConnectionRetrying(config, 'snapshot', { multipleStatements: true });
        yield* runSnapshotPhase({ conn: snapConn, flavor, state, estimates });
        await snapConn.end().catch(() => {});
        snapConn = null;
      }
      if (mode.mode === 'snapshot') return;
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
