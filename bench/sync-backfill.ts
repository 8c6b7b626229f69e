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
import { startPrivateMariaDb } from '../test/support/mariadb';
import { connectionOptions } from '../core/cdc/connect';
import { resolveConfig } from '../core/cdc/config';
import { median, range, rawZongjiDelivery } from './cdc-binlog';
import { busyColumns, fillSyncTable, pipelineYaml, runSyncProcess, type SyncRun } from './sync-snapshot';

const ROWS = Number(process.env.TIDEMARK_BENCH_BACKFILL_ROWS ?? 2_000_000);
const TXN_ROWS = Number(process.env.TIDEMARK_BENCH_BACKFILL_TXN_ROWS ?? 1_000_000);
const ROUNDS = Number(process.env.TIDEMARK_BENCH_BACKFILL_ROUNDS ?? 2);

export async function runSyncBackfillBench(): Promise<Record<string, number | string>[]> {
  const db = await startPrivateMariaDb();
  const work = await mkdtemp(join(tmpdir(), 'tidemark-bench-backfill-'));
  try {
    if (TXN_ROWS <= 0 || TXN_ROWS % 100_000 !== 0) throw new Error(`sync-backfill bench: TIDEMARK_BENCH_BACKFILL_TXN_ROWS must be a multiple of 100000, found ${TXN_ROWS}`);
    const start = await fillSyncTable(db, 't', ROWS, TXN_ROWS);
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
      const startup = `  scan.startup.mode: specific-offset\n  scan.startup.specific-offset.file: ${start.file}\n  scan.startup.specific-offset.pos: ${start.pos}\n`;
      await writeFile(yamlPath, pipelineYaml(db, join(dir, 'wh'), 't', '1s', serverId + 1, 'iceberg', startup));
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
