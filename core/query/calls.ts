/**
 * The query.* calls of the contract over one query engine, browser-safe: the renderer answers them
 * with its own DuckDB-wasm engine (reading lake bytes through the storage port), and the main
 * process answers the same calls for the CLI's server mode and as the fallback engine. One
 * implementation, so both answer alike. query.export is not here: it writes a file, which only the
 * main process may do.
 */
import type { EngineCallName } from '../api';
import type { HandlerTable } from '../api';
import { paimonSelectorOf, readPaimonSchema, resolvePaimonSnapshot } from '../lake/paimon';
import { loadTable, type SnapshotSelector } from '../lake';
import { requireTableFormat, type TableFormat } from '../lake';
import type { StoragePort } from '../storage';
import { readColumnStats, readVersionStats } from './column-stats';
import { withTable } from './errors';
import { quoteIdent } from './duckdb';
import type { QueryEngine } from './engine';
import { readKeyHistory } from './key-history';
import type { LazyReader } from './pages/reader';
import { icebergPageSource, readIcebergWindow, readPage, runSql, type PageSource } from './page';
import { DEFAULT_MEMORY_BUDGET_BYTES } from './memory-budget';
import { openPaimonPages, paimonColumnType, paimonGridRows, type PaimonVersionPages } from './pages/paimon-pages';
import { registerPaimonView } from './paimon-view';
import { diffRows } from './row-diff';
import { diffSchemas, readSchemaVersion } from './schema-diff';
import { openTableSource } from './table-source';

export type QueryCalls = Pick<HandlerTable, EngineCallName>;

export interface QueryCallDeps {
  storage: StoragePort;
  /** The engine, created on first use (DuckDB-wasm takes a second or two to start). */
  engine(): Promise<QueryEngine>;
  /**
   * The lazy reader for Iceberg grid pages and counts, when it can start before the engine (the
   * renderer: parquet-wasm is up long before DuckDB-wasm); default: the engine's.
   */
  pages?(): Promise<LazyReader>;
  /** Makes a path from the caller absolute (Node's path.resolve in main; identity in the renderer). */
  resolvePath?(path: string): string;
  /**
   * The memory budget before any query.configure (main: the saved setting), for reads that do not
   * start the engine (Paimon grid pages); default DEFAULT_MEMORY_BUDGET_BYTES.
   */
  memoryBudgetBytes?(): Promise<number>;
}

/** Paimon versions kept open for paging (each holds its manifests' entries and up to 4 buckets' rows). */
const MAX_PAIMON_PAGES = 8;

export function createQueryCalls(deps: QueryCallDeps): QueryCalls {
  const abs = deps.resolvePath ?? ((p: string) => p);
  // The budget set by query.configure, applied when a call next uses the engine: configuring does
  // not start DuckDB-wasm (seconds, and memory) in a process whose engine may never be used.
  let budgetBytes: number | null = null;
  const engine = async () => {
    const e = await deps.engine();
    if (budgetBytes !== null && e.memoryBudgetBytes !== budgetBytes) e.setMemoryBudget(budgetBytes);
    return e;
  };
  // A table folder keeps its format: detect it once per path (saves a listing per page request).
  const formats = new Map<string, Promise<TableFormat>>();
  const formatOf = (path: string) => {
    let p = formats.get(path);
    if (!p) {
      p = requireTableFormat(deps.storage, path);
      formats.set(path, p);
      p.catch(() => formats.delete(path));
    }
    return p;
  };
  // Paimon versions loaded whole into DuckDB (sorted or filtered pages, stats): kept per (table,
  // selector) while paging.
  const paimonViews = new Map<string, Promise<PageSource>>();
  const paimonPageSource = async (e: QueryEngine, path: string, version: SnapshotSelector = {}) => {
    // Keyed by the snapshot the selector names now (file, id and commit time): after a commit, a
    // rollback (which reuses ids) or a moved tag, the same selector loads the new version.
    const snap = await resolvePaimonSnapshot(deps.storage, path, paimonSelectorOf(version));
    const key = JSON.stringify([path, version.snapshotId?.toString(), version.asOfTimestampMs, version.ref, snap?.file, snap?.id.toString(), snap?.timeMillis]);
    let p = paimonViews.get(key);
    if (!p) {
      p = registerPaimonView(e, path, paimonSelectorOf(version)).then((v) => ({
        relation: quoteIdent(v.view),
        columns: v.columns.map((c) => ({ name: c.name, type: c.type, sqlType: c.type })),
        snapshotId: v.snapshotId,
      }));
      paimonViews.set(key, p);
      p.catch(() => paimonViews.delete(key));
    }
    return p;
  };
  // Paimon grid pages and counts, bucket by bucket (pages/paimon-pages.ts): no DuckDB, and only the
  // buckets a page needs are read; sorted or filtered pages still load the version into DuckDB.
  const paimonPages = new Map<string, Promise<PaimonVersionPages>>();
  const budgetNow = async () => budgetBytes ?? (deps.memoryBudgetBytes ? await deps.memoryBudgetBytes() : DEFAULT_MEMORY_BUDGET_BYTES);
  const paimonPagesOf = async (path: string, version: SnapshotSelector = {}) => {
    const snap = await resolvePaimonSnapshot(deps.storage, path, paimonSelectorOf(version));
    const key = JSON.stringify([path, version.snapshotId?.toString(), version.asOfTimestampMs, version.ref, snap?.file, snap?.id.toString(), snap?.timeMillis]);
    let p = paimonPages.get(key);
    if (p) paimonPages.delete(key);
    else {
      const budget = await budgetNow();
      p = openPaimonPages(deps.storage, path, paimonSelectorOf(version), path, () => budgetBytes ?? budget);
      p.catch(() => paimonPages.delete(key));
    }
    paimonPages.set(key, p);
    if (paimonPages.size > MAX_PAIMON_PAGES) paimonPages.delete(paimonPages.keys().next().value!);
    return p;
  };
  const pageSource = async (path: string, version?: SnapshotSelector) => {
    const e = await engine();
    return (await formatOf(path)) === 'paimon' ? paimonPageSource(e, path, version) : icebergPageSource(e, path, version);
  };

  const pagesReader = async () => (deps.pages ? deps.pages() : (await engine()).lazy);

  /** Runs a call on one table; its errors say which table (and snapshot) failed. */
  const onTable = async <T>(action: string, path: string, version: SnapshotSelector | undefined, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw withTable(e, action, abs(path), version?.snapshotId ?? version?.ref ?? null);
    }
  };

  return {
    'query.page': ({ path, version, ...req }) =>
      onTable('read', path, version, async () => {
        // Iceberg pages, sorted and filtered or not, come from the row groups holding them. The
        // first page of a table does not wait for its format to be detected (two listings): it
        // starts as Iceberg (most tables) and is dropped if the folder is Paimon.
        const known = formats.has(abs(path));
        const iceberg = known ? null : pagesReader().then((reader) => readIcebergWindow(reader, abs(path), version ?? {}, req));
        iceberg?.catch(() => undefined); // read below when the table is Iceberg
        if ((await formatOf(abs(path))) === 'iceberg') return iceberg ?? readIcebergWindow(await pagesReader(), abs(path), version ?? {}, req);
        if (req.sort.length === 0 && req.filters.length === 0) {
          const w = await (await paimonPagesOf(abs(path), version)).window(req.offset, req.limit);
          return {
            columns: w.columns.map((c) => ({ name: c.name, type: paimonColumnType(c) })),
            rows: paimonGridRows(w.columns, w.rows),
            totalRows: w.totalRows,
            totalPending: w.totalPending,
            offset: req.offset,
            snapshotId: w.snapshotId,
          };
        }
        return readPage(await engine(), await pageSource(abs(path), version), req);
      }),
    'query.configure': async ({ memoryBudgetMiB }) => {
      budgetBytes = memoryBudgetMiB * 2 ** 20;
      return { memoryBudgetMiB };
    },
    'query.refresh': async ({ path }) => {
      // The lazy reader holds the reused metadata (the engine's own where there is no separate one).
      (await pagesReader()).forget(abs(path));
      return { path: abs(path) };
    },
    'query.count': ({ path, version }) =>
      onTable('count the rows of', path, version, async () => {
        if ((await formatOf(abs(path))) === 'iceberg') return { rows: await (await pagesReader()).count(abs(path), version ?? {}) };
        return { rows: await (await paimonPagesOf(abs(path), version)).count() };
      }),
    'query.sql': async ({ warehouse, sql, limit }) => runSql(await engine(), abs(warehouse), sql, limit),
    'query.schemaDiff': async ({ path, from, to }) => {
      if ((await formatOf(abs(path))) === 'paimon') {
        // Paimon schemas carry field ids too, so the same diff applies (no partition spec ids).
        const version = async (v: bigint | 'current') => ({ schema: await readPaimonSchema(deps.storage, abs(path), v === 'current' ? {} : { snapshotId: v }), spec: null });
        return diffSchemas(await version(from), await version(to));
      }
      const table = await loadTable(deps.storage, abs(path));
      return diffSchemas(await readSchemaVersion(deps.storage, table, from), await readSchemaVersion(deps.storage, table, to));
    },
    'query.rowDiff': async ({ path, from, to, key, limit }) => {
      const e = await engine();
      return diffRows(e, await openTableSource(e, abs(path)), from, to, { key, limit });
    },
    'query.keyHistory': async ({ path, key }) => {
      const e = await engine();
      return readKeyHistory(e, await openTableSource(e, abs(path)), key);
    },
    'query.stats': ({ path, version }) =>
      onTable('compute column statistics of', path, version, async () => {
        const e = await engine();
        if ((await formatOf(abs(path))) === 'paimon') {
          const [source, schema] = await Promise.all([paimonPageSource(e, abs(path), version), readPaimonSchema(deps.storage, abs(path), paimonSelectorOf(version))]);
          return readColumnStats(e, { relation: source.relation, columns: schema.fields });
        }
        return readVersionStats(e, abs(path), version ?? {});
      }),
  };
}

/**
 * `calls` that call `start` once the worker is idle after its first grid page with rows
 * (`query.page` with a limit, answered or failed): no call in progress for `idleMs`. The renderer
 * starts DuckDB-wasm then. Its instantiation (a 34 MB module compiled on several threads, seconds
 * of CPU) is not needed for pages and counts; begun with the page, or right after it, it competes
 * on a two-core machine with the first page's decoding, the grid's first paint and the count that
 * follows. A call that needs the engine sooner starts it itself.
 */
export function startWhenIdleAfterFirstPage(calls: QueryCalls, start: () => void, idleMs: number): QueryCalls {
  let started = false;
  let armed = false;
  let inFlight = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const settle = () => {
    if (started || !armed || inFlight > 0) return;
    timer = setTimeout(() => {
      timer = null;
      if (started || inFlight > 0) return;
      started = true;
      start();
    }, idleMs);
  };
  const wrapped = {} as Record<string, (input: never, ctx: never) => Promise<unknown>>;
  for (const [name, call] of Object.entries(calls) as [keyof QueryCalls, (input: never, ctx: never) => Promise<unknown>][]) {
    wrapped[name] = async (input, ctx) => {
      inFlight++;
      if (timer !== null) {
        clearTimeout(timer);
        timer = null;
      }
      try {
        return await call(input, ctx);
      } finally {
        inFlight--;
        if (name === 'query.page' && (input as { limit: number }).limit > 0) armed = true;
        settle();
      }
    };
  }
  return wrapped as unknown as QueryCalls;
}
