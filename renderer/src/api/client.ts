import { createHttpClient, type TidemarkClient } from '../../../core/api';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    tidemark?: TidemarkClient;
  }
}

/**
 * The renderer's one client: `window.tidemark` in Electron, HTTP + server-sent events (same origin,
 * the session cookie carries the token) in browser mode. Both have the same type.
 */
export function createClient(): TidemarkClient {
  if (window.tidemark) return window.tidemark;
  return createHttpClient({ baseUrl: '' });
}

export const client = createClient();
