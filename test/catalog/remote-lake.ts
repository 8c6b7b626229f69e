/**
 * A remote lake for the CLI and app tests: Tidemark's demo warehouse written locally, copied object
 * by object into s3rver, and Tidemark's REST catalog server over the local folder reporting its
 * metadata locations in the S3 copy (as a catalog over object storage does) and vending the S3
 * settings in the load result's config. A proxy in front of s3rver records what is read there.
 */
import { expect } from 'vitest';
import { startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { S3RVER_CREDENTIALS, startHttpProxy, startS3rver, uploadFolder, type HttpProxy, type S3Server } from '../support/s3-server';
import { copyWarehouse, makeDemoSource } from './helpers';

export const S3_WAREHOUSE = 's3://lake/wh';

export interface RemoteLake {
  /** The local warehouse folder (the same lake as a plain folder). */
  warehouse: string;
  s3: S3Server;
  /** In front of s3rver: every S3 request the readers make. */
  proxy: HttpProxy;
  catalog: RestCatalogServer;
  close(): Promise<void>;
}

export async function startRemoteLake(options: { oauthClients?: Record<string, string> } = {}): Promise<RemoteLake> {
  const source = await makeDemoSource();
  const copy = copyWarehouse(source.dir, 'wh');
  source.dispose();
  const s3 = await startS3rver(['lake']);
  const proxy = await startHttpProxy(s3.port);
  expect(await uploadFolder(s3.endpoint, copy.warehouse, S3_WAREHOUSE)).toBeGreaterThan(20);
  const catalog = await startRestCatalogServer({
    warehouse: copy.warehouse,
    token: 'catalog-token-0123456789',
    oauthClients: options.oauthClients,
    publicLocation: S3_WAREHOUSE,
    tableConfig: {
      's3.endpoint': proxy.endpoint,
      's3.access-key-id': S3RVER_CREDENTIALS.accessKeyId,
      's3.secret-access-key': S3RVER_CREDENTIALS.secretAccessKey,
      's3.path-style-access': 'true',
      'client.region': 'us-east-1',
    },
  });
  return {
    warehouse: copy.warehouse,
    s3,
    proxy,
    catalog,
    async close() {
      await catalog.close();
      await proxy.close();
      await s3.close();
      copy.dispose();
    },
  };
}
