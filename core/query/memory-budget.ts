/**
 * The query engine's memory budget: DuckDB-wasm has ~3.1 GiB (KNOWN-FACTS) and a tab that runs out
 * of it dies or answers with a raw out-of-memory error. Before a table version is loaded for a
 * query, its size in memory is estimated from the manifests (record counts, column sizes); a query
 * over the budget stops with a sentence saying what to change instead.
 */
import { TidemarkError } from '../errors';
import { isStruct, type NestedField } from '../lake';
import type { ScanPlan } from '../lake';

/** Default budget of the engine for one query's table data: 1.5 GiB. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 1.5 * 2 ** 30;

/**
 * Estimated table data one batch of a console aggregation loads (core/query/sql-batches.ts): fixed,
 * so that the engine's memory for such a query does not grow with the table.
 */
export const AGGREGATE_BATCH_BYTES = 64 * 2 ** 20;

/** Bytes per value of fixed-width types in DuckDB's vectors. */
const FIXED: Record<string, number> = { boolean: 1, int: 4, date: 4, float: 4, long: 8, double: 8, time: 8, timestamp: 8, timestamptz: 8, timestamp_ns: 8, timestamptz_ns: 8, uuid: 16 };

/**
 * Estimated bytes of the given fields of a plan's data files in DuckDB, counted once: a full pass
 * reads a view over the loaded files, with deletes resolved outside DuckDB (core/query/masked-view.ts)
 * and only the dead rows' positions loaded (12 bytes each; at most the delete files' rows). Strings
 * and other variable-width values take a 16-byte slot each plus twice their on-disk column size
 * (Parquet compresses text ~2–4×); nested values four times their column size.
 */
export function estimateVersionBytes(plan: ScanPlan, fields: NestedField[]): number {
  let bytes = 0;
  for (const f of plan.files) {
    for (const field of fields) {
      const fixed = typeof field.type === 'string' ? FIXED[field.type] : undefined;
      const stored = f.dataFile.columnSizes?.get(field.id) ?? 0;
      if (fixed !== undefined) bytes += f.recordCount * fixed;
      else if (typeof field.type === 'string' && (field.type === 'string' || field.type === 'binary' || field.type.startsWith('decimal') || field.type.startsWith('fixed'))) bytes += f.recordCount * 16 + stored * 2;
      else bytes += isStruct(field.type) ? stored * 4 + f.recordCount * 8 : stored * 4 + f.recordCount * 16;
    }
  }
  for (const d of plan.deleteFiles) bytes += d.recordCount * 12;
  return bytes;
}

const gib = (n: number) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.max(0.1, n / 2 ** 20).toFixed(1)} MiB`);

/**
 * Estimated bytes of a Paimon version loaded into DuckDB (core/query/paimon-view.ts): the merged
 * rows of every column asked, fixed-width values at their width and others a 16-byte slot, plus
 * twice the files' size (their text; Paimon gives no per-column sizes, so the whole file counts).
 */
export function estimatePaimonBytes(files: { recordCount: number; fileSizeBytes: number }[], fields: NestedField[]): number {
  const perRow = fields.reduce((n, f) => n + ((typeof f.type === 'string' ? FIXED[f.type] : undefined) ?? 16), 0);
  return files.reduce((n, f) => n + f.recordCount * perRow + f.fileSizeBytes * 2, 0);
}

/**
 * Throws Unsupported naming the Paimon table, the estimate and what to do when loading its version
 * (whole: every column of every live file) would exceed `budget` bytes. With `bucket` (a grid page's
 * one (partition, bucket) group, read whole), the message names the bucket instead.
 */
export function checkPaimonMemoryBudget(table: string, files: { recordCount: number; fileSizeBytes: number }[], fields: NestedField[], budget: number, bucket?: string): void {
  const estimate = estimatePaimonBytes(files, fields);
  if (estimate <= budget) return;
  const rows = files.reduce((n, f) => n + f.recordCount, 0);
  if (bucket !== undefined) {
    throw new TidemarkError(
      'Unsupported',
      `reading ${bucket} of Paimon table ${table} needs about ${gib(estimate)} of memory (${rows.toLocaleString('en-US')} rows in its files × ${fields.length} columns), over the engine's budget of ${gib(budget)}: a page reads its bucket whole (all its sorted runs merged), so raise the engine memory budget, or compact the table`,
      { table, estimateBytes: estimate, budgetBytes: budget },
    );
  }
  throw new TidemarkError(
    'Unsupported',
    `loading Paimon table ${table} needs about ${gib(estimate)} of memory (${rows.toLocaleString('en-US')} rows in its files × ${fields.length} columns), over the engine's budget of ${gib(budget)}: Paimon versions are loaded whole, so choose an older snapshot with fewer rows, or raise the engine memory budget`,
    { table, estimateBytes: estimate, budgetBytes: budget },
  );
}

/**
 * Throws Unsupported naming the table, the estimate and what to do when a query's table data would
 * exceed `budget` bytes.
 */
export function checkMemoryBudget(table: string, plan: ScanPlan, fields: NestedField[], budget: number, hasFilter: boolean): void {
  const estimate = estimateVersionBytes(plan, fields);
  if (estimate <= budget) return;
  const rows = plan.files.reduce((n, f) => n + f.recordCount, 0);
  const advice = [
    hasFilter ? 'narrow the WHERE clause' : 'add a WHERE clause on a partition or key column (e.g. id = 42, day = \'2024-01-01\'): files and row groups it rules out are not read',
    fields.length > 1 ? `select fewer columns (${fields.length} are read: ${fields.map((f) => f.name).slice(0, 6).join(', ')}${fields.length > 6 ? ', …' : ''})` : null,
    'or raise the engine memory budget',
  ].filter((x): x is string => x !== null);
  throw new TidemarkError(
    'Unsupported',
    `query needs about ${gib(estimate)} of memory for ${table} (${rows.toLocaleString('en-US')} rows × ${fields.length} columns), over the engine's budget of ${gib(budget)}: ${advice.join('; ')}`,
    { table, estimateBytes: estimate, budgetBytes: budget },
  );
}
