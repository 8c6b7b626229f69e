/**
 * core/cdc/columns: rows held as columns — a snapshot chunk decoded straight into columns
 * (snapshot/text-columns.ts) and the pipeline buffer's parts (pipeline/sink/columns.ts) share this
 * shape — and their values as plain canonical values. A folder of its own, importing nothing, so
 * that the pipeline's sink worker can use it without loading the MySQL source (core/cdc's index).
 */

/** A typed column: `data[i]` is row i's value unless `nulls[i]` is 1 (then data[i] is 0). */
export interface TypedColumn {
  form: 'bigint' | 'number' | 'boolean';
  /** bigint: BigInt64Array (int64 values); number: Float64Array; boolean: Uint8Array of 0 and 1. At least `count` long. */
  data: BigInt64Array | Float64Array | Uint8Array;
  /** 1 where the value is null; null when none is. */
  nulls: Uint8Array | null;
}

/**
 * A string column as Arrow UTF-8: value i is the bytes [offsets[i], offsets[i + 1]) of `data` —
 * a snapshot chunk's bytes as the server sent them, or a streamed part's strings encoded at the
 * part's end (pipeline/sink/columns.ts).
 */
export interface Utf8Column {
  form: 'utf8';
  offsets: Int32Array;
  data: Uint8Array;
  nulls: Uint8Array | null;
}

/** One column of rows: plain canonical values (`values[i]`), typed, or UTF-8. */
export type SnapshotColumn = unknown[] | TypedColumn | Utf8Column;

/** The first `count` values of a column as plain canonical values (bigints, numbers, booleans, strings, nulls). */
export function columnValues(c: SnapshotColumn, count: number): unknown[] {
  if (Array.isArray(c)) return c;
  const out = new Array<unknown>(count);
  const nulls = c.nulls;
  if (c.form === 'utf8') {
    const bytes = Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength);
    for (let i = 0; i < count; i++) out[i] = nulls !== null && nulls[i] === 1 ? null : bytes.toString('utf8', c.offsets[i], c.offsets[i + 1]);
    return out;
  }
  const data = c.data;
  const bool = c.form === 'boolean';
  for (let i = 0; i < count; i++) out[i] = nulls !== null && nulls[i] === 1 ? null : bool ? data[i] === 1 : data[i];
  return out;
}

/** Value `i` of a column as a plain canonical value (columnValues for one value). */
export function columnValueAt(c: SnapshotColumn, i: number): unknown {
  if (Array.isArray(c)) return c[i] ?? null;
  if (c.nulls !== null && c.nulls[i] === 1) return null;
  if (c.form === 'utf8') return Buffer.from(c.data.buffer, c.data.byteOffset, c.data.byteLength).toString('utf8', c.offsets[i], c.offsets[i + 1]);
  return c.form === 'boolean' ? c.data[i] === 1 : c.data[i];
}
