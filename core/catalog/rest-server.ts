import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { TidemarkError, toTidemarkError } from '../errors';
import { parseJsonBigint, stringifyJsonBigint } from '../lake';
import type { WriteEnv } from '../lake/write';
import { commitTableRequest, commitTransactionRequest, createNamespaceRequest, parseWire, updateNamespacePropertiesRequest, type CatalogConfig, type RestErrorBody } from './rest-types';
import { WarehouseCatalog } from './warehouse-catalog';

/**
 * An Iceberg REST catalog (apache/iceberg open-api/rest-catalog-open-api.yaml) over a local Tidemark
 * warehouse, on node:http: a dozen fixed routes need no framework. Every route but the OAuth2 token
 * endpoint needs `Authorization: Bearer <token>` (the server's token, or one it issued to an OAuth2
 * client that is not yet expired). Routes answer with and without the `prefix` that /v1/config returns.
 */
export interface RestCatalogServerOptions {
  /** A local folder, or `s3://bucket/prefix` (then `env.storage` must be that store). */
  warehouse: string;
  /** 127.0.0.1 unless given: exposing a warehouse is a deliberate choice. */
  host?: string;
  /** 0 for a free port. */
  port?: number;
  /** The bearer token; random (32 bytes, hex) when omitted. */
  token?: string;
  /** The catalog's name: the `warehouse` clients ask for and the `prefix`; the folder's name by default. */
  name?: string;
  /** OAuth2 client credentials accepted at POST /v1/oauth/tokens (client id → secret); off when absent. */
  oauthClients?: Record<string, string>;
  /** Lifetime of issued OAuth2 tokens, seconds (default 3600). */
  tokenTtlSeconds?: number;
  /** Returned as the load result's `config` (e.g. storage properties a client should use). */
  tableConfig?: Record<string, string>;
  /**
   * Where clients read the warehouse's files, when not from this folder (e.g. `s3://bucket/wh` for
   * a copy in object storage): metadata locations below the folder are reported below it.
   */
  publicLocation?: string;
  /** Returned as the load result's `storage-credentials` (vended credentials by location prefix). */
  storageCredentials?: { prefix: string; config: Record<string, string> }[];
  /**
   * Credentials vended for one table (its location, e.g. `s3://bucket/wh/db/t`): S3FileIO
   * properties (s3.access-key-id, s3.secret-access-key, s3.session-token, s3.endpoint, …),
   * returned in the load and create results' `storage-credentials` with the location as prefix;
   * null vends nothing for that table. Called on every load: short-lived credentials stay fresh.
   */
  vendCredentials?: (location: string) => Record<string, string> | null | Promise<Record<string, string> | null>;
  /** Clock (ms) for issued token expiry; Date.now by default. */
  now?: () => number;
  env?: WriteEnv;
}

export interface RestCatalogServer {
  server: Server;
  port: number;
  token: string;
  /** The catalog's base URI (clients append `v1/…`). */
  uri: string;
  name: string;
  close(): Promise<void>;
}

/** Endpoints listed in /v1/config (spec "endpoints"): what this server implements. */
const ENDPOINTS = [
  'GET /v1/{prefix}/namespaces',
  'POST /v1/{prefix}/namespaces',
  'GET /v1/{prefix}/namespaces/{namespace}',
  'HEAD /v1/{prefix}/namespaces/{namespace}',
  'DELETE /v1/{prefix}/namespaces/{namespace}',
  'POST /v1/{prefix}/namespaces/{namespace}/properties',
  'GET /v1/{prefix}/namespaces/{namespace}/tables',
  'POST /v1/{prefix}/namespaces/{namespace}/tables',
  'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}',
  'POST /v1/{prefix}/transactions/commit',
];

const MAX_BODY_BYTES = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A TidemarkError as the spec's error response (status and exception type). */
function errorResponse(e: unknown): { status: number; type: string; message: string } {
  if (e instanceof HttpError) return { status: e.status, type: e.type, message: e.message };
  const err = toTidemarkError(e);
  const restType = typeof err.context.restType === 'string' ? err.context.restType : null;
  if (restType === 'AlreadyExistsException' || restType === 'NamespaceNotEmptyException') return { status: 409, type: restType, message: err.message };
  if (restType) return { status: err.code === 'NotFound' ? 404 : 400, type: restType, message: err.message };
  switch (err.code) {
    case 'CommitConflict':
      return { status: 409, type: 'CommitFailedException', message: err.message };
    case 'InvalidInput':
    case 'DataInvalid':
      return { status: 400, type: 'BadRequestException', message: err.message };
    case 'NotFound':
      return { status: 404, type: 'NotFoundException', message: err.message };
    case 'Unsupported':
      return { status: 406, type: 'UnsupportedOperationException', message: err.message };
    default:
      return { status: 500, type: 'InternalServerError', message: err.message };
  }
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = stringifyJsonBigint(body, 0);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'BadRequestException', `request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return parseJsonBigint(text);
  } catch (e) {
    throw new HttpError(400, 'BadRequestException', `request body is not JSON: ${(e as Error).message}`);
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A namespace path parameter: levels joined by the unit separator 0x1F (spec), already URL-decoded. */
function parseNamespace(segment: string): string[] {
  return segment.split('\u001f');
}

export async function startRestCatalogServer(options: RestCatalogServerOptions): Promise<RestCatalogServer> {
  const catalog = new WarehouseCatalog(options.warehouse, options.env);
  await catalog.checkRoot();
  const token = options.token ?? randomBytes(32).toString('hex');
  const name = options.name ?? (basename(catalog.root).replace(/[^A-Za-z0-9._-]/g, '_') || 'warehouse');
  const now = options.now ?? Date.now;
  const ttl = options.tokenTtlSeconds ?? 3600;
  const issued = new Map<string, number>();

  function authorize(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new HttpError(401, 'NotAuthorizedException', 'missing bearer token: send Authorization: Bearer <token>');
    if (sameSecret(m[1]!, token)) return;
    const expires = issued.get(m[1]!);
    if (expires === undefined) throw new HttpError(401, 'NotAuthorizedException', 'the bearer token is not valid for this catalog');
    if (now() >= expires) {
      issued.delete(m[1]!);
      throw new HttpError(419, 'AuthenticationTimeoutException', 'the bearer token has expired: request a new one');
    }
  }

  /** POST /v1/oauth/tokens, client_credentials grant (RFC 6749 §4.4; spec OAuthTokenRequest). */
  async function issueToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    let id = form.get('client_id');
    let secret = form.get('client_secret');
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (basic) {
      const [u, ...p] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      id = decodeURIComponent(u ?? '');
      secret = decodeURIComponent(p.join(':'));
    }
    const oauthError = (status: number, error: string, description: string) => send(res, status, { error, error_description: description });
    if (!options.oauthClients) return oauthError(400, 'unsupported_grant_type', 'this catalog issues no OAuth2 tokens');
    if (form.get('grant_type') !== 'client_credentials') return oauthError(400, 'unsupported_grant_type', `grant_type ${JSON.stringify(form.get('grant_type'))} is not supported: expected client_credentials`);
    const expected = id !== null ? options.oauthClients[id] : undefined;
    if (expected === undefined || secret === null || !sameSecret(secret, expected)) return oauthError(401, 'invalid_client', 'unknown client id or wrong client secret');
    for (const [t, expires] of issued) if (now() >= expires) issued.delete(t);
    const access = randomBytes(32).toString('hex');
    issued.set(access, now() + ttl * 1000);
    send(res, 200, { access_token: access, token_type: 'bearer', expires_in: ttl, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
  }

  /** `storage-credentials` of a load or create result for a table whose metadata JSON is `metadata`. */
  async function credentialsFor(metadata: unknown): Promise<{ prefix: string; config: Record<string, string> }[] | null> {
    const location = (metadata as { location?: unknown } | null)?.location;
    const vended = options.vendCredentials && typeof location === 'string' ? await options.vendCredentials(publicPath(location)) : null;
    const out = [...(options.storageCredentials ?? []), ...(vended ? [{ prefix: publicPath(location as string), config: vended }] : [])];
    return out.length > 0 ? out : null;
  }

  /** A metadata location as clients should read it (see `publicLocation`). */
  function publicPath(location: string): string {
    const base = options.publicLocation?.replace(/\/+$/, '');
    if (!base || (location !== catalog.root && !location.startsWith(`${catalog.root}/`))) return location;
    return base + location.slice(catalog.root.length).split('\\').join('/');
  }

  function config(url: URL): CatalogConfig {
    const asked = url.searchParams.get('warehouse');
    if (asked !== null && asked !== name && asked !== catalog.root) {
      throw new HttpError(400, 'BadRequestException', `warehouse ${JSON.stringify(asked)} is not served here: this catalog serves ${JSON.stringify(name)} (${catalog.root})`);
    }
    return { defaults: {}, overrides: { prefix: name, warehouse: name }, endpoints: ENDPOINTS };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://catalog');
    const method = req.method ?? 'GET';
    // Split before decoding: a namespace's %1F and a name's %2F must not become separators.
    const raw = url.pathname.split('/').filter((s) => s !== '');
    let parts: string[];
    try {
      parts = raw.map(decodeURIComponent);
    } catch {
      throw new HttpError(400, 'BadRequestException', `malformed URL path ${url.pathname}`);
    }
    if (parts[0] !== 'v1') throw new HttpError(404, 'NoSuchEndpointException', `no such endpoint: ${method} ${url.pathname}`);
    if (parts[1] === 'oauth' && parts[2] === 'tokens' && parts.length === 3 && method === 'POST') return issueToken(req, res);
    authorize(req);
    if (parts[1] === 'config' && parts.length === 2 && method === 'GET') return send(res, 200, config(url));
    let rest = parts.slice(1);
    if (rest[0] === name && rest[1] !== undefined && rest[0] !== 'namespaces') rest = rest.slice(1);
    const notFound = () => new HttpError(404, 'NoSuchEndpointException', `no such endpoint: ${method} ${url.pathname}`);
    if (rest[0] === 'transactions' && rest[1] === 'commit' && rest.length === 2 && method === 'POST') {
      const body = parseWire(commitTransactionRequest, await readJson(req), 'CommitTransactionRequest');
      // Each table publishes its own metadata file: two tables cannot change in one atomic step.
      if (body['table-changes'].length > 1) {
        throw new HttpError(406, 'UnsupportedOperationException', `a transaction over ${body['table-changes'].length} tables is not supported by this catalog (a folder warehouse commits one table at a time): commit each table on its own`);
      }
      for (const change of body['table-changes']) await catalog.commitTable(change.identifier.namespace, change.identifier.name, change.requirements, change.updates);
      return send(res, 204);
    }
    if (rest[0] === 'tables' && rest[1] === 'rename' && method === 'POST') {
      // Moving the folder would leave every absolute path in the table's manifests pointing at the old one.
      throw new HttpError(406, 'UnsupportedOperationException', 'renaming a table is not supported by this catalog: its manifests name files by absolute path under the table folder');
    }
    if (rest[0] !== 'namespaces') throw notFound();

    if (rest.length === 1) {
      if (method === 'GET') {
        const parent = url.searchParams.get('parent');
        const namespaces = await catalog.listNamespaces(parent ? parseNamespace(parent) : []);
        return send(res, 200, { namespaces });
      }
      if (method === 'POST') {
        const body = parseWire(createNamespaceRequest, await readJson(req), 'CreateNamespaceRequest');
        return send(res, 200, await catalog.createNamespace(body.namespace, body.properties ?? {}));
      }
      throw notFound();
    }
    const ns = parseNamespace(rest[1]!);
    if (rest.length === 2) {
      if (method === 'GET') return send(res, 200, await catalog.loadNamespace(ns));
      if (method === 'HEAD') return void (await catalog.loadNamespace(ns), send(res, 204));
      if (method === 'DELETE') return void (await catalog.dropNamespace(ns), send(res, 204));
      throw notFound();
    }
    if (rest.length === 3 && rest[2] === 'properties' && method === 'POST') {
      const body = parseWire(updateNamespacePropertiesRequest, await readJson(req), 'UpdateNamespacePropertiesRequest');
      return send(res, 200, await catalog.updateNamespaceProperties(ns, body.updates ?? {}, body.removals ?? []));
    }
    if (rest[2] !== 'tables') throw notFound();
    if (rest.length === 3) {
      if (method === 'GET') return send(res, 200, { identifiers: (await catalog.listTables(ns)).map((t) => ({ namespace: ns, name: t })) });
      if (method === 'POST') {
        const created = await catalog.createTable(ns, await readJson(req));
        const out: Record<string, unknown> = { metadata: created.metadata, config: options.tableConfig ?? {} };
        if (created.metadataLocation !== null) out['metadata-location'] = publicPath(created.metadataLocation);
        const credentials = await credentialsFor(created.metadata);
        if (credentials) out['storage-credentials'] = credentials;
        return send(res, 200, out);
      }
      throw notFound();
    }
    if (rest.length !== 4) throw notFound();
    const table = rest[3]!;
    if (method === 'GET') {
      const t = await catalog.loadTable(ns, table);
      const out: Record<string, unknown> = { 'metadata-location': publicPath(t.metadataLocation), metadata: t.metadata, config: options.tableConfig ?? {} };
      const credentials = await credentialsFor(t.metadata);
      if (credentials) out['storage-credentials'] = credentials;
      return send(res, 200, out);
    }
    if (method === 'HEAD') return void (await catalog.loadTable(ns, table), send(res, 204));
    if (method === 'POST') {
      const body = parseWire(commitTableRequest, await readJson(req), 'CommitTableRequest');
      const t = await catalog.commitTable(ns, table, body.requirements, body.updates);
      return send(res, 200, { 'metadata-location': publicPath(t.metadataLocation), metadata: t.metadata });
    }
    if (method === 'DELETE') return void (await catalog.dropTable(ns, table), send(res, 204));
    throw notFound();
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      const { status, type, message } = errorResponse(e);
      if (res.headersSent) return void res.destroy();
      const body: RestErrorBody = { error: { message, type, code: status } };
      if (req.method === 'HEAD') send(res, status);
      else send(res, status, body);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', (e) => fail(new TidemarkError('Io', `cannot listen on ${host}:${options.port ?? 0}: ${e.message}`, { host, port: options.port ?? 0 }, e)));
    server.listen(options.port ?? 0, host, () => ok());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    port,
    token,
    name,
    uri: `http://${shownHost}:${port}/`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
