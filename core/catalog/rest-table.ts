import { TidemarkError } from '../errors';
import type { DirEntry, FileInfo, StoragePort } from '../storage';
import type { S3StorageOptions } from '../storage/s3/index';
import type { LoadTableResult, Namespace, RestCatalogClient } from './rest-client';

/**
 * REST catalog tables read as if they were folders: `rest+http(s)://host:port/prefix#ns.table`
 * addresses, the S3 settings a load result vends, and a storage that shows a catalog as a
 * warehouse tree (`<mount>/<ns…>/<table>/…`) whose table folders are backed by the storage their
 * metadata location needs, pinned to the metadata file the catalog named (so core/lake and
 * core/query, which open tables by root path, read the catalog's version and not a folder guess).
 */

export interface RestAddress {
  /** The catalog's base URI (`http(s)://host:port/path/`), without the `rest+` and the fragment. */
  uri: string;
  /** `warehouse` to send to /v1/config: the last path segment of a `rest+` URI, when any. */
  warehouse: string | undefined;
  /** From the fragment: namespace levels and table name; null when the URI names the catalog only. */
  table: { namespace: Namespace; name: string } | null;
}

export function isRestUri(text: string): boolean {
  return /^rest\+https?:\/\//i.test(text.trim());
}

/** `db.orders` → {namespace: ['db'], name: 'orders'}; InvalidInput naming the text otherwise. */
export function parseTableIdentifier(text: string): { namespace: Namespace; name: string } {
  const parts = text.split('.');
  if (parts.length < 2 || parts.some((p) => p === '')) throw new TidemarkError('InvalidInput', `expected a table as namespace.table, found ${JSON.stringify(text)}`, { table: text });
  return { namespace: parts.slice(0, -1), name: parts.at(-1)! };
}

/**
 * `rest+http://host:8181/warehouse#db.orders` → the catalog URI `http://host:8181/`, warehouse
 * `warehouse`, table db.orders. Credentials never belong in the URI: user info is refused.
 */
export function parseRestUri(text: string): RestAddress {
  const raw = text.trim();
  if (!isRestUri(raw)) throw new TidemarkError('InvalidInput', `expected a REST catalog as rest+http(s)://host:port/prefix#namespace.table, found ${JSON.stringify(raw)}`, { uri: raw });
  let url: URL;
  try {
    url = new URL(raw.slice('rest+'.length));
  } catch {
    throw new TidemarkError('InvalidInput', `not a URL: ${JSON.stringify(raw)}`, { uri: raw });
  }
  if (url.username || url.password) throw new TidemarkError('InvalidInput', `${url.protocol}//${url.host}${url.pathname}: put no credentials in the catalog URI; use --token or --credential`, {});
  const fragment = decodeURIComponent(url.hash.replace(/^#/, ''));
  url.hash = '';
  const segments = url.pathname.split('/').filter(Boolean);
  const warehouse = segments.length > 0 ? decodeURIComponent(segments.at(-1)!) : undefined;
  url.pathname = `/${segments.slice(0, -1).join('/')}${segments.length > 1 ? '/' : ''}`;
  return { uri: url.href, warehouse, table: fragment ? parseTableIdentifier(fragment) : null };
}

/**
 * The S3 settings in a load result for a location: its `config`, overlaid by the longest
 * `storage-credentials` prefix that matches. Keys are Iceberg's S3FileIO properties, as catalogs
 * vend them: s3.endpoint, s3.access-key-id, s3.secret-access-key, s3.session-token,
 * s3.path-style-access, client.region (s3.region too).
 */
export function s3OptionsFromLoadResult(result: Pick<LoadTableResult, 'config' | 'storageCredentials'>, location: string): S3StorageOptions {
  const match = result.storageCredentials.filter((c) => location.startsWith(c.prefix)).sort((a, b) => b.prefix.length - a.prefix.length)[0];
  const p: Record<string, string> = { ...result.config, ...(match?.config ?? {}) };
  const out: S3StorageOptions = {};
  if (p['s3.endpoint']) out.endpoint = p['s3.endpoint'];
  const region = p['client.region'] ?? p['s3.region'];
  if (region) out.region = region;
  if (p['s3.path-style-access']) out.pathStyle = /^true$/i.test(p['s3.path-style-access']);
  const id = p['s3.access-key-id'];
  const secret = p['s3.secret-access-key'];
  if (id && secret) out.credentials = { accessKeyId: id, secretAccessKey: secret, sessionToken: p['s3.session-token'] || undefined };
  return out;
}

/** Picks (and builds) the storage for a table's files, given the location and the load result. */
export type StorageForLocation = (location: string, result: LoadTableResult) => StoragePort;

interface MountedTable {
  /** The table root in its storage (`s3://bucket/wh/ns/t` or `/abs/wh/ns/t`). */
  root: string;
  /** The metadata file the catalog named. */
  metadataFile: string;
  storage: StoragePort;
}

function joinPath(root: string, segment: string): string {
  return root.endsWith('/') ? root + segment : `${root}/${segment}`;
}

function parentOf(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? path.slice(0, i + 1) || '/' : path.slice(0, i);
}

function baseName(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? path;
}

const HINT = 'version-hint.text';

export interface CatalogStorage extends StoragePort {
  /** Table roots loaded so far, by virtual path (tests, diagnostics). */
  readonly loaded: ReadonlyMap<string, Promise<MountedTable>>;
  /**
   * Tables that failed to load, by virtual path below the mount: a warehouse walk that probes
   * folders reads such a table as "not a table", so callers that list should look here.
   */
  readonly failures: ReadonlyMap<string, unknown>;
  /** Forgets loaded tables, so the next read loads them from the catalog again. */
  refresh(): void;
  /**
   * Loads a table now (cached for the reads that follow) and returns its virtual root. Readers
   * that probe paths turn a failed read into "not a table": this surfaces the catalog's own error.
   */
  openTable(namespace: Namespace, name: string): Promise<string>;
  /** The real location (`s3://…` or a local path) of a virtual path inside a loaded table; else the path as given. */
  realPath(path: string): string;
}

/**
 * A read-only storage presenting a REST catalog below `mount` (an absolute POSIX-style path such
 * as `/~rest/1`): namespaces are folders (`a.b` → `a/b`), tables are folders whose files come from
 * the table root (the parent of the metadata file's `metadata/` folder) in the storage that
 * `storageFor` picks, with a `metadata/version-hint.text` naming the catalog's metadata file.
 * Tables load on first access. Paths outside `mount` are NotFound.
 */
export function createCatalogStorage(client: RestCatalogClient, mount: string, storageFor: StorageForLocation): CatalogStorage {
  const base = mount.replace(/\/+$/, '');
  const tables = new Map<string, Promise<MountedTable>>();
  const resolved = new Map<string, MountedTable>();
  const failures = new Map<string, unknown>();
  const listings = new Map<string, Promise<{ namespaces: string[]; tables: string[] }>>();

  function relative(path: string): string[] {
    const p = path.replace(/\/+$/, '');
    if (p !== base && !p.startsWith(`${base}/`)) throw new TidemarkError('NotFound', `not found: ${path} (outside the catalog at ${base})`, { path });
    return p.slice(base.length).split('/').filter(Boolean);
  }

  /** Namespaces and tables directly below a namespace (levels), from the catalog. */
  function children(levels: string[]): Promise<{ namespaces: string[]; tables: string[] }> {
    const key = levels.join('/');
    let c = listings.get(key);
    if (!c) {
      c = (async () => {
        const namespaces = (await client.listNamespaces(levels.length ? levels : undefined)).map((n) => n.at(-1)!).filter((n) => n !== undefined);
        const names = levels.length ? (await client.listTables(levels)).map((t) => t.name) : [];
        return { namespaces, tables: names };
      })();
      c.catch(() => listings.delete(key));
      listings.set(key, c);
    }
    return c;
  }

  async function load(levels: string[], name: string): Promise<MountedTable> {
    const key = [...levels, name].join('/');
    let t = tables.get(key);
    if (!t) {
      t = client.loadTable(levels, name).then((result) => {
        if (!result.metadataLocation) throw new TidemarkError('NotFound', `table ${[...levels, name].join('.')} has no metadata location yet (a staged create)`, { table: [...levels, name].join('.') });
        const metadataFile = result.metadataLocation.replace(/^s3a:/i, 's3:').replace(/^file:(\/\/)?/i, '');
        const root = parentOf(parentOf(metadataFile));
        const mounted = { root, metadataFile, storage: storageFor(root, result) };
        resolved.set(key, mounted);
        return mounted;
      });
      t.catch((e: unknown) => {
        tables.delete(key);
        failures.set(key, e);
      });
      tables.set(key, t);
    }
    return t;
  }

  /**
   * Where a virtual path lies: a namespace folder (levels), or a path inside a table (levels,
   * name, the rest). The split is found by asking the catalog which level names a table.
   */
  async function locate(path: string): Promise<{ kind: 'namespace'; levels: string[] } | { kind: 'table'; table: MountedTable; rest: string[] }> {
    const parts = relative(path);
    for (let i = 1; i < parts.length; i++) {
      const known = tables.get(parts.slice(0, i + 1).join('/'));
      if (known) return { kind: 'table', table: await known, rest: parts.slice(i + 1) };
    }
    for (let i = 1; i < parts.length; i++) {
      const levels = parts.slice(0, i);
      const name = parts[i]!;
      const { tables: names } = await children(levels).catch((e: unknown) => {
        if (e instanceof TidemarkError && e.code === 'NotFound') return { tables: [] as string[] };
        throw e;
      });
      if (names.includes(name)) return { kind: 'table', table: await load(levels, name), rest: parts.slice(i + 1) };
    }
    if (parts.length > 0 && !(await client.namespaceExists(parts))) throw new TidemarkError('NotFound', `not found: ${path}`, { path });
    return { kind: 'namespace', levels: parts };
  }

  function real(table: MountedTable, rest: string[]): string {
    return rest.reduce((p, seg) => joinPath(p, seg), table.root);
  }

  const isHint = (rest: string[]) => rest.length === 2 && rest[0] === 'metadata' && rest[1] === HINT;

  return {
    loaded: tables,
    failures,
    async openTable(namespace, name) {
      await load(namespace, name);
      return [base, ...namespace, name].join('/');
    },
    realPath(path) {
      const parts = path.startsWith(`${base}/`) ? path.slice(base.length).split('/').filter(Boolean) : [];
      for (let i = parts.length; i >= 2; i--) {
        const t = resolved.get(parts.slice(0, i).join('/'));
        if (t) return real(t, parts.slice(i));
      }
      return path;
    },
    refresh: () => {
      resolved.clear();
      failures.clear();
      tables.clear();
      listings.clear();
    },
    async readFile(path) {
      const at = await locate(path);
      if (at.kind === 'namespace') throw new TidemarkError('InvalidInput', `${path} is a namespace folder, not a file`, { path });
      if (isHint(at.rest)) return new TextEncoder().encode(baseName(at.table.metadataFile));
      return at.table.storage.readFile(real(at.table, at.rest));
    },
    async readRange(path, offset, length) {
      const at = await locate(path);
      if (at.kind === 'namespace') throw new TidemarkError('InvalidInput', `${path} is a namespace folder, not a file`, { path });
      if (isHint(at.rest)) return new TextEncoder().encode(baseName(at.table.metadataFile)).slice(offset, offset + length);
      return at.table.storage.readRange(real(at.table, at.rest), offset, length);
    },
    async readRanges(path, ranges) {
      const at = await locate(path);
      if (at.kind === 'namespace') throw new TidemarkError('InvalidInput', `${path} is a namespace folder, not a file`, { path });
      const storage = at.table.storage;
      const file = real(at.table, at.rest);
      if (isHint(at.rest)) {
        const hint = new TextEncoder().encode(baseName(at.table.metadataFile));
        return ranges.map((r) => hint.slice(r.offset, r.offset + r.length));
      }
      return storage.readRanges ? storage.readRanges(file, ranges) : Promise.all(ranges.map((r) => storage.readRange(file, r.offset, r.length)));
    },
    async stat(path): Promise<FileInfo | null> {
      let at;
      try {
        at = await locate(path);
      } catch (e) {
        if (e instanceof TidemarkError && e.code === 'NotFound') return null;
        throw e;
      }
      if (at.kind === 'namespace') return { size: 0, mtimeMs: 0 };
      if (isHint(at.rest)) return { size: new TextEncoder().encode(baseName(at.table.metadataFile)).length, mtimeMs: 0 };
      if (at.rest.length === 0) return { size: 0, mtimeMs: 0 };
      return at.table.storage.stat(real(at.table, at.rest));
    },
    async list(path): Promise<DirEntry[]> {
      const at = await locate(path);
      if (at.kind === 'namespace') {
        const c = await children(at.levels);
        const names = new Set([...c.namespaces, ...c.tables]);
        return [...names].sort().map((name) => ({ name, kind: 'directory' as const }));
      }
      const entries = await at.table.storage.list(real(at.table, at.rest));
      if (at.rest.length === 1 && at.rest[0] === 'metadata') {
        // The catalog's metadata file is the current one, whatever hint the folder has.
        return [...entries.filter((e) => e.name !== HINT), { name: HINT, kind: 'file' as const }].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      }
      return entries;
    },
  };
}
