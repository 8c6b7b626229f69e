import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WritableStorage } from '../index';
import { createLocalWritableStorage } from './writable';
import { createS3Storage, isS3Url, type S3StorageOptions } from '../s3/index';

export interface StorageForOptions {
  /** S3 settings; what is left out comes from `env` (AWS_ENDPOINT_URL, AWS_REGION, TIDEMARK_S3_PATH_STYLE, AWS_ACCESS_KEY_ID, …). */
  s3?: S3StorageOptions;
  /** Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Base of relative local paths (default the working directory). */
  cwd?: string;
}

export interface StorageLocation {
  kind: 'local' | 's3';
  /** The path to hand to the storage: absolute on disk, or `s3://bucket/key` without a trailing slash. */
  path: string;
  storage: WritableStorage;
}

/**
 * The storage holding a path or URL (Node only): `s3://bucket/prefix/…` (or `s3a://`) → the S3
 * storage, `file://…` or a plain path → the local file system (relative paths resolved).
 */
export function storageFor(pathOrUrl: string, options: StorageForOptions = {}): StorageLocation {
  if (isS3Url(pathOrUrl)) {
    const path = pathOrUrl.trim().replace(/^s3a:/i, 's3:').replace(/\/+$/, '');
    return { kind: 's3', path, storage: createS3Storage({ env: options.env, ...options.s3 }) };
  }
  const local = /^file:/i.test(pathOrUrl) ? fileURLToPath(pathOrUrl) : pathOrUrl;
  return { kind: 'local', path: resolve(options.cwd ?? process.cwd(), local), storage: createLocalWritableStorage() };
}
