import { TidemarkError } from '../../errors';
import { isDec, isZoned, type Dec, type FlinkType, type V, type Zoned } from './types';

/**
 * Value helpers shared by the function families: decimals, Java's number and date-time text
 * forms (Flink CDC renders values with Java's toString), and time zones.
 */
export function dataError(message: string): TidemarkError {
  return new TidemarkError('DataInvalid', message);
}

// ---- decimals (java.math.BigDecimal semantics where Flink CDC relies on them) ----

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** Parses decimal text (`-12.50`, `1e3`); null when it is not a number. */
export function parseDec(text: string): Dec | null {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  let u = BigInt(`${m[2] || '0'}${frac}`);
  let s = frac.length - Number(m[4] ?? 0);
  if (s < 0) {
    u *= pow10(-s);
    s = 0;
  }
  return { u: m[1] === '-' ? -u : u, s };
}

/** Rescales with HALF_UP rounding (RoundingMode.HALF_UP). */
export function rescale(d: Dec, scale: number): Dec {
  if (scale >= d.s) return { u: d.u * pow10(scale - d.s), s: scale };
  const div = pow10(d.s - scale);
  const q = d.u / div;
  const r = d.u % div;
  const abs = r < 0n ? -r : r;
  const up = abs * 2n >= div ? (d.u < 0n ? -1n : 1n) : 0n;
  return { u: q + up, s: scale };
}

/** Number of significant digits (BigDecimal.precision()). */
export function decPrecision(d: Dec): number {
  const a = d.u < 0n ? -d.u : d.u;
  return a === 0n ? 1 : a.toString().length;
}

export function decToString(d: Dec): string {
  const neg = d.u < 0n;
  let digits = (neg ? -d.u : d.u).toString();
  if (d.s > 0) {
    digits = digits.padStart(d.s + 1, '0');
    digits = `${digits.slice(0, -d.s)}.${digits.slice(-d.s)}`;
  }
  return neg ? `-${digits}` : digits;
}

export const decToNumber = (d: Dec): number => Number(decToString(d));

export function decFromNumber(n: number): Dec {
  if (!Number.isFinite(n)) throw dataError(`cannot use ${n} as a DECIMAL`);
  return parseDec(javaDouble(n))!;
}

export const decFromInt = (n: number | bigint): Dec => ({ u: BigInt(n), s: 0 });

export function decCompare(a: Dec, b: Dec): number {
  const s = Math.max(a.s, b.s);
  const x = a.u * pow10(s - a.s);
  const y = b.u * pow10(s - b.s);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Integer part toward zero, as BigDecimal.longValue() keeps the low 64 bits. */
export const decTrunc = (d: Dec): bigint => d.u / pow10(d.s);

/** A DECIMAL(p, s) value or null when it does not fit (Flink CDC's castToBigDecimal). */
export function fitDecimal(d: Dec, precision: number, scale: number): Dec | null {
  const r = rescale(roundToPrecision(d, precision), scale);
  return decPrecision(r) > precision ? null : r;
}

/** new BigDecimal(text, new MathContext(precision)): HALF_UP to that many significant digits. */
function roundToPrecision(d: Dec, precision: number): Dec {
  const extra = decPrecision(d) - precision;
  if (extra <= 0) return d;
  return rescale(d, d.s - extra);
}

// ---- Java number text ----

/** Double.toString: shortest digits, `.0` on integers, `1.0E7` style outside [1e-3, 1e7). */
export function javaDouble(n: number): string {
  return javaFloatingText(n, String(Math.abs(n)) === 'Infinity' ? 'Infinity' : shortest(n, 17));
}

/** Float.toString of a float32 value (the shortest digits that round back to it). */
export function javaFloat(n: number): string {
  return javaFloatingText(n, shortest(n, 9, true));
}

function shortest(n: number, max: number, float = false): string {
  if (!float) return String(n);
  for (let d = 1; d <= max; d++) {
    const s = n.toPrecision(d);
    if (Math.fround(Number(s)) === n) return String(Number(s));
  }
  return String(n);
}

function javaFloatingText(n: number, digits: string): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(n);
  const value = Number(digits);
  if (abs >= 1e-3 && abs < 1e7) {
    let s = value.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });
    if (!s.includes('.')) s += '.0';
    return s;
  }
  const [mant, exp] = value.toExponential().split('e') as [string, string];
  return `${mant.includes('.') ? mant : `${mant}.0`}E${Number(exp)}`;
}

// ---- date and time (proleptic Gregorian, as java.time) ----

export const NANOS_PER_DAY = 86_400_000_000_000n;
const NS_PER_MS = 1_000_000n;

export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** Days since 1970-01-01 → [year, month 1-12, day]. */
export function civilFromDays(days: number): [number, number, number] {
  const d = new Date(days * 86_400_000);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

export function daysFromCivil(y: number, m: number, d: number): number {
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  dt.setUTCHours(0, 0, 0, 0);
  return Math.round(dt.getTime() / 86_400_000);
}

const p2 = (n: number) => String(n).padStart(2, '0');

export function formatDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  const ys = y < 0 ? `-${String(-y).padStart(4, '0')}` : y > 9999 ? `+${y}` : String(y).padStart(4, '0');
  return `${ys}-${p2(m)}-${p2(d)}`;
}

/** LocalTime.toString: HH:mm, then :ss and .SSS/.SSSSSS/.SSSSSSSSS only when non-zero. */
export function formatTime(nanosOfDay: number | bigint): string {
  const ns = BigInt(nanosOfDay);
  const secs = Number(ns / 1_000_000_000n);
  const nano = Number(ns % 1_000_000_000n);
  let s = `${p2(Math.floor(secs / 3600))}:${p2(Math.floor(secs / 60) % 60)}`;
  if (secs % 60 !== 0 || nano !== 0) {
    s += `:${p2(secs % 60)}`;
    if (nano !== 0) {
      if (nano % 1_000_000 === 0) s += `.${String(nano / 1_000_000).padStart(3, '0')}`;
      else if (nano % 1000 === 0) s += `.${String(nano / 1000).padStart(6, '0')}`;
      else s += `.${String(nano).padStart(9, '0')}`;
    }
  }
  return s;
}

/** LocalDateTime.toString of wall-clock ns since the epoch. */
export function formatTimestamp(ns: bigint): string {
  const days = floorDiv(ns, NANOS_PER_DAY);
  return `${formatDate(Number(days))}T${formatTime(ns - days * NANOS_PER_DAY)}`;
}

export function formatOffset(seconds: number): string {
  if (seconds === 0) return 'Z';
  const a = Math.abs(seconds);
  return `${seconds < 0 ? '-' : '+'}${p2(Math.floor(a / 3600))}:${p2(Math.floor(a / 60) % 60)}`;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of a zone from UTC at an instant (ms), in seconds. Zone ids are IANA names or ±hh:mm. */
export function zoneOffsetSeconds(zone: string, epochMs: number): number {
  const fixed = /^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$/.exec(zone);
  if (zone === 'UTC' || zone === 'Z' || zone === 'GMT') return 0;
  if (fixed) return (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 3600 + Number(fixed[3] ?? 0) * 60);
  let f = zoneFormats.get(zone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' });
    } catch {
      throw new TidemarkError('InvalidInput', `unknown time zone ${JSON.stringify(zone)}`, { zone });
    }
    zoneFormats.set(zone, f);
  }
  const ms = Math.floor(epochMs / 1000) * 1000;
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  let year = Number(parts.year);
  if (parts.era === 'BC' || parts.era === 'B') year = 1 - year;
  const d = new Date(Date.UTC(2000, Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second)));
  d.setUTCFullYear(year);
  return Math.round((d.getTime() - ms) / 1000);
}

/** Wall clock in `zone` → instant (ns); for a gap or overlap the earlier offset, as java.time does. */
export function wallToInstant(wallNs: bigint, zone: string): bigint {
  const wallMs = Number(floorDiv(wallNs, NS_PER_MS));
  let off = zoneOffsetSeconds(zone, wallMs);
  off = zoneOffsetSeconds(zone, wallMs - off * 1000);
  return wallNs - BigInt(off) * 1_000_000_000n;
}

export function instantToWall(instantNs: bigint, zone: string): bigint {
  const off = zoneOffsetSeconds(zone, Number(floorDiv(instantNs, NS_PER_MS)));
  return instantNs + BigInt(off) * 1_000_000_000n;
}

export function formatZoned(z: Zoned): string {
  const off = zoneOffsetSeconds(z.z, Number(floorDiv(wallToInstant(z.n, z.z), NS_PER_MS)));
  return `${formatTimestamp(z.n)}${formatOffset(off)}`;
}

/**
 * Parses ISO local date-time text (`2019-12-31T21:48:25`, a space instead of T, optional
 * fraction up to 9 digits, or a bare date) → wall ns; null when it is not one.
 */
export function parseTimestampText(text: string): bigint | null {
  const m = /^\s*(-?\d{4,})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number) as number[];
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h! > 23 || mi! > 59 || s! > 59) return null;
  const days = daysFromCivil(y!, mo!, d!);
  if (civilFromDays(days)[2] !== d) return null;
  const frac = BigInt((m[7] ?? '').padEnd(9, '0'));
  return BigInt(days) * NANOS_PER_DAY + BigInt(h! * 3600 + mi! * 60 + s!) * 1_000_000_000n + frac;
}

export function parseTimeText(text: string): number | null {
  const m = /^\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*$/.exec(text);
  if (!m) return null;
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return null;
  return (h * 3600 + mi * 60 + s) * 1e9 + Number((m[4] ?? '').padEnd(9, '0'));
}

// ---- text form of any value (Flink CDC castToString) ----

export function valueToText(v: V, ty: FlinkType): string | null {
  if (v === null) return null;
  if (isDec(v)) return decToString(v);
  if (isZoned(v)) return formatZoned(v);
  switch (ty.kind) {
    case 'FLOAT': return javaFloat(v as number);
    case 'DOUBLE': return javaDouble(v as number);
    case 'DATE': return formatDate(v as number);
    case 'TIME': return formatTime(v as number);
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return formatTimestamp(v as bigint);
    case 'BINARY': case 'VARBINARY': return new TextDecoder().decode(v as Uint8Array);
  }
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  return String(v);
}
