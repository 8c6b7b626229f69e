/**
 * S3 settings from the AWS shared config and credentials files (Node only): `~/.aws/config` and
 * `~/.aws/credentials`, or the files AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE name, for the
 * profile given, else AWS_PROFILE, else `default`. Parsed by @smithy/core/config, the AWS SDK's own
 * reader (`[profile name]` sections in config, `[name]` in credentials, `s3 =` sub-sections).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadSharedConfigFiles } from '@smithy/core/config';
import { TidemarkError } from '../../errors';
import type { S3Config } from '../s3/index';

export interface AwsProfileOptions {
  /** Profile name; default env AWS_PROFILE, else `default`. */
  profile?: string;
  /** Where AWS_PROFILE, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE and HOME are read (default process.env). */
  env?: Record<string, string | undefined>;
}

/** The S3 settings a profile gives (only those it sets), and the files it came from. */
export interface AwsProfileSettings {
  profile: string;
  s3: Pick<S3Config, 'endpoint' | 'region' | 'pathStyle' | 'credentials'>;
}

function sharedFiles(env: Record<string, string | undefined>): { configFilepath: string; filepath: string } {
  const home = env.HOME || env.USERPROFILE || homedir();
  return {
    configFilepath: env.AWS_CONFIG_FILE || join(home, '.aws', 'config'),
    filepath: env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'),
  };
}

/**
 * Reads one profile. A profile named explicitly (argument or AWS_PROFILE) that neither file has is
 * InvalidInput naming the profile and both files; the implicit `default` may be absent (→ no
 * settings). Half a key pair is InvalidInput naming the profile and the missing key, never a value.
 */
export async function loadAwsProfile(options: AwsProfileOptions = {}): Promise<AwsProfileSettings> {
  const env = options.env ?? process.env;
  const explicit = options.profile ?? env.AWS_PROFILE;
  const profile = explicit || 'default';
  const files = sharedFiles(env);
  const { configFile, credentialsFile } = await loadSharedConfigFiles({ ...files, ignoreCache: true });
  const config = configFile[profile];
  const creds = credentialsFile[profile];
  if (!config && !creds) {
    if (explicit) throw new TidemarkError('InvalidInput', `AWS profile ${JSON.stringify(profile)} is in neither ${files.configFilepath} nor ${files.filepath}`, { profile });
    return { profile, s3: {} };
  }
  const merged: Record<string, string | undefined> = { ...config, ...creds };
  const s3: AwsProfileSettings['s3'] = {};
  const endpoint = merged['s3.endpoint_url'] ?? merged.endpoint_url;
  if (endpoint) s3.endpoint = endpoint;
  if (merged.region) s3.region = merged.region;
  const style = merged['s3.addressing_style'];
  if (style === 'path') s3.pathStyle = true;
  else if (style === 'virtual') s3.pathStyle = false;
  else if (style && style !== 'auto') throw new TidemarkError('InvalidInput', `AWS profile ${JSON.stringify(profile)}: s3.addressing_style expects path, virtual or auto, found ${JSON.stringify(style)}`, { profile });
  const id = merged.aws_access_key_id;
  const secret = merged.aws_secret_access_key;
  if (id || secret) {
    if (!id || !secret) {
      const missing = id ? 'aws_secret_access_key' : 'aws_access_key_id';
      throw new TidemarkError('InvalidInput', `AWS profile ${JSON.stringify(profile)}: ${missing} is not set while its pair is`, { profile });
    }
    s3.credentials = { accessKeyId: id, secretAccessKey: secret, sessionToken: merged.aws_session_token || undefined };
  }
  return { profile, s3 };
}
