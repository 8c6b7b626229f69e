import type { StoragePort } from '../../storage';
import { decodeAvroRecords, readPaimonFile } from './avro-container';
import { decodeOrcRecords, isOrcMagic } from './orc';

/**
 * Reads a manifest list, manifest or index manifest in either of Paimon's manifest formats. The
 * format is told by the file's magic bytes ("ORC" / "Obj\x01"), not by the table's
 * `manifest.format` option: that option can be altered, and manifests written before keep their
 * format. Both decoders give records with the same JS values (longs as bigint, bytes as Uint8Array).
 */
export async function readManifestRecords(storage: StoragePort, path: string, what: string): Promise<Record<string, unknown>[]> {
  const bytes = await readPaimonFile(storage, path, what);
  return isOrcMagic(bytes) ? decodeOrcRecords(bytes, path) : decodeAvroRecords(bytes, path);
}
