import { decompress as zstdDecompress } from 'fzstd';
import { TidemarkError } from '../../errors';

/**
 * Avro object container files (Iceberg manifest lists and manifests; Paimon manifests) decoded
 * from bytes, with no Node API, so the read path runs in the renderer as well as in Node.
 *
 * Written by hand on purpose: avsc (used on the write path, Node only) decodes through Node's
 * Buffer, util and crypto, which a browser bundle would have to polyfill. Reading is the small
 * half of Avro: the binary encoding of the Avro 1.11 spec ("Binary Encoding", "Object Container
 * Files") driven by the writer's schema from the file header. No schema resolution is needed: the
 * lake readers map fields by name/field-id themselves.
 *
 * Decoded values: null → null, boolean, int/float/double → number, long → bigint (snapshot ids
 * exceed 2^53), string → string, bytes/fixed → Uint8Array, enum → symbol string, array → array,
 * map → plain object, record → plain object by field name, union → the branch's value.
 * Logical types are left as their underlying type.
 */

export interface AvroFile {
  /** Key-value metadata with avro.* keys, decoded as UTF-8 text. */
  metadata: Record<string, string>;
  /** The writer's schema (parsed JSON of avro.schema). */
  schema: unknown;
  records: Record<string, unknown>[];
}

const MAGIC = [0x4f, 0x62, 0x6a, 0x01]; // "Obj\x01"
const CODECS = ['null', 'deflate', 'zstandard'];
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Thrown by the cursor on malformed input; turned into DataInvalid with the file name. */
class Malformed extends Error {}

class Cursor {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  /** Zig-zag varint long (up to 10 bytes) as bigint. */
  readLong(): bigint {
    // Fast path: values that fit in 31 bits of zig-zag (nearly every count, size and id in a manifest).
    let b = this.byte();
    let n = b & 0x7f;
    let shift = 7;
    while (b & 0x80 && shift < 28) {
      b = this.byte();
      n |= (b & 0x7f) << shift;
      shift += 7;
    }
    if (!(b & 0x80)) return BigInt((n >>> 1) ^ -(n & 1));
    let big = BigInt(n >>> 0);
    let bigShift = BigInt(shift);
    do {
      if (bigShift > 63n) throw new Malformed('varint longer than 10 bytes');
      b = this.byte();
      big |= BigInt(b & 0x7f) << bigShift;
      bigShift += 7n;
    } while (b & 0x80);
    big = BigInt.asUintN(64, big);
    return (big >> 1n) ^ -(big & 1n);
  }
  /** A long that must be a safe integer (lengths, counts, int values). */
  readSmall(): number {
    const v = this.readLong();
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw new Malformed(`length or count ${v} out of range`);
    return Number(v);
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new Malformed('unexpected end of data');
    return this.buf[this.pos++]!;
  }
  take(n: number): Uint8Array {
    if (n < 0 || n > this.remaining) throw new Malformed(`length ${n} exceeds the ${this.remaining} bytes left`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

type Decoder = (c: Cursor) => unknown;

interface Compiled {
  decode: Decoder;
  /** Fewest bytes one value takes (0 for null, empty records…): bounds block counts against the bytes left. */
  minBytes: number;
}

const PRIMITIVES: Record<string, Compiled> = {
  null: { decode: () => null, minBytes: 0 },
  boolean: { decode: (c) => c.byte() !== 0, minBytes: 1 },
  int: {
    decode: (c) => {
      const v = c.readSmall();
      if (v > 0x7fffffff || v < -0x80000000) throw new Malformed(`int ${v} out of range`);
      return v;
    },
    minBytes: 1,
  },
  long: { decode: (c) => c.readLong(), minBytes: 1 },
  float: {
    decode: (c) => {
      const b = c.take(4);
      return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
    },
    minBytes: 4,
  },
  double: {
    decode: (c) => {
      const b = c.take(8);
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    },
    minBytes: 8,
  },
  bytes: { decode: (c) => c.take(c.readSmall()).slice(), minBytes: 1 },
  string: { decode: (c) => utf8.decode(c.take(c.readSmall())), minBytes: 1 },
};

/**
 * Reads the items of an array or map: blocks of `count` items, a negative count followed by the
 * block's byte size, ending with a zero count. A count is checked against the bytes left, so a
 * corrupt count can neither allocate nor loop unboundedly (zero-byte items are capped separately).
 */
function readBlocks(c: Cursor, minItemBytes: number, item: () => void): void {
  for (;;) {
    let count = c.readSmall();
    if (count === 0) return;
    if (count < 0) {
      count = -count;
      c.readSmall(); // block size in bytes: only useful for skipping
    }
    const limit = minItemBytes > 0 ? c.remaining / minItemBytes : 1_000_000;
    if (count > limit) throw new Malformed(`block claims ${count} items with ${c.remaining} bytes left`);
    for (let i = 0; i < count; i++) item();
  }
}

function fullName(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`;
}

/** Compiles a writer schema into a decoder; named types may be referenced after their definition. */
function compileSchema(schema: unknown): Compiled {
  const named = new Map<string, Compiled>();
  const compile = (s: unknown, ns: string | undefined): Compiled => {
    if (typeof s === 'string') {
      const prim = PRIMITIVES[s];
      if (prim) return prim;
      const ref = named.get(fullName(s, ns)) ?? named.get(s);
      if (!ref) throw new Malformed(`unknown type name "${s}"`);
      return ref;
    }
    if (Array.isArray(s)) {
      if (s.length === 0) throw new Malformed('empty union');
      const branches = s.map((b) => compile(b, ns));
      return {
        decode: (c) => {
          const i = c.readSmall();
          const branch = branches[i];
          if (!branch) throw new Malformed(`union branch ${i} out of range`);
          return branch.decode(c);
        },
        minBytes: 1,
      };
    }
    if (!s || typeof s !== 'object') throw new Malformed(`invalid schema ${JSON.stringify(s)}`);
    const o = s as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string' && (typeof type !== 'object' || type === null)) throw new Malformed('schema without a type');
    switch (type) {
      case 'record':
      case 'error': {
        const name = fullName(String(o.name ?? ''), typeof o.namespace === 'string' ? o.namespace : ns);
        const innerNs = name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : ns;
        if (!Array.isArray(o.fields)) throw new Malformed(`record ${name} without fields`);
        // Registered before the fields compile, so a recursive reference resolves to this record.
        const rec: Compiled = { decode: () => null, minBytes: 0 };
        named.set(name, rec);
        const fields = (o.fields as Record<string, unknown>[]).map((f) => ({ name: String(f.name), c: compile(f.type, innerNs) }));
        rec.minBytes = fields.reduce((n, f) => n + (f.c === rec ? 0 : f.c.minBytes), 0);
        rec.decode = (c) => {
          const out: Record<string, unknown> = {};
          for (const f of fields) out[f.name] = f.c.decode(c);
          return out;
        };
        return rec;
      }
      case 'enum': {
        const name = fullName(String(o.name ?? ''), typeof o.namespace === 'string' ? o.namespace : ns);
        const symbols = Array.isArray(o.symbols) ? (o.symbols as string[]) : [];
        const e: Compiled = {
          decode: (c) => {
            const i = c.readSmall();
            if (i < 0 || i >= symbols.length) throw new Malformed(`enum index ${i} out of range`);
            return symbols[i];
          },
          minBytes: 1,
        };
        named.set(name, e);
        return e;
      }
      case 'fixed': {
        const name = fullName(String(o.name ?? ''), typeof o.namespace === 'string' ? o.namespace : ns);
        const size = Number(o.size);
        if (!Number.isSafeInteger(size) || size < 0) throw new Malformed(`fixed ${name} has invalid size ${String(o.size)}`);
        const f: Compiled = { decode: (c) => c.take(size).slice(), minBytes: size };
        named.set(name, f);
        return f;
      }
      case 'array': {
        const items = compile(o.items, ns);
        return {
          decode: (c) => {
            const out: unknown[] = [];
            readBlocks(c, items.minBytes, () => out.push(items.decode(c)));
            return out;
          },
          minBytes: 1,
        };
      }
      case 'map': {
        const values = compile(o.values, ns);
        return {
          decode: (c) => {
            const out: Record<string, unknown> = {};
            readBlocks(c, 1 + values.minBytes, () => {
              const key = PRIMITIVES.string!.decode(c) as string;
              out[key] = values.decode(c);
            });
            return out;
          },
          minBytes: 1,
        };
      }
      default:
        // {"type": "long", "logicalType": ...} or {"type": {...}}: the underlying type.
        return compile(type, ns);
    }
  };
  return compile(schema, undefined);
}

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Decodes a whole Avro container (codecs null, deflate and zstandard — Paimon's default manifest
 * compression). `file` names the file in errors: DataInvalid when malformed, Unsupported for
 * another codec.
 */
export async function readAvroFile(bytes: Uint8Array, file: string): Promise<AvroFile> {
  const bad = (what: string, cause?: unknown): never => {
    throw new TidemarkError('DataInvalid', `${file}: expected an Avro object container file: ${what}`, { path: file }, cause);
  };
  if (bytes.length < 4 || MAGIC.some((b, i) => bytes[i] !== b)) bad('bad magic bytes');
  const c = new Cursor(bytes);
  c.pos = 4;
  const metadata: Record<string, string> = {};
  let sync: Uint8Array;
  try {
    readBlocks(c, 2, () => {
      const key = PRIMITIVES.string!.decode(c) as string;
      metadata[key] = utf8.decode(c.take(c.readSmall()));
    });
    sync = c.take(16);
  } catch (e) {
    // Running out of bytes is the common case (a cut file); anything else is a garbled header.
    const cut = e instanceof Malformed && /end of data|bytes left/.test(e.message);
    return bad(cut ? `truncated header (${e.message})` : `unreadable header${e instanceof Malformed ? `: ${e.message}` : ''}`, e);
  }
  const codec = metadata['avro.codec'] ?? 'null';
  if (!CODECS.includes(codec)) {
    throw new TidemarkError('Unsupported', `${file}: Avro codec ${codec} is not supported (${CODECS.join(', ')} are)`, { path: file, feature: `avro.codec=${codec}` });
  }
  let schema: unknown;
  let record: Compiled;
  try {
    schema = JSON.parse(metadata['avro.schema'] ?? '');
    record = compileSchema(schema);
  } catch (e) {
    return bad(`invalid avro.schema${e instanceof Malformed ? `: ${e.message}` : ''}`, e);
  }
  const records: Record<string, unknown>[] = [];
  while (c.remaining > 0) {
    const at = c.pos;
    let count: number;
    let size: number;
    try {
      count = c.readSmall();
      size = c.readSmall();
    } catch (e) {
      return bad(`truncated block header at byte ${at}`, e);
    }
    // Negative or absurd counts and sizes come only from corrupt files.
    if (count < 0) bad(`negative record count ${count} at byte ${at}`);
    if (size < 0 || size + 16 > c.remaining) bad(`truncated block at byte ${at}`);
    const start = c.pos;
    let block = c.take(size);
    if (!sameBytes(c.take(16), sync)) bad(`sync marker mismatch at byte ${start + size}`);
    try {
      if (codec === 'deflate') block = await inflateRaw(block);
      else if (codec === 'zstandard') block = zstdDecompress(block);
    } catch (e) {
      bad(`corrupt ${codec} block at byte ${start}`, e);
    }
    if (record.minBytes > 0 && count > block.length / record.minBytes) bad(`block at byte ${start} claims ${count} records in ${block.length} bytes`);
    if (record.minBytes === 0 && count > 1_000_000) bad(`block at byte ${start} claims ${count} empty records`);
    const bc = new Cursor(block);
    for (let i = 0; i < count; i++) {
      try {
        records.push(record.decode(bc) as Record<string, unknown>);
      } catch (e) {
        if (!(e instanceof Malformed)) throw e;
        bad(`corrupt record ${records.length}: ${e.message}`, e);
      }
    }
  }
  return { metadata, schema, records };
}
