import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { requireConditionalPut } from '../../core/storage';
import { createS3Storage, type S3StorageOptions } from '../../core/storage/s3/index';
import { honourConditionalPut, S3RVER_CREDENTIALS, s3ErrorXml, startHttpProxy, startS3rver, type HttpProxy, type ProxyAnswer, type S3Server } from '../support/s3-server';

let s3: S3Server;
let proxy: HttpProxy;

beforeAll(async () => {
  s3 = await startS3rver(['lake']);
  proxy = await startHttpProxy(s3.port);
});
afterAll(async () => {
  await proxy.close();
  await s3.close();
});

/** The storage behind the proxy; `requests()` lists what it sent since the call. */
function proxied(options: S3StorageOptions = {}) {
  proxy.decide = () => ({ forward: true });
  const from = proxy.requests.length;
  const storage = createS3Storage({ endpoint: proxy.endpoint, credentials: S3RVER_CREDENTIALS, env: {}, retryBaseMs: 1, ...options });
  return { storage, requests: () => proxy.requests.slice(from).map((r) => `${r.method} ${r.url}`) };
}

async function rejection(p: Promise<unknown>): Promise<TidemarkError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TidemarkError);
    return e as TidemarkError;
  }
  throw new Error('expected a rejection');
}

/** Deterministic bytes: `n` bytes of a counter pattern, so parts in the wrong order would show. */
function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >> 10)) & 0xff;
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

describe('S3 writer: one PUT below the threshold, multipart above it', () => {
  it('a small file is one PUT at close', async () => {
    const { storage, requests } = proxied();
    const w = storage.createWriter('s3://lake/w/small.bin');
    await w.write(pattern(1000, 1));
    await w.write(pattern(500, 2));
    expect(await storage.stat('s3://lake/w/small.bin')).toBeNull();
    expect(await w.close()).toBe(1500);
    expect((await storage.readFile('s3://lake/w/small.bin')).length).toBe(1500);
    expect(requests().filter((r) => r.startsWith('PUT') || r.startsWith('POST'))).toEqual(['PUT /lake/w/small.bin']);
  });

  it('12 MiB in 1 MiB chunks with 5 MiB parts: 3 parts, completed, bytes equal', async () => {
    const { storage, requests } = proxied({ partSizeBytes: 5 * MiB });
    const chunks = Array.from({ length: 12 }, (_, i) => pattern(MiB, i));
    const whole = new Uint8Array(12 * MiB);
    chunks.forEach((c, i) => whole.set(c, i * MiB));
    const w = storage.createWriter('s3://lake/w/big.bin');
    for (const c of chunks) await w.write(c);
    // Parts 1 and 2 are already uploaded, but nothing is visible before completion.
    expect(await storage.stat('s3://lake/w/big.bin')).toBeNull();
    expect(await w.close()).toBe(12 * MiB);
    const writes = requests().filter((r) => !r.startsWith('HEAD') && !r.includes('list-type'));
    expect(writes[0]).toBe('POST /lake/w/big.bin?uploads');
    const uploadId = /uploadId=([^&]+)/.exec(writes[1]!)![1];
    expect(writes.slice(1)).toEqual([
      `PUT /lake/w/big.bin?partNumber=1&uploadId=${uploadId}`,
      `PUT /lake/w/big.bin?partNumber=2&uploadId=${uploadId}`,
      `PUT /lake/w/big.bin?partNumber=3&uploadId=${uploadId}`,
      `POST /lake/w/big.bin?uploadId=${uploadId}`,
    ]);
    const back = await storage.readFile('s3://lake/w/big.bin');
    expect(back.length).toBe(whole.length);
    expect(sha(back)).toBe(sha(whole));
    expect(sha(await storage.readRange('s3://lake/w/big.bin', 5 * MiB - 10, 20))).toBe(sha(whole.subarray(5 * MiB - 10, 5 * MiB + 10)));
  });

  it('a failed part aborts the upload: nothing is published and the upload is deleted', async () => {
    const { storage, requests } = proxied({ partSizeBytes: 5 * MiB, maxAttempts: 2 });
    proxy.decide = (req) => (req.method === 'PUT' && req.url.includes('partNumber=2') ? { status: 500, body: s3ErrorXml('InternalError', 'boom') } : { forward: true });
    const w = storage.createWriter('s3://lake/w/failed.bin');
    await w.write(pattern(5 * MiB + 1, 1));
    const e = await rejection(w.write(pattern(5 * MiB, 2)));
    expect(e.code).toBe('Io');
    expect(e.message).toContain('s3://lake/w/failed.bin');
    expect(e.message).toContain('HTTP 500 InternalError: boom (2 attempts');
    const abort = requests().find((r) => r.startsWith('DELETE'));
    expect(abort).toMatch(/^DELETE \/lake\/w\/failed\.bin\?uploadId=/);
    proxy.decide = () => ({ forward: true });
    expect(await storage.stat('s3://lake/w/failed.bin')).toBeNull();
    const again = await rejection(w.close());
    expect(again.message).toContain('already aborted');
  });

  it('abort() after a part deletes the upload; the object never appears', async () => {
    const { storage, requests } = proxied({ partSizeBytes: 5 * MiB });
    const w = storage.createWriter('s3://lake/w/aborted.bin');
    await w.write(pattern(6 * MiB, 3));
    // s3rver 3.7 has no AbortMultipartUpload (405): the failure is reported, not hidden.
    const e = await rejection(w.abort());
    expect(e.code).toBe('Unsupported');
    expect(e.message).toMatch(/^AbortMultipartUpload of s3:\/\/lake\/w\/aborted\.bin failed, its uploaded parts stay in the bucket until a lifecycle rule removes them: .*HTTP 405 MethodNotAllowed/);
    expect(requests().some((r) => /^DELETE \/lake\/w\/aborted\.bin\?uploadId=/.test(r))).toBe(true);
    await w.abort();
    expect(await storage.stat('s3://lake/w/aborted.bin')).toBeNull();
  });
});

describe('conditional PUT (If-None-Match: *) and its probe', () => {
  it('s3rver does not honour it: the probe says so, and requireConditionalPut refuses naming the store', async () => {
    const { storage, requests } = proxied({ probeId: () => 'p1' });
    expect(await storage.putIfAbsent('s3://lake/c/x', 'first')).toBe(true);
    // s3rver overwrites: this is exactly what the probe must detect.
    expect(await storage.putIfAbsent('s3://lake/c/x', 'second')).toBe(true);
    expect(await storage.conditionalPutSupported('s3://lake/c/table')).toBe(false);
    const e = await rejection(requireConditionalPut(storage, 's3://lake/c/table/metadata/v2.metadata.json'));
    expect(e.code).toBe('Unsupported');
    expect(e.message).toBe(
      `S3 ${proxy.endpoint} does not honour conditional PUT (If-None-Match: *) for s3://lake/c/table/metadata/v2.metadata.json: a second create of a probe object succeeded, so commits there could overwrite each other; use a store that supports conditional writes`,
    );
    const puts = requests().filter((r) => r.includes('.tidemark-conditional-put-probe-p1'));
    // Checked once per bucket: two PUTs and a DELETE of the probe, even with the second call.
    expect(puts).toEqual(['PUT /lake/c/table/.tidemark-conditional-put-probe-p1', 'PUT /lake/c/table/.tidemark-conditional-put-probe-p1', 'DELETE /lake/c/table/.tidemark-conditional-put-probe-p1']);
    expect(proxy.requests.filter((r) => r.headers['if-none-match'] === '*').length).toBeGreaterThanOrEqual(4);
    expect(await storage.listRecursive('s3://lake/c/table')).toEqual([]);
  });

  it('a store that honours it: the probe passes, the second create returns false and keeps the first bytes', async () => {
    const { storage, requests } = proxied({ probeId: () => 'p2' });
    honourConditionalPut(proxy, s3.port);
    expect(await storage.conditionalPutSupported('s3://lake/d/table')).toBe(true);
    await requireConditionalPut(storage, 's3://lake/d/table/metadata/v1.metadata.json');
    expect(requests().filter((r) => r.includes('probe')).length).toBe(3);
    expect(await storage.putIfAbsent('s3://lake/d/table/metadata/v1.metadata.json', 'writer A')).toBe(true);
    expect(await storage.putIfAbsent('s3://lake/d/table/metadata/v1.metadata.json', 'writer B')).toBe(false);
    expect(new TextDecoder().decode(await storage.readFile('s3://lake/d/table/metadata/v1.metadata.json'))).toBe('writer A');
    // Five writers race for v2: exactly one wins.
    const wins = await Promise.all([1, 2, 3, 4, 5].map((i) => storage.putIfAbsent('s3://lake/d/table/metadata/v2.metadata.json', `writer ${i}`)));
    expect(wins.filter(Boolean).length).toBe(1);
    const winner = wins.indexOf(true) + 1;
    expect(new TextDecoder().decode(await storage.readFile('s3://lake/d/table/metadata/v2.metadata.json'))).toBe(`writer ${winner}`);
  });

  it('an answer lost after the store created the object: the retry sees 412, reads back its own bytes, and reports the create', async () => {
    const { storage, requests } = proxied();
    honourConditionalPut(proxy, s3.port);
    const honour = proxy.decide;
    let cut = 0;
    proxy.decide = async (req, n) => {
      const answer = await honour(req, n);
      // The first PUT reaches s3rver, but its answer never comes back.
      return 'forward' in answer && req.method === 'PUT' && cut++ === 0 ? { ...answer, dropReply: true } : answer;
    };
    expect(await storage.putIfAbsent('s3://lake/lost/v1.metadata.json', 'writer A, uuid 1')).toBe(true);
    expect(requests().filter((r) => r.startsWith('PUT')).length).toBe(2);
    expect(requests().at(-1)).toBe('GET /lake/lost/v1.metadata.json');
    // Another writer's object met by the retry is a lost race, not ours.
    await storage.writeFile('s3://lake/lost/v2.metadata.json', 'writer B');
    let puts = 0;
    // The first try is cut off before the store sees it; the retry meets writer B's object.
    proxy.decide = (req) => (req.method !== 'PUT' ? { forward: true } : ++puts === 1 ? { drop: true } : { status: 412, body: s3ErrorXml('PreconditionFailed', 'exists') });
    expect(await storage.putIfAbsent('s3://lake/lost/v2.metadata.json', 'writer A, uuid 2')).toBe(false);
    expect(new TextDecoder().decode(await storage.readFile('s3://lake/lost/v2.metadata.json'))).toBe('writer B');
  });

  it('a probe that could not reach the store is not remembered as an answer', async () => {
    const { storage } = proxied({ maxAttempts: 1, probeId: () => 'p3' });
    proxy.decide = () => ({ drop: true });
    const e = await rejection(storage.conditionalPutSupported('s3://lake/f/table'));
    expect(e.code).toBe('Io');
    proxy.decide = () => ({ forward: true });
    expect(await storage.conditionalPutSupported('s3://lake/f/table')).toBe(false);
  });

  it('409 ConditionalRequestConflict is retried until the store decides', async () => {
    const { storage } = proxied();
    let conflicts = 0;
    proxy.decide = (req) => (req.method === 'PUT' && conflicts++ < 1 ? { status: 409, body: s3ErrorXml('ConditionalRequestConflict', 'retry') } : { forward: true });
    expect(await storage.putIfAbsent('s3://lake/e/x', 'x')).toBe(true);
    expect(conflicts).toBe(2);
  });
});

describe('ranged reads', () => {
  it('readRanges sends the ranges as parallel GETs (none is answered before all three are asked) and returns each', async () => {
    const { storage, requests } = proxied();
    const bytes = pattern(100_000, 5);
    await storage.writeFile('s3://lake/ranges/f.bin', bytes);
    const before = requests().length;
    const held: (() => void)[] = [];
    proxy.decide = (req) =>
      req.headers.range
        ? new Promise<ProxyAnswer>((resolve) => {
            held.push(() => resolve({ forward: true }));
            if (held.length === 3) for (const release of held) release();
          })
        : { forward: true };
    const parts = await storage.readRanges!('s3://lake/ranges/f.bin', [
      { offset: 0, length: 10 },
      { offset: 50_000, length: 1000 },
      { offset: 99_990, length: 100 },
    ]);
    expect(parts.map(sha)).toEqual([bytes.slice(0, 10), bytes.slice(50_000, 51_000), bytes.slice(99_990)].map(sha));
    expect(parts.map((p) => p.length)).toEqual([10, 1000, 10]);
    expect(requests().slice(before).sort()).toEqual(['GET /lake/ranges/f.bin', 'GET /lake/ranges/f.bin', 'GET /lake/ranges/f.bin']);
  });

  it('a ranged answer cut short before the end of the object is Io naming the object and the bytes, never short data', async () => {
    const { storage } = proxied();
    await storage.writeFile('s3://lake/ranges/cut.bin', pattern(5000, 9));
    proxy.decide = (req) => (req.headers.range ? { status: 206, body: 'x'.repeat(100), headers: { 'content-range': 'bytes 1000-1999/5000' } } : { forward: true });
    const cut = await rejection(storage.readRange('s3://lake/ranges/cut.bin', 1000, 1000));
    expect(cut.code).toBe('Io');
    expect(cut.message).toBe(`S3 GET s3://lake/ranges/cut.bin bytes 1000-1999: truncated answer from S3 ${proxy.endpoint}: 100 of 1000 bytes`);
    // At the end of the object fewer bytes are the right answer.
    proxy.decide = () => ({ forward: true });
    expect((await storage.readRange('s3://lake/ranges/cut.bin', 4900, 1000)).length).toBe(100);
  });
});

describe('retries, timeouts and unreachable endpoints', () => {
  it('503 SlowDown twice, then the answer: three GETs, the bytes arrive', async () => {
    const { storage, requests } = proxied();
    await storage.writeFile('s3://lake/r/a', 'payload');
    const before = requests().length;
    let n = 0;
    proxy.decide = () => (++n <= 2 ? { status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') } : { forward: true });
    expect(new TextDecoder().decode(await storage.readFile('s3://lake/r/a'))).toBe('payload');
    expect(requests().slice(before)).toEqual(['GET /lake/r/a', 'GET /lake/r/a', 'GET /lake/r/a']);
  });

  it('429 and 500 are retried; a 4xx other than 404/409/429 is not', async () => {
    const { storage, requests } = proxied();
    await storage.writeFile('s3://lake/r/b', 'b');
    const answers = [429, 500];
    proxy.decide = () => (answers.length ? { status: answers.shift()!, body: s3ErrorXml('Busy', 'busy') } : { forward: true });
    const before = requests().length;
    expect(new TextDecoder().decode(await storage.readFile('s3://lake/r/b'))).toBe('b');
    expect(requests().length - before).toBe(3);
    proxy.decide = () => ({ status: 400, body: s3ErrorXml('InvalidRequest', 'no') });
    const at = requests().length;
    const e = await rejection(storage.readFile('s3://lake/r/b'));
    expect(e.code).toBe('Unsupported');
    expect(requests().length - at).toBe(1);
  });

  it('gives up after maxAttempts with an Io error naming the object, the status and the attempts', async () => {
    const { storage, requests } = proxied({ maxAttempts: 3 });
    proxy.decide = () => ({ status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') });
    const e = await rejection(storage.readRange('s3://lake/r/a', 0, 3));
    expect(e.code).toBe('Io');
    expect(e.message).toBe(`S3 GET s3://lake/r/a failed: HTTP 503 SlowDown: Please reduce your request rate. (3 attempts at ${proxy.endpoint})`);
    expect(e.context).toMatchObject({ bucket: 'lake', key: 'r/a', status: 503, attempts: 3 });
    expect(requests().length).toBe(3);
  });

  it('a bucket in another region is InvalidInput naming both regions', async () => {
    const { storage } = proxied({ region: 'us-east-1' });
    proxy.decide = () => ({ status: 301, body: s3ErrorXml('PermanentRedirect', 'The bucket you are attempting to access must be addressed using the specified endpoint.') });
    const e = await rejection(storage.readFile('s3://lake/r/a'));
    expect(e.code).toBe('InvalidInput');
    expect(e.message).toMatch(/^S3 GET s3:\/\/lake\/r\/a: bucket lake is in another region, not us-east-1 \(PermanentRedirect: .*\); set AWS_REGION or the endpoint of that region$/);
  });

  it('a dropped connection is retried', async () => {
    const { storage, requests } = proxied();
    await storage.writeFile('s3://lake/r/c', 'c');
    let n = 0;
    proxy.decide = () => (++n === 1 ? { drop: true } : { forward: true });
    expect(new TextDecoder().decode(await storage.readFile('s3://lake/r/c'))).toBe('c');
    expect(requests().filter((r) => r === 'GET /lake/r/c').length).toBe(2);
  });

  it('a request that hangs times out and is retried; one that always hangs fails naming the timeout', async () => {
    const { storage, requests } = proxied({ timeoutMs: 300, maxAttempts: 2 });
    await storage.writeFile('s3://lake/r/d', 'd');
    let n = 0;
    proxy.decide = () => (++n === 1 ? { hang: true } : { forward: true });
    expect(new TextDecoder().decode(await storage.readFile('s3://lake/r/d'))).toBe('d');
    expect(requests().filter((r) => r === 'GET /lake/r/d').length).toBe(2);
    proxy.decide = () => ({ hang: true });
    const started = Date.now();
    const e = await rejection(storage.stat('s3://lake/r/d'));
    expect(e.code).toBe('Io');
    expect(e.message).toBe(`S3 HEAD s3://lake/r/d failed: timed out after 300 ms (2 attempts at ${proxy.endpoint})`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('an endpoint where nothing listens: Io naming the endpoint and the reason', async () => {
    const closed = await startHttpProxy(s3.port);
    const endpoint = closed.endpoint;
    await closed.close();
    const storage = createS3Storage({ endpoint, credentials: S3RVER_CREDENTIALS, env: {}, retryBaseMs: 1, maxAttempts: 2 });
    const e = await rejection(storage.readFile('s3://lake/r/a'));
    expect(e.code).toBe('Io');
    expect(e.message).toMatch(new RegExp(`^S3 GET s3://lake/r/a failed: cannot reach ${endpoint.replace(/\./g, '\\.')} \\(fetch failed: .*ECONNREFUSED.*\\) \\(2 attempts`));
  });
});
