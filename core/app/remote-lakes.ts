/**
 * Remote lakes in the app: an `s3://` warehouse or a REST catalog, opened with a saved profile and
 * given a lake id. Their tables appear under `/~remote/<id>/…`, so every handler, the query engine
 * and the renderer's file route (core/app/file-server.ts) use the one routing storage below and
 * never see an endpoint with credentials: the main process holds them and signs.
 */
import type { RemoteLakeListing } from '../api';
import { createCatalogStorage, isRestUri, parseRestUri, RestCatalogClient, s3OptionsFromLoadResult } from '../catalog';
import { TidemarkError } from '../errors';
import { listWarehouseTables } from '../lake';
import { listSubfolders, readRangesOf, type DirEntry, type FileInfo, type StoragePort } from '../storage';
import { createS3Storage, isS3Url, parseS3Url, type S3StorageOptions } from '../storage/s3/index';
import { createLocalStorage } from '../storage/node';
import type { ProfileStore, ResolvedProfile } from './profiles';

/** The path prefix of remote lakes: no local folder is named so at the file system root. */
export const REMOTE_ROOT = '/~remote';

interface Mounted {
  storage: StoragePort;
  /** Maps the path below the mount (`''` or `/a/b`) to the path in `storage`. */
  map(rest: string): string;
}

export interface RemoteLakes {
  /** The storage for every handler: remote lake paths routed to their store, others to `local`. */
  readonly storage: StoragePort;
  /** Opens `s3://bucket/prefix` or `rest+http(s)://host:port/warehouse` with a profile (none: unsigned S3, no catalog auth). */
  open(target: string, profile?: string): Promise<RemoteLakeListing>;
  isRemote(path: string): boolean;
}

function s3OptionsOf(profile: ResolvedProfile | null): S3StorageOptions {
  // The app never takes S3 settings from its own environment: only the profile says where to go.
  const out: S3StorageOptions = { env: {} };
  if (!profile) return out;
  if (profile.endpoint) out.endpoint = profile.endpoint;
  if (profile.region) out.region = profile.region;
  if (profile.pathStyle !== null) out.pathStyle = profile.pathStyle;
  if (profile.accessKeyId && profile.secretAccessKey) out.credentials = { accessKeyId: profile.accessKeyId, secretAccessKey: profile.secretAccessKey, sessionToken: profile.sessionToken ?? undefined };
  return out;
}

/** True for a catalog on this machine (a loopback host), the only kind whose tables may be local folders. */
export function catalogMayNameLocalFiles(uri: string): boolean {
  const host = new URL(uri).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function createRemoteLakes(deps: { local: StoragePort; profiles: ProfileStore }): RemoteLakes {
  const mounts = new Map<string, Mounted>();
  let nextId = 1;

  function route(path: string): { storage: StoragePort; path: string } {
    if (path !== REMOTE_ROOT && !path.startsWith(`${REMOTE_ROOT}/`)) return { storage: deps.local, path };
    const rest = path.slice(REMOTE_ROOT.length + 1);
    const slash = rest.indexOf('/');
    const id = slash < 0 ? rest : rest.slice(0, slash);
    const mounted = mounts.get(id);
    if (!mounted) throw new TidemarkError('NotFound', `no remote lake ${JSON.stringify(id)} is open (open it again)`, { path });
    return { storage: mounted.storage, path: mounted.map(slash < 0 ? '' : rest.slice(slash).replace(/\/+$/, '')) };
  }

  const storage: StoragePort = {
    readFile: (p) => {
      const r = route(p);
      return r.storage.readFile(r.path);
    },
    readRange: (p, offset, length) => {
      const r = route(p);
      return r.storage.readRange(r.path, offset, length);
    },
    // A page's column chunks: parallel GETs on S3, not one after another.
    readRanges: (p, ranges) => {
      const r = route(p);
      return readRangesOf(r.storage, r.path, ranges);
    },
    stat: async (p): Promise<FileInfo | null> => {
      const r = route(p);
      return r.storage.stat(r.path);
    },
    list: async (p): Promise<DirEntry[]> => {
      const r = route(p);
      return r.storage.list(r.path);
    },
    listFolders: async (p): Promise<string[]> => {
      const r = route(p);
      return listSubfolders(r.storage, r.path);
    },
  };

  return {
    storage,
    isRemote: (path) => path === REMOTE_ROOT || path.startsWith(`${REMOTE_ROOT}/`),
    async open(target, profileName) {
      const profile = profileName ? await deps.profiles.resolve(profileName) : null;
      const id = String(nextId++);
      const mount = `${REMOTE_ROOT}/${id}`;
      const text = target.trim();
      let label: string;
      let catalogFailures: ReadonlyMap<string, unknown> | null = null;
      let kind: 's3' | 'rest';
      if (isS3Url(text)) {
        const { bucket, key } = parseS3Url(text);
        label = key ? `s3://${bucket}/${key}` : `s3://${bucket}`;
        kind = 's3';
        mounts.set(id, { storage: createS3Storage(s3OptionsOf(profile)), map: (rest) => label + rest });
      } else if (isRestUri(text)) {
        const address = parseRestUri(text);
        label = `rest+${address.uri}${address.warehouse ?? ''}`;
        if (address.table) throw new TidemarkError('InvalidInput', `${text}: open the catalog (rest+http(s)://host:port/warehouse) without #namespace.table`, {});
        const client = new RestCatalogClient({ uri: address.uri, warehouse: address.warehouse, token: profile?.token ?? undefined, credential: profile?.credential ?? undefined });
        // Fails here, naming the catalog URL, when it is unreachable or refuses the profile's token.
        await client.config();
        const base = s3OptionsOf(profile);
        const localAllowed = catalogMayNameLocalFiles(address.uri);
        const catalog = createCatalogStorage(client, mount, (location, result) => {
          if (isS3Url(location)) return createS3Storage({ ...base, ...s3OptionsFromLoadResult(result, location) });
          // A catalog's answer is input: only one on this machine may point the file route at local files.
          if (!localAllowed) throw new TidemarkError('Unsupported', `${label}: the catalog puts a table at ${location}, a local path; only a catalog on this machine (loopback) may name local files`, { location });
          return createLocalStorage();
        });
        kind = 'rest';
        catalogFailures = catalog.failures;
        mounts.set(id, { storage: catalog, map: (rest) => mount + rest });
      } else {
        throw new TidemarkError('InvalidInput', `expected s3://bucket/prefix or rest+http(s)://host:port/warehouse, found ${JSON.stringify(text)}`, {});
      }
      try {
        // A listing names a missing bucket (a HEAD answers a bare 404), and with no folder below the
        // prefix the delimited listing says there is nothing there, naming the bucket and endpoint.
        if (kind === 's3' && (await listSubfolders(storage, mount)).length === 0) await storage.list(mount);
        const tables = await listWarehouseTables(storage, mount);
        // A table the catalog names but that cannot be read fails the open loudly, not by omission.
        const failed = catalogFailures?.values().next();
        if (failed && !failed.done) throw failed.value;
        return { path: mount, tables, lakeId: id, label, kind };
      } catch (e) {
        mounts.delete(id);
        if (e instanceof TidemarkError && e.code === 'NotFound' && e.message.includes(mount)) {
          throw new TidemarkError('NotFound', `nothing to open at ${label}`, { target: label }, e);
        }
        throw e;
      }
    },
  };
}
