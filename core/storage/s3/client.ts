/**
 * The HTTP side of the S3 storage: configuration (from the caller or the usual AWS environment
 * variables), request URLs for path-style and virtual-hosted addressing, SigV4 signing (aws4fetch),
 * retries with backoff, per-request timeouts, and S3 error bodies turned into TidemarkError
 * sentences naming the bucket and key. Credentials go only into signed headers, never into an
 * error message or context.
 */
import { AwsV4Signer } from 'aws4fetch';
import type { XMLParser } from 'fast-xml-parser';
import { TidemarkError, type ErrorContext } from '../../errors';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Config {
  /** e.g. `http://127.0.0.1:9000`; default `https://s3.<region>.amazonaws.com` (env AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL). */
  endpoint?: string;
  /** Signing region; default env AWS_REGION, AWS_DEFAULT_REGION, else `us-east-1`. */
  region?: string;
  /**
   * Path-style (`endpoint/bucket/key`) rather than virtual-hosted (`bucket.endpoint/key`)
   * addressing. Default: env TIDEMARK_S3_PATH_STYLE, else path-style only for an endpoint whose
   * host is an IP address or `localhost` (no bucket subdomains there).
   */
  pathStyle?: boolean;
  /** Default: env AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; `null` (or none set) sends unsigned requests. */
  credentials?: S3Credentials | null;
  /** Where the AWS_* variables are read; default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Tries per request, the first included (default 4). */
  maxAttempts?: number;
  /** Backoff before retry n: min(retryMaxMs, retryBaseMs · 2^(n-1)), half to all of it (default 100 ms, 5 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Per request, headers and body included (default 30 s). */
  timeoutMs?: number;
  /** Multipart part size in bytes (default 8 MiB; S3 wants at least 5 MiB for every part but the last). */
  partSizeBytes?: number;
  /** A writer whose file grows above this many bytes uses multipart upload (default: the part size). */
  multipartThresholdBytes?: number;
  fetch?: typeof fetch;
}

export interface ResolvedS3Config {
  endpoint: URL;
  region: string;
  pathStyle: boolean;
  credentials: S3Credentials | null;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  timeoutMs: number;
  partSizeBytes: number;
  multipartThresholdBytes: number;
  fetch: typeof fetch;
}

export interface S3Location {
  bucket: string;
  /** Object key or key prefix, without a leading or trailing slash ('' for the bucket root). */
  key: string;
}

const S3_URL = /^s3a?:\/\/([^/]*)(?:\/(.*))?$/i;

/** True for `s3://…` (and Hadoop's `s3a://…`) paths. */
export function isS3Url(path: string): boolean {
  return /^s3a?:\/\//i.test(path);
}

/** `s3://bucket/a/b/` → {bucket, key: 'a/b'}; InvalidInput naming the text when it has no bucket. */
export function parseS3Url(url: string): S3Location {
  const m = S3_URL.exec(url.trim());
  if (!m || !m[1]) throw new TidemarkError('InvalidInput', `expected an s3://bucket/key path, found ${JSON.stringify(url)}`, { path: url });
  return { bucket: m[1], key: (m[2] ?? '').replace(/\/{2,}/g, '/').replace(/^\/+|\/+$/g, '') };
}

export function formatS3Url(bucket: string, key: string): string {
  return key ? `s3://${bucket}/${key}` : `s3://${bucket}`;
}

function parseBoolean(name: string, text: string): boolean {
  if (/^(1|true|yes|on)$/i.test(text)) return true;
  if (/^(0|false|no|off)$/i.test(text)) return false;
  throw new TidemarkError('InvalidInput', `${name} expects true or false, found ${JSON.stringify(text)}`, { variable: name });
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new TidemarkError('InvalidInput', `S3 config: ${name} expects a positive number, found ${value}`);
  return value;
}

/** Fills the config from the environment and defaults; InvalidInput for a bad endpoint or half a key pair. */
export function resolveS3Config(config: S3Config = {}): ResolvedS3Config {
  const env = config.env ?? (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
  const region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpointText = config.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? `https://s3.${region}.amazonaws.com`;
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    throw new TidemarkError('InvalidInput', `S3 endpoint is not a URL: ${JSON.stringify(endpointText)}`, { endpoint: endpointText });
  }
  if (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:') {
    throw new TidemarkError('InvalidInput', `S3 endpoint must be http:// or https://, found ${JSON.stringify(endpointText)}`, { endpoint: endpointText });
  }
  const literalHost = /^(localhost|\d+\.\d+\.\d+\.\d+|\[.*\])$/i.test(endpoint.hostname);
  const pathStyle = config.pathStyle ?? (env.TIDEMARK_S3_PATH_STYLE ? parseBoolean('TIDEMARK_S3_PATH_STYLE', env.TIDEMARK_S3_PATH_STYLE) : literalHost);
  let credentials: S3Credentials | null = null;
  if (config.credentials !== undefined) credentials = config.credentials;
  else if (env.AWS_ACCESS_KEY_ID || env.AWS_SECRET_ACCESS_KEY) {
    if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) {
      const missing = env.AWS_ACCESS_KEY_ID ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
      throw new TidemarkError('InvalidInput', `S3 credentials: ${missing} is not set while its pair is`, { variable: missing });
    }
    credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined };
  }
  const partSizeBytes = positive('partSizeBytes', config.partSizeBytes, 8 * 1024 * 1024);
  return {
    endpoint,
    region,
    pathStyle,
    credentials,
    maxAttempts: Math.max(1, Math.floor(positive('maxAttempts', config.maxAttempts, 4))),
    retryBaseMs: positive('retryBaseMs', config.retryBaseMs, 100),
    retryMaxMs: positive('retryMaxMs', config.retryMaxMs, 5000),
    timeoutMs: positive('timeoutMs', config.timeoutMs, 30_000),
    partSizeBytes,
    multipartThresholdBytes: positive('multipartThresholdBytes', config.multipartThresholdBytes, partSizeBytes),
    fetch: config.fetch ?? ((input, init) => fetch(input, init)),
  };
}

/** RFC 3986 encoding of one key segment (encodeURIComponent leaves !'()* as they are; S3 signs them encoded). */
function encodeSegment(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface S3Request {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  bucket: string;
  /** '' for a bucket-level request (listing). */
  key: string;
  /** Query parameters; an empty value is sent as a bare name (`?uploads`). */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** Statuses that are answers rather than errors (404 for HEAD, 412 for a conditional PUT). */
  accept?: number[];
  /** Statuses retried besides 5xx and 429 (409 ConditionalRequestConflict for a conditional PUT). */
  retryOn?: number[];
}

export interface S3Response {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /**
   * True when an earlier try of this request may have reached the store without its answer
   * reaching us (network error, timeout, 5xx): a PUT may then already have taken effect.
   */
  retriedAfterUnknownOutcome: boolean;
}

export interface S3Client {
  readonly config: ResolvedS3Config;
  /** e.g. `S3 http://127.0.0.1:9000`: the store, for messages. */
  readonly storeName: string;
  send(request: S3Request): Promise<S3Response>;
}

/**
 * The XML parser of S3 answers, loaded by the first request (send): fast-xml-parser and its HTML
 * entity table take measurable CPU to load (docs/perf-notes.md), which every thread of a sync into a local folder would
 * pay for nothing. Every parse follows a request, so it is loaded by then.
 */
let xml: XMLParser | null = null;
let xmlLoading: Promise<void> | null = null;

function loadXml(): Promise<void> {
  xmlLoading ??= import('fast-xml-parser').then(({ XMLParser: Parser }) => {
    xml = new Parser({
      ignoreAttributes: true,
      // Keys are text: "007" must not become 7, and leading or trailing spaces belong to the key.
      parseTagValue: false,
      trimValues: false,
      // Some stores escape key characters as numeric references (&#x27;), which plain XML entity handling leaves alone.
      htmlEntities: true,
      isArray: (name) => name === 'Contents' || name === 'CommonPrefixes' || name === 'Part' || name === 'Upload',
    });
  });
  return xmlLoading;
}

function xmlParser(): XMLParser {
  if (!xml) throw new TidemarkError('Internal', 'an S3 answer was parsed before any request loaded the XML parser', {});
  return xml;
}

/** Parses an S3 XML body (ListObjectsV2, InitiateMultipartUpload, Error); DataInvalid naming what was read. */
export function parseS3Xml(body: Uint8Array, what: string): Record<string, unknown> {
  const text = new TextDecoder().decode(body);
  try {
    return xmlParser().parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${what}: the S3 answer is not XML: ${JSON.stringify(text.slice(0, 120))}`, {}, e);
  }
}

/** `Code` and `Message` of an S3 `<Error>` body, or nulls when the body is empty or not one. */
export function readS3Error(body: Uint8Array): { code: string | null; message: string | null } {
  if (body.length === 0) return { code: null, message: null };
  try {
    const err = (xmlParser().parse(new TextDecoder().decode(body)) as { Error?: { Code?: unknown; Message?: unknown } }).Error;
    return { code: typeof err?.Code === 'string' ? err.Code.trim() : null, message: typeof err?.Message === 'string' ? err.Message.trim() : null };
  } catch {
    return { code: null, message: null };
  }
}

function isRetryableStatus(status: number, extra: number[] | undefined): boolean {
  return status >= 500 || status === 429 || (extra?.includes(status) ?? false);
}

function describeCause(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  // undici says only "fetch failed"; the reason (ECONNREFUSED, ECONNRESET, …) is in its cause.
  return cause instanceof Error && cause.message ? `${e.message}: ${cause.message}` : e.message;
}

/**
 * The URL of a request: path-style `endpoint/bucket/key` or virtual-hosted `bucket.endpoint/key`,
 * key segments and query RFC 3986-encoded (the form SigV4 signs).
 */
export function formatRequestUrl(cfg: Pick<ResolvedS3Config, 'endpoint' | 'pathStyle'>, req: Pick<S3Request, 'bucket' | 'key' | 'query'>): string {
  const keyPath = req.key.split('/').map(encodeSegment).join('/');
  const base = cfg.endpoint.pathname.replace(/\/+$/, '');
  let url: string;
  // A dotted bucket name would not match the store's wildcard TLS certificate as a host name.
  if (cfg.pathStyle || (req.bucket.includes('.') && cfg.endpoint.protocol === 'https:')) {
    url = `${cfg.endpoint.protocol}//${cfg.endpoint.host}${base}/${encodeSegment(req.bucket)}${req.key ? `/${keyPath}` : ''}`;
  } else {
    url = `${cfg.endpoint.protocol}//${req.bucket}.${cfg.endpoint.host}${base}/${keyPath}`;
  }
  const query = Object.entries(req.query ?? {}).map(([k, v]) => (v === '' ? encodeSegment(k) : `${encodeSegment(k)}=${encodeSegment(v)}`));
  return query.length ? `${url}?${query.join('&')}` : url;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createS3Client(config: S3Config = {}): S3Client {
  const cfg = resolveS3Config(config);
  const storeName = `S3 ${cfg.endpoint.origin}${cfg.endpoint.pathname.replace(/\/+$/, '')}`;

  const urlOf = (req: S3Request) => formatRequestUrl(cfg, req);

  function context(req: S3Request, extra: ErrorContext = {}): ErrorContext {
    return { bucket: req.bucket, key: req.key, endpoint: cfg.endpoint.origin, ...extra };
  }

  /** One try: sign (a fresh date each time), fetch, read the whole body, all within the timeout. */
  async function attempt(req: S3Request, url: string): Promise<S3Response> {
    // Our bodies are never SharedArrayBuffer views; the DOM typings want that said.
    const body = req.body as Uint8Array<ArrayBuffer> | undefined;
    let headers: Headers = new Headers(req.headers ?? {});
    if (cfg.credentials) {
      const signed = await new AwsV4Signer({
        method: req.method,
        url,
        headers,
        body,
        accessKeyId: cfg.credentials.accessKeyId,
        secretAccessKey: cfg.credentials.secretAccessKey,
        sessionToken: cfg.credentials.sessionToken,
        service: 's3',
        region: cfg.region,
      }).sign();
      headers = signed.headers;
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), cfg.timeoutMs);
    try {
      const res = await cfg.fetch(url, { method: req.method, headers, body, signal: controller.signal });
      const bytes = req.method === 'HEAD' ? new Uint8Array(0) : new Uint8Array(await res.arrayBuffer());
      return { status: res.status, headers: res.headers, body: bytes, retriedAfterUnknownOutcome: false };
    } catch (e) {
      if (controller.signal.aborted) throw new TimeoutError(cfg.timeoutMs);
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async function send(req: S3Request): Promise<S3Response> {
    if (!xml) await loadXml();
    const url = urlOf(req);
    // A listing names the prefix it lists: an error then says which folder could not be read.
    const target = `${req.method} ${formatS3Url(req.bucket, req.key || req.query?.prefix || '')}`;
    let last = '';
    let unknownOutcome = false;
    for (let n = 1; ; n++) {
      let res: S3Response | null = null;
      try {
        res = await attempt(req, url);
      } catch (e) {
        last = e instanceof TimeoutError ? `timed out after ${e.ms} ms` : `cannot reach ${cfg.endpoint.origin} (${describeCause(e)})`;
        unknownOutcome = true;
      }
      if (res) {
        if ((res.status >= 200 && res.status < 300) || req.accept?.includes(res.status)) return { ...res, retriedAfterUnknownOutcome: unknownOutcome };
        // A 5xx may come after the store acted (S3 documents 500 on a PUT that did succeed).
        if (res.status >= 500) unknownOutcome = true;
        if (!isRetryableStatus(res.status, req.retryOn) || n >= cfg.maxAttempts) throw errorOf(req, target, res, n);
        const { code } = readS3Error(res.body);
        last = `HTTP ${res.status}${code ? ` ${code}` : ''}`;
      }
      if (n >= cfg.maxAttempts) {
        throw new TidemarkError('Io', `S3 ${target} failed: ${last} (${n} attempt${n > 1 ? 's' : ''} at ${cfg.endpoint.origin})`, context(req, { attempts: n }));
      }
      const cap = Math.min(cfg.retryMaxMs, cfg.retryBaseMs * 2 ** (n - 1));
      await sleep(cap / 2 + Math.random() * (cap / 2));
    }
  }

  function errorOf(req: S3Request, target: string, res: S3Response, attempts: number): TidemarkError {
    const { code, message } = readS3Error(res.body);
    const ctx = context(req, { status: res.status, s3Code: code, attempts });
    const reason = `${code ?? `HTTP ${res.status}`}${message ? `: ${message}` : ''}`;
    if (res.status === 404 || code === 'NoSuchKey' || code === 'NoSuchBucket') {
      if (code === 'NoSuchBucket') return new TidemarkError('NotFound', `bucket not found: ${req.bucket} at ${cfg.endpoint.origin} (${target})`, ctx);
      return new TidemarkError('NotFound', `not found: ${formatS3Url(req.bucket, req.key)} (${reason} at ${cfg.endpoint.origin})`, ctx);
    }
    const bucketRegion = res.headers.get('x-amz-bucket-region');
    if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || (bucketRegion && bucketRegion !== cfg.region)) {
      const where = bucketRegion ? `region ${bucketRegion}` : 'another region';
      return new TidemarkError('InvalidInput', `S3 ${target}: bucket ${req.bucket} is in ${where}, not ${cfg.region} (${reason}); set AWS_REGION or the endpoint of that region`, { ...ctx, bucketRegion });
    }
    if (res.status === 403) {
      return new TidemarkError('Io', `S3 ${target}: access denied at ${cfg.endpoint.origin} (${reason}); check the credentials and the bucket policy`, ctx);
    }
    if (res.status === 400 || res.status === 405 || res.status === 501) {
      return new TidemarkError('Unsupported', `S3 ${target}: the store refused the request (HTTP ${res.status} ${reason}) at ${cfg.endpoint.origin}`, ctx);
    }
    return new TidemarkError('Io', `S3 ${target} failed: HTTP ${res.status} ${reason} (${attempts} attempt${attempts > 1 ? 's' : ''} at ${cfg.endpoint.origin})`, ctx);
  }

  return { config: cfg, storeName, send };
}

class TimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
  }
}
