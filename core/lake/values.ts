import { TidemarkError } from '../errors';
import { parseDecimalType, parseFixedType, type IcebergType } from './model';

/**
 * Canonical row values: what scanRows returns and what equality deletes compare.
 *   boolean → boolean; int → number; long → bigint; float/double → number;
 *   decimal(P,S) → string with exactly S fraction digits ("12345.00");
 *   date → 'YYYY-MM-DD'; time → 'HH:MM:SS.ffffff'; timestamp → 'YYYY-MM-DDTHH:MM:SS.ffffff';
 *   timestamptz → the same plus '+00:00'; string, uuid → string; fixed/binary → Uint8Array;
 *   struct → plain object by field name; list → array; map → array of {key, value}.
 * These match the spec's JSON single-value serialization for defaults (Appendix D), so
 * `initial-default` values need little conversion.
 */

const MICROS_PER_DAY = 86_400_000_000n;

function pad(n: number | bigint, width: number): string {
  const s = (n < 0 ? -n : n).toString();
  return (n < 0 ? '-' : '') + s.padStart(width, '0');
}

/**
 * The decimal digits s[from, from + count) as a number, NaN when one is not a digit: date-time
 * text is read with it on hot paths (the sync writes every value), without a regex or a slice.
 */
export function readDigits(s: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return n;
}

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil); month 1–12.
 * Shared with the CDC type map, which reads the source's date-times with it.
 */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * The inverse (H. Hinnant's civil_from_days) for years 0 and later: days since 1970-01-01 →
 * y * 10000 + m * 100 + d, one number so that hot paths (every timestamp the sync writes)
 * allocate nothing.
 */
export function civilFromDays(days: number): number {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return (yoe + era * 400 + (m <= 2 ? 1 : 0)) * 10000 + m * 100 + d;
}

/** Days since 1970-01-01 → 'YYYY-MM-DD' (proleptic Gregorian, like the spec). */
export function formatDate(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
}

export function parseDate(text: string): number {
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (Number.isNaN(ms)) throw new TidemarkError('DataInvalid', `expected a date YYYY-MM-DD, found ${JSON.stringify(text)}`);
  return Math.round(ms / 86_400_000);
}

/** Microseconds since midnight → 'HH:MM:SS.ffffff'. */
export function formatTime(micros: bigint): string {
  const s = micros / 1_000_000n;
  const f = micros % 1_000_000n;
  return `${pad(Number(s / 3600n), 2)}:${pad(Number((s / 60n) % 60n), 2)}:${pad(Number(s % 60n), 2)}.${pad(f, 6)}`;
}

export function parseTime(text: string): bigint {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(text);
  if (!m) throw new TidemarkError('DataInvalid', `expected a time HH:MM:SS[.ffffff], found ${JSON.stringify(text)}`);
  const frac = BigInt((m[4] ?? '').padEnd(6, '0').slice(0, 6));
  return (BigInt(m[1]!) * 3600n + BigInt(m[2]!) * 60n + BigInt(m[3] ?? '0')) * 1_000_000n + frac;
}

const MICROS_PER_DAY_NUMBER = 86_400_000_000;
const fromCharCode = String.fromCharCode;

/** Microseconds since the epoch → 'YYYY-MM-DDTHH:MM:SS.ffffff' (UTC). */
export function formatTimestamp(micros: bigint, withZone: boolean): string {
  const n = Number(micros);
  // Years 1685..2255 (|µs| < 2^53) in Number arithmetic: the sync pipeline formats every
  // timestamp it writes, and the BigInt divisions, the Date and the template pieces were a
  // measurable share of its time (docs/perf-notes.md); one String.fromCharCode call also leaves a single flat string instead of a rope of
  // pieces, which matters for rows buffered across a commit round (they survive young-GC copies).
  if (Number.isSafeInteger(n)) {
    const days = Math.floor(n / MICROS_PER_DAY_NUMBER);
    const rest = n - days * MICROS_PER_DAY_NUMBER;
    const ymd = civilFromDays(days);
    const y = Math.floor(ymd / 10000);
    const m = Math.floor(ymd / 100) % 100;
    const d = ymd % 100;
    const secs = Math.floor(rest / 1_000_000);
    const f = rest - secs * 1_000_000;
    const h = Math.floor(secs / 3600);
    const mi = Math.floor(secs / 60) % 60;
    const sec = secs % 60;
    const text = fromCharCode(
      48 + Math.floor(y / 1000), 48 + (Math.floor(y / 100) % 10), 48 + (Math.floor(y / 10) % 10), 48 + (y % 10), 45,
      48 + Math.floor(m / 10), 48 + (m % 10), 45, 48 + Math.floor(d / 10), 48 + (d % 10), 84,
      48 + Math.floor(h / 10), 48 + (h % 10), 58, 48 + Math.floor(mi / 10), 48 + (mi % 10), 58, 48 + Math.floor(sec / 10), 48 + (sec % 10), 46,
      48 + Math.floor(f / 100000), 48 + (Math.floor(f / 10000) % 10), 48 + (Math.floor(f / 1000) % 10), 48 + (Math.floor(f / 100) % 10), 48 + (Math.floor(f / 10) % 10), 48 + (f % 10),
    );
    return withZone ? text + '+00:00' : text;
  }
  let days = micros / MICROS_PER_DAY;
  let rest = micros % MICROS_PER_DAY;
  if (rest < 0n) {
    rest += MICROS_PER_DAY;
    days -= 1n;
  }
  return `${formatDate(Number(days))}T${formatTime(rest)}${withZone ? '+00:00' : ''}`;
}

export function parseTimestamp(text: string): bigint {
  const m = /^(-?\d{4,}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) throw new TidemarkError('DataInvalid', `expected an ISO-8601 timestamp, found ${JSON.stringify(text)}`);
  let micros = BigInt(parseDate(m[1]!)) * MICROS_PER_DAY + parseTime(m[2]!);
  if (m[3] && m[3] !== 'Z') {
    const sign = m[3].startsWith('-') ? -1n : 1n;
    const [h, mi] = m[3].slice(1).split(':').map(BigInt) as [bigint, bigint];
    micros -= sign * (h * 3600n + mi * 60n) * 1_000_000n;
  }
  return micros;
}

/** Nanoseconds since the epoch → 'YYYY-MM-DDTHH:MM:SS.fffffffff' (UTC; '+00:00' with zone): v3 timestamp_ns. */
export function formatTimestampNanos(nanos: bigint, withZone: boolean): string {
  let micros = nanos / 1000n;
  let rest = nanos % 1000n;
  if (rest < 0n) {
    rest += 1000n;
    micros -= 1n;
  }
  return `${formatTimestamp(micros, false)}${rest.toString().padStart(3, '0')}${withZone ? '+00:00' : ''}`;
}

/** ISO-8601 text with up to nine fraction digits → nanoseconds since the epoch (v3 timestamp_ns). */
export function parseTimestampNanos(text: string): bigint {
  const m = /^(.*?T\d{2}:\d{2}(?::\d{2})?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?$/.exec(text.replace(' ', 'T'));
  if (!m) throw new TidemarkError('DataInvalid', `expected an ISO-8601 timestamp, found ${JSON.stringify(text)}`);
  const frac = (m[2] ?? '').padEnd(9, '0');
  return parseTimestamp(`${m[1]}.${frac.slice(0, 6)}${m[3] ?? ''}`) * 1000n + BigInt(frac.slice(6));
}

/** Unscaled integer + scale → decimal string with exactly `scale` fraction digits. */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  const digits = (neg ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${text}` : text;
}

export function parseDecimal(text: string, scale: number): bigint {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) throw new TidemarkError('DataInvalid', `expected a decimal, found ${JSON.stringify(text)}`);
  const frac = (m[3] ?? '').padEnd(scale, '0');
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
    throw new TidemarkError('DataInvalid', `decimal ${text} has more than ${scale} fraction digits`);
  }
  const v = BigInt(`${m[2] || '0'}${frac.slice(0, scale)}`);
  return m[1] ? -v : v;
}

/** Big-endian two's complement bytes → bigint (decimals in Avro, Parquet and bounds). */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  if (bytes[0]! & 0x80) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

/** bigint → minimal big-endian two's complement bytes (spec: decimal single-value encoding). */
export function bigIntToBytes(v: bigint, length?: number): Uint8Array {
  let n = 1;
  while (v < -(1n << BigInt(n * 8 - 1)) || v >= 1n << BigInt(n * 8 - 1)) n++;
  const size = length ?? n;
  const out = new Uint8Array(size);
  let x = BigInt.asUintN(size * 8, v);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

export function bytesToUuid(bytes: Uint8Array): string {
  const h = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function uuidToBytes(uuid: string): Uint8Array {
  return hexToBytes(uuid.replace(/-/g, ''));
}

export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) {
    throw new TidemarkError('DataInvalid', `expected hex bytes, found ${JSON.stringify(hex)}`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The byte arrays one after another in one new array. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * JSON single-value form (spec Appendix D: defaults) → canonical value. Longs arrive as bigint from
 * our bigint-safe parser when large, as number otherwise.
 */
export function fromJsonSingleValue(type: IcebergType, json: unknown): unknown {
  if (json === null || json === undefined) return null;
  if (typeof type !== 'string') {
    // Nested defaults (struct defaults are null or {} per spec): keep the JSON shape.
    return json;
  }
  if (type === 'long') return BigInt(json as number | bigint | string);
  // A float default is a 32-bit float like every stored float value (0.34234 reads as 0.3423399925…).
  if (type === 'float') return Math.fround(Number(json));
  if (type === 'int' || type === 'double') return Number(json);
  if (type === 'binary' || parseFixedType(type) !== null) return hexToBytes(String(json));
  const dec = parseDecimalType(type);
  if (dec) return formatDecimal(parseDecimal(String(json), dec.scale), dec.scale);
  if (type === 'time') return formatTime(parseTime(String(json)));
  if (type === 'timestamp' || type === 'timestamptz') return formatTimestamp(parseTimestamp(String(json)), type === 'timestamptz');
  if (type === 'timestamp_ns' || type === 'timestamptz_ns') return formatTimestampNanos(parseTimestampNanos(String(json)), type === 'timestamptz_ns');
  return json;
}

/** Canonical value → JSON single-value form (for writing defaults). */
export function toJsonSingleValue(type: IcebergType, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Uint8Array) return bytesToHex(value);
  if (typeof type === 'string' && type === 'long') return BigInt(value as bigint);
  return value;
}

/**
 * A stable string key for a canonical value, used to compare equality-delete keys and partition
 * tuples. Null has its own key, so `null = null` matches (spec: equality deletes match nulls).
 */
export function valueKey(value: unknown): string {
  if (value === null || value === undefined) return 'N';
  if (typeof value === 'bigint') return `i${value}`;
  if (typeof value === 'number') return Number.isInteger(value) ? `i${value}` : `f${value}`;
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (typeof value === 'string') return `s${value}`;
  if (value instanceof Uint8Array) return `b${bytesToHex(value)}`;
  if (Array.isArray(value)) return `[${value.map(valueKey).join(',')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}:${valueKey(v)}`).join(',')}}`;
  }
  return String(value);
}
