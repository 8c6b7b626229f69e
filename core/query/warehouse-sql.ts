/**
 * SQL over a warehouse: `ns.table` names (with time travel) are resolved to merge-on-read views
 * of the lake, then DuckDB runs the rewritten text.
 */
import { TidemarkError } from '../errors';
import { selectSnapshot, snapshotSchema } from '../lake';
import { listWarehouseTables } from '../lake';
import { checkMemoryBudget } from './memory-budget';
import { pushdownFilter, referencedColumns } from './sql-scope';
import type { ResultSet } from './arrow-values';
import { quoteIdent } from './duckdb';
import type { QueryEngine } from './engine';
import { registerPaimonView } from './paimon-view';
import { resolvePaimonSystemTable } from './paimon-system-tables';
import { findTableRefs, rewriteTableRefs } from './sql-rewrite';

/** DuckDB's own catalogs, which must keep working in the console. */
const SYSTEM_SCHEMAS = new Set(['information_schema', 'pg_catalog', 'main', 'temp', 'system']);

/** Rewrites `ns.table [FOR … AS OF …]` references to registered merge-on-read views. */
export async function resolveWarehouseSql(engine: QueryEngine, warehouse: string, sql: string): Promise<string> {
  const refs = findTableRefs(sql);
  const tables = refs.length > 0 ? await listWarehouseTables(engine.storage, warehouse) : [];
  const byName = new Map(tables.map((t) => [`${t.namespace}.${t.name}`, t]));
  const views = new Map<(typeof refs)[number], string>();
  const lakeRefs = refs.filter((r) => !SYSTEM_SCHEMAS.has(r.parts[0]!.toLowerCase()));
  for (const ref of lakeRefs) {
    const name = ref.parts.join('.');
    const table = byName.get(name);
    if (!table) {
      // `t$snapshots` and the other Paimon system tables (core/query/paimon-system-tables.ts).
      const system = await resolvePaimonSystemTable(engine, warehouse, ref, byName);
      if (system !== null) {
        views.set(ref, system);
        continue;
      }
      const known = [...byName.keys()].slice(0, 10).join(', ');
      throw new TidemarkError('NotFound', `table ${name} not found in warehouse ${warehouse}${known ? `; tables: ${known}` : ''}`, { table: name, warehouse });
    }
    const travel = ref.timeTravel;
    const selector = travel?.kind === 'version' ? { snapshotId: travel.snapshotId } : travel?.kind === 'ref' ? { ref: travel.name } : travel ? { asOfTimestampMs: travel.timestampMs } : {};
    // Paimon versions are LSM-merged by the lake core and loaded as Arrow; Iceberg ones are views.
    if (table.format === 'paimon') {
      views.set(ref, (await registerPaimonView(engine, table.path, selector)).view);
      continue;
    }
    // Only the columns the text may reference, only the files and row groups its WHERE admits, and
    // nothing at all when that would not fit the engine's memory budget.
    const loaded = await engine.loadTable(table.path);
    const schema = snapshotSchema(loaded.metadata, selectSnapshot(loaded.metadata, selector), selector);
    const columns = referencedColumns(sql, schema);
    const filter = pushdownFilter(sql, ref, lakeRefs, schema);
    const plan = await engine.plan(loaded, { ...selector, filter: filter.length ? filter : undefined });
    checkMemoryBudget(name, plan, schema.fields.filter((f) => columns.includes(f.name)), engine.memoryBudgetBytes, filter.length > 0);
    views.set(ref, (await engine.registerView(loaded, { ...selector, columns, filter: filter.length ? filter : undefined })).view);
  }
  return rewriteTableRefs(sql, lakeRefs, (ref) => quoteIdent(views.get(ref)!));
}

export async function queryWarehouse(engine: QueryEngine, warehouse: string, sql: string): Promise<ResultSet> {
  return engine.query(await resolveWarehouseSql(engine, warehouse, sql));
}
