/**
 * The query engine in a browser (the renderer's query worker): DuckDB-wasm's async build in its own
 * worker, parquet-wasm's ESM build, and lake bytes through the HTTP storage port — ranged reads
 * that the main process (tidemark://app/fs in Electron) or the browser-mode server (/fs) serve from
 * the folders the user opened, so a table is never copied whole into the renderer.
 *
 * Asset URLs (wasm modules, DuckDB's worker script) come from the caller: the renderer's bundler
 * knows where it emitted them; core/ stays free of bundler syntax.
 */
import * as duckdb from '@duckdb/duckdb-wasm';
import initParquet, * as parquetEsm from 'parquet-wasm/esm';
import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import { createHttpStorage } from '../storage';
import { createQueryCalls, startWhenIdleAfterFirstPage, type QueryCalls } from './calls';
import { SESSION_SETUP, type SqlSession } from './duckdb';
import { createQueryEngine, type QueryEngine } from './engine';
import { BROWSER_METADATA_REUSE_MS, createLazyReader, type LazyReader } from './pages/reader';
import type { LoadProgress } from './scan-view';
import { createSqlSession } from './session';

export interface BrowserEngineAssets {
  /** DuckDB-wasm bundles (mvp and eh: wasm module + worker script URLs). */
  duckdb: duckdb.DuckDBBundles;
  /** URL of parquet-wasm's `parquet_wasm_bg.wasm` (ESM build). */
  parquetWasm: string;
}

export interface BrowserEngineOptions {
  assets: BrowserEngineAssets;
  /** Origin serving `/fs/*`; '' = same origin as the page or worker. */
  baseUrl?: string;
  /** Bearer token; omitted where the session cookie carries it. */
  token?: string;
  /** Told after each data file of a table version is loaded. */
  onLoadProgress?(progress: LoadProgress): void;
  /**
   * When to start DuckDB-wasm (a second or more to instantiate) if no call has needed it yet:
   * `now`, or `after-first-page` (the renderer's worker: parquet-wasm, which grid pages need, is
   * started now, and DuckDB once the worker is idle after the first page of rows, so that its
   * instantiation does not compete with that page or the count); default: on the first call that
   * needs it.
   */
  startEngine?: 'now' | 'after-first-page';
}

/** A SqlSession over DuckDB-wasm's async build (its own worker). */
export async function createBrowserSqlSession(bundles: duckdb.DuckDBBundles): Promise<SqlSession> {
  const bundle = await duckdb.selectBundle(bundles);
  if (!bundle.mainWorker) throw new TidemarkError('Internal', 'DuckDB-wasm bundle has no worker script', {});
  const worker = new Worker(bundle.mainWorker);
  const db = new duckdb.AsyncDuckDB(new duckdb.VoidLogger(), worker);
  await db.instantiate(bundle.mainModule, bundle.pthreadWorker);
  const conn = await db.connect();
  for (const s of SESSION_SETUP) await conn.query(s);
  return createSqlSession({
    // The bytes crossed from DuckDB's worker by postMessage: they are ours already.
    runQuery: (sql) => conn.useUnsafe((bindings, id) => bindings.runQuery(id, sql)),
    insertArrowIpc: (name, ipc) => conn.insertArrowFromIPCStream(ipc, { name, create: true }),
    close: async () => {
      await conn.close();
      await db.terminate();
    },
  });
}

let parquetReady: Promise<unknown> | null = null;

/**
 * With `startEngine: 'after-first-page'`: how long the worker must have had no call in progress
 * after the first page of rows before DuckDB starts (the grid paints those rows and asks for the
 * count meanwhile).
 */
const ENGINE_START_IDLE_MS = 500;

/** The query engine for a browser: DuckDB-wasm + parquet-wasm + HTTP storage. */
export async function createBrowserQueryEngine(
  options: BrowserEngineOptions,
  storage: StoragePort = createHttpStorage({ baseUrl: options.baseUrl ?? '', token: options.token }),
  lazyReader?: LazyReader,
): Promise<QueryEngine> {
  parquetReady ??= initParquet({ module_or_path: options.assets.parquetWasm });
  const [session] = await Promise.all([createBrowserSqlSession(options.assets.duckdb), parquetReady]);
  return createQueryEngine({ session, parquet: parquetEsm, storage, onLoadProgress: options.onLoadProgress, lazyReader });
}

/** The query.* calls answered in the browser; the engine starts on the first call. */
export function createBrowserQueryCalls(options: BrowserEngineOptions): QueryCalls {
  const storage = createHttpStorage({ baseUrl: options.baseUrl ?? '', token: options.token });
  // Grid pages and counts need parquet-wasm only (~0.1 s to start), not DuckDB-wasm (seconds): one
  // lazy reader serves them at once and is shared with the engine once it is up.
  let pages: Promise<LazyReader> | null = null;
  const getPages = () => {
    parquetReady ??= initParquet({ module_or_path: options.assets.parquetWasm });
    pages ??= parquetReady.then(() => createLazyReader({ parquet: parquetEsm, storage, metadataReuseMs: BROWSER_METADATA_REUSE_MS }));
    pages.catch(() => (pages = null));
    return pages;
  };
  let engine: Promise<QueryEngine> | null = null;
  const getEngine = () => {
    engine ??= getPages().then((reader) => createBrowserQueryEngine(options, storage, reader));
    engine.catch(() => (engine = null));
    return engine;
  };
  const calls = createQueryCalls({ storage, engine: getEngine, pages: getPages });
  // A failed early start is retried by the first call, which then reports the error.
  const start = () => void getEngine().catch(() => undefined);
  if (options.startEngine === 'now') start();
  if (options.startEngine !== 'after-first-page') return calls;
  getPages().catch(() => undefined);
  return startWhenIdleAfterFirstPage(calls, start, ENGINE_START_IDLE_MS);
}
