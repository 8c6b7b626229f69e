import { crc32 } from '../../serde/crc32';

/**
 * Paimon deletion-vector index files, write side (the layout ../deletion-vector.ts reads): a
 * version byte 1, then per data file a 4-byte big-endian length L, L bytes (the 4-byte big-endian
 * magic 1581511376 and a 32-bit RoaringBitmap in its portable serialization) and the CRC-32 of
 * those L bytes. Hand-written: the npm Roaring packages are native add-ons or wasm builds for
 * in-memory sets; the portable format for sorted positions is ~30 lines.
 */

const BITMAP32_MAGIC = 1581511376;
const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;

/** RoaringBitmap portable serialization (no run containers) of ascending unique 32-bit values. */
export function encodeRoaring32(values: number[]): Uint8Array {
  const containers = new Map<number, number[]>();
  for (const v of values) {
    const hi = v >>> 16;
    let c = containers.get(hi);
    if (!c) containers.set(hi, (c = []));
    c.push(v & 0xffff);
  }
  const keys = [...containers.keys()].sort((a, b) => a - b);
  const bodies = keys.map((k) => {
    const lows = containers.get(k)!.sort((a, b) => a - b);
    if (lows.length <= 4096) {
      const out = new Uint8Array(lows.length * 2);
      const dv = new DataView(out.buffer);
      lows.forEach((x, i) => dv.setUint16(i * 2, x, true));
      return out;
    }
    const bits = new Uint8Array(8192);
    for (const x of lows) bits[x >> 3]! |= 1 << (x & 7);
    return bits;
  });
  const headerSize = 8 + keys.length * 4 + keys.length * 4;
  const out = new Uint8Array(headerSize + bodies.reduce((n, b) => n + b.length, 0));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, SERIAL_COOKIE_NO_RUNCONTAINER, true);
  dv.setUint32(4, keys.length, true);
  let offset = headerSize;
  keys.forEach((k, i) => {
    dv.setUint16(8 + i * 4, k, true);
    dv.setUint16(10 + i * 4, containers.get(k)!.length - 1, true);
    dv.setUint32(8 + keys.length * 4 + i * 4, offset, true);
    out.set(bodies[i]!, offset);
    offset += bodies[i]!.length;
  });
  return out;
}

export interface DeletionVectorRange {
  /** Data file name. */
  f0: string;
  /** Offset of the vector's length prefix in the index file. */
  f1: number;
  /** Serialized length (magic + bitmap). */
  f2: number;
  _CARDINALITY: bigint;
}

/** An index file holding one vector per data file (positions deleted in it, non-empty sets). */
export function encodeDeletionVectorIndexFile(vectors: { fileName: string; positions: number[] }[]): { bytes: Uint8Array; ranges: DeletionVectorRange[] } {
  const parts: Uint8Array[] = [new Uint8Array([1])];
  const ranges: DeletionVectorRange[] = [];
  let at = 1;
  for (const v of vectors) {
    const bitmap = encodeRoaring32([...new Set(v.positions)].sort((a, b) => a - b));
    const body = new Uint8Array(4 + bitmap.length);
    new DataView(body.buffer).setInt32(0, BITMAP32_MAGIC, false);
    body.set(bitmap, 4);
    const framed = new Uint8Array(8 + body.length);
    const dv = new DataView(framed.buffer);
    dv.setInt32(0, body.length, false);
    framed.set(body, 4);
    dv.setUint32(4 + body.length, crc32(body) >>> 0, false);
    ranges.push({ f0: v.fileName, f1: at, f2: body.length, _CARDINALITY: BigInt(new Set(v.positions).size) });
    parts.push(framed);
    at += framed.length;
  }
  const bytes = new Uint8Array(at);
  let p = 0;
  for (const part of parts) {
    bytes.set(part, p);
    p += part.length;
  }
  return { bytes, ranges };
}
