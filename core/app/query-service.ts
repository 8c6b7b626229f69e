/**
 * Export of a table version or a SQL result to a file (query.export): runs in the main process,
 * which owns the file system. Paging, SQL and the other query.* calls live in core/query/calls.ts.
 */
import { writeFile } from 'node:fs/promises';
import * as parquet from 'parquet-wasm';
import type { SnapshotSelector } from '../lake';
import { quoteIdent } from '../query';
import type { QueryEngine } from '../query';
import { exportParquet, formatCsv } from '../query';
import { resolveWarehouseSql } from '../query';

export interface ExportRequest {
  to: string;
  format: 'csv' | 'parquet';
  path?: string;
  version?: SnapshotSelector;
  warehouse?: string;
  sql?: string;
}

export async function exportResult(engine: QueryEngine, req: ExportRequest): Promise<{ to: string; rows: number }> {
  const sql = req.path
    ? `SELECT * FROM ${quoteIdent((await engine.registerView(req.path, req.version ?? {})).view)}`
    : await resolveWarehouseSql(engine, req.warehouse!, req.sql!);
  if (req.format === 'csv') {
    const result = await engine.query(sql);
    await writeFile(req.to, formatCsv(result));
    return { to: req.to, rows: result.rows.length };
  }
  const bytes = await exportParquet(engine.session, parquet, sql);
  await writeFile(req.to, bytes);
  const n = await engine.query(`SELECT count(*) FROM (${sql})`);
  return { to: req.to, rows: Number(n.rows[0]![0]) };
}
