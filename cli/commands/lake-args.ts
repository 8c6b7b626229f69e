import { join, resolve } from 'node:path';
import { defaultDataDir } from '../../core/app/data-dir';
import { createProfileStore } from '../../core/app/profiles';
import { TidemarkError } from '../../core/errors';
import { bytesToHex, detectTableFormat, type SnapshotSelector } from '../../core/lake';
import { routeStorage, type StoragePort } from '../../core/storage';
import { createLocalStorage, createLocalWritableStorage } from '../../core/storage/node';
import { createS3Storage, isS3Url, type S3StorageOptions } from '../../core/storage/s3/index';
import { loadAwsProfile } from '../../core/storage/node/aws-profile';
import { catalogTableRoot, createCatalogStorage, createRestTableCatalog, isRestUri, parseRestUri, parseTableIdentifier, RestCatalogClient, s3OptionsFromLoadResult } from '../../core/catalog';
import { catalogMayNameLocalFiles } from '../../core/app/remote-lakes';
import { storageFor } from '../../core/storage/node/storage-for';
import { defaultWriteEnv, tableRoot, type WriteEnv } from '../../core/lake/write';

/** Shared flags of the lake read commands: one of --snapshot, --as-of, --ref. */
export const SELECTOR_OPTIONS = {
  snapshot: { type: 'string' },
  'as-of': { type: 'string' },
  ref: { type: 'string' },
} as const;

export function parseSelector(command: string, values: { snapshot?: string; 'as-of'?: string; ref?: string }): SnapshotSelector {
  const sel: SnapshotSelector = {};
  if (values.snapshot !== undefined) {
    if (!/^-?\d+$/.test(values.snapshot)) throw new TidemarkError('InvalidInput', `${command}: --snapshot expects a decimal snapshot id, found ${JSON.stringify(values.snapshot)}`);
    sel.snapshotId = BigInt(values.snapshot);
  }
  if (values['as-of'] !== undefined) sel.asOfTimestampMs = parseIsoTime(command, '--as-of', values['as-of']);
  if (values.ref !== undefined) sel.ref = values.ref;
  if (Object.keys(sel).length > 1) throw new TidemarkError('InvalidInput', `${command}: use only one of --snapshot, --as-of, --ref`);
  return sel;
}

/** An ISO-8601 time flag → ms since the epoch; InvalidInput naming the command, flag and text. */
export function parseIsoTime(command: string, flag: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new TidemarkError('InvalidInput', `${command}: ${flag} expects an ISO-8601 time, found ${JSON.stringify(text)}`);
  return ms;
}

/** Where a read command finds a table or warehouse: its root path and the storage holding it. */
export interface LakeLocation {
  root: string;
  storage: StoragePort;
  /** A path as the user should see it: a REST table's files by their real location, others as they are. */
  display(path: string): string;
  /** Throws the first error met loading a REST catalog's tables (a warehouse walk reads it as "not a table"). */
  checkLoaded(): void;
}

const nothingToCheck = () => undefined;

const asIs = (path: string) => path;

/** Flags of the read commands for remote lakes: a REST catalog and its auth, an AWS profile. */
export const REMOTE_OPTIONS = {
  catalog: { type: 'string' },
  token: { type: 'string' },
  credential: { type: 'string' },
  profile: { type: 'string' },
} as const;

export interface RemoteValues {
  catalog?: string;
  token?: string;
  credential?: string;
  profile?: string;
}

/** Where the catalog's tables appear to core/lake and core/query (a path no local table has). */
const CATALOG_MOUNT = '/~rest';

/** A flag value or `env:NAME` (the value of that variable), so secrets need not be on the command line. */
function secretValue(flag: string, text: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (text === undefined) return undefined;
  const m = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(text);
  if (!m) return text;
  const value = env[m[1]!];
  if (!value) throw new TidemarkError('InvalidInput', `${flag} env:${m[1]}: the variable ${m[1]} is not set`, { variable: m[1]! });
  return value;
}

/** What --profile NAME gives: S3 settings, and for a saved app profile its catalog token or credential. */
interface ProfileSettings {
  s3: S3StorageOptions;
  token?: string;
  credential?: string;
}

/**
 * --profile NAME: a profile of the AWS shared files, else one the app saved (its data folder's
 * profiles.json; secrets given there as env:NAME are read, keychain ones are the app's only).
 * Its settings win, the environment fills the rest. Without --profile the AWS_* variables win and
 * AWS_PROFILE (or `default`) of the shared files fills what they leave unset.
 */
export async function profileSettings(profile: string | undefined, env: Record<string, string | undefined>): Promise<ProfileSettings> {
  if (profile) {
    let aws;
    try {
      aws = await loadAwsProfile({ profile, env });
    } catch (e) {
      const saved = e instanceof TidemarkError && e.context.profile === profile && /is in neither/.test(e.message) ? await savedProfile(profile, env) : null;
      if (!saved) {
        if (e instanceof TidemarkError && /is in neither/.test(e.message)) {
          throw new TidemarkError('InvalidInput', `${e.message}, nor among the app's saved profiles (${join(dataDirOf(env), 'profiles.json')})`, { profile });
        }
        throw e;
      }
      return saved;
    }
    return { s3: { env, ...aws.s3 } };
  }
  const loaded = (await loadAwsProfile({ env })).s3;
  const out: S3StorageOptions = { env };
  if (loaded.endpoint && !env.AWS_ENDPOINT_URL_S3 && !env.AWS_ENDPOINT_URL) out.endpoint = loaded.endpoint;
  if (loaded.region && !env.AWS_REGION && !env.AWS_DEFAULT_REGION) out.region = loaded.region;
  if (loaded.pathStyle !== undefined && !env.TIDEMARK_S3_PATH_STYLE) out.pathStyle = loaded.pathStyle;
  if (loaded.credentials && !env.AWS_ACCESS_KEY_ID && !env.AWS_SECRET_ACCESS_KEY) out.credentials = loaded.credentials;
  return { s3: out };
}

function dataDirOf(env: Record<string, string | undefined>): string {
  return env.TIDEMARK_HOME || defaultDataDir();
}

/** An app-saved profile (browser-mode form: env:NAME secrets), or null when there is none of that name. */
async function savedProfile(name: string, env: Record<string, string | undefined>): Promise<ProfileSettings | null> {
  const store = createProfileStore({ dataDir: dataDirOf(env), secrets: null, env });
  if (!(await store.list()).some((p) => p.name === name)) return null;
  const p = await store.resolve(name);
  const s3: S3StorageOptions = { env };
  if (p.endpoint) s3.endpoint = p.endpoint;
  if (p.region) s3.region = p.region;
  if (p.pathStyle !== null) s3.pathStyle = p.pathStyle;
  if (p.accessKeyId && p.secretAccessKey) s3.credentials = { accessKeyId: p.accessKeyId, secretAccessKey: p.secretAccessKey, sessionToken: p.sessionToken ?? undefined };
  return { s3, token: p.token ?? undefined, credential: p.credential ?? undefined };
}

/** A REST catalog named on the command line: its client (auth from --token/--credential or the profile), the table, the profile's settings. */
interface RestTarget {
  uri: string;
  client: RestCatalogClient;
  table: { namespace: string[]; name: string } | null;
  settings: ProfileSettings;
}

/** `rest+http(s)://host:port/prefix#ns.table`, or `--catalog URI` with `ns.table` (a warehouse name for kind 'warehouse'). */
async function restCatalogTarget(text: string, values: RemoteValues, kind: 'table' | 'warehouse', env: Record<string, string | undefined>): Promise<RestTarget> {
  let uri: string;
  let warehouse: string | undefined;
  let table: { namespace: string[]; name: string } | null;
  if (values.catalog !== undefined) {
    if (isRestUri(text)) throw new TidemarkError('InvalidInput', `give the catalog once: either --catalog ${values.catalog} or ${text}`);
    const address = isRestUri(values.catalog) ? parseRestUri(values.catalog) : { uri: values.catalog, warehouse: undefined, table: null };
    if (!/^https?:\/\//i.test(address.uri)) throw new TidemarkError('InvalidInput', `--catalog expects an http(s):// URI, found ${JSON.stringify(values.catalog)}`);
    uri = address.uri;
    warehouse = kind === 'warehouse' ? text : address.warehouse;
    table = kind === 'table' ? parseTableIdentifier(text) : null;
  } else {
    const address = parseRestUri(text);
    uri = address.uri;
    warehouse = address.warehouse;
    table = address.table;
    if (kind === 'table' && !table) throw new TidemarkError('InvalidInput', `${text}: name the table after #, as rest+http(s)://host:port/prefix#namespace.table`);
  }
  const settings = await profileSettings(values.profile, env);
  const explicitAuth = values.token !== undefined || values.credential !== undefined;
  const client = new RestCatalogClient({
    uri,
    warehouse,
    token: explicitAuth ? secretValue('--token', values.token, env) : settings.token,
    credential: explicitAuth ? secretValue('--credential', values.credential, env) : settings.credential,
  });
  return { uri, client, table, settings };
}

/**
 * A read command's <table> or <warehouse>: a local folder; `s3://bucket/prefix/…` with the
 * endpoint, region, addressing and credentials from --profile, the AWS environment (AWS_ENDPOINT_URL,
 * AWS_REGION, AWS_ACCESS_KEY_ID, …) and the shared config files; or a REST catalog table,
 * `rest+http(s)://host:port/prefix#namespace.table` or `--catalog URI` with <table> as
 * `namespace.table` (a <warehouse> is then the catalog's warehouse name). REST tables are read
 * from the storage their metadata location needs (local or S3, with the S3 settings the load
 * result vends over the profile's).
 */
export async function lakeLocation(
  positional: string | undefined,
  values: RemoteValues = {},
  kind: 'table' | 'warehouse' = 'table',
  env: Record<string, string | undefined> = process.env,
): Promise<LakeLocation> {
  const text = positional!;
  if (values.catalog === undefined && !isRestUri(text)) {
    if (values.token !== undefined || values.credential !== undefined) throw new TidemarkError('InvalidInput', '--token and --credential go with a REST catalog (--catalog URI or a rest+http(s):// table)');
    if (!isS3Url(text)) {
      if (values.profile !== undefined) throw new TidemarkError('InvalidInput', `--profile ${values.profile}: the profile is for s3:// paths and REST catalogs, and ${text} is a local path`, { profile: values.profile });
      const local = storageFor(text, { env });
      return { root: local.path, storage: local.storage, display: asIs, checkLoaded: nothingToCheck };
    }
    const { path, storage } = storageFor(text, { env, s3: (await profileSettings(values.profile, env)).s3 });
    return { root: path, storage, display: asIs, checkLoaded: nothingToCheck };
  }
  const { client, table, settings } = await restCatalogTarget(text, values, kind, env);
  const base = settings.s3;
  const storage = createCatalogStorage(client, CATALOG_MOUNT, (location, result) =>
    isS3Url(location) ? createS3Storage({ ...base, ...s3OptionsFromLoadResult(result, location) }) : createLocalStorage(),
  );
  // Opened here so a refused token or a missing table is the catalog's error, naming its URL.
  const display = (path: string) => storage.realPath(path);
  const checkLoaded = () => {
    const failed = storage.failures.values().next();
    if (!failed.done) throw failed.value;
  };
  if (table) return { root: await storage.openTable(table.namespace, table.name), storage, display, checkLoaded };
  await client.config();
  return { root: CATALOG_MOUNT, storage, display, checkLoaded };
}

/** A maintenance command's table: its root and the WriteEnv that reads, commits and deletes there. */
export interface WritableTable {
  root: string;
  env: WriteEnv;
}

/**
 * The <table> of a command that commits and deletes files (expire, remove-orphans): a local folder,
 * `s3://bucket/prefix/…` with the S3 settings of --profile and the AWS environment (as the read
 * commands take them; metadata is published there with a conditional PUT, so the store must honour
 * If-None-Match: checked once, Unsupported naming the store otherwise), or a REST catalog table
 * (`rest+http(s)://host:port/prefix#ns.table`, or `--catalog URI` with `ns.table`, auth as the read
 * commands take it). A catalog table is committed through the catalog (requirements and updates;
 * a 409 is a lost race, rebuilt on the new version and retried as every commit is), and its files
 * are read and deleted where its location says: `s3://` with the settings the catalog vends over
 * the profile's, or a local folder — only for a catalog on this machine, as the app allows.
 */
export async function writableTable(command: string, positional: string | undefined, values: RemoteValues = {}, env: Record<string, string | undefined> = process.env): Promise<WritableTable> {
  const text = positional!;
  if (isRestUri(text) || values.catalog !== undefined) return catalogWritableTable(command, text, values, env);
  if (values.token !== undefined || values.credential !== undefined) throw new TidemarkError('InvalidInput', `${command}: --token and --credential go with a REST catalog (--catalog URI or a rest+http(s):// table)`);
  if (!isS3Url(text)) {
    if (values.profile !== undefined) throw new TidemarkError('InvalidInput', `--profile ${values.profile}: the profile is for s3:// paths and REST catalogs, and ${text} is a local path`, { profile: values.profile });
    return { root: resolve(text), env: defaultWriteEnv };
  }
  const storage = createS3Storage((await profileSettings(values.profile, env)).s3);
  const root = tableRoot(text);
  if ((await detectTableFormat(storage, root)) === 'paimon') {
    throw new TidemarkError('Unsupported', `${command}: ${root} is a Paimon table: ${command} of Paimon tables works on local folders only`, { path: root, feature: `${command} of Paimon tables on S3` });
  }
  return { root, env: { ...defaultWriteEnv, storage } };
}

/**
 * Where a catalog table's files are: the folder holding the metadata file's `metadata/`, as the
 * read commands take it (a table copied or moved keeps its old `location`, which paths in its
 * manifests are mapped from); the location itself for a staged table without a metadata file.
 */
function catalogFilesRoot(location: string, result: { metadataLocation: string | null }): string {
  if (!result.metadataLocation) return catalogTableRoot(location);
  const file = result.metadataLocation.replace(/^s3a:/i, 's3:').replace(/^file:(\/\/)?/i, '');
  return file.split('/').slice(0, -2).join('/');
}

async function catalogWritableTable(command: string, text: string, values: RemoteValues, env: Record<string, string | undefined>): Promise<WritableTable> {
  const { uri, client, table, settings } = await restCatalogTarget(text, values, 'table', env);
  const { namespace, name } = table!;
  const id = [...namespace, name].join('.');
  const s3 = createS3Storage(settings.s3);
  const local = createLocalWritableStorage();
  const localAllowed = catalogMayNameLocalFiles(uri);
  const storage = routeStorage(
    () => `${s3.storeName} or ${local.storeName}`,
    (path) => {
      if (isS3Url(path)) return s3;
      // A catalog's answer is input: a remote one must not make this command delete local files.
      if (!localAllowed) throw new TidemarkError('Unsupported', `${command}: catalog ${uri} puts table ${id} at ${path}, a local path; only a catalog on this machine (loopback) may name local files`, { path, table: id });
      return local;
    },
  );
  const catalog = createRestTableCatalog(client, uri, { s3: settings.s3, identifierOf: () => ({ namespace, table: name }), rootOf: catalogFilesRoot });
  const bound = catalog.bindStorage ? catalog.bindStorage(storage) : storage;
  // Loaded once here: a refused token or a missing table is the catalog's error, naming its URL.
  const loaded = await client.loadTable(namespace, name);
  const root = catalogFilesRoot(loaded.metadata.location, loaded);
  return { root, env: { ...defaultWriteEnv, storage: bound, catalog } };
}

/** A writing command's <table>: a local folder (the write path writes to disk only, for now). */
export function tableArg(positional: string | undefined): string {
  if (isS3Url(positional!) || isRestUri(positional!)) {
    throw new TidemarkError('Unsupported', `${positional}: this command writes to the table, and tables on S3 and in REST catalogs are read-only here for now; the read commands (tables, snapshots, schema, files, scan, count, diff, query, …) accept s3:// paths and rest+http(s):// tables`, { path: positional! });
  }
  return resolve(positional!);
}

/** Canonical row value → JSON-safe value: bigint → decimal string, bytes → hex. */
export function toWire(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (Array.isArray(value)) return value.map(toWire);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]));
  return value;
}

export function formatCell(value: unknown): string {
  const v = toWire(value);
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cells = rows.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? 'NULL' : formatCell(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ').trimEnd();
  return [line(columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)].join('\n');
}

/** True when the table root is a Paimon table (the lake commands accept both formats). */
export async function isPaimonRoot(root: string, storage: StoragePort = createLocalStorage()): Promise<boolean> {
  return (await detectTableFormat(storage, root)) === 'paimon';
}

export { paimonSelectorOf } from '../../core/app/paimon-service';
