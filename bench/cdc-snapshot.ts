/**
 * Snapshot throughput: our chunked, lock-free snapshot (rows/s, converted values, watermarks)
 * against a raw mysql2 streaming `SELECT *` of the same table (the limit), with peak RSS for both.
 * The 5M rows by default; TIDEMARK_BENCH_SNAPSHOT_ROWS=n for fewer.
 * Peak RSS is also taken at a tenth of the size: it must not grow with the table. Measured in a
 * thread with the limits of the app's sync thread, where the app runs the snapshot phase.
 * A VARCHAR-keyed table (chunk bounds and comparisons by the server's collation) is measured the
 * same way beside it: 1M rows by default, TIDEMARK_BENCH_SNAPSHOT_VARCHAR_ROWS=n (0 skips it),
 * and with the 128 MiB pool both by one query per chunk and in read-ahead windows.
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

function varcharRowsFromEnv(): number {
  if (process.env.TIDEMARK_BENCH_SNAPSHOT_VARCHAR_ROWS) return Number(process.env.TIDEMARK_BENCH_SNAPSHOT_VARCHAR_ROWS);
  return 1_000_000;
}

/**
 * The bench table: an INT key, or (`varcharKey`) a VARCHAR(24) key in utf8mb4_general_ci (its
 * first characters in mixed case, so the collation's order is not the bytes') with the same
 * other columns.
 */
async function fill(db: PrivateMariaDb, table: string, rows: number, varcharKey = false): Promise<void> {
  const root = await mysqlPromise.createConnection(db.rootConfig());
  await root.query('CREATE DATABASE IF NOT EXISTS bench');
  await root.query('USE bench');
  const key = varcharKey ? 'id VARCHAR(24) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY' : 'id INT PRIMARY KEY';
  const id = varcharKey ? "CONCAT(IF(seq % 2 = 0, 'K', 'k'), LPAD(seq, 12, '0'))" : 'seq';
  await root.query(`CREATE TABLE ${table} (${key}, a INT, b VARCHAR(32), c DECIMAL(12,2), d DATETIME(6))`);
  for (let lo = 1; lo <= rows; lo += 100_000) {
    const hi = Math.min(rows, lo + 99_999);
    await root.query(
      `INSERT INTO ${table} SELECT ${id}, seq % 1000, CONCAT('row-', seq), seq / 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_${lo}_to_${hi}`,
    );
  }
  await root.end();
}

type Windows = 'auto' | 'always' | 'never';

async function runOurs(db: DbInfo, table: string, serverId: number, windows: Windows = 'auto'): Promise<number> {
  const source = createMySqlSource({
    hostname: db.host,
    port: db.port,
    username: db.user,
    password: db.password,
    tables: [`bench\\.${table}`],
    serverId,
    startupMode: { mode: 'snapshot' },
    snapshotWindows: windows,
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
  /** Ours at a tenth and at the full size, first in the thread (peak RSS); absent in later runs. */
  small?: Measured;
  first?: Measured;
  raw: Measured[];
  ours: Measured[];
}

/** The measured runs, in the calling thread (exported for inSyncThread). */
export async function snapshotRuns({
  db,
  rounds,
  sizes,
  table = 'big',
  windows = 'auto',
}: {
  db: DbInfo;
  rounds: number;
  sizes: boolean;
  table?: string;
  windows?: Windows;
}): Promise<SnapshotRuns> {
  // Ours at a tenth of the size, then at full size, before anything else grows the thread:
  // RSS only shrinks lazily, so these two peaks are the comparable pair.
  const small = sizes ? await measurePeak(() => runOurs(db, 'small', 920)) : undefined;
  const first = sizes ? await measurePeak(() => runOurs(db, 'big', 921)) : undefined;
  // Throughput from alternating rounds only, median of each: the machine is shared, single runs
  // are noisy, and the run above follows the bulk load (InnoDB still flushing and purging).
  const raw: Measured[] = [];
  const ours: Measured[] = [];
  for (let round = 0; round < rounds; round++) {
    raw.push(await measurePeak(() => runRaw(db, table)));
    ours.push(await measurePeak(() => runOurs(db, table, 930 + round, windows)));
  }
  return { small, first, raw, ours };
}

function summarize(rows: number, bufferPool: string, { raw, ours }: SnapshotRuns): Record<string, number | string> {
  const rawPerSec = median(raw.map((r) => r.value / (r.ms / 1000)));
  const oursPerSec = median(ours.map((r) => r.value / (r.ms / 1000)));
  // Per round, ours against the raw run just before it.
  const ratios = ours.map((o, i) => o.value / o.ms / (raw[i]!.value / raw[i]!.ms));
  const rawCpu = median(raw.map((r) => (r.cpuMs / r.value) * 1000));
  const oursCpu = median(ours.map((r) => (r.cpuMs / r.value) * 1000));
  return {
    bufferPool,
    rows,
    rounds: raw.length,
    rawSelectRowsPerSec: Math.round(rawPerSec),
    oursRowsPerSec: Math.round(oursPerSec),
    ratio: Math.round((oursPerSec / rawPerSec) * 100) / 100,
    ratioRange: range(ratios),
    rawCpuUsPerRow: Math.round(rawCpu * 100) / 100,
    oursCpuUsPerRow: Math.round(oursCpu * 100) / 100,
    // Our process's CPU per row against the raw reader's: steadier than wall time on a loaded machine.
    cpuRatio: Math.round((rawCpu / oursCpu) * 100) / 100,
    rawPeakRssMb: Math.max(...raw.map((r) => r.peakRssMb)),
  };
}

const GiB = 1024 ** 3;
const DEFAULT_BUFFER_POOL = 128 * 1024 ** 2;

/**
 * Two rows. First, the server with a 1 GiB InnoDB buffer pool, which holds the table (as a
 * production server's is sized for its working set): five alternating rounds and the peak RSS
 * figures. Then MariaDB's default 128 MiB, which holds a fraction of a 5M-row table: every read
 * goes to the files, and the chunked reads (a keyset query per chunk) wait on them more than one
 * full scan does (measured 2026-11-28 on 5M rows, 3 alternating rounds each: ours/raw 0.60–0.75
 * with 128 MiB, 0.77–0.95 with 1 GiB; our CPU per row the same in both). Three rounds.
 */
export async function runCdcSnapshotBench(rows = rowsFromEnv(), varcharRows = varcharRowsFromEnv()): Promise<Record<string, number | string>[]> {
  const db = await startPrivateMariaDb({ extraArgs: [`--innodb-buffer-pool-size=${GiB}`] });
  try {
    await fill(db, 'small', Math.max(1, Math.floor(rows / 10)));
    await fill(db, 'big', rows);
    if (varcharRows > 0) await fill(db, 'vbig', varcharRows, true);
    const info: DbInfo = { host: db.host, port: db.port, user: db.user, password: db.password };
    const root = await mysqlPromise.createConnection(db.rootConfig());
    await settle(root);
    await root.query('ANALYZE TABLE bench.big');
    const [size] = await root.query<mysqlPromise.RowDataPacket[]>("SELECT data_length + index_length AS bytes FROM information_schema.tables WHERE table_schema = 'bench' AND table_name = 'big'");
    const tableMb = Math.round(Number(size[0]!.bytes) / 1024 ** 2);
    const inMemory = await inSyncThread<SnapshotRuns>(import.meta.url, 'snapshotRuns', { db: info, rounds: 5, sizes: true });
    // The VARCHAR key beside it, in memory too: its ratio is read against the INT key's row above.
    const varchar = varcharRows > 0 ? await inSyncThread<SnapshotRuns>(import.meta.url, 'snapshotRuns', { db: info, rounds: 5, sizes: false, table: 'vbig' }) : null;
    await setBufferPool(root, DEFAULT_BUFFER_POOL);
    const small = await inSyncThread<SnapshotRuns>(import.meta.url, 'snapshotRuns', { db: info, rounds: 3, sizes: false });
    // The VARCHAR key with 128 MiB, its chunks one query each and in read-ahead windows (forced
    // both ways: whether auto switches depends on how much of the table the pool holds).
    const [vsize] = await root.query<mysqlPromise.RowDataPacket[]>("SELECT data_length + index_length AS bytes FROM information_schema.tables WHERE table_schema = 'bench' AND table_name = 'vbig'");
    const vtableMb = Math.round(Number(vsize[0]?.bytes ?? 0) / 1024 ** 2);
    const vByQuery = varcharRows > 0 ? await inSyncThread<SnapshotRuns>(import.meta.url, 'snapshotRuns', { db: info, rounds: 3, sizes: false, table: 'vbig', windows: 'never' }) : null;
    const vWindows = varcharRows > 0 ? await inSyncThread<SnapshotRuns>(import.meta.url, 'snapshotRuns', { db: info, rounds: 3, sizes: false, table: 'vbig', windows: 'always' }) : null;
    await root.end();
    return [
      { ...summarize(rows, `1 GiB (table ${tableMb} MB in memory)`, inMemory), oursPeakRssMb: inMemory.first!.peakRssMb, oursPeakRssMbAtTenthSize: inMemory.small!.peakRssMb },
      ...(varchar ? [{ ...summarize(varcharRows, `1 GiB, VARCHAR(24) key (utf8mb4_general_ci)`, varchar), key: 'varchar', oursPeakRssMb: Math.max(...varchar.ours.map((r) => r.peakRssMb)) }] : []),
      summarize(rows, `128 MiB (MariaDB default; table ${tableMb} MB)`, small),
      ...(vByQuery ? [{ ...summarize(varcharRows, `128 MiB, VARCHAR key (table ${vtableMb} MB), one query per chunk`, vByQuery), key: 'varchar', windows: 'never' }] : []),
      ...(vWindows ? [{ ...summarize(varcharRows, `128 MiB, VARCHAR key (table ${vtableMb} MB), read-ahead windows`, vWindows), key: 'varchar', windows: 'always' }] : []),
    ];
  } finally {
    await db.stop();
  }
}

/**
 * Waits until InnoDB has written the bulk load's dirty pages (at most 120 s): the rounds then
 * measure reads, not reads racing the load's background flushing for the machine's two cores.
 */
async function settle(root: mysqlPromise.Connection): Promise<void> {
  const [[pct]] = await root.query<mysqlPromise.RowDataPacket[]>('SELECT @@innodb_max_dirty_pages_pct AS v');
  await root.query('SET GLOBAL innodb_max_dirty_pages_pct = 0');
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const [st] = await root.query<mysqlPromise.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_pages_dirty'");
      if (Number(st[0]?.Value ?? 0) < 100 || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await root.query(`SET GLOBAL innodb_max_dirty_pages_pct = ${Number(pct!.v)}`);
  }
}

/** Resizes the InnoDB buffer pool and waits until the server reports the new size and no resize in progress. */
async function setBufferPool(root: mysqlPromise.Connection, bytes: number): Promise<void> {
  await root.query(`SET GLOBAL innodb_buffer_pool_size = ${bytes}`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [[v]] = await root.query<mysqlPromise.RowDataPacket[]>('SELECT @@innodb_buffer_pool_size AS size');
    const [st] = await root.query<mysqlPromise.RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_resize_status'");
    const status = String(st[0]?.Value ?? '');
    if (Number(v!.size) === bytes && (status === '' || /completed/i.test(status))) return;
    if (Date.now() > deadline) throw new Error(`InnoDB buffer pool resize to ${bytes} bytes not done after 60 s (status: ${status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runCdcSnapshotBench().then((r) => console.log(JSON.stringify(r, null, 2)));
}
