import { realpath } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { TidemarkError, toTidemarkError } from '../errors';
import { MAX_RANGES_PER_REQUEST, RANGE_LENGTHS_HEADER, readRangesOf, type StoragePort } from '../storage';

/**
 * Serves lake files to the renderer (`/fs/read|ranges|stat|list?path=…`, Range on read, several
 * ranges on ranges) — only below the folders the user opened. Paths are resolved and symlinks followed before the check, so `..`,
 * encoded and absolute paths cannot escape an opened root.
 */
export interface FileRequest {
  op: string;
  path: string | null;
  /** The HTTP Range header, e.g. `bytes=0-1023`. */
  range: string | null;
}

export interface FileResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

export class AllowedRoots {
  private readonly roots = new Set<string>();
  add(path: string): void {
    this.roots.add(resolve(path));
  }
  async contains(path: string): Promise<boolean> {
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      real = resolve(path);
    }
    for (const root of this.roots) {
      let realRoot = root;
      try {
        realRoot = await realpath(root);
      } catch {
        // A root that vanished still bounds the check by its resolved path.
      }
      if (real === realRoot || real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) return true;
    }
    return false;
  }
}

function errorResponse(status: number, code: string, message: string): FileResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code, message } }) };
}

function parseRange(header: string, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  if (m[1] === '' && m[2] !== '') {
    const suffix = Number(m[2]);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (Number.isNaN(start) || start > end) return null;
  return { start, end };
}

/**
 * The ranges of a `bytes=a-b,c-d,…` header for `/fs/ranges`: absolute ranges only, each ending at
 * most at the file's end, at most MAX_RANGES_PER_REQUEST of them; else the reason, as a sentence.
 */
function parseRanges(header: string, size: number): { start: number; end: number }[] | string {
  const m = /^bytes=(.+)$/.exec(header.trim());
  if (!m) return `expected a Range header "bytes=a-b,c-d,…", got ${JSON.stringify(header)}`;
  const specs = m[1]!.split(',');
  if (specs.length > MAX_RANGES_PER_REQUEST) return `at most ${MAX_RANGES_PER_REQUEST} ranges a request, got ${specs.length}`;
  const out: { start: number; end: number }[] = [];
  for (const spec of specs) {
    const r = /^\s*(\d+)-(\d+)\s*$/.exec(spec);
    const start = r ? Number(r[1]) : NaN;
    const end = r ? Math.min(Number(r[2]), size - 1) : NaN;
    if (!r || start > Number(r[2]) || start >= size) return `range ${JSON.stringify(spec.trim())} is not within the file's ${size} bytes`;
    out.push({ start, end });
  }
  return out;
}

/** The `a-b` ranges of a `bytes=a-b[,c-d…]` header, or null when any is open-ended or a suffix (those need the size first). */
function explicitRanges(header: string): { start: number; end: number }[] | null {
  const m = /^bytes=(.+)$/.exec(header.trim());
  if (!m) return null;
  const specs = m[1]!.split(',');
  if (specs.length > MAX_RANGES_PER_REQUEST) return null;
  const out: { start: number; end: number }[] = [];
  for (const spec of specs) {
    const r = /^\s*(\d+)-(\d+)\s*$/.exec(spec);
    if (!r || Number(r[1]) > Number(r[2])) return null;
    out.push({ start: Number(r[1]), end: Number(r[2]) });
  }
  return out;
}

/** A read started early: its outcome kept (an error does not go unhandled while it waits) and given back, or thrown, when asked. */
function settle<T>(p: Promise<T>): Promise<() => T> {
  return p.then(
    (v) => () => v,
    (e: unknown) => () => {
      throw e;
    },
  );
}

export async function serveFileRequest(storage: StoragePort, roots: AllowedRoots, req: FileRequest): Promise<FileResponse> {
  if (!req.path || !isAbsolute(req.path)) return errorResponse(400, 'InvalidInput', `expected an absolute path, got ${JSON.stringify(req.path)}`);
  if (req.path.includes('\0')) return errorResponse(400, 'InvalidInput', 'path contains a NUL byte');
  const path = resolve(req.path);
  if (!(await roots.contains(path))) return errorResponse(403, 'InvalidInput', `path is outside the opened folders: ${path}`);
  try {
    switch (req.op) {
      case 'stat': {
        const info = await storage.stat(path);
        if (!info) return errorResponse(404, 'NotFound', `not found: ${path}`);
        return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(info) };
      }
      case 'list':
        return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(await storage.list(path)) };
      case 'read': {
        // An explicit range is read while the size is asked (on S3 a HEAD and a GET at once, not one
        // round trip after the other); a read past the end returns what is there, as the clamped
        // range does, and one that turns out invalid is dropped.
        const early = req.range ? explicitRanges(req.range) : null;
        const speculative = early?.length === 1 ? settle(storage.readRange(path, early[0]!.start, early[0]!.end - early[0]!.start + 1)) : null;
        const info = await storage.stat(path);
        if (!info) return errorResponse(404, 'NotFound', `not found: ${path}`);
        if (req.range) {
          const range = parseRange(req.range, info.size);
          if (!range) return { ...errorResponse(416, 'InvalidInput', `bad range ${req.range}`), headers: { 'content-range': `bytes */${info.size}` } };
          const length = range.end - range.start + 1;
          const body = speculative && early![0]!.start === range.start ? (await speculative)().subarray(0, length) : await storage.readRange(path, range.start, length);
          return {
            status: 206,
            headers: {
              'content-type': 'application/octet-stream',
              'content-range': `bytes ${range.start}-${range.end}/${info.size}`,
              'accept-ranges': 'bytes',
            },
            body,
          };
        }
        return { status: 200, headers: { 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' }, body: await storage.readFile(path) };
      }
      case 'ranges': {
        // Several ranges of one file in one answer (core/storage/http.ts readRanges), read at once
        // (S3: parallel GETs) while the size is asked, as a single read is.
        const early = explicitRanges(req.range ?? '');
        const speculative = early ? settle(readRangesOf(storage, path, early.map((r) => ({ offset: r.start, length: r.end - r.start + 1 })))) : null;
        const info = await storage.stat(path);
        if (!info) return errorResponse(404, 'NotFound', `not found: ${path}`);
        const ranges = parseRanges(req.range ?? '', info.size);
        if (typeof ranges === 'string') return { ...errorResponse(416, 'InvalidInput', `${path}: ${ranges}`), headers: { 'content-type': 'application/json', 'content-range': `bytes */${info.size}` } };
        // Read past the end, a range returns what is there: exactly its clamped range.
        const parts = speculative ? (await speculative)().map((p, i) => p.subarray(0, ranges[i]!.end - ranges[i]!.start + 1)) : await readRangesOf(storage, path, ranges.map((r) => ({ offset: r.start, length: r.end - r.start + 1 })));
        const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          body.set(p, at);
          at += p.length;
        }
        return { status: 200, headers: { 'content-type': 'application/octet-stream', [RANGE_LENGTHS_HEADER]: parts.map((p) => p.length).join(',') }, body };
      }
      default:
        return errorResponse(404, 'NotFound', `unknown file operation ${JSON.stringify(req.op)}`);
    }
  } catch (e) {
    const err = toTidemarkError(e);
    const status = err.code === 'NotFound' ? 404 : err.code === 'InvalidInput' ? 400 : 500;
    return errorResponse(status, err.code, err.message);
  }
}

export { TidemarkError };
