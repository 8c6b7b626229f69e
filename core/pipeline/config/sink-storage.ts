import { isAbsolute, join, resolve } from 'node:path';
import { getBool, getString, lineOfKey, type Block, type ReadContext } from './read';
import type { SinkRestSettings, SinkS3Settings } from './types';

/** The FileIO implementations whose storage Tidemark writes itself (Iceberg's class names). */
const S3_FILE_IO = ['org.apache.iceberg.aws.s3.S3FileIO', 'org.apache.iceberg.io.ResolvingFileIO', 'org.apache.iceberg.hadoop.HadoopFileIO'];
const LOCAL_FILE_IO = ['org.apache.iceberg.hadoop.HadoopFileIO', 'org.apache.iceberg.io.ResolvingFileIO'];

/**
 * A secret key's value: `env:NAME` (as the CLI's `--token env:NAME`) is read from the environment;
 * `${env:NAME}` was already resolved by readBlock. The value is never put into a message.
 */
function readSecret(b: Block, key: string, ctx: ReadContext): string | null {
  const text = getString(b, key);
  const ref = text === null ? null : /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(text.trim());
  if (!ref) return text;
  const value = ctx.env[ref[1]!];
  if (value === undefined || value === '') {
    ctx.issues.error(lineOfKey(b, key), `${b.path}.${key}`, `environment variable ${ref[1]} is not set (referenced as env:${ref[1]})`);
    return null;
  }
  return value;
}

/**
 * The sink's warehouse and where it is written: a local folder (a `file://` URI or a path, relative
 * to `baseDir`), or `s3://bucket/prefix` (`s3a://` accepted) with the Iceberg Flink connector's
 * S3FileIO keys (`catalog.properties.s3.endpoint`, `s3.access-key-id`, `s3.secret-access-key`,
 * `s3.path-style-access`, `client.region`; the secrets also as `env:NAME`) and `io-impl` checked
 * against the warehouse. Other schemes are Unsupported naming them.
 */
export function readSinkStorage(b: Block, ctx: ReadContext, baseDir: string | undefined, restCatalog = false): { warehouse: string; s3: SinkS3Settings; rest: SinkRestSettings; stateDir: string } {
  const rest: SinkRestSettings = { uri: getString(b, 'catalog.properties.uri'), token: readSecret(b, 'catalog.properties.token', ctx), credential: readSecret(b, 'catalog.properties.credential', ctx) };
  if (restCatalog) return readRestCatalog(b, ctx, baseDir, rest);
  for (const key of ['uri', 'token', 'credential']) {
    if (b.keys.includes(`catalog.properties.${key}`)) ctx.issues.warn(lineOfKey(b, `catalog.properties.${key}`), `sink.catalog.properties.${key}`, 'has no effect: catalog.properties.type is not rest');
  }
  let warehouse = getString(b, 'catalog.properties.warehouse') ?? '';
  if (warehouse.startsWith('file://')) warehouse = decodeURIComponent(warehouse.slice('file://'.length));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(warehouse);
  const s3 = scheme !== null && /^s3a?$/i.test(scheme[1]!);
  if (s3) {
    warehouse = `s3://${warehouse.slice(scheme![0].length).replace(/\/+$/, '')}`;
    if (!/^s3:\/\/[^/]+/.test(warehouse)) ctx.issues.error(lineOfKey(b, 'catalog.properties.warehouse'), 'sink.catalog.properties.warehouse', `warehouse ${JSON.stringify(warehouse)} names no bucket (expected s3://bucket/prefix)`);
  } else if (scheme) {
    ctx.issues.error(lineOfKey(b, 'catalog.properties.warehouse'), 'sink.catalog.properties.warehouse', `warehouse ${JSON.stringify(warehouse)} uses ${scheme[1]}://; Tidemark writes to a local folder (a path or file:// URI) or to S3 (s3://bucket/prefix)`, 'Unsupported');
  } else if (warehouse !== '' && !isAbsolute(warehouse) && baseDir !== undefined) {
    warehouse = resolve(baseDir, warehouse);
  }
  const ioImpl = getString(b, 'catalog.properties.io-impl');
  if (ioImpl !== null && !(s3 ? S3_FILE_IO : LOCAL_FILE_IO).includes(ioImpl.trim())) {
    const expected = s3 ? S3_FILE_IO : LOCAL_FILE_IO;
    ctx.issues.error(lineOfKey(b, 'catalog.properties.io-impl'), 'sink.catalog.properties.io-impl', `io-impl ${JSON.stringify(ioImpl)} is not supported for ${s3 ? 'an s3://' : 'a local'} warehouse: Tidemark writes it with its own storage (use ${expected.join(' or ')})`, 'Unsupported');
  }
  const settings: SinkS3Settings = {
    endpoint: getString(b, 'catalog.properties.s3.endpoint'),
    region: getString(b, 'catalog.properties.client.region'),
    pathStyle: b.values.has('catalog.properties.s3.path-style-access') ? getBool(b, 'catalog.properties.s3.path-style-access', false) : null,
    accessKeyId: readSecret(b, 'catalog.properties.s3.access-key-id', ctx),
    secretAccessKey: readSecret(b, 'catalog.properties.s3.secret-access-key', ctx),
  };
  if ((settings.accessKeyId === null) !== (settings.secretAccessKey === null)) {
    const missing = settings.accessKeyId === null ? 's3.access-key-id' : 's3.secret-access-key';
    ctx.issues.error(b.line, 'sink', `catalog.properties.${missing} is missing: S3 credentials need both the access key id and the secret access key`);
  }
  if (settings.endpoint !== null && !/^https?:\/\/[^/]/i.test(settings.endpoint.trim())) {
    ctx.issues.error(lineOfKey(b, 'catalog.properties.s3.endpoint'), 'sink.catalog.properties.s3.endpoint', `expected an http:// or https:// URL, found ${JSON.stringify(settings.endpoint)}`);
  }
  if (!s3) {
    for (const key of ['s3.endpoint', 's3.access-key-id', 's3.secret-access-key', 's3.path-style-access', 'client.region']) {
      if (b.keys.includes(`catalog.properties.${key}`)) ctx.issues.warn(lineOfKey(b, `catalog.properties.${key}`), `sink.catalog.properties.${key}`, 'has no effect: the warehouse is a local folder, not s3://');
    }
  }
  // The runner's lock, checkpoint and status files are local files (an object store has no
  // exclusive local lock): beside the warehouse, or for S3 beside the YAML file (relative, as a
  // relative warehouse is, when no folder is given).
  const stateDir = s3 ? join(baseDir ?? '', '.tidemark', 's3', ...warehouse.slice('s3://'.length).split('/').filter(Boolean)) : join(warehouse, '.tidemark');
  return { warehouse, s3: settings, rest, stateDir };
}

/**
 * An Iceberg REST catalog sink: `uri` (http or https) is required; `warehouse` is the catalog's
 * warehouse name, not a path; the data files go where each table's location says (a folder, or
 * s3:// with the s3.* keys). The runner's local files are kept beside the YAML file.
 */
function readRestCatalog(b: Block, ctx: ReadContext, baseDir: string | undefined, rest: SinkRestSettings): { warehouse: string; s3: SinkS3Settings; rest: SinkRestSettings; stateDir: string } {
  if (rest.uri === null || !/^https?:\/\/[^/]/i.test(rest.uri.trim())) {
    ctx.issues.error(lineOfKey(b, rest.uri === null ? 'catalog.properties.type' : 'catalog.properties.uri'), 'sink.catalog.properties.uri', rest.uri === null ? 'catalog.properties.type: rest needs catalog.properties.uri (the catalog\'s http:// or https:// address)' : `expected an http:// or https:// URL, found ${JSON.stringify(rest.uri)}`);
  }
  if (rest.token !== null && rest.credential !== null) {
    ctx.issues.error(lineOfKey(b, 'catalog.properties.credential'), 'sink.catalog.properties.credential', 'give catalog.properties.token or catalog.properties.credential, not both');
  }
  if (rest.credential !== null && !rest.credential.includes(':')) {
    ctx.issues.error(lineOfKey(b, 'catalog.properties.credential'), 'sink.catalog.properties.credential', 'expected client_id:client_secret');
  }
  const warehouse = getString(b, 'catalog.properties.warehouse') ?? '';
  const s3: SinkS3Settings = {
    endpoint: getString(b, 'catalog.properties.s3.endpoint'),
    region: getString(b, 'catalog.properties.client.region'),
    pathStyle: b.values.has('catalog.properties.s3.path-style-access') ? getBool(b, 'catalog.properties.s3.path-style-access', false) : null,
    accessKeyId: readSecret(b, 'catalog.properties.s3.access-key-id', ctx),
    secretAccessKey: readSecret(b, 'catalog.properties.s3.secret-access-key', ctx),
  };
  const where = (rest.uri ?? '').replace(/^https?:\/\//i, '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '');
  const stateDir = join(baseDir ?? '', '.tidemark', 'rest', where, ...(warehouse ? [warehouse.replace(/[^A-Za-z0-9._-]+/g, '_')] : []));
  return { warehouse, s3, rest, stateDir };
}
