import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  FixedSizeBinary,
  Float32,
  Float64,
  Int32,
  Int64,
  RecordBatch,
  Schema as ArrowSchema,
  Struct,
  Table,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
  makeData,
  makeVector,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { TidemarkError } from '../../errors';
import { parseDecimalType, parseFixedType, type NestedField, type Schema } from '../model';
import { parseDate, parseDecimal, parseTime, parseTimestamp, readDigits as digitsAt, uuidToBytes } from '../values';

/**
 * Canonical rows → Arrow columns built directly from typed arrays (naive per-value Arrow builders
 * cost ~2 s per 1M rows). Every field carries `PARQUET:field_id` so the Parquet schema has ids.
 * Top-level primitive columns only: nested types fail loudly naming the column.
 */
export function arrowTypeOf(field: NestedField): DataType {
  const t = field.type;
  if (typeof t !== 'string') throw new TidemarkError('Unsupported', `writing nested column ${field.name} (${t.type}) is not supported yet`, { fieldId: field.id });
  switch (t) {
    case 'boolean':
      return new Bool();
    case 'int':
      return new Int32();
    case 'long':
      return new Int64();
    case 'float':
      return new Float32();
    case 'double':
      return new Float64();
    case 'date':
      return new DateDay();
    case 'time':
      return new TimeMicrosecond();
    case 'timestamp':
      return new TimestampMicrosecond();
    case 'timestamptz':
      return new TimestampMicrosecond('UTC');
    case 'string':
      return new Utf8();
    case 'binary':
      return new Binary();
    case 'uuid':
      return new FixedSizeBinary(16);
  }
  const dec = parseDecimalType(t);
  if (dec) return new Decimal(dec.scale, dec.precision, 128);
  const len = parseFixedType(t);
  if (len !== null) return new FixedSizeBinary(len);
  throw new TidemarkError('Unsupported', `writing type ${t} (column ${field.name}) is not supported`, { fieldId: field.id });
}

export function arrowFieldOf(field: NestedField): Field {
  return new Field(field.name, arrowTypeOf(field), !field.required, new Map([['PARQUET:field_id', String(field.id)]]));
}

function nullBitmap(values: unknown[]): { bitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { bitmap: nullCount === 0 ? undefined : bitmap, nullCount };
}

function bytesColumn(values: unknown[], toBytes: (v: unknown) => Uint8Array): { offsets: Int32Array; data: Uint8Array } {
  const parts = values.map((v) => (v === null || v === undefined ? new Uint8Array(0) : toBytes(v)));
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  parts.forEach((p, i) => {
    total += p.length;
    offsets[i + 1] = total;
  });
  const data = new Uint8Array(total);
  parts.forEach((p, i) => data.set(p, offsets[i]!));
  return { offsets, data };
}

/**
 * UTF-8 column in two native passes (byte lengths, then writes into one buffer): a TextEncoder call
 * and a Uint8Array per value made strings the slowest column of a row append (docs/perf-notes.md).
 */
function utf8Column(values: unknown[]): { offsets: Int32Array; data: Uint8Array } {
  return asciiColumn(values) ?? utf8ColumnByValue(values);
}

/**
 * A column of strings (and nulls) that is all ASCII, in three native calls: `join` (a null joins as
 * ''), its UTF-8 length (equal to its length only when every character is ASCII), one latin1 write
 * (ASCII's bytes); offsets from the strings' lengths. Null when a value is not a string or a
 * character is not ASCII. Why: two native calls per value (byteLength and write) cost more than
 * the whole column's three.
 */
function asciiColumn(values: unknown[]): { offsets: Int32Array; data: Uint8Array } | null {
  return encodeAsciiStrings(values);
}

/**
 * Strings (and nulls, `nulls[i]` 1; null when there are none) as Arrow UTF-8 offsets and bytes
 * when every value is a string or null and every character is ASCII (asciiColumn), else null. The
 * buffers are the column's own (transferable: never Buffer's shared pool).
 */
export function encodeAsciiStrings(values: unknown[]): VariableWidthColumn | null {
  const offsets = new Int32Array(values.length + 1);
  let nulls: Uint8Array | null = null;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string') total += v.length;
    else if (v === null || v === undefined) (nulls ??= new Uint8Array(values.length))[i] = 1;
    else return null;
    offsets[i + 1] = total;
  }
  const joined = values.join('');
  if (Buffer.byteLength(joined, 'utf8') !== total) return null;
  const data = new Uint8Array(total);
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).write(joined, 0, total, 'latin1');
  return { offsets, data, nulls };
}

function utf8ColumnByValue(values: unknown[]): { offsets: Int32Array; data: Uint8Array } {
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) total += Buffer.byteLength(String(v), 'utf8');
    offsets[i + 1] = total;
  }
  const data = new Uint8Array(total);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) buf.write(String(v), offsets[i]!, 'utf8');
  }
  return { offsets, data };
}

const TWO_32 = 4294967296;

/** Stores a safe integer as element i of a 64-bit little-endian array seen as 32-bit words (no BigInt). */
function setInt64Words(words: Int32Array | Uint32Array, i: number, x: number): void {
  const hi = Math.floor(x / TWO_32);
  words[i * 2] = x - hi * TWO_32;
  words[i * 2 + 1] = hi;
}

/**
 * Canonical timestamp text ('YYYY-MM-DDTHH:MM:SS[.f…]' with nothing, 'Z' or '+00:00' after) →
 * µs since the epoch as a safe integer, or null for anything else (the caller falls back to
 * parseTimestamp, which handles every ISO-8601 form and reports errors). Saves a regex and five
 * BigInt operations per value.
 */
export function parseCanonicalTimestampMicros(s: string): number | null {
  if (s.length < 19 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return null;
  const sep = s.charCodeAt(10);
  if (sep !== 84 && sep !== 32) return null;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const sec = digitsAt(s, 17, 2);
  // A non-digit reads as NaN, which fails every comparison: test for the good ranges.
  if (!(y >= 100 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && sec >= 0 && sec <= 59)) return null;
  let pos = 19;
  let micros = 0;
  if (s.charCodeAt(pos) === 46) {
    let k = 0;
    for (pos++; pos < s.length; pos++, k++) {
      const c = s.charCodeAt(pos) - 48;
      if (c < 0 || c > 9) break;
      if (k < 6) micros = micros * 10 + c;
    }
    if (k === 0 || k > 9) return null;
    for (; k < 6; k++) micros *= 10;
  }
  const rest = s.slice(pos);
  if (rest !== '' && rest !== 'Z' && rest !== '+00:00') return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, sec);
  const total = ms * 1000 + micros;
  return Number.isSafeInteger(total) ? total : null;
}

/**
 * Decimal text → unscaled value as a safe integer at `scale`, or null when it does not fit 15
 * digits or is not plain `-?digits[.digits]` (the caller then uses parseDecimal with BigInt).
 */
export function parseSmallDecimal(s: string, scale: number): number | null {
  let i = 0;
  const neg = s.charCodeAt(0) === 45;
  if (neg) i++;
  let acc = 0;
  let digits = 0;
  let frac = -1;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 && frac < 0) {
      frac = 0;
      continue;
    }
    const dgt = c - 48;
    if (dgt < 0 || dgt > 9) return null;
    acc = acc * 10 + dgt;
    if (frac >= 0) frac++;
    if (++digits > 15) return null;
  }
  if (digits === 0 || frac > scale) return null;
  for (let k = Math.max(frac, 0); k < scale; k++) acc *= 10;
  if (!Number.isSafeInteger(acc)) return null;
  return neg ? -acc : acc;
}

/**
 * A column already in the layout of its Arrow type, one element per row (0 where null): int64 for
 * long and timestamps (µs), int32 for int, float64 for double, one byte of 0 or 1 for boolean.
 * `nulls[i]` is 1 where row i is null (null: no nulls). The CDC sink hands over typed columns so
 * (pipeline/sink-columns.ts), with no JS value per row.
 */
export interface FixedWidthColumn {
  values: BigInt64Array | Int32Array | Float64Array | Uint8Array;
  nulls: Uint8Array | null;
}

/** A string column already as Arrow UTF-8: `offsets` (length + 1) into `data`; `nulls[i]` 1 where row i is null. */
export interface VariableWidthColumn {
  offsets: Int32Array;
  data: Uint8Array;
  nulls: Uint8Array | null;
}

function validityOf(nulls: Uint8Array | null, length: number): { nullCount: number; nullBitmap: Uint8Array | undefined } {
  let nullCount = 0;
  if (!nulls) return { nullCount, nullBitmap: undefined };
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) {
    if (nulls[i] === 1) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  }
  return { nullCount, nullBitmap: nullCount > 0 ? bitmap : undefined };
}

function buildUtf8Vector(field: NestedField, column: VariableWidthColumn): Vector {
  const length = column.offsets.length - 1;
  if (field.type !== 'string') throw new TidemarkError('Internal', `column ${field.name} (${String(field.type)}) was handed over as UTF-8 bytes`, { fieldId: field.id });
  const { nullCount, nullBitmap } = validityOf(column.nulls, length);
  if (field.required && nullCount > 0) {
    throw new TidemarkError('InvalidInput', `column ${field.name} is required but ${nullCount} row(s) are null`, { fieldId: field.id });
  }
  return makeVector(makeData({ type: new Utf8(), length, nullCount, nullBitmap, data: column.data, valueOffsets: column.offsets }));
}

const FIXED_WIDTH_ARRAYS: Record<string, (new (n: number) => FixedWidthColumn['values']) | undefined> = {
  long: BigInt64Array,
  timestamp: BigInt64Array,
  timestamptz: BigInt64Array,
  int: Int32Array,
  double: Float64Array,
  boolean: Uint8Array,
};

function buildFixedWidthVector(field: NestedField, column: FixedWidthColumn): Vector {
  const type = arrowTypeOf(field);
  const t = field.type as string;
  const { values, nulls } = column;
  const length = values.length;
  const expected = FIXED_WIDTH_ARRAYS[t];
  if (!expected || !(values instanceof expected)) {
    throw new TidemarkError('Internal', `column ${field.name} (${t}) was handed over as ${values.constructor.name}`, { fieldId: field.id });
  }
  const { nullCount, nullBitmap } = validityOf(nulls, length);
  if (field.required && nullCount > 0) {
    throw new TidemarkError('InvalidInput', `column ${field.name} is required but ${nullCount} row(s) are null`, { fieldId: field.id });
  }
  if (t === 'boolean') {
    const bits = new Uint8Array((length + 7) >> 3);
    for (let i = 0; i < length; i++) if (values[i] === 1) bits[i >> 3]! |= 1 << (i & 7);
    return makeVector(makeData({ type: type as Bool, length, nullCount, nullBitmap, data: bits }));
  }
  return makeVector(makeData({ type: type as Int32, length, nullCount, nullBitmap, data: values as Int32Array }));
}

/** Builds one Arrow vector of canonical values (or of a FixedWidthColumn) for an Iceberg primitive field. */
export function buildVector(field: NestedField, values: unknown[] | FixedWidthColumn | VariableWidthColumn): Vector {
  if (!Array.isArray(values)) return 'offsets' in values ? buildUtf8Vector(field, values) : buildFixedWidthVector(field, values);
  const type = arrowTypeOf(field);
  const t = field.type as string;
  const length = values.length;
  const { bitmap, nullCount } = nullBitmap(values);
  if (field.required && nullCount > 0) {
    throw new TidemarkError('InvalidInput', `column ${field.name} is required but ${nullCount} row(s) are null`, { fieldId: field.id });
  }
  const base = { type, length, nullCount, nullBitmap: bitmap } as const;
  const fill = <A extends { [i: number]: number | bigint }>(arr: A, conv: (v: unknown) => number | bigint): A => {
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) arr[i] = conv(v);
    }
    return arr;
  };
  // The sink's hot columns: values already numbers (int, float, double) or bigints (long) skip the conversion call.
  const fillNumbers = <A extends Int32Array | Float32Array | Float64Array>(arr: A): A => {
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) arr[i] = typeof v === 'number' ? v : Number(v);
    }
    return arr;
  };
  const fillBigInts = (arr: BigInt64Array): BigInt64Array => {
    for (let i = 0; i < length; i++) {
      const v = values[i];
      if (v !== null && v !== undefined) arr[i] = typeof v === 'bigint' ? v : BigInt(v as number);
    }
    return arr;
  };
  const dec = parseDecimalType(t);
  if (dec) {
    const words = new Uint32Array(length * 4);
    values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      const small = parseSmallDecimal(typeof v === 'string' ? v : String(v), dec.scale);
      if (small !== null) {
        // Low 64 bits from the safe integer, high 64 bits the sign extension (two's complement).
        // Words stored in place: a subarray per value cost more than the parse.
        const hi = Math.floor(small / TWO_32);
        words[i * 4] = small - hi * TWO_32;
        words[i * 4 + 1] = hi;
        words[i * 4 + 2] = words[i * 4 + 3] = small < 0 ? 0xffffffff : 0;
        return;
      }
      let u = BigInt.asUintN(128, parseDecimal(String(v), dec.scale));
      for (let w = 0; w < 4; w++) {
        words[i * 4 + w] = Number(u & 0xffffffffn);
        u >>= 32n;
      }
    });
    return makeVector(makeData({ ...base, type: type as Decimal, data: words }));
  }
  const fixed = t === 'uuid' ? 16 : parseFixedType(t);
  if (fixed !== null) {
    const data = new Uint8Array(length * fixed);
    values.forEach((v, i) => {
      if (v !== null && v !== undefined) data.set(t === 'uuid' ? uuidToBytes(String(v)) : (v as Uint8Array), i * fixed);
    });
    return makeVector(makeData({ ...base, type: type as FixedSizeBinary, data }));
  }
  switch (t) {
    case 'boolean': {
      const data = new Uint8Array((length + 7) >> 3);
      values.forEach((v, i) => {
        if (v === true) data[i >> 3]! |= 1 << (i & 7);
      });
      return makeVector(makeData({ ...base, type: type as Bool, data }));
    }
    case 'int':
      return makeVector(makeData({ ...base, type: type as Int32, data: fillNumbers(new Int32Array(length)) }));
    case 'long':
      return makeVector(makeData({ ...base, type: type as Int64, data: fillBigInts(new BigInt64Array(length)) }));
    case 'float':
      return makeVector(makeData({ ...base, type: type as Float32, data: fillNumbers(new Float32Array(length)) }));
    case 'double':
      return makeVector(makeData({ ...base, type: type as Float64, data: fillNumbers(new Float64Array(length)) }));
    case 'date':
      return makeVector(makeData({ ...base, type: type as DateDay, data: fill(new Int32Array(length), (v) => parseDate(String(v))) }));
    case 'time':
      return makeVector(makeData({ ...base, type: type as TimeMicrosecond, data: fill(new BigInt64Array(length), (v) => parseTime(String(v))) }));
    case 'timestamp':
    case 'timestamptz': {
      const data = new BigInt64Array(length);
      const words = new Int32Array(data.buffer);
      for (let i = 0; i < length; i++) {
        const v = values[i];
        if (v === null || v === undefined) continue;
        // µs since the epoch as given by the CDC reader (see ColumnBatch): no text round trip.
        if (typeof v === 'bigint') {
          data[i] = v;
          continue;
        }
        const text = String(v);
        const fast = parseCanonicalTimestampMicros(text);
        if (fast !== null) setInt64Words(words, i, fast);
        else data[i] = parseTimestamp(text);
      }
      return makeVector(makeData({ ...base, type: type as TimestampMicrosecond, data }));
    }
    case 'string': {
      const { offsets, data } = utf8Column(values);
      return makeVector(makeData({ ...base, type: type as Utf8, data, valueOffsets: offsets }));
    }
    case 'binary': {
      const { offsets, data } = bytesColumn(values, (v) => v as Uint8Array);
      return makeVector(makeData({ ...base, type: type as Binary, data, valueOffsets: offsets }));
    }
  }
  throw new TidemarkError('Unsupported', `writing type ${t} is not supported`);
}

/** Canonical rows → an Arrow table with field ids, in the schema's column order. */
export function rowsToArrow(schema: Schema | { fields: NestedField[] }, rows: Record<string, unknown>[]): Table {
  const columns: Record<string, unknown[]> = {};
  for (const f of schema.fields) columns[f.name] = rows.map((r) => r[f.name] ?? null);
  return columnsToArrow(schema.fields, columns, rows.length);
}

/**
 * Columns of canonical values (`columns[name]` holds `length` values, or is a FixedWidthColumn of
 * `length`, or for a string a VariableWidthColumn; an absent column is all null) → an Arrow table with field ids, in `fields` order.
 */
export function columnsToArrow(fields: NestedField[], columns: Record<string, unknown[] | FixedWidthColumn | VariableWidthColumn | undefined>, length: number): Table {
  const vectors = fields.map((f) => buildVector(f, columns[f.name] ?? new Array<unknown>(length).fill(null)));
  return tableWithSchema(new ArrowSchema(fields.map(arrowFieldOf)), vectors, length);
}

/** One record batch holding `vectors` under `schema` (keeps field metadata, unlike Table's helpers). */
export function tableWithSchema(schema: ArrowSchema, vectors: Vector[], length: number): Table {
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children: vectors.map((v) => v.data[0]!) });
  return new Table([new RecordBatch(schema, data)]);
}
