import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { decodeRoaringBitmap } from '../serde/roaring';
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

/** RoaringBitmap portable serialization (32-bit) → set of values (shared decoder: serde/roaring.ts). */
export { decodeRoaringBitmap };
