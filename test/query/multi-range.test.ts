/**
 * Several ranges of a file in one request (core/storage/http.ts readRanges, core/app/file-server.ts
 * `/fs/ranges`), and the grid's pages over it: the same bytes as one ranged read each, errors that
 * name the bad input, and a first page whose column pages come in one request per file.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowedRoots, serveFileRequest } from '../../core/app/file-server';
import { scanRows } from '../../core/lake/row-reader';
import { loadTable } from '../../core/lake/table';
import { createLazyReader } from '../../core/query/pages/reader';
import { createHttpStorage, MAX_RANGES_PER_REQUEST, RANGE_LENGTHS_HEADER, STORAGE_ROUTE } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const local = createLocalStorage();
let dir: string;
const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) % 256);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-ranges-'));
  await writeFile(join(dir, 'blob.bin'), bytes);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The HTTP storage answered by serveFileRequest in process (no socket), logging each request. */
function httpStorage(roots: string[]) {
  const allowed = new AllowedRoots();
  for (const r of roots) allowed.add(r);
  const requests: { op: string; path: string; range: string | null }[] = [];
  const storage = createHttpStorage({
    baseUrl: 'http://tidemark.test',
    fetch: async (input, init) => {
      const url = new URL(String(input));
      const op = url.pathname.slice(STORAGE_ROUTE.length + 1);
      const range = (init?.headers as Record<string, string> | undefined)?.range ?? null;
      requests.push({ op, path: url.searchParams.get('path') ?? '', range });
      const r = await serveFileRequest(local, allowed, { op, path: url.searchParams.get('path'), range });
      return new Response(r.body as BodyInit, { status: r.status, headers: r.headers });
    },
  });
  return { storage, requests };
}

describe('/fs/ranges', () => {
  it('answers many ranges of a file in one request, the same bytes as one read each', async () => {
    const { storage, requests } = httpStorage([dir]);
    const path = join(dir, 'blob.bin');
    const ranges = [
      { offset: 4000, length: 10 },
      { offset: 0, length: 4 },
      { offset: 17, length: 0 },
      { offset: 4990, length: 100 }, // past the end: the 10 bytes there
      { offset: 100, length: 1000 },
    ];
    const parts = await storage.readRanges!(path, ranges);
    expect(parts.map((p) => [...p])).toEqual(ranges.map((r) => [...bytes.subarray(r.offset, r.offset + r.length)]));
    expect(parts[3]).toHaveLength(10);
    expect(requests).toEqual([{ op: 'ranges', path, range: 'bytes=4000-4009,0-3,4990-5089,100-1099' }]);
    // More ranges than one request takes: split in order.
    requests.length = 0;
    const many = Array.from({ length: MAX_RANGES_PER_REQUEST + 3 }, (_, i) => ({ offset: (i * 13) % 4900, length: 1 + (i % 5) }));
    expect((await storage.readRanges!(path, many)).map((p) => [...p])).toEqual(many.map((r) => [...bytes.subarray(r.offset, r.offset + r.length)]));
    expect(requests.map((r) => r.op)).toEqual(['ranges', 'ranges']);
  });

  it('refuses bad ranges and paths with a sentence naming them', async () => {
    const allowed = new AllowedRoots();
    allowed.add(dir);
    const path = join(dir, 'blob.bin');
    const ask = (range: string | null, p = path) => serveFileRequest(local, allowed, { op: 'ranges', path: p, range });
    const body = async (range: string | null, p?: string) => {
      const r = await ask(range, p);
      return { status: r.status, error: (JSON.parse(String(r.body)) as { error: { code: string; message: string } }).error };
    };
    expect(await body('bytes=-5')).toEqual({ status: 416, error: { code: 'InvalidInput', message: `${path}: range "-5" is not within the file's 5000 bytes` } });
    expect(await body('bytes=0-3,5000-5003')).toEqual({ status: 416, error: { code: 'InvalidInput', message: `${path}: range "5000-5003" is not within the file's 5000 bytes` } });
    expect(await body('bytes=9-3')).toEqual({ status: 416, error: { code: 'InvalidInput', message: `${path}: range "9-3" is not within the file's 5000 bytes` } });
    expect(await body(null)).toEqual({ status: 416, error: { code: 'InvalidInput', message: `${path}: expected a Range header "bytes=a-b,c-d,…", got ""` } });
    const tooMany = `bytes=${Array.from({ length: MAX_RANGES_PER_REQUEST + 1 }, () => '0-0').join(',')}`;
    expect(await body(tooMany)).toEqual({ status: 416, error: { code: 'InvalidInput', message: `${path}: at most ${MAX_RANGES_PER_REQUEST} ranges a request, got ${MAX_RANGES_PER_REQUEST + 1}` } });
    expect(await body('bytes=0-1', join(dir, 'missing.bin'))).toEqual({ status: 404, error: { code: 'NotFound', message: `not found: ${join(dir, 'missing.bin')}` } });
    expect(await body('bytes=0-1', join(dir, '..', 'elsewhere.bin'))).toEqual({ status: 403, error: { code: 'InvalidInput', message: `path is outside the opened folders: ${join(dir, '..', 'elsewhere.bin')}` } });
    const ok = await ask('bytes=10-12,0-1');
    expect(ok.status).toBe(200);
    expect(ok.headers[RANGE_LENGTHS_HEADER]).toBe('3,2');
    expect([...(ok.body as Uint8Array)]).toEqual([...bytes.subarray(10, 13), ...bytes.subarray(0, 2)]);
  });

  it('reads the column pages of a first page in one request per data file, rows as the reference reader', async () => {
    const root = join(FIXTURES, 'iceberg', 'duckdb-iceberg', 'lineitem_iceberg');
    const { storage, requests } = httpStorage([root]);
    const table = await loadTable(local, root);
    const reader = createLazyReader({ parquet, storage });
    const w = await reader.window(table, {}, 0, 40);
    const ref = await scanRows(local, table, {});
    expect(w.columns.length).toBeGreaterThan(10);
    expect(w.rows).toEqual(ref.rows.slice(0, 40).map((r) => ref.columns.map((c) => r[c.name])));
    const dataReads = requests.filter((r) => r.path.endsWith('.parquet'));
    const files = [...new Set(dataReads.map((r) => r.path))];
    // Per data file read: its footer (one ranged read of its tail), then every column's pages together.
    for (const file of files) expect(dataReads.filter((r) => r.path === file).map((r) => r.op)).toEqual(['read', 'ranges']);
    expect(requests.find((r) => r.op === 'ranges')!.range!.split(',').length).toBeGreaterThan(1);
  });
});
