/**
 * Decodes a chunk's text-protocol rows (text-rows.ts) straight into columns of canonical values,
 * the same values SchemaCatalog.convertRow / snapshot rows.ts give, without a row object or a
 * string a field where the type allows: integers and DATETIME/TIMESTAMP are read from their ASCII
 * digits into typed arrays (int64 values as two 32-bit halves), character columns stay UTF-8 bytes
 * (the form Arrow takes), and every other type goes through the type map's codec from the server's
 * text (or bytes), exactly as a mysql2 row's value would.
 */
import { cachedDaysFromCivil, FRACTION_SCALE, makeColumnCodec } from '../schema/column-codec';
import type { SnapshotColumn } from '../columns';
import { formatTableId, type ColumnSchema, type SnapshotColumns, type TableSchema } from '../types';
import { readLength, type TextRows } from './text-rows';

const enum Kind {
  Int,
  Long,
  BoolDigits,
  Double,
  Timestamp,
  Utf8,
  Decimal,
  TextCodec,
  BytesCodec,
}

/** Above this many digits an integer's text may not be exact as a number. */
const SAFE_DIGITS = 15;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function kindOf(column: ColumnSchema, binary: boolean): Kind {
  const type = column.icebergType.type;
  const mysql = column.mysqlType.toLowerCase();
  // Numeric and temporal fields report the binary character set too: it matters for text only.
  switch (type) {
    case 'int':
      return /^year\b/.test(mysql) ? Kind.TextCodec : Kind.Int;
    case 'long':
      return LITTLE_ENDIAN ? Kind.Long : Kind.TextCodec;
    case 'boolean':
      return /^(tinyint|bool)/.test(mysql) ? Kind.BoolDigits : Kind.BytesCodec;
    case 'double':
      return Kind.Double;
    case 'timestamp':
    case 'timestamptz':
      return LITTLE_ENDIAN ? Kind.Timestamp : Kind.TextCodec;
    case 'decimal':
      return Kind.Decimal;
    case 'string':
      return binary ? Kind.BytesCodec : Kind.Utf8;
    case 'binary':
      return Kind.BytesCodec;
  }
  return Kind.TextCodec;
}

/** A compiled decoder: fills `outs` from rows [0, count). */
type Decoder = (rows: TextRows, outs: ColumnOut[]) => void;

/** Per schema object (a DDL replaces it): field list → compiled decoder and the columns' kinds. */
const compiled = new WeakMap<TableSchema, Map<string, { decode: Decoder; kinds: Kind[]; names: string[] }>>();

/**
 * The rows' columns under `schema` (the table's schema when the chunk is emitted), in the rows'
 * field order; null when a field is not a column of `schema` (a DDL during the chunk's drain
 * dropped or renamed it): the caller then takes the general row path, which reports it. A value
 * that does not fit its column fails with DataInvalid naming `db.table.column`, as the row path does.
 */
export function decodeTextRows(rows: TextRows, schema: TableSchema): SnapshotColumns | null {
  let bySchema = compiled.get(schema);
  if (!bySchema) compiled.set(schema, (bySchema = new Map()));
  const signature = rows.fields.map((f) => `${f.binary ? 'b' : 't'}${f.name}`).join('\u0000');
  let entry = bySchema.get(signature);
  if (entry === undefined) {
    const columns: ColumnSchema[] = [];
    for (const f of rows.fields) {
      const column = schema.columns.find((c) => c.name.toLowerCase() === f.name.toLowerCase());
      if (!column) return null;
      columns.push(column);
    }
    const kinds = columns.map((c, i) => kindOf(c, rows.fields[i]!.binary));
    entry = { decode: compileDecoder(schema, columns, kinds), kinds, names: columns.map((c) => c.name) };
    bySchema.set(signature, entry);
  }
  const outs = entry.kinds.map((k) => new ColumnOut(k, rows.count));
  entry.decode(rows, outs);
  return { table: schema.table, count: rows.count, names: entry.names, columns: outs.map((o) => o.finish()) };
}

const HAS_SLICES = typeof (Buffer.prototype as unknown as { latin1Slice?: unknown }).latin1Slice === 'function';

/**
 * One loop over the rows with each column's decoding inline (generated as snapshot rows.ts does;
 * names never enter the code, only column indexes): a row's fields are walked once, in order.
 */
function compileDecoder(schema: TableSchema, columns: ColumnSchema[], kinds: Kind[]): Decoder {
  const where = formatTableId(schema.table);
  const codecs = columns.map((c) => makeColumnCodec(c, `${where}.${c.name}`).convert);
  const latin1 = (from: string, to: string) => (HAS_SLICES ? `b.latin1Slice(${from}, ${to})` : `b.toString('latin1', ${from}, ${to})`);
  const utf8 = (from: string, to: string) => (HAS_SLICES ? `b.utf8Slice(${from}, ${to})` : `b.toString('utf8', ${from}, ${to})`);
  const heads: string[] = [];
  const bodies = kinds.map((kind, c) => {
    const o = `o${c}`;
    const d = `d${c}`;
    const k = `k${c}`;
    heads.push(`const ${o} = outs[${c}]; const ${d} = ${o}.array; const ${k} = codecs[${c}];`);
    const viaCodec = (raw: string) => `${o}.putValue(i, ${k}(${raw}));`;
    const int64 = `hi = Math.floor(v / 4294967296); ${d}[2 * i] = v - hi * 4294967296; ${d}[2 * i + 1] = hi;`;
    let decode: string;
    switch (kind) {
      case Kind.Int:
        decode = `v = digits(b, at, end); if (v !== undefined) ${d}[i] = v; else ${viaCodec(latin1('at', 'end'))}`;
        break;
      case Kind.BoolDigits:
        decode = `v = digits(b, at, end); if (v !== undefined) ${d}[i] = v !== 0 ? 1 : 0; else ${viaCodec(latin1('at', 'end'))}`;
        break;
      case Kind.Long:
        decode = `v = digits(b, at, end); if (v !== undefined) { ${int64} } else ${viaCodec(latin1('at', 'end'))}`;
        break;
      case Kind.Timestamp:
        decode = `v = dateTimeMicros(b, at, end); if (v !== undefined) { ${int64} } else ${viaCodec(latin1('at', 'end'))}`;
        break;
      case Kind.Double:
        decode = `s = ${latin1('at', 'end')}; v = +s; if (v === v && s.length > 0) ${d}[i] = v; else ${viaCodec('s')}`;
        break;
      case Kind.Decimal: {
        const scale = (columns[c]!.icebergType as { scale?: number }).scale ?? 0;
        decode = `s = ${latin1('at', 'end')}; if (canonicalDecimal(b, at, end, ${scale})) ${d}[i] = s; else ${viaCodec('s')}`;
        break;
      }
      case Kind.Utf8:
        decode = `${o}.putBytes(i, b, at, end);`;
        break;
      case Kind.TextCodec:
        decode = viaCodec(utf8('at', 'end'));
        break;
      default:
        decode = viaCodec('Buffer.from(b.subarray(at, end))');
    }
    return `len = b[p];
if (len === 251) { ${o}.putNull(i); p++; } else {
if (len < 251) at = p + 1; else { at = p + (len === 252 ? 3 : len === 253 ? 4 : 9); len = longLength(b, p); }
end = at + len;
${decode}
p = end; }`;
  });
  const body = `return function decodeTextRows(rows, outs) {
const bufs = rows.bufs, bufIndex = rows.bufIndex, starts = rows.starts, count = rows.count;
${heads.join('\n')}
let b, p, len, at, end, v, hi, s;
for (let i = 0; i < count; i++) {
b = bufs[bufIndex[i]]; p = starts[i];
${bodies.join('\n')}
}
};`;
  const factory = new Function('codecs', 'digits', 'dateTimeMicros', 'canonicalDecimal', 'longLength', 'Buffer', body) as (...args: unknown[]) => Decoder;
  return factory(codecs, digitsValue, dateTimeMicros, canonicalDecimal, longLength, Buffer);
}

/** A length-encoded integer's value at `p` whose first byte is 0xFC, 0xFD or 0xFE (text-rows.ts readLength). */
function longLength(b: Uint8Array, p: number): number {
  return readLength(b, p)[0];
}

/**
 * Whether [at, end) is canonical text of a DECIMAL with `scale` digits after the point (the type
 * map's isCanonicalDecimal on bytes): no leading zero, exactly `scale` fraction digits, no "-0".
 */
function canonicalDecimal(b: Uint8Array, at: number, end: number, scale: number): boolean {
  const negative = b[at] === 45;
  let i = negative ? at + 1 : at;
  const intStart = i;
  let nonZero = false;
  for (; i < end; i++) {
    const d = b[i]! - 48;
    if (d >>> 0 > 9) break;
    if (d !== 0) nonZero = true;
  }
  const intDigits = i - intStart;
  if (intDigits < 1 || (intDigits > 1 && b[intStart] === 48)) return false;
  if (scale > 0) {
    if (b[i] !== 46 || end - i - 1 !== scale) return false;
    for (i++; i < end; i++) {
      const d = b[i]! - 48;
      if (d >>> 0 > 9) return false;
      if (d !== 0) nonZero = true;
    }
  }
  return i === end && (!negative || nonZero);
}

/** The integer of ASCII digits [at, end) with an optional '-', while exact as a number; else undefined. */
function digitsValue(b: Uint8Array, at: number, end: number): number | undefined {
  let i = at;
  const negative = b[i] === 45;
  if (negative) i++;
  const digits = end - i;
  if (digits < 1 || digits > SAFE_DIGITS) return undefined;
  let v = 0;
  for (; i < end; i++) {
    const d = b[i]! - 48;
    if (d >>> 0 > 9) return undefined;
    v = v * 10 + d;
  }
  return negative ? -v : v;
}

/**
 * `YYYY-MM-DD HH:MM:SS[.f…]` at [at, end) → µs since the epoch as a number (the type map's
 * parseDateTimeMicrosNumber on bytes); undefined for anything else (a zero date, a year past ~2255,
 * malformed text): the caller then takes the codec, which gives its value or its error.
 */
function dateTimeMicros(b: Uint8Array, at: number, end: number): number | undefined {
  const len = end - at;
  if (len < 19 || b[at + 4] !== 45 || b[at + 7] !== 45 || b[at + 13] !== 58 || b[at + 16] !== 58) return undefined;
  const y0 = b[at]! - 48;
  const y1 = b[at + 1]! - 48;
  const y2 = b[at + 2]! - 48;
  const y3 = b[at + 3]! - 48;
  const mo0 = b[at + 5]! - 48;
  const mo1 = b[at + 6]! - 48;
  const d0 = b[at + 8]! - 48;
  const d1 = b[at + 9]! - 48;
  const h0 = b[at + 11]! - 48;
  const h1 = b[at + 12]! - 48;
  const mi0 = b[at + 14]! - 48;
  const mi1 = b[at + 15]! - 48;
  const s0 = b[at + 17]! - 48;
  const s1 = b[at + 18]! - 48;
  // Each `c - 48` of a non-digit is outside 0–9, so `>>> 0 > 9` catches it (negative ones too).
  if (
    y0 >>> 0 > 9 || y1 >>> 0 > 9 || y2 >>> 0 > 9 || y3 >>> 0 > 9 || mo0 >>> 0 > 9 || mo1 >>> 0 > 9 || d0 >>> 0 > 9 ||
    d1 >>> 0 > 9 || h0 >>> 0 > 9 || h1 >>> 0 > 9 || mi0 >>> 0 > 9 || mi1 >>> 0 > 9 || s0 >>> 0 > 9 || s1 >>> 0 > 9
  ) {
    return undefined;
  }
  let frac = 0;
  if (len > 19) {
    const n = len - 20;
    if (b[at + 19] !== 46 || n < 1 || n > 6) return undefined;
    for (let i = at + 20; i < end; i++) {
      const c = b[i]! - 48;
      if (c >>> 0 > 9) return undefined;
      frac = frac * 10 + c;
    }
    frac *= FRACTION_SCALE[n]!;
  }
  const y = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const mo = mo0 * 10 + mo1;
  const d = d0 * 10 + d1;
  if (y === 0 || mo === 0 || d === 0) return undefined;
  const micros = (cachedDaysFromCivil(y, mo, d) * 86400 + (h0 * 10 + h1) * 3600 + (mi0 * 10 + mi1) * 60 + s0 * 10 + s1) * 1_000_000 + frac;
  return Number.isSafeInteger(micros) ? micros : undefined;
}

/**
 * One column's values for `count` rows, in the form of its kind: int64 (BigInt64Array written as
 * 32-bit halves), number (Float64Array), boolean (Uint8Array), UTF-8 bytes, or plain values.
 */
class ColumnOut {
  private big: BigInt64Array | null = null;
  private num: Float64Array | null = null;
  private bool: Uint8Array | null = null;
  private plain: unknown[] | null = null;
  private offsets: Int32Array | null = null;
  private data: Uint8Array | null = null;
  private used = 0;
  private nulls: Uint8Array | null = null;
  /** What the generated decoder writes into: int64 halves, numbers, 0/1 bytes, or plain values. */
  readonly array: Uint32Array | Float64Array | Uint8Array | unknown[] | null;

  constructor(
    readonly kind: Kind,
    private readonly count: number,
  ) {
    if (kind === Kind.Long || kind === Kind.Timestamp) {
      this.big = new BigInt64Array(count);
      this.array = new Uint32Array(this.big.buffer);
    } else if (kind === Kind.Int || kind === Kind.Double) this.array = this.num = new Float64Array(count);
    else if (kind === Kind.BoolDigits) this.array = this.bool = new Uint8Array(count);
    else if (kind === Kind.Utf8) {
      this.array = null;
      this.offsets = new Int32Array(count + 1);
      this.data = new Uint8Array(Math.max(64, count * 16));
    } else this.array = this.plain = new Array<unknown>(count).fill(null);
  }

  putNull(i: number): void {
    if (this.plain !== null) return; // already null
    (this.nulls ??= new Uint8Array(this.count))[i] = 1;
    if (this.offsets !== null) this.offsets[i + 1] = this.used;
  }

  /** A codec's canonical value (or null) for row i. */
  putValue(i: number, v: unknown): void {
    if (v === null || v === undefined) return this.putNull(i);
    if (this.plain !== null) this.plain[i] = v;
    else if (this.big !== null) this.big[i] = v as bigint;
    else if (this.num !== null) this.num[i] = v as number;
    else this.bool![i] = v === true ? 1 : 0;
  }

  putBytes(i: number, b: Uint8Array, at: number, end: number): void {
    const n = end - at;
    if (this.used + n > this.data!.length) {
      const grown = new Uint8Array(Math.max(this.data!.length * 2, this.used + n));
      grown.set(this.data!.subarray(0, this.used));
      this.data = grown;
    }
    const data = this.data!;
    let o = this.used;
    // Short values byte by byte: a native copy (or a subarray view) costs more than the loop.
    if (n < 32) for (let k = at; k < end; k++) data[o++] = b[k]!;
    else {
      data.set(b.subarray(at, end), o);
      o += n;
    }
    this.used = o;
    this.offsets![i + 1] = this.used;
  }

  finish(): SnapshotColumn {
    if (this.plain !== null) return this.plain;
    if (this.offsets !== null) return { form: 'utf8', offsets: this.offsets, data: this.data!.subarray(0, this.used), nulls: this.nulls };
    if (this.big !== null) return { form: 'bigint', data: this.big, nulls: this.nulls };
    if (this.num !== null) return { form: 'number', data: this.num, nulls: this.nulls };
    return { form: 'boolean', data: this.bool!, nulls: this.nulls };
  }
}
