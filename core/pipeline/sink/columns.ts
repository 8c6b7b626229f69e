/**
 * The columns of a buffered part (sink-buffer.ts). A column whose lake type's canonical source
 * value is a bigint (long, timestamp, timestamptz), a number (int, double) or a boolean is kept in
 * a typed array while every value has that form: no element of a JS array per value, no copy when
 * the part is posted to the sink worker (its buffer is transferred), and the streamed write path
 * takes it into Arrow as it is (sink-stream.ts). A value of another form (a transform's output, a
 * key read back from the lake) turns the column into plain values from there on, with the same
 * values as before. Any other column holds plain values.
 */

import { columnValueAt, columnValues, type SnapshotColumn, type TypedColumn, type Utf8Column } from '../../cdc/columns';

export { columnValueAt, columnValues, type TypedColumn, type Utf8Column };

/**
 * A part's column: plain source values (`values[i]`), typed, or UTF-8 — a snapshot chunk's column
 * shape (core/cdc/columns), so a chunk's columns are appended as they are (ColumnBuilder.append).
 * A string column is UTF-8 when a streamed part's ASCII strings were encoded in the sync thread at
 * the part's end (lake/write encodeAsciiStrings: three native calls) or a snapshot chunk's bytes
 * came as the server sent them; transferred to the sink worker instead of one string per value
 * serialized, rebuilt in the worker's heap and encoded there.
 */
export type PartColumn = SnapshotColumn;

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
  /** A string column fed UTF-8 blocks from its first value (append): its bytes, kept as they came. */
  private utf8: { offsets: Int32Array; data: Uint8Array; used: number } | null = null;
  private capacity = 0;
  length = 0;

  constructor(type: string) {
    this.form = typedFormOf(type);
    if (this.form === null) this.plain = [];
    else this.grow(FIRST_CAPACITY);
  }

  push(v: unknown): void {
    const i = this.length;
    if (this.utf8 !== null) return this.pushUtf8(v);
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

  /**
   * Appends values [from, to) of a column block (a snapshot chunk's column, text-columns.ts): a
   * typed block of this builder's form, or a UTF-8 block into a string column that holds nothing
   * else, is copied as it is; anything else goes value by value through `push`.
   */
  append(c: PartColumn, from: number, to: number): void {
    const n = to - from;
    if (!Array.isArray(c)) {
      if (c.form === 'utf8') {
        if (this.utf8 === null && this.plain !== null && this.plain.length === 0) this.utf8 = { offsets: new Int32Array(Math.max(FIRST_CAPACITY, n) + 1), data: new Uint8Array(Math.max(1024, c.offsets[to]! - c.offsets[from]!)), used: 0 };
        if (this.utf8 !== null) return this.appendUtf8(c, from, to);
      } else if (this.plain === null && this.form === c.form) {
        while (this.length + n > this.capacity) this.grow(this.capacity * 2);
        const target = (this.big ?? this.num ?? this.bool)!;
        (target as Uint8Array).set((c.data as Uint8Array).subarray(from, to), this.length);
        if (c.nulls !== null) (this.nulls ??= new Uint8Array(this.capacity)).set(c.nulls.subarray(from, to), this.length);
        this.length += n;
        return;
      }
    }
    for (let i = from; i < to; i++) this.push(columnValueAt(c, i));
  }

  private appendUtf8(c: Utf8Column, from: number, to: number): void {
    const u = this.utf8!;
    const n = to - from;
    const start = c.offsets[from]!;
    const bytes = c.offsets[to]! - start;
    if (this.length + n + 1 > u.offsets.length) {
      const grown = new Int32Array(Math.max(u.offsets.length * 2, this.length + n + 1));
      grown.set(u.offsets);
      u.offsets = grown;
      if (this.nulls) {
        const nulls = new Uint8Array(grown.length);
        nulls.set(this.nulls);
        this.nulls = nulls;
      }
    }
    if (u.used + bytes > u.data.length) {
      const grown = new Uint8Array(Math.max(u.data.length * 2, u.used + bytes));
      grown.set(u.data.subarray(0, u.used));
      u.data = grown;
    }
    u.data.set(c.data.subarray(start, start + bytes), u.used);
    const shift = u.used - start;
    const offsets = u.offsets;
    for (let i = 1; i <= n; i++) offsets[this.length + i] = c.offsets[from + i]! + shift;
    if (c.nulls !== null) (this.nulls ??= new Uint8Array(u.offsets.length)).set(c.nulls.subarray(from, to), this.length);
    u.used += bytes;
    this.length += n;
  }

  /** A value pushed into a string column held as UTF-8: a string is encoded, anything else turns the column into plain values. */
  private pushUtf8(v: unknown): void {
    if (v !== null && v !== undefined && typeof v !== 'string') return this.pushPlain(v);
    const text = v ?? null;
    const bytes = text === null ? 0 : Buffer.byteLength(text, 'utf8');
    const block: Utf8Column = { form: 'utf8', offsets: new Int32Array([0, bytes]), data: new Uint8Array(bytes), nulls: text === null ? new Uint8Array([1]) : null };
    if (text !== null) Buffer.from(block.data.buffer).write(text, 0, 'utf8');
    this.appendUtf8(block, 0, 1);
  }

  /** The column so far (the builder is not used afterwards). */
  finish(): PartColumn {
    if (this.utf8 !== null) return { form: 'utf8', offsets: this.utf8.offsets, data: this.utf8.data.subarray(0, this.utf8.used), nulls: this.nulls };
    if (this.plain !== null) return this.plain;
    const data = (this.big ?? this.num ?? this.bool)!;
    return { form: this.form!, data, nulls: this.nulls };
  }

  private pushPlain(v: unknown): void {
    this.plain = columnValues(this.finish(), this.length);
    this.utf8 = null;
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
