import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import type { PaimonDeletionVectorRef } from './manifest';

/**
 * Paimon deletion vectors. An index file starts with a version byte (1); each vector sits at the
 * offset the index manifest gives: a 4-byte big-endian length L, then L bytes (a 4-byte big-endian
 * magic number and a 32-bit RoaringBitmap in its portable serialization), then a 4-byte CRC32.
 * The bitmap holds the 0-based positions of deleted rows in the data file.
 */
const BITMAP32_MAGIC = 1581511376;
/** Paimon's 64-bit vectors (`deletion-vectors.bitmap64`) write this magic little-endian. */
const BITMAP64_MAGIC_LE = 1681511377;

/** Reads one deletion vector as the set of deleted row positions. */
export async function readDeletionVector(storage: StoragePort, ref: PaimonDeletionVectorRef): Promise<Set<number>> {
  const where = `${ref.indexFile} at byte ${ref.offset}`;
  let bytes: Uint8Array;
  try {
    bytes = await storage.readRange(ref.indexFile, ref.offset, 4 + ref.length);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') {
      throw new TidemarkError('NotFound', `Paimon deletion-vector index file not found: ${ref.indexFile}`, { path: ref.indexFile }, e);
    }
    throw e;
  }
  const bad = (what: string): never => {
    throw new TidemarkError('DataInvalid', `${where}: malformed deletion vector: ${what}`, { path: ref.indexFile });
  };
  if (bytes.length < 4 + ref.length || ref.length < 4) bad(`expected ${4 + ref.length} bytes, found ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getInt32(0, false);
  if (length !== ref.length) bad(`length prefix ${length} differs from the index manifest's ${ref.length}`);
  const magic = view.getInt32(4, false);
  if (view.getInt32(4, true) === BITMAP64_MAGIC_LE) {
    throw new TidemarkError('Unsupported', `${where}: 64-bit deletion vectors (deletion-vectors.bitmap64) are not supported`, {
      path: ref.indexFile,
      feature: 'deletion-vectors.bitmap64',
    });
  }
  if (magic !== BITMAP32_MAGIC) bad(`magic number ${magic}, expected ${BITMAP32_MAGIC}`);
  const rows = decodeRoaringBitmap(bytes.subarray(8, 4 + ref.length), where);
  if (ref.cardinality !== null && rows.size !== ref.cardinality) bad(`bitmap holds ${rows.size} rows, the index manifest says ${ref.cardinality}`);
  return rows;
}

const SERIAL_COOKIE_NO_RUNCONTAINER = 12346;
const SERIAL_COOKIE = 12347;
const NO_OFFSET_THRESHOLD = 4;

/** RoaringBitmap portable serialization (32-bit) → set of values. */
export function decodeRoaringBitmap(bytes: Uint8Array, where: string): Set<number> {
  const bad = (what: string): never => {
    throw new TidemarkError('DataInvalid', `${where}: malformed RoaringBitmap: ${what}`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) bad(`truncated at byte ${pos} (needs ${n} more of ${bytes.length})`);
  };
  need(4);
  const cookie = view.getUint32(0, true);
  pos = 4;
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
  const out = new Set<number>();
  for (let i = 0; i < size; i++) {
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
        for (let v = start; v <= start + len; v++) out.add(high + v);
      }
    } else if (cards[i]! > 4096) {
      need(8192);
      for (let w = 0; w < 2048; w++) {
        const word = view.getUint32(pos + w * 4, true);
        for (let b = 0; b < 32; b++) if (word & (1 << b)) out.add(high + w * 32 + b);
      }
      pos += 8192;
    } else {
      need(cards[i]! * 2);
      for (let k = 0; k < cards[i]!; k++) out.add(high + view.getUint16(pos + k * 2, true));
      pos += cards[i]! * 2;
    }
  }
  return out;
}
