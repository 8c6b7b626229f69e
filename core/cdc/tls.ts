/**
 * TLS to the source server, with MySQL Connector/J's `sslMode` meanings (what Flink CDC's MySQL
 * connector uses): DISABLED (plain), PREFERRED (TLS when the server offers it, unverified),
 * REQUIRED (TLS, unverified), VERIFY_CA (TLS, the server's chain checked against the trusted CAs),
 * VERIFY_IDENTITY (VERIFY_CA plus the host name checked against the certificate). The same options
 * go to every connection of a source: control, snapshot and zongji's two binlog connections.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { SslOptions } from 'mysql2';
import { TidemarkError } from '../errors/index';

export type SslMode = 'disabled' | 'preferred' | 'required' | 'verify-ca' | 'verify-identity';

export const SSL_MODES: readonly SslMode[] = ['disabled', 'preferred', 'required', 'verify-ca', 'verify-identity'];

export interface ResolvedTls {
  mode: SslMode;
  /** PEM text of the trusted CA certificates; null: Node's bundled CA store (verify modes only). */
  ca: string | null;
  /** Where `ca` was read from, for messages. */
  caFile: string | null;
}

/** Connector/J's spelling of a mode (`VERIFY_CA`), as users write it in `jdbc.properties.sslMode`. */
export function formatSslMode(mode: SslMode): string {
  return mode.toUpperCase().replace('-', '_');
}

/** JKS keystores start with 0xFEEDFEED; JCEKS with 0xCECECECE. */
function keystoreKind(bytes: Buffer): string | null {
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0xfeedfeed) return 'a Java KeyStore (JKS)';
  if (bytes.length >= 4 && bytes.readUInt32BE(0) === 0xcececece) return 'a Java JCEKS keystore';
  // PKCS12 is an ASN.1 SEQUENCE (as is a DER certificate, told apart before this is asked).
  if (bytes.length >= 2 && bytes[0] === 0x30) return 'a PKCS12 keystore (binary ASN.1)';
  return null;
}

function isDerCertificate(bytes: Buffer): boolean {
  try {
    new X509Certificate(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A `file:` URL (Connector/J's trustCertificateKeyStoreUrl form) or a plain path, as a path. */
function pathOfLocation(location: string, key: string): string {
  if (/^file:/i.test(location)) {
    try {
      return fileURLToPath(location.replace(/^file:(?!\/\/)/i, 'file://'));
    } catch (e) {
      throw new TidemarkError('InvalidInput', `${key}: ${JSON.stringify(location)} is not a valid file URL: ${(e as Error).message}`, { key, location }, e);
    }
  }
  if (/^[a-z][a-z0-9+.-]+:/i.test(location) && !/^[a-z]:[\\/]/i.test(location)) {
    throw new TidemarkError('Unsupported', `${key}: ${JSON.stringify(location)}: only local files (a path or a file: URL) are read`, { key, location });
  }
  return location;
}

/**
 * Reads the trusted CA certificates from a PEM file (one or more `BEGIN CERTIFICATE` blocks).
 * A Java keystore (JKS, PKCS12), which Connector/J reads at the same option, is Unsupported with
 * the command that exports its certificates as PEM. `key` names the option in messages.
 */
export function readTrustedCa(location: string, key: string): { ca: string; path: string } {
  const path = pathOfLocation(location, key);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TidemarkError('InvalidInput', `${key}: cannot read the CA file ${path}: ${(e as Error).message}`, { key, path }, e);
  }
  const text = bytes.toString('latin1');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    if (bytes[0] === 0x30 && isDerCertificate(bytes)) {
      throw new TidemarkError(
        'Unsupported',
        `${key}: ${path} is a DER (binary) certificate; Tidemark reads PEM: convert it with \`openssl x509 -inform der -in ${path} -out ca.pem\` and point ${key} at ca.pem`,
        { key, path },
      );
    }
    const kind = keystoreKind(bytes);
    if (kind) {
      throw new TidemarkError(
        'Unsupported',
        `${key}: ${path} is ${kind}; Tidemark reads trusted CA certificates from a PEM file: export them with ` +
          `\`keytool -exportcert -rfc -alias <alias> -keystore ${path} -file ca.pem\` (PKCS12: \`openssl pkcs12 -in ${path} -nokeys -out ca.pem\`) and point ${key} at ca.pem`,
        { key, path },
      );
    }
    throw new TidemarkError('InvalidInput', `${key}: ${path} holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)`, { key, path });
  }
  try {
    new X509Certificate(bytes);
  } catch (e) {
    throw new TidemarkError('InvalidInput', `${key}: ${path}: the first certificate cannot be parsed: ${(e as Error).message}`, { key, path }, e);
  }
  return { ca: text, path };
}

/**
 * The mysql2 `ssl` option for a connection that uses TLS. Host names are checked by mysql2 before
 * the login; for an IP address mysql2 checks the certificate against "localhost" instead (it
 * passes no server name to Node), so there the check is left to `checkPeerIdentity` after connect.
 */
export function sslOptions(tls: ResolvedTls, hostname: string): SslOptions {
  const verify = tls.mode === 'verify-ca' || tls.mode === 'verify-identity';
  return {
    ...(verify && tls.ca !== null ? { ca: tls.ca } : {}),
    rejectUnauthorized: verify,
    verifyIdentity: tls.mode === 'verify-identity' && isIP(hostname) === 0,
  };
}

/**
 * Checks the certificate of an established TLS socket against `hostname` (DNS name or IP address,
 * as RFC 6125 / Node's checkServerIdentity). Returns the failure, or null when it matches.
 */
export function checkPeerIdentity(stream: unknown, hostname: string): Error | null {
  const socket = stream as { getPeerCertificate?: (detailed?: boolean) => PeerCertificate; isSessionReused?: () => boolean; encrypted?: boolean } | null;
  if (!socket || socket.encrypted !== true || typeof socket.getPeerCertificate !== 'function') return new Error('the connection is not encrypted');
  // A resumed session shows no certificate. mysql2 resumes only sessions of the same ssl options
  // object, i.e. of zongji's other connection, whose full handshake is checked here as well.
  if (socket.isSessionReused?.() === true) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return new Error('the server presented no certificate');
  const failure = checkServerIdentity(hostname, cert);
  if (!failure) return null;
  // Node lists only the names of the host's kind (IP entries for an IP): name them all.
  const names = cert.subjectaltname || `CN=${String(cert.subject?.CN ?? '?')}`;
  return new Error(`${failure.message.replace(/[:\s]+$/, '')} (the certificate lists ${names})`);
}

/** Whether the server is known to offer no TLS (learnt by a PREFERRED connection), per source config. */
const plainServers = new WeakSet<object>();

export function markServerWithoutTls(key: object): void {
  plainServers.add(key);
}

/** Whether a connection for this source should ask for TLS now. */
export function wantsTls(tls: ResolvedTls, key: object): boolean {
  if (tls.mode === 'disabled') return false;
  return !(tls.mode === 'preferred' && plainServers.has(key));
}

/** The TLS state of a session, from its `Ssl_version` / `Ssl_cipher` status. */
export interface SessionTls {
  encrypted: boolean;
  /** e.g. TLSv1.3; null when not encrypted. */
  version: string | null;
  /** e.g. TLS_AES_256_GCM_SHA384; null when not encrypted. */
  cipher: string | null;
}
