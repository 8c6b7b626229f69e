import { Type, tableToIPC, type Data, type Table } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { arrowFieldId } from '../arrow-values';
import { bigIntToBytes } from '../values';

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

/** min/max of one column chunk; null when every value is null. */
function chunkBounds(data: Data): { lo: Uint8Array; hi: Uint8Array; nan: number } | null {
  const n = data.length;
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  const t = data.type;
  const values = data.values as unknown as ArrayLike<number | bigint>;
  switch (t.typeId) {
    case Type.Int:
    case Type.Date:
    case Type.Time:
    case Type.Timestamp: {
      let lo: number | bigint | null = null;
      let hi: number | bigint | null = null;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const v = values[i]!;
        if (lo === null || v < lo) lo = v;
        if (hi === null || v > hi) hi = v;
      }
      if (lo === null || hi === null) return null;
      const size = typeof lo === 'bigint' ? 8 : 4;
      return { lo: le(lo, size), hi: le(hi, size), nan: 0 };
    }
    case Type.Float: {
      let lo: number | null = null;
      let hi: number | null = null;
      let nan = 0;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const v = values[i] as number;
        if (Number.isNaN(v)) {
          nan++;
          continue;
        }
        if (lo === null || v < lo) lo = v;
        if (hi === null || v > hi) hi = v;
      }
      const size = (t as unknown as { precision: number }).precision === 1 ? 4 : 8;
      return lo === null || hi === null ? { lo: new Uint8Array(), hi: new Uint8Array(), nan } : { lo: le(lo, size, true), hi: le(hi, size, true), nan };
    }
    case Type.Bool: {
      const bits = data.values as Uint8Array;
      let seenTrue = false;
      let seenFalse = false;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        if ((bits[i >> 3]! >> (i & 7)) & 1) seenTrue = true;
        else seenFalse = true;
      }
      if (!seenTrue && !seenFalse) return null;
      return { lo: new Uint8Array([seenFalse ? 0 : 1]), hi: new Uint8Array([seenTrue ? 1 : 0]), nan: 0 };
    }
    case Type.Decimal: {
      const words = data.values as Uint32Array;
      let lo: bigint | null = null;
      let hi: bigint | null = null;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        let v = 0n;
        for (let w = 3; w >= 0; w--) v = (v << 32n) | BigInt(words[i * 4 + w]!);
        v = BigInt.asIntN(128, v);
        if (lo === null || v < lo) lo = v;
        if (hi === null || v > hi) hi = v;
      }
      return lo === null || hi === null ? null : { lo: bigIntToBytes(lo), hi: bigIntToBytes(hi), nan: 0 };
    }
    case Type.Utf8:
    case Type.Binary:
    case Type.FixedSizeBinary: {
      const bytes = data.values as Uint8Array;
      const offsets = data.valueOffsets as Int32Array | undefined;
      const width = t.typeId === Type.FixedSizeBinary ? (t as unknown as { byteWidth: number }).byteWidth : 0;
      const slice = (i: number) => (offsets ? bytes.subarray(offsets[i]!, offsets[i + 1]!) : bytes.subarray(i * width, (i + 1) * width));
      let lo: Uint8Array | null = null;
      let hi: Uint8Array | null = null;
      for (let i = 0; i < n; i++) {
        if (!valid(i)) continue;
        const v = slice(i);
        if (lo === null || compareBytes(v, lo) < 0) lo = v;
        if (hi === null || compareBytes(v, hi) > 0) hi = v;
      }
      return lo === null || hi === null ? null : { lo: new Uint8Array(lo), hi: new Uint8Array(hi), nan: 0 };
    }
  }
  return null;
}

export function computeMetrics(table: Table): FileMetrics {
  const m: FileMetrics = { recordCount: table.numRows, valueCounts: new Map(), nullValueCounts: new Map(), nanValueCounts: new Map(), lowerBounds: new Map(), upperBounds: new Map() };
  table.schema.fields.forEach((field, idx) => {
    const id = arrowFieldId(field);
    if (id === null) return;
    const vector = table.getChildAt(idx)!;
    m.valueCounts.set(id, vector.length);
    m.nullValueCounts.set(id, vector.nullCount);
    let lo: Uint8Array | null = null;
    let hi: Uint8Array | null = null;
    let nan = 0;
    const isFloat = field.type.typeId === Type.Float;
    const isBytes = [Type.Utf8, Type.Binary, Type.FixedSizeBinary].includes(field.type.typeId);
    for (const data of vector.data) {
      const b = chunkBounds(data);
      if (!b) continue;
      nan += b.nan;
      if (b.lo.length === 0) continue;
      // Chunks: combine by decoding order of the encoded bounds (same width per column).
      const cmp = (x: Uint8Array, y: Uint8Array) => (isBytes ? compareBytes(x, y) : compareEncoded(field.type.typeId, x, y));
      if (lo === null || cmp(b.lo, lo) < 0) lo = b.lo;
      if (hi === null || cmp(b.hi, hi) > 0) hi = b.hi;
    }
    if (isFloat) m.nanValueCounts.set(id, nan);
    if (lo && hi) {
      m.lowerBounds.set(id, lo);
      m.upperBounds.set(id, hi);
    }
  });
  return m;
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

/** Writes Parquet (ZSTD) with the Iceberg schema JSON in the key-value metadata like Java does. */
export function writeParquetBytes(table: Table, icebergSchemaJson?: string): Uint8Array {
  const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  let props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD);
  if (icebergSchemaJson) props = props.setKeyValueMetadata(new Map([['iceberg.schema', icebergSchemaJson]]));
  return writeParquet(wasm, props.build());
}
