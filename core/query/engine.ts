/**
 * The query engine: DuckDB-wasm over the lake's scan plans. Works wherever a SqlSession, the
 * parquet-wasm module and a storage port exist (Node, renderer).
 */
import type { NestedField } from '../lake/model';
import { planScan, type PlanOptions, type ScanPlan } from '../lake/scan-plan';
import { loadTable, type LoadedTable } from '../lake/table';
import type { StoragePort } from '../storage';
import type { ResultSet } from './arrow-values';
import { quoteIdent, type SqlSession } from './duckdb';
import type { ParquetApi } from './parquet';
import { buildScanView, FileLoader } from './scan-view';

export interface QueryEngineDeps {
  session: SqlSession;
  parquet: ParquetApi;
  storage: StoragePort;
}

export interface ScanPage {
  columns: NestedField[];
  rows: unknown[][];
}

export interface ScanQueryOptions extends PlanOptions {
  columns?: string[];
  limit?: number;
  offset?: number;
}

export interface QueryEngine {
  readonly session: SqlSession;
  /** Plans a table at a snapshot and registers it as a view; returns the view name. */
  registerView(table: string | LoadedTable, options?: PlanOptions & { columns?: string[] }): Promise<{ view: string; plan: ScanPlan; columns: NestedField[] }>;
  /** Live row count at a snapshot (merge-on-read). */
  count(table: string | LoadedTable, options?: PlanOptions): Promise<number>;
  /** Rows at a snapshot, in file order, paged. */
  scan(table: string | LoadedTable, options?: ScanQueryOptions): Promise<ScanPage>;
  /** Runs SQL as is (views registered before are visible). */
  query(sql: string): Promise<ResultSet>;
  close(): Promise<void>;
}

export function createQueryEngine(deps: QueryEngineDeps): QueryEngine {
  const loader = new FileLoader(deps.session, deps.parquet, deps.storage);
  let views = 0;

  async function registerView(table: string | LoadedTable, options: PlanOptions & { columns?: string[] } = {}) {
    const loaded = typeof table === 'string' ? await loadTable(deps.storage, table) : table;
    const plan = await planScan(deps.storage, loaded, options);
    const built = await buildScanView(loader, plan, options.columns);
    const view = `tm_view_${++views}`;
    await deps.session.query(`CREATE OR REPLACE VIEW ${quoteIdent(view)} AS ${built.sql}`);
    return { view, plan, columns: built.columns };
  }

  return {
    session: deps.session,
    registerView,
    async count(table, options = {}) {
      const { view } = await registerView(table, { ...options, columns: [] });
      const r = await deps.session.query(`SELECT count(*) AS n FROM ${quoteIdent(view)}`);
      return Number(r.rows[0]![0]);
    },
    async scan(table, options = {}) {
      const { view, columns } = await registerView(table, options);
      let sql = `SELECT * FROM ${quoteIdent(view)}`;
      if (options.limit !== undefined) sql += ` LIMIT ${Math.max(0, Math.floor(options.limit))}`;
      if (options.offset !== undefined) sql += ` OFFSET ${Math.max(0, Math.floor(options.offset))}`;
      const r = await deps.session.query(sql);
      return { columns, rows: r.rows };
    },
    query: (sql) => deps.session.query(sql),
    close: () => deps.session.close(),
  };
}
