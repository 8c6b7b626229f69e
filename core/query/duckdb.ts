/**
 * The SQL engine port: DuckDB-wasm, in Node (blocking build, for the CLI, tests and the main
 * process) or in the renderer (async worker build). Both speak SQL and take Arrow IPC bytes; results
 * come back as canonical values. Parquet is never read by DuckDB itself: duckdb-wasm ≥ 1.29 would
 * try to download its parquet extension (hang in Node, "table index is out of bounds" in Chromium),
 * so autoloading is switched off and data arrives as Arrow IPC from parquet-wasm.
 */
import type { ResultSet } from './arrow-values';

export interface SqlSession {
  /** Runs a statement and returns its rows (canonical values). */
  query(sql: string): Promise<ResultSet>;
  /**
   * Runs a statement and returns the result as Arrow IPC stream bytes (a copy we own). Going through
   * bytes keeps duckdb-wasm's apache-arrow 17 objects away from our apache-arrow.
   */
  queryIpc(sql: string): Promise<Uint8Array>;
  /** Creates table `name` from an Arrow IPC stream. The bytes may be detached afterwards. */
  insertArrowIpc(name: string, ipc: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** Statements every session runs first: fail fast instead of trying to download extensions. */
export const SESSION_SETUP = [
  'SET autoload_known_extensions=false',
  'SET autoinstall_known_extensions=false',
];

/** Quotes an identifier for DuckDB. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for DuckDB. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
