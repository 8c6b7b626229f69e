import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { readAvroFile } from '../serde/avro';

/**
 * Avro object container files as Paimon writes them (manifest lists, manifests, index manifests),
 * decoded by the one browser-safe container reader in serde/avro.ts (which also knows Paimon's
 * default `manifest.compression`, zstd, spelled `zstandard` in Avro). Tables with
 * `manifest.format = orc` write ORC manifests instead: those are read by ./orc (manifest-file.ts
 * picks the decoder by magic bytes).
 */

const ORC_MAGIC = [0x4f, 0x52, 0x43]; // "ORC"

/** Reads a file through the port; a missing file is NotFound naming `what` and the path. */
export async function readPaimonFile(storage: StoragePort, path: string, what: string): Promise<Uint8Array> {
  try {
    return await storage.readFile(path);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') {
      throw new TidemarkError('NotFound', `Paimon ${what} not found: ${path}`, { path }, e);
    }
    throw e;
  }
}

/** Decodes every record of an Avro container. `file` names the file in errors. */
export async function decodeAvroRecords(bytes: Uint8Array, file: string): Promise<Record<string, unknown>[]> {
  if (bytes.length >= 3 && ORC_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new TidemarkError('DataInvalid', `${file}: expected an Avro object container file: this is an ORC file (decode it with decodeOrcRecords)`, { path: file });
  }
  return (await readAvroFile(bytes, file)).records;
}

/** Reads and decodes an Avro container through the port. */
export async function readAvroRecords(storage: StoragePort, path: string, what: string): Promise<Record<string, unknown>[]> {
  return decodeAvroRecords(await readPaimonFile(storage, path, what), path);
}
