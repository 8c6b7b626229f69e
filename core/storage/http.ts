import { TidemarkError, isErrorCode } from '../errors';
import type { ByteRange, DirEntry, FileInfo, StoragePort } from './index';

/** The route under which the main process (or the browser-mode server) serves lake files. */
export const STORAGE_ROUTE = '/fs';
/**
 * `/fs/ranges` answers several ranges of one file (its Range header: `bytes=a-b,c-d,…`) with their
 * bytes back to back, this header listing each range's length (shorter only at end of file). Not
 * multipart/byteranges: no boundary to scan for, and the caller knows the order it asked.
 */
export const RANGE_LENGTHS_HEADER = 'x-tidemark-range-lengths';
/** Ranges one `/fs/ranges` request may ask for (the Range header stays a few KiB). */
export const MAX_RANGES_PER_REQUEST = 256;

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
    async readRanges(path, ranges: ByteRange[]) {
      const out: Uint8Array[] = [];
      for (let i = 0; i < ranges.length; i += MAX_RANGES_PER_REQUEST) {
        const part = ranges.slice(i, i + MAX_RANGES_PER_REQUEST);
        const asked = part.filter((r) => r.length > 0);
        if (asked.length === 0) {
          out.push(...part.map(() => new Uint8Array(0)));
          continue;
        }
        const res = await request('ranges', path, { range: `bytes=${asked.map((r) => `${r.offset}-${r.offset + r.length - 1}`).join(',')}` });
        const body = new Uint8Array(await res.arrayBuffer());
        const lengths = (res.headers.get(RANGE_LENGTHS_HEADER) ?? '').split(',').map(Number);
        if (lengths.length !== asked.length || lengths.some((n) => !Number.isInteger(n) || n < 0) || lengths.reduce((a, b) => a + b, 0) !== body.length) {
          throw new TidemarkError('Io', `storage ranges ${path}: the answer's ${RANGE_LENGTHS_HEADER} (${JSON.stringify(res.headers.get(RANGE_LENGTHS_HEADER))}) does not match ${asked.length} ranges of ${body.length} bytes`, { path });
        }
        let at = 0;
        let k = 0;
        for (const r of part) {
          if (r.length <= 0) {
            out.push(new Uint8Array(0));
            continue;
          }
          out.push(body.subarray(at, at + lengths[k]!));
          at += lengths[k++]!;
        }
      }
      return out;
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
