import { TidemarkError } from '../../../errors';
import { murmur3x86_32 } from '../../murmur3';
import { parseDate, parseDecimal, parseTime, parseTimestamp } from '../../values';
import type { PaimonDataType } from '../schema';

/**
 * Paimon's BinaryRow, write side: the encoding ../binary-row.ts decodes (partitions, min/max keys,
 * stats in manifests) and the bucket hash. Hand-written because no npm library knows Paimon's
 * in-memory row layout, and the bucket of a row must be exactly Java's: Math.abs(hash % buckets)
 * where hash is MurmurHash3 x86 32 (seed 42) over the bucket key's row bytes
 * (BinaryRow.hashCode → MurmurHashUtils.hashBytesByWords; KeyAndBucketExtractor.bucket).
 */

/**
 * A value as Paimon holds it internally: int-like types, DATE (days) and TIME (milliseconds of the
 * day, whatever the precision: Paimon's Time is an int) as number, BIGINT as
 * bigint, DECIMAL as its unscaled bigint, TIMESTAMP(_LTZ) as epoch microseconds (bigint), strings
 * as UTF-8 bytes, binaries as bytes, BOOLEAN as boolean. Null stays null.
 */
export type PhysicalValue = number | bigint | boolean | Uint8Array | null;

const utf8 = new TextEncoder();

function isStringType(t: PaimonDataType): boolean {
  return t.root === 'CHAR' || t.root === 'VARCHAR' || t.root === 'STRING';
}

function isBinaryType(t: PaimonDataType): boolean {
  return t.root === 'BINARY' || t.root === 'VARBINARY' || t.root === 'BYTES';
}

/** Where a value sits, for error messages: built only when a value is bad. */
export type ValueWhere = string | (() => string);

function badValue(t: PaimonDataType, v: unknown, where: ValueWhere, column?: string): never {
  const at = `${typeof where === 'string' ? where : where()}${column === undefined ? '' : `: column ${column}`}`;
  throw new TidemarkError('InvalidInput', `${at}: expected a ${t.root} value, found ${typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v)}`);
}

/** Canonical value (core/lake/values.ts forms) → physical value. `where` names the column in errors. */
export function toPhysical(t: PaimonDataType, v: unknown, where: string): PhysicalValue {
  return toPhysicalLazy(t, v, where);
}

/**
 * toPhysical with the error location built only on failure (the per-row hot path: no string or
 * closure per value).
 */
export function toPhysicalLazy(t: PaimonDataType, v: unknown, where: ValueWhere, column?: string): PhysicalValue {
  if (v === null || v === undefined) return null;
  switch (t.root) {
    case 'BOOLEAN':
      return typeof v === 'boolean' ? v : badValue(t, v, where, column);
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT': {
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) return badValue(t, v, where, column);
      const bits = t.root === 'TINYINT' ? 8 : t.root === 'SMALLINT' ? 16 : 32;
      if (n < -(2 ** (bits - 1)) || n >= 2 ** (bits - 1)) return badValue(t, v, where, column);
      return n;
    }
    case 'BIGINT':
      if (typeof v === 'bigint') return v;
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
      return badValue(t, v, where, column);
    case 'FLOAT':
    case 'DOUBLE':
      return typeof v === 'number' ? (t.root === 'FLOAT' ? Math.fround(v) : v) : badValue(t, v, where, column);
    case 'DECIMAL': {
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint') return badValue(t, v, where, column);
      let unscaled: bigint;
      try {
        unscaled = parseDecimal(String(v), t.scale ?? 0);
      } catch {
        return badValue(t, v, where, column);
      }
      const limit = 10n ** BigInt(t.precision ?? 10);
      if (unscaled >= limit || unscaled <= -limit) return badValue(t, v, where, column);
      return unscaled;
    }
    case 'DATE':
      if (typeof v !== 'string') return badValue(t, v, where, column);
      try {
        return parseDate(v);
      } catch {
        return badValue(t, v, where, column);
      }
    case 'TIME': {
      let micros: bigint;
      if (typeof v === 'bigint') micros = v;
      else if (typeof v !== 'string') return badValue(t, v, where, column);
      else {
        try {
          micros = parseTime(v);
        } catch {
          return badValue(t, v, where, column);
        }
      }
      // Paimon keeps a time of day in [00:00, 24:00): MySQL's negative or 24 h+ TIME values do not fit.
      if (micros < 0n || micros >= 86_400_000_000n) return badValue(t, v, where, column);
      return Number(micros / 1000n);
    }
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ': {
      let micros: bigint;
      if (typeof v === 'bigint') micros = v;
      else if (typeof v !== 'string') return badValue(t, v, where, column);
      else {
        try {
          micros = parseTimestamp(v);
        } catch {
          return badValue(t, v, where, column);
        }
      }
      // Paimon keeps `precision` fraction digits: cut the rest (toward the past, as Java's truncation of a LocalDateTime).
      const p = t.precision ?? 6;
      if (p >= 6) return micros;
      const unit = 10n ** BigInt(6 - p);
      return micros - (((micros % unit) + unit) % unit);
    }
    case 'CHAR':
    case 'VARCHAR':
    case 'STRING':
      return typeof v === 'string' ? utf8.encode(v) : badValue(t, v, where, column);
    case 'BINARY':
    case 'VARBINARY':
    case 'BYTES':
      return v instanceof Uint8Array ? v : badValue(t, v, where, column);
    default:
      throw new TidemarkError('Unsupported', `${typeof where === 'string' ? where : where()}${column === undefined ? '' : `: column ${column}`}: writing Paimon ${t.root} values is not supported`, { feature: `write type ${t.root}` });
  }
}

/** Orders physical values of one type as Paimon's key comparator does; null first. */
export function comparePhysical(a: PhysicalValue, b: PhysicalValue): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number' && (Number.isNaN(a) || Number.isNaN(b))) {
    // Java's Double.compare: NaN above everything.
    return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  }
  return (a as number | bigint) < (b as number | bigint) ? -1 : (a as number | bigint) > (b as number | bigint) ? 1 : 0;
}

export function compareRows(a: PhysicalValue[], b: PhysicalValue[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = comparePhysical(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

const roundToWord = (n: number) => (n + 7) & ~7;

/** The little-endian long (offset << 32 | length) of a variable-length field, as two words (no BigInt). */
function setOffsetAndLength(view: DataView, slot: number, offset: number, length: number): void {
  view.setUint32(slot, length, true);
  view.setUint32(slot + 4, offset, true);
}

/**
 * Encodes a BinaryRow (RowKind INSERT in the header byte). Returns the row bytes (what Java hashes)
 * and the serialized form Paimon stores in manifests (4-byte big-endian arity, then the row).
 */
export function encodeBinaryRow(types: PaimonDataType[], values: PhysicalValue[]): { row: Uint8Array; serialized: Uint8Array } {
  // One buffer holds both (the row is the serialized form past its arity): this runs for every
  // change's key, bucket key and partition, and small typed arrays are costly to allocate.
  const arity = types.length;
  const nullBytes = Math.floor((arity + 63 + 8) / 64) * 8;
  const fixed = nullBytes + arity * 8;
  let size = fixed;
  for (let i = 0; i < arity; i++) {
    const v = values[i] ?? null;
    if (v !== null) size += variablePartSize(types[i]!, v);
  }
  const serialized = new Uint8Array(4 + size);
  const view = new DataView(serialized.buffer);
  view.setInt32(0, arity, false);
  const row = serialized.subarray(4);
  let cursor = fixed;
  for (let i = 0; i < arity; i++) {
    const t = types[i]!;
    const v = values[i] ?? null;
    const slot = nullBytes + i * 8;
    const at = 4 + slot;
    if (v === null) {
      const bit = i + 8;
      row[bit >> 3]! |= 1 << (bit & 7);
      continue;
    }
    switch (t.root) {
      case 'BOOLEAN':
        row[slot] = v ? 1 : 0;
        break;
      case 'TINYINT':
        view.setInt8(at, v as number);
        break;
      case 'SMALLINT':
        view.setInt16(at, v as number, true);
        break;
      case 'INT':
      case 'DATE':
      case 'TIME':
        view.setInt32(at, v as number, true);
        break;
      case 'BIGINT':
        view.setBigInt64(at, v as bigint, true);
        break;
      case 'FLOAT':
        view.setFloat32(at, v as number, true);
        break;
      case 'DOUBLE':
        view.setFloat64(at, v as number, true);
        break;
      case 'DECIMAL':
        if ((t.precision ?? 10) <= 18) view.setBigInt64(at, v as bigint, true);
        else {
          // Non-compact decimals always take 16 bytes of the variable part (BinaryRowWriter.writeDecimal).
          const bytes = minimalTwosComplement(v as bigint);
          setOffsetAndLength(view, at, cursor, bytes.length);
          row.set(bytes, cursor);
          cursor += 16;
        }
        break;
      case 'TIMESTAMP':
      case 'TIMESTAMP_LTZ': {
        const micros = v as bigint;
        const millis = floorDiv(micros, 1000n);
        if ((t.precision ?? 6) <= 3) view.setBigInt64(at, millis, true);
        else {
          const nanoOfMilli = (micros - millis * 1000n) * 1000n;
          setOffsetAndLength(view, at, cursor, Number(nanoOfMilli));
          view.setBigInt64(4 + cursor, millis, true);
          cursor += 8;
        }
        break;
      }
      default: {
        if (!isStringType(t) && !isBinaryType(t)) {
          throw new TidemarkError('Unsupported', `writing Paimon ${t.root} values into a BinaryRow is not supported`, { feature: `write type ${t.root}` });
        }
        const bytes = v as Uint8Array;
        if (bytes.length <= 7) {
          row.set(bytes, slot);
          row[slot + 7] = 0x80 | bytes.length;
        } else {
          setOffsetAndLength(view, at, cursor, bytes.length);
          row.set(bytes, cursor);
          cursor += roundToWord(bytes.length);
        }
      }
    }
  }
  return { row, serialized };
}

/** Bytes a non-null value takes in a BinaryRow's variable part (encodeBinaryRow's first pass). */
function variablePartSize(t: PaimonDataType, v: Exclude<PhysicalValue, null>): number {
  switch (t.root) {
    case 'DECIMAL':
      return (t.precision ?? 10) <= 18 ? 0 : 16;
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      return (t.precision ?? 6) <= 3 ? 0 : 8;
    case 'BOOLEAN':
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
    case 'DATE':
    case 'TIME':
    case 'BIGINT':
    case 'FLOAT':
    case 'DOUBLE':
      return 0;
    default: {
      // Any other type is refused by the second pass, naming it.
      if (!isStringType(t) && !isBinaryType(t)) return 0;
      const n = (v as Uint8Array).length;
      return n <= 7 ? 0 : roundToWord(n);
    }
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** Java BigInteger.toByteArray: minimal big-endian two's complement. */
function minimalTwosComplement(v: bigint): Uint8Array {
  let n = 1;
  while (v < -(1n << BigInt(n * 8 - 1)) || v >= 1n << BigInt(n * 8 - 1)) n++;
  const out = new Uint8Array(n);
  let x = BigInt.asUintN(n * 8, v);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

/** Java's BinaryRow.hashCode of the row bytes (MurmurHash3 x86 32, seed 42, by 4-byte words). */
export function hashBinaryRow(row: Uint8Array): number {
  return murmur3x86_32(row, 42) | 0;
}

/** The bucket of a row whose bucket-key values are `values` (Paimon's fixed-bucket assigner). */
export function bucketOf(types: PaimonDataType[], values: PhysicalValue[], numBuckets: number): number {
  const hash = hashBinaryRow(encodeBinaryRow(types, values).row);
  return Math.abs(hash % numBuckets);
}
