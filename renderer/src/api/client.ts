import { createHttpClient, ENGINE_CALLS, type CallName, type Reply, type TidemarkClient } from '../../../core/api';
import type { LoadProgress } from '../../../core/query/scan-view';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    tidemark?: TidemarkClient;
  }
}

/** Where query.* calls run: the renderer's own DuckDB-wasm worker, or the main process. */
export type EngineLocation = 'renderer' | 'main';

type WorkerMessage = { id: number; reply: Reply<unknown> } | { progress: LoadProgress };

const progressListeners = new Set<(p: LoadProgress) => void>();

/** Subscribes to the renderer engine's load progress (a table version's data files); returns the unsubscribe. */
export function onLoadProgress(listener: (p: LoadProgress) => void): () => void {
  progressListeners.add(listener);
  return () => progressListeners.delete(listener);
}

/** A client for the query worker: one request id per call, replies matched by id. */
function startQueryWorker(): Pick<TidemarkClient, 'call'> {
  const worker = new Worker(new URL('../engine/query-worker.ts', import.meta.url), { type: 'module', name: 'tidemark-query' });
  const pending = new Map<number, (reply: Reply<unknown>) => void>();
  let nextId = 1;
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
    const data = event.data;
    if ('progress' in data) {
      for (const l of progressListeners) l(data.progress);
      return;
    }
    const resolve = pending.get(data.id);
    pending.delete(data.id);
    resolve?.(data.reply);
  };
  worker.onerror = (event) => {
    // A worker that fails to load answers nothing: fail every waiting call with the reason.
    const reply: Reply<unknown> = { ok: false, error: { code: 'Internal', message: `query engine worker failed: ${event.message}`, context: {} } };
    for (const resolve of pending.values()) resolve(reply);
    pending.clear();
  };
  return {
    call(name, input) {
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve as (reply: Reply<unknown>) => void);
        worker.postMessage({ id, name, input });
      });
    },
  };
}

/**
 * The renderer's one client: `window.tidemark` in Electron, HTTP + server-sent events (same origin,
 * the session cookie carries the token) in browser mode — except the query calls, which the
 * renderer answers itself with DuckDB-wasm in a worker, reading lake files by ranged requests.
 * `?engine=main` in the address sends them to the main process instead (for comparison and as an
 * escape hatch).
 */
export function createClient(location: EngineLocation = readEngineLocation()): TidemarkClient & { engine: EngineLocation } {
  const main = window.tidemark ?? createHttpClient({ baseUrl: '' });
  const engine = location === 'renderer' ? startQueryWorker() : null;
  const local = new Set<CallName>(ENGINE_CALLS);
  return {
    engine: location,
    call(name, input) {
      return engine && local.has(name) ? engine.call(name, input) : main.call(name, input);
    },
    on: (event, listener) => main.on(event, listener),
  };
}

function readEngineLocation(): EngineLocation {
  // Without Worker (the store's unit tests run in Node) there is no renderer engine to start.
  if (typeof Worker === 'undefined') return 'main';
  return new URLSearchParams(window.location.search).get('engine') === 'main' ? 'main' : 'renderer';
}

export const client = createClient();
