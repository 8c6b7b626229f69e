/**
 * TLS of the MySQL source from its `jdbc.properties.*` keys, with MySQL Connector/J 8's meanings
 * (the driver Flink CDC's MySQL connector uses): `sslMode` when set; else the legacy keys,
 * translated as Connector/J does (useSSL=false → DISABLED; verifyServerCertificate=true →
 * VERIFY_CA; requireSSL=true → REQUIRED; else PREFERRED, its default). The trusted CAs come from
 * `trustCertificateKeyStoreUrl`, which must be a PEM file here (core/cdc tls.ts).
 */
import type { SslMode } from '../../cdc';

/** The TLS keys of the source block (declared in config-keys.ts), read by config-source.ts. */
export const TLS_KEYS = [
  'jdbc.properties.useSSL',
  'jdbc.properties.requireSSL',
  'jdbc.properties.verifyServerCertificate',
  'jdbc.properties.sslMode',
  'jdbc.properties.trustCertificateKeyStoreUrl',
] as const;

export interface SourceTls {
  sslMode: SslMode;
  /** `trustCertificateKeyStoreUrl` as given (a path or a file: URL), or null. */
  caFile: string | null;
}

function flag(value: string | undefined): boolean | null {
  if (value === undefined) return null;
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  return null;
}

/** The TLS settings of `jdbc.properties.*` (the map without the prefix, values as text). */
export function readSourceTls(props: Record<string, string>): SourceTls {
  const caFile = props.trustCertificateKeyStoreUrl ?? null;
  const explicit = props.sslMode?.trim();
  if (explicit) return { sslMode: explicit.toLowerCase().replace('_', '-') as SslMode, caFile };
  let sslMode: SslMode = 'preferred';
  if (flag(props.useSSL) === false) sslMode = 'disabled';
  else if (flag(props.verifyServerCertificate) === true) sslMode = 'verify-ca';
  else if (flag(props.requireSSL) === true) sslMode = 'required';
  return { sslMode, caFile };
}

/** Whether a mode checks the server's certificate (and so reads the trusted CAs). */
export function verifiesCertificate(mode: SslMode): boolean {
  return mode === 'verify-ca' || mode === 'verify-identity';
}
