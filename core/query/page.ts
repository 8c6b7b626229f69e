/**
 * Paging for the grid and SQL for the console (query.page, query.sql). Iceberg pages are read
 * lazily (readIcebergWindow); Paimon versions are merged in DuckDB, where sort and filters are
 * pushed into SQL (readPage). Browser-safe.
 */
import type { FILTER_OPS, ResultPage, SqlResult } from '../api';
import { TidemarkError } from '../errors';
import { typeToText } from '../lake';
import type { SnapshotSelector } from '../lake';
import { quoteIdent, quoteLiteral } from './duckdb';
import type { QueryEngine } from './engine';
import type { LazyReader } from './pages/reader';
import { duckDbType } from './sql-types';
import { queryWarehouse } from './warehouse-sql';

export interface PageRequest {
  path: string;
  version?: SnapshotSelector;
  offset: number;
  limit: number;
  /** Rows carry only the first N columns (see the contract's query.page). */
  leadColumns?: number;
  sort: { column: string; desc: boolean }[];
  filters: { column: string; op: (typeof FILTER_OPS)[number]; value?: string }[];
}

/** A table version as a DuckDB relation with its columns (display type and SQL type for casts). */
export interface PageSource {
  relation: string;
  columns: { name: string; type: string; sqlType: string | null }[];
  snapshotId: bigint | null;
}

export async function icebergPageSource(engine: QueryEngine, path: string, version: SnapshotSelector = {}): Promise<PageSource> {
  const { view, columns, plan } = await engine.registerView(path, version);
  return {
    relation: quoteIdent(view),
    columns: columns.map((c) => ({ name: c.name, type: typeToText(c.type), sqlType: duckDbType(c.type) })),
    snapshotId: plan.snapshot?.snapshotId ?? null,
  };
}

/**
 * A page read lazily from the row groups holding it (engine.lazy): unsorted and unfiltered pages by
 * offset in file order; sorted or filtered ones through the version's order, built from the sort and
 * filter columns and row positions only (pages/ordered-rows.ts), with an exact total.
 */
export async function readIcebergWindow(reader: LazyReader, path: string, version: SnapshotSelector, req: Omit<PageRequest, 'path' | 'version'>): Promise<ResultPage> {
  const ordered = req.sort.length > 0 || req.filters.length > 0;
  const w = ordered
    ? await reader.orderedWindow(path, version, { sort: req.sort, filters: req.filters }, req.offset, req.limit)
    : await reader.window(path, version, req.offset, req.limit, req.leadColumns);
  // With lead columns the rows are narrower than the header: every column is listed.
  const columns = !ordered && req.leadColumns !== undefined ? w.plan.schema.fields : w.columns;
  return {
    columns: columns.map((c) => ({ name: c.name, type: typeToText(c.type) })),
    rows: w.rows,
    totalRows: w.totalRows,
    totalPending: w.totalPending,
    offset: req.offset,
    snapshotId: w.plan.snapshot?.snapshotId ?? null,
  };
}

export async function readPage(engine: QueryEngine, source: PageSource, req: Omit<PageRequest, 'path' | 'version'>): Promise<ResultPage> {
  const { columns } = source;
  const byName = new Map(columns.map((c) => [c.name, c]));
  const column = (name: string, where: string) => {
    const c = byName.get(name);
    if (!c) throw new TidemarkError('InvalidInput', `${where}: unknown column ${JSON.stringify(name)}; columns: ${columns.map((x) => x.name).join(', ')}`, { column: name });
    return c;
  };
  const conditions = req.filters.map((f, i) => {
    const c = column(f.column, `filters[${i}]`);
    const col = quoteIdent(c.name);
    if (f.op === 'is null') return `${col} IS NULL`;
    if (f.op === 'is not null') return `${col} IS NOT NULL`;
    if (f.value === undefined) throw new TidemarkError('InvalidInput', `filters[${i}]: ${f.op} needs a value`, { column: c.name });
    if (f.op === 'contains') return `contains(lower(CAST(${col} AS VARCHAR)), lower(${quoteLiteral(f.value)}))`;
    // TRY_CAST: a value that does not parse as the column's type matches nothing instead of failing.
    const literal = c.sqlType ? `TRY_CAST(${quoteLiteral(f.value)} AS ${c.sqlType})` : quoteLiteral(f.value);
    return `${col} ${f.op} ${literal}`;
  });
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  const order = req.sort.length ? ` ORDER BY ${req.sort.map((s, i) => `${quoteIdent(column(s.column, `sort[${i}]`).name)} ${s.desc ? 'DESC' : 'ASC'} NULLS LAST`).join(', ')}` : '';
  const total = await engine.query(`SELECT count(*) FROM ${source.relation}${where}`);
  const rows = await engine.query(`SELECT * FROM ${source.relation}${where}${order} LIMIT ${req.limit} OFFSET ${req.offset}`);
  return {
    columns: columns.map((c) => ({ name: c.name, type: c.type })),
    rows: rows.rows,
    totalRows: Number(total.rows[0]![0]),
    totalPending: false,
    offset: req.offset,
    snapshotId: source.snapshotId,
  };
}

export async function runSql(engine: QueryEngine, warehouse: string, sql: string, limit: number): Promise<SqlResult> {
  const started = performance.now();
  const result = await queryWarehouse(engine, warehouse, sql);
  return {
    columns: result.columns,
    rows: result.rows.slice(0, limit),
    truncated: result.rows.length > limit,
    elapsedMs: Math.round(performance.now() - started),
  };
}

