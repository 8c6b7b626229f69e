/**
 * The columns of a buffered part (sink-buffer.ts). A column whose lake type's canonical source
 * value is a bigint (long, timestamp, timestamptz), a number (int, double) or a boolean is kept in
 * a typed array while every value has that form: no element of a JS array per value, no copy when
 * the part is posted to the sink worker (its buffer is transferred), and the streamed write path
 * takes it into Arrow as it is (sink-stream.ts). A value of another form (a transform's output, a
 * key read back from the lake) turns the column into plain values from there on, with the same
 * values as before. Any other column holds plain values.
 */

/** A typed column: `data[i]` is row i's value unless `nulls[i]` is 1 (then data[i] is 0). */
export interface TypedColumn {
  form: 'bigint' | 'number' | 'boolean';
  /** bigint: BigInt64Array; number: Float64Array; boolean: Uint8Array of 0 and 1. At least `count` long. */
  data: BigInt64Array | Float64Array | Uint8Array;
  /** 1 where the value is null; null when none is. */
  nulls: Uint8Array | null;
}

/**
 * A string column of a streamed part as Arrow UTF-8 (lake/write encodeAsciiStrings: all ASCII):
 * encoded in the sync thread at the part's end (three native calls) and transferred, instead of
 * one string per value serialized, rebuilt in the worker's heap and encoded there.
 */
export interface Utf8Column {
  form: 'utf8';
  offsets: Int32Array;
  data: Uint8Array;
  nulls: Uint8Array | null;
}

/** A part's column: plain source values (`values[i]`), typed, or UTF-8. */
export type PartColumn = unknown[] | TypedColumn | Utf8Column;

export function isTypedColumn(c: PartColumn): c is TypedColumn {
  return !Array.isArray(c) && c.form !== 'utf8';
}

export function isUtf8Column(c: PartColumn): c is Utf8Column {
  return !Array.isArray(c) && c.form === 'utf8';
}

/** The typed form of a column of lake type `type`, or null (plain values). */
export function typedFormOf(type: string): TypedColumn['form'] | null {
  switch (type) {
    case 'long':
    case 'timestamp':
    case 'timestamptz':
      return 'bigint';
    case 'int':
    case 'double':
      return 'number';
    case 'boolean':
      return 'boolean';
  }
  return null;
}

const MIN_INT64 = -(2n ** 63n);
const MAX_INT64 = 2n ** 63n - 1n;
const FIRST_CAPACITY = 256;
/** pushInt64 writes an int64 as [low, high] 32-bit halves: the byte order of little-endian machines. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Appends one column's values of a part. `push` keeps the typed array while values come in its
 * form (growing it by doubling) and switches to plain values at the first one that does not; a
 * bigint outside the signed 64-bit range is such a value (BigInt64Array would wrap it).
 */
export class ColumnBuilder {
  private form: TypedColumn['form'] | null;
  private big: BigInt64Array | null = null;
  /** `big`'s bytes as 32-bit halves (pushInt64). */
  private halves: Uint32Array | null = null;
  private num: Float64Array | null = null;
  private bool: Uint8Array | null = null;
  private nulls: Uint8Array | null = null;
  private plain: unknown[] | null = null;
  private capacity = 0;
  length = 0;

  constructor(type: string) {
    this.form = typedFormOf(type);
    if (this.form === null) this.plain = [];
    else this.grow(FIRST_CAPACITY);
  }

  push(v: unknown): void {
    const i = this.length;
    if (this.plain !== null) {
      this.plain.push(v ?? null);
      this.length = i + 1;
      return;
    }
    if (i === this.capacity) this.grow(this.capacity * 2);
    if (v === null || v === undefined) {
      this.nulls ??= new Uint8Array(this.capacity);
      this.nulls[i] = 1;
    } else if (this.form === 'bigint') {
      if (typeof v === 'bigint' && v >= MIN_INT64 && v <= MAX_INT64) this.big![i] = v;
      else return this.pushPlain(v);
    } else if (this.form === 'number') {
      if (typeof v === 'number') this.num![i] = v;
      else return this.pushPlain(v);
    } else if (typeof v === 'boolean') this.bool![i] = v ? 1 : 0;
    else return this.pushPlain(v);
    this.length = i + 1;
  }

  /**
   * `push(v)`, where a number `v` stands for the bigint of the same value (a safe integer: the
   * snapshot rows' int64 columns, TransactionBatch.snapshotRows): written into a bigint column as
   * its two 32-bit halves, without a BigInt.
   */
  pushInt64(v: unknown): void {
    if (typeof v !== 'number') return this.push(v);
    if (this.big === null || !LITTLE_ENDIAN || !Number.isSafeInteger(v)) return this.push(Number.isInteger(v) ? BigInt(v) : v);
    const i = this.length;
    if (i === this.capacity) this.grow(this.capacity * 2);
    const hi = Math.floor(v / 2 ** 32);
    // Two's complement: Uint32Array stores a negative high half modulo 2^32.
    this.halves![2 * i] = v - hi * 2 ** 32;
    this.halves![2 * i + 1] = hi;
    this.length = i + 1;
  }

  /** The column so far (the builder is not used afterwards). */
  finish(): PartColumn {
    if (this.plain !== null) return this.plain;
    const data = (this.big ?? this.num ?? this.bool)!;
    return { form: this.form!, data, nulls: this.nulls };
  }

  private pushPlain(v: unknown): void {
    this.plain = columnValues(this.finish(), this.length);
    this.big = this.num = this.bool = this.nulls = null;
    this.halves = null;
    this.plain.push(v);
    this.length++;
  }

  private grow(capacity: number): void {
    const copy = <A extends BigInt64Array | Float64Array | Uint8Array>(old: A | null, make: (n: number) => A): A => {
      const next = make(capacity);
      if (old) next.set(old as never);
      return next;
    };
    if (this.form === 'bigint') {
      this.big = copy(this.big, (n) => new BigInt64Array(n));
      this.halves = new Uint32Array(this.big.buffer);
    }
    else if (this.form === 'number') this.num = copy(this.num, (n) => new Float64Array(n));
    else this.bool = copy(this.bool, (n) => new Uint8Array(n));
    if (this.nulls) this.nulls = copy(this.nulls, (n) => new Uint8Array(n));
    this.capacity = capacity;
  }
}

/** The first `count` values of a column as plain source values (a typed column's bigints, numbers, booleans and nulls). */
export function columnValues(c: PartColumn, count: number): unknown[] {
  if (Array.isArray(c)) return c;
  if (isUtf8Column(c)) {
    const bytes = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
    const strings = new Array<unknown>(count);
    for (let i = 0; i < count; i++) strings[i] = c.nulls !== null && c.nulls[i] === 1 ? null : bytes.toString('latin1', c.offsets[i], c.offsets[i + 1]);
    return strings;
  }
  const out = new Array<unknown>(count);
  const { data, nulls } = c;
  const bool = c.form === 'boolean';
  for (let i = 0; i < count; i++) out[i] = nulls !== null && nulls[i] === 1 ? null : bool ? data[i] === 1 : data[i];
  return out;
}

/** The buffers of a part's typed columns, to transfer with it to the sink worker. */
export function transferablesOf(columns: PartColumn[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const c of columns) {
    if (Array.isArray(c)) continue;
    out.push(c.data.buffer as ArrayBuffer);
    if (c.form === 'utf8') out.push(c.offsets.buffer as ArrayBuffer);
    if (c.nulls) out.push(c.nulls.buffer as ArrayBuffer);
  }
  return out;
}
