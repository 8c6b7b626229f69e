import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startRestCatalogServer } from '../../core/catalog';
import { TidemarkError } from '../../core/errors';
import { defaultWriteEnv, type WriteEnv } from '../../core/lake/write';
import { createS3Storage, isS3Url, resolveS3Config, type S3Config } from '../../core/storage/s3/index';
import { parseCommandArgs, type CliRunner } from '../command';
import { profileSettings } from './lake-args';

/**
 * What `--vend-credentials` hands to clients for every table: the S3 settings this server itself
 * uses (S3FileIO property names), so a client needs the catalog token only. Without an STS the
 * keys are the server's own, not scoped to the table: anyone holding the token can read and write
 * the whole warehouse through the catalog anyway.
 */
export function vendedS3Properties(config: S3Config): Record<string, string> {
  const r = resolveS3Config(config);
  const out: Record<string, string> = { 's3.endpoint': r.endpoint.href.replace(/\/+$/, ''), 'client.region': r.region, 's3.path-style-access': String(r.pathStyle) };
  if (r.credentials) {
    out['s3.access-key-id'] = r.credentials.accessKeyId;
    out['s3.secret-access-key'] = r.credentials.secretAccessKey;
    if (r.credentials.sessionToken) out['s3.session-token'] = r.credentials.sessionToken;
  }
  return out;
}

export const catalogCommand: CliRunner = {
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(
      'catalog',
      argv,
      { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' }, profile: { type: 'string' }, 'vend-credentials': { type: 'boolean' } },
      { min: 1, max: 1, names: ['warehouse'] },
    );
    let port = 0;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TidemarkError('InvalidInput', `catalog: --port: expected 0..65535, got ${JSON.stringify(values.port)}`);
    }
    if (values.token !== undefined && !/^[\x21-\x7e]+$/.test(values.token)) {
      throw new TidemarkError('InvalidInput', 'catalog: --token: expected printable ASCII without spaces');
    }
    const text = positionals[0]!;
    let warehouse: string;
    let env: WriteEnv = defaultWriteEnv;
    let vend: Record<string, string> | null = null;
    if (isS3Url(text)) {
      const s3 = (await profileSettings(values.profile, process.env)).s3;
      env = { ...defaultWriteEnv, storage: createS3Storage(s3) };
      warehouse = text;
      if (values['vend-credentials']) vend = vendedS3Properties(s3);
    } else {
      if (values.profile !== undefined || values['vend-credentials']) {
        throw new TidemarkError('InvalidInput', `catalog: --profile and --vend-credentials are for an s3:// warehouse, and ${text} is a local folder`, { path: text });
      }
      warehouse = resolve(text);
      if (!existsSync(warehouse)) throw new TidemarkError('NotFound', `warehouse folder not found: ${warehouse}`, { path: warehouse });
    }
    const server = await startRestCatalogServer({ warehouse, port, host: values.host, token: values.token, env, ...(vend ? { vendCredentials: () => vend } : {}) });
    io.out(`uri=${server.uri} token=${server.token}`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(done);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};
