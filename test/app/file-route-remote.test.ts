import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AllowedRoots, serveFileRequest } from '../../core/app/file-server';
import { createProfileStore } from '../../core/app/profiles';
import { createRemoteLakes, type RemoteLakes } from '../../core/app/remote-lakes';
import { createLocalStorage } from '../../core/storage/node';
import { S3RVER_CREDENTIALS, startS3Lake, type ProxyAnswer, type S3Lake, type SeenRequest } from '../support/s3-server';

// The renderer reads a remote lake's files through the file route (`/fs/read`, `/fs/ranges`), which
// the main process answers from S3. Every S3 request costs a round trip: the route asks for the
// size (HEAD) and reads the ranges (GETs) at once, the ranges of a page in parallel, so a page of
// 30 column chunks costs one round trip of latency, not 31 one after another.
const FILE_BYTES = 64 * 1024;
const content = Uint8Array.from({ length: FILE_BYTES }, (_, i) => (i * 7 + 3) % 251);

let lake: S3Lake;
let dataDir: string;
let remote: RemoteLakes;
let roots: AllowedRoots;
let mount: string;
/** The proxy's own answer (conditional PUTs honoured, the rest forwarded), under each test's barrier. */
let honour: S3Lake['proxy']['decide'];

beforeAll(async () => {
  lake = await startS3Lake(['lake']);
  honour = lake.proxy.decide;
  await lake.storage().writeFile('s3://lake/wh/part.bin', content);
  dataDir = await mkdtemp(join(tmpdir(), 'tidemark-file-route-'));
  const profiles = createProfileStore({ dataDir, secrets: null, env: { ROUTE_SECRET: S3RVER_CREDENTIALS.secretAccessKey } });
  await profiles.save({ name: 'lake', endpoint: lake.endpoint, region: 'us-east-1', pathStyle: true, accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: 'env:ROUTE_SECRET' });
  remote = createRemoteLakes({ local: createLocalStorage(), profiles });
  mount = (await remote.open('s3://lake/wh', 'lake')).path;
  roots = new AllowedRoots();
  roots.add(mount);
});

afterEach(() => {
  lake.proxy.decide = honour;
});

afterAll(async () => {
  await lake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/**
 * Holds each S3 request until `expected` are waiting (then lets them all through), or 3 s passed:
 * the most requests that were in flight together.
 */
function barrier(expected: number): { most: () => number } {
  let waiting: (() => void)[] = [];
  let most = 0;
  const forward = honour;
  lake.proxy.decide = (req: SeenRequest, n: number) =>
    new Promise<ProxyAnswer>((resolve) => {
      const go = () => resolve(forward(req, n) as ProxyAnswer);
      waiting.push(go);
      most = Math.max(most, waiting.length);
      if (waiting.length >= expected) {
        const all = waiting;
        waiting = [];
        for (const f of all) f();
      } else {
        setTimeout(() => {
          if (waiting.includes(go)) {
            waiting = waiting.filter((f) => f !== go);
            go();
          }
        }, 3000);
      }
    });
  return { most: () => most };
}

describe('the file route over a remote lake', () => {
  it('/fs/ranges: the size and 30 ranges are asked of S3 at once, and the bytes are right', async () => {
    const ranges = Array.from({ length: 30 }, (_, i) => ({ start: i * 2000 + 5, end: i * 2000 + 5 + 99 }));
    // The last range runs past the end of the file: it is cut there, as the route always did.
    ranges.push({ start: FILE_BYTES - 10, end: FILE_BYTES + 500 });
    const gate = barrier(ranges.length + 1);
    const before = lake.proxy.requests.length;
    const res = await serveFileRequest(remote.storage, roots, { op: 'ranges', path: `${mount}/part.bin`, range: `bytes=${ranges.map((r) => `${r.start}-${r.end}`).join(',')}` });
    lake.proxy.decide = honour;
    expect(res.status).toBe(200);
    const expected = ranges.map((r) => content.subarray(r.start, Math.min(r.end, FILE_BYTES - 1) + 1));
    expect(res.headers['x-tidemark-range-lengths']).toBe(expected.map((p) => p.length).join(','));
    expect(Buffer.from(res.body as Uint8Array).equals(Buffer.concat(expected))).toBe(true);
    const seen = lake.proxy.requests.slice(before);
    expect(seen.filter((r) => r.method === 'HEAD')).toHaveLength(1);
    expect(seen.filter((r) => r.method === 'GET')).toHaveLength(ranges.length);
    // All 32 requests were in flight together: one round trip of latency for the page.
    expect(gate.most()).toBe(ranges.length + 1);
  }, 20_000);

  it('/fs/read with a range: the size and the bytes at once; a bad range is still refused', async () => {
    const gate = barrier(2);
    const res = await serveFileRequest(remote.storage, roots, { op: 'read', path: `${mount}/part.bin`, range: 'bytes=1000-1999' });
    lake.proxy.decide = honour;
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 1000-1999/${FILE_BYTES}`);
    expect(Buffer.from(res.body as Uint8Array).equals(Buffer.from(content.subarray(1000, 2000)))).toBe(true);
    expect(gate.most()).toBe(2);
    const tail = await serveFileRequest(remote.storage, roots, { op: 'read', path: `${mount}/part.bin`, range: `bytes=${FILE_BYTES - 4}-${FILE_BYTES + 100}` });
    expect(tail.status).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes ${FILE_BYTES - 4}-${FILE_BYTES - 1}/${FILE_BYTES}`);
    expect([...(tail.body as Uint8Array)]).toEqual([...content.subarray(FILE_BYTES - 4)]);
    const beyond = await serveFileRequest(remote.storage, roots, { op: 'read', path: `${mount}/part.bin`, range: `bytes=${FILE_BYTES + 10}-${FILE_BYTES + 20}` });
    expect(beyond.status).toBe(416);
    const missing = await serveFileRequest(remote.storage, roots, { op: 'ranges', path: `${mount}/nothing.bin`, range: 'bytes=0-9' });
    expect(missing.status).toBe(404);
    const outside = await serveFileRequest(remote.storage, roots, { op: 'read', path: '/~remote/99/part.bin', range: 'bytes=0-9' });
    expect(outside.status).toBe(403);
  }, 20_000);
});
