/**
 * Raw driver values → canonical ColumnValues (see types.ts) for the Iceberg type each column maps
 * to (type-map.ts). The same converter serves snapshot rows (mysql2 text protocol with
 * dateStrings, BIGINT above 2^53 as text, session time_zone '+00:00') and binlog rows (zongji with
 * dateStrings and timezone 'Z'), so both paths emit identical values for identical data.
 *
 * Zero dates: MySQL stores '0000-00-00' (and partly zero dates like '2020-00-10') when sql_mode
 * allows it. Such a value becomes null when the column is nullable, else the epoch (day 0 / µs 0),
 * the rule Debezium uses. TIME values outside Iceberg's [00:00, 24:00) are DataInvalid.
 */
import { TidemarkError } from '../../errors/index';
import { daysFromCivil } from '../../lake';
import type { ColumnSchema, ColumnValue } from '../types';
import { isSpatialType } from './type-map';
import { formatInet4, formatInet6, formatUuid } from './uuid-inet6';
import { encodeWkb, wkbOfStored } from './wkb';

/** Canonical decimal text: no leading zeros, exactly `scale` fraction digits, no "-0". */
export function normaliseDecimal(text: string, scale: number, where: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw new TidemarkError('DataInvalid', `${where}: expected a decimal, found ${JSON.stringify(text)}`, { column: where });
  }
  const intPart = (m[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  let frac = m[3] ?? '';
  if (frac.length > scale) {
    if (!/^0*$/.test(frac.slice(scale))) {
      throw new TidemarkError('DataInvalid', `${where}: decimal ${text} has more than ${scale} fraction digits`, { column: where });
    }
    frac = frac.slice(0, scale);
  }
  frac = frac.padEnd(scale, '0');
  const body = scale > 0 ? `${intPart}.${frac}` : intPart;
  const isZero = /^[0.]*$/.test(body);
  return m[1] === '-' && !isZero ? `-${body}` : body;
}

function parseDateParts(text: string): [number, number, number] | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!m) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function parseMicrosFraction(frac: string | undefined): bigint {
  if (!frac) return 0n;
  return BigInt(frac.padEnd(6, '0').slice(0, 6));
}

type Converter = (raw: unknown) => ColumnValue;

/** Fraction digit count (1–6) → factor to µs. */
export const FRACTION_SCALE: readonly number[] = [0, 100_000, 10_000, 1_000, 100, 10, 1];
/** The last date's `y * 10000 + m * 100 + d` and its day number: rows of one table mostly share dates. */
let lastYmd = -1;
let lastDays = 0;

/** daysFromCivil with the last date's day number kept: the DATETIME parsers' common case. */
export function cachedDaysFromCivil(y: number, mo: number, d: number): number {
  const ymd = y * 10000 + mo * 100 + d;
  if (ymd !== lastYmd) {
    lastDays = daysFromCivil(y, mo, d);
    lastYmd = ymd;
  }
  return lastDays;
}

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff]` → µs since the epoch (as UTC wall clock); null for a zero date;
 * undefined when malformed. Runs for every DATETIME / TIMESTAMP of the snapshot and the binlog, so
 * it reads the digits inline and reuses the last date's day number (figures: docs/perf-notes.md).
 */
export function parseDateTimeMicros(s: string): bigint | null | undefined {
  const v = parseDateTimeMicrosNumber(s);
  return typeof v === 'number' ? BigInt(v) : v;
}

/**
 * As parseDateTimeMicros, with the µs as a number where that is exact (up to year ~2255), else a
 * bigint: the snapshot path keeps them in typed columns without a BigInt a value (makeInt64NumberCodec).
 */
export function parseDateTimeMicrosNumber(s: string): number | bigint | null | undefined {
  const len = s.length;
  if (len < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return undefined;
  // Each `c - 48` of a non-digit is outside 0–9, so `>>> 0 > 9` catches it (negative ones too).
  const y0 = s.charCodeAt(0) - 48;
  const y1 = s.charCodeAt(1) - 48;
  const y2 = s.charCodeAt(2) - 48;
  const y3 = s.charCodeAt(3) - 48;
  const mo0 = s.charCodeAt(5) - 48;
  const mo1 = s.charCodeAt(6) - 48;
  const d0 = s.charCodeAt(8) - 48;
  const d1 = s.charCodeAt(9) - 48;
  const h0 = s.charCodeAt(11) - 48;
  const h1 = s.charCodeAt(12) - 48;
  const mi0 = s.charCodeAt(14) - 48;
  const mi1 = s.charCodeAt(15) - 48;
  const s0 = s.charCodeAt(17) - 48;
  const s1 = s.charCodeAt(18) - 48;
  if (
    y0 >>> 0 > 9 || y1 >>> 0 > 9 || y2 >>> 0 > 9 || y3 >>> 0 > 9 || mo0 >>> 0 > 9 || mo1 >>> 0 > 9 || d0 >>> 0 > 9 ||
    d1 >>> 0 > 9 || h0 >>> 0 > 9 || h1 >>> 0 > 9 || mi0 >>> 0 > 9 || mi1 >>> 0 > 9 || s0 >>> 0 > 9 || s1 >>> 0 > 9
  ) {
    return undefined;
  }
  let frac = 0;
  if (len > 19) {
    const n = len - 20;
    if (s.charCodeAt(19) !== 46 || n < 1 || n > 6) return undefined;
    for (let i = 20; i < len; i++) {
      const c = s.charCodeAt(i) - 48;
      if (c >>> 0 > 9) return undefined;
      frac = frac * 10 + c;
    }
    frac *= FRACTION_SCALE[n]!;
  }
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const mo = mo0 * 10 + mo1;
  const d = d0 * 10 + d1;
  if (y === 0 || mo === 0 || d === 0) return null;
  const seconds = cachedDaysFromCivil(y, mo, d) * 86400 + (h0 * 10 + h1) * 3600 + (mi0 * 10 + mi1) * 60 + s0 * 10 + s1;
  const micros = seconds * 1_000_000 + frac;
  // Exact as a Number up to year ~2255; beyond, combine in bigint.
  return Number.isSafeInteger(micros) ? micros : BigInt(seconds) * 1_000_000n + BigInt(frac);
}

/** True when s is already canonical decimal text for this scale (the common case from the server). */
function isCanonicalDecimal(s: string, scale: number): boolean {
  let i = s.charCodeAt(0) === 45 ? 1 : 0;
  const start = i;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const intLen = i - start;
  if (intLen === 0 || (intLen > 1 && s.charCodeAt(start) === 48)) return false;
  if (scale === 0) return i === s.length && !(start === 1 && intLen === 1 && s.charCodeAt(1) === 48);
  if (s.charCodeAt(i) !== 46 || s.length - i - 1 !== scale) return false;
  let nonZero = false;
  for (let j = start; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 46) continue;
    if (c < 48 || c > 57) return false;
    if (c !== 48) nonZero = true;
  }
  return start === 0 || nonZero;
}

/**
 * Builds the converter for one column. `where` (e.g. `app.t.price`) goes into error messages.
 * Null and undefined become null; any other mismatch is DataInvalid naming the column and value.
 */
export function makeConverter(column: ColumnSchema, where: string): Converter {
  const { convert } = makeColumnCodec(column, where);
  return (raw) => (raw === null || raw === undefined ? null : convert(raw));
}

export interface ColumnCodec {
  /** Converts a non-null raw value. */
  convert: (raw: unknown) => ColumnValue;
  /**
   * When a raw value of this JS type is already canonical (ints and doubles as numbers, text as
   * strings, timestamps as bigint µs: the binlog reader holds valid DATETIME / TIMESTAMP values so),
   * the hot binlog path leaves it untouched instead of calling `convert`.
   */
  passthrough: 'number' | 'string' | 'bigint' | null;
}

export function makeColumnCodec(column: ColumnSchema, where: string): ColumnCodec {
  const t = column.icebergType;
  const isYear = /^year\b/i.test(column.mysqlType);
  const isWideDecimal = t.type === 'string' && /^(decimal|numeric)/i.test(column.mysqlType);
  const passthrough =
    (t.type === 'int' && !isYear) || t.type === 'double'
      ? 'number'
      : t.type === 'string' && !isWideDecimal
        ? 'string'
        : t.type === 'timestamp' || t.type === 'timestamptz'
          ? 'bigint'
          : null;
  return { convert: makeNonNullConverter(column, where), passthrough };
}

/** The Iceberg types whose canonical value is a signed 64-bit bigint that makeInt64NumberCodec may give as a number. */
export const INT64_NUMBER_TYPES: ReadonlySet<string> = new Set(['long', 'timestamp', 'timestamptz']);

/**
 * For a column of an INT64_NUMBER_TYPES type, a codec whose values are those of makeColumnCodec's
 * except that a safe integer comes as a number instead of a bigint (the integer, or µs since the
 * epoch for timestamps): the snapshot path puts them into typed int64 columns without a BigInt a
 * value (TransactionBatch.snapshotRows). Null for other types.
 */
export function makeInt64NumberCodec(column: ColumnSchema, where: string): ColumnCodec | null {
  const type = column.icebergType.type;
  if (!INT64_NUMBER_TYPES.has(type)) return null;
  const general = makeNonNullConverter(column, where);
  if (type === 'long') return { convert: (raw) => (typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : general(raw)), passthrough: null };
  return {
    convert: (raw) => {
      const v = typeof raw === 'string' ? parseDateTimeMicrosNumber(raw) : undefined;
      // Zero dates, malformed text and other forms take the general path (its value or its error).
      return v === undefined || v === null ? general(raw) : v;
    },
    passthrough: null,
  };
}

function makeNonNullConverter(column: ColumnSchema, where: string): Converter {
  const t = column.icebergType;
  const zeroDate = (): ColumnValue => (column.nullable ? null : t.type === 'date' ? 0 : 0n);
  const bad = (raw: unknown): TidemarkError =>
    new TidemarkError('DataInvalid', `${where}: cannot convert ${describe(raw)} to ${t.type} (column type ${column.mysqlType})`, {
      column: where,
    });
  const conv = ((): Converter => {
    switch (t.type) {
      case 'boolean':
        return (raw) => {
          if (typeof raw === 'number') return raw !== 0;
          if (typeof raw === 'boolean') return raw;
          if (raw instanceof Uint8Array) return raw.some((b) => b !== 0);
          if (typeof raw === 'string' || typeof raw === 'bigint') return BigInt(raw) !== 0n;
          throw bad(raw);
        };
      case 'int':
        if (/^year\b/i.test(column.mysqlType)) {
          // YEAR holds 1901..2155 and the zero year 0000, stored as byte 0; zongji adds 1900 to the
          // byte unconditionally, so its 1900 can only be the zero year.
          return (raw) => (raw === 1900 ? 0 : typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : (() => { throw bad(raw); })());
        }
        return (raw) => {
          if (typeof raw === 'number') return raw;
          if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return Number(raw);
          throw bad(raw);
        };
      case 'long':
        return (raw) => {
          if (typeof raw === 'bigint') return raw;
          if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw);
          if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return BigInt(raw);
          throw bad(raw);
        };
      case 'decimal':
        return (raw) => {
          if (typeof raw === 'string') return isCanonicalDecimal(raw, t.scale) ? raw : normaliseDecimal(raw, t.scale, where);
          // zongji gives BIGINT UNSIGNED as a Number while it is exact (< 2^53), a string above.
          if (typeof raw === 'number' && Number.isSafeInteger(raw)) return normaliseDecimal(String(raw), t.scale, where);
          if (typeof raw === 'bigint') return normaliseDecimal(raw.toString(), t.scale, where);
          throw bad(raw);
        };
      case 'float':
        // FLOAT is 32-bit on the server: rounding through fround makes the binlog's exact float32
        // and the snapshot's text form agree.
        return (raw) => {
          const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
          if (Number.isNaN(v)) throw bad(raw);
          return Math.fround(v);
        };
      case 'double':
        return (raw) => {
          const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
          if (Number.isNaN(v)) throw bad(raw);
          return v;
        };
      case 'string':
        if (/^(uuid|inet4|inet6)\b/i.test(column.mysqlType)) {
          // The snapshot gets the server's text; the binlog the 16 (INET4: 4) bytes (uuid-inet6.ts).
          const format = /^uuid/i.test(column.mysqlType) ? formatUuid : /^inet4/i.test(column.mysqlType) ? formatInet4 : formatInet6;
          return (raw) => (typeof raw === 'string' ? raw : raw instanceof Uint8Array ? format(raw, where) : (() => { throw bad(raw); })());
        }
        if (/^decimal|^numeric/i.test(column.mysqlType)) {
          return (raw) => (typeof raw === 'string' ? raw : typeof raw === 'number' ? String(raw) : (() => { throw bad(raw); })());
        }
        return (raw) => {
          if (typeof raw === 'string') return raw;
          if (raw instanceof Uint8Array) return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8');
          if (typeof raw === 'number') return String(raw);
          // MySQL JSON through zongji/mysql2 without jsonStrings arrives parsed.
          if (typeof raw === 'object') return JSON.stringify(raw);
          throw bad(raw);
        };
      case 'binary': {
        if (isSpatialType(column.mysqlType)) {
          // Both paths hand over the stored form (spatialStoredValue): the lake keeps its WKB.
          return (raw) => {
            if (raw instanceof Uint8Array) return wkbOfStored(raw, where);
            if (typeof raw === 'object') return encodeWkb(column.mysqlType, raw, where);
            throw bad(raw);
          };
        }
        return (raw) => {
          if (raw instanceof Uint8Array) return raw;
          if (typeof raw === 'string') return Buffer.from(raw, 'utf8');
          throw bad(raw);
        };
      }
      case 'date':
        return (raw) => {
          if (typeof raw !== 'string') throw bad(raw);
          const p = parseDateParts(raw);
          if (!p) throw bad(raw);
          if (p[0] === 0 || p[1] === 0 || p[2] === 0) return zeroDate();
          return daysFromCivil(p[0], p[1], p[2]);
        };
      case 'time':
        return (raw) => {
          if (typeof raw !== 'string') throw bad(raw);
          const m = /^(-?)(\d{2,3}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(raw);
          if (!m) throw bad(raw);
          const micros =
            (BigInt(m[2]!) * 3600n + BigInt(m[3]!) * 60n + BigInt(m[4]!)) * 1_000_000n + parseMicrosFraction(m[5]);
          if (m[1] === '-' && micros !== 0n) {
            throw new TidemarkError('DataInvalid', `${where}: TIME ${raw} is negative; Iceberg time holds 00:00:00 to 23:59:59.999999`, { column: where });
          }
          if (micros >= 86_400_000_000n) {
            throw new TidemarkError('DataInvalid', `${where}: TIME ${raw} is 24 h or more; Iceberg time holds 00:00:00 to 23:59:59.999999`, { column: where });
          }
          return micros;
        };
      case 'timestamp':
      case 'timestamptz':
        return (raw) => {
          if (typeof raw !== 'string') {
            if (raw instanceof Date) return BigInt(raw.getTime()) * 1000n;
            throw bad(raw);
          }
          const v = parseDateTimeMicros(raw);
          if (v === undefined) throw bad(raw);
          return v === null ? zeroDate() : v;
        };
    }
  })();
  return conv;
}

function describe(raw: unknown): string {
  if (raw instanceof Uint8Array) return `bytes(${raw.byteLength})`;
  if (typeof raw === 'string') return JSON.stringify(raw.length > 60 ? raw.slice(0, 60) + '…' : raw);
  if (typeof raw === 'object') return Object.prototype.toString.call(raw);
  return `${typeof raw} ${String(raw)}`;
}
