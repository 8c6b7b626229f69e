import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { requireConditionalPut } from '../../core/storage';
import { createLocalWritableStorage } from '../../core/storage/node/writable';
import { resolveS3Config } from '../../core/storage/s3/index';
import { formatRequestUrl } from '../../core/storage/s3/client';
import { storageFor } from '../../core/storage/node/storage-for';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-writable-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function thrown(f: () => unknown): TidemarkError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TidemarkError);
    return e as TidemarkError;
  }
  throw new Error('expected a throw');
}

describe('WritableStorage on the local file system', () => {
  it('writeFile creates folders and replaces; delete is idempotent; listRecursive is sorted', async () => {
    const st = createLocalWritableStorage();
    await st.writeFile(join(dir, 't/metadata/v1.metadata.json'), '{"a":1}');
    await st.writeFile(join(dir, 't/metadata/v1.metadata.json'), '{"a":2}');
    await st.writeFile(join(dir, 't/data/b.parquet'), new Uint8Array([1, 2, 3]));
    await st.writeFile(join(dir, 't/data/a.parquet'), new Uint8Array([1]));
    expect(await readFile(join(dir, 't/metadata/v1.metadata.json'), 'utf8')).toBe('{"a":2}');
    const listed = await st.listRecursive(join(dir, 't'));
    expect(listed.map(({ path, size }) => ({ path, size }))).toEqual([
      { path: join(dir, 't/data/a.parquet'), size: 1 },
      { path: join(dir, 't/data/b.parquet'), size: 3 },
      { path: join(dir, 't/metadata/v1.metadata.json'), size: 7 },
    ]);
    // The modification time orphan removal compares with its threshold.
    for (const f of listed) expect(f.mtimeMs).toBe((await stat(f.path)).mtimeMs);
    await st.delete(join(dir, 't/data/a.parquet'));
    await st.delete(join(dir, 't/data/a.parquet'));
    expect(await st.stat(join(dir, 't/data/a.parquet'))).toBeNull();
    expect(await st.listRecursive(join(dir, 'missing'))).toEqual([]);
    // No temp files are left beside what was written.
    expect(await readdir(join(dir, 't/metadata'))).toEqual(['v1.metadata.json']);
  });

  it('putIfAbsent publishes once: the second create is false and the first bytes stay; racing writers, one wins', async () => {
    const st = createLocalWritableStorage();
    const path = join(dir, 't/metadata/v1.metadata.json');
    expect(await st.putIfAbsent(path, 'A')).toBe(true);
    expect(await st.putIfAbsent(path, 'B')).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('A');
    const v2 = join(dir, 't/metadata/v2.metadata.json');
    const wins = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => st.putIfAbsent(v2, `writer ${i}`)));
    expect(wins.filter(Boolean).length).toBe(1);
    expect(await readFile(v2, 'utf8')).toBe(`writer ${wins.indexOf(true) + 1}`);
    expect((await readdir(join(dir, 't/metadata'))).sort()).toEqual(['v1.metadata.json', 'v2.metadata.json']);
    expect(await st.conditionalPutSupported(path)).toBe(true);
    await requireConditionalPut(st, path);
  });

  it('the streaming writer publishes at close only; abort leaves nothing', async () => {
    const st = createLocalWritableStorage();
    const path = join(dir, 'out/big.bin');
    const w = st.createWriter(path);
    await w.write(new Uint8Array(1000).fill(7));
    expect(await st.stat(path)).toBeNull();
    await w.write(new Uint8Array(24).fill(8));
    expect(await w.close()).toBe(1024);
    const back = await st.readFile(path);
    expect([back.length, back[0], back[1023]]).toEqual([1024, 7, 8]);
    const a = st.createWriter(join(dir, 'out/aborted.bin'));
    await a.write(new Uint8Array(10));
    await a.abort();
    expect(await readdir(join(dir, 'out'))).toEqual(['big.bin']);
    await expect(a.write(new Uint8Array(1))).rejects.toThrow(/already aborted/);
  });

  it('a write into a path below a file fails naming the path', async () => {
    const st = createLocalWritableStorage();
    await st.writeFile(join(dir, 'f'), 'x');
    const e = await st.writeFile(join(dir, 'f/child'), 'y').then(
      () => null,
      (err: unknown) => err as TidemarkError,
    );
    expect(e).toBeInstanceOf(TidemarkError);
    expect(e!.message).toContain(join(dir, 'f'));
  });
});

describe('storageFor and the S3 configuration from the environment', () => {
  it('s3:// paths go to S3 (trailing slash dropped, s3a accepted), others to the local disk', () => {
    const s3 = storageFor('s3://bucket/warehouse/db/t/', { env: {} });
    expect([s3.kind, s3.path, s3.storage.storeName]).toEqual(['s3', 's3://bucket/warehouse/db/t', 'S3 https://s3.us-east-1.amazonaws.com']);
    expect(storageFor('s3a://bucket/t', { env: {} }).path).toBe('s3://bucket/t');
    const local = storageFor('lake/t', { cwd: dir });
    expect([local.kind, local.path, local.storage.storeName]).toEqual(['local', resolve(dir, 'lake/t'), 'local file system']);
    expect(storageFor('file:///tmp/x/t').path).toBe('/tmp/x/t');
  });

  it('reads endpoint, region, path style and credentials from AWS_* and TIDEMARK_S3_PATH_STYLE', () => {
    const cfg = resolveS3Config({
      env: {
        AWS_ENDPOINT_URL: 'http://minio.internal:9000',
        AWS_REGION: 'eu-central-1',
        TIDEMARK_S3_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: 'AK',
        AWS_SECRET_ACCESS_KEY: 'SK',
        AWS_SESSION_TOKEN: 'ST',
      },
    });
    expect([cfg.endpoint.href, cfg.region, cfg.pathStyle, cfg.credentials]).toEqual(['http://minio.internal:9000/', 'eu-central-1', true, { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: 'ST' }]);
    // AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL; an IP endpoint defaults to path style; config wins over env.
    const ip = resolveS3Config({ env: { AWS_ENDPOINT_URL: 'http://a:1', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_DEFAULT_REGION: 'us-west-2' } });
    expect([ip.endpoint.origin, ip.pathStyle, ip.region, ip.credentials]).toEqual(['http://127.0.0.1:9000', true, 'us-west-2', null]);
    expect(resolveS3Config({ env: {}, region: 'ap-south-1' }).endpoint.origin).toBe('https://s3.ap-south-1.amazonaws.com');
    expect(resolveS3Config({ env: {} }).pathStyle).toBe(false);
    expect(resolveS3Config({ env: { AWS_REGION: 'x' }, region: 'y', pathStyle: true }).region).toBe('y');
  });

  it('bad settings are InvalidInput naming the variable or value', () => {
    expect(thrown(() => resolveS3Config({ env: { AWS_ACCESS_KEY_ID: 'AK' } })).message).toBe('S3 credentials: AWS_SECRET_ACCESS_KEY is not set while its pair is');
    expect(thrown(() => resolveS3Config({ env: { TIDEMARK_S3_PATH_STYLE: 'maybe' } })).message).toBe('TIDEMARK_S3_PATH_STYLE expects true or false, found "maybe"');
    expect(thrown(() => resolveS3Config({ env: { AWS_ENDPOINT_URL: 'not a url' } })).message).toBe('S3 endpoint is not a URL: "not a url"');
    expect(thrown(() => resolveS3Config({ env: {}, endpoint: 'ftp://x' })).code).toBe('InvalidInput');
  });

  it('request URLs: path-style, virtual-hosted, dotted buckets over https, endpoint paths, encoded keys', () => {
    const aws = resolveS3Config({ env: {}, region: 'eu-west-1' });
    expect(formatRequestUrl(aws, { bucket: 'lake', key: 'w/a b/c+d.parquet' })).toBe('https://lake.s3.eu-west-1.amazonaws.com/w/a%20b/c%2Bd.parquet');
    expect(formatRequestUrl(aws, { bucket: 'my.lake', key: 'k' })).toBe('https://s3.eu-west-1.amazonaws.com/my.lake/k');
    expect(formatRequestUrl(aws, { bucket: 'lake', key: '', query: { 'list-type': '2', prefix: 'a/b/', delimiter: '/' } })).toBe('https://lake.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=a%2Fb%2F&delimiter=%2F');
    const minio = resolveS3Config({ env: {}, endpoint: 'http://127.0.0.1:9000/base/' });
    expect(formatRequestUrl(minio, { bucket: 'lake', key: "x/(1)!*'.txt", query: { uploads: '' } })).toBe("http://127.0.0.1:9000/base/lake/x/%281%29%21%2A%27.txt?uploads");
    expect(formatRequestUrl(minio, { bucket: 'lake', key: '' })).toBe('http://127.0.0.1:9000/base/lake');
  });
});
