import avro from 'avsc';
import { TidemarkError } from '../../errors';

/**
 * Avro object container files (manifest lists and manifests) decoded from bytes, with no Node
 * streams or fs, so the read path runs in the renderer too. avsc decodes the header and every record
 * with the writer's schema; only the container framing (block count, size, sync marker; Avro spec
 * "Object Container Files") is walked here, because avsc's own file decoder is a Node stream.
 * Longs decode as bigint: snapshot ids exceed 2^53.
 */

/** avsc long type that decodes to bigint and accepts bigint or number when encoding. */
export const BIGINT_LONG = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint | number) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => BigInt(v as string),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === 'bigint' || (typeof n === 'number' && Number.isInteger(n)),
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

export function avroType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: BIGINT_LONG }, wrapUnions: false });
}

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
const MAGIC = [0x4f, 0x62, 0x6a, 0x01]; // "Obj\x01"

export interface AvroFile {
  /** Key-value metadata with avro.* keys, decoded as UTF-8 text. */
  metadata: Record<string, string>;
  /** The writer's schema (parsed JSON of avro.schema). */
  schema: unknown;
  records: Record<string, unknown>[];
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Decodes a whole Avro container. `file` names the file in errors (DataInvalid when malformed). */
export async function readAvroFile(bytes: Uint8Array, file: string): Promise<AvroFile> {
  const bad = (what: string, cause?: unknown): never => {
    throw new TidemarkError('DataInvalid', `${file}: expected an Avro object container file: ${what}`, { path: file }, cause);
  };
  if (bytes.length < 4 || MAGIC.some((b, i) => bytes[i] !== b)) bad('bad magic bytes');
  const buf = asBuffer(bytes);
  let header;
  try {
    header = HEADER_TYPE.decode(buf, 0);
  } catch (e) {
    bad('unreadable header', e);
  }
  if (!header || header.offset < 0) return bad('truncated header');
  const { meta, sync } = header.value as { meta: Record<string, Buffer>; sync: Buffer };
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) metadata[k] = v.toString('utf8');
  const codec = metadata['avro.codec'] ?? 'null';
  if (codec !== 'null' && codec !== 'deflate') {
    throw new TidemarkError('Unsupported', `${file}: Avro codec ${codec} is not supported (null, deflate are)`, { path: file });
  }
  let schema: unknown;
  let type: avro.Type;
  try {
    schema = JSON.parse(metadata['avro.schema'] ?? '');
    type = avroType(schema);
  } catch (e) {
    return bad('invalid avro.schema', e);
  }
  const records: Record<string, unknown>[] = [];
  let pos = header.offset;
  while (pos < buf.length) {
    const count = LONG.decode(buf, pos);
    if (count.offset < 0) bad('truncated block header');
    const size = LONG.decode(buf, count.offset);
    if (size.offset < 0) bad('truncated block header');
    // Negative or absurd counts and sizes come only from corrupt files: refuse them before they can
    // move `pos` backwards or drive a loop over billions of records.
    const blockCount = Number(count.value);
    const blockSize = Number(size.value);
    if (!Number.isSafeInteger(blockCount) || blockCount < 0) bad(`negative or huge record count ${count.value} at byte ${pos}`);
    if (!Number.isSafeInteger(blockSize) || blockSize < 0) bad(`negative or huge block size ${size.value} at byte ${pos}`);
    const start = size.offset;
    const end = start + blockSize;
    if (end + 16 > buf.length) bad(`truncated block at byte ${pos}`);
    if (!buf.subarray(end, end + 16).equals(sync)) bad(`sync marker mismatch at byte ${end}`);
    let block = buf.subarray(start, end);
    if (codec === 'deflate') {
      try {
        block = asBuffer(await inflateRaw(block));
      } catch (e) {
        bad(`corrupt deflate block at byte ${start}`, e);
      }
    }
    // A record takes at least one byte in every Iceberg schema: more records than bytes is corrupt.
    if (blockCount > block.length) bad(`block at byte ${start} claims ${blockCount} records in ${block.length} bytes`);
    let p = 0;
    for (let i = 0; i < blockCount; i++) {
      let res;
      try {
        res = type.decode(block, p);
      } catch (e) {
        bad(`corrupt record ${records.length}`, e);
      }
      if (!res || res.offset < 0) bad(`truncated record ${records.length}`);
      records.push(res!.value as Record<string, unknown>);
      p = res!.offset;
    }
    pos = end + 16;
  }
  return { metadata, schema, records };
}
