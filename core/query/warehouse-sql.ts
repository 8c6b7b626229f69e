/**
 * SQL over a warehouse: `ns.table` names (with time travel) are resolved to merge-on-read views
 * of the lake, then DuckDB runs the rewritten text.
 */
import { TidemarkError } from '../errors';
import { selectSnapshot, snapshotSchema } from '../lake';
import { listWarehouseTables } from '../lake';
import { checkMemoryBudget, estimateVersionBytes } from './memory-budget';
import { pushdownFilter, referencedColumns } from './sql-scope';
import type { ResultSet } from './arrow-values';
import { quoteIdent } from './duckdb';
import type { QueryEngine } from './engine';
import { registerPaimonView } from './paimon-view';
import { resolvePaimonSystemTable } from './paimon-system-tables';
import { findTableRefs, rewriteTableRefs, type TableRef } from './sql-rewrite';
import { planBatchedAggregate } from './sql-batches';
import { nextObjectName } from './scan-view';
import type { LoadedTable, NestedField, ScanFilter, ScanPlan, SnapshotSelector, WarehouseTable } from '../lake';

/** DuckDB's own catalogs, which must keep working in the console. */
const SYSTEM_SCHEMAS = new Set(['information_schema', 'pg_catalog', 'main', 'temp', 'system']);

/** A lake table reference of a query, resolved: its version's plan and what the query needs of it. */
interface ResolvedRef {
  name: string;
  loaded: LoadedTable;
  selector: SnapshotSelector;
  columns: string[];
  fields: NestedField[];
  filter: ScanFilter;
  plan: ScanPlan;
}

function selectorOf(ref: TableRef): SnapshotSelector {
  const travel = ref.timeTravel;
  return travel?.kind === 'version' ? { snapshotId: travel.snapshotId } : travel?.kind === 'ref' ? { ref: travel.name } : travel ? { asOfTimestampMs: travel.timestampMs } : {};
}

/** The lake (not DuckDB system) references of `sql` with the warehouse's table each names. */
async function lakeTables(engine: QueryEngine, warehouse: string, sql: string): Promise<LakeTableRef[]> {
  const refs = findTableRefs(sql);
  const tables = refs.length > 0 ? await listWarehouseTables(engine.storage, warehouse) : [];
  const byName = new Map(tables.map((t) => [`${t.namespace}.${t.name}`, t]));
  const out: LakeTableRef[] = [];
  for (const ref of refs.filter((r) => !SYSTEM_SCHEMAS.has(r.parts[0]!.toLowerCase()))) {
    const name = ref.parts.join('.');
    const table = byName.get(name);
    if (table) {
      out.push({ ref, name, table, systemView: null });
      continue;
    }
    // `t$snapshots` and the other Paimon system tables (core/query/paimon-system-tables.ts).
    const systemView = await resolvePaimonSystemTable(engine, warehouse, ref, byName);
    if (systemView !== null) {
      out.push({ ref, name, table: null, systemView });
      continue;
    }
    const known = [...byName.keys()].slice(0, 10).join(', ');
    throw new TidemarkError('NotFound', `table ${name} not found in warehouse ${warehouse}${known ? `; tables: ${known}` : ''}`, { table: name, warehouse });
  }
  return out;
}

/** A lake reference of a query: a warehouse table, or a Paimon system table already registered as `systemView`. */
type LakeTableRef = { ref: TableRef; name: string; table: WarehouseTable; systemView: null } | { ref: TableRef; name: string; table: null; systemView: string };

/**
 * Plans an Iceberg reference: only the columns the text may reference, only the files and row
 * groups its WHERE admits.
 */
async function resolveRef(engine: QueryEngine, sql: string, ref: TableRef, lakeRefs: TableRef[], name: string, path: string): Promise<ResolvedRef> {
  const selector = selectorOf(ref);
  const loaded = await engine.loadTable(path);
  const schema = snapshotSchema(loaded.metadata, selectSnapshot(loaded.metadata, selector), selector);
  const columns = referencedColumns(sql, schema);
  const filter = pushdownFilter(sql, ref, lakeRefs, schema);
  const plan = await engine.plan(loaded, { ...selector, filter: filter.length ? filter : undefined });
  return { name, loaded, selector, columns, fields: schema.fields.filter((f) => columns.includes(f.name)), filter, plan };
}

/** Rewrites `ns.table [FOR … AS OF …]` references to registered merge-on-read views. */
export async function resolveWarehouseSql(engine: QueryEngine, warehouse: string, sql: string): Promise<string> {
  return resolveTables(engine, sql, await lakeTables(engine, warehouse, sql));
}

async function resolveTables(engine: QueryEngine, sql: string, found: Awaited<ReturnType<typeof lakeTables>>): Promise<string> {
  const lakeRefs = found.map((f) => f.ref);
  const views = new Map<TableRef, string>();
  for (const { ref, name, table, systemView } of found) {
    if (table === null) {
      views.set(ref, systemView);
      continue;
    }
    // Paimon versions are LSM-merged by the lake core and loaded as Arrow; Iceberg ones are views.
    if (table.format === 'paimon') {
      views.set(ref, (await registerPaimonView(engine, table.path, selectorOf(ref), name)).view);
      continue;
    }
    // Nothing at all is loaded when the version would not fit the engine's memory budget.
    const r = await resolveRef(engine, sql, ref, lakeRefs, name, table.path);
    checkMemoryBudget(name, r.plan, r.fields, engine.memoryBudgetBytes, r.filter.length > 0);
    views.set(ref, (await engine.registerView(r.loaded, { ...r.selector, columns: r.columns, filter: r.filter.length ? r.filter : undefined })).view);
  }
  return rewriteTableRefs(sql, lakeRefs, (ref) => quoteIdent(views.get(ref)!));
}

/**
 * Runs console SQL over a warehouse: an aggregation over one Iceberg table larger than a batch runs
 * in batches of data files (sql-batches.ts), anything else as one pass under the memory budget.
 */
export async function queryWarehouse(engine: QueryEngine, warehouse: string, sql: string): Promise<ResultSet> {
  const found = await lakeTables(engine, warehouse, sql);
  const batched = await queryInBatches(engine, sql, found);
  return batched ?? engine.query(await resolveTables(engine, sql, found));
}

/** The query run in batches, or null when it does not qualify (or fits in one batch). */
async function queryInBatches(engine: QueryEngine, sql: string, found: Awaited<ReturnType<typeof lakeTables>>): Promise<ResultSet | null> {
  const only = found.length === 1 ? found[0]! : null;
  if (only === null || only.table === null || only.table.format !== 'iceberg') return null;
  const { ref, name, table } = only;
  const shape = planBatchedAggregate(sql, ref);
  if (!shape) return null;
  const r = await resolveRef(engine, sql, ref, [ref], name, table.path);
  const batches = batchesOf(r.plan, r.fields, engine.aggregateBatchBytes);
  if (batches.length < 2) return null;
  // A batch is at least one data file: one over the budget stops the query as a whole version would.
  for (const b of batches) checkMemoryBudget(name, b, r.fields, engine.memoryBudgetBytes, r.filter.length > 0);
  const filter = r.filter.length ? r.filter : undefined;
  // The rewrite is kept only when, over no rows, it yields the original's columns (names, types).
  const probe = await engine.viewOfPlan({ ...r.plan, files: [] }, { columns: r.columns, filter });
  const partials = nextObjectName('tm_partials');
  let columns: { name: string; type: string }[] | null;
  try {
    // A query DuckDB refuses is left to the one-pass path, which reports DuckDB's own error.
    columns = await describe(engine, rewriteTableRefs(sql, [ref], () => quoteIdent(probe.view)));
    await engine.query(`CREATE TEMP TABLE ${quoteIdent(partials)} AS ${shape.partial(quoteIdent(probe.view))}`);
    const got = await describe(engine, shape.final(quoteIdent(partials), columns));
    if (JSON.stringify(got) !== JSON.stringify(columns)) columns = null;
  } catch {
    columns = null;
  } finally {
    await probe.drop();
  }
  if (!columns) {
    await engine.query(`DROP TABLE IF EXISTS ${quoteIdent(partials)}`);
    return null;
  }
  try {
    const rows = engine.lazy.rowsOf(r.plan);
    for (const b of batches) {
      const part = await engine.viewOfPlan(b, { columns: r.columns, filter, rows });
      try {
        await engine.query(`INSERT INTO ${quoteIdent(partials)} ${shape.partial(quoteIdent(part.view))}`);
      } finally {
        await part.drop();
      }
    }
    return await engine.query(shape.final(quoteIdent(partials), columns));
  } finally {
    await engine.query(`DROP TABLE IF EXISTS ${quoteIdent(partials)}`);
  }
}

/** DuckDB's names and types of a query's result columns. */
async function describe(engine: QueryEngine, sql: string): Promise<{ name: string; type: string }[]> {
  const r = await engine.query(`DESCRIBE ${sql}`);
  return r.rows.map((row) => ({ name: String(row[0]), type: String(row[1]) }));
}

/** The plan's data files in consecutive parts of at most `bytes` estimated (at least one file each). */
export function batchesOf(plan: ScanPlan, fields: NestedField[], bytes: number): ScanPlan[] {
  const out: ScanPlan[] = [];
  let files: ScanPlan['files'] = [];
  let size = 0;
  for (const f of plan.files) {
    const one = estimateVersionBytes({ ...plan, files: [f], deleteFiles: [] }, fields);
    if (files.length > 0 && size + one > bytes) {
      out.push({ ...plan, files });
      files = [];
      size = 0;
    }
    files.push(f);
    size += one;
  }
  if (files.length > 0) out.push({ ...plan, files });
  return out;
}
