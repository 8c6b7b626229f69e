/**
 * Every difference between MySQL and MariaDB that the source relies on, in one place:
 * status statements, GTID forms, privilege names and the consistent-snapshot watermark.
 * Tests cover MariaDB 10.11; the MySQL branches follow the MySQL 5.7/8.x manuals.
 */
import type mysql from 'mysql2/promise';
import { GtidSet, MariadbGtidPosition } from '@vlasky/zongji';
import type { BinlogPosition } from './offset';

export interface Flavor {
  kind: 'mariadb' | 'mysql';
  version: string;
  /** [major, minor, patch] */
  versionParts: number[];
}

export async function detectFlavor(conn: mysql.Connection): Promise<Flavor> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  const version = String(rows[0]!.v);
  const versionParts = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  return { kind: /mariadb/i.test(version) ? 'mariadb' : 'mysql', version, versionParts };
}

function atLeast(f: Flavor, ...v: number[]): boolean {
  for (let i = 0; i < v.length; i++) {
    const a = f.versionParts[i] ?? 0;
    if (a !== v[i]) return a > v[i]!;
  }
  return true;
}

/** MySQL 8.2+ renamed SHOW MASTER STATUS; MariaDB keeps it (and has SHOW BINLOG STATUS from 10.5.2). */
export function masterStatusSql(f: Flavor): string {
  return f.kind === 'mysql' && atLeast(f, 8, 2) ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
}

/** The statement listing connected replicas: MySQL 8.0.22 renamed SHOW SLAVE HOSTS. */
export function replicaHostsSql(f: Flavor): string {
  return f.kind === 'mysql' && atLeast(f, 8, 0, 22) ? 'SHOW REPLICAS' : 'SHOW SLAVE HOSTS';
}

/** The privilege that allows SHOW MASTER STATUS / SHOW BINARY LOGS. */
export function monitorPrivilege(f: Flavor): string {
  return f.kind === 'mariadb' && atLeast(f, 10, 5, 2) ? 'BINLOG MONITOR' : 'REPLICATION CLIENT';
}

export interface ServerPosition extends BinlogPosition {
  gtidSet: string | null;
}

/** The server's current end of binlog (file:pos only). */
export async function readServerPosition(conn: mysql.Connection, f: Flavor): Promise<BinlogPosition> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(masterStatusSql(f));
  const row = rows[0];
  if (!row) throw new Error('binary logging is off (SHOW MASTER STATUS returned no row)');
  return { file: String(row.File), pos: BigInt(row.Position) };
}

/**
 * The current end of binlog together with the executed GTIDs at exactly that point. MySQL reports
 * both in one row. MariaDB needs a second statement, so the pair is read until the position did not
 * move around the GTID read (no commit in between); under constant writes it gives up after a few
 * tries and returns gtidSet null, and the offset's GTID then fills in from the stream.
 */
export async function readStartPosition(conn: mysql.Connection, f: Flavor): Promise<ServerPosition> {
  if (f.kind === 'mysql') {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(masterStatusSql(f));
    const row = rows[0];
    if (!row) throw new Error('binary logging is off (SHOW MASTER STATUS returned no row)');
    const set = typeof row.Executed_Gtid_Set === 'string' && row.Executed_Gtid_Set !== '' ? row.Executed_Gtid_Set.replace(/\s/g, '') : null;
    return { file: String(row.File), pos: BigInt(row.Position), gtidSet: set };
  }
  let before = await readServerPosition(conn, f);
  for (let attempt = 0; attempt < 20; attempt++) {
    const [g] = await conn.query<mysql.RowDataPacket[]>('SELECT @@GLOBAL.gtid_binlog_pos AS g');
    const after = await readServerPosition(conn, f);
    if (after.file === before.file && after.pos === before.pos) return { ...after, gtidSet: String(g[0]!.g ?? '') };
    before = after;
  }
  return { ...before, gtidSet: null };
}

/**
 * MariaDB only: opens a consistent-snapshot transaction and returns the exact binlog position it
 * sees (binlog_snapshot_file/position, MDEV-4781). On MySQL returns null: the caller falls back to
 * the high-watermark method.
 */
export async function beginConsistentSnapshot(conn: mysql.Connection, f: Flavor): Promise<BinlogPosition | null> {
  if (f.kind !== 'mariadb') return null;
  await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  const [rows] = await conn.query<mysql.RowDataPacket[]>("SHOW STATUS LIKE 'binlog_snapshot_%'");
  const byName = Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
  const file = byName.Binlog_snapshot_file;
  const pos = byName.Binlog_snapshot_position;
  if (!file || pos === undefined) {
    await conn.query('ROLLBACK');
    return null;
  }
  return { file, pos: BigInt(pos) };
}

/**
 * Executed-GTID bookkeeping for offsets. MariaDB: one watermark per replication domain
 * (`domain-server-seq`); MySQL: a per-uuid interval set (`uuid:1-42`). Both models come from
 * zongji so their parsing and u64 ranges are exact.
 */
export interface GtidTracker {
  add(gtid: string): void;
  toString(): string;
}

export function createGtidTracker(kind: Flavor['kind'], seed: string | null): GtidTracker | null {
  if (kind === 'mariadb') {
    const pos = MariadbGtidPosition.parse(seed ?? '');
    return {
      add(gtid) {
        const [domainId, serverId, seqNo] = gtid.split('-');
        pos.add({ domainId: Number(domainId), serverId: Number(serverId), seqNo: String(seqNo) });
      },
      toString: () => pos.toString(),
    };
  }
  // Without a seed a MySQL set would claim only the transactions seen since the start: wrong as a
  // resume point, so offsets carry no GTID set then.
  if (seed === null) return null;
  const set = GtidSet.parse(seed);
  return { add: (gtid) => set.add(gtid), toString: () => set.toString() };
}

/** Errors meaning the requested binlog is gone (purged) or was never there. */
export function isMissingBinlogError(e: { errno?: number; code?: string; message?: string }): boolean {
  // 1236 ER_MASTER_FATAL_ERROR_READING_BINLOG (MySQL and MariaDB); 1945/1955 MariaDB GTID not in binlog.
  return e.errno === 1236 || e.errno === 1945 || e.errno === 1955 || /first log file name|purged|binary log index/i.test(e.message ?? '');
}

/**
 * XA transactions in the binlog, as both servers write them (checked on MariaDB 10.11; MySQL per
 * its manual, 5.7.7+):
 *  - MariaDB: the prepared group starts with a GTID event flagged `preparedXa` carrying the XID,
 *    then the rows, `XA END X'…',X'…',n` and an XA_PREPARE event; MySQL starts the group with a
 *    query event `XA START X'…',X'…',n` instead of the flag.
 *  - The outcome is a later, separate group: a query event `XA COMMIT X'…',X'…',n` or
 *    `XA ROLLBACK X'…',X'…',n` (MariaDB in a standalone GTID group flagged `completedXa`), possibly
 *    after many unrelated transactions that committed earlier.
 *  - `XA COMMIT … ONE PHASE`: MariaDB logs a plain transaction ending in an Xid event; MySQL logs
 *    the rows followed by the `XA COMMIT … ONE PHASE` query event.
 *  - A transaction rolled back before PREPARE is not logged at all.
 * The XID is written in hex form whatever the client typed; the quoted form is accepted too.
 */
export type XaStatement = { verb: 'start' | 'end' | 'commit' | 'rollback' | 'prepare'; xid: string; onePhase: boolean };

const XA_STATEMENT = /^\s*XA\s+(START|BEGIN|END|PREPARE|COMMIT|ROLLBACK)\s+(.*?)\s*;?\s*$/is;
const XID_PART = /^\s*(?:X'([0-9a-f]*)'|0x([0-9a-f]+)|'((?:[^'\\]|''|\\.)*)')\s*/i;

/** Canonical XID key `formatId:gtridHex:bqualHex` from the binlog event fields (MariaDB GTID / XA_PREPARE events). */
export function xidKey(formatId: number, gtrid: Uint8Array, bqual: Uint8Array): string {
  return `${formatId}:${Buffer.from(gtrid).toString('hex')}:${Buffer.from(bqual).toString('hex')}`;
}

/** Parses an `XA …` query event; null when the text is not one (or its XID is unreadable). */
export function parseXaStatement(sql: string): XaStatement | null {
  const m = XA_STATEMENT.exec(sql);
  if (!m) return null;
  const verbWord = m[1]!.toUpperCase();
  const verb = verbWord === 'BEGIN' ? 'start' : (verbWord.toLowerCase() as XaStatement['verb']);
  let rest = m[2]!;
  const parts: string[] = [];
  for (let i = 0; i < 2; i++) {
    const p = XID_PART.exec(rest);
    if (!p) break;
    parts.push(p[1] !== undefined ? p[1].toLowerCase() : p[2] !== undefined ? p[2].toLowerCase() : Buffer.from(p[3]!.replace(/''/g, "'"), 'utf8').toString('hex'));
    rest = rest.slice(p[0].length);
    if (!rest.startsWith(',')) break;
    rest = rest.slice(1);
  }
  if (parts.length === 0) return null;
  let formatId = 1;
  const f = /^\s*(\d+)\s*/.exec(rest);
  if (parts.length === 2 && f) {
    formatId = Number(f[1]);
    rest = rest.slice(f[0].length);
  }
  const onePhase = /^\s*ONE\s+PHASE\b/i.test(rest);
  return { verb, xid: `${formatId}:${parts[0]}:${parts[1] ?? ''}`, onePhase };
}
