import { request as httpRequest } from 'node:http';
import type { LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { createS3Storage, type S3StorageOptions } from '../../core/storage/s3/index';
import type { WritableStorage } from '../../core/storage';
import { S3RVER_CREDENTIALS, s3ErrorXml, startHttpProxy, startS3rver, type HttpProxy, type S3Server } from '../support/s3-server';

let s3: S3Server;
let proxy: HttpProxy;

beforeAll(async () => {
  s3 = await startS3rver(['lake', 'pages']);
  proxy = await startHttpProxy(s3.port);
});
afterAll(async () => {
  await proxy.close();
  await s3.close();
});

function storage(options: S3StorageOptions = {}): WritableStorage {
  return createS3Storage({ endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, env: {}, retryBaseMs: 1, ...options });
}

/** The storage behind the recording proxy; `requests()` lists what it sent since the call. */
function proxied(options: S3StorageOptions = {}) {
  proxy.decide = () => ({ forward: true });
  const from = proxy.requests.length;
  return { storage: storage({ endpoint: proxy.endpoint, ...options }), requests: () => proxy.requests.slice(from) };
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

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('S3 storage: reads and writes against s3rver', () => {
  it('writes, reads whole files and byte ranges, stats files and folders', async () => {
    const st = storage();
    await st.writeFile('s3://lake/t1/data/a.txt', '0123456789');
    await st.writeFile('s3://lake/t1/metadata/v1.metadata.json', bytes('{"v":1}'));
    expect(text(await st.readFile('s3://lake/t1/data/a.txt'))).toBe('0123456789');
    expect(text(await st.readRange('s3://lake/t1/data/a.txt', 2, 3))).toBe('234');
    // Fewer bytes only at the end of the file, none past it (as on local disk).
    expect(text(await st.readRange('s3://lake/t1/data/a.txt', 8, 10))).toBe('89');
    expect(await st.readRange('s3://lake/t1/data/a.txt', 10, 4)).toEqual(new Uint8Array(0));
    expect(await st.readRange('s3://lake/t1/data/a.txt', 3, 0)).toEqual(new Uint8Array(0));
    const info = await st.stat('s3://lake/t1/data/a.txt');
    expect(info?.size).toBe(10);
    expect(Math.abs(info!.mtimeMs - Date.now())).toBeLessThan(60_000);
    expect(await st.stat('s3://lake/t1/data')).toEqual({ size: 0, mtimeMs: 0 });
    expect(await st.stat('s3://lake/t1/')).toEqual({ size: 0, mtimeMs: 0 });
    expect(await st.stat('s3://lake/t1/nothing')).toBeNull();
    expect(await st.stat('s3://no-such-bucket/x')).toBeNull();
  });

  it('a store that ignores Range (200 with the whole object) still yields just the range', async () => {
    const { storage: st, requests } = proxied();
    await st.writeFile('s3://lake/norange/a', 'abcdefghij');
    proxy.decide = () => ({ forward: true, dropHeaders: ['range'] });
    expect(text(await st.readRange('s3://lake/norange/a', 3, 4))).toBe('defg');
    expect(text(await st.readRange('s3://lake/norange/a', 8, 4))).toBe('ij');
    expect(requests().at(-1)!.headers.range).toBe('bytes=8-11');
  });

  it('lists a folder: sub-folders and files sorted by name; a missing folder is NotFound', async () => {
    const st = storage();
    for (const k of ['t2/b.txt', 't2/a.txt', 't2/z/1.txt', 't2/m/2.txt', 't2/m/n/3.txt']) await st.writeFile(`s3://lake/${k}`, k);
    expect(await st.list('s3://lake/t2')).toEqual([
      { name: 'a.txt', kind: 'file' },
      { name: 'b.txt', kind: 'file' },
      { name: 'm', kind: 'directory' },
      { name: 'z', kind: 'directory' },
    ]);
    expect(await st.list('s3://lake/t2/m/')).toEqual([
      { name: '2.txt', kind: 'file' },
      { name: 'n', kind: 'directory' },
    ]);
    expect((await st.listRecursive('s3://lake/t2')).map((e) => [e.path, e.size])).toEqual([
      ['s3://lake/t2/a.txt', 8],
      ['s3://lake/t2/b.txt', 8],
      ['s3://lake/t2/m/2.txt', 10],
      ['s3://lake/t2/m/n/3.txt', 12],
      ['s3://lake/t2/z/1.txt', 10],
    ]);
    // LastModified (whole seconds) of objects written by this test: within the last ten minutes.
    for (const e of await st.listRecursive('s3://lake/t2')) expect(Math.abs(Date.now() - e.mtimeMs)).toBeLessThan(600_000);
    expect(await st.listRecursive('s3://lake/t2/none')).toEqual([]);
    const missing = await rejection(st.list('s3://lake/t2/none'));
    expect(missing.code).toBe('NotFound');
    expect(missing.message).toContain('s3://lake/t2/none');
  });

  it('pages through ListObjectsV2 with continuation tokens (max-keys 2)', async () => {
    const { storage: st, requests } = proxied({ listPageSize: 2 });
    const names = ['f0', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    for (const n of names) await st.writeFile(`s3://pages/p/${n}`, n);
    for (const n of ['x/1', 'x/2', 'x/y/3']) await st.writeFile(`s3://pages/p/${n}`, n);
    const listed = await st.list('s3://pages/p');
    expect(listed).toEqual([...names.map((name) => ({ name, kind: 'file' })), { name: 'x', kind: 'directory' }]);
    const lists = () => requests().filter((r) => r.method === 'GET' && r.url.includes('list-type=2'));
    // 8 entries at 2 per page: 4 pages, each after the first sending the previous page's token.
    expect(lists().length).toBe(4);
    expect(lists().slice(1).every((r) => r.url.includes('continuation-token='))).toBe(true);
    const before = lists().length;
    expect((await st.listRecursive('s3://pages/p')).map((e) => e.path.slice('s3://pages/p/'.length))).toEqual([...names, 'x/1', 'x/2', 'x/y/3']);
    expect(lists().length - before).toBe(5);
  });

  it('deletes files; deleting a missing file is not an error', async () => {
    const st = storage();
    await st.writeFile('s3://lake/del/a', 'a');
    await st.delete('s3://lake/del/a');
    expect(await st.stat('s3://lake/del/a')).toBeNull();
    await st.delete('s3://lake/del/a');
  });

  it('keys with spaces, unicode and reserved characters round-trip (signature included)', async () => {
    const st = storage();
    const path = "s3://lake/odd/a b/ü+=,(x)!*'~.txt";
    await st.writeFile(path, 'odd');
    expect(text(await st.readFile(path))).toBe('odd');
    expect(await st.list('s3://lake/odd/a b')).toEqual([{ name: "ü+=,(x)!*'~.txt", kind: 'file' }]);
  });

  it('404 is NotFound naming the bucket and key; a missing bucket is named too', async () => {
    const st = storage();
    const e = await rejection(st.readFile('s3://lake/t1/missing.parquet'));
    expect(e.code).toBe('NotFound');
    expect(e.message).toMatch(/^not found: s3:\/\/lake\/t1\/missing\.parquet \(NoSuchKey/);
    expect(e.context).toMatchObject({ bucket: 'lake', key: 't1/missing.parquet', status: 404 });
    const r = await rejection(st.readRange('s3://lake/t1/missing.parquet', 0, 4));
    expect(r.code).toBe('NotFound');
    const b = await rejection(st.readFile('s3://no-such-bucket/k'));
    expect(b.code).toBe('NotFound');
    expect(b.message).toContain('bucket not found: no-such-bucket');
  });

  it('signs with SigV4: credential scope, signed headers, session token', async () => {
    const { storage: st, requests } = proxied({ credentials: { ...S3RVER_CREDENTIALS, sessionToken: 'token-1' }, region: 'eu-west-3' });
    await st.writeFile('s3://lake/signed/a', 'a');
    const auth = String(requests()[0]!.headers.authorization);
    expect(auth).toMatch(/^AWS4-HMAC-SHA256 Credential=S3RVER\/\d{8}\/eu-west-3\/s3\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/);
    expect(auth).toContain('host;');
    expect(auth).toContain('x-amz-date');
    expect(requests()[0]!.headers['x-amz-security-token']).toBe('token-1');
    const anonymous = proxied({ credentials: null });
    await anonymous.storage.readFile('s3://lake/signed/a');
    expect(anonymous.requests()[0]!.headers.authorization).toBeUndefined();
  });

  it('403 is an Io error naming the object, without the secret', async () => {
    const { storage: st } = proxied({ credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'not-the-secret-42' } });
    proxy.decide = () => ({ status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') });
    const e = await rejection(st.readFile('s3://lake/t1/data/a.txt'));
    expect(e.code).toBe('Io');
    expect(e.message).toBe(`S3 GET s3://lake/t1/data/a.txt: access denied at ${proxy.endpoint} (AccessDenied: Access Denied); check the credentials and the bucket policy`);
    expect(JSON.stringify({ m: e.message, c: e.context })).not.toContain('not-the-secret-42');
  });

  it('bad paths are InvalidInput naming the text', async () => {
    const e = await rejection(storage().readFile('s3:///key-without-bucket'));
    expect(e.code).toBe('InvalidInput');
    expect(e.message).toContain('"s3:///key-without-bucket"');
  });

  it('virtual-hosted addressing: the bucket is in the host name (resolved to s3rver on loopback)', async () => {
    const seen: string[] = [];
    // Every host name resolves to 127.0.0.1, so the request reaches s3rver with the AWS-style Host.
    const lookup = ((_host: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
      options.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as unknown as LookupFunction;
    const loopbackFetch: typeof fetch = async (input, init) => {
      const url = new URL(String(input));
      seen.push(`${init?.method} ${url.href}`);
      return new Promise<Response>((resolve, reject) => {
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: url.pathname + url.search, method: init?.method, headers: Object.fromEntries(new Headers(init?.headers)), lookup },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const headers = new Headers();
              for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
              const empty = res.statusCode === 204 || res.statusCode === 304 || init?.method === 'HEAD';
              resolve(new Response(empty ? null : Buffer.concat(chunks), { status: res.statusCode, headers }));
            });
          },
        );
        req.on('error', reject);
        req.end(init?.body ? Buffer.from(init.body as Uint8Array) : undefined);
      });
    };
    const st = storage({ endpoint: `http://s3.us-east-1.amazonaws.com:${s3.port}`, pathStyle: false, fetch: loopbackFetch });
    await st.writeFile('s3://lake/vhost/a b.txt', 'virtual');
    expect(new TextDecoder().decode(await st.readFile('s3://lake/vhost/a b.txt'))).toBe('virtual');
    expect(await st.list('s3://lake/vhost')).toEqual([{ name: 'a b.txt', kind: 'file' }]);
    expect(seen.slice(0, 2)).toEqual([`PUT http://lake.s3.us-east-1.amazonaws.com:${s3.port}/vhost/a%20b.txt`, `GET http://lake.s3.us-east-1.amazonaws.com:${s3.port}/vhost/a%20b.txt`]);
    expect(seen[2]).toBe(`GET http://lake.s3.us-east-1.amazonaws.com:${s3.port}/?list-type=2&prefix=vhost%2F&max-keys=1000&delimiter=%2F`);
  });
});
