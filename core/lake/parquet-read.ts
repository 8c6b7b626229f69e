import { tableFromIPC, type Table } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import { checkFilePages, parseFooter, readFooterLength, type ParquetFooter } from './serde/parquet-subset';

/**
 * Reads a whole Parquet file through the storage port into an Arrow table (parquet-wasm decodes,
 * Arrow IPC carries it across the wasm boundary). Missing file → NotFound naming it; bytes that are
 * not Parquet → DataInvalid naming it.
 */
export async function readParquetFile(storage: StoragePort, path: string, what = 'data file'): Promise<Table> {
  let bytes: Uint8Array;
  try {
    bytes = await storage.readFile(path);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') throw new TidemarkError('NotFound', `${what} not found: ${path}`, { path }, e);
    throw e;
  }
  // Footer and page headers first: a corrupt one fails here, named, instead of costing the Rust
  // reader seconds of allocation (serde/parquet-subset.ts).
  checkFilePages(readFooter(bytes, path, what), bytes);
  try {
    const wasmTable = readParquet(bytes);
    return tableFromIPC(wasmTable.intoIPCStream());
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new TidemarkError('DataInvalid', `${path}: expected a Parquet ${what}: ${msg}`, { path }, e);
  }
}

/** The footer of a whole file's bytes; DataInvalid naming the file when there is none. */
function readFooter(bytes: Uint8Array, path: string, what: string): ParquetFooter {
  const length = readFooterLength(bytes, bytes.length, path, what);
  return parseFooter(bytes.subarray(bytes.length - 8 - length, bytes.length - 8), bytes.length, path);
}
