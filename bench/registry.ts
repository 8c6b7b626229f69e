import { runContractBench } from './contract';
import { runLakeAppendBench } from './lake-append';
import { runQueryBench } from './query';
import { runPipelineBench } from './pipeline';
import { runCdcBinlogBench } from './cdc-binlog';
import { runCdcSnapshotBench } from './cdc-snapshot';

/** A benchmark that returns one record of named figures, shown as one row. */
const oneRow = (run: () => Promise<Record<string, number>>) => async () => [await run()];

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
  { name: 'cdc-binlog', description: 'binlog CDC: our source events/s vs raw zongji delivery of the same binlog (goal ≥ 0.8×); TIDEMARK_BENCH_FULL=1 for 1M', run: oneRow(() => runCdcBinlogBench()) },
  { name: 'cdc-snapshot', description: 'snapshot phase rows/s vs a raw mysql2 streaming SELECT (goal ≥ 0.7×), peak RSS; TIDEMARK_BENCH_FULL=1 for 5M', run: oneRow(() => runCdcSnapshotBench()) },
  { name: 'pipeline', description: 'sync pipeline: binlog → committed Iceberg rows/s vs raw zongji, freshness p50/p99 at a 1 s interval, peak RSS (TIDEMARK_BENCH_PIPELINE_ROWS, default 100k)', run: runPipelineBench },
  { name: 'query', description: 'DuckDB-wasm merge-on-read vs compacted vs native DuckDB (TIDEMARK_BENCH_QUERY_ROWS, default 10M)', run: runQueryBench },
];
