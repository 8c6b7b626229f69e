/**
 * Loopback S3 for every test that needs object storage (storage, CLI, catalog, app, sync):
 * s3rver (a real S3 HTTP API, buckets as folders) in a child process on 127.0.0.1 and a random
 * port, an HTTP proxy in front of it that the tests steer (answer an error, hang, drop the
 * connection, or forward), which also records every request, and `uploadFolder` to copy a local
 * lake into it. `startS3Lake` is the usual combination for writers: s3rver behind a proxy that
 * honours conditional PUTs as AWS S3 does.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { createLocalWritableStorage } from '../../core/storage/node/writable';
import { createS3Storage, parseS3Url, type S3StorageOptions } from '../../core/storage/s3/index';
import type { WritableStorage } from '../../core/storage';
import { REPO_ROOT } from './fixtures';

/** s3rver's built-in account (s3rver 3.7 accepts any SigV4 signature made with this key id: it does not check them). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3Server {
  endpoint: string;
  port: number;
  close(): Promise<void>;
}

// s3rver 3.7 encrypts its ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node 20)
// refuses unless its legacy provider is on: every truncated listing would be a 500. The flag can
// only be given when Node starts, so s3rver runs in a child process of its own.
const S3RVER_MAIN = `
const S3rver = require('s3rver');
const [directory, buckets] = [process.argv[1], JSON.parse(process.argv[2])];
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
server.run().then((a) => console.log(JSON.stringify({ port: a.port })));
`;

/** s3rver on 127.0.0.1 and a random port, in a fresh temp folder, with `buckets` created. */
export async function startS3rver(buckets: string[]): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'tidemark-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', S3RVER_MAIN, directory, JSON.stringify(buckets)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => { throw new Error('s3rver exited before it listened'); })])) as [string];
  const { port } = JSON.parse(first) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    async close() {
      const exited = once(child, 'exit');
      child.kill();
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export interface SeenRequest {
  method: string;
  /** Path and query as sent, e.g. `/bucket/key?partNumber=1&uploadId=…`. */
  url: string;
  headers: IncomingMessage['headers'];
}

export type ProxyAnswer =
  /** Forward upstream; `after` runs once the upstream answer is in; `dropReply` then cuts the client off instead of answering. */
  | { forward: true; after?: () => void; dropReply?: boolean; dropHeaders?: string[] }
  | { status: number; body?: string; headers?: Record<string, string> } | { hang: true } | { drop: true };

export interface HttpProxy {
  endpoint: string;
  readonly requests: SeenRequest[];
  /** Decides each request's fate; default forwards everything. `n` counts requests from 1. */
  decide: (req: SeenRequest, n: number) => ProxyAnswer | Promise<ProxyAnswer>;
  close(): Promise<void>;
}

export function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** An HTTP proxy on 127.0.0.1 in front of `targetPort`; the Host header is kept, so signatures still verify. */
export async function startHttpProxy(targetPort: number): Promise<HttpProxy> {
  const sockets = new Set<Socket>();
  let count = 0;
  const proxy: HttpProxy = {
    endpoint: '',
    requests: [],
    decide: () => ({ forward: true }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const seen: SeenRequest = { method: req.method!, url: req.url!, headers: req.headers };
      proxy.requests.push(seen);
      const answer = await proxy.decide(seen, ++count);
      if ('hang' in answer) return;
      if ('drop' in answer) {
        req.socket.destroy();
        return;
      }
      if ('status' in answer) {
        res.writeHead(answer.status, { 'content-type': 'application/xml', ...answer.headers });
        res.end(answer.body ?? '');
        return;
      }
      const headers = { ...req.headers };
      for (const h of answer.dropHeaders ?? []) delete headers[h];
      const up = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (upRes) => {
        if (answer.dropReply) {
          upRes.resume();
          upRes.on('end', () => {
            answer.after?.();
            req.socket.destroy();
          });
          return;
        }
        res.writeHead(upRes.statusCode!, upRes.headers);
        upRes.pipe(res);
        upRes.on('end', () => answer.after?.());
      });
      up.on('error', () => {
        answer.after?.();
        res.destroy();
      });
      up.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}

/**
 * Makes a proxy honour `If-None-Match: *` on PUT the way AWS S3 does (412 when the key exists), as
 * s3rver does not: conditional PUTs are serialised, each checked with an unsigned HEAD upstream.
 */
export function honourConditionalPut(proxy: HttpProxy, targetPort: number): void {
  let chain: Promise<void> = Promise.resolve();
  proxy.decide = (req) => {
    if (req.method !== 'PUT' || req.headers['if-none-match'] !== '*') return { forward: true };
    const previous = chain;
    let release!: () => void;
    // The next conditional PUT waits until this one has been refused, or forwarded and stored.
    chain = new Promise<void>((resolve) => (release = resolve));
    return previous.then(async (): Promise<ProxyAnswer> => {
      const head = await fetch(`http://127.0.0.1:${targetPort}${req.url.split('?')[0]}`, { method: 'HEAD' });
      if (head.status !== 200) return { forward: true, after: release };
      release();
      return { status: 412, body: s3ErrorXml('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold') };
    });
  };
}

/**
 * Copies every file of a local folder to `s3Root` byte for byte: the number of files. s3rver 3.7
 * leaves out of a delimited listing the sub-folders that hold only deeper folders (AWS lists them):
 * empty "folder/" marker objects, as S3 consoles and Hadoop's S3A write, work around that; the
 * storage ignores such markers. `folderMarkers: false` writes only the files, as Tidemark's own
 * writers do (what table discovery must find its way through).
 */
export async function uploadFolder(endpoint: string, localRoot: string, s3Root: string, options: { folderMarkers?: boolean } = {}): Promise<number> {
  const local = createLocalWritableStorage();
  const remote = createS3Storage({ endpoint, credentials: S3RVER_CREDENTIALS, env: {} });
  const files = await local.listRecursive(localRoot);
  const folders = new Set<string>();
  for (const f of files) {
    const key = relative(localRoot, f.path).split('\\').join('/');
    await remote.writeFile(`${s3Root}/${key}`, await local.readFile(f.path));
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) folders.add(key.slice(0, i + 1));
  }
  const { bucket, key: prefix } = parseS3Url(s3Root);
  if (options.folderMarkers === false) return files.length;
  for (const folder of folders) {
    const status = (await fetch(`${endpoint}/${bucket}/${prefix}/${folder}`, { method: 'PUT', body: '' })).status;
    if (status !== 200) throw new Error(`folder marker ${prefix}/${folder}: HTTP ${status}`);
  }
  return files.length;
}

/** s3rver with `buckets`, behind a recording proxy that honours `If-None-Match: *` (what a committer needs). */
export interface S3Lake {
  s3: S3Server;
  proxy: HttpProxy;
  /** The proxy's endpoint: where writers and readers go. */
  endpoint: string;
  /** An S3 storage on the proxy with s3rver's credentials (no AWS_* variable read). */
  storage(options?: S3StorageOptions): WritableStorage;
  close(): Promise<void>;
}

export async function startS3Lake(buckets: string[]): Promise<S3Lake> {
  const s3 = await startS3rver(buckets);
  const proxy = await startHttpProxy(s3.port);
  honourConditionalPut(proxy, s3.port);
  return {
    s3,
    proxy,
    endpoint: proxy.endpoint,
    storage: (options = {}) => createS3Storage({ endpoint: proxy.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1', pathStyle: true, env: {}, ...options }),
    async close() {
      await proxy.close();
      await s3.close();
    },
  };
}

/** Which access key ids (and session token) a proxy lets through for keys below a prefix. */
export interface KeyRule {
  /** `bucket/key-prefix`, e.g. `lake/wh/db/orders/`; the longest matching rule decides. */
  prefix: string;
  keyIds: string[];
  /** When set, a request signed with one of `keyIds` other than the first must carry this x-amz-security-token. */
  sessionToken?: string;
}

/** The access key id of a SigV4 Authorization header (`Credential=<id>/<date>/…`), or null when unsigned. */
export function signingKeyId(headers: IncomingMessage['headers']): string | null {
  return /Credential=([^/]+)\//.exec(String(headers.authorization ?? ''))?.[1] ?? null;
}

/**
 * Makes the proxy check who signs, as S3 with scoped credentials would (s3rver checks nothing):
 * a request for an object (or a listing prefix) below a rule's prefix must be signed with one of
 * its key ids (and the session token), else 403 AccessDenied. Allowed requests go on to the
 * proxy's earlier `decide`, unsigned: s3rver knows none of these keys.
 */
export function requireAccessKeys(proxy: HttpProxy, rules: KeyRule[]): void {
  const next = proxy.decide;
  proxy.decide = async (req, n) => {
    const url = new URL(req.url, 'http://s3');
    const [bucket, ...rest] = url.pathname.slice(1).split('/');
    const key = rest.length > 0 && rest.join('/') !== '' ? decodeURIComponent(rest.join('/')) : (url.searchParams.get('prefix') ?? '');
    const target = `${bucket}/${key}`;
    const rule = rules.filter((r) => target.startsWith(r.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
    if (rule) {
      const id = signingKeyId(req.headers);
      const token = req.headers['x-amz-security-token'];
      const tokenOk = rule.sessionToken === undefined || id === rule.keyIds[0] || token === rule.sessionToken;
      if (id === null || !rule.keyIds.includes(id) || !tokenOk) {
        return { status: 403, body: s3ErrorXml('AccessDenied', `key ${id ?? '(unsigned)'} may not reach ${target}`) };
      }
    }
    const answer = await next(req, n);
    return 'forward' in answer ? { ...answer, dropHeaders: [...(answer.dropHeaders ?? []), 'authorization', 'x-amz-security-token', 'x-amz-date', 'x-amz-content-sha256'] } : answer;
  };
}

/** The environment variables Tidemark's S3 settings read (endpoint, region, keys, path style, AWS profiles). */
export const AWS_ENV_KEYS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'TIDEMARK_S3_PATH_STYLE', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'] as const;

/**
 * Points the AWS environment at `endpoint` with `keys` (region us-east-1, path-style addressing,
 * shared config files that do not exist: never the machine's ~/.aws); returns what restores the
 * variables as they were.
 */
export function useAwsEnv(endpoint: string, keys: { accessKeyId: string; secretAccessKey: string }): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const k of AWS_ENV_KEYS) {
    saved[k] = process.env[k];
    delete process.env[k];
  }
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    TIDEMARK_S3_PATH_STYLE: 'true',
    AWS_CONFIG_FILE: join(tmpdir(), 'tidemark-no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmpdir(), 'tidemark-no-aws-credentials'),
  });
  return () => {
    for (const k of AWS_ENV_KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}
