import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import { FILE_CONTENT, type DataFile } from './model';
import { crc32 } from './serde/crc32';
import { readPuffinFooter, type PuffinFooter } from './serde/puffin';
import { decodeRoaring64 } from './serde/roaring';

/**
 * Iceberg v3 deletion vectors (spec "Deletion Vectors"; puffin-spec.md `deletion-vector-v1`): a
 * delete manifest entry with file_format PUFFIN points at one blob of a Puffin file by
 * content_offset / content_size_in_bytes and names its data file in referenced_data_file. The rest
 * of the engine sees a DV as what it means: the deleted positions of one data file, exactly like a
 * position delete file's rows for that file. Browser-safe (ranged reads through the storage port).
 */
export const DELETION_VECTOR_BLOB = 'deletion-vector-v1';
/** The blob's magic after its length: D1 D3 39 64. */
const DV_MAGIC = 0xd1d33964;
/** Puffin footers a reader keeps (a few hundred bytes of JSON per DV); the oldest go beyond. */
const MAX_FOOTERS = 1024;

/** A delete file (planned or in a manifest) that is a deletion vector rather than a delete file. */
export function isDeletionVector(d: { content: number; dataFile: DataFile }): boolean {
  return d.content === FILE_CONTENT.positionDeletes && d.dataFile.fileFormat.toUpperCase() === 'PUFFIN';
}

/**
 * A key naming one delete: its path, plus the blob offset for a DV (one Puffin file holds the
 * vectors of many data files, each its own manifest entry).
 */
export function deleteFileKey(d: { path: string; content: number; dataFile: DataFile }): string {
  return isDeletionVector(d) ? `${d.path}#${d.dataFile.contentOffset ?? ''}` : d.path;
}

export interface DeletionVector {
  /** The data file it applies to, as written in the manifest (referenced_data_file). */
  referencedDataFile: string;
  /** Deleted row positions, ascending. */
  positions: number[];
}

/** A planned DV: the local path of its Puffin file, its manifest entry, its size. */
export interface DeletionVectorRef {
  path: string;
  content: number;
  dataFile: DataFile;
}

/**
 * Reads deletion vectors, checking each against its Puffin file's footer (read once per file):
 * the blob must be listed there with the same offset, length and type (spec: content_offset and
 * content_size_in_bytes "must exactly match"). Then the blob's length, magic and CRC-32 are checked
 * and its 64-bit portable Roaring bitmap decoded. Every failure names the Puffin file.
 */
export class DeletionVectorReader {
  private readonly footers = new Map<string, Promise<PuffinFooter>>();
  constructor(private readonly storage: StoragePort) {}

  async read(d: DeletionVectorRef): Promise<DeletionVector> {
    const df = d.dataFile;
    const path = d.path;
    const bad = (what: string): never => {
      throw new TidemarkError('DataInvalid', `${path}: deletion vector${df.contentOffset !== null && df.contentOffset !== undefined ? ` at byte ${df.contentOffset}` : ''}: ${what}`, { path });
    };
    const offset = df.contentOffset ?? null;
    const size = df.contentSizeInBytes ?? null;
    if (df.referencedDataFile === null) bad('the manifest entry has no referenced_data_file (field 143)');
    if (offset === null || size === null) bad('the manifest entry lacks content_offset / content_size_in_bytes (fields 144, 145)');
    if (size! < 12) bad(`content_size_in_bytes ${size} is smaller than a blob's length, magic and CRC (12 bytes)`);
    let footer = this.footers.get(path);
    if (!footer) {
      footer = readPuffinFooter(this.storage, path, df.fileSizeInBytes).catch((e: unknown) => {
        if (e instanceof TidemarkError && e.code === 'NotFound') throw new TidemarkError('NotFound', `deletion vector file not found: ${path}`, { path }, e);
        throw e;
      });
      this.footers.set(path, footer);
      footer.catch(() => this.footers.delete(path));
      if (this.footers.size > MAX_FOOTERS) this.footers.delete(this.footers.keys().next().value!);
    }
    const blob = (await footer).blobs.find((b) => b.offset === offset && b.length === size);
    if (!blob) bad(`no blob of ${size} bytes at byte ${offset} in the Puffin footer`);
    if (blob!.type !== DELETION_VECTOR_BLOB) bad(`the blob is a ${blob!.type}, expected ${DELETION_VECTOR_BLOB}`);
    if (blob!.compressionCodec !== null) bad(`the blob is compressed (${blob!.compressionCodec}); ${DELETION_VECTOR_BLOB} never is`);
    const bytes = await this.storage.readRange(path, offset!, size!);
    if (bytes.length !== size) bad(`expected ${size} bytes, read ${bytes.length}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Length (big-endian) counts the magic and the vector, not itself nor the CRC.
    const length = view.getUint32(0, false);
    if (length !== size! - 8) bad(`length field ${length}, expected ${size! - 8} (content_size_in_bytes − 8)`);
    const magic = view.getUint32(4, false);
    if (magic !== DV_MAGIC) bad(`magic ${magic.toString(16)}, expected d1d33964`);
    const stored = view.getUint32(size! - 4, false);
    const computed = crc32(bytes.subarray(4, size! - 4));
    if (stored !== computed) bad(`CRC-32 ${computed.toString(16)} differs from the stored ${stored.toString(16)}`);
    const positions = decodeRoaring64(bytes.subarray(8, size! - 4), `${path}: deletion vector at byte ${offset}`);
    const named = blob!.properties['referenced-data-file'];
    if (named !== undefined && named !== df.referencedDataFile) bad(`the blob is for ${named}, the manifest entry says ${df.referencedDataFile}`);
    const cardinality = blob!.properties.cardinality;
    if (cardinality !== undefined && Number(cardinality) !== positions.length) bad(`holds ${positions.length} positions, its blob properties say cardinality ${cardinality}`);
    if (df.recordCount !== positions.length) bad(`holds ${positions.length} positions, its manifest entry says record_count ${df.recordCount}`);
    return { referencedDataFile: df.referencedDataFile!, positions };
  }
}
