/**
 * Binlog throughput: our source's change events/s against raw zongji delivery of the same binlog
 * (the limit), on a private MariaDB. The 1M row changes by default;
 * TIDEMARK_BENCH_BINLOG_ROWS=n for fewer.
 */
import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import mysql from 'mysql2/promise';
import type { ConnectionOptions } from 'mysql2';
import { startPrivateMariaDb } from '../test/support/mariadb';
import { createMySqlSource } from '../core/cdc/index';
import { connectionOptions } from '../core/cdc/connect';
import { resolveConfig } from '../core/cdc/config';
import { inSyncThread } from './sync-thread';

function rowsFromEnv(): number {
  if (process.env.TIDEMARK_BENCH_BINLOG_ROWS) return Number(process.env.TIDEMARK_BENCH_BINLOG_ROWS);
  return 1_000_000;
}

/**
 * Samples RSS while `fn` runs; returns its result, the wall time, this process's CPU time (all
 * threads: JS, GC helpers, wasm) and the peak RSS in MB. CPU time is the steadier figure on a
 * shared machine, where other processes stretch wall times by a factor that changes minute to minute.
 */
export async function measurePeak<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  try {
    const value = await fn();
    const cpu = process.cpuUsage(c0);
    return { value, ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, peakRssMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1e6) };
  } finally {
    clearInterval(timer);
  }
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** `min–max` of per-round figures, two decimals: the spread the median hides. */
export const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;

/**
 * Raw zongji delivery, the limit of the binlog benches: decodes every row event from `start` until
 * `rows` inserted rows have come, nothing else. `options` are the driver options: the CDC source's
 * own (connect.ts connectionOptions: date-times as text, the only exact form of DATETIME(6)) make it
 * the same decoding work as the source's.
 */
export function rawZongjiDelivery(options: ConnectionOptions, serverId: number, start: { file: string; pos: bigint }, rows: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const z = new ZongJi(options);
    let n = 0;
    z.on('error', reject);
    z.on('binlog', (evt: AnyBinlogEvent) => {
      if (evt.getEventName() !== 'writerows') return;
      n += (evt as AnyBinlogEvent & { rows: unknown[] }).rows.length;
      if (n >= rows) {
        z.stop();
        resolve(n);
      }
    });
    z.start({ serverId, filename: start.file, position: Number(start.pos), includeEvents: ['rotate', 'format', 'tablemap', 'writerows', 'xid'] });
  });
}

export type Measured = Awaited<ReturnType<typeof measurePeak<number>>>;

/** One measured raw zongji delivery (rawZongjiDelivery), for inSyncThread. */
export function measuredRawDelivery(a: { options: ConnectionOptions; serverId: number; start: { file: string; pos: bigint }; rows: number }): Promise<Measured> {
  return measurePeak(() => rawZongjiDelivery(a.options, a.serverId, a.start, a.rows));
}
interface Rounds {
  raw: Measured[];
  ours: Measured[];
}
interface RoundsArgs {
  base: { hostname: string; port: number; username: string; password: string; tables: string[] };
  start: { file: string; pos: bigint };
  rows: number;
  rounds: number;
  serverId: number;
}

/**
 * Alternating rounds of raw zongji and our source over the same binlog range, in the calling
 * thread (exported for inSyncThread). Each returns the row count, wall and CPU time, peak RSS.
 */
export async function binlogRounds({ base, start, rows, rounds, serverId }: RoundsArgs): Promise<Rounds> {
  // Raw zongji: decode every row event of the same range, nothing else.
  const runRaw = (sid: number) => measurePeak(() => rawZongjiDelivery(connectionOptions(resolveConfig({ ...base, serverId: sid })), sid, start, rows));
  // Ours: whole transactions, converted values, offsets, from start() to the last event.
  const runOurs = (sid: number) =>
    measurePeak(async () => {
      const source = createMySqlSource({ ...base, serverId: sid, startupMode: { mode: 'specific-offset', file: start.file, pos: start.pos } });
      let n = 0;
      for await (const r of source.start()) {
        if (r.kind === 'transaction') n += r.batch.events.length;
        if (n >= rows) break;
      }
      await source.stop();
      return n;
    });
  let sid = serverId;
  // Alternating rounds, median of each: the machine is shared, single runs are noisy (five: with
  // three, one disturbed round moved the median; as in the snapshot bench).
  const raw: Measured[] = [];
  const ours: Measured[] = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(await runRaw(sid++));
    ours.push(await runOurs(sid++));
  }
  return { raw, ours };
}

function summarize(rows: number, { raw, ours }: Rounds): Record<string, number | string> {
  const rawPerSec = median(raw.map((r) => r.value / (r.ms / 1000)));
  const oursPerSec = median(ours.map((r) => r.value / (r.ms / 1000)));
  // Per round, ours against the raw run just before it (the closest in machine load).
  const ratios = ours.map((o, i) => o.value / o.ms / (raw[i]!.value / raw[i]!.ms));
  const cpuRatios = ours.map((o, i) => raw[i]!.cpuMs / raw[i]!.value / (o.cpuMs / o.value));
  return {
    rowChanges: rows,
    rawZongjiRowsPerSec: Math.round(rawPerSec),
    oursEventsPerSec: Math.round(oursPerSec),
    ratio: Math.round((oursPerSec / rawPerSec) * 100) / 100,
    ratioRange: range(ratios),
    rawCpuUsPerRow: Math.round(median(raw.map((r) => r.cpuMs / r.value)) * 1000 * 100) / 100,
    oursCpuUsPerRow: Math.round(median(ours.map((r) => r.cpuMs / r.value)) * 1000 * 100) / 100,
    cpuRatioRange: range(cpuRatios),
    rawPeakRssMb: Math.max(...raw.map((r) => r.peakRssMb)),
    oursPeakRssMb: Math.max(...ours.map((r) => r.peakRssMb)),
  };
}

export async function runCdcBinlogBench(rows = rowsFromEnv()): Promise<Record<string, number | string>> {
  const db = await startPrivateMariaDb();
  try {
    const root = await mysql.createConnection(db.rootConfig());
    await root.query("CREATE DATABASE bench");
    await root.query("USE bench");
    await root.query('CREATE TABLE bench.t (id INT PRIMARY KEY, a INT, b VARCHAR(32), c DECIMAL(12,2), d DATETIME(6))');
    const [st] = await root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const start = { file: String(st[0]!.File), pos: BigInt(st[0]!.Position) };
    // Changes: inserts in 10k-row transactions (MariaDB's sequence engine makes the rows).
    for (let lo = 1; lo <= rows; lo += 10_000) {
      const hi = Math.min(rows, lo + 9_999);
      await root.query(
        `INSERT INTO bench.t SELECT seq, seq % 1000, CONCAT('row-', seq), seq / 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_${lo}_to_${hi}`,
      );
    }
    await root.end();
    const base = { hostname: db.host, port: db.port, username: db.user, password: db.password, tables: ['bench\\.t'] };
    // Measured in a thread with the limits of the app's sync thread, where the app runs the source.
    const rounds = await inSyncThread<Rounds>(import.meta.url, 'binlogRounds', { base, start, rows, rounds: 5, serverId: 900 });
    return summarize(rows, rounds);
  } finally {
    await db.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCdcBinlogBench().then((r) => console.log(JSON.stringify(r, null, 2)));
}
