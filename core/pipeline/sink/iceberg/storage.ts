import type { WritableStorage } from '../../../storage';
import { createLocalWritableStorage } from '../../../storage/node/index';
import { createS3Storage, type S3Config } from '../../../storage/s3/index';
import type { WriteEnv } from '../../../lake/write';
import type { PipelineConfig } from '../../config/types';

/**
 * The S3 settings of the sink's `s3://` warehouse as S3 storage options (null for a local
 * warehouse): plain data, so the sink worker can build the same storage. What the YAML leaves out
 * comes from the AWS environment (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, …).
 */
export function sinkS3Config(config: PipelineConfig): S3Config | null {
  if (!config.sink.warehouse.startsWith('s3://')) return null;
  const s3 = config.sink.s3;
  const out: S3Config = {};
  if (s3.endpoint !== null) out.endpoint = s3.endpoint.trim();
  if (s3.region !== null) out.region = s3.region.trim();
  if (s3.pathStyle !== null) out.pathStyle = s3.pathStyle;
  if (s3.accessKeyId !== null && s3.secretAccessKey !== null) out.credentials = { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
  return out;
}

/** The storage of the sink's warehouse: S3 for `s3://`, else the local file system. */
export function sinkStorage(config: PipelineConfig): WritableStorage {
  const s3 = sinkS3Config(config);
  return s3 ? createS3Storage(s3) : createLocalWritableStorage();
}

/** `env` writing into `storage` (env itself for the local file system, so the default env stays the default). */
export function withStorage(env: WriteEnv, storage: WritableStorage | null): WriteEnv {
  return storage === null ? env : { ...env, storage };
}
