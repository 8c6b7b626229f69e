/**
 * Binlog sync under a bulk backfill (issue 20): TIDEMARK_BENCH_BACKFILL_ROWS rows (default 2M) of
 * issue 20's 10-column table inserted in transactions of TIDEMARK_BENCH_BACKFILL_TXN_ROWS (default
 * 1M), then `tidemark sync --until-caught-up` as a child process (process start included) from the
 * binlog position before them into a fresh warehouse at a 1 s commit interval, against raw zongji
 * delivery of the same binlog with the source's driver options (the limit), alternating rounds
 * (TIDEMARK_BENCH_BACKFILL_ROUNDS, default 2). The sync's peak RSS (goal < 500 MB, flat in the
 * table's size), CPU, and how busy its sync thread and sink worker were.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysqlPromise from 'mysql2/promise';
import { startPrivateMariaDb, type PrivateMariaDb } from '../test/support/mariadb';
import { connectionOptions } from '../core/cdc/connect';
import { resolveConfig } from '../core/cdc/config';
import { median, range, rawZongjiDelivery } from './cdc-binlog';
import { busyColumns, runSyncProcess, type SyncRun } from './sync-snapshot';

const ROWS = Number(process.env.TIDEMARK_BENCH_BACKFILL_ROWS ?? 2_000_000);
const TXN_ROWS = Number(process.env.TIDEMARK_BENCH_BACKFILL_TXN_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.TIDEMARK_BENCH_BACKFILL_ROUNDS ?? 2);

/** The table created empty, then filled in transactions of `txnRows`; the binlog position before the first. */
async function backfill(db: PrivateMariaDb): Promise<{ file: string; pos: bigint }> {
  const root = await mysqlPromise.createConnection(db.rootConfig());
  await root.query('CREATE DATABASE bench');
  await root.query('USE bench'); // the seq_ tables of the Sequence engine resolve in the current database
  await root.query(`CREATE TABLE bench.t (
    id BIGINT PRIMARY KEY, customer_id INT, sku VARCHAR(32), qty SMALLINT, price DECIMAL(12,2), status VARCHAR(16),
    note VARCHAR(64) NULL, created DATETIME(6), updated TIMESTAMP(3), flag TINYINT(1))`);
  const [status] = await root.query<mysqlPromise.RowDataPacket[]>('SHOW MASTER STATUS');
  const start = { file: String(status[0]!.File), pos: BigInt(status[0]!.Position) };
  for (let first = 1; first <= ROWS; first += TXN_ROWS) {
    const last = Math.min(ROWS, first + TXN_ROWS - 1);
    await root.query('START TRANSACTION');
    for (let lo = first; lo <= last; lo += 100_000) {
      const hi = Math.min(last, lo + 99_999);
      await root.query(
        `INSERT INTO bench.t SELECT seq, seq % 100003, CONCAT('SKU-', seq % 50000), seq % 17, seq / 100,
          ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'), IF(seq % 3 = 0, NULL, CONCAT('note for order ', seq)),
          TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL seq % 1000000 MICROSECOND,
          TIMESTAMP'2024-06-01 00:00:00' + INTERVAL seq SECOND, seq % 2 FROM seq_${lo}_to_${hi}`,
      );
    }
    await root.query('COMMIT');
  }
  await root.end();
  return start;
}

function pipelineYaml(db: PrivateMariaDb, warehouse: string, start: { file: string; pos: bigint }, serverId: number): string {
  return `source:
  type: mariadb
  hostname: 127.0.0.1
  port: "${db.port}"
  username: ${db.user}
  password: ${db.password}
  tables: bench.t
  server-id: "${serverId}"
  scan.startup.mode: specific-offset
  scan.startup.specific-offset.file: ${start.file}
  scan.startup.specific-offset.pos: ${start.pos}
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
pipeline:
  name: bench
  execution.checkpointing.interval: 1s
`;
}

export async function runSyncBackfillBench(): Promise<Record<string, number | string>[]> {
  const db = await startPrivateMariaDb();
  const work = await mkdtemp(join(tmpdir(), 'tidemark-bench-backfill-'));
  try {
    const start = await backfill(db);
    const raws: { ms: number; cpuMs: number }[] = [];
    const syncs: SyncRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const serverId = 7100 + round * 10;
      const options = connectionOptions(resolveConfig({ hostname: db.host, port: db.port, username: db.user, password: db.password, tables: ['bench\\.t'], serverId }));
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const delivered = await rawZongjiDelivery(options, serverId, start, ROWS);
      const cpu = process.cpuUsage(c0);
      if (delivered < ROWS) throw new Error(`sync-backfill bench: raw zongji delivered ${delivered} rows, expected ${ROWS}`);
      raws.push({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
      const dir = join(work, `round${round}`);
      const yamlPath = join(work, `round${round}.yaml`);
      await writeFile(yamlPath, pipelineYaml(db, join(dir, 'wh'), start, serverId + 1));
      const run = await runSyncProcess(yamlPath, join(dir, 'wh', 'bench', 't'), { TIDEMARK_THREAD_STATS: join(work, `stats${round}`) });
      if (run.rows !== ROWS) throw new Error(`sync-backfill bench: ${run.rows} rows in the lake, expected ${ROWS}`);
      syncs.push(run);
      await rm(dir, { recursive: true, force: true });
    }
    const rawPerSec = median(raws.map((r) => ROWS / (r.ms / 1000)));
    const syncPerSec = median(syncs.map((s) => ROWS / (s.ms / 1000)));
    return [
      { variant: 'raw zongji delivery, source driver options (limit)', rows: ROWS, txnRows: TXN_ROWS, rowsPerSec: Math.round(rawPerSec), ratio: 1, ratioRange: '-', cpuUsPerRow: Math.round((median(raws.map((r) => r.cpuMs)) / ROWS) * 1000 * 100) / 100 },
      {
        variant: '`tidemark sync` binlog → committed lake rows, 1 s interval (goal ≥ 0.5×, peak RSS < 500 MB)',
        rows: ROWS,
        txnRows: TXN_ROWS,
        rowsPerSec: Math.round(syncPerSec),
        ratio: Math.round((syncPerSec / rawPerSec) * 100) / 100,
        ratioRange: range(syncs.map((s, i) => raws[i]!.ms / s.ms)),
        cpuUsPerRow: Math.round((median(syncs.map((s) => s.cpuMs)) / ROWS) * 1000 * 100) / 100,
        peakRssMb: Math.max(...syncs.map((s) => s.peakRssMb)),
        dataFiles: median(syncs.map((s) => s.dataFiles)),
        ...busyColumns(syncs),
      },
    ];
  } finally {
    await db.stop();
    await rm(work, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSyncBackfillBench().then((r) => console.table(r));
}
