import type { EventName, ApiEvents, CallName, WireCallInput, WireCallOutput } from './contract';
import type { Reply, Wire } from './wire';

/**
 * The one client type the renderer uses, whatever carries it: `window.tidemark` in Electron
 * (preload over IPC) or HTTP + server-sent events in browser mode.
 */
export interface TidemarkClient {
  call<K extends CallName>(name: K, input: WireCallInput<K>): Promise<Reply<WireCallOutput<K>>>;
  /** Subscribes to a pushed event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: (payload: Wire<ApiEvents[E]>) => void): () => void;
}

/**
 * The calls the renderer answers with its own DuckDB-wasm engine (core/query/calls.ts) instead of
 * sending them to the main process; query.export stays in main, which owns the file system.
 */
export const ENGINE_CALLS = ['query.page', 'query.count', 'query.refresh', 'query.configure', 'query.sql', 'query.schemaDiff', 'query.rowDiff', 'query.keyHistory', 'query.stats'] as const satisfies readonly CallName[];
export type EngineCallName = (typeof ENGINE_CALLS)[number];

/** The HTTP route of calls in browser mode: POST /api/call/<name> with the JSON input. */
export const CALL_ROUTE = '/api/call/';
/** The server-sent events route in browser mode. */
export const EVENTS_ROUTE = '/api/events';
/** The IPC channels in Electron. */
export const IPC_CALL_CHANNEL = 'tidemark:call';
export const IPC_EVENT_CHANNEL = 'tidemark:event';

export interface HttpClientOptions {
  /** Origin of the browser-mode server; '' for same-origin requests from the page. */
  baseUrl: string;
  /** Bearer token; omitted in the page, where the session cookie carries it. */
  token?: string;
  fetch?: typeof fetch;
  /** EventSource constructor (absent in Node: events are then unavailable). */
  EventSource?: typeof EventSource;
}

export function createHttpClient(options: HttpClientOptions): TidemarkClient {
  const doFetch = options.fetch ?? fetch.bind(globalThis);
  const listeners = new Map<string, Set<(payload: never) => void>>();
  let source: EventSource | null = null;

  function ensureEvents() {
    const ES = options.EventSource ?? (globalThis as { EventSource?: typeof EventSource }).EventSource;
    if (source || !ES) return;
    source = new ES(`${options.baseUrl}${EVENTS_ROUTE}`, { withCredentials: true });
    source.onmessage = (msg) => {
      const { event, payload } = JSON.parse(msg.data as string) as { event: string; payload: never };
      for (const l of listeners.get(event) ?? []) l(payload);
    };
  }

  return {
    async call(name, input) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      try {
        const res = await doFetch(`${options.baseUrl}${CALL_ROUTE}${name}`, {
          method: 'POST',
          headers,
          body: JSON.stringify(input ?? {}),
          credentials: 'same-origin',
        });
        const body = (await res.json()) as Reply<never>;
        return body;
      } catch (e) {
        return { ok: false, error: { code: 'Io', message: `call ${name} failed: ${(e as Error).message}`, context: { call: name } } };
      }
    },
    on(event, listener) {
      ensureEvents();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
  };
}
