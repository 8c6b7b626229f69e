/**
 * Full (snapshot) sync as a user waits for it: `tidemark sync --until-caught-up` started as a child
 * process (process start, sync thread and sink worker included) into a fresh warehouse, against a
 * raw mysql2 streaming `SELECT *` of the same table (the limit), alternating rounds, at a 1 s and a
 * 5 min commit interval. The table is issue 20's 10-column one; 2M rows by default
 * (TIDEMARK_BENCH_SYNC_ROWS=n), rounds TIDEMARK_BENCH_SYNC_ROUNDS (default 2). The sync process's
 * peak RSS, user and system CPU come from `/usr/bin/time` (the kernel's rusage of the child: its
 * threads included), the committed rows and data files from the lake.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { startPrivateMariaDb, type PrivateMariaDb } from '../test/support/mariadb';
import { connectionOptions } from '../core/cdc/connect';
import { resolveConfig } from '../core/cdc/config';
import { countRows } from '../core/lake';
import { countPaimonRows } from '../core/lake/paimon';
import { createLocalStorage } from '../core/storage/node/index';
import { median, range } from './cdc-binlog';

const ROWS = Number(process.env.TIDEMARK_BENCH_SYNC_ROWS ?? 2_000_000);
const ROUNDS = Number(process.env.TIDEMARK_BENCH_SYNC_ROUNDS ?? 2);
/** Commit intervals measured: the 1 s of a fresh user, and the minute-level advice for fewer small files. */
const INTERVALS = (process.env.TIDEMARK_BENCH_SYNC_INTERVALS ?? '1s,5min').split(',');
const BIN = join(import.meta.dirname, '..', 'bin', 'tidemark');

/**
 * The table, filled by the server itself from a sequence (fast bulk load): 100k rows a
 * statement, each its own transaction, or `transactionRows` rows (a multiple of 100k) a transaction. Returns the binlog
 * position before the first insert.
 */
export async function fillSyncTable(db: PrivateMariaDb, table: string, rows: number, transactionRows?: number): Promise<{ file: string; pos: bigint }> {
  const root = await mysqlPromise.createConnection(db.rootConfig());
  await root.query('CREATE DATABASE IF NOT EXISTS bench');
  await root.query('USE bench'); // the seq_ tables of the Sequence engine resolve in the current database
  await root.query(`CREATE TABLE bench.${table} (
    id BIGINT PRIMARY KEY, customer_id INT, sku VARCHAR(32), qty SMALLINT, price DECIMAL(12,2), status VARCHAR(16),
    note VARCHAR(64) NULL, created DATETIME(6), updated TIMESTAMP(3), flag TINYINT(1))`);
  const [status] = await root.query<mysqlPromise.RowDataPacket[]>('SHOW MASTER STATUS');
  const start = { file: String(status[0]!.File), pos: BigInt(status[0]!.Position) };
  for (let lo = 1; lo <= rows; lo += 100_000) {
    const hi = Math.min(rows, lo + 99_999);
    if (transactionRows && (lo - 1) % transactionRows === 0) await root.query('START TRANSACTION');
    await root.query(
      `INSERT INTO bench.${table} SELECT seq, seq % 100003, CONCAT('SKU-', seq % 50000), seq % 17, seq / 100,
        ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'), IF(seq % 3 = 0, NULL, CONCAT('note for order ', seq)),
        TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL seq % 1000000 MICROSECOND,
        TIMESTAMP'2024-06-01 00:00:00' + INTERVAL seq SECOND, seq % 2 FROM seq_${lo}_to_${hi}`,
    );
    if (transactionRows && (hi % transactionRows === 0 || hi === rows)) await root.query('COMMIT');
  }
  await root.end();
  return start;
}

/** The sink block: the Iceberg hadoop catalog, or a Paimon filesystem catalog with 4 buckets a table. */
function sinkYaml(sink: 'iceberg' | 'paimon', warehouse: string): string {
  return sink === 'paimon'
    ? `  type: paimon\n  catalog.properties.metastore: filesystem\n  catalog.properties.warehouse: ${warehouse}\n  table.properties.bucket: 4\n`
    : `  type: iceberg\n  catalog.properties.type: hadoop\n  catalog.properties.warehouse: ${warehouse}\n`;
}

/** `startup`: the source's startup keys (default an initial snapshot). */
export function pipelineYaml(db: PrivateMariaDb, warehouse: string, table: string, interval: string, serverId: number, sink: 'iceberg' | 'paimon' = 'iceberg', startup = '  scan.startup.mode: initial\n'): string {
  return `source:
  type: mariadb
  hostname: 127.0.0.1
  port: "${db.port}"
  username: ${db.user}
  password: ${db.password}
  tables: bench.${table}
  server-id: "${serverId}"
${startup}sink:
${sinkYaml(sink, warehouse)}pipeline:
  name: bench
  execution.checkpointing.interval: ${interval}
`;
}

/** A thread's event-loop time over a sync (core/pipeline/thread/thread-stats.ts). */
export interface ThreadBusy {
  activeMs: number;
  idleMs: number;
}

export interface SyncRun {
  /** The sync thread's and the sink worker's busy time, when TIDEMARK_THREAD_STATS was set. */
  threads?: { sync: ThreadBusy; sink: ThreadBusy };
  ms: number;
  cpuMs: number;
  peakRssMb: number;
  rows: number;
  dataFiles: number;
  dataMb: number;
}

/** One `tidemark sync --until-caught-up` child process, timed from spawn to exit, with its rusage. */
export async function runSyncProcess(yamlPath: string, tableRoot: string, extraEnv: Record<string, string> = {}, bin = BIN, sink: 'iceberg' | 'paimon' = 'iceberg'): Promise<SyncRun> {
  const t0 = performance.now();
  // GNU time writes its figures last on stderr: peak RSS in KiB, user and system seconds.
  const { stderr } = await promisify(execFile)('/usr/bin/time', ['-f', 'TIDEMARK_RUSAGE %M %U %S', process.execPath, bin, 'sync', yamlPath, '--until-caught-up'], {
    env: { ...process.env, ...extraEnv },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  const m = /TIDEMARK_RUSAGE (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  if (!m) throw new Error(`sync-snapshot bench: no rusage line in the sync's output:\n${stderr.slice(-2000)}`);
  const rows = sink === 'paimon' ? await countPaimonRows(createLocalStorage(), tableRoot) : await countRows(createLocalStorage(), tableRoot);
  // Paimon: the live and compacted-away files of every bucket (`bucket-<n>/data-*.parquet`).
  const dataDir = sink === 'paimon' ? tableRoot : join(tableRoot, 'data');
  const files = (await readdir(dataDir, { recursive: true })).filter((f) => f.endsWith('.parquet'));
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(dataDir, f))).size;
  const stats = extraEnv.TIDEMARK_THREAD_STATS;
  const threads = stats ? { sync: await readBusy(`${stats}.sync-thread`), sink: await readBusy(`${stats}.sink-worker`) } : undefined;
  return { ...(threads ? { threads } : {}), ms, cpuMs: (Number(m[2]) + Number(m[3])) * 1000, peakRssMb: Math.round(Number(m[1]) / 1024), rows, dataFiles: files.length, dataMb: Math.round(bytes / 1e5) / 10 };
}

async function readBusy(path: string): Promise<ThreadBusy> {
  const { activeMs, idleMs } = JSON.parse(await readFile(path, 'utf8')) as ThreadBusy;
  return { activeMs, idleMs };
}

/**
 * Which thread limited the syncs: the one busy for the larger share of its life (median over
 * rounds). A thread busy most of the time while the other waits is the bottleneck; both busy means
 * both cores are used.
 */
export function busyColumns(runs: SyncRun[]): Record<string, number | string> {
  const share = (pick: (r: SyncRun) => ThreadBusy | undefined) => {
    const xs = runs.map(pick).filter((b): b is ThreadBusy => b !== undefined);
    return xs.length === 0 ? NaN : Math.round(median(xs.map((b) => (100 * b.activeMs) / Math.max(1, b.activeMs + b.idleMs))));
  };
  const sync = share((r) => r.threads?.sync);
  const sink = share((r) => r.threads?.sink);
  if (Number.isNaN(sync) || Number.isNaN(sink)) return {};
  return { syncThreadBusyPct: sync, sinkWorkerBusyPct: sink, limit: sync >= sink ? 'sync thread (decoding, buffering)' : 'sink worker (Arrow, metrics, Parquet encoding)' };
}

/** The limit: every row of the table through a mysql2 streaming query with the source's driver options. */
export function rawSelect(db: PrivateMariaDb, table: string): Promise<{ ms: number; rows: number }> {
  const options = connectionOptions(resolveConfig({ hostname: db.host, port: db.port, username: db.user, password: db.password, tables: ['x'], serverId: 1 }));
  const t0 = performance.now();
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
      .on('end', () => conn.end(() => resolve({ ms: performance.now() - t0, rows: n })));
  });
}

export async function runSyncSnapshotBench(): Promise<Record<string, number | string>[]> {
  const db = await startPrivateMariaDb({ extraArgs: [`--innodb-buffer-pool-size=${1024 ** 3}`] });
  const work = await mkdtemp(join(tmpdir(), 'tidemark-bench-sync-'));
  try {
    await fillSyncTable(db, 't', ROWS);
    await fillSyncTable(db, 'one', 1);
    const out: Record<string, number | string>[] = [];
    // A first raw read warms the buffer pool after the bulk load (not counted).
    await rawSelect(db, 't');
    let serverId = 970;
    // The fixed cost a user waits for whatever the table: the same sync of a one-row table.
    const startupYaml = join(work, 'one.yaml');
    await writeFile(startupYaml, pipelineYaml(db, join(work, 'one'), 'one', '1s', serverId++));
    const startup = await runSyncProcess(startupYaml, join(work, 'one', 'bench', 'one'));
    for (const interval of INTERVALS) {
      const raws: { ms: number; rows: number }[] = [];
      const syncs: SyncRun[] = [];
      const paimonRaws: { ms: number; rows: number }[] = [];
      const paimonSyncs: SyncRun[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        raws.push(await rawSelect(db, 't'));
        const warehouse = join(work, `${interval}-${round}`);
        const yaml = join(work, `${interval}-${round}.yaml`);
        await writeFile(yaml, pipelineYaml(db, warehouse, 't', interval, serverId++));
        const run = await runSyncProcess(yaml, join(warehouse, 'bench', 't'), { TIDEMARK_THREAD_STATS: join(work, `threads-${interval}-${round}`) });
        if (run.rows !== ROWS) throw new Error(`sync-snapshot bench: ${run.rows} rows in the lake, expected ${ROWS}`);
        syncs.push(run);
        await rm(warehouse, { recursive: true, force: true });
        // The same table into Paimon (4 buckets), in the same round, against its own raw read just before.
        paimonRaws.push(await rawSelect(db, 't'));
        const paimonWarehouse = join(work, `${interval}-${round}-paimon`);
        const paimonYaml = join(work, `${interval}-${round}-paimon.yaml`);
        await writeFile(paimonYaml, pipelineYaml(db, paimonWarehouse, 't', interval, serverId++, 'paimon'));
        const paimonRun = await runSyncProcess(paimonYaml, join(paimonWarehouse, 'bench.db', 't'), {}, BIN, 'paimon');
        if (paimonRun.rows !== ROWS) throw new Error(`sync-snapshot bench: ${paimonRun.rows} rows in the Paimon table, expected ${ROWS}`);
        paimonSyncs.push(paimonRun);
        await rm(paimonWarehouse, { recursive: true, force: true });
      }
      out.push(syncRow(interval, raws, syncs, startup));
      out.push(syncRow(`${interval}, Paimon (4 buckets; goal: the Iceberg ratio)`, paimonRaws, paimonSyncs, startup));
    }
    return out;
  } finally {
    await rm(work, { recursive: true, force: true });
    await db.stop();
  }
}

/** One result row: the syncs against the raw reads of their rounds. */
function syncRow(interval: string, raws: { ms: number; rows: number }[], syncs: SyncRun[], startup: SyncRun): Record<string, number | string> {
  const rawPerSec = median(raws.map((r) => r.rows / (r.ms / 1000)));
  const syncPerSec = median(syncs.map((s) => s.rows / (s.ms / 1000)));
  return {
    interval,
    rows: ROWS,
    rounds: ROUNDS,
    rawSelectRowsPerSec: Math.round(rawPerSec),
    syncRowsPerSec: Math.round(syncPerSec),
    ratio: Math.round((syncPerSec / rawPerSec) * 100) / 100,
    // Per round, the sync against the raw read just before it.
    ratioRange: range(syncs.map((s, i) => raws[i]!.ms / s.ms)),
    syncSeconds: range(syncs.map((s) => s.ms / 1000)),
    syncCpuUsPerRow: Math.round(median(syncs.map((s) => (s.cpuMs / s.rows) * 1000)) * 100) / 100,
    syncPeakRssMb: Math.max(...syncs.map((s) => s.peakRssMb)),
    dataFiles: median(syncs.map((s) => s.dataFiles)),
    dataMb: median(syncs.map((s) => s.dataMb)),
    ...busyColumns(syncs),
    oneRowSyncSeconds: Math.round(startup.ms / 100) / 10,
    oneRowSyncPeakRssMb: startup.peakRssMb,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSyncSnapshotBench().then((r) => console.table(r));
}
