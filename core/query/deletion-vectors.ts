/**
 * Iceberg v3 deletion vectors for the query engine: the lake core decodes a DV into the positions
 * of its referenced data file (core/lake/deletion-vector.ts); here they take the shapes the two
 * engines use for position delete files — data file path → positions for the lazy page reader,
 * and a DuckDB table of (file_path, pos) for merge-on-read SQL. Browser-safe.
 */
import { makeVector, Table, tableToIPC } from 'apache-arrow';
import type { DeletionVectorReader } from '../lake';
import type { LoadedTable, PlannedFile } from '../lake';
import { quoteIdent, quoteLiteral, type SqlSession } from './duckdb';

/** A DV as the lazy reader's position map: its data file (rebased onto the table root) → positions. */
export async function loadDeletionVectorPositions(reader: DeletionVectorReader, plan: { table: LoadedTable }, d: PlannedFile): Promise<{ byFile: Map<string, number[]>; rows: number }> {
  const dv = await reader.read(d);
  return { byFile: new Map([[plan.table.resolve(dv.referencedDataFile), dv.positions]]), rows: dv.positions.length };
}

/**
 * Loads a DV's positions into a DuckDB table and returns a SELECT of (file_path, pos, _seq) in the
 * form scan-view's position delete union takes, file_path being the referenced data file as written.
 */
export async function deletionVectorSelect(session: SqlSession, reader: DeletionVectorReader, d: PlannedFile, table: string): Promise<string> {
  const dv = await reader.read(d);
  const path = quoteLiteral(dv.referencedDataFile);
  if (dv.positions.length === 0) return `SELECT ${path} AS file_path, CAST(NULL AS BIGINT) AS pos, CAST(${d.sequenceNumber} AS BIGINT) AS _seq WHERE false`;
  const positions = makeVector(BigInt64Array.from(dv.positions, (p) => BigInt(p)));
  await session.insertArrowIpc(table, tableToIPC(new Table({ pos: positions }), 'stream'));
  return `SELECT ${path} AS file_path, CAST(pos AS BIGINT) AS pos, CAST(${d.sequenceNumber} AS BIGINT) AS _seq FROM ${quoteIdent(table)}`;
}
