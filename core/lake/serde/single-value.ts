import { TidemarkError } from '../../errors';
import { parseDecimalType, parseFixedType, type IcebergType } from '../model';
import {
  bigIntToBytes,
  bytesToBigInt,
  bytesToUuid,
  formatDate,
  formatDecimal,
  formatTime,
  formatTimestamp,
  formatTimestampNanos,
  parseDate,
  parseDecimal,
  parseTime,
  parseTimestamp,
  uuidToBytes,
} from '../values';

/**
 * Binary single-value serialization (spec Appendix D), used for lower/upper bounds in manifests and
 * partition summaries: int/date 4-byte LE; long/time/timestamp(tz) 8-byte LE; float/double IEEE LE;
 * boolean one byte; string UTF-8 without length; uuid 16 bytes big-endian; fixed/binary raw;
 * decimal unscaled two's complement big-endian in the minimum number of bytes.
 * Hand-written: no library implements Iceberg's encoding; it is a few DataView calls.
 */
export function encodeSingleValue(type: IcebergType, value: unknown): Uint8Array {
  if (typeof type !== 'string') throw new TidemarkError('Unsupported', `no single-value encoding for nested type ${type.type}`);
  const view = (size: number) => new DataView(new ArrayBuffer(size));
  switch (type) {
    case 'boolean':
      return new Uint8Array([value ? 1 : 0]);
    case 'int': {
      const v = view(4);
      v.setInt32(0, Number(value), true);
      return new Uint8Array(v.buffer);
    }
    case 'date': {
      const v = view(4);
      v.setInt32(0, parseDate(String(value)), true);
      return new Uint8Array(v.buffer);
    }
    case 'long':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const micros =
        type === 'long' ? BigInt(value as bigint) : type === 'time' ? parseTime(String(value)) : parseTimestamp(String(value));
      const v = view(8);
      v.setBigInt64(0, micros, true);
      return new Uint8Array(v.buffer);
    }
    case 'float': {
      const v = view(4);
      v.setFloat32(0, Number(value), true);
      return new Uint8Array(v.buffer);
    }
    case 'double': {
      const v = view(8);
      v.setFloat64(0, Number(value), true);
      return new Uint8Array(v.buffer);
    }
    case 'string':
      return new TextEncoder().encode(String(value));
    case 'uuid':
      return uuidToBytes(String(value));
    case 'binary':
      return value as Uint8Array;
  }
  const dec = parseDecimalType(type);
  if (dec) return bigIntToBytes(parseDecimal(String(value), dec.scale));
  if (parseFixedType(type) !== null) return value as Uint8Array;
  throw new TidemarkError('Unsupported', `no single-value encoding for type ${type}`);
}

/** Inverse of encodeSingleValue; throws DataInvalid when the byte length does not fit the type. */
export function decodeSingleValue(type: IcebergType, bytes: Uint8Array): unknown {
  if (typeof type !== 'string') throw new TidemarkError('Unsupported', `no single-value encoding for nested type ${type.type}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (n: number) => {
    if (bytes.length !== n) {
      throw new TidemarkError('DataInvalid', `single value of type ${type}: expected ${n} bytes, found ${bytes.length}`);
    }
  };
  switch (type) {
    case 'boolean':
      need(1);
      return bytes[0] !== 0;
    case 'int':
      need(4);
      return view.getInt32(0, true);
    case 'date':
      need(4);
      return formatDate(view.getInt32(0, true));
    case 'long':
      need(8);
      return view.getBigInt64(0, true);
    case 'time':
      need(8);
      return formatTime(view.getBigInt64(0, true));
    case 'timestamp':
    case 'timestamptz':
      need(8);
      return formatTimestamp(view.getBigInt64(0, true), type === 'timestamptz');
    case 'timestamp_ns':
    case 'timestamptz_ns':
      need(8);
      return formatTimestampNanos(view.getBigInt64(0, true), type === 'timestamptz_ns');
    case 'float':
      need(4);
      return view.getFloat32(0, true);
    case 'double':
      need(8);
      return view.getFloat64(0, true);
    case 'string':
      return new TextDecoder().decode(bytes);
    case 'uuid':
      need(16);
      return bytesToUuid(bytes);
    case 'binary':
      return bytes;
  }
  const dec = parseDecimalType(type);
  if (dec) return formatDecimal(bytesToBigInt(bytes), dec.scale);
  if (parseFixedType(type) !== null) return bytes;
  throw new TidemarkError('Unsupported', `no single-value encoding for type ${type}`);
}
