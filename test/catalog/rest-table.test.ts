import { describe, expect, it } from 'vitest';
import { parseRestUri, s3OptionsFromLoadResult } from '../../core/catalog';
import { TidemarkError } from '../../core/errors';

describe('REST catalog addresses and vended S3 settings', () => {
  it('splits rest+http(s):// URIs into catalog URI, warehouse and table', () => {
    expect(parseRestUri('rest+http://127.0.0.1:8181/wh#db.orders')).toEqual({ uri: 'http://127.0.0.1:8181/', warehouse: 'wh', table: { namespace: ['db'], name: 'orders' } });
    expect(parseRestUri('rest+https://cat.example/api/catalog/prod#a.b.t')).toEqual({ uri: 'https://cat.example/api/catalog/', warehouse: 'prod', table: { namespace: ['a', 'b'], name: 't' } });
    expect(parseRestUri('rest+http://host:1/wh')).toEqual({ uri: 'http://host:1/', warehouse: 'wh', table: null });
    expect(parseRestUri('rest+http://host:1/')).toEqual({ uri: 'http://host:1/', warehouse: undefined, table: null });
  });

  it('refuses what is not a REST table address, without echoing credentials', () => {
    const bad = (text: string) => {
      try {
        parseRestUri(text);
      } catch (e) {
        expect(e).toBeInstanceOf(TidemarkError);
        return (e as TidemarkError).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(bad('http://host/wh')).toBe('expected a REST catalog as rest+http(s)://host:port/prefix#namespace.table, found "http://host/wh"');
    expect(bad('rest+http://host/wh#orders')).toBe('expected a table as namespace.table, found "orders"');
    const withUser = bad('rest+http://me:hunter2@host:1/wh#a.b');
    expect(withUser).toBe('http://host:1/wh: put no credentials in the catalog URI; use --token or --credential');
  });

  it("reads Iceberg's S3FileIO keys from config, overlaid by the longest matching storage-credentials prefix", () => {
    const result: { config: Record<string, string>; storageCredentials: { prefix: string; config: Record<string, string> }[] } = {
      config: { 's3.endpoint': 'http://minio:9000', 's3.path-style-access': 'true', 'client.region': 'eu-west-1', 's3.access-key-id': 'BASE', 's3.secret-access-key': 'base-secret' },
      storageCredentials: [
        { prefix: 's3://bucket/', config: { 's3.access-key-id': 'WIDE', 's3.secret-access-key': 'wide-secret' } },
        { prefix: 's3://bucket/wh/db/', config: { 's3.access-key-id': 'NARROW', 's3.secret-access-key': 'narrow-secret', 's3.session-token': 'sess' } },
      ],
    };
    expect(s3OptionsFromLoadResult(result, 's3://bucket/wh/db/t')).toEqual({
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      pathStyle: true,
      credentials: { accessKeyId: 'NARROW', secretAccessKey: 'narrow-secret', sessionToken: 'sess' },
    });
    expect(s3OptionsFromLoadResult(result, 's3://bucket/other/t').credentials).toEqual({ accessKeyId: 'WIDE', secretAccessKey: 'wide-secret', sessionToken: undefined });
    expect(s3OptionsFromLoadResult({ config: {}, storageCredentials: [] }, 's3://b/t')).toEqual({});
  });
});
