import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { parseJsonBigint } from './json';

/**
 * Puffin files (Iceberg puffin-spec.md, version 1): `Magic Blob₁ … Blobₙ Footer`, the footer being
 * `Magic FooterPayload FooterPayloadSize Flags Magic` with a UTF-8 JSON payload (FileMetadata) that
 * lists each blob's type, offset and length. Read by ranged reads through the storage port: the
 * head magic and the footer, never the blobs of other files' deletion vectors. Browser-safe.
 */
export const PUFFIN_MAGIC = new Uint8Array([0x50, 0x46, 0x41, 0x31]); // "PFA1"

export interface PuffinBlobMetadata {
  type: string;
  fields: number[];
  offset: number;
  length: number;
  compressionCodec: string | null;
  properties: Record<string, string>;
}

export interface PuffinFooter {
  blobs: PuffinBlobMetadata[];
  properties: Record<string, string>;
}

function sameMagic(bytes: Uint8Array, at: number): boolean {
  return PUFFIN_MAGIC.every((b, i) => bytes[at + i] === b);
}

/**
 * Reads and checks a Puffin file's head magic and footer. `size` is the file's length in bytes (as
 * the manifest records it). DataInvalid names the file when it is not a Puffin file; Unsupported
 * when the footer payload is compressed (LZ4; no writer we know of does it).
 */
export async function readPuffinFooter(storage: StoragePort, path: string, size: number): Promise<PuffinFooter> {
  const bad = (what: string): never => {
    throw new TidemarkError('DataInvalid', `${path}: expected a Puffin file: ${what}`, { path });
  };
  // Smallest file: head magic + footer magic + empty payload + size + flags + magic.
  if (size < 4 + 4 + 4 + 4 + 4) bad(`${size} bytes is shorter than a Puffin file's magic and footer`);
  const head = await storage.readRange(path, 0, 4);
  if (head.length < 4 || !sameMagic(head, 0)) bad(`no PFA1 magic at byte 0 (found ${Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
  const tail = await storage.readRange(path, size - 12, 12);
  if (tail.length < 12) bad(`file shorter than the ${size} bytes its manifest entry says`);
  if (!sameMagic(tail, 8)) bad('no PFA1 magic at the end of the file');
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  const payloadSize = view.getInt32(0, true);
  const flags = view.getUint8(4);
  const footerStart = size - 12 - payloadSize - 4;
  if (payloadSize < 0 || footerStart < 4) bad(`footer payload size ${payloadSize} does not fit in ${size} bytes`);
  if (flags & 1) {
    throw new TidemarkError('Unsupported', `${path}: Puffin files with a compressed (LZ4) footer are not supported`, { path, feature: 'puffin compressed footer' });
  }
  const footer = await storage.readRange(path, footerStart, 4 + payloadSize);
  if (!sameMagic(footer, 0)) bad(`no PFA1 magic at the footer start (byte ${footerStart})`);
  let raw: unknown;
  try {
    raw = parseJsonBigint(new TextDecoder('utf-8', { fatal: true }).decode(footer.subarray(4)));
  } catch (e) {
    return bad(`footer payload is not UTF-8 JSON: ${(e as Error).message}`);
  }
  const o = raw as Record<string, unknown> | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.blobs)) return bad('footer payload without a "blobs" list');
  const str = (v: unknown): Record<string, string> =>
    v && typeof v === 'object' ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)])) : {};
  const blobs = o.blobs.map((b: unknown, i): PuffinBlobMetadata => {
    const bo = b as Record<string, unknown> | null;
    const offset = Number(bo?.offset);
    const length = Number(bo?.length);
    if (!bo || typeof bo.type !== 'string' || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 4 || length < 0 || offset + length > footerStart) {
      return bad(`blobs[${i}]: expected type, offset and length inside the blob area, found ${JSON.stringify(bo, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))?.slice(0, 120)}`);
    }
    return {
      type: bo.type,
      fields: Array.isArray(bo.fields) ? bo.fields.map(Number) : [],
      offset,
      length,
      compressionCodec: typeof bo['compression-codec'] === 'string' ? bo['compression-codec'] : null,
      properties: str(bo.properties),
    };
  });
  return { blobs, properties: str(o.properties) };
}
