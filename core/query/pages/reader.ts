/**
 * Lazy reads of Iceberg table versions without DuckDB: grid windows and exact live counts that
 * read only row groups, columns and delete keys they need (version-rows.ts). One reader per engine
 * (or per CLI command): its caches are shared by every version it opens. Browser-safe.
 */
import { TidemarkError } from '../../errors';
import type { NestedField } from '../../lake';
import { openScanPlan, type IncrementalScanPlan, type ManifestCache, type ScanPlan } from '../../lake';
import { loadTable, type LoadedTable, type SnapshotSelector } from '../../lake';
import type { StoragePort } from '../../storage';
import type { ParquetApi } from '../parquet';
import type { GridFilter, GridSort } from './grid-keys';
import { buildOrderedRows, fieldByName, reverseOrderedRows, type OrderedRows, type OrderedStats } from './ordered-rows';
import { RowGroupCache, type RowGroupCacheStats } from './row-group-cache';
import { LiveMaskCache } from './live-masks';
import { recordsOf, VersionRows } from './version-rows';

export interface LazyReaderDeps {
  parquet: ParquetApi;
  storage: StoragePort;
  /**
   * Opens a version's incremental plan (the engine passes its cache, shared with its own plans);
   * default: openScanPlan with a manifest cache of the reader's own.
   */
  openPlan?(table: LoadedTable, selector: SnapshotSelector): Promise<IncrementalScanPlan>;
  /** Bound on decoded row-group columns kept in memory, in bytes. */
  cacheBytes?: number;
  /** Bound on live-row masks kept, in bytes (a byte per row of a file with deletes); default 128 MiB. */
  liveMaskBytes?: number;
  /**
   * How long (ms) a table's metadata, once read, answers for its current version; default 0 (read
   * it on every call). The renderer, which reads it over HTTP, uses BROWSER_METADATA_REUSE_MS.
   */
  metadataReuseMs?: number;
  /** Clock for the metadata reuse window (tests inject one); default Date.now. */
  now?(): number;
  /** Counts files and row groups read and pruned by orderedWindow (tests, bench). */
  orderStats?: OrderedStats;
  /** See VersionRows' withinFraction (tests set 1 to mask every file from its key range's pages). */
  equalityWithinFraction?: number;
}

export interface LazyWindow {
  columns: NestedField[];
  rows: unknown[][];
  /** Exact live rows when `totalPending` is false; else the records before deletes (an upper bound). */
  totalRows: number;
  /** True while the exact count of a version with deletes is not known yet (call count()). */
  totalPending: boolean;
  /** The version's plan: table, snapshot and schema (its data files may not all be read yet). */
  plan: Pick<ScanPlan, 'table' | 'snapshot' | 'schema'>;
}

export interface LazyReader {
  /** The version's lazy rows with its plan complete (cached per metadata file and snapshot). */
  version(table: string | LoadedTable, selector?: SnapshotSelector): Promise<VersionRows>;
  /**
   * Live rows [offset, offset + limit) in file order, top-level `columns` by name, or the first N
   * (a number: the grid's columns in view), default all.
   */
  window(table: string | LoadedTable, selector: SnapshotSelector, offset: number, limit: number, columns?: string[] | number): Promise<LazyWindow>;
  /** Exact live row count of a version. */
  count(table: string | LoadedTable, selector?: SnapshotSelector): Promise<number>;
  /**
   * Live rows matching `filters` in `sort` order (file order when empty), [offset, offset + limit),
   * top-level `columns` by name (default all); the total is exact. The order is built once per
   * version, sort and filters (sort/filter columns and row positions only) and kept for paging.
   */
  orderedWindow(table: string | LoadedTable, selector: SnapshotSelector, order: { sort: GridSort[]; filters: GridFilter[] }, offset: number, limit: number, columns?: string[]): Promise<LazyWindow>;
  readonly stats: RowGroupCacheStats;
  /**
   * Lazy rows of a version already planned (e.g. with a filter: its files and the deletes applying
   * to them); not kept, but sharing the reader's caches.
   */
  rowsOf(plan: ScanPlan): VersionRows;
  /** The decoded row groups behind the reader (row diff and key history read through it too). */
  readonly cache: RowGroupCache;
  /** Forgets a table's reused metadata: the next call reads it again (after a commit made here). */
  forget(root: string): void;
}

/** The renderer's metadata reuse window: a commit shows in the grid at most this late (ms). */
export const BROWSER_METADATA_REUSE_MS = 3000;
/** Versions kept (each holds its plan, its delete index once loaded, and its count). */
const MAX_VERSIONS = 16;
/** Rows a columns-only call reads ahead for the rows call that follows it (the grid's page: 200 rows). */
const FIRST_ROWS_PREFETCH = 200;
/** Orders kept (8 bytes per matching row each: 80 MB for 10M rows). */
const MAX_ORDERS = 3;
/** Decoded manifests a reader without the engine's cache keeps (a manifest of one append is a few KiB decoded). */
const MAX_CACHED_MANIFESTS = 4096;

export function createLazyReader(deps: LazyReaderDeps): LazyReader {
  const cache = new RowGroupCache(deps.parquet, deps.storage, deps.cacheBytes);
  const masks = new LiveMaskCache(deps.liveMaskBytes);
  const versions = new Map<string, Promise<VersionRows>>();
  const manifests: ManifestCache = new Map();
  const openPlan =
    deps.openPlan ??
    ((t: LoadedTable, s: SnapshotSelector) => {
      // Oldest first in a Map: beyond the bound, the least recently added go.
      for (const k of manifests.keys()) {
        if (manifests.size <= MAX_CACHED_MANIFESTS) break;
        manifests.delete(k);
      }
      return openScanPlan(deps.storage, t, { ...s, manifestCache: manifests });
    });
  const orders = new Map<string, Promise<OrderedRows>>();
  /** Settled entries of `orders` (same keys). */
  const built = new Map<string, OrderedRows>();
  const versionKey = (loaded: LoadedTable, selector: SnapshotSelector) => JSON.stringify([loaded.metadataFile, selector.snapshotId?.toString() ?? null, selector.asOfTimestampMs ?? null, selector.ref ?? null]);
  const fieldsOf = (v: VersionRows, columns?: string[]) => (columns ? columns.map((name) => fieldByName(v.plan.schema.fields, name, 'columns')) : v.plan.schema.fields);

  // With `metadataReuseMs`, a table's metadata read in the last moment is reused: opening a table
  // asks for its first page, its rows and its count at once, and over HTTP each read of the
  // metadata is three round trips.
  const recent = new Map<string, { at: number; table: Promise<LoadedTable> }>();
  const now = deps.now ?? (() => Date.now());
  const reuseMs = deps.metadataReuseMs ?? 0;
  function load(root: string): Promise<LoadedTable> {
    if (reuseMs <= 0) return loadTable(deps.storage, root);
    const hit = recent.get(root);
    if (hit && now() - hit.at < reuseMs) return hit.table;
    const table = loadTable(deps.storage, root);
    recent.set(root, { at: now(), table });
    table.catch(() => recent.delete(root));
    if (recent.size > MAX_VERSIONS) recent.delete(recent.keys().next().value!);
    return table;
  }

  /** The version's lazy rows, its plan possibly still incomplete (the grid's first page needs little of it). */
  async function openVersion(table: string | LoadedTable, selector: SnapshotSelector = {}): Promise<VersionRows> {
    const loaded = typeof table === 'string' ? await load(table) : table;
    const key = versionKey(loaded, selector);
    let p = versions.get(key);
    if (p) {
      versions.delete(key);
      versions.set(key, p);
      return p;
    }
    p = openPlan(loaded, { snapshotId: selector.snapshotId, asOfTimestampMs: selector.asOfTimestampMs, ref: selector.ref }).then((opened) => new VersionRows(cache, masks, opened, deps.equalityWithinFraction));
    versions.set(key, p);
    p.catch(() => versions.delete(key));
    if (versions.size > MAX_VERSIONS) versions.delete(versions.keys().next().value!);
    return p;
  }

  async function version(table: string | LoadedTable, selector: SnapshotSelector = {}): Promise<VersionRows> {
    const v = await openVersion(table, selector);
    await v.complete();
    return v;
  }

  return {
    forget(root) {
      recent.delete(root);
    },
    version,
    async window(table, selector, offset, limit, columns) {
      const v = await openVersion(table, selector);
      const schema = v.source.schema;
      const fields = typeof columns === 'number'
        ? schema.fields.slice(0, Math.max(1, columns))
        : columns
        ? columns.map((name) => {
            const f = schema.fields.find((x) => x.name === name);
            if (!f) throw new TidemarkError('InvalidInput', `unknown column ${JSON.stringify(name)}; columns: ${schema.fields.map((x) => x.name).join(', ')}`, { column: name });
            return f;
          })
        : schema.fields;
      if (limit <= 0 && offset <= 0) {
        // A call for the columns and total only (the grid's first call) is followed by one for the
        // first rows: start reading them now (footers, deletes' pages, column pages), unawaited.
        v.window(fields, 0, FIRST_ROWS_PREFETCH).catch(() => undefined); // the rows call reports errors
      }
      const rows = await v.window(fields, Math.max(0, Math.floor(offset)), Math.max(0, Math.floor(limit)));
      const known = v.knownCount();
      // Without the manifest list's record counts (format v1), the upper bound needs every manifest.
      const total = known ?? v.recordTotal() ?? recordsOf(await v.complete());
      return { columns: fields, rows, totalRows: total, totalPending: v.knownCount() === null, plan: v.source };
    },
    async count(table, selector = {}) {
      return (await version(table, selector)).count();
    },
    async orderedWindow(table, selector, order, offset, limit, columns) {
      const loaded = typeof table === 'string' ? await load(table) : table;
      const v = await version(loaded, selector);
      const fields = fieldsOf(v, columns);
      const key = JSON.stringify([versionKey(loaded, selector), order.sort, order.filters]);
      let p = orders.get(key);
      if (p) orders.delete(key);
      else {
        // The same column in the other direction, already ordered: reversed by runs, not rebuilt.
        const flipped = order.sort.length === 1 ? built.get(JSON.stringify([versionKey(loaded, selector), [{ ...order.sort[0]!, desc: !order.sort[0]!.desc }], order.filters])) : undefined;
        const made = flipped?.runs ? Promise.resolve(reverseOrderedRows(v, flipped)) : buildOrderedRows(v, cache, order.sort, order.filters, deps.orderStats);
        made.then(
          (o) => {
            // Not when evicted meanwhile: `built` holds only entries `orders` still has.
            if (orders.get(key) === made) built.set(key, o);
          },
          () => orders.delete(key),
        );
        p = made;
      }
      orders.set(key, p);
      if (orders.size > MAX_ORDERS) {
        const oldest = orders.keys().next().value!;
        orders.delete(oldest);
        built.delete(oldest);
      }
      const ordered = await p;
      const rows = await ordered.window(fields, offset, limit);
      return { columns: fields, rows, totalRows: ordered.total, totalPending: false, plan: v.plan };
    },
    stats: cache.stats,
    rowsOf: (planned) => VersionRows.ofPlan(cache, masks, planned, deps.equalityWithinFraction),
    cache,
  };
}
