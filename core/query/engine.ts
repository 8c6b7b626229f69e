/**
 * The query engine: DuckDB-wasm over the lake's scan plans. Works wherever a SqlSession, the
 * parquet-wasm module and a storage port exist (Node, renderer).
 */
import { TidemarkError } from '../errors';
import type { NestedField, Schema } from '../lake';
import { openScanPlan, planScan, type IncrementalScanPlan, type ManifestCache, type PlanOptions, type ScanPlan } from '../lake';
import { loadTable, parseDate, parseTimestamp, parseTimestampNanos, type LoadedTable, type TimeUnit } from '../lake';
import type { StoragePort } from '../storage';
import type { ResultSet } from './arrow-values';
import { quoteIdent, type SqlSession } from './duckdb';
import type { ParquetApi } from './parquet';
import type { ScanFilter } from '../lake';
import { AGGREGATE_BATCH_BYTES, DEFAULT_MEMORY_BUDGET_BYTES, estimateVersionBytes } from './memory-budget';
import { buildMaskedView } from './masked-view';
import { buildScanView, FileLoader, nextObjectName, type FieldPredicate, type LoadProgress } from './scan-view';
import { createLazyReader, type LazyReader } from './pages/reader';
import type { VersionRows } from './pages/version-rows';
import type { SnapshotSelector } from '../lake';

export interface QueryEngineDeps {
  session: SqlSession;
  parquet: ParquetApi;
  storage: StoragePort;
  /** Told after each data file of a table version is loaded (a 10M-row version takes seconds). */
  onLoadProgress?(progress: LoadProgress): void;
  /** Memory a console query's table data may take (default DEFAULT_MEMORY_BUDGET_BYTES, 1.5 GiB). */
  memoryBudgetBytes?: number;
  /**
   * Estimated table data one batch of a console aggregation loads (default AGGREGATE_BATCH_BYTES,
   * 64 MiB; core/query/sql-batches.ts).
   */
  aggregateBatchBytes?: number;
  /** Bound on decoded row-group columns the lazy grid reader keeps, in bytes. */
  rowGroupCacheBytes?: number;
  /**
   * The lazy reader to share (the renderer starts one before DuckDB-wasm is up, so that the grid's
   * first page does not wait for it); default: one of the engine's own, planning through its cache.
   */
  lazyReader?: LazyReader;
}

export interface ViewOptions extends PlanOptions {
  /** Top-level columns to expose (default: all). */
  columns?: string[];
  /** Read the snapshot in this schema instead of its own (row diff compares in the newer schema). */
  schema?: Schema;
  /**
   * Register a (lazy) view instead of materializing the merged rows: for selective queries
   * (one key) over many versions, where materializing each version would cost memory for nothing.
   */
  lazy?: boolean;
}

/**
 * How many full-pass table versions stay registered; the least recently used is dropped beyond
 * that, or while those kept are estimated above a quarter of the memory budget (the newest always
 * stays): DuckDB-wasm's memory never shrinks, so what stays loaded adds to every later peak.
 */
export const MAX_MATERIALIZED_VERSIONS = 6;

/** Filtered plans kept (key history plans one per snapshot and key; each holds few files). */
const MAX_FILTERED_PLANS = 256;

/** Incremental plans kept (each holds its decoded manifests' files). */
const MAX_OPENED_PLANS = 64;

/** Decoded manifests the engine keeps (a manifest of one append is a few KiB decoded). */
const MAX_CACHED_MANIFESTS = 4096;

export interface RegisteredView {
  /** A table (materialized merged rows) or, with `lazy`, a view. */
  view: string;
  materialized: boolean;
  plan: ScanPlan;
  columns: NestedField[];
}

export interface ScanPage {
  columns: NestedField[];
  rows: unknown[][];
}

export interface ScanQueryOptions extends ViewOptions {
  limit?: number;
  offset?: number;
}

export interface QueryEngine {
  readonly session: SqlSession;
  readonly storage: StoragePort;
  /** The engine's Parquet loads, shared by every view (a file read for one version serves the next). */
  readonly files: FileLoader;
  /** A version's scan plan (cached per metadata file and selector; manifests decoded once). */
  plan(table: LoadedTable, options?: PlanOptions): Promise<ScanPlan>;
  /** Bytes a console query's table data may take (core/query/memory-budget.ts); see setMemoryBudget. */
  readonly memoryBudgetBytes: number;
  /**
   * Changes the memory budget (the user's setting, read after the engine started): later queries
   * are checked against it; versions already loaded stay until evicted under the new bound.
   * InvalidInput unless a positive number of bytes.
   */
  setMemoryBudget(bytes: number): void;
  /** Estimated bytes of table data per batch of a console aggregation run in batches. */
  readonly aggregateBatchBytes: number;
  /** Opens a table root (cached per call site by the caller). */
  loadTable(root: string): Promise<LoadedTable>;
  /** Plans a table at a snapshot and registers it as a merge-on-read view (cached per version). */
  registerView(table: string | LoadedTable, options?: ViewOptions): Promise<RegisteredView>;
  /**
   * Live row count at a snapshot: from the manifests when no delete applies, else from positions
   * and equality key columns only (never a merged version); with a filter, by merge-on-read.
   */
  count(table: string | LoadedTable, options?: PlanOptions): Promise<number>;
  /** Rows at a snapshot, in file order, paged. */
  scan(table: string | LoadedTable, options?: ScanQueryOptions): Promise<ScanPage>;
  /**
   * Live rows [offset, offset + limit) of a version in file order, reading only the row groups
   * that hold them, only the asked columns, and only the deletes that apply to them (the grid's
   * unsorted pages). The exact total may still be pending when deletes apply: see `count`.
   */
  window(table: string | LoadedTable, options: SnapshotSelector & { columns?: string[] }, offset: number, limit: number): Promise<VersionWindow>;
  /** The lazy reader behind `window` and `count` (its caches are the engine's). */
  readonly lazy: LazyReader;
  /**
   * Drops a full-pass version registered before (its view, dead rows and loaded files) at once
   * instead of when it is evicted: for one-pass work over many versions or columns (statistics).
   * A later registerView of it builds it again. Lazy views are kept.
   */
  dropView(view: string): Promise<void>;
  /**
   * A view over exactly `plan`'s data files (a part of a version, for queries run in batches), not
   * cached: `drop` removes it and releases its loaded files at once. `rows`: the whole version's
   * lazy rows (lazy.rowsOf(whole plan)), so that its delete index is loaded once for all parts.
   */
  viewOfPlan(plan: ScanPlan, options: { columns?: string[]; filter?: ScanFilter; rows?: VersionRows }): Promise<{ view: string; drop(): Promise<void> }>;
  /** Runs SQL as is (views registered before are visible). */
  query(sql: string): Promise<ResultSet>;
  close(): Promise<void>;
}

export interface VersionWindow {
  columns: NestedField[];
  rows: unknown[][];
  /** Live rows in the version; while `totalPending`, the records before deletes (an upper bound). */
  totalRows: number;
  /** True when deletes apply and the exact count is not known yet. */
  totalPending: boolean;
  /** The version's table, snapshot and schema (its data manifests may not all be read yet). */
  plan: Pick<ScanPlan, 'table' | 'snapshot' | 'schema'>;
}

export function createQueryEngine(deps: QueryEngineDeps): QueryEngine {
  const loader = new FileLoader(deps.session, deps.parquet, deps.storage);
  const views = new Map<string, Promise<RegisteredView>>();
  const lazyReader =
    deps.lazyReader ??
    createLazyReader({
      parquet: deps.parquet,
      storage: deps.storage,
      openPlan: (loaded, selector) => openedPlan(loaded, selector),
      cacheBytes: deps.rowGroupCacheBytes,
    });
  /** Estimated DuckDB bytes of each full-pass version (by view key), and the bound of those kept. */
  const versionBytes = new Map<string, number>();
  let budget = checkedBudget(deps.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES);
  const retainedBytes = () => budget / 4;
  /** Drops a full-pass version's view, its dead-row table and its loaded files (by view name). */
  const releases = new Map<string, () => Promise<void>>();
  /** Keys of lazy views: they hold no rows, so they never count against the materialized budget. */
  const lazyKeys = new Set<string>();
  // Metadata files are immutable, so a plan is fixed by (metadata file, selector): paging through a
  // table re-reads only the small metadata JSON, not the manifests.
  const plans = new Map<string, Promise<ScanPlan>>();
  /** Keys of filtered plans in `plans`, oldest first. */
  const filteredPlans: string[] = [];

  // Decoded manifests, shared by every plan of the engine (a table's snapshots share most of them).
  const manifests: ManifestCache = new Map();
  const manifestCache = (): ManifestCache => {
    // Oldest first in a Map: beyond the bound, the least recently added go.
    for (const k of manifests.keys()) {
      if (manifests.size <= MAX_CACHED_MANIFESTS) break;
      manifests.delete(k);
    }
    return manifests;
  };

  // Incremental plans by (metadata file, selector): the grid's pages read their data manifests as
  // they need them; a complete plan of the same version (a view, a count) completes the same one.
  const opened = new Map<string, Promise<IncrementalScanPlan>>();
  function openedPlan(loaded: LoadedTable, options: SnapshotSelector): Promise<IncrementalScanPlan> {
    const key = JSON.stringify([loaded.metadataFile, options.snapshotId?.toString() ?? null, options.asOfTimestampMs ?? null, options.ref ?? null]);
    let p = opened.get(key);
    if (p) {
      opened.delete(key);
      opened.set(key, p);
      return p;
    }
    p = openScanPlan(deps.storage, loaded, { snapshotId: options.snapshotId, asOfTimestampMs: options.asOfTimestampMs, ref: options.ref, manifestCache: manifestCache() });
    opened.set(key, p);
    p.catch(() => opened.delete(key));
    if (opened.size > MAX_OPENED_PLANS) opened.delete(opened.keys().next().value!);
    return p;
  }

  function cachedPlan(loaded: LoadedTable, options: PlanOptions): Promise<ScanPlan> {
    // A filter prunes files: its plan is kept under the filter too (the SQL console plans a filtered
    // version to check the memory budget, then registers it), a bounded number of them.
    const filterKey = options.filter ? JSON.stringify(options.filter, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) : null;
    const key = JSON.stringify([loaded.metadataFile, options.snapshotId?.toString() ?? null, options.asOfTimestampMs ?? null, options.ref ?? null, filterKey]);
    let p = plans.get(key);
    if (!p) {
      p =
        filterKey === null
          ? openedPlan(loaded, options).then((o) => o.complete())
          : planScan(deps.storage, loaded, { snapshotId: options.snapshotId, asOfTimestampMs: options.asOfTimestampMs, ref: options.ref, filter: options.filter, manifestCache: manifestCache() });
      plans.set(key, p);
      p.catch(() => plans.delete(key));
      if (filterKey !== null) filteredPlans.push(key);
      while (filteredPlans.length > MAX_FILTERED_PLANS) plans.delete(filteredPlans.shift()!);
    }
    return p;
  }

  /** A version's plan, read in `options.schema` when given (a copy: the cached plan stays as planned). */
  async function versionPlan(table: string | LoadedTable, options: ViewOptions): Promise<{ loaded: LoadedTable; plan: ScanPlan }> {
    const loaded = typeof table === 'string' ? await loadTable(deps.storage, table) : table;
    const plan = { ...(await cachedPlan(loaded, options)) };
    if (options.schema) plan.schema = options.schema;
    return { loaded, plan };
  }

  async function registerView(table: string | LoadedTable, options: ViewOptions = {}): Promise<RegisteredView> {
    const { loaded, plan } = await versionPlan(table, options);
    // A version is defined by the metadata file (the table version), the snapshot, schema and columns.
    const lazy = options.lazy === true;
    // A filter prunes files from the plan, so a filtered version is a different (partial) relation.
    const filterKey = options.filter ? JSON.stringify(options.filter, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) : null;
    const key = JSON.stringify([loaded.metadataFile, plan.snapshot?.snapshotId.toString() ?? null, plan.schema.schemaId, options.schema ? 'override' : '', options.columns ?? null, lazy, filterKey]);
    let p = views.get(key);
    if (p) {
      // Most recently used last: Map iteration order is the eviction order.
      views.delete(key);
      views.set(key, p);
      return p;
    }
    p = (async () => {
      const prune = options.filter ? fieldPredicates(plan.schema, options.filter) : [];
      if (lazy) {
        const built = await buildScanView(loader, plan, options.columns, deps.onLoadProgress, prune);
        const view = nextObjectName('tm_view');
        await deps.session.query(`CREATE OR REPLACE VIEW ${quoteIdent(view)} AS ${built.sql}`);
        return { view, plan, columns: built.columns, materialized: false };
      }
      // A full pass: deletes resolved by the lazy reader's live masks, nothing materialized.
      const built = await buildMaskedView(deps.session, loader, lazyReader, plan, plan.schema, options.columns, deps.onLoadProgress, prune);
      const view = nextObjectName('tm_version');
      const release = async () => {
        await deps.session.query(`DROP VIEW IF EXISTS ${quoteIdent(view)};${built.dead ? ` DROP TABLE IF EXISTS ${quoteIdent(built.dead)};` : ''}`);
        await loader.release(built.fileKeys);
      };
      try {
        await deps.session.query(`CREATE OR REPLACE VIEW ${quoteIdent(view)} AS ${built.sql}`);
      } catch (e) {
        await release();
        throw e;
      }
      releases.set(view, release);
      return { view, plan, columns: built.columns, materialized: true };
    })();
    views.set(key, p);
    if (lazy) lazyKeys.add(key);
    else versionBytes.set(key, estimateVersionBytes(plan, options.columns ? plan.schema.fields.filter((f) => options.columns!.includes(f.name)) : plan.schema.fields));
    p.catch(() => views.delete(key));
    await evict();
    return p;
  }

  async function evict() {
    const materialized = [...views.entries()].filter(([k]) => !lazyKeys.has(k));
    // Oldest first; the newest is always kept. Beyond the count or the bytes bound, the rest go.
    const bytesOf = (k: string) => versionBytes.get(k) ?? 0;
    let drop = Math.max(0, materialized.length - MAX_MATERIALIZED_VERSIONS);
    let bytes = materialized.slice(drop).reduce((n, [k]) => n + bytesOf(k), 0);
    while (drop < materialized.length - 1 && bytes > retainedBytes()) bytes -= bytesOf(materialized[drop++]![0]);
    for (const [k, p] of materialized.slice(0, drop)) {
      versionBytes.delete(k);
      views.delete(k);
      const v = await p.catch(() => null);
      const release = v ? releases.get(v.view) : undefined;
      if (v) releases.delete(v.view);
      await release?.();
    }
  }

  return {
    session: deps.session,
    storage: deps.storage,
    files: loader,
    plan: (table, options = {}) => cachedPlan(table, options),
    get memoryBudgetBytes() {
      return budget;
    },
    setMemoryBudget(bytes) {
      budget = checkedBudget(bytes);
    },
    aggregateBatchBytes: deps.aggregateBatchBytes ?? AGGREGATE_BATCH_BYTES,
    loadTable: (root) => loadTable(deps.storage, root),
    registerView,
    async count(table, options = {}) {
      if (!options.filter) return lazyReader.count(table, options);
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
    window: (table, options, offset, limit) => lazyReader.window(table, options, offset, limit, options.columns),
    lazy: lazyReader,
    async dropView(view) {
      const release = releases.get(view);
      if (!release) return;
      releases.delete(view);
      for (const [k, p] of views) {
        if (lazyKeys.has(k)) continue;
        if ((await p.catch(() => null))?.view === view) views.delete(k);
      }
      await release();
    },
    async viewOfPlan(plan, options) {
      const prune = options.filter ? fieldPredicates(plan.schema, options.filter) : [];
      const built = await buildMaskedView(deps.session, loader, lazyReader, plan, plan.schema, options.columns, deps.onLoadProgress, prune, options.rows);
      const view = nextObjectName('tm_part');
      const drop = async () => {
        await deps.session.query(`DROP VIEW IF EXISTS ${quoteIdent(view)};${built.dead ? ` DROP TABLE IF EXISTS ${quoteIdent(built.dead)};` : ''}`);
        await loader.release(built.fileKeys);
      };
      try {
        await deps.session.query(`CREATE OR REPLACE VIEW ${quoteIdent(view)} AS ${built.sql}`);
      } catch (e) {
        await drop();
        throw e;
      }
      return { view, drop };
    },
    query: (sql) => deps.session.query(sql),
    close: () => deps.session.close(),
  };
}

function checkedBudget(bytes: number): number {
  if (!Number.isFinite(bytes) || bytes <= 0) throw new TidemarkError('InvalidInput', `memory budget: expected a positive number of bytes, got ${bytes}`, { memoryBudgetBytes: bytes });
  return bytes;
}

/**
 * The filter's comparisons on integer, date and timestamp columns, by field id, for row-group
 * pruning: their Parquet statistics are exact integers (a date is INT32 days since 1970-01-01, so
 * its canonical 'YYYY-MM-DD' compares as its day number; a timestamp is INT64 µs — ns for the v3
 * _ns types — since the epoch, pruned on only in files that store it in that unit); other types
 * are filtered by SQL only.
 */
export function fieldPredicates(schema: Schema, filter: ScanFilter): FieldPredicate[] {
  const out: FieldPredicate[] = [];
  for (const p of filter) {
    if (!('value' in p)) continue;
    const field = schema.fields.find((f) => f.name === p.column);
    if (field?.type === 'date' && typeof p.value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(p.value) && !Number.isNaN(Date.parse(`${p.value}T00:00:00Z`))) {
      out.push({ fieldId: field.id, op: p.op, value: parseDate(p.value) });
      continue;
    }
    const unit = field && typeof p.value === 'string' ? TIMESTAMP_UNITS[field.type as string] : undefined;
    if (field && unit) {
      const value = timestampValue(p.value as string, unit);
      if (value !== null) out.push({ fieldId: field.id, op: p.op, value, timeUnit: unit });
      continue;
    }
    if (!field || (field.type !== 'int' && field.type !== 'long')) continue;
    if (typeof p.value === 'bigint' || (typeof p.value === 'number' && Number.isInteger(p.value))) out.push({ fieldId: field.id, op: p.op, value: p.value });
  }
  return out;
}

/** The Parquet unit of each Iceberg timestamp type's values (spec "Parquet" type mapping). */
const TIMESTAMP_UNITS: Record<string, TimeUnit> = { timestamp: 'micros', timestamptz: 'micros', timestamp_ns: 'nanos', timestamptz_ns: 'nanos' };

/** A canonical timestamp as its integer in `unit`, or null when the text is not one. */
function timestampValue(text: string, unit: TimeUnit): bigint | null {
  try {
    return unit === 'nanos' ? parseTimestampNanos(text) : parseTimestamp(text);
  } catch {
    return null;
  }
}
