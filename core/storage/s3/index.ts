import { TidemarkError } from '../../errors';
import type { DirEntry, FileInfo, ObjectEntry, WritableStorage } from '../index';
import { createS3Client, formatS3Url, parseS3Url, parseS3Xml, type S3Client, type S3Config } from './client';
import { createS3Writer } from './writer';

export { isS3Url, parseS3Url, resolveS3Config, type S3Config, type S3Credentials } from './client';

interface ListPage {
  files: { key: string; size: number; mtimeMs: number }[];
  prefixes: string[];
  next: string | null;
}

function asArray<T>(v: T[] | T | undefined): T[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The key prefix that lists what is "in" a folder key ('' → the whole bucket). */
function folderPrefix(key: string): string {
  return key ? `${key}/` : '';
}

/**
 * Keys per ListObjectsV2 page of `listFolders` after it skipped a folder: enough to take in a few
 * small tables at once, small enough that landing in a big table's data/ costs a short answer.
 */
const FOLDER_SCAN_PAGE = 100;

/** GETs in flight for one `readRanges` call: a page's column chunks at once, bounded. */
const RANGES_IN_FLIGHT = 32;

export interface S3StorageOptions extends S3Config {
  /** Maximum keys per ListObjectsV2 page (default 1000, S3's own maximum); small values test pagination. */
  listPageSize?: number;
  /** Names the probe object of `conditionalPutSupported` (default: a random UUID). */
  probeId?: () => string;
}

/**
 * The storage port (read and write) over an S3-compatible object store, for `s3://bucket/key`
 * paths (any bucket; the endpoint, region, addressing and credentials come from `config` or the
 * AWS environment variables, see S3Config). Folders are key prefixes: `list` is ListObjectsV2 with
 * a `/` delimiter, `stat` of a prefix that has objects below it is a folder of size 0.
 */
export function createS3Storage(config: S3StorageOptions = {}): WritableStorage {
  const client: S3Client = createS3Client(config);
  const pageSize = config.listPageSize ?? 1000;
  const probeId = config.probeId ?? (() => crypto.randomUUID());
  const probes = new Map<string, Promise<boolean>>();

  async function listPage(bucket: string, prefix: string, delimiter: boolean, token: string | null, maxKeys = pageSize, startAfter: string | null = null): Promise<ListPage> {
    const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': String(maxKeys) };
    if (delimiter) query.delimiter = '/';
    if (token) query['continuation-token'] = token;
    if (startAfter !== null) query['start-after'] = startAfter;
    const res = await client.send({ method: 'GET', bucket, key: '', query });
    const result = parseS3Xml(res.body, `ListObjectsV2 ${formatS3Url(bucket, prefix)}`).ListBucketResult as
      | { Contents?: { Key?: string; Size?: string; LastModified?: string }[]; CommonPrefixes?: { Prefix?: string }[]; IsTruncated?: string; NextContinuationToken?: string }
      | undefined;
    if (!result) throw new TidemarkError('DataInvalid', `ListObjectsV2 ${formatS3Url(bucket, prefix)}: the answer has no ListBucketResult`, { bucket, key: prefix });
    const truncated = result.IsTruncated?.trim() === 'true';
    if (truncated && !result.NextContinuationToken) {
      throw new TidemarkError('DataInvalid', `ListObjectsV2 ${formatS3Url(bucket, prefix)}: truncated answer without a NextContinuationToken`, { bucket, key: prefix });
    }
    return {
      files: asArray(result.Contents).map((c) => ({ key: String(c.Key ?? ''), size: Number(c.Size ?? 0), mtimeMs: Date.parse(String(c.LastModified ?? '')) || 0 })),
      prefixes: asArray(result.CommonPrefixes).map((p) => String(p.Prefix ?? '')),
      next: truncated ? result.NextContinuationToken! : null,
    };
  }

  async function* listAll(bucket: string, prefix: string, delimiter: boolean): AsyncGenerator<ListPage> {
    let token: string | null = null;
    do {
      const page: ListPage = await listPage(bucket, prefix, delimiter, token);
      yield page;
      token = page.next;
    } while (token);
  }

  async function putIfAbsent(path: string, bytes: Uint8Array | string): Promise<boolean> {
    const { bucket, key } = parseS3Url(path);
    // 412: something exists. 409 (ConditionalRequestConflict): a concurrent conditional write on the
    // same key is in flight; S3 asks to retry, after which the loser sees 412.
    const body = toBytes(bytes);
    const res = await client.send({ method: 'PUT', bucket, key, body, headers: { 'if-none-match': '*' }, accept: [412], retryOn: [409] });
    if (res.status !== 412) return true;
    // A retry after a lost answer can meet our own first try's object: it is ours when the bytes are
    // (a commit's metadata carries unique ids), else another writer won. Without this check a
    // committer would take its own commit for a lost race and apply its changes twice.
    if (res.retriedAfterUnknownOutcome) {
      const stored = await client.send({ method: 'GET', bucket, key, accept: [404] });
      return stored.status === 200 && equalBytes(stored.body, body);
    }
    return false;
  }

  async function probeConditionalPut(path: string): Promise<boolean> {
    const { bucket, key } = parseS3Url(path);
    const probe = formatS3Url(bucket, `${folderPrefix(key)}.tidemark-conditional-put-probe-${probeId()}`);
    try {
      if (!(await putIfAbsent(probe, 'probe 1'))) {
        throw new TidemarkError('Internal', `conditional PUT probe: ${probe} already existed before the probe wrote it`, { bucket, key });
      }
      return !(await putIfAbsent(probe, 'probe 2'));
    } catch (e) {
      // A store that rejects the header outright (400/501) does not honour it either.
      if (e instanceof TidemarkError && e.code === 'Unsupported') return false;
      throw e;
    } finally {
      await storage.delete(probe).catch(() => undefined);
    }
  }

  const storage: WritableStorage = {
    storeName: client.storeName,

    async readFile(path) {
      const { bucket, key } = parseS3Url(path);
      return (await client.send({ method: 'GET', bucket, key })).body;
    },

    async readRange(path, offset, length) {
      if (length <= 0) return new Uint8Array(0);
      const { bucket, key } = parseS3Url(path);
      // 416: the range starts at or after the end; like a file read there, that is zero bytes.
      const res = await client.send({ method: 'GET', bucket, key, headers: { range: `bytes=${offset}-${offset + length - 1}` }, accept: [416] });
      if (res.status === 416) return new Uint8Array(0);
      // A store that ignores Range answers 200 with the whole object.
      const bytes = res.status === 206 ? res.body.subarray(0, length) : res.body.subarray(offset, offset + length);
      // Fewer bytes than asked are right only at the end of the object (Content-Range's total): a
      // cut answer must fail here, not reach a decoder as a short column chunk.
      const total = Number(/\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '')?.[1] ?? (res.status === 200 ? res.body.length : NaN));
      const expected = Number.isFinite(total) ? Math.max(0, Math.min(length, total - offset)) : bytes.length;
      if (bytes.length < expected) {
        throw new TidemarkError('Io', `S3 GET ${path} bytes ${offset}-${offset + length - 1}: truncated answer from ${client.storeName}: ${bytes.length} of ${expected} bytes`, { bucket, key, endpoint: client.config.endpoint.origin });
      }
      return bytes;
    },

    // S3 has no multi-range GET: the ranges go as parallel GETs, so a page of 30 column chunks
    // costs one round trip of latency instead of one per chunk (or per wave of a few).
    async readRanges(path, ranges) {
      const out: Uint8Array[] = new Array<Uint8Array>(ranges.length);
      let next = 0;
      const worker = async () => {
        while (next < ranges.length) {
          const i = next++;
          out[i] = await storage.readRange(path, ranges[i]!.offset, ranges[i]!.length);
        }
      };
      await Promise.all(Array.from({ length: Math.min(RANGES_IN_FLIGHT, ranges.length) }, worker));
      return out;
    },

    async stat(path): Promise<FileInfo | null> {
      const { bucket, key } = parseS3Url(path);
      if (key) {
        const res = await client.send({ method: 'HEAD', bucket, key, accept: [404] });
        if (res.status !== 404) {
          const modified = Date.parse(res.headers.get('last-modified') ?? '');
          return { size: Number(res.headers.get('content-length') ?? 0), mtimeMs: Number.isNaN(modified) ? 0 : modified };
        }
      }
      // No object: a "folder" exists when some key lies below it.
      try {
        const page = await listPage(bucket, folderPrefix(key), false, null, 1);
        return page.files.length > 0 ? { size: 0, mtimeMs: 0 } : null;
      } catch (e) {
        if (e instanceof TidemarkError && e.code === 'NotFound') return null;
        throw e;
      }
    },

    async list(path): Promise<DirEntry[]> {
      const { bucket, key } = parseS3Url(path);
      const prefix = folderPrefix(key);
      const entries: DirEntry[] = [];
      for await (const page of listAll(bucket, prefix, true)) {
        for (const p of page.prefixes) entries.push({ name: p.slice(prefix.length).replace(/\/$/, ''), kind: 'directory' });
        // A key equal to the prefix is a folder marker some tools write, not a file in it.
        for (const f of page.files) if (f.key !== prefix) entries.push({ name: f.key.slice(prefix.length), kind: 'file' });
      }
      if (entries.length === 0) {
        throw new TidemarkError('NotFound', `not found: ${formatS3Url(bucket, key)} (no objects below ${JSON.stringify(prefix)} in bucket ${bucket} at ${client.config.endpoint.origin})`, { bucket, key });
      }
      return entries.sort((a, b) => byName(a.name, b.name));
    },

    // Not a delimited listing: s3rver 3.7 leaves out of CommonPrefixes a folder holding only folders
    // (a namespace of table folders, a table of metadata/ and data/), where AWS lists it. Keys are
    // listed without a delimiter instead, and once a key shows a sub-folder the listing skips past
    // it (start-after `<folder>0`: '0' follows '/', so every `<folder>/…` key sorts before it and
    // nothing else that could be a folder does). That is one request per sub-folder holding more
    // than what is left of a page (small ones share a page), plus one per 1000 plain files.
    async listFolders(path): Promise<string[]> {
      const { bucket, key } = parseS3Url(path);
      const prefix = folderPrefix(key);
      const names = new Set<string>();
      let startAfter: string | null = null;
      let maxKeys = pageSize;
      for (;;) {
        const page = await listPage(bucket, prefix, false, null, maxKeys, startAfter);
        for (const f of page.files) {
          const rest = f.key.slice(prefix.length);
          const slash = rest.indexOf('/');
          // A plain file, or an empty segment (`a//b`), which no folder is named.
          if (slash <= 0) continue;
          names.add(rest.slice(0, slash));
        }
        if (!page.next) break;
        const last = page.files[page.files.length - 1]!.key;
        const slash = last.indexOf('/', prefix.length);
        if (slash > prefix.length) {
          startAfter = `${last.slice(0, slash)}0`;
          maxKeys = Math.min(pageSize, FOLDER_SCAN_PAGE);
        } else {
          startAfter = last;
          maxKeys = pageSize;
        }
      }
      return [...names].sort(byName);
    },

    async writeFile(path, bytes) {
      const { bucket, key } = parseS3Url(path);
      await client.send({ method: 'PUT', bucket, key, body: toBytes(bytes) });
    },

    putIfAbsent,

    async delete(path) {
      const { bucket, key } = parseS3Url(path);
      await client.send({ method: 'DELETE', bucket, key, accept: [404] });
    },

    async listRecursive(path): Promise<ObjectEntry[]> {
      const { bucket, key } = parseS3Url(path);
      const out: ObjectEntry[] = [];
      // A missing prefix lists as empty; a missing bucket stays NotFound naming it.
      for await (const page of listAll(bucket, folderPrefix(key), false)) {
        // Keys ending in '/' are folder markers, not files.
        for (const f of page.files) if (!f.key.endsWith('/')) out.push({ path: formatS3Url(bucket, f.key), size: f.size, mtimeMs: f.mtimeMs });
      }
      return out.sort((a, b) => byName(a.path, b.path));
    },

    createWriter(path) {
      const { bucket, key } = parseS3Url(path);
      return createS3Writer(client, bucket, key);
    },

    conditionalPutSupported(path) {
      const { bucket } = parseS3Url(path);
      let probe = probes.get(bucket);
      if (!probe) {
        probe = probeConditionalPut(path);
        // A failed probe (network down) is not an answer: the next call tries again.
        probe.catch(() => probes.delete(bucket));
        probes.set(bucket, probe);
      }
      return probe;
    },
  };
  return storage;
}
