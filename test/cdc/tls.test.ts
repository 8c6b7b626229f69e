/**
 * TLS to the source against private MariaDB servers started with --ssl-cert/--ssl-key/--ssl-ca
 * (certificates made by openssl for this run): verified sessions carry snapshot and binlog rows,
 * and each refusal (untrusted CA, a certificate for another host name, a server without TLS, a
 * server that requires TLS reached without it) is a SourceUnavailable naming its cause and option.
 */
import { afterAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMySqlSource } from '../../core/cdc/index';
import type { MySqlSourceConfig } from '../../core/cdc/config';
import type { SourceRecord } from '../../core/cdc/types';
import { validatePipeline } from '../../core/pipeline';
import { readBinlogEnd, toSourceConfig } from '../../core/pipeline/runner/source';
import { makeTestCertificates } from '../support/tls-certs';
import type { PrivateMariaDb } from '../support/mariadb';
import { changeEvents, collectUntil, rootConnection, sourceConfig, usePrivateMariaDb } from './helpers';

const certs = makeTestCertificates();
afterAll(() => certs.remove());

const SETUP = ['CREATE DATABASE app', 'CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))', "INSERT INTO app.t VALUES (1, 'one'), (2, 'two')"];

function tlsSource(db: PrivateMariaDb, overrides: Partial<MySqlSourceConfig>) {
  return createMySqlSource(sourceConfig(db, { tables: ['app\\.t'], ...overrides }));
}

const rowsOf = (rs: SourceRecord[]) => changeEvents(rs).map((e) => `${e.op}:${String(e.after?.id ?? e.before?.id)}:${String(e.after?.v ?? e.before?.v)}`);

/** What the server itself reports for a TLS session of the cdc user (its version and cipher). */
async function serverSideTls(db: PrivateMariaDb): Promise<{ version: string; cipher: string }> {
  const c = await mysql.createConnection({ ...db.cdcConfig(), ssl: { ca: readFileSync(certs.caFile, 'utf8') } });
  try {
    const [rows] = await c.query<mysql.RowDataPacket[]>("SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')");
    const m = Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
    return { version: m.Ssl_version!, cipher: m.Ssl_cipher! };
  } finally {
    await c.end();
  }
}

describe('TLS: server with a certificate for localhost / 127.0.0.1 and require_secure_transport=ON', () => {
  const server = usePrivateMariaDb(SETUP, [...certs.serverArgs('localhost'), '--require-secure-transport=ON']);

  it('VERIFY_IDENTITY with the CA file: the connection test says encrypted, and snapshot and binlog rows arrive', async () => {
    const expected = await serverSideTls(server.db);
    expect(expected.version).toMatch(/^TLSv1\.[23]$/);
    const source = tlsSource(server.db, { sslMode: 'verify-identity', sslCaFile: certs.caFile });
    const report = await source.preflight();
    expect(report.ok).toBe(true);
    expect(report.tls).toEqual({ encrypted: true, ...expected });
    expect(report.checks[0]).toEqual({
      name: 'tls',
      ok: true,
      message: `encrypted: ${expected.version}, ${expected.cipher}; certificate verified against CA file ${certs.caFile}, host name 127.0.0.1 checked (jdbc.properties.sslMode VERIFY_IDENTITY)`,
    });

    const it = source.start();
    const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'));
    expect(rowsOf(rs)).toEqual(['r:1:one', 'r:2:two']);
    // The server refuses every session without TLS: rows from the binlog prove its connection is encrypted.
    await server.root.query("INSERT INTO app.t VALUES (3, 'three')");
    await server.root.query("UPDATE app.t SET v = 'uno' WHERE id = 1");
    await collectUntil(it, (all) => rowsOf(all).includes('u:1:uno'), 20_000, rs);
    expect(rowsOf(rs)).toEqual(['r:1:one', 'r:2:two', 'c:3:three', 'u:1:uno']);
    const [dumps] = await server.root.query<mysql.RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'cdc' AND COMMAND LIKE 'Binlog Dump%'");
    expect(Number(dumps[0]!.n)).toBe(1);
    await source.stop();
  });

  it('VERIFY_IDENTITY by host name (localhost, a name the certificate lists) and the CA as a file: URL', async () => {
    const source = tlsSource(server.db, { hostname: 'localhost', sslMode: 'verify-identity', sslCaFile: pathToFileURL(certs.caFile).href });
    const report = await source.preflight();
    expect(report.tls?.encrypted).toBe(true);
    expect(report.checks[0]!.message).toContain(`certificate verified against CA file ${certs.caFile}, host name localhost checked`);
  });

  it('pipeline YAML (legacy Connector/J keys, the CA as a file: URL) reaches the connection test and the binlog-position read', async () => {
    const text = [
      'source:',
      '  type: mariadb',
      `  hostname: 127.0.0.1`,
      `  port: ${server.db.port}`,
      `  username: ${server.db.user}`,
      `  password: ${server.db.password}`,
      '  tables: app.t',
      '  jdbc.properties.useSSL: true',
      '  jdbc.properties.requireSSL: true',
      '  jdbc.properties.verifyServerCertificate: true',
      `  jdbc.properties.trustCertificateKeyStoreUrl: ${pathToFileURL(certs.caFile).href}`,
      'sink:',
      '  type: iceberg',
      '  catalog.properties.type: hadoop',
      '  catalog.properties.warehouse: /tmp/unused-lake',
      'pipeline:',
      '  name: tls',
    ].join('\n');
    const result = validatePipeline(text, { fileName: 'p.yaml', env: {} });
    expect(result.errors).toEqual([]);
    const config = toSourceConfig(result.config!);
    expect(config).toMatchObject({ sslMode: 'verify-ca', sslCaFile: pathToFileURL(certs.caFile).href });
    const report = await createMySqlSource(config).preflight();
    expect(report.tls?.encrypted).toBe(true);
    expect(report.checks[0]!.message).toContain(`certificate verified against CA file ${certs.caFile} (host name not checked) (jdbc.properties.sslMode VERIFY_CA)`);
    const [status] = await server.root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    expect(await readBinlogEnd(config)).toEqual({ file: String(status[0]!.File), pos: BigInt(status[0]!.Position) });
  });

  it('REQUIRED and PREFERRED: encrypted, certificate not verified', async () => {
    for (const mode of ['required', 'preferred'] as const) {
      const report = await tlsSource(server.db, { sslMode: mode }).preflight();
      expect(report.tls?.encrypted).toBe(true);
      expect(report.checks[0]!.message).toMatch(new RegExp(`^encrypted: TLSv1\\.[23], \\S+; certificate not verified \\(jdbc\\.properties\\.sslMode ${mode.toUpperCase()}\\)$`));
    }
  });

  it('a CA that did not sign the server certificate: SourceUnavailable saying the certificate is not trusted', async () => {
    const port = server.db.port;
    await expect(tlsSource(server.db, { sslMode: 'verify-ca', sslCaFile: certs.otherCaFile }).preflight()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message: `preflight: the TLS certificate of 127.0.0.1:${port} is not trusted (jdbc.properties.sslMode VERIFY_CA with CA file ${certs.otherCaFile}): self-signed certificate in certificate chain; set jdbc.properties.trustCertificateKeyStoreUrl to the PEM file of the CA that signed the server's certificate`,
    });
    // Without a CA file, Node's bundled CAs do not know the private CA either.
    await expect(tlsSource(server.db, { sslMode: 'verify-identity' }).start().next()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message: `source start: the TLS certificate of 127.0.0.1:${port} is not trusted (jdbc.properties.sslMode VERIFY_IDENTITY with Node's bundled CA certificates): self-signed certificate in certificate chain; set jdbc.properties.trustCertificateKeyStoreUrl to the PEM file of the CA that signed the server's certificate`,
    });
  });

  it('reached without TLS: says the server requires TLS and which option to set, not "wrong password"', async () => {
    const port = server.db.port;
    const expected = {
      code: 'SourceUnavailable',
      message:
        `preflight: 127.0.0.1:${port} refused cdc@127.0.0.1:${port} without TLS: the server requires TLS (require_secure_transport=ON), and the server reports that as "access denied" although the password is right; ` +
        `connect with TLS: set jdbc.properties.sslMode to VERIFY_CA or VERIFY_IDENTITY (with jdbc.properties.trustCertificateKeyStoreUrl: the PEM file of the server's CA), or to REQUIRED (encrypted, not verified)`,
    };
    await expect(tlsSource(server.db, { sslMode: 'disabled' }).preflight()).rejects.toMatchObject(expected);
    // A wrong password is still reported as one (the TLS login is refused too).
    await expect(tlsSource(server.db, { sslMode: 'disabled', password: 'not-the-password' }).preflight()).rejects.toMatchObject({
      code: 'InvalidInput',
      message: `preflight: access denied for cdc@127.0.0.1:${port}: wrong username or password`,
    });
  });
});

describe('TLS: server with a certificate for another host name, TLS not required', () => {
  const server = usePrivateMariaDb(SETUP, certs.serverArgs('other-name'));

  it('VERIFY_IDENTITY fails naming the host and the names the certificate lists; VERIFY_CA accepts the chain', async () => {
    const port = server.db.port;
    await expect(tlsSource(server.db, { sslMode: 'verify-identity', sslCaFile: certs.caFile }).preflight()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message: `preflight: the TLS certificate of 127.0.0.1:${port} is not issued for 127.0.0.1 (jdbc.properties.sslMode VERIFY_IDENTITY with CA file ${certs.caFile}): Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list (the certificate lists DNS:db.elsewhere.test); connect by a name the certificate lists, or set jdbc.properties.sslMode to VERIFY_CA`,
    });
    // A host name: mysql2 checks it itself, before the login.
    await expect(tlsSource(server.db, { hostname: 'localhost', sslMode: 'verify-identity', sslCaFile: certs.caFile }).preflight()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message: `preflight: the TLS certificate of localhost:${port} is not issued for localhost (jdbc.properties.sslMode VERIFY_IDENTITY with CA file ${certs.caFile}): Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:db.elsewhere.test; connect by a name the certificate lists, or set jdbc.properties.sslMode to VERIFY_CA`,
    });
    const report = await tlsSource(server.db, { sslMode: 'verify-ca', sslCaFile: certs.caFile }).preflight();
    expect(report.tls?.encrypted).toBe(true);
    expect(report.checks[0]!.message).toContain(`certificate verified against CA file ${certs.caFile} (host name not checked)`);
  });

  it('an account created REQUIRE SSL, reached without TLS: says the account requires TLS', async () => {
    await server.root.query("CREATE USER 'tlsonly'@'127.0.0.1' IDENTIFIED BY 'tlsonly-pw' REQUIRE SSL");
    await server.root.query("GRANT SELECT, RELOAD, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'tlsonly'@'127.0.0.1'");
    const port = server.db.port;
    await expect(tlsSource(server.db, { sslMode: 'disabled', username: 'tlsonly', password: 'tlsonly-pw' }).preflight()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message:
        `preflight: 127.0.0.1:${port} refused tlsonly@127.0.0.1:${port} without TLS: the account tlsonly requires TLS (REQUIRE SSL), and the server reports that as "access denied" although the password is right; ` +
        `connect with TLS: set jdbc.properties.sslMode to VERIFY_CA or VERIFY_IDENTITY (with jdbc.properties.trustCertificateKeyStoreUrl: the PEM file of the server's CA), or to REQUIRED (encrypted, not verified)`,
    });
    expect((await tlsSource(server.db, { sslMode: 'required', username: 'tlsonly', password: 'tlsonly-pw' }).preflight()).tls?.encrypted).toBe(true);
  });
});

describe('TLS: server with an expired certificate', () => {
  const server = usePrivateMariaDb(SETUP, certs.serverArgs('expired'));

  it('VERIFY_CA: SourceUnavailable saying the certificate is outside its validity period; REQUIRED does not check it', async () => {
    await expect(tlsSource(server.db, { sslMode: 'verify-ca', sslCaFile: certs.caFile }).preflight()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message: `preflight: the TLS certificate of 127.0.0.1:${server.db.port} is outside its validity period (jdbc.properties.sslMode VERIFY_CA with CA file ${certs.caFile}): certificate has expired; the server needs a current certificate (ssl_cert)`,
    });
    expect((await tlsSource(server.db, { sslMode: 'required' }).preflight()).tls?.encrypted).toBe(true);
  });
});

describe('TLS: server without TLS', () => {
  const server = usePrivateMariaDb(SETUP);

  it('REQUIRED or VERIFY_CA: SourceUnavailable saying the server offers no TLS', async () => {
    const port = server.db.port;
    await expect(tlsSource(server.db, { sslMode: 'required' }).preflight()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message: `preflight: 127.0.0.1:${port} does not offer TLS, but jdbc.properties.sslMode REQUIRED requires it: enable TLS on the server (ssl_cert, ssl_key), or set jdbc.properties.sslMode to PREFERRED or DISABLED`,
    });
    await expect(tlsSource(server.db, { sslMode: 'verify-ca', sslCaFile: certs.caFile }).start().next()).rejects.toMatchObject({
      code: 'SourceUnavailable',
      message: `source start: 127.0.0.1:${port} does not offer TLS, but jdbc.properties.sslMode VERIFY_CA with CA file ${certs.caFile} requires it: enable TLS on the server (ssl_cert, ssl_key), or set jdbc.properties.sslMode to PREFERRED or DISABLED`,
    });
  });

  it('PREFERRED: plain, said so by the connection test, and rows flow through snapshot and binlog', async () => {
    const source = tlsSource(server.db, { sslMode: 'preferred' });
    const report = await source.preflight();
    expect(report.tls).toEqual({ encrypted: false, version: null, cipher: null });
    expect(report.checks[0]).toEqual({ name: 'tls', ok: true, message: 'not encrypted: the server offers no TLS (jdbc.properties.sslMode PREFERRED)' });
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'));
    await server.root.query("INSERT INTO app.t VALUES (4, 'four')");
    await collectUntil(it, (all) => rowsOf(all).includes('c:4:four'), 20_000, rs);
    expect(rowsOf(rs)).toEqual(['r:1:one', 'r:2:two', 'c:4:four']);
    await source.stop();
  });
});

describe('TLS: the binlog connection checks the server again when it reconnects', () => {
  // The server reads its certificate from these copies: swapping them and restarting the server
  // changes what the binlog reader meets when it reconnects.
  const cert = join(certs.dir, 'swap.pem');
  const key = join(certs.dir, 'swap-key.pem');
  copyFileSync(certs.serverCert, cert);
  copyFileSync(certs.serverKey, key);
  const server = usePrivateMariaDb(SETUP, [`--ssl-cert=${cert}`, `--ssl-key=${key}`, `--ssl-ca=${certs.caFile}`]);

  it('a restarted server with a certificate for another name: the stream stops with SourceUnavailable naming it, and ends', async () => {
    const source = tlsSource(server.db, { sslMode: 'verify-identity', sslCaFile: certs.caFile, heartbeatIntervalMs: 300 });
    const it = source.start();
    const rs = await collectUntil(it, (all) => all.some((r) => r.kind === 'snapshot-complete'));
    await server.root.query("INSERT INTO app.t VALUES (5, 'five')");
    await collectUntil(it, (all) => rowsOf(all).includes('c:5:five'), 20_000, rs);
    copyFileSync(certs.otherNameCert, cert);
    copyFileSync(certs.otherNameKey, key);
    await server.root.end();
    await server.db.restart();
    server.root = await rootConnection(server.db);
    const failure = await collectUntil(it, () => false, 30_000, rs).catch((e: unknown) => e);
    expect(failure).toMatchObject({
      code: 'SourceUnavailable',
      message: `binlog stream: the TLS certificate of 127.0.0.1:${server.db.port} is not issued for 127.0.0.1 (jdbc.properties.sslMode VERIFY_IDENTITY with CA file ${certs.caFile}): Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list (the certificate lists DNS:db.elsewhere.test); connect by a name the certificate lists, or set jdbc.properties.sslMode to VERIFY_CA`,
    });
    // Final: the stream has ended (a reconnect loop would have kept it open).
    expect(await it.next()).toEqual({ done: true, value: undefined });
    await source.stop();
  });
});
