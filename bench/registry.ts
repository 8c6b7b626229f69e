import { runContractBench } from './contract';
import { runLakeAppendBench } from './lake-append';
import { runQueryBench } from './query';
import { runPipelineBench } from './pipeline';
import { runCdcBinlogBench } from './cdc-binlog';
import { runCdcSnapshotBench } from './cdc-snapshot';
import { runExplorerBrowserBench } from './explorer-browser';
import { runExplorerScaleBench } from './explorer-scale';
import { runSyncSnapshotBench } from './sync-snapshot';
import { runSyncS3Bench } from './sync-s3';
import { runSyncBackfillBench } from './sync-backfill';
import { runExplorerS3Bench } from './explorer-s3';
import { runPaimonPagesBench } from './paimon-pages';

/** A benchmark that returns one record of named figures, shown as one row. */
const oneRow = (run: () => Promise<Record<string, number | string>>) => async () => [await run()];

export interface Bench {
  name: string;
  description: string;
  /** Rows of a side-by-side table: one row per measured variant. */
  run(): Promise<Record<string, number | string>[]>;
}

/** Every benchmark `npm run bench` runs, in order. Each issue adds its own. */
export const BENCHES: Bench[] = [
  { name: 'contract', description: 'one contract call: direct dispatch vs browser-mode HTTP round trip', run: runContractBench },
  { name: 'lake-append', description: 'Iceberg append of N rows (TIDEMARK_BENCH_ROWS, default 1M) as one commit vs a plain parquet-wasm write', run: runLakeAppendBench },
  { name: 'cdc-binlog', description: 'binlog CDC, 1M row changes (TIDEMARK_BENCH_BINLOG_ROWS): our source events/s vs raw zongji delivery of the same binlog (goal ≥ 0.8×), both in a thread with the app\'s sync-thread limits, 5 alternating rounds: median, per-round range, CPU µs/row', run: oneRow(() => runCdcBinlogBench()) },
  { name: 'cdc-snapshot', description: 'snapshot phase of a 5M-row table (TIDEMARK_BENCH_SNAPSHOT_ROWS): rows/s vs a raw mysql2 streaming SELECT (goal ≥ 0.7×), both in a thread with the app\'s sync-thread limits; with a 1 GiB InnoDB buffer pool holding the table (5 alternating rounds, peak RSS at full and a tenth of the size), then MariaDB\'s default 128 MiB (3 rounds)', run: () => runCdcSnapshotBench() },
  { name: 'pipeline', description: 'sync pipeline, 1M row changes (TIDEMARK_BENCH_PIPELINE_ROWS): binlog → committed Iceberg rows/s and Paimon rows/s (4 buckets) vs raw zongji delivery with the source driver options (goal ≥ 0.5×; Paimon ≥ the Iceberg ratio; zongji lossy defaults for reference), the pipeline in the sync thread as the app runs it and raw zongji in a thread with its limits, 3 alternating rounds, freshness p50/p99 at a 1 s interval for each sink (goal p99 < 2 s), peak RSS', run: runPipelineBench },
  { name: 'sync-snapshot', description: 'full sync of issue 20\'s 10-column table (TIDEMARK_BENCH_SYNC_ROWS, default 2M): `tidemark sync --until-caught-up` as a child process (process start included) into a fresh warehouse vs a raw mysql2 streaming SELECT (goal ≥ 0.5×), alternating rounds (TIDEMARK_BENCH_SYNC_ROUNDS, default 2) at a 1 s and a 5 min commit interval, each beside the same sync into Paimon (4 buckets; goal: the Iceberg ratio); the sync\'s peak RSS (goal < 500 MB, flat), CPU and data files, and how busy the sync thread and the sink worker were (the busier one is the limit)', run: runSyncSnapshotBench },
  { name: 'sync-backfill', description: 'binlog sync under a bulk backfill: issue 20\'s 10-column table filled with TIDEMARK_BENCH_BACKFILL_ROWS rows (default 2M) in transactions of TIDEMARK_BENCH_BACKFILL_TXN_ROWS (default 1M), then `tidemark sync --until-caught-up` (process start included) from the position before them at a 1 s interval vs raw zongji delivery of the same binlog (goal ≥ 0.5×), alternating rounds (TIDEMARK_BENCH_BACKFILL_ROUNDS, default 2); peak RSS (goal < 500 MB, flat), CPU, thread busy shares', run: runSyncBackfillBench },
  { name: 'sync-s3', description: 'snapshot sync of issue 20\'s 10-column table (TIDEMARK_BENCH_SYNC_S3_ROWS, default 500k) as `tidemark sync --until-caught-up` child processes into a local folder, into s3:// on s3rver (loopback, conditional-PUT proxy) and the same with 30 ms added per request, alternating rounds: rows/s, ratio to the local folder (goal ≥ 0.5×), peak RSS (goal < 500 MB), S3 requests', run: runSyncS3Bench },
  { name: 'query', description: 'DuckDB-wasm merge-on-read vs compacted vs native DuckDB (TIDEMARK_BENCH_QUERY_ROWS, default 10M)', run: runQueryBench },
  { name: 'explorer-scale', description: 'grid first page, snapshot switch, exact count and peak memory of a 30-column table with 5% equality deletes (TIDEMARK_BENCH_EXPLORER_ROWS, default 10M) beside its compacted twin; lakes generated once into .tidemark-tmp/', run: runExplorerScaleBench },
  { name: 'explorer-s3', description: 'grid first page (100 rows × 30 columns) of explorer-scale\'s table with 5% equality deletes (TIDEMARK_BENCH_EXPLORER_ROWS, default 10M) from s3rver behind the recording proxy with 30 ms added per request (goal < 1 s), beside s3rver without latency, the local folder and the app\'s file route (browser-mode server, same bucket and latency), alternating rounds: wall and CPU ms, S3 requests and ranged bytes per page', run: runExplorerS3Bench },
  { name: 'paimon-pages', description: 'Paimon grid pages bucket by bucket vs the whole version read the grid did before: a 16-bucket primary-key table (TIDEMARK_BENCH_PAIMON_ROWS, default 400k) with two sorted runs per bucket, and its compacted copy; first page, page at 60%, exact count: wall/CPU ms, data files and MiB read', run: runPaimonPagesBench },
  { name: 'explorer-browser', description: 'the explorer in headless Chromium on the same 30-column table with 5% equality deletes (TIDEMARK_BENCH_EXPLORER_ROWS, default 10M): click to first rows (goal < 1 s), exact count, a page at 60%, a filter, a sort, Chromium memory, no crash; the end-to-end test does the same at 3M', run: runExplorerBrowserBench },
];
