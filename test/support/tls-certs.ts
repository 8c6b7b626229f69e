/**
 * Certificates for TLS tests, made with the openssl command line into a fresh temp dir: a CA, a
 * server certificate it signs for `localhost` / 127.0.0.1, one it signs for another host name,
 * and an unrelated CA (the "wrong CA"). Never skips: a missing openssl fails naming the package.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** PEM of the CA that signed both server certificates. */
  caFile: string;
  /** PEM of a CA that signed neither. */
  otherCaFile: string;
  /** Server certificate and key for DNS:localhost, IP:127.0.0.1. */
  serverCert: string;
  serverKey: string;
  /** Server certificate and key for DNS:db.elsewhere.test only. */
  otherNameCert: string;
  otherNameKey: string;
  /** Server certificate for DNS:localhost, IP:127.0.0.1 that expired yesterday (the localhost key). */
  expiredCert: string;
  /** mariadbd flags serving `cert`/`key` (default: the localhost pair) with the CA. */
  serverArgs(pair?: 'localhost' | 'other-name' | 'expired'): string[];
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl not found (${r.error.message}): install the Debian package openssl`);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${cn}`, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`], dir);
}

function makeServerCert(dir: string, name: string, cn: string, altNames: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', `/CN=${cn}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`], dir);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\n`);
  signServerCert(dir, name, name, 2);
}

/** Signs `csrName`.csr with the CA into `outName`.pem, valid for `days` (-1: expired yesterday). */
function signServerCert(dir: string, csrName: string, outName: string, days: number): void {
  const args = ['x509', '-req', '-sha256', '-days', String(days), '-in', `${csrName}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial'];
  openssl([...args, '-extfile', `${csrName}.ext`, '-out', `${outName}.pem`], dir);
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-tls-'));
  try {
    makeCa(dir, 'ca', 'Tidemark Test CA');
    makeCa(dir, 'other-ca', 'Unrelated Test CA');
    makeServerCert(dir, 'server', 'localhost', 'DNS:localhost,IP:127.0.0.1');
    makeServerCert(dir, 'other-name', 'db.elsewhere.test', 'DNS:db.elsewhere.test');
    signServerCert(dir, 'server', 'expired', -1);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const certs: TestCertificates = {
    dir,
    caFile: join(dir, 'ca.pem'),
    otherCaFile: join(dir, 'other-ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server-key.pem'),
    otherNameCert: join(dir, 'other-name.pem'),
    otherNameKey: join(dir, 'other-name-key.pem'),
    expiredCert: join(dir, 'expired.pem'),
    serverArgs(pair = 'localhost') {
      const [cert, key] =
        pair === 'localhost' ? [certs.serverCert, certs.serverKey] : pair === 'expired' ? [certs.expiredCert, certs.serverKey] : [certs.otherNameCert, certs.otherNameKey];
      return [`--ssl-cert=${cert}`, `--ssl-key=${key}`, `--ssl-ca=${certs.caFile}`];
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  return certs;
}
