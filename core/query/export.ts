/**
 * Export of a query result or a table version: CSV (RFC 4180) built from canonical values, Parquet
 * written by parquet-wasm from DuckDB's Arrow IPC result (no DuckDB extension needed).
 */
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { bytesToHex } from '../lake';
import type { ResultSet } from './arrow-values';
import type { SqlSession } from './duckdb';
import type { ParquetApi } from './parquet';

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text: string;
  if (value instanceof Uint8Array) text = `\\x${bytesToHex(value)}`;
  else if (typeof value === 'object') text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? bytesToHex(v) : v));
  else text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** CSV text with a header line; NULL is the empty field, binary is `\x<hex>`, nested is JSON. */
export function formatCsv(result: ResultSet): string {
  const lines = [result.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of result.rows) lines.push(row.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

export interface ParquetWriter {
  writeParquet(table: unknown, props?: unknown): Uint8Array;
  Table: { fromIPCStream(buf: Uint8Array): unknown };
}

/** Runs `sql` and encodes the whole result as a Parquet file (ZSTD-compressed by parquet-wasm's default writer). */
export async function exportParquet(session: SqlSession, parquet: ParquetApi & ParquetWriter, sql: string): Promise<Uint8Array> {
  // DuckDB's stream has no end-of-stream marker, which parquet-wasm's reader requires: re-frame it.
  const ipc = tableToIPC(tableFromIPC(await session.queryIpc(sql)), 'stream');
  return parquet.writeParquet(parquet.Table.fromIPCStream(ipc));
}
