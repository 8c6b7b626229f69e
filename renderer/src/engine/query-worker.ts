/**
 * The renderer's query engine, in a worker so Parquet decoding and merge planning never block the
 * page: it answers the contract's query.* calls with DuckDB-wasm (in its own nested worker),
 * parquet-wasm and lake bytes read through the storage port (`/fs/*`, ranged, same origin).
 * Messages: {id, name, input} (wire form) → {id, reply}; while a table version loads, {progress}.
 */
import ehWorker from '@duckdb/duckdb-wasm/dist/duckdb-browser-eh.worker.js?url';
import mvpWorker from '@duckdb/duckdb-wasm/dist/duckdb-browser-mvp.worker.js?url';
import ehWasm from '@duckdb/duckdb-wasm/dist/duckdb-eh.wasm?url';
import mvpWasm from '@duckdb/duckdb-wasm/dist/duckdb-mvp.wasm?url';
import parquetWasm from 'parquet-wasm/esm/parquet_wasm_bg.wasm?url';
import { dispatchCall } from '../../../core/api/dispatch';
import { createBrowserQueryCalls } from '../../../core/query/browser';

// Worker script URLs must be absolute for DuckDB's nested worker (it is created from this worker,
// whose base URL is the bundle's assets folder).
const absolute = (url: string) => new URL(url, self.location.href).href;

const calls = createBrowserQueryCalls({
  assets: {
    duckdb: {
      mvp: { mainModule: absolute(mvpWasm), mainWorker: absolute(mvpWorker) },
      eh: { mainModule: absolute(ehWasm), mainWorker: absolute(ehWorker) },
    },
    parquetWasm: absolute(parquetWasm),
  },
  baseUrl: '',
  // parquet-wasm (grid pages) starts with the page; DuckDB-wasm (SQL, diffs, stats) once the worker
  // is idle after the first page of rows, so that its start does not slow that page down.
  startEngine: 'after-first-page',
  // Long loads report each data file, so the page can say how far along it is.
  onLoadProgress: (progress) => self.postMessage({ progress }),
});

self.onmessage = async (event: MessageEvent<{ id: number; name: string; input: unknown }>) => {
  const { id, name, input } = event.data;
  const reply = await dispatchCall(calls, name, input, { emit: () => {} });
  self.postMessage({ id, reply });
};
