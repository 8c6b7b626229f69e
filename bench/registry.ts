import { runContractBench } from './contract';
import { runLakeAppendBench } from './lake-append';
import { runQueryBench } from './query';

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
  { name: 'query', description: 'DuckDB-wasm merge-on-read vs compacted vs native DuckDB (TIDEMARK_BENCH_QUERY_ROWS, default 10M)', run: runQueryBench },
];
