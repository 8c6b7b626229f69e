import { createRestTableCatalog, RestCatalogClient } from '../../../catalog';
import type { TableCatalog, WriteEnv } from '../../../lake/write';
import { routeStorage, type WritableStorage } from '../../../storage';
import { createLocalWritableStorage } from '../../../storage/node/index';
import { createS3Storage, isS3Url, type S3Config } from '../../../storage/s3/index';
import type { PipelineConfig, SinkRestSettings } from '../../config/types';

/**
 * The S3 settings of the sink (`catalog.properties.s3.*`, `client.region`) as S3 storage options,
 * or null when the sink writes no s3:// path (a local hadoop warehouse). Plain data, so the sink
 * worker can build the same storage. What the YAML leaves out comes from the AWS environment
 * (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, …).
 */
export function sinkS3Config(config: PipelineConfig): S3Config | null {
  if (config.sink.catalogType !== 'rest' && !config.sink.warehouse.startsWith('s3://')) return null;
  const s3 = config.sink.s3;
  const out: S3Config = {};
  if (s3.endpoint !== null) out.endpoint = s3.endpoint.trim();
  if (s3.region !== null) out.region = s3.region.trim();
  if (s3.pathStyle !== null) out.pathStyle = s3.pathStyle;
  if (s3.accessKeyId !== null && s3.secretAccessKey !== null) out.credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  return out;
}

/** The REST catalog settings of a `catalog.properties.type: rest` sink (plain data for the worker), else null. */
export function sinkRestSettings(config: PipelineConfig): (SinkRestSettings & { warehouse: string }) | null {
  return config.sink.catalogType === 'rest' ? { ...config.sink.rest, warehouse: config.sink.warehouse } : null;
}

/** A client of the sink's REST catalog: `uri`, the `warehouse` name, a bearer `token` or OAuth2 `credential`. */
export function sinkRestClient(rest: SinkRestSettings & { warehouse: string }): RestCatalogClient {
  return new RestCatalogClient({
    uri: rest.uri ?? '',
    warehouse: rest.warehouse || undefined,
    token: rest.token ?? undefined,
    credential: rest.credential ?? undefined,
  });
}

/** The catalog owning the tables of a REST sink, or null (a hadoop sink publishes metadata files). */
export function sinkCatalog(rest: (SinkRestSettings & { warehouse: string }) | null, s3: S3Config | null = null): TableCatalog | null {
  return rest ? createRestTableCatalog(sinkRestClient(rest), rest.uri ?? '', { s3: s3 ?? {} }) : null;
}

/** `storage` reaching each catalog table with the credentials the catalog vends for it (itself without a catalog). */
export function catalogStorage(storage: WritableStorage | null, catalog: TableCatalog | null): WritableStorage | null {
  return storage && catalog?.bindStorage ? catalog.bindStorage(storage) : storage;
}

/**
 * Local paths to the local file system, `s3://` paths to S3 (a REST catalog's tables may live in
 * either, as their locations say).
 */
function createRoutingStorage(local: WritableStorage, s3: WritableStorage): WritableStorage {
  return routeStorage(
    () => `${local.storeName} or ${s3.storeName}`,
    (path) => (isS3Url(path) ? s3 : local),
  );
}

/** The storage of the sink's files from its plain settings: S3 for s3:// paths (when it may write any), else the local file system. */
export function storageFromSettings(s3: S3Config | null, rest: boolean): WritableStorage {
  const local = createLocalWritableStorage();
  if (!s3) return local;
  return rest ? createRoutingStorage(local, createS3Storage(s3)) : createS3Storage(s3);
}

/** The storage of the sink's warehouse: S3 for `s3://`, both for a REST catalog, else the local file system. */
export function sinkStorage(config: PipelineConfig): WritableStorage {
  return storageFromSettings(sinkS3Config(config), config.sink.catalogType === 'rest');
}

/** `env` writing into `storage` (env itself for the local file system, so the default env stays the default). */
export function withStorage(env: WriteEnv, storage: WritableStorage | null, catalog: TableCatalog | null = null): WriteEnv {
  if (storage === null && catalog === null) return env;
  return { ...env, ...(storage ? { storage } : {}), ...(catalog ? { catalog } : {}) };
}
