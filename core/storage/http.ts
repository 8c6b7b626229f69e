import { TidemarkError, isErrorCode } from '../errors';
import type { DirEntry, FileInfo, StoragePort } from './index';

/** The route under which the main process (or the browser-mode server) serves lake files. */
export const STORAGE_ROUTE = '/fs';

export interface HttpStorageOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:5123`. */
  baseUrl: string;
  /** The per-run token, sent as a bearer token; omitted in the page, where the session cookie carries it. */
  token?: string;
  fetch?: typeof fetch;
}

/**
 * The storage port over HTTP: `GET /fs/read?path=…` with a Range header, `/fs/stat`, `/fs/list`.
 * Works in the renderer and in Node (tests).
 */
export function createHttpStorage(options: HttpStorageOptions): StoragePort {
  const doFetch: typeof fetch = options.fetch ?? ((input, init) => fetch(input, init));
  const url = (op: string, path: string) =>
    `${options.baseUrl}${STORAGE_ROUTE}/${op}?path=${encodeURIComponent(path)}`;
  const headers = (extra: Record<string, string> = {}): Record<string, string> =>
    options.token ? { authorization: `Bearer ${options.token}`, ...extra } : extra;

  async function request(op: string, path: string, extra?: Record<string, string>): Promise<Response> {
    let res: Response;
    try {
      res = await doFetch(url(op, path), { headers: headers(extra) });
    } catch (e) {
      throw new TidemarkError('Io', `storage request failed for ${path}: ${(e as Error).message}`, { path }, e);
    }
    if (res.ok) return res;
    let code: string = 'Io';
    let message = `storage ${op} ${path}: HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      if (body.error?.code) code = body.error.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      // Not a JSON error body: keep the HTTP status message.
    }
    throw new TidemarkError(isErrorCode(code) ? code : 'Io', message, { path, status: res.status });
  }

  return {
    async readFile(path) {
      return new Uint8Array(await (await request('read', path)).arrayBuffer());
    },
    async readRange(path, offset, length) {
      if (length <= 0) return new Uint8Array(0);
      const res = await request('read', path, { range: `bytes=${offset}-${offset + length - 1}` });
      return new Uint8Array(await res.arrayBuffer());
    },
    async stat(path): Promise<FileInfo | null> {
      try {
        return (await (await request('stat', path)).json()) as FileInfo;
      } catch (e) {
        if (e instanceof TidemarkError && e.code === 'NotFound') return null;
        throw e;
      }
    },
    async list(path): Promise<DirEntry[]> {
      return (await (await request('list', path)).json()) as DirEntry[];
    },
  };
}
