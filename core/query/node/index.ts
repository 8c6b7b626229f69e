/** core/query/node: the query engine in Node (DuckDB-wasm's blocking build, local storage); core/query/index.ts is the browser-safe part. */
/** The query engine in Node: DuckDB-wasm blocking build, parquet-wasm's Node build, local disk. */
import * as parquet from 'parquet-wasm';
import type { StoragePort } from '../../storage';
import { createLocalStorage } from '../../storage/node/index';
import { createNodeSqlSession } from './duckdb-node';
import { createQueryEngine, type QueryEngineDeps, type QueryEngine } from '../engine';

export async function createNodeQueryEngine(storage: StoragePort = createLocalStorage(), options: Pick<QueryEngineDeps, 'onLoadProgress' | 'memoryBudgetBytes' | 'aggregateBatchBytes'> = {}): Promise<QueryEngine> {
  return createQueryEngine({ session: await createNodeSqlSession(), parquet, storage, onLoadProgress: options.onLoadProgress, memoryBudgetBytes: options.memoryBudgetBytes, aggregateBatchBytes: options.aggregateBatchBytes });
}
