import avro from 'avsc';
import { Writable } from 'node:stream';
import { deflateRaw } from 'node:zlib';

/**
 * Writes an Avro object container (Node only). The schema is passed to avsc's BlockEncoder as a
 * raw object so its `field-id` attributes reach the file header (a `Type` would drop them); longs
 * are our bigint long Type embedded in that object (avsc serializes it as "long"). We await the
 * collecting stream's 'finish' (the encoder's own 'finish' fires before the last block is out).
 */
// writeHeader 'always': avsc's default writes the header only with the first record, so a file
// without records (an empty manifest list after compacting an empty table) came out as 0 bytes.
export async function writeAvroFile(schema: object, records: unknown[], metadata: Record<string, string>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  const meta: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = Buffer.from(v, 'utf8');
  const encoder = new avro.streams.BlockEncoder(schema as avro.Schema, { codec: 'deflate', codecs: { deflate: deflateRaw }, metadata: meta, writeHeader: 'always' } as never);
  const done = new Promise<void>((resolve, reject) => {
    sink.on('finish', resolve);
    sink.on('error', reject);
    encoder.on('error', reject);
  });
  encoder.pipe(sink);
  for (const r of records) encoder.write(r);
  encoder.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

/** avsc long type that encodes bigint or number (snapshot ids exceed 2^53); the bigint-safe long for raw schemas. */
export const LONG = avro.types.LongType.__with({
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
