/**
 * Thrift compact protocol, generic and lossless: every value keeps its wire type, so a decoded
 * Parquet footer re-encodes byte for byte after edits. Written by hand because the JavaScript
 * Thrift decoders at hand (hyparquet's, the `thrift` package's) either need generated code and
 * Node transports or map values to JS types and lose the wire type (i8/i16/i32, double, bool lists),
 * so they cannot write a footer back. Used only on Parquet footers (a few KiB), with bounds on
 * every length and on nesting depth: a corrupt footer is a DataInvalid error, never a hang.
 */
import { TidemarkError } from '../../errors';

export const T = {
  TRUE: 1,
  FALSE: 2,
  I8: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export interface TStruct {
  fields: TField[];
}
export interface TField {
  id: number;
  /** Wire type; for booleans TRUE or FALSE (the value is in the type). */
  type: number;
  value: TValue;
}
export interface TList {
  elemType: number;
  items: TValue[];
}
export interface TMap {
  keyType: number;
  valueType: number;
  entries: [TValue, TValue][];
}
/** bigint for I64; number for I8/I16/I32/DOUBLE and for a boolean list element's raw byte. */
export type TValue = boolean | number | bigint | Uint8Array | TStruct | TList | TMap;

const MAX_DEPTH = 64;

class Reader {
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly where: string,
  ) {}

  fail(what: string): never {
    throw new TidemarkError('DataInvalid', `${this.where}: corrupt Parquet footer (Thrift): ${what} at byte ${this.pos}`, { offset: this.pos, reason: `${what} at byte ${this.pos}` });
  }

  byte(): number {
    if (this.pos >= this.bytes.length) this.fail('unexpected end');
    return this.bytes[this.pos++]!;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
    return this.fail('varint longer than 10 bytes');
  }

  smallVarint(): number {
    const v = this.varint();
    if (v > 0x7fffffffn) this.fail(`length ${v} too large`);
    return Number(v);
  }

  zigzag(): bigint {
    const v = this.varint();
    return (v >> 1n) ^ -(v & 1n);
  }

  take(n: number): Uint8Array {
    if (n < 0 || this.pos + n > this.bytes.length) this.fail(`length ${n} past the end`);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  remaining(): number {
    return this.bytes.length - this.pos;
  }
}

function readValue(r: Reader, type: number, depth: number, inCollection: boolean): TValue {
  if (depth > MAX_DEPTH) r.fail('nesting too deep');
  switch (type) {
    case T.TRUE:
    case T.FALSE:
      // In a struct the value is the field's type; in a list each element is one byte.
      return inCollection ? r.byte() : type === T.TRUE;
    case T.I8:
      return r.byte();
    case T.I16:
    case T.I32: {
      const v = r.zigzag();
      if (v > 0x7fffffffn || v < -0x80000000n) r.fail(`integer ${v} out of range`);
      return Number(v);
    }
    case T.I64:
      return BigInt.asIntN(64, r.zigzag());
    case T.DOUBLE: {
      const b = r.take(8);
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    }
    case T.BINARY:
      return r.take(r.smallVarint());
    case T.LIST:
    case T.SET: {
      const head = r.byte();
      let size = head >> 4;
      const elemType = head & 0x0f;
      if (size === 15) size = r.smallVarint();
      // Each element takes at least one byte: a larger count is corrupt (and would allocate for nothing).
      if (size > r.remaining()) r.fail(`list of ${size} elements in ${r.remaining()} bytes`);
      const items: TValue[] = [];
      for (let i = 0; i < size; i++) items.push(readValue(r, elemType, depth + 1, true));
      return { elemType, items };
    }
    case T.MAP: {
      const size = r.smallVarint();
      if (size === 0) return { keyType: 0, valueType: 0, entries: [] };
      if (size > r.remaining()) r.fail(`map of ${size} entries in ${r.remaining()} bytes`);
      const kv = r.byte();
      const entries: [TValue, TValue][] = [];
      for (let i = 0; i < size; i++) entries.push([readValue(r, kv >> 4, depth + 1, true), readValue(r, kv & 0x0f, depth + 1, true)]);
      return { keyType: kv >> 4, valueType: kv & 0x0f, entries };
    }
    case T.STRUCT:
      return readStruct(r, depth + 1);
    default:
      return r.fail(`unknown type ${type}`);
  }
}

function readStruct(r: Reader, depth: number): TStruct {
  if (depth > MAX_DEPTH) r.fail('nesting too deep');
  const fields: TField[] = [];
  let last = 0;
  for (;;) {
    const head = r.byte();
    if (head === 0) return { fields };
    const type = head & 0x0f;
    const delta = head >> 4;
    const id = delta === 0 ? Number(r.zigzag()) : last + delta;
    if (id < -32768 || id > 32767) r.fail(`field id ${id}`);
    last = id;
    fields.push({ id, type, value: readValue(r, type, depth, false) });
  }
}

/** Decodes the struct at the start of `bytes` and says how many bytes it took. */
export function decodeStructPrefix(bytes: Uint8Array, where: string): { value: TStruct; length: number } {
  const r = new Reader(bytes, where);
  const value = readStruct(r, 0);
  return { value, length: r.pos };
}

/** Decodes one struct from `bytes` (all of them must be used). `where` names the file in errors. */
export function decodeStruct(bytes: Uint8Array, where: string): TStruct {
  const r = new Reader(bytes, where);
  const s = readStruct(r, 0);
  if (r.remaining() !== 0) r.fail(`${r.remaining()} bytes after the struct`);
  return s;
}

class Writer {
  private buf = new Uint8Array(1024);
  len = 0;

  private ensure(n: number) {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  byte(b: number) {
    this.ensure(1);
    this.buf[this.len++] = b & 0xff;
  }

  varint(v: bigint) {
    let x = BigInt.asUintN(64, v);
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.byte(b);
    } while (x !== 0n);
  }

  zigzag(v: bigint) {
    this.varint(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  bytes(b: Uint8Array) {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function writeValue(w: Writer, type: number, value: TValue, inCollection: boolean) {
  switch (type) {
    case T.TRUE:
    case T.FALSE:
      if (inCollection) w.byte(value as number);
      return; // in a struct the value is the field header's type
    case T.I8:
      w.byte(value as number);
      return;
    case T.I16:
    case T.I32:
      w.zigzag(BigInt(value as number));
      return;
    case T.I64:
      w.zigzag(value as bigint);
      return;
    case T.DOUBLE: {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setFloat64(0, value as number, true);
      w.bytes(b);
      return;
    }
    case T.BINARY: {
      const b = value as Uint8Array;
      w.varint(BigInt(b.length));
      w.bytes(b);
      return;
    }
    case T.LIST:
    case T.SET: {
      const l = value as TList;
      if (l.items.length < 15) w.byte((l.items.length << 4) | l.elemType);
      else {
        w.byte(0xf0 | l.elemType);
        w.varint(BigInt(l.items.length));
      }
      for (const item of l.items) writeValue(w, l.elemType, item, true);
      return;
    }
    case T.MAP: {
      const m = value as TMap;
      w.varint(BigInt(m.entries.length));
      if (m.entries.length === 0) return;
      w.byte((m.keyType << 4) | m.valueType);
      for (const [k, v] of m.entries) {
        writeValue(w, m.keyType, k, true);
        writeValue(w, m.valueType, v, true);
      }
      return;
    }
    case T.STRUCT:
      writeStruct(w, value as TStruct);
      return;
  }
}

function writeStruct(w: Writer, s: TStruct) {
  let last = 0;
  for (const f of s.fields) {
    const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value === false ? T.FALSE : f.value === true ? T.TRUE : f.type) : f.type;
    const delta = f.id - last;
    if (delta > 0 && delta <= 15) w.byte((delta << 4) | type);
    else {
      w.byte(type);
      w.zigzag(BigInt(f.id));
    }
    last = f.id;
    writeValue(w, type, f.value, false);
  }
  w.byte(0);
}

/** Encodes a struct in the compact protocol. */
export function encodeStruct(s: TStruct): Uint8Array {
  const w = new Writer();
  writeStruct(w, s);
  return w.result();
}

/** The field with `id`, or undefined. */
export function field(s: TStruct, id: number): TValue | undefined {
  return s.fields.find((f) => f.id === id)?.value;
}

/** Sets (or adds, in id order) field `id` to a value of `type`. */
export function setField(s: TStruct, id: number, type: number, value: TValue): void {
  const existing = s.fields.find((f) => f.id === id);
  if (existing) {
    existing.type = type;
    existing.value = value;
    return;
  }
  s.fields.push({ id, type, value });
  s.fields.sort((a, b) => a.id - b.id);
}

/** Removes field `id` if present. */
export function removeField(s: TStruct, id: number): void {
  s.fields = s.fields.filter((f) => f.id !== id);
}
