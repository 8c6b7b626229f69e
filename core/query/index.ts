/**
 * core/query: the query engine over lake tables (DuckDB-wasm) — grid pages, SQL, row and schema
 * diffs, key history, column stats, export. Browser-safe: the renderer runs the same engine over
 * the HTTP storage port; the Node entry (DuckDB's blocking build, local files) is core/query/node.
 */
export { formatPartitionSpec } from './schema-diff';
export { quoteIdent } from './duckdb';
export type { QueryEngine } from './engine';
export { exportParquet, formatCsv } from './export';
export { resolveWarehouseSql } from './warehouse-sql';
export { createQueryCalls } from './calls';
