import { TidemarkError, type ErrorCode } from '../errors';
import { parseJsonBigint, parseTableMetadata, stringifyJsonBigint, type TableMetadata } from '../lake';
import { COMMIT_RETRIES } from '../lake/write';
import type { CatalogConfig, CommitTableInput, CreateTableRequest } from './rest-types';

/**
 * A client of an Iceberg REST catalog (apache/iceberg open-api/rest-catalog-open-api.yaml). Bodies
 * are read and written with Tidemark's bigint-safe JSON, so 63-bit snapshot ids survive (plain
 * JSON.parse rounds them). Errors are TidemarkErrors naming the method and URL (never a token);
 * a 409 CommitFailedException is CommitConflict, which callers retry as any lost commit race.
 * Hand-written on fetch: the one npm client (iceberg-js) parses ids with JSON.parse and has no
 * OAuth2 client-credentials flow.
 */
export interface RestCatalogClientOptions {
  /** Base URI, e.g. `http://127.0.0.1:8181/` (`v1/…` is appended). */
  uri: string;
  /** Sent as `warehouse` to /v1/config; the returned `prefix` then addresses every call. */
  warehouse?: string;
  /** A bearer token. */
  token?: string;
  /** OAuth2 client credentials (`client_id:client_secret`, as Iceberg's `credential` property). */
  credential?: string;
  /** The token endpoint; `<uri>v1/oauth/tokens` by default (spec, deprecated but common). */
  oauth2ServerUri?: string;
  /** OAuth2 scope; `catalog` by default, as Iceberg's clients send. */
  scope?: string;
  /** Clock (ms) deciding when an issued token is due for refresh; Date.now by default. */
  now?: () => number;
  fetch?: typeof fetch;
}

export interface LoadTableResult {
  metadataLocation: string | null;
  metadata: TableMetadata;
  /** The load result's `config`: table-specific properties such as vended storage credentials. */
  config: Record<string, string>;
  /** The load result's `storage-credentials` (vended credentials per location prefix); [] when absent. */
  storageCredentials: { prefix: string; config: Record<string, string> }[];
}

export interface CommitTableResult {
  metadataLocation: string;
  metadata: TableMetadata;
}

export type Namespace = string[];

/** Refresh an issued token this long before it expires (or at half its life, if shorter). */
const REFRESH_MARGIN_MS = 60_000;

function codeOf(status: number, type: string | undefined): ErrorCode {
  if (status === 409 && type === 'CommitFailedException') return 'CommitConflict';
  if (status === 404) return 'NotFound';
  if (status === 406 || status === 501) return 'Unsupported';
  if (status >= 500) return 'SourceUnavailable';
  return 'InvalidInput';
}

export class RestCatalogClient {
  private readonly base: string;
  private readonly doFetch: typeof fetch;
  private readonly now: () => number;
  private prefix: string | null = null;
  private configPromise: Promise<CatalogConfig> | null = null;
  private issued: { token: string; refreshAt: number } | null = null;
  /** Token requests made (tests and diagnostics). */
  tokenRequests = 0;

  constructor(private readonly options: RestCatalogClientOptions) {
    this.base = options.uri.endsWith('/') ? options.uri : `${options.uri}/`;
    this.doFetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    if (options.token && options.credential) throw new TidemarkError('InvalidInput', 'REST catalog client: give a token or a credential, not both');
  }

  private async fetchToken(): Promise<string> {
    const credential = this.options.credential!;
    const colon = credential.indexOf(':');
    const form = new URLSearchParams({ grant_type: 'client_credentials', scope: this.options.scope ?? 'catalog' });
    if (colon < 0) form.set('client_secret', credential);
    else {
      form.set('client_id', credential.slice(0, colon));
      form.set('client_secret', credential.slice(colon + 1));
    }
    const url = this.options.oauth2ServerUri ?? `${this.base}v1/oauth/tokens`;
    this.tokenRequests++;
    const res = await this.send(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() }, 'POST');
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // reported below with the status
    }
    if (!res.ok || typeof body.access_token !== 'string') {
      const reason = typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}` : `status ${res.status}`;
      throw new TidemarkError('InvalidInput', `POST ${url}: OAuth2 client credentials refused (${reason})`, { url, status: res.status });
    }
    const life = typeof body.expires_in === 'number' ? body.expires_in * 1000 : 3600_000;
    this.issued = { token: body.access_token, refreshAt: this.now() + Math.max(0, life - Math.min(REFRESH_MARGIN_MS, life / 2)) };
    return body.access_token;
  }

  private async authHeader(forceRefresh: boolean): Promise<Record<string, string>> {
    if (this.options.token) return { authorization: `Bearer ${this.options.token}` };
    if (!this.options.credential) return {};
    if (forceRefresh || !this.issued || this.now() >= this.issued.refreshAt) return { authorization: `Bearer ${await this.fetchToken()}` };
    return { authorization: `Bearer ${this.issued.token}` };
  }

  private async send(url: string, init: RequestInit, method: string): Promise<Response> {
    try {
      return await this.doFetch(url, init);
    } catch (e) {
      throw new TidemarkError('SourceUnavailable', `${method} ${url}: REST catalog unreachable: ${(e as Error).message}`, { url }, e);
    }
  }

  /**
   * One call: JSON in and out, bigint-safe. An issued OAuth2 token that the server refuses (401, or
   * 419 "expired") is refreshed once and the call repeated.
   */
  private async call(method: string, path: string, body?: unknown, query?: Record<string, string | undefined>): Promise<{ status: number; body: unknown }> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json', ...(await this.authHeader(attempt > 0)) };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await this.send(url.href, { method, headers, body: body === undefined ? undefined : stringifyJsonBigint(body, 0) }, method);
      if ((res.status === 401 || res.status === 419) && this.options.credential && attempt === 0) {
        await res.arrayBuffer();
        continue;
      }
      const text = res.status === 204 ? '' : await res.text();
      let parsed: unknown = undefined;
      if (text !== '') {
        try {
          parsed = parseJsonBigint(text);
        } catch {
          if (res.ok) throw new TidemarkError('DataInvalid', `${method} ${url.href}: expected a JSON response, got ${JSON.stringify(text.slice(0, 80))}`, { url: url.href });
        }
      }
      if (res.ok) return { status: res.status, body: parsed };
      const error = (parsed as { error?: { message?: unknown; type?: unknown } } | undefined)?.error;
      const type = typeof error?.type === 'string' ? error.type : undefined;
      const message = typeof error?.message === 'string' ? error.message : res.statusText;
      throw new TidemarkError(codeOf(res.status, type), `${method} ${url.href}: ${res.status}${type ? ` ${type}` : ''}: ${message}`, { url: url.href, status: res.status, restType: type ?? null });
    }
  }

  /** GET /v1/config (with `warehouse`); sets the prefix every later call uses. Cached. */
  config(): Promise<CatalogConfig> {
    this.configPromise ??= this.call('GET', 'v1/config', undefined, { warehouse: this.options.warehouse }).then(({ body }) => {
      const c = body as CatalogConfig;
      const prefix = c.overrides?.prefix ?? c.defaults?.prefix ?? null;
      this.prefix = prefix ? prefix.replace(/^\/+|\/+$/g, '') : null;
      return { defaults: c.defaults ?? {}, overrides: c.overrides ?? {}, ...(c.endpoints ? { endpoints: c.endpoints } : {}) };
    });
    this.configPromise.catch(() => (this.configPromise = null));
    return this.configPromise;
  }

  private async path(...segments: string[]): Promise<string> {
    await this.config();
    return ['v1', ...(this.prefix ? this.prefix.split('/').map(encodeURIComponent) : []), ...segments].join('/');
  }

  private static ns(namespace: Namespace): string {
    if (namespace.length === 0) throw new TidemarkError('InvalidInput', 'a namespace needs at least one level');
    return namespace.map(encodeURIComponent).join('%1F');
  }

  async listNamespaces(parent?: Namespace): Promise<Namespace[]> {
    const out: Namespace[] = [];
    let pageToken: string | undefined;
    do {
      const { body } = await this.call('GET', await this.path('namespaces'), undefined, { parent: parent?.join('\u001f'), pageToken });
      const b = body as { namespaces?: Namespace[]; 'next-page-token'?: string | null };
      out.push(...(b.namespaces ?? []));
      pageToken = b['next-page-token'] ?? undefined;
    } while (pageToken);
    return out;
  }

  async createNamespace(namespace: Namespace, properties: Record<string, string> = {}): Promise<{ namespace: Namespace; properties: Record<string, string> }> {
    const { body } = await this.call('POST', await this.path('namespaces'), { namespace, properties });
    const b = body as { namespace: Namespace; properties?: Record<string, string> };
    return { namespace: b.namespace, properties: b.properties ?? {} };
  }

  async loadNamespace(namespace: Namespace): Promise<{ namespace: Namespace; properties: Record<string, string> }> {
    const { body } = await this.call('GET', await this.path('namespaces', RestCatalogClient.ns(namespace)));
    const b = body as { namespace: Namespace; properties?: Record<string, string> | null };
    return { namespace: b.namespace, properties: b.properties ?? {} };
  }

  async namespaceExists(namespace: Namespace): Promise<boolean> {
    try {
      await this.call('HEAD', await this.path('namespaces', RestCatalogClient.ns(namespace)));
      return true;
    } catch (e) {
      if (e instanceof TidemarkError && e.code === 'NotFound') return false;
      throw e;
    }
  }

  async updateNamespaceProperties(namespace: Namespace, change: { updates?: Record<string, string>; removals?: string[] }): Promise<{ updated: string[]; removed: string[]; missing: string[] }> {
    const { body } = await this.call('POST', await this.path('namespaces', RestCatalogClient.ns(namespace), 'properties'), change);
    const b = body as { updated: string[]; removed: string[]; missing?: string[] | null };
    return { updated: b.updated, removed: b.removed, missing: b.missing ?? [] };
  }

  async dropNamespace(namespace: Namespace): Promise<void> {
    await this.call('DELETE', await this.path('namespaces', RestCatalogClient.ns(namespace)));
  }

  async listTables(namespace: Namespace): Promise<{ namespace: Namespace; name: string }[]> {
    const out: { namespace: Namespace; name: string }[] = [];
    let pageToken: string | undefined;
    do {
      const { body } = await this.call('GET', await this.path('namespaces', RestCatalogClient.ns(namespace), 'tables'), undefined, { pageToken });
      const b = body as { identifiers?: { namespace: Namespace; name: string }[]; 'next-page-token'?: string | null };
      out.push(...(b.identifiers ?? []));
      pageToken = b['next-page-token'] ?? undefined;
    } while (pageToken);
    return out;
  }

  private static loadResult(url: string, body: unknown): LoadTableResult {
    const b = body as { 'metadata-location'?: string | null; metadata?: unknown; config?: Record<string, string>; 'storage-credentials'?: LoadTableResult['storageCredentials'] };
    if (!b || typeof b.metadata !== 'object' || b.metadata === null) throw new TidemarkError('DataInvalid', `${url}: expected a LoadTableResult with "metadata"`, { url });
    const location = b['metadata-location'] ?? null;
    return {
      metadataLocation: location,
      metadata: parseTableMetadata(stringifyJsonBigint(b.metadata, 0), location ?? url),
      config: b.config ?? {},
      storageCredentials: b['storage-credentials'] ?? [],
    };
  }

  async loadTable(namespace: Namespace, name: string): Promise<LoadTableResult> {
    const path = await this.path('namespaces', RestCatalogClient.ns(namespace), 'tables', encodeURIComponent(name));
    const { body } = await this.call('GET', path);
    return RestCatalogClient.loadResult(path, body);
  }

  async tableExists(namespace: Namespace, name: string): Promise<boolean> {
    try {
      await this.call('HEAD', await this.path('namespaces', RestCatalogClient.ns(namespace), 'tables', encodeURIComponent(name)));
      return true;
    } catch (e) {
      if (e instanceof TidemarkError && e.code === 'NotFound') return false;
      throw e;
    }
  }

  async createTable(namespace: Namespace, request: CreateTableRequest): Promise<LoadTableResult> {
    const path = await this.path('namespaces', RestCatalogClient.ns(namespace), 'tables');
    const { body } = await this.call('POST', path, request);
    return RestCatalogClient.loadResult(path, body);
  }

  /** POST …/tables/{table}: requirements checked by the server, updates applied; 409 → CommitConflict. */
  async commitTable(namespace: Namespace, name: string, change: CommitTableInput): Promise<CommitTableResult> {
    const path = await this.path('namespaces', RestCatalogClient.ns(namespace), 'tables', encodeURIComponent(name));
    const { body } = await this.call('POST', path, { identifier: { namespace, name }, requirements: change.requirements, updates: change.updates });
    const r = RestCatalogClient.loadResult(path, body);
    if (r.metadataLocation === null) throw new TidemarkError('DataInvalid', `${path}: commit response has no metadata-location`, { url: path });
    return { metadataLocation: r.metadataLocation, metadata: r.metadata };
  }

  /**
   * Commits with the retry rules of Tidemark's own commits (core/lake/write commitTable): on a
   * CommitConflict the table is loaded again, `build` derives the requirements and updates from the
   * fresh result, and the commit is tried again after an exponential wait with jitter (25 ms
   * doubling, capped at 1 s), up to `retries` (COMMIT_RETRIES, 8) more times; then the conflict is thrown.
   */
  async commitTableWithRetry(namespace: Namespace, name: string, build: (table: LoadTableResult) => CommitTableInput | Promise<CommitTableInput>, retries = COMMIT_RETRIES): Promise<CommitTableResult> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        const cap = Math.min(1000, 25 * 2 ** (attempt - 1));
        await new Promise((r) => setTimeout(r, cap / 2 + Math.random() * (cap / 2)));
      }
      const change = await build(await this.loadTable(namespace, name));
      try {
        return await this.commitTable(namespace, name, change);
      } catch (e) {
        if (!(e instanceof TidemarkError) || e.code !== 'CommitConflict' || attempt >= retries) throw e;
      }
    }
  }

  async dropTable(namespace: Namespace, name: string, purge = false): Promise<void> {
    await this.call('DELETE', await this.path('namespaces', RestCatalogClient.ns(namespace), 'tables', encodeURIComponent(name)), undefined, { purgeRequested: purge ? 'true' : undefined });
  }
}
