import { Type, tableToIPC, type Data, type Table } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { TidemarkError } from '../../errors';
import { arrowFieldId } from '../arrow-values';
import type { TableMetadata } from '../model';
import { PARQUET_CODEC_NAMES, parquetCodecName, PROPERTY_PARQUET_CODEC, type ParquetCodecName } from './codec-names';
import { bigIntToBytes } from '../values';

/** What parquet-wasm writes for each of Java Iceberg's codec names. */
const PARQUET_CODECS: Record<ParquetCodecName, Compression> = {
  zstd: Compression.ZSTD,
  snappy: Compression.SNAPPY,
  gzip: Compression.GZIP,
  lz4: Compression.LZ4,
  brotli: Compression.BROTLI,
  uncompressed: Compression.UNCOMPRESSED,
};

/**
 * The codec the table's `write.parquet.compression-codec` names (zstd when unset). A name Iceberg
 * knows that parquet-wasm cannot write (lzo) is Unsupported, any other InvalidInput, both naming
 * the table.
 */
export function parquetCodec(m: TableMetadata): Compression {
  const text = m.properties[PROPERTY_PARQUET_CODEC];
  if (text === undefined) return Compression.ZSTD;
  const name = parquetCodecName(text);
  if (name !== null) return PARQUET_CODECS[name];
  const names = PARQUET_CODEC_NAMES.join(', ');
  if (text.trim().toLowerCase() === 'lzo') throw new TidemarkError('Unsupported', `${m.location}: table property ${PROPERTY_PARQUET_CODEC} is lzo, which Tidemark cannot write; use one of ${names}`, { path: m.location, feature: 'parquet lzo' });
  throw new TidemarkError('InvalidInput', `${m.location}: table property ${PROPERTY_PARQUET_CODEC} must be one of ${names}, found ${JSON.stringify(text)}`, { path: m.location });
}

/**
 * Arrow table → Parquet bytes (parquet-wasm, ZSTD) plus the Iceberg column metrics of the file:
 * value/null/NaN counts and lower/upper bounds in the single-value binary encoding (spec Appendix D).
 * Bounds are computed on the raw Arrow buffers (no per-value conversion): integers, dates, times and
 * timestamps are their raw little-endian values; strings and binaries compare as unsigned bytes, as
 * the spec orders UTF-8. Bounds are exact (not truncated).
 */
export interface FileMetrics {
  recordCount: number;
  valueCounts: Map<number, number>;
  nullValueCounts: Map<number, number>;
  nanValueCounts: Map<number, number>;
  lowerBounds: Map<number, Uint8Array>;
  upperBounds: Map<number, Uint8Array>;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function le(value: number | bigint, size: 4 | 8, float = false): Uint8Array {
  const dv = new DataView(new ArrayBuffer(size));
  if (size === 8 && !float) dv.setBigInt64(0, BigInt(value), true);
  else if (size === 8) dv.setFloat64(0, Number(value), true);
  else if (float) dv.setFloat32(0, Number(value), true);
  else dv.setInt32(0, Number(value), true);
  return new Uint8Array(dv.buffer);
}

/**
 * Index of the smallest and largest valid value of a chunk under `less`, or null when all are null.
 * Comparing in place and keeping indices avoids a BigInt or subarray per value (1M-row appends spent
 * most of their metrics time allocating those).
 */
function extremes(data: Data, less: (a: number, b: number) => boolean): { lo: number; hi: number } | null {
  const n = data.length;
  let lo = -1;
  let hi = -1;
  if (data.nullCount === 0) {
    if (n === 0) return null;
    lo = hi = 0;
    for (let i = 1; i < n; i++) {
      if (less(i, lo)) lo = i;
      else if (less(hi, i)) hi = i;
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (!data.getValid(i)) continue;
      if (lo < 0) lo = hi = i;
      else if (less(i, lo)) lo = i;
      else if (less(hi, i)) hi = i;
    }
  }
  return lo < 0 ? null : { lo, hi };
}

/** The raw little-endian bytes of element `i` of a fixed-width buffer: the spec's bound encoding for ints, dates, times, timestamps. */
function rawElement(values: ArrayBufferView, i: number, width: number): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset + i * width, values.byteOffset + (i + 1) * width));
}

/** Unsigned byte order of bytes[as, ae) against bytes[bs, be). */
function compareByteRanges(bytes: Uint8Array, as: number, ae: number, bs: number, be: number): number {
  for (; as < ae && bs < be; as++, bs++) {
    const d = bytes[as]! - bytes[bs]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

type Bounds = { lo: Uint8Array | null; hi: Uint8Array | null; nan: number };

/**
 * min/max of one column chunk (null when every value is null) and its NaN count. lo/hi are null
 * when no value can be a bound (all NaN). Value buffers of a sliced chunk are already sliced by
 * Arrow JS; only the bit-packed buffers (validity, booleans) are addressed through `data.offset`.
 */
function chunkBounds(data: Data): Bounds | null {
  if (data.nullCount === data.length) return null;
  switch (data.type.typeId) {
    case Type.Int:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp:
      return integerBounds(data);
    case Type.Float:
      return floatBounds(data);
    case Type.Bool:
      return boolBounds(data);
    case Type.Decimal:
      return decimalBounds(data);
    case Type.Utf8:
    case Type.Binary:
    case Type.FixedSizeBinary:
      return byteBounds(data);
  }
  return null;
}

/** Integers, dates, times and timestamps: 32- or 64-bit little-endian values. */
function integerBounds(data: Data): Bounds | null {
  const n = data.length;
  const values = data.values as ArrayBufferView & ArrayLike<number | bigint>;
  const width = (values as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  let e: { lo: number; hi: number } | null;
  if (width === 8) {
    // 64-bit values as (signed high word, unsigned low word) pairs: numbers only, no BigInt.
    // Inlined (no comparator closure): the hot loop of timestamp and id columns.
    const w = new Int32Array(values.buffer, values.byteOffset, n * 2);
    const hasNulls = data.nullCount > 0;
    let lo = -1;
    let hi = -1;
    let loH = 0;
    let loL = 0;
    let hiH = 0;
    let hiL = 0;
    for (let i = 0; i < n; i++) {
      if (hasNulls && !data.getValid(i)) continue;
      const h = w[i * 2 + 1]!;
      const l = w[i * 2]! >>> 0;
      if (lo < 0) {
        lo = hi = i;
        loH = hiH = h;
        loL = hiL = l;
      } else if (h < loH || (h === loH && l < loL)) {
        lo = i;
        loH = h;
        loL = l;
      } else if (h > hiH || (h === hiH && l > hiL)) {
        hi = i;
        hiH = h;
        hiL = l;
      }
    }
    e = lo < 0 ? null : { lo, hi };
  } else {
    const v = values as unknown as ArrayLike<number>;
    e = extremes(data, (a, b) => v[a]! < v[b]!);
  }
  return e && { lo: rawElement(values, e.lo, width), hi: rawElement(values, e.hi, width), nan: 0 };
}

/** Floats and doubles: NaN is counted, never a bound. */
function floatBounds(data: Data): Bounds | null {
  const n = data.length;
  const t = data.type;
  const values = data.values as Float32Array | Float64Array;
  let nan = 0;
  const hasNulls = data.nullCount > 0;
  for (let i = 0; i < n; i++) if (Number.isNaN(values[i]!) && (!hasNulls || data.getValid(i))) nan++;
  // NaN is neither lower nor upper bound (spec Appendix D): order NaN after everything, skip it below.
  const e = extremes(data, (a, b) => {
    const x = values[a]!;
    const y = values[b]!;
    return x < y || (Number.isNaN(y) && !Number.isNaN(x));
  });
  let lo = e?.lo ?? -1;
  let hi = e?.hi ?? -1;
  if (hi >= 0 && Number.isNaN(values[hi]!)) {
    // The largest index may be NaN (sorted last): find the largest non-NaN value instead.
    hi = -1;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (Number.isNaN(v) || (hasNulls && !data.getValid(i))) continue;
      if (hi < 0 || v > values[hi]!) hi = i;
    }
  }
  if (lo >= 0 && Number.isNaN(values[lo]!)) lo = -1;
  const size = (t as unknown as { precision: number }).precision === 1 ? 4 : 8;
  return lo < 0 || hi < 0 ? { lo: null, hi: null, nan } : { lo: le(values[lo]!, size, true), hi: le(values[hi]!, size, true), nan };
}

/** Booleans from the bit-packed values. */
function boolBounds(data: Data): Bounds | null {
  const n = data.length;
  const bits = data.values as Uint8Array;
  let seenTrue = false;
  let seenFalse = false;
  for (let i = 0; i < n; i++) {
    if (data.nullCount > 0 && !data.getValid(i)) continue;
    const bit = data.offset + i;
    if ((bits[bit >> 3]! >> (bit & 7)) & 1) seenTrue = true;
    else seenFalse = true;
  }
  if (!seenTrue && !seenFalse) return null;
  return { lo: new Uint8Array([seenFalse ? 0 : 1]), hi: new Uint8Array([seenTrue ? 1 : 0]), nan: 0 };
}

/** Decimals as 128-bit two's complement words. */
function decimalBounds(data: Data): Bounds | null {
  const n = data.length;
  // 128-bit two's complement, little-endian words: signed top word, then unsigned words.
  const w = data.values as Uint32Array;
  const hasNulls = data.nullCount > 0;
  const less = (a: number, b: number) => {
    const ha = w[a * 4 + 3]! | 0;
    const hb = w[b * 4 + 3]! | 0;
    if (ha !== hb) return ha < hb;
    for (let k = 2; k >= 0; k--) if (w[a * 4 + k] !== w[b * 4 + k]) return w[a * 4 + k]! < w[b * 4 + k]!;
    return false;
  };
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < n; i++) {
    if (hasNulls && !data.getValid(i)) continue;
    if (lo < 0) lo = hi = i;
    else if (less(i, lo)) lo = i;
    else if (less(hi, i)) hi = i;
  }
  const e = lo < 0 ? null : { lo, hi };
  const value = (i: number) => {
    let v = 0n;
    for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(w[i * 4 + k]!);
    return BigInt.asIntN(128, v);
  };
  return e && { lo: bigIntToBytes(value(e.lo)), hi: bigIntToBytes(value(e.hi)), nan: 0 };
}

/** Strings and binaries in unsigned byte order. */
function byteBounds(data: Data): Bounds | null {
  const n = data.length;
  const t = data.type;
  const bytes = data.values as Uint8Array;
  const width = t.typeId === Type.FixedSizeBinary ? (t as unknown as { byteWidth: number }).byteWidth : 0;
  let offsets = data.valueOffsets as Int32Array | undefined;
  if (!offsets) {
    offsets = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = i * width;
  }
  // One tight loop: this column type dominated the metrics time of a 1M-row append. Order is
  // unsigned bytes (UTF-8 byte order is code point order, as the spec orders strings). Validity
  // is read from the bitmap inline (a getValid call per value cost as much as the comparison).
  let lo = -1;
  let hi = -1;
  const validity = data.nullCount > 0 ? data.nullBitmap : null;
  const bit0 = data.offset;
  for (let i = 0; i < n; i++) {
    if (validity !== null && ((validity[(bit0 + i) >> 3]! >> ((bit0 + i) & 7)) & 1) === 0) continue;
    const s0 = offsets[i]!;
    const e0 = offsets[i + 1]!;
    if (lo < 0) {
      lo = hi = i;
      continue;
    }
    if (compareByteRanges(bytes, s0, e0, offsets[lo]!, offsets[lo + 1]!) < 0) lo = i;
    else if (compareByteRanges(bytes, s0, e0, offsets[hi]!, offsets[hi + 1]!) > 0) hi = i;
  }
  return lo < 0 ? null : { lo: bytes.slice(offsets[lo]!, offsets[lo + 1]!), hi: bytes.slice(offsets[hi]!, offsets[hi + 1]!), nan: 0 };
}

export function computeMetrics(table: Table): FileMetrics {
  return addMetrics(null, table);
}

/**
 * The metrics of a file made of the rows behind `m` (null: none yet) followed by `table`'s rows
 * (same schema): counts add up, bounds widen. A file written in row groups (rolling-file.ts) keeps
 * its metrics this way without holding its rows.
 */
export function addMetrics(m: FileMetrics | null, table: Table): FileMetrics {
  m ??= { recordCount: 0, valueCounts: new Map(), nullValueCounts: new Map(), nanValueCounts: new Map(), lowerBounds: new Map(), upperBounds: new Map() };
  const into = m;
  into.recordCount += table.numRows;
  table.schema.fields.forEach((field, idx) => {
    const id = arrowFieldId(field);
    if (id === null) return;
    const vector = table.getChildAt(idx)!;
    into.valueCounts.set(id, (into.valueCounts.get(id) ?? 0) + vector.length);
    into.nullValueCounts.set(id, (into.nullValueCounts.get(id) ?? 0) + vector.nullCount);
    let lo: Uint8Array | null = into.lowerBounds.get(id) ?? null;
    let hi: Uint8Array | null = into.upperBounds.get(id) ?? null;
    let nan = into.nanValueCounts.get(id) ?? 0;
    const isFloat = field.type.typeId === Type.Float;
    const isBytes = [Type.Utf8, Type.Binary, Type.FixedSizeBinary].includes(field.type.typeId);
    for (const data of vector.data) {
      const b = chunkBounds(data);
      if (!b) continue;
      nan += b.nan;
      if (b.lo === null || b.hi === null) continue;
      // Chunks: combine by decoding order of the encoded bounds (same width per column).
      const cmp = (x: Uint8Array, y: Uint8Array) => (isBytes ? compareBytes(x, y) : compareEncoded(field.type.typeId, x, y));
      if (lo === null || cmp(b.lo, lo) < 0) lo = b.lo;
      if (hi === null || cmp(b.hi, hi) > 0) hi = b.hi;
    }
    if (isFloat) into.nanValueCounts.set(id, nan);
    if (lo && hi) {
      into.lowerBounds.set(id, lo);
      into.upperBounds.set(id, hi);
    }
  });
  return into;
}

function compareEncoded(typeId: Type, a: Uint8Array, b: Uint8Array): number {
  const va = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const vb = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (typeId === Type.Float) return a.length === 4 ? va.getFloat32(0, true) - vb.getFloat32(0, true) : va.getFloat64(0, true) - vb.getFloat64(0, true);
  if (typeId === Type.Decimal || typeId === Type.Bool) {
    const x = a.length === 0 ? 0n : BigInt.asIntN(a.length * 8, BigInt(`0x${Buffer.from(a).toString('hex')}`));
    const y = b.length === 0 ? 0n : BigInt.asIntN(b.length * 8, BigInt(`0x${Buffer.from(b).toString('hex')}`));
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.length === 8) {
    const x = va.getBigInt64(0, true);
    const y = vb.getBigInt64(0, true);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return va.getInt32(0, true) - vb.getInt32(0, true);
}

/**
 * Top-level columns whose values are mostly distinct, from an evenly spaced sample of ≤ 1024 rows.
 * The Parquet writer (arrow-rs in parquet-wasm) dictionary-encodes every column by default and only
 * falls back to plain encoding after its dictionary page overflows: for ids, timestamps, measures
 * that is hashing work thrown away, so it is turned off for them (bench/lake-append.ts; figures in
 * docs/perf-notes.md); low-cardinality columns keep their dictionaries.
 */
export function highCardinalityColumns(table: Table, sampleSize = 1024): string[] {
  const n = table.numRows;
  if (n < 2 * sampleSize) return []; // small files: the default costs nothing worth saving
  const step = Math.floor(n / sampleSize);
  const out: string[] = [];
  table.schema.fields.forEach((field, idx) => {
    const typeId = field.type.typeId;
    if (typeId === Type.Bool) return;
    const seen = new Set<string>();
    let sampled = 0;
    let base = 0;
    for (const data of table.getChildAt(idx)!.data) {
      const first = (step - (base % step)) % step;
      for (let i = first; i < data.length; i += step) {
        if (data.nullCount > 0 && !data.getValid(i)) continue;
        sampled++;
        seen.add(rawKey(data, i));
      }
      base += data.length;
    }
    if (sampled >= 64 && seen.size > sampled / 2) out.push(field.name);
  });
  return out;
}

/** The raw bytes of value i as a string key (any type with a values buffer). */
function rawKey(data: Data, i: number): string {
  const values = data.values as ArrayBufferView | undefined;
  if (!values) return '';
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const offsets = data.valueOffsets as Int32Array | undefined;
  if (offsets) return Buffer.from(bytes.buffer, bytes.byteOffset + offsets[i]!, offsets[i + 1]! - offsets[i]!).toString('latin1');
  const width = values.byteLength / data.length;
  return Buffer.from(bytes.buffer, bytes.byteOffset + i * width, width).toString('latin1');
}

/** Writes Parquet (`codec`, default ZSTD) with the Iceberg schema JSON in the key-value metadata like Java does. */
export function writeParquetBytes(table: Table, icebergSchemaJson?: string, codec: Compression = Compression.ZSTD): Uint8Array {
  const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  return writeParquet(wasm, writerProperties(table, icebergSchemaJson, codec).build());
}

/** `codec` (default ZSTD), no dictionaries for `sample`'s high-cardinality columns, the Iceberg schema in the key-value metadata. */
export function writerProperties(sample: Table, icebergSchemaJson?: string, codec: Compression = Compression.ZSTD): WriterPropertiesBuilder {
  let props = new WriterPropertiesBuilder().setCompression(codec);
  for (const column of highCardinalityColumns(sample)) props = props.setColumnDictionaryEnabled(column, false);
  if (icebergSchemaJson) props = props.setKeyValueMetadata(new Map([['iceberg.schema', icebergSchemaJson]]));
  return props;
}
