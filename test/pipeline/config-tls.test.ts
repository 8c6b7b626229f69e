/**
 * The source's TLS keys in pipeline YAML (`jdbc.properties.*`, Connector/J 8 meanings): how they
 * become the source's sslMode and CA file, and what validate says about them, with YAML lines.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatIssue, validatePipeline } from '../../core/pipeline';
import { readSourceTls } from '../../core/pipeline/config/tls';
import { toSourceConfig } from '../../core/pipeline/runner/source';
import { makeTestCertificates } from '../support/tls-certs';

const certs = makeTestCertificates();
afterAll(() => certs.remove());

function yaml(sourceLines: string[]): string {
  return [
    'source:',
    '  type: mysql',
    '  hostname: db.internal',
    '  username: cdc',
    '  password: pw',
    '  tables: shop.\\.*',
    ...sourceLines.map((l) => `  ${l}`),
    'sink:',
    '  type: iceberg',
    '  catalog.properties.type: hadoop',
    '  catalog.properties.warehouse: /var/lake',
    'pipeline:',
    '  name: tls',
  ].join('\n');
}

/** Validates; returns errors and warnings as `CODE p.yaml:line: path: message` / `p.yaml:line: …`. */
function check(sourceLines: string[]) {
  const r = validatePipeline(yaml(sourceLines), { fileName: 'p.yaml', env: {} });
  return { r, errors: r.errors.map((e) => `${e.code} ${formatIssue('p.yaml', e)}`), warnings: r.warnings.map((w) => formatIssue('p.yaml', w)) };
}

describe('jdbc.properties TLS keys → sslMode (Connector/J 8 translation)', () => {
  const cases: [Record<string, string>, string][] = [
    [{}, 'preferred'],
    [{ useSSL: 'true' }, 'preferred'],
    [{ useSSL: 'false' }, 'disabled'],
    [{ useSSL: 'false', requireSSL: 'true', verifyServerCertificate: 'true' }, 'disabled'],
    [{ requireSSL: 'true' }, 'required'],
    [{ useSSL: 'true', requireSSL: 'true', verifyServerCertificate: 'false' }, 'required'],
    [{ verifyServerCertificate: 'true' }, 'verify-ca'],
    [{ useSSL: 'true', requireSSL: 'true', verifyServerCertificate: 'true' }, 'verify-ca'],
    [{ sslMode: 'VERIFY_IDENTITY', useSSL: 'false' }, 'verify-identity'],
    [{ sslMode: 'DISABLED', requireSSL: 'true' }, 'disabled'],
    [{ sslMode: 'REQUIRED' }, 'required'],
  ];
  for (const [props, mode] of cases) {
    it(`${JSON.stringify(props)} → ${mode}`, () => expect(readSourceTls(props)).toEqual({ sslMode: mode, caFile: null }));
  }
});

describe('TLS keys in validate and in the source config', () => {
  it('no key: PREFERRED, as Connector/J; useSSL: false stays in jdbcProperties and disables TLS', () => {
    const none = check([]);
    expect(none.errors).toEqual([]);
    expect(toSourceConfig(none.r.config!)).toMatchObject({ sslMode: 'preferred' });
    expect(toSourceConfig(none.r.config!).sslCaFile).toBeUndefined();
    const off = check(['jdbc.properties.useSSL: false', 'jdbc.properties.connectTimeout: "5000"']);
    expect(off.errors).toEqual([]);
    expect(off.r.config!.source.jdbcProperties).toEqual({ connectTimeout: '5000', useSSL: 'false' });
    expect(toSourceConfig(off.r.config!).sslMode).toBe('disabled');
  });

  it('sslMode (any case) with a PEM CA at trustCertificateKeyStoreUrl: VERIFY_IDENTITY with that file, and a note about Flink', () => {
    const url = pathToFileURL(certs.caFile).href;
    const { r, errors, warnings } = check(['jdbc.properties.sslMode: verify_identity', `jdbc.properties.trustCertificateKeyStoreUrl: ${url}`]);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      'p.yaml:8: source.jdbc.properties.trustCertificateKeyStoreUrl: a PEM CA file: Tidemark reads it; Flink CDC (Connector/J) reads a JKS or PKCS12 keystore at this key, so give the cluster a keystore of the same CA',
    ]);
    expect(r.config!.source.jdbcProperties).toEqual({ sslMode: 'VERIFY_IDENTITY', trustCertificateKeyStoreUrl: url });
    expect(toSourceConfig(r.config!)).toMatchObject({ sslMode: 'verify-identity', sslCaFile: url });
  });

  it('a bad value is an error on its line; legacy keys beside sslMode and a CA without verification are warned as ignored', () => {
    expect(check(['jdbc.properties.sslMode: STRICT']).errors).toEqual([
      'InvalidInput p.yaml:7: source.jdbc.properties.sslMode: expected one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY, found "STRICT"',
    ]);
    expect(check(['jdbc.properties.useSSL: maybe']).errors).toEqual(['InvalidInput p.yaml:7: source.jdbc.properties.useSSL: expected true or false, found "maybe"']);
    const { errors, warnings } = check(['jdbc.properties.sslMode: REQUIRED', 'jdbc.properties.useSSL: false', `jdbc.properties.trustCertificateKeyStoreUrl: ${certs.caFile}`]);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      'p.yaml:8: source.jdbc.properties.useSSL: ignored: jdbc.properties.sslMode is set (as in Connector/J, the legacy keys count only without it)',
      "p.yaml:9: source.jdbc.properties.trustCertificateKeyStoreUrl: ignored: sslMode REQUIRED does not verify the server's certificate (VERIFY_CA and VERIFY_IDENTITY do)",
    ]);
  });

  it('a JKS or PKCS12 keystore is Unsupported, naming the command that exports it as PEM; a missing file is InvalidInput', () => {
    const jks = join(certs.dir, 'truststore.jks');
    // A JKS file starts with the magic 0xFEEDFEED and version 2.
    writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2, 0, 0, 0, 0]));
    const p12 = join(certs.dir, 'truststore.p12');
    const made = spawnSync('openssl', ['pkcs12', '-export', '-nokeys', '-in', certs.caFile, '-out', p12, '-passout', 'pass:changeit'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const key = 'source.jdbc.properties.trustCertificateKeyStoreUrl';
    expect(check(['jdbc.properties.verifyServerCertificate: true', `jdbc.properties.trustCertificateKeyStoreUrl: file:${jks}`]).errors).toEqual([
      `Unsupported p.yaml:8: ${key}: ${jks} is a Java KeyStore (JKS); Tidemark reads trusted CA certificates from a PEM file: export them with \`keytool -exportcert -rfc -alias <alias> -keystore ${jks} -file ca.pem\` (PKCS12: \`openssl pkcs12 -in ${jks} -nokeys -out ca.pem\`) and point jdbc.properties.trustCertificateKeyStoreUrl at ca.pem`,
    ]);
    expect(check(['jdbc.properties.sslMode: VERIFY_CA', `jdbc.properties.trustCertificateKeyStoreUrl: ${p12}`]).errors).toEqual([
      `Unsupported p.yaml:8: ${key}: ${p12} is a PKCS12 keystore (binary ASN.1); Tidemark reads trusted CA certificates from a PEM file: export them with \`keytool -exportcert -rfc -alias <alias> -keystore ${p12} -file ca.pem\` (PKCS12: \`openssl pkcs12 -in ${p12} -nokeys -out ca.pem\`) and point jdbc.properties.trustCertificateKeyStoreUrl at ca.pem`,
    ]);
    const missing = join(certs.dir, 'nope.pem');
    expect(check(['jdbc.properties.sslMode: VERIFY_CA', `jdbc.properties.trustCertificateKeyStoreUrl: ${missing}`]).errors).toEqual([
      `InvalidInput p.yaml:8: ${key}: cannot read the CA file ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    ]);
  });
});
