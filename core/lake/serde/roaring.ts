import { TidemarkError } from '../../errors';

/**
 * Roaring bitmaps in their "portable" serialization (github.com/RoaringBitmap/RoaringFormatSpec):
 * the 32-bit layout (Paimon deletion vectors) and its 64-bit extension (Iceberg v3
 * `deletion-vector-v1` blobs). Decoded by hand: npm's `roaring` is a native Node addon and
 * roaring-wasm is not in the registry here, while the read path must also run in the renderer; a
 * decoder is the small half of the format (array, bitmap and run containers).
 */
const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;

/**
 * Decodes one 32-bit bitmap starting at byte `at`, calling `add` with each value in ascending order.
 * Returns the byte after the bitmap. DataInvalid naming `where` when malformed or cut short.
 */
export function decodeRoaring32(bytes: Uint8Array, at: number, where: string, add: (value: number) => void): number {
  const bad = (what: string): never => {
    throw new TidemarkError('DataInvalid', `${where}: malformed RoaringBitmap: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = at;
  const need = (n: number) => {
    if (pos + n > bytes.length) bad(`truncated at byte ${pos} (needs ${n} more of ${bytes.length})`);
  };
  need(4);
  const cookie = view.getUint32(pos, true);
  pos += 4;
  let size: number;
  let runFlags: Uint8Array | null = null;
  let hasOffsets: boolean;
  if ((cookie & 0xffff) === SERIAL_COOKIE) {
    size = (cookie >>> 16) + 1;
    const n = Math.ceil(size / 8);
    need(n);
    runFlags = bytes.subarray(pos, pos + n);
    pos += n;
    hasOffsets = size >= NO_OFFSET_THRESHOLD;
  } else if (cookie === SERIAL_COOKIE_NO_RUNCONTAINER) {
    need(4);
    size = view.getUint32(pos, true);
    pos += 4;
    hasOffsets = true;
  } else {
    return bad(`unknown cookie ${cookie}`);
  }
  if (size > 65536) bad(`${size} containers`);
  need(size * 4);
  const keys: number[] = [];
  const cards: number[] = [];
  for (let i = 0; i < size; i++) {
    keys.push(view.getUint16(pos, true));
    cards.push(view.getUint16(pos + 2, true) + 1);
    pos += 4;
  }
  if (hasOffsets) {
    need(size * 4);
    pos += size * 4;
  }
  for (let i = 0; i < size; i++) {
    if (i > 0 && keys[i]! <= keys[i - 1]!) bad(`container keys not ascending (${keys[i - 1]} then ${keys[i]})`);
    const high = keys[i]! * 65536;
    const isRun = runFlags !== null && (runFlags[i >> 3]! & (1 << (i & 7))) !== 0;
    if (isRun) {
      need(2);
      const runs = view.getUint16(pos, true);
      pos += 2;
      need(runs * 4);
      for (let r = 0; r < runs; r++) {
        const start = view.getUint16(pos, true);
        const len = view.getUint16(pos + 2, true);
        pos += 4;
        if (start + len > 65535) bad(`run ${start}+${len} past its container`);
        for (let v = start; v <= start + len; v++) add(high + v);
      }
    } else if (cards[i]! > 4096) {
      need(8192);
      for (let w = 0; w < 2048; w++) {
        const word = view.getUint32(pos + w * 4, true);
        if (word === 0) continue;
        for (let b = 0; b < 32; b++) if (word & (1 << b)) add(high + w * 32 + b);
      }
      pos += 8192;
    } else {
      need(cards[i]! * 2);
      for (let k = 0; k < cards[i]!; k++) add(high + view.getUint16(pos + k * 2, true));
      pos += cards[i]! * 2;
    }
  }
  return pos;
}

/** A 32-bit portable bitmap → its set of values. */
export function decodeRoaringBitmap(bytes: Uint8Array, where: string): Set<number> {
  const out = new Set<number>();
  decodeRoaring32(bytes, 0, where, (v) => out.add(v));
  return out;
}

/**
 * The 64-bit portable extension: an 8-byte little-endian count of 32-bit bitmaps, each preceded by
 * its 4-byte little-endian key (the high 32 bits), keys ascending. Values come out ascending as
 * numbers: row positions stay far below 2^53, and a key of 2^21 or more (a position beyond 2^53)
 * is DataInvalid. The bitmap must span `bytes` exactly.
 */
export function decodeRoaring64(bytes: Uint8Array, where: string): number[] {
  if (bytes.length < 8) throw new TidemarkError('DataInvalid', `${where}: malformed 64-bit RoaringBitmap: ${bytes.length} bytes, expected at least 8`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getBigUint64(0, true);
  // Each bitmap takes at least 8 bytes (key + cookie): a larger count is corrupt.
  if (count > BigInt(bytes.length)) throw new TidemarkError('DataInvalid', `${where}: malformed 64-bit RoaringBitmap: ${count} bitmaps in ${bytes.length} bytes`);
  const out: number[] = [];
  let pos = 8;
  let lastKey = -1;
  for (let i = 0; i < Number(count); i++) {
    if (pos + 4 > bytes.length) throw new TidemarkError('DataInvalid', `${where}: malformed 64-bit RoaringBitmap: truncated at bitmap ${i}`);
    const key = view.getUint32(pos, true);
    if (key <= lastKey) throw new TidemarkError('DataInvalid', `${where}: malformed 64-bit RoaringBitmap: keys not ascending (${lastKey} then ${key})`);
    if (key >= 1 << 21) throw new TidemarkError('DataInvalid', `${where}: malformed 64-bit RoaringBitmap: key ${key} makes positions beyond 2^53`);
    lastKey = key;
    const high = key * 4294967296;
    pos = decodeRoaring32(bytes, pos + 4, where, (v) => out.push(high + v));
  }
  if (pos !== bytes.length) throw new TidemarkError('DataInvalid', `${where}: malformed 64-bit RoaringBitmap: ${bytes.length - pos} bytes after the last bitmap`);
  return out;
}
