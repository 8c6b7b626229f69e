import avro from 'avsc';
import { decompress as zstdDecompress } from 'fzstd';
import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { avroType } from '../serde/avro';

/**
 * Avro object container files as Paimon writes them (manifest lists, manifests, index manifests).
 * Paimon's default `manifest.compression` is zstd, which Avro spells `zstandard`: the Iceberg reader
 * in serde/avro.ts knows only null and deflate, so the container framing (Avro spec "Object Container
 * Files") is walked here with the three codecs Paimon tables use. Records decode with the writer's
 * schema; longs as bigint. Tables with `manifest.format = orc` write ORC manifests instead: those
 * are read by ./orc (manifest-file.ts picks the decoder by magic bytes).
 */

const HEADER_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const LONG = avro.Type.forSchema('long');
const AVRO_MAGIC = [0x4f, 0x62, 0x6a, 0x01]; // "Obj\x01"
const ORC_MAGIC = [0x4f, 0x52, 0x43]; // "ORC"

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

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
  const bad = (what: string, cause?: unknown): never => {
    throw new TidemarkError('DataInvalid', `${file}: expected an Avro object container file: ${what}`, { path: file }, cause);
  };
  if (bytes.length >= 3 && ORC_MAGIC.every((b, i) => bytes[i] === b)) {
    bad('this is an ORC file (decode it with decodeOrcRecords)');
  }
  if (bytes.length < 4 || AVRO_MAGIC.some((b, i) => bytes[i] !== b)) bad('bad magic bytes');
  const buf = asBuffer(bytes);
  let header: { value: unknown; offset: number } | undefined;
  try {
    header = HEADER_TYPE.decode(buf, 0);
  } catch (e) {
    bad('unreadable header', e);
  }
  if (!header || header.offset < 0) return bad('truncated header');
  const { meta, sync } = header.value as { meta: Record<string, Buffer>; sync: Buffer };
  const codec = meta['avro.codec']?.toString('utf8') ?? 'null';
  if (codec !== 'null' && codec !== 'deflate' && codec !== 'zstandard') {
    throw new TidemarkError('Unsupported', `${file}: Avro codec ${codec} is not supported (null, deflate, zstandard are)`, {
      path: file,
      feature: `avro.codec=${codec}`,
    });
  }
  let type: avro.Type;
  try {
    type = avroType(JSON.parse(meta['avro.schema']?.toString('utf8') ?? ''));
  } catch (e) {
    return bad('invalid avro.schema', e);
  }
  const records: Record<string, unknown>[] = [];
  let pos = header.offset;
  while (pos < buf.length) {
    const count = LONG.decode(buf, pos);
    if (count.offset < 0) bad(`truncated block header at byte ${pos}`);
    const size = LONG.decode(buf, count.offset);
    if (size.offset < 0) bad(`truncated block header at byte ${pos}`);
    const start = size.offset;
    const end = start + Number(size.value);
    if (Number(size.value) < 0 || end + 16 > buf.length) bad(`truncated block at byte ${pos}`);
    if (!buf.subarray(end, end + 16).equals(sync)) bad(`sync marker mismatch at byte ${end}`);
    let block: Buffer = buf.subarray(start, end);
    try {
      if (codec === 'deflate') block = asBuffer(await inflateRaw(block));
      else if (codec === 'zstandard') block = asBuffer(zstdDecompress(block));
    } catch (e) {
      bad(`corrupt ${codec} block at byte ${start}`, e);
    }
    let p = 0;
    for (let i = 0; i < Number(count.value); i++) {
      let res: { value: unknown; offset: number } | undefined;
      try {
        res = type.decode(block, p);
      } catch (e) {
        bad(`corrupt record ${records.length}`, e);
      }
      if (!res || res.offset < 0) return bad(`truncated record ${records.length}`);
      records.push(res.value as Record<string, unknown>);
      p = res.offset;
    }
    pos = end + 16;
  }
  return records;
}

/** Reads and decodes an Avro container through the port. */
export async function readAvroRecords(storage: StoragePort, path: string, what: string): Promise<Record<string, unknown>[]> {
  return decodeAvroRecords(await readPaimonFile(storage, path, what), path);
}
