import { TidemarkError } from '../errors';
import { parseDecimalType, type IcebergType } from './model';
import { murmur3x86_32 } from './murmur3';
import { bigIntToBytes, formatDate, parseDate, parseDecimal, formatDecimal, parseTime, parseTimestamp, uuidToBytes } from './values';

/**
 * Partition transforms (spec "Partition Transforms") over canonical row values (values.ts).
 * Temporal transforms count from 1970 and floor toward negative infinity for pre-epoch values.
 */

/** The type of a partition field's values. `day` is a date like Java and PyIceberg write it. */
export function partitionResultType(transform: string, source: IcebergType): IcebergType {
  if (transform === 'identity' || transform === 'void' || transform.startsWith('truncate[')) return source;
  if (transform === 'day') return 'date';
  return 'int';
}

const MICROS_PER_HOUR = 3_600_000_000n;

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && (a < 0n) !== (b < 0n) ? q - 1n : q;
}

function toMicros(type: IcebergType, value: unknown): bigint {
  if (type === 'date') return BigInt(parseDate(String(value))) * 24n * MICROS_PER_HOUR;
  return parseTimestamp(String(value));
}

/** Spec Appendix B: the bytes hashed for each type. */
function bucketBytes(type: IcebergType, value: unknown): Uint8Array {
  const long = (v: bigint) => {
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigInt64(0, v, true);
    return new Uint8Array(dv.buffer);
  };
  if (type === 'int' || type === 'long') return long(BigInt(value as number | bigint));
  if (type === 'date') return long(BigInt(parseDate(String(value))));
  if (type === 'time') return long(parseTime(String(value)));
  if (type === 'timestamp' || type === 'timestamptz') return long(parseTimestamp(String(value)));
  if (type === 'string') return new TextEncoder().encode(String(value));
  if (type === 'uuid') return uuidToBytes(String(value));
  const dec = parseDecimalType(type);
  if (dec) return bigIntToBytes(parseDecimal(String(value), dec.scale));
  if (value instanceof Uint8Array) return value;
  throw new TidemarkError('Unsupported', `bucket transform does not apply to type ${JSON.stringify(type)}`);
}

/** Applies a transform to one canonical value; null stays null (spec: transforms preserve null). */
export function applyTransform(transform: string, type: IcebergType, value: unknown): unknown {
  if (value === null || value === undefined || transform === 'void') return null;
  if (transform === 'identity') return value;
  const bucket = /^bucket\[(\d+)\]$/.exec(transform);
  if (bucket) return (murmur3x86_32(bucketBytes(type, value)) & 0x7fffffff) % Number(bucket[1]);
  const truncate = /^truncate\[(\d+)\]$/.exec(transform);
  if (truncate) {
    const w = Number(truncate[1]);
    if (type === 'int') return (value as number) - ((((value as number) % w) + w) % w);
    if (type === 'long') return (value as bigint) - ((((value as bigint) % BigInt(w)) + BigInt(w)) % BigInt(w));
    if (type === 'string') return Array.from(String(value)).slice(0, w).join('');
    if (type === 'binary') return (value as Uint8Array).subarray(0, w);
    const dec = parseDecimalType(type);
    if (dec) {
      const u = parseDecimal(String(value), dec.scale);
      return formatDecimal(u - (((u % BigInt(w)) + BigInt(w)) % BigInt(w)), dec.scale);
    }
    throw new TidemarkError('Unsupported', `truncate transform does not apply to type ${JSON.stringify(type)}`);
  }
  if (transform === 'year' || transform === 'month' || transform === 'day' || transform === 'hour') {
    const micros = toMicros(type, value);
    if (transform === 'hour') return Number(floorDiv(micros, MICROS_PER_HOUR));
    const days = Number(floorDiv(micros, 24n * MICROS_PER_HOUR));
    if (transform === 'day') return formatDate(days);
    const d = new Date(days * 86_400_000);
    const years = d.getUTCFullYear() - 1970;
    return transform === 'year' ? years : years * 12 + d.getUTCMonth();
  }
  throw new TidemarkError('Unsupported', `partition transform ${transform} is not supported`);
}
