/** The query engine in Node: DuckDB-wasm blocking build, parquet-wasm's Node build, local disk. */
import * as parquet from 'parquet-wasm';
import type { StoragePort } from '../storage';
import { createLocalStorage } from '../storage/local';
import { createNodeSqlSession } from './duckdb-node';
import { createQueryEngine, type QueryEngineDeps, type QueryEngine } from './engine';

export async function createNodeQueryEngine(storage: StoragePort = createLocalStorage(), options: Pick<QueryEngineDeps, 'onLoadProgress' | 'memoryBudgetBytes'> = {}): Promise<QueryEngine> {
  return createQueryEngine({ session: await createNodeSqlSession(), parquet, storage, onLoadProgress: options.onLoadProgress, memoryBudgetBytes: options.memoryBudgetBytes });
}
