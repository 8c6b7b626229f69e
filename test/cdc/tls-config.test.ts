/**
 * TLS settings of a source, before any connection: the CA file's forms and what is refused, and
 * the mysql2 options each mode gives (no server needed).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createMySqlSource } from '../../core/cdc/index';
import { resolveConfig, type MySqlSourceConfig } from '../../core/cdc/config';
import { connectionOptions } from '../../core/cdc/connect';
import { readTrustedCa, type SslMode } from '../../core/cdc/tls';
import { makeTestCertificates } from '../support/tls-certs';

const certs = makeTestCertificates();
afterAll(() => certs.remove());

const base: MySqlSourceConfig = { hostname: '127.0.0.1', port: 3306, username: 'cdc', password: 'pw', tables: ['app\\..*'], serverId: 9 };
const KEY = 'jdbc.properties.trustCertificateKeyStoreUrl';

describe('the trusted CA file', () => {
  it('is read from a path, a file:/// URL and a file:/ URL; the PEM text is kept whole', () => {
    const pem = readFileSync(certs.caFile, 'latin1');
    expect(readTrustedCa(certs.caFile, KEY)).toEqual({ ca: pem, path: certs.caFile });
    expect(readTrustedCa(pathToFileURL(certs.caFile).href, KEY)).toEqual({ ca: pem, path: certs.caFile });
    expect(readTrustedCa(`file:${certs.caFile}`, KEY)).toEqual({ ca: pem, path: certs.caFile });
  });

  it('refuses a remote URL, a file without a certificate, an unparsable one, a DER certificate and a JCEKS keystore', () => {
    expect(() => readTrustedCa('https://example.test/ca.pem', KEY)).toThrow(expect.objectContaining({ code: 'Unsupported', message: `${KEY}: "https://example.test/ca.pem": only local files (a path or a file: URL) are read` }));
    const text = join(certs.dir, 'notes.txt');
    writeFileSync(text, 'not a certificate\n');
    expect(() => readTrustedCa(text, KEY)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: `${KEY}: ${text} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)` }));
    const broken = join(certs.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => readTrustedCa(broken, KEY)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(new RegExp(`^${KEY}: ${broken}: the first certificate cannot be parsed: `)) as unknown }));
    const der = join(certs.dir, 'ca.der');
    const made = spawnSync('openssl', ['x509', '-in', certs.caFile, '-outform', 'der', '-out', der], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    expect(() => readTrustedCa(der, KEY)).toThrow(
      expect.objectContaining({ code: 'Unsupported', message: `${KEY}: ${der} is a DER (binary) certificate; Tidemark reads PEM: convert it with \`openssl x509 -inform der -in ${der} -out ca.pem\` and point ${KEY} at ca.pem` }),
    );
    const jceks = join(certs.dir, 'store.jceks');
    writeFileSync(jceks, Buffer.from([0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2]));
    expect(() => readTrustedCa(jceks, KEY)).toThrow(expect.objectContaining({ code: 'Unsupported', message: expect.stringContaining(`${KEY}: ${jceks} is a Java JCEKS keystore; Tidemark reads trusted CA certificates from a PEM file`) as unknown }));
  });

  it('is read when the source is created, and only by the modes that verify', () => {
    const jks = join(certs.dir, 'store.jks');
    writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
    expect(() => createMySqlSource({ ...base, sslMode: 'verify-ca', sslCaFile: jks })).toThrow(expect.objectContaining({ code: 'Unsupported' }));
    // REQUIRED checks no certificate (Connector/J reads no trust store for it either).
    expect(resolveConfig({ ...base, sslMode: 'required', sslCaFile: jks }).tls).toEqual({ mode: 'required', ca: null, caFile: null });
    expect(() => createMySqlSource({ ...base, sslMode: 'strict' as SslMode })).toThrow(
      expect.objectContaining({ code: 'InvalidInput', message: 'jdbc.properties.sslMode: expected one of disabled, preferred, required, verify-ca, verify-identity, found "strict"' }),
    );
  });
});

describe('mysql2 options per mode', () => {
  const ssl = (over: Partial<MySqlSourceConfig>) => connectionOptions(resolveConfig({ ...base, ...over })).ssl;
  it('DISABLED (the library default) asks for no TLS; PREFERRED and REQUIRED do, unverified', () => {
    expect(ssl({})).toBeUndefined();
    expect(ssl({ sslMode: 'disabled' })).toBeUndefined();
    expect(ssl({ sslMode: 'preferred' })).toEqual({ rejectUnauthorized: false, verifyIdentity: false });
    expect(ssl({ sslMode: 'required', sslCaFile: certs.caFile })).toEqual({ rejectUnauthorized: false, verifyIdentity: false });
  });
  it('VERIFY_CA verifies the chain against the CA file; VERIFY_IDENTITY leaves the name of an IP host to the check after connect', () => {
    const ca = readFileSync(certs.caFile, 'latin1');
    expect(ssl({ sslMode: 'verify-ca', sslCaFile: certs.caFile })).toEqual({ ca, rejectUnauthorized: true, verifyIdentity: false });
    expect(ssl({ sslMode: 'verify-ca' })).toEqual({ rejectUnauthorized: true, verifyIdentity: false });
    expect(ssl({ sslMode: 'verify-identity', sslCaFile: certs.caFile })).toEqual({ ca, rejectUnauthorized: true, verifyIdentity: false });
    expect(ssl({ sslMode: 'verify-identity', sslCaFile: certs.caFile, hostname: 'db.internal' })).toEqual({ ca, rejectUnauthorized: true, verifyIdentity: true });
  });
});
