/**
 * Snapshot throughput: our chunked, lock-free snapshot (rows/s, converted values, watermarks)
 * against a raw mysql2 streaming `SELECT *` of the same table (the limit), with peak RSS for both.
 * The 5M rows by default; TIDEMARK_BENCH_SNAPSHOT_ROWS=n for fewer.
 * Peak RSS is also taken at a tenth of the size: it must not grow with the table. Measured in a
 * thread with the limits of the app's sync thread, where the app runs the snapshot phase.
 */
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { startPrivateMariaDb, type PrivateMariaDb } from '../test/support/mariadb';
import { createMySqlSource } from '../core/cdc/index';
import { connectionOptions } from '../core/cdc/connect';
import { resolveConfig } from '../core/cdc/config';
import { measurePeak, median, range, type Measured } from './cdc-binlog';
import { inSyncThread } from './sync-thread';

/** The private server as the sync thread gets it (plain data). */
type DbInfo = Pick<PrivateMariaDb, 'host' | 'port' | 'user' | 'password'>;

function rowsFromEnv(): number {
  if (process.env.TIDEMARK_BENCH_SNAPSHOT_ROWS) return Number(process.env.TIDEMARK_BENCH_SNAPSHOT_ROWS);
  return 5_000_000;
}

async function fill(db: PrivateMariaDb, table: string, rows: number): Promise<void> {
  const root = await mysqlPromise.createConnection(db.rootConfig());
  await root.query('CREATE DATABASE IF NOT EXISTS bench');
  await root.query('USE bench');
  await root.query(`CREATE TABLE ${table} (id INT PRIMARY KEY, a INT, b VARCHAR(32), c DECIMAL(12,2), d DATETIME(6))`);
  for (let lo = 1; lo <= rows; lo += 100_000) {
    const hi = Math.min(rows, lo + 99_999);
    await root.query(
      `INSERT INTO ${table} SELECT seq, seq % 1000, CONCAT('row-', seq), seq / 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_${lo}_to_${hi}`,
    );
  }
  await root.end();
}

async function runOurs(db: DbInfo, table: string, serverId: number): Promise<number> {
  const source = createMySqlSource({
    hostname: db.host,
    port: db.port,
    username: db.user,
    password: db.password,
    tables: [`bench\\.${table}`],
    serverId,
    startupMode: { mode: 'snapshot' },
  });
  let n = 0;
  for await (const r of source.start()) if (r.kind === 'transaction') n += r.batch.events.length;
  return n;
}

function runRaw(db: DbInfo, table: string): Promise<number> {
  const options = connectionOptions(resolveConfig({ hostname: db.host, port: db.port, username: db.user, password: db.password, tables: ['x'], serverId: 1 }));
  return new Promise((resolve, reject) => {
    const conn = mysql.createConnection(options);
    let n = 0;
    conn
      .query(`SELECT * FROM bench.${table}`)
      .stream()
      .on('data', () => {
        n++;
      })
      .on('error', reject)
      .on('end', () => conn.end(() => resolve(n)));
  });
}

interface SnapshotRuns {
  small: Measured;
  first: Measured;
  raw: Measured[];
  ours: Measured[];
}

/** The measured runs, in the calling thread (exported for inSyncThread). */
export async function snapshotRuns(db: DbInfo): Promise<SnapshotRuns> {
  // Ours at a tenth of the size, then at full size, before anything else grows the thread:
  // RSS only shrinks lazily, so these two peaks are the comparable pair.
  const small = await measurePeak(() => runOurs(db, 'small', 920));
  const first = await measurePeak(() => runOurs(db, 'big', 921));
  // Throughput from alternating rounds only, median of each: the machine is shared, single runs
  // are noisy, and the run above follows the bulk load (InnoDB still flushing and purging).
  const raw: Measured[] = [];
  const ours: Measured[] = [];
  // Five rounds: with three, one round disturbed by the shared machine moved the median.
  for (let round = 0; round < 5; round++) {
    raw.push(await measurePeak(() => runRaw(db, 'big')));
    ours.push(await measurePeak(() => runOurs(db, 'big', 922 + round)));
  }
  return { small, first, raw, ours };
}

export async function runCdcSnapshotBench(rows = rowsFromEnv()): Promise<Record<string, number | string>> {
  const db = await startPrivateMariaDb();
  try {
    await fill(db, 'small', Math.max(1, Math.floor(rows / 10)));
    await fill(db, 'big', rows);
    const { small, first, raw, ours } = await inSyncThread<SnapshotRuns>(import.meta.url, 'snapshotRuns', { host: db.host, port: db.port, user: db.user, password: db.password });
    const rawPerSec = median(raw.map((r) => r.value / (r.ms / 1000)));
    const oursPerSec = median(ours.map((r) => r.value / (r.ms / 1000)));
    // Per round, ours against the raw run just before it.
    const ratios = ours.map((o, i) => o.value / o.ms / (raw[i]!.value / raw[i]!.ms));
    const rawCpu = median(raw.map((r) => (r.cpuMs / r.value) * 1000));
    const oursCpu = median(ours.map((r) => (r.cpuMs / r.value) * 1000));
    return {
      rows,
      rawSelectRowsPerSec: Math.round(rawPerSec),
      oursRowsPerSec: Math.round(oursPerSec),
      ratio: Math.round((oursPerSec / rawPerSec) * 100) / 100,
      ratioRange: range(ratios),
      rawCpuUsPerRow: Math.round(rawCpu * 100) / 100,
      oursCpuUsPerRow: Math.round(oursCpu * 100) / 100,
      // Our process's CPU per row against the raw reader's: steadier than wall time on a loaded machine.
      cpuRatio: Math.round((rawCpu / oursCpu) * 100) / 100,
      rawPeakRssMb: Math.max(...raw.map((r) => r.peakRssMb)),
      oursPeakRssMb: first.peakRssMb,
      oursPeakRssMbAtTenthSize: small.peakRssMb,
    };
  } finally {
    await db.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCdcSnapshotBench().then((r) => console.log(JSON.stringify(r, null, 2)));
}
