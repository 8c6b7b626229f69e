import { makeVector, Type, type Data, type Field } from 'apache-arrow';
import { TidemarkError } from '../errors';
import { bytesToUuid, formatDate, formatDecimal, formatTime, formatTimestamp, formatTimestampNanos } from './values';

export { formatTimestampNanos };

/**
 * Iceberg v3 `variant` values, shown as JSON text (the canonical row value of a variant). In Parquet
 * a variant is a group of two binaries, `metadata` and `value` (parquet-format VariantEncoding.md):
 * the metadata holds the dictionary of object keys, the value a tree of primitives, short strings,
 * objects (keys by dictionary id) and arrays. Decoded by hand: no npm package decodes the Variant
 * binary encoding, and it is one recursive switch. Shredded variants (a `typed_value` column) are
 * Unsupported for now, named.
 *
 * JSON rendering: integers and decimals as exact JSON numbers, float/double as numbers (NaN and
 * infinities as strings), dates, times, timestamps and UUIDs as strings in the canonical row format,
 * binary as base64 text (what Spark's to_json prints).
 */
class Malformed extends Error {}

function uint(bytes: Uint8Array, at: number, size: number): number {
  if (at + size > bytes.length) throw new Malformed(`truncated at byte ${at}`);
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[at + i]!;
  return v;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The key dictionary of a variant's metadata. */
export function decodeVariantMetadata(metadata: Uint8Array): string[] {
  if (metadata.length < 1) throw new Malformed('empty metadata');
  const header = metadata[0]!;
  if ((header & 0x0f) !== 1) throw new Malformed(`metadata version ${header & 0x0f}, expected 1`);
  const size = ((header >> 6) & 3) + 1;
  const count = uint(metadata, 1, size);
  if (count > metadata.length) throw new Malformed(`dictionary of ${count} strings in ${metadata.length} bytes`);
  const offsetsAt = 1 + size;
  const bytesAt = offsetsAt + (count + 1) * size;
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const start = uint(metadata, offsetsAt + i * size, size);
    const end = uint(metadata, offsetsAt + (i + 1) * size, size);
    if (start > end || bytesAt + end > metadata.length) throw new Malformed(`dictionary string ${i} at ${start}..${end} outside the metadata`);
    keys.push(utf8.decode(metadata.subarray(bytesAt + start, bytesAt + end)));
  }
  return keys;
}

function base64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function jsonNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
}

function valueJson(value: Uint8Array, at: number, keys: string[], depth: number): string {
  if (depth > 128) throw new Malformed('nested deeper than 128 levels');
  if (at >= value.length) throw new Malformed(`truncated at byte ${at}`);
  const header = value[at]!;
  const basic = header & 3;
  const h = header >> 2;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const need = (n: number) => {
    if (at + 1 + n > value.length) throw new Malformed(`truncated value at byte ${at}`);
  };
  if (basic === 1) {
    need(h);
    return JSON.stringify(utf8.decode(value.subarray(at + 1, at + 1 + h)));
  }
  if (basic === 2 || basic === 3) {
    const offsetSize = (h & 3) + 1;
    const idSize = basic === 2 ? ((h >> 2) & 3) + 1 : 0;
    const large = basic === 2 ? (h >> 4) & 1 : (h >> 2) & 1;
    const countSize = large ? 4 : 1;
    const n = uint(value, at + 1, countSize);
    if (n > value.length) throw new Malformed(`${n} elements in ${value.length} bytes`);
    const idsAt = at + 1 + countSize;
    const offsetsAt = idsAt + n * idSize;
    const valuesAt = offsetsAt + (n + 1) * offsetSize;
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const offset = uint(value, offsetsAt + i * offsetSize, offsetSize);
      const item = valueJson(value, valuesAt + offset, keys, depth + 1);
      if (basic === 3) parts.push(item);
      else {
        const id = uint(value, idsAt + i * idSize, idSize);
        const key = keys[id];
        if (key === undefined) throw new Malformed(`object key id ${id} not in the metadata's ${keys.length} keys`);
        parts.push(`${JSON.stringify(key)}:${item}`);
      }
    }
    return basic === 3 ? `[${parts.join(',')}]` : `{${parts.join(',')}}`;
  }
  if (basic !== 0) throw new Malformed(`basic type ${basic}`);
  const p = at + 1;
  switch (h) {
    case 0:
      return 'null';
    case 1:
      return 'true';
    case 2:
      return 'false';
    case 3:
      need(1);
      return String(view.getInt8(p));
    case 4:
      need(2);
      return String(view.getInt16(p, true));
    case 5:
      need(4);
      return String(view.getInt32(p, true));
    case 6:
      need(8);
      return view.getBigInt64(p, true).toString();
    case 7:
      need(8);
      return jsonNumber(view.getFloat64(p, true));
    case 8:
    case 9:
    case 10: {
      const width = h === 8 ? 4 : h === 9 ? 8 : 16;
      need(1 + width);
      const scale = value[p]!;
      if (scale > 38) throw new Malformed(`decimal scale ${scale}`);
      let unscaled = 0n;
      for (let i = width - 1; i >= 0; i--) unscaled = (unscaled << 8n) | BigInt(value[p + 1 + i]!);
      return formatDecimal(BigInt.asIntN(width * 8, unscaled), scale);
    }
    case 11:
      need(4);
      return JSON.stringify(formatDate(view.getInt32(p, true)));
    case 12:
    case 13:
      need(8);
      return JSON.stringify(formatTimestamp(view.getBigInt64(p, true), h === 12));
    case 14: {
      need(4);
      // The shortest decimal that reads back as the same 32-bit float (14.3f, not 14.300000190734863).
      const f = view.getFloat32(p, true);
      if (!Number.isFinite(f)) return jsonNumber(f);
      for (let digits = 1; digits <= 9; digits++) {
        const shortest = Number(f.toPrecision(digits));
        if (Math.fround(shortest) === f) return String(shortest);
      }
      return String(f);
    }
    case 15:
    case 16: {
      need(4);
      const len = view.getUint32(p, true);
      need(4 + len);
      const bytes = value.subarray(p + 4, p + 4 + len);
      return JSON.stringify(h === 15 ? base64(bytes) : utf8.decode(bytes));
    }
    case 17:
      need(8);
      return JSON.stringify(formatTime(view.getBigInt64(p, true)));
    case 18:
    case 19:
      need(8);
      return JSON.stringify(formatTimestampNanos(view.getBigInt64(p, true), h === 18));
    case 20:
      need(16);
      return JSON.stringify(bytesToUuid(value.subarray(p, p + 16)));
  }
  throw new Malformed(`primitive type id ${h}`);
}

/** One variant (metadata + value bytes) as JSON text. DataInvalid naming `where` when malformed. */
export function variantToJson(metadata: Uint8Array, value: Uint8Array, where: string): string {
  try {
    return valueJson(value, 0, decodeVariantMetadata(metadata), 0);
  } catch (e) {
    if (e instanceof Malformed || e instanceof TypeError || e instanceof RangeError) {
      throw new TidemarkError('DataInvalid', `${where}: malformed variant value: ${e.message}`, {}, e);
    }
    throw e;
  }
}

/**
 * An Arrow chunk of a Parquet variant column (struct<metadata: binary, value: binary>) → JSON text
 * per row, null for a null variant.
 */
export function convertVariantData(data: Data, where: string): (string | null)[] {
  const children = (data.type.typeId === Type.Struct ? (data.type.children as Field[]) : []).map((c) => c.name);
  const mi = children.indexOf('metadata');
  const vi = children.indexOf('value');
  if (children.includes('typed_value')) {
    throw new TidemarkError('Unsupported', `${where}: shredded variant columns (typed_value) are not supported`, { feature: 'shredded variant' });
  }
  if (mi < 0 || vi < 0) throw new TidemarkError('DataInvalid', `${where}: expected a variant group with binary metadata and value, found ${String(data.type)}`);
  const meta = makeVector(data.children[mi]!);
  const val = makeVector(data.children[vi]!);
  const out: (string | null)[] = new Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (data.nullCount > 0 && !data.getValid(i)) {
      out[i] = null;
      continue;
    }
    const m = meta.get(i) as Uint8Array | null;
    const v = val.get(i) as Uint8Array | null;
    out[i] = m === null || v === null ? null : variantToJson(m, v, `${where}, row ${i}`);
  }
  return out;
}
