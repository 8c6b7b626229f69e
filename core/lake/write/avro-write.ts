import avro from 'avsc';
import { Writable } from 'node:stream';
import { deflateRaw } from 'node:zlib';
import { BIGINT_LONG } from '../serde/avro';

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

/** The bigint-safe long, for building raw schemas. */
export const LONG = BIGINT_LONG;
