/**
 * The ORC file tail and stripe layout (ORC Specification v1, "File Tail", "Compression", "Stripes"):
 * the last byte is the PostScript length, the PostScript (never compressed) gives the codec and the
 * Footer length, the Footer gives the type tree and the stripes, and each stripe ends in a
 * StripeFooter listing its streams (consecutive from the stripe's offset) and column encodings.
 */
import { decompress as zstdDecompress } from 'fzstd';
import { TidemarkError } from '../../../errors';
import { concatBytes } from '../../values';
import { OrcFormatError } from './errors';
import { decodeMessage, getMessages, getPackedUints, getString, getStrings, getUint, type ProtoMessage } from './protobuf';

/** Type.Kind of orc_proto.proto (TIMESTAMP_INSTANT = 18 came after the v1 text). */
export const OrcKind = {
  BOOLEAN: 0, BYTE: 1, SHORT: 2, INT: 3, LONG: 4, FLOAT: 5, DOUBLE: 6, STRING: 7, BINARY: 8,
  TIMESTAMP: 9, LIST: 10, MAP: 11, STRUCT: 12, UNION: 13, DECIMAL: 14, DATE: 15, VARCHAR: 16,
  CHAR: 17, TIMESTAMP_INSTANT: 18,
} as const;
export const ORC_KIND_NAMES = Object.fromEntries(Object.entries(OrcKind).map(([k, v]) => [v, k])) as Record<number, string>;

/** Stream.Kind values the reader uses. */
export const OrcStreamKind = { PRESENT: 0, DATA: 1, LENGTH: 2, DICTIONARY_DATA: 3, SECONDARY: 5 } as const;

export interface OrcType {
  /** Type.Kind (see OrcKind). */
  kind: number;
  subtypes: number[];
  fieldNames: string[];
  precision: number;
  scale: number;
  /** Type attributes (ORC 1.6+), e.g. Iceberg's `iceberg.id`, `iceberg.long-type`. */
  attributes: Map<string, string>;
}

export interface OrcStripe {
  offset: number;
  indexLength: number;
  dataLength: number;
  footerLength: number;
  numberOfRows: number;
}

export interface OrcTail {
  /** 0 none, 1 zlib, 2 snappy, 3 lzo, 4 lz4, 5 zstd. */
  compression: number;
  types: OrcType[];
  stripes: OrcStripe[];
  numberOfRows: number;
}

const CODECS = ['NONE', 'ZLIB', 'SNAPPY', 'LZO', 'LZ4', 'ZSTD'];

export function isOrcMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0x4f && bytes[1] === 0x52 && bytes[2] === 0x43; // "ORC"
}

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Undoes the generic compression of one stream or tail section: a sequence of chunks, each with a
 * 3-byte little-endian header (length × 2 + isOriginal). ZLIB chunks are raw deflate (no zlib header).
 */
export async function decompressOrc(data: Uint8Array, compression: number, where: string): Promise<Uint8Array> {
  if (compression === 0) return data;
  const parts: Uint8Array[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + 3 > data.length) throw new OrcFormatError(`${where}: truncated compression chunk header at byte ${pos}`);
    const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
    const original = (header & 1) === 1;
    const len = header >>> 1;
    pos += 3;
    if (pos + len > data.length) throw new OrcFormatError(`${where}: compression chunk of ${len} bytes overruns the stream (${data.length - pos} left)`);
    const chunk = data.subarray(pos, pos + len);
    pos += len;
    if (original) {
      parts.push(chunk);
      continue;
    }
    try {
      parts.push(compression === 5 ? zstdDecompress(chunk) : await inflateRaw(chunk));
    } catch (e) {
      throw new OrcFormatError(`${where}: corrupt ${CODECS[compression]} chunk (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  return parts.length === 1 ? parts[0]! : concatBytes(parts);
}

function parseType(msg: ProtoMessage, i: number): OrcType {
  const where = `footer type ${i}`;
  return {
    kind: getUint(msg, 1, where),
    subtypes: getPackedUints(msg, 2, where),
    fieldNames: getStrings(msg, 3, where),
    precision: getUint(msg, 5, where, 38),
    scale: getUint(msg, 6, where, 0),
    // repeated StringPair attributes = 7 (key = 1, value = 2)
    attributes: new Map(getMessages(msg, 7, where).map((pair) => [getString(pair, 1, where) ?? '', getString(pair, 2, where) ?? ''])),
  };
}

/** Reads the PostScript and Footer. Snappy, LZO and LZ4 fail as Unsupported naming the codec. */
export async function readOrcTail(bytes: Uint8Array, file: string): Promise<OrcTail> {
  if (!isOrcMagic(bytes)) throw new OrcFormatError('bad magic bytes (expected "ORC")');
  if (bytes.length < 4) throw new OrcFormatError('file too short');
  const psLen = bytes[bytes.length - 1]!;
  const psStart = bytes.length - 1 - psLen;
  if (psLen === 0 || psStart < 3) throw new OrcFormatError(`postscript length ${psLen} does not fit a ${bytes.length}-byte file`);
  const ps = decodeMessage(bytes.subarray(psStart, bytes.length - 1), 'postscript');
  if (getString(ps, 8000, 'postscript') !== 'ORC') throw new OrcFormatError('postscript magic is not "ORC"');
  const compression = getUint(ps, 2, 'postscript', 0);
  if (compression !== 0 && compression !== 1 && compression !== 5) {
    const codec = CODECS[compression] ?? `#${compression}`;
    throw new TidemarkError('Unsupported', `${file}: ORC compression ${codec} is not supported (NONE, ZLIB, ZSTD are)`, {
      path: file,
      feature: `orc.compress=${codec}`,
    });
  }
  const footerLen = getUint(ps, 1, 'postscript');
  const footerStart = psStart - footerLen;
  if (footerStart < 3) throw new OrcFormatError(`footer length ${footerLen} does not fit a ${bytes.length}-byte file`);
  const footer = decodeMessage(await decompressOrc(bytes.subarray(footerStart, psStart), compression, 'footer'), 'footer');
  const types = getMessages(footer, 4, 'footer').map(parseType);
  if (types.length === 0) throw new OrcFormatError('footer has no types');
  const stripes = getMessages(footer, 3, 'footer').map((s, i): OrcStripe => {
    const where = `stripe ${i}`;
    const stripe = {
      offset: getUint(s, 1, where),
      indexLength: getUint(s, 2, where, 0),
      dataLength: getUint(s, 3, where),
      footerLength: getUint(s, 4, where),
      numberOfRows: getUint(s, 5, where),
    };
    if (stripe.offset + stripe.indexLength + stripe.dataLength + stripe.footerLength > footerStart) {
      throw new OrcFormatError(`${where} (offset ${stripe.offset}) overruns the file tail at byte ${footerStart}`);
    }
    return stripe;
  });
  return { compression, types, stripes, numberOfRows: getUint(footer, 6, 'footer', 0) };
}

export interface StripeData {
  /** Decompressed stream bytes by `column:kind`. */
  streams: Map<string, Uint8Array>;
  /** ColumnEncoding.Kind per column id: 0 DIRECT, 1 DICTIONARY, 2 DIRECT_V2, 3 DICTIONARY_V2. */
  encodings: { kind: number; dictionarySize: number }[];
}

/** Reads one stripe's footer and the data streams of every column (index streams are skipped). */
export async function readStripe(bytes: Uint8Array, tail: OrcTail, index: number): Promise<StripeData> {
  const s = tail.stripes[index]!;
  const where = `stripe ${index}`;
  const footerStart = s.offset + s.indexLength + s.dataLength;
  const footer = decodeMessage(
    await decompressOrc(bytes.subarray(footerStart, footerStart + s.footerLength), tail.compression, `${where} footer`),
    `${where} footer`,
  );
  const streams = new Map<string, Uint8Array>();
  let pos = s.offset;
  for (const [i, st] of getMessages(footer, 1, `${where} footer`).entries()) {
    const w = `${where} stream ${i}`;
    const kind = getUint(st, 1, w);
    const column = getUint(st, 2, w, 0);
    const length = getUint(st, 3, w, 0);
    if (pos + length > footerStart) throw new OrcFormatError(`${w} (${length} bytes at ${pos}) overruns the stripe footer at ${footerStart}`);
    // Streams lie back to back from the stripe's offset, ROW_INDEX and BLOOM_FILTER ones included.
    if (kind <= OrcStreamKind.SECONDARY) {
      streams.set(`${column}:${kind}`, await decompressOrc(bytes.subarray(pos, pos + length), tail.compression, `${w} (column ${column})`));
    }
    pos += length;
  }
  const encodings = getMessages(footer, 2, `${where} footer`).map((e, i) => ({
    kind: getUint(e, 1, `${where} encoding ${i}`, 0),
    dictionarySize: getUint(e, 2, `${where} encoding ${i}`, 0),
  }));
  return { streams, encodings };
}
