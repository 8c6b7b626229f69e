/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320: zlib's and Java's CRC32), as Puffin's
 * deletion-vector-v1 blobs use it. By hand because the read path runs in the renderer too: Node's
 * zlib.crc32 (Node ≥ 20.15) is not there, and npm's crc-32 is a CommonJS module for one table loop.
 */
let table: Uint32Array | null = null;

function crcTable(): Uint32Array {
  if (table) return table;
  table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/** The CRC-32 of `bytes`, as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array): number {
  const t = crcTable();
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
