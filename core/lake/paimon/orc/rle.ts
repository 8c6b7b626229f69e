/**
 * ORC's run-length encodings (ORC Specification v1, "Run Length Encoding"): byte RLE, boolean RLE
 * (byte RLE over bits, most significant first) and integer RLE versions 1 and 2. Integers decode as
 * bigint: ORC longs use all 64 bits, and manifests are small enough that speed does not matter.
 * Every decoder reads exactly `count` values and fails on a stream that ends early.
 */
import { OrcFormatError } from './errors';
import { readVarint } from './protobuf';

function need(bytes: Uint8Array, pos: number, n: number, where: string): void {
  if (pos + n > bytes.length) throw new OrcFormatError(`${where}: stream ends at byte ${bytes.length}, a run needs ${pos + n}`);
}

/** Byte RLE: a control byte 0..127 is a run of control + 3 copies, 128..255 is 256 - control literals. */
export function decodeByteRle(bytes: Uint8Array, count: number, where: string): Uint8Array {
  // Sized by what the stream can hold (130 values per 2 bytes), not by a count read from the file.
  const out = new Uint8Array(Math.min(count, 65 * bytes.length + 130));
  let n = 0;
  let pos = 0;
  while (n < count) {
    need(bytes, pos, 1, where);
    if (n >= out.length) throw new OrcFormatError(`${where}: ${count} values cannot fit a ${bytes.length}-byte stream`);
    const h = bytes[pos++]!;
    if (h < 128) {
      need(bytes, pos, 1, where);
      const len = h + 3;
      const v = bytes[pos++]!;
      for (let i = 0; i < len && n < count; i++) out[n++] = v;
    } else {
      const len = 256 - h;
      need(bytes, pos, len, where);
      for (let i = 0; i < len && n < count; i++) out[n++] = bytes[pos + i]!;
      pos += len;
    }
  }
  return out;
}

/** Boolean RLE: `count` bits, most significant bit of each byte first. */
export function decodeBooleanRle(bytes: Uint8Array, count: number, where: string): boolean[] {
  const packed = decodeByteRle(bytes, Math.ceil(count / 8), where);
  const out: boolean[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = ((packed[i >> 3]! >> (7 - (i & 7))) & 1) === 1;
  return out;
}

const zigzag = (u: bigint): bigint => (u >> 1n) ^ -(u & 1n);

/** Integer RLE v1: runs (control 0..127: length - 3, signed delta byte, varint base) and varint literals. */
export function decodeIntRleV1(bytes: Uint8Array, count: number, signed: boolean, where: string): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  const varint = (): bigint => {
    const [u, next] = readVarint(bytes, pos, where);
    pos = next;
    return signed ? zigzag(u) : u;
  };
  while (out.length < count) {
    need(bytes, pos, 1, where);
    const h = bytes[pos++]!;
    if (h < 128) {
      need(bytes, pos, 1, where);
      const delta = BigInt((bytes[pos++]! << 24) >> 24);
      const base = varint();
      for (let i = 0; i < h + 3 && out.length < count; i++) out.push(base + BigInt(i) * delta);
    } else {
      for (let i = 0; i < 256 - h && out.length < count; i++) out.push(varint());
    }
  }
  return out;
}

/** The 5-bit width code of RLE v2 → bits (the spec's "5 bit width encoding table"). */
function decodeWidth(code: number): number {
  if (code <= 23) return code + 1;
  return [26, 28, 30, 32, 40, 48, 56, 64][code - 24]!;
}

/** The width a writer rounds a patch entry (gap + patch bits) up to. */
function closestFixedBits(n: number): number {
  if (n === 0) return 1;
  if (n <= 24) return n;
  for (const w of [26, 28, 30, 32, 40, 48, 56, 64]) if (n <= w) return w;
  return 64;
}

/** Reads `len` big-endian bit-packed unsigned values of `width` bits from `pos`; returns them and the byte after the padding. */
function unpack(bytes: Uint8Array, pos: number, len: number, width: number, where: string): [bigint[], number] {
  const totalBits = len * width;
  need(bytes, pos, Math.ceil(totalBits / 8), where);
  const out: bigint[] = new Array(len);
  let bit = pos * 8;
  for (let i = 0; i < len; i++) {
    let v = 0n;
    let remaining = width;
    while (remaining > 0) {
      const byte = bytes[bit >> 3]!;
      const offset = bit & 7;
      const take = Math.min(8 - offset, remaining);
      const chunk = (byte >> (8 - offset - take)) & ((1 << take) - 1);
      v = (v << BigInt(take)) | BigInt(chunk);
      remaining -= take;
      bit += take;
    }
    out[i] = v;
  }
  return [out, pos + Math.ceil(totalBits / 8)];
}

/**
 * Integer RLE v2: short repeat, direct, patched base and delta sub-encodings, chosen per run by the
 * top two bits of the first header byte. Signed streams zigzag-encode every value except patched
 * base, whose base is sign-magnitude and whose data are unsigned offsets from it.
 */
export function decodeIntRleV2(bytes: Uint8Array, count: number, signed: boolean, where: string): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  const sign = (u: bigint) => (signed ? zigzag(u) : u);
  while (out.length < count) {
    need(bytes, pos, 1, where);
    const h = bytes[pos]!;
    const kind = h >> 6;
    if (kind === 0) {
      // Short repeat: 3 bits width in bytes - 1, 3 bits count - 3, then the value big-endian.
      const width = ((h >> 3) & 7) + 1;
      const repeat = (h & 7) + 3;
      need(bytes, pos + 1, width, where);
      let v = 0n;
      for (let i = 0; i < width; i++) v = (v << 8n) | BigInt(bytes[pos + 1 + i]!);
      pos += 1 + width;
      const value = sign(v);
      for (let i = 0; i < repeat; i++) out.push(value);
      continue;
    }
    need(bytes, pos, 2, where);
    const len = (((h & 1) << 8) | bytes[pos + 1]!) + 1;
    const widthCode = (h >> 1) & 0x1f;
    if (kind === 1) {
      // Direct: `len` values of a fixed width.
      const [values, next] = unpack(bytes, pos + 2, len, decodeWidth(widthCode), where);
      pos = next;
      for (const v of values) out.push(sign(v));
    } else if (kind === 2) {
      // Patched base: base + W-bit offsets, with the high bits of outliers patched in from a gap list.
      need(bytes, pos, 4, where);
      const width = decodeWidth(widthCode);
      const baseBytes = ((bytes[pos + 2]! >> 5) & 7) + 1;
      const patchWidth = decodeWidth(bytes[pos + 2]! & 0x1f);
      const gapWidth = ((bytes[pos + 3]! >> 5) & 7) + 1;
      const patchCount = bytes[pos + 3]! & 0x1f;
      pos += 4;
      need(bytes, pos, baseBytes, where);
      let base = 0n;
      for (let i = 0; i < baseBytes; i++) base = (base << 8n) | BigInt(bytes[pos + i]!);
      pos += baseBytes;
      const signBit = 1n << BigInt(baseBytes * 8 - 1);
      if (base & signBit) base = -(base & ~signBit);
      const [values, afterData] = unpack(bytes, pos, len, width, where);
      const entryWidth = closestFixedBits(gapWidth + patchWidth);
      if (gapWidth + patchWidth > 64) throw new OrcFormatError(`${where}: patch entries of ${gapWidth + patchWidth} bits exceed 64`);
      const [patches, afterPatches] = unpack(bytes, afterData, patchCount, entryWidth, where);
      pos = afterPatches;
      const patchMask = (1n << BigInt(patchWidth)) - 1n;
      let index = 0;
      for (const entry of patches) {
        // A gap of 255 with a zero patch only skips ahead (gaps longer than 255 values).
        index += Number(entry >> BigInt(patchWidth));
        const patch = entry & patchMask;
        if (patch === 0n) continue;
        if (index >= len) throw new OrcFormatError(`${where}: patch at value ${index} of a ${len}-value run`);
        values[index] = values[index]! | (patch << BigInt(width));
      }
      for (const v of values) out.push(base + v);
    } else {
      // Delta: varint base, signed varint first delta, then len - 2 W-bit deltas in that direction.
      pos += 2;
      const [rawBase, p1] = readVarint(bytes, pos, where);
      const [rawDelta, p2] = readVarint(bytes, p1, where);
      pos = p2;
      const base = sign(rawBase);
      const delta = zigzag(rawDelta);
      out.push(base);
      if (widthCode === 0) {
        for (let i = 1; i < len; i++) out.push(base + BigInt(i) * delta);
      } else {
        let v = base + delta;
        if (len > 1) out.push(v);
        const [deltas, next] = unpack(bytes, pos, Math.max(0, len - 2), decodeWidth(widthCode), where);
        pos = next;
        for (const d of deltas) {
          v = delta < 0n ? v - d : v + d;
          out.push(v);
        }
      }
    }
  }
  // Runs do not straddle value counts in well-formed streams; trim if a writer padded one.
  return out.length > count ? out.slice(0, count) : out;
}

/** Integer RLE of the given version (1 for DIRECT / DICTIONARY, 2 for the _V2 encodings). */
export function decodeIntRle(bytes: Uint8Array, count: number, signed: boolean, version: 1 | 2, where: string): bigint[] {
  return version === 1 ? decodeIntRleV1(bytes, count, signed, where) : decodeIntRleV2(bytes, count, signed, where);
}
