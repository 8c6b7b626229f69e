/**
 * Lazy reads of Iceberg table versions without DuckDB: grid windows and exact live counts that
 * read only row groups, columns and delete keys they need (version-rows.ts). One reader per engine
 * (or per CLI command): its caches are shared by every version it opens. Browser-safe.
 */
import { TidemarkError } from '../../errors';
import type { NestedField } from '../../lake/model';
import { planScan, type ScanPlan } from '../../lake/scan-plan';
import { loadTable, type LoadedTable, type SnapshotSelector } from '../../lake/table';
import type { StoragePort } from '../../storage';
import type { ParquetApi } from '../parquet';
import { RowGroupCache, type RowGroupCacheStats } from './row-group-cache';
import { LiveMaskCache, VersionRows } from './version-rows';

export interface LazyReaderDeps {
  parquet: ParquetApi;
  storage: StoragePort;
  /** Plans a version (the engine passes its plan cache); default: planScan. */
  plan?(table: LoadedTable, selector: SnapshotSelector): Promise<ScanPlan>;
  /** Bound on decoded row-group columns kept in memory, in bytes. */
  cacheBytes?: number;
}

export interface LazyWindow {
  columns: NestedField[];
  rows: unknown[][];
  /** Exact live rows when `totalPending` is false; else the records before deletes (an upper bound). */
  totalRows: number;
  /** True while the exact count of a version with deletes is not known yet (call count()). */
  totalPending: boolean;
  plan: ScanPlan;
}

export interface LazyReader {
  /** The version's lazy rows (cached per metadata file and snapshot). */
  version(table: string | LoadedTable, selector?: SnapshotSelector): Promise<VersionRows>;
  /** Live rows [offset, offset + limit) in file order, top-level `columns` by name (default all). */
  window(table: string | LoadedTable, selector: SnapshotSelector, offset: number, limit: number, columns?: string[]): Promise<LazyWindow>;
  /** Exact live row count of a version. */
  count(table: string | LoadedTable, selector?: SnapshotSelector): Promise<number>;
  readonly stats: RowGroupCacheStats;
  /**
   * Lazy rows of a version already planned (e.g. with a filter: its files and the deletes applying
   * to them); not kept, but sharing the reader's caches.
   */
  rowsOf(plan: ScanPlan): VersionRows;
  /** The decoded row groups behind the reader (row diff and key history read through it too). */
  readonly cache: RowGroupCache;
}

/** Versions kept (each holds its plan, its delete index once loaded, and its count). */
const MAX_VERSIONS = 16;

export function createLazyReader(deps: LazyReaderDeps): LazyReader {
  const cache = new RowGroupCache(deps.parquet, deps.storage, deps.cacheBytes);
  const masks = new LiveMaskCache();
  const versions = new Map<string, Promise<VersionRows>>();
  const plan = deps.plan ?? ((t: LoadedTable, s: SnapshotSelector) => planScan(deps.storage, t, s));

  async function version(table: string | LoadedTable, selector: SnapshotSelector = {}): Promise<VersionRows> {
    const loaded = typeof table === 'string' ? await loadTable(deps.storage, table) : table;
    const key = JSON.stringify([loaded.metadataFile, selector.snapshotId?.toString() ?? null, selector.asOfTimestampMs ?? null, selector.ref ?? null]);
    let p = versions.get(key);
    if (p) {
      versions.delete(key);
      versions.set(key, p);
      return p;
    }
    p = plan(loaded, { snapshotId: selector.snapshotId, asOfTimestampMs: selector.asOfTimestampMs, ref: selector.ref }).then((planned) => new VersionRows(cache, masks, planned));
    versions.set(key, p);
    p.catch(() => versions.delete(key));
    if (versions.size > MAX_VERSIONS) versions.delete(versions.keys().next().value!);
    return p;
  }

  return {
    version,
    async window(table, selector, offset, limit, columns) {
      const v = await version(table, selector);
      const schema = v.plan.schema;
      const fields = columns
        ? columns.map((name) => {
            const f = schema.fields.find((x) => x.name === name);
            if (!f) throw new TidemarkError('InvalidInput', `unknown column ${JSON.stringify(name)}; columns: ${schema.fields.map((x) => x.name).join(', ')}`, { column: name });
            return f;
          })
        : schema.fields;
      const rows = await v.window(fields, Math.max(0, Math.floor(offset)), Math.max(0, Math.floor(limit)));
      const known = v.knownCount();
      return { columns: fields, rows, totalRows: known ?? v.recordTotal, totalPending: known === null, plan: v.plan };
    },
    async count(table, selector = {}) {
      return (await version(table, selector)).count();
    },
    stats: cache.stats,
    rowsOf: (planned) => new VersionRows(cache, masks, planned),
    cache,
  };
}
