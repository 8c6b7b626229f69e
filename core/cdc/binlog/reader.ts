/**
 * Reads the binlog through zongji and hands out whole committed transactions, DDL statements and
 * position marks, in binlog order. Row events are held until their transaction's commit marker
 * (Xid, or COMMIT for non-transactional engines), so a consumer never sees half a transaction;
 * they are held as their bytes and decoded when the transaction is converted (zongji-rows.ts).
 * Connection loss (including a server restart) reconnects with backoff and resumes right after
 * the last commit handed out; the half-received transaction is simply read again.
 */
import ZongJi, { type AnyBinlogEvent, type TableMapEntry } from '@vlasky/zongji';
import { TidemarkError } from '../../errors/index';
import { ItemQueue, type RawItem } from './queue';
import { classifyStreamError } from './errors';
import { holdRows, type HeldRowsEvent } from './rows';
import type { ResolvedConfig } from '../config';
import { connectionOptions, identityError } from '../connect';
import { checkPeerIdentity, markServerWithoutTls } from '../tls';
import { parseXaStatement, xidKey, type Flavor, type GtidTracker, createGtidTracker } from '../flavor';
import { comparePositions, formatPosition, type BinlogPosition, type PreparedXa } from '../offset';
import { captureRowsPackets, type RowsPacket } from './zongji-rows';
import { placeholderTableMap } from './history-columns';
import type { TableId } from '../types';

export type { RawItem } from './queue';
export type { HeldRowsEvent } from './rows';

export type BinlogStart = { file: string; pos: bigint } | { gtidSet: string };

export interface BinlogReaderOptions {
  config: ResolvedConfig;
  flavor: Flavor;
  start: BinlogStart;
  /** Executed GTIDs at the start point, when known. */
  gtidSeed: string | null;
  isCaptured(id: TableId): boolean;
  /**
   * Restart from an offset with pending XA transactions: `start` is then the first of their
   * prepared groups, and everything up to `until` (the offset itself) was handed out before: only
   * the prepared groups of `xids` are collected from that stretch, nothing is emitted.
   */
  replayXa?: { until: BinlogPosition; xids: Set<string> };
  /**
   * Schema-history mode (history-columns.ts): zongji gets placeholder columns for table maps
   * without column metadata instead of looking them up in INFORMATION_SCHEMA.
   */
  columnsFromHistory?: boolean;
  /**
   * `scan.startup.specific-offset.skip-events` / `.skip-rows` on a fresh specific-offset start
   * (SkipState says how they count).
   */
  skip?: { events: number; rows: number };
}

/**
 * What is left to skip after a specific start offset, with the meaning Flink CDC takes from
 * Debezium's MySQL binlog reader: counting starts at the first transaction start after the
 * position (a `BEGIN` query; MariaDB writes a GTID event instead, which counts the same) and
 * takes in that event and every later one (table maps, rows events, DDL) until the transaction's
 * commit, which is not counted; rows events among the counted ones are dropped. When the count
 * is not used up at a commit, it resumes at the next transaction start. Then `rows` rows of the
 * first rows event that is not dropped (of any table) are dropped. Other events are processed
 * as usual: table maps and DDL still apply.
 */
interface SkipState {
  events: number;
  rows: number;
  /** Inside a transaction whose events are being counted. */
  active: boolean;
}

/** How an event counts for SkipState: a transaction's start, its commit, or anything else. */
function skipKind(evt: AnyBinlogEvent, name: string): 'begin' | 'commit' | 'other' {
  // A standalone group (a DDL) has no BEGIN, in MariaDB's GTID form as in MySQL's.
  if (name === 'mariadbgtid') return (evt as AnyBinlogEvent & { standalone?: boolean }).standalone ? 'other' : 'begin';
  if (name === 'xid') return 'commit';
  if (name === 'query') {
    const head = (evt as AnyBinlogEvent & { query: string }).query.trimStart().slice(0, 8).toUpperCase();
    if (head.startsWith('BEGIN')) return 'begin';
    if (head.startsWith('COMMIT') || head.startsWith('ROLLBACK')) return 'commit';
  }
  return 'other';
}

/** Events zongji delivers. Rows events are not among them: zongji-rows.ts takes them undecoded. */
const EVENTS = [
  'rotate', 'format', 'query', 'tablemap', 'xid', 'heartbeat', 'xaprepare',
  'mariadbgtid', 'mariadbgtidlist', 'gtid', 'anonymousgtid', 'previousgtids', 'binlogcheckpoint',
];

const OP_BY_EVENT: Record<string, 'c' | 'u' | 'd'> = { writerows: 'c', updaterows: 'u', deleterows: 'd' };

interface OpenTx {
  gtid: string | undefined;
  rowsEvents: HeldRowsEvent[];
  /** XID when this group is an XA transaction (MariaDB GTID flag or MySQL `XA START`). */
  xid?: string;
  /** Position of the group's first event (for XA: where a restart must re-read it from). */
  start?: BinlogPosition;
}

interface HeldXa {
  gtid: string | undefined;
  rowsEvents: HeldRowsEvent[];
  start: BinlogPosition;
}

export class BinlogReader {
  private readonly items: ItemQueue;
  private zongji: ZongJi | null = null;
  private closed = false;
  private file = '';
  /** Where to reconnect: just after the last commit (or standalone event) handed out. */
  private resumeAt: BinlogPosition | null;
  private gtids: GtidTracker | null;
  private seedGtidsFromStream: boolean;
  private tx: OpenTx | null = null;
  /** Prepared XA transactions on captured tables, by XID, waiting for their XA COMMIT / ROLLBACK. */
  private readonly heldXa = new Map<string, HeldXa>();
  private preparedList: readonly PreparedXa[] = [];
  private replayXa: BinlogReaderOptions['replayXa'] | null;
  /** End of the last event received: the start of the next one. */
  private lastEnd: BinlogPosition | null = null;
  private capturedCache = new Map<string, boolean>();
  private lostSince: number | null = null;
  private retryDelayMs = 100;
  private retryTimer: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private skip: SkipState | null;
  /** The skip state at the last commit handed out: a reconnect re-reads from there. */
  private skipAtCommit: SkipState | null;
  private lastEventAt = Date.now();
  /** Reconnects so far (for tests and metrics). */
  reconnects = 0;

  constructor(private readonly options: BinlogReaderOptions) {
    const s = options.start;
    this.resumeAt = 'file' in s ? { file: s.file, pos: s.pos } : null;
    this.gtids = createGtidTracker(options.flavor.kind, options.gtidSeed);
    this.seedGtidsFromStream = options.gtidSeed === null && 'file' in s && s.pos <= 4n;
    this.replayXa = options.replayXa ?? null;
    const skip = options.skip && (options.skip.events > 0 || options.skip.rows > 0) ? { ...options.skip, active: false } : null;
    this.skip = skip;
    this.skipAtCommit = skip && { ...skip };
    this.items = new ItemQueue(options.config.queueHighWaterMark, (paused) => {
      if (paused) {
        this.zongji?.connection?.pause();
      } else {
        this.lastEventAt = Date.now();
        this.zongji?.connection?.resume();
      }
    });
  }

  start(): void {
    this.connect();
    const hb = this.options.config.heartbeatIntervalMs;
    // The server sends a heartbeat every interval when idle; three missed ones mean a dead link
    // that produced no socket error (e.g. a silently dropped connection).
    this.watchdog = setInterval(() => {
      if (this.zongji && !this.items.paused && Date.now() - this.lastEventAt > 3 * hb) this.onConnectionLost(this.zongji, new Error('no heartbeat'));
    }, hb);
    this.watchdog.unref();
  }

  private connect(): void {
    const { config } = this.options;
    const zongji = new ZongJi(connectionOptions(config));
    this.zongji = zongji;
    this.tx = null;
    this.skip = this.skipAtCommit && { ...this.skipAtCommit };
    // The stream resumes at resumeAt: the start of the first group read from here on.
    this.lastEnd = this.resumeAt;
    this.lastEventAt = Date.now();
    if (this.options.columnsFromHistory) {
      // zongji's INFORMATION_SCHEMA lookup (its _fetchTableInfo, called for a table map without
      // FULL column metadata) would give the server's current columns; rows are decoded with the
      // schema history's instead (history-columns.ts), so the entry only needs the column count.
      type TableMapEvent = { tableId: number; schemaName: string; tableName: string; columnCount: number };
      (zongji as unknown as { _fetchTableInfo: (ev: TableMapEvent, next: () => void) => void })._fetchTableInfo = function (this: { tableMap: Record<number, TableMapEntry> }, ev, next) {
        this.tableMap[ev.tableId] = placeholderTableMap(ev.schemaName, ev.tableName, ev.columnCount);
        next();
      };
    }
    zongji.on('error', (e: Error) => this.onError(zongji, e));
    zongji.on('ready', () => {
      // Queued on the binlog connection before zongji's dump command, so it applies to the dump.
      const periodNs = BigInt(config.heartbeatIntervalMs) * 1_000_000n;
      zongji.connection?.query(`SET @master_heartbeat_period = ${periodNs}`, () => {});
      captureRowsPackets(zongji, (p) => this.onRowsPacket(zongji, p));
    });
    zongji.on('binlog', (evt: AnyBinlogEvent) => this.onEvent(zongji, evt));
    let start: Record<string, unknown>;
    if (this.resumeAt) start = { filename: this.resumeAt.file, position: Number(this.resumeAt.pos) };
    else start = { gtidSet: (this.options.start as { gtidSet: string }).gtidSet };
    zongji.start({ serverId: config.serverId, includeEvents: EVENTS, ...start });
    if (config.tls.mode === 'verify-identity') this.checkIdentity(zongji);
    // A server restart may close the socket without an error packet: treat the end as a loss.
    zongji.connection?.on('end', () => this.onConnectionLost(zongji, new Error('connection ended')));
  }

  /**
   * VERIFY_IDENTITY on zongji's control and binlog connections once each is up (tls.ts
   * sslOptions: mysql2 does not check an IP address); a mismatch fails the stream before it
   * delivers an event.
   */
  private checkIdentity(zongji: ZongJi): void {
    const { config } = this.options;
    for (const conn of [zongji.ctrlConnection, zongji.connection]) {
      conn?.once('connect', () => {
        if (zongji !== this.zongji || this.closed) return;
        const failure = checkPeerIdentity((conn as unknown as { stream?: unknown }).stream, config.hostname);
        if (failure) this.fail(identityError(failure, config, 'binlog stream'));
      });
    }
  }

  private isCaptured(id: TableId): boolean {
    const key = `${id.db}\u0000${id.table}`;
    let v = this.capturedCache.get(key);
    if (v === undefined) this.capturedCache.set(key, (v = this.options.isCaptured(id)));
    return v;
  }

  /** Drops cached capture decisions (after DDL creates or renames tables). */
  invalidateCaptureCache(): void {
    this.capturedCache.clear();
  }

  /** Bookkeeping of every event received, in stream order; returns where the event started. */
  private arrived(nextPosition: number): BinlogPosition | null {
    this.lastEventAt = Date.now();
    if (this.lostSince !== null) {
      this.lostSince = null;
      this.retryDelayMs = 100;
    }
    const start = this.lastEnd;
    if (nextPosition > 0 && this.file) this.lastEnd = { file: this.file, pos: BigInt(nextPosition) };
    if (this.replayXa && nextPosition > 0 && this.file && comparePositions({ file: this.file, pos: BigInt(nextPosition) }, this.replayXa.until) > 0) {
      // Past the restart offset: from here on every event is new to the consumer.
      this.replayXa = null;
    }
    return start;
  }

  /** A rows event from the binlog connection (zongji-rows.ts), undecoded. */
  private onRowsPacket(zongji: ZongJi, p: RowsPacket): void {
    if (zongji !== this.zongji || this.closed) return;
    this.arrived(p.nextPosition);
    if (this.skip && this.skipRows(p.tableMap, p.op, undefined, p.decode, p.size)) return;
    if (p.tableMap) this.hold(p.tableMap, p.op, undefined, p.decode, p.size);
  }

  /**
   * Counts an event against the skip (SkipState); true when it falls in the skipped stretch.
   * `begin`: a transaction start; `commit`: its end.
   */
  private countSkip(kind: 'begin' | 'commit' | 'other'): boolean {
    const s = this.skip;
    if (!s) return false;
    if (kind === 'commit') {
      s.active = false;
      return false;
    }
    if (kind === 'begin' && s.events > 0) s.active = true;
    const skipped = s.active;
    if (s.active) {
      s.events--;
      s.active = s.events > 0;
    }
    if (s.events === 0 && s.rows === 0 && !s.active) this.skip = null;
    return skipped;
  }

  /** A rows event under a skip: true when it is dropped whole; else holds what is left of it. */
  private skipRows(tm: TableMapEntry | undefined, op: 'c' | 'u' | 'd', gtid: string | undefined, decode: (tm?: TableMapEntry) => unknown[], size = 0): boolean {
    if (this.countSkip('other')) return true;
    const s = this.skip;
    if (!s || s.rows === 0) return false;
    const n = s.rows;
    s.rows = 0;
    if (s.events === 0) this.skip = null;
    if (tm) this.hold(tm, op, gtid, (t) => decode(t).slice(n), size);
    return true;
  }

  /** Holds a rows event of a captured table in the open transaction (opening one if none is). */
  private hold(tm: TableMapEntry, op: 'c' | 'u' | 'd', gtid: string | undefined, decode: (tm?: TableMapEntry) => unknown[], size = 0): void {
    const id = { db: tm.parentSchema, table: tm.tableName };
    if (!this.isCaptured(id)) return;
    if (!this.tx) this.tx = { gtid, rowsEvents: [] };
    this.tx.rowsEvents.push(holdRows(id, op, tm, decode, this.file, this.resumeAt, size));
  }

  private onEvent(zongji: ZongJi, evt: AnyBinlogEvent): void {
    if (zongji !== this.zongji || this.closed) return;
    const name = evt.getEventName();
    const start = this.arrived(evt.nextPosition);
    if (this.skip && !OP_BY_EVENT[name]) this.countSkip(skipKind(evt, name));
    switch (name) {
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        this.onDecodedRows(evt, OP_BY_EVENT[name]!);
        return;
      case 'tablemap':
        return;
      case 'xid':
        this.commit(evt);
        return;
      case 'mariadbgtid': {
        const g = evt as AnyBinlogEvent & { preparedXa?: boolean; xidFormatId?: number; xidGtrid?: Uint8Array; xidBqual?: Uint8Array };
        this.tx = { gtid: evt.gtid, rowsEvents: [], ...(start ? { start } : {}) };
        if (g.preparedXa && g.xidGtrid) this.tx.xid = xidKey(g.xidFormatId ?? 0, g.xidGtrid, g.xidBqual ?? new Uint8Array());
        return;
      }
      case 'gtid':
        this.tx = { gtid: evt.gtid, rowsEvents: [], ...(start ? { start } : {}) };
        return;
      case 'anonymousgtid':
        this.tx = { gtid: undefined, rowsEvents: [], ...(start ? { start } : {}) };
        return;
      case 'query':
        this.onQuery(evt as AnyBinlogEvent & { query: string; schema: string }, start);
        return;
      case 'xaprepare':
        this.onXaPrepare(evt as AnyBinlogEvent & { xidFormatId: number; xidGtrid: Uint8Array; xidBqual: Uint8Array });
        return;
      case 'rotate': {
        const r = evt as AnyBinlogEvent & { binlogName: string; position: number };
        this.file = r.binlogName;
        if (!this.tx) this.pushPosition({ file: r.binlogName, pos: BigInt(r.position) }, evt.timestamp);
        return;
      }
      case 'heartbeat': {
        const h = evt as AnyBinlogEvent & { binlogName: string };
        if (h.binlogName) this.file = h.binlogName;
        if (!this.tx && evt.nextPosition > 0) this.pushPosition({ file: this.file, pos: BigInt(evt.nextPosition) }, null);
        return;
      }
      case 'mariadbgtidlist':
        this.seedGtids(() => (evt as AnyBinlogEvent & { gtids: { gtid: string }[] }).gtids.map((g) => g.gtid).join(','));
        this.passOver(evt);
        return;
      case 'previousgtids':
        this.seedGtids(() => (evt as AnyBinlogEvent & { gtidSet: string }).gtidSet);
        this.passOver(evt);
        return;
      default:
        this.passOver(evt);
    }
  }

  /** An event that changes nothing captured: outside a transaction, the stream's position moves past it. */
  private passOver(evt: AnyBinlogEvent): void {
    if (!this.tx && evt.nextPosition > 0) this.pushPosition({ file: this.file, pos: BigInt(evt.nextPosition) }, evt.timestamp);
  }

  /** The stream's first GTID list seeds the tracker when the start gave none. */
  private seedGtids(list: () => string): void {
    if (!this.seedGtidsFromStream) return;
    this.gtids = createGtidTracker(this.options.flavor.kind, list());
    this.seedGtidsFromStream = false;
  }

  /**
   * Rows zongji decoded itself: EVENTS leaves them out, so they come only from a caller that feeds
   * decoded events (the test of MySQL's XA form, which has no server here).
   */
  private onDecodedRows(evt: AnyBinlogEvent, op: 'c' | 'u' | 'd'): void {
    const e = evt as AnyBinlogEvent & { tableId: number; tableMap: Record<number, TableMapEntry>; rows: unknown[] };
    const tm = e.tableMap[e.tableId];
    if (this.skip && this.skipRows(tm, op, evt.gtid, () => e.rows)) return;
    if (tm) this.hold(tm, op, evt.gtid, () => e.rows);
  }

  /** A statement: BEGIN, COMMIT/ROLLBACK, an XA statement, a SAVEPOINT, or DDL. */
  private onQuery(evt: AnyBinlogEvent & { query: string; schema: string }, start: BinlogPosition | null): void {
    const head = evt.query.trimStart().slice(0, 12).toUpperCase();
    if (head.startsWith('BEGIN')) {
      if (!this.tx) this.tx = { gtid: evt.gtid, rowsEvents: [] };
    } else if (head.startsWith('COMMIT') || head.startsWith('ROLLBACK')) {
      // ROLLBACK is logged only when non-transactional changes inside it persisted: they happened.
      this.commit(evt);
    } else if (head.startsWith('XA ')) {
      this.onXaStatement(evt, evt.query, start);
    } else if (!head.startsWith('SAVEPOINT')) {
      this.commitDdl(evt);
    }
  }

  /** The prepared group is complete, but its outcome comes later: hold its rows by XID. */
  private onXaPrepare(x: AnyBinlogEvent & { xidFormatId: number; xidGtrid: Uint8Array; xidBqual: Uint8Array }): void {
    const tx = this.tx;
    this.tx = null;
    const xid = xidKey(x.xidFormatId, x.xidGtrid, x.xidBqual);
    if (tx && tx.rowsEvents.length > 0 && (!this.replayXa || this.replayXa.xids.has(xid))) {
      if (!tx.start) {
        this.fail(new TidemarkError('Internal', `XA PREPARE of ${xid} at ${this.file}:${x.nextPosition}: start of its group unknown`, { file: this.file }));
        return;
      }
      this.heldXa.set(xid, { gtid: tx.gtid, rowsEvents: tx.rowsEvents, start: tx.start });
      this.preparedList = [...this.heldXa.entries()].map(([k, h]) => ({ xid: k, start: h.start }));
    }
    this.commitNothing(x, tx?.gtid);
  }

  /**
   * `XA START` opens an XA group (MySQL); `XA END` is inside the group; `XA COMMIT` emits the held
   * rows of that XID at this position (or, with ONE PHASE on MySQL, the open group's rows);
   * `XA ROLLBACK` drops them. An outcome for an XID never held (uncaptured tables) moves the position.
   */
  private onXaStatement(evt: AnyBinlogEvent, sql: string, start: BinlogPosition | null): void {
    const xa = parseXaStatement(sql);
    if (!xa) {
      this.fail(new TidemarkError('Unsupported', `cannot read XA statement ${JSON.stringify(sql.slice(0, 200))} at ${this.file}:${evt.nextPosition}`, { file: this.file, statement: sql.slice(0, 1000) }));
      return;
    }
    if (xa.verb === 'start') {
      if (this.tx) this.tx.xid = xa.xid;
      else this.tx = { gtid: evt.gtid, rowsEvents: [], xid: xa.xid, ...(start ? { start } : {}) };
      return;
    }
    if (xa.verb === 'end' || xa.verb === 'prepare') return;
    if (xa.verb === 'commit' && xa.onePhase && this.tx?.xid === xa.xid) {
      this.commit(evt);
      return;
    }
    const held = this.heldXa.get(xa.xid);
    const outcomeGtid = this.tx?.gtid ?? evt.gtid;
    this.tx = null;
    if (held) {
      this.heldXa.delete(xa.xid);
      this.preparedList = [...this.heldXa.entries()].map(([k, h]) => ({ xid: k, start: h.start }));
    }
    if (held && xa.verb === 'commit') {
      this.tx = { gtid: outcomeGtid, rowsEvents: held.rowsEvents };
      this.commit(evt);
      return;
    }
    this.commitNothing(evt, outcomeGtid);
  }

  /** A group that ends without anything to hand out now: only the position (and GTID) move. */
  private commitNothing(evt: AnyBinlogEvent, gtid: string | undefined): void {
    if (this.replayXa) return;
    if (gtid && this.gtids) this.gtids.add(gtid);
    this.pushPosition(this.endOf(evt), evt.timestamp);
  }

  private endOf(evt: AnyBinlogEvent): BinlogPosition {
    return { file: this.file, pos: BigInt(evt.nextPosition) };
  }

  private commit(evt: AnyBinlogEvent): void {
    const tx = this.tx;
    this.tx = null;
    const end = this.endOf(evt);
    // Before the restart offset (XA replay) everything here was handed out already.
    if (this.replayXa) return;
    const gtid = tx?.gtid ?? evt.gtid;
    if (gtid && this.gtids) this.gtids.add(gtid);
    this.resumeAt = end;
    this.skipAtCommit = this.skip && { ...this.skip };
    const gtidSet = this.gtids ? this.gtids.toString() : null;
    if (tx && tx.rowsEvents.length > 0) this.push({ kind: 'tx', gtid, rowsEvents: tx.rowsEvents, end, gtidSet, tsMs: evt.timestamp, preparedXa: this.preparedList });
    else this.pushPosition(end, evt.timestamp);
  }

  private commitDdl(evt: AnyBinlogEvent & { query: string; schema: string }): void {
    if (this.replayXa) {
      this.tx = null;
      return;
    }
    const gtid = this.tx?.gtid ?? evt.gtid;
    if (evt.nextPosition === 0 && this.resumeAt) {
      // A statement inside a transaction (MariaDB CREATE … SELECT logs its CREATE inside the
      // group, with end_log_pos 0): the group stays open and its position is only known at the
      // commit, so the schema change carries the position before the group.
      this.push({ kind: 'ddl', gtid, db: evt.schema, sql: evt.query, end: this.resumeAt, gtidSet: this.gtids ? this.gtids.toString() : null, tsMs: evt.timestamp, preparedXa: this.preparedList });
      return;
    }
    this.tx = null;
    const end = this.endOf(evt);
    if (gtid && this.gtids) this.gtids.add(gtid);
    this.resumeAt = end;
    this.skipAtCommit = this.skip && { ...this.skip };
    this.push({ kind: 'ddl', gtid, db: evt.schema, sql: evt.query, end, gtidSet: this.gtids ? this.gtids.toString() : null, tsMs: evt.timestamp, preparedXa: this.preparedList });
  }

  private pushPosition(end: BinlogPosition, tsMs: number | null): void {
    if (end.pos <= 0n || !end.file || this.replayXa) return;
    this.resumeAt = end;
    this.skipAtCommit = this.skip && { ...this.skip };
    this.items.pushPosition(end, this.gtids ? this.gtids.toString() : null, this.preparedList, tsMs);
  }

  private push(item: RawItem): void {
    this.items.push(item);
  }

  /** The next item in binlog order; rejects with a TidemarkError when the stream failed for good. */
  next(): Promise<RawItem> {
    return this.items.next();
  }

  private fail(e: TidemarkError): void {
    if (this.items.failed) return;
    this.items.fail(e);
    this.stopInstance();
  }

  private onError(zongji: ZongJi, e: Error): void {
    if (zongji !== this.zongji || this.closed) return;
    if (this.options.config.tls.mode === 'preferred' && (e as { code?: string }).code === 'HANDSHAKE_NO_SSL_SUPPORT') {
      // PREFERRED and the server stopped offering TLS (e.g. restarted without it): go on in plain.
      markServerWithoutTls(this.options.config);
      this.onConnectionLost(zongji, e);
      return;
    }
    const startGtidSet = (this.options.start as { gtidSet?: string }).gtidSet;
    const failure = classifyStreamError(e, this.options.config, { resumeAt: this.resumeAt, startGtidSet, file: this.file });
    if (failure) this.fail(failure);
    else this.onConnectionLost(zongji, e);
  }

  private onConnectionLost(zongji: ZongJi, cause: Error): void {
    if (zongji !== this.zongji || this.closed || this.items.failed) return;
    const { config } = this.options;
    const now = Date.now();
    if (this.lostSince === null) this.lostSince = now;
    if (now - this.lostSince > config.reconnectTimeoutMs) {
      this.fail(
        new TidemarkError(
          'SourceUnavailable',
          `binlog stream: ${config.hostname}:${config.port} unreachable for ${config.reconnectTimeoutMs} ms as ${config.username} (${cause.message}); last position ${this.resumeAt ? formatPosition(this.resumeAt) : 'unknown'}`,
          { host: config.hostname, port: config.port, user: config.username },
          cause,
        ),
      );
      return;
    }
    this.stopInstance();
    this.items.paused = false;
    const delay = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.closed || this.items.failed) return;
      this.reconnects++;
      this.connect();
    }, delay);
  }

  private stopInstance(): void {
    const z = this.zongji;
    this.zongji = null;
    this.tx = null;
    if (z) {
      z.removeAllListeners('binlog');
      z.on('error', () => {});
      z.stop();
    }
  }

  /** Where the stream would resume now: after the last item handed to the queue. */
  get position(): BinlogPosition | null {
    return this.resumeAt;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    const z = this.zongji;
    this.stopInstance();
    if (z) await new Promise<void>((r) => (z.stopped && !z.connection && !z.ctrlConnection ? r() : (z.once('stopped', () => r()), setTimeout(r, 2000).unref())));
    this.items.close();
  }
}
