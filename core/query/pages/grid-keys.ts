/**
 * The grid's sort and filter over lazy rows: one column's values in a form that is cheap to hold
 * and compare for millions of rows (numbers in a Float64Array where exact, canonical values
 * otherwise), the order they sort in, and the grid's filters compiled against a column's type.
 *
 * Semantics follow the SQL the grid used before (core/query/page.ts readPage, DuckDB): NULLs sort
 * last in both directions; NaN sorts above every number and equals NaN; strings order by code point
 * (UTF-8 byte order); a comparison's text is cast to the column's type and matches nothing when it
 * does not parse (TRY_CAST); NULL matches only `is null`; `contains` is a case-insensitive substring
 * of the value's canonical text (core/lake/values.ts). Browser-safe.
 */
import type { Data } from 'apache-arrow';
import { Type } from 'apache-arrow';
import { TidemarkError } from '../../errors';
import { convertArrowData } from '../../lake';
import { parseDecimalType, type NestedField } from '../../lake';
import type { Predicate } from '../../lake';
import { bytesToHex, formatDate, formatDecimal, formatTime, formatTimestamp, parseDate, parseDecimal, parseTime, parseTimestamp } from '../../lake';

export type GridFilterOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'contains' | 'is null' | 'is not null';
export interface GridFilter {
  column: string;
  op: GridFilterOp;
  value?: string;
}
export interface GridSort {
  column: string;
  desc: boolean;
}

/**
 * One column's values for rows 0..n-1: `num` when every value is a number that compares exactly as
 * a double (int, long below 2^53, float, double); `any` holds canonical values (null for NULL).
 */
export type KeyColumn = { kind: 'num'; values: Float64Array; nulls: Uint8Array | null } | { kind: 'any'; values: unknown[] };

const TWO_32 = 4294967296;

/** Iceberg types whose canonical values are numbers, or bigints that fit a double (long). */
function isNumeric(field: NestedField): boolean {
  return field.type === 'int' || field.type === 'long' || field.type === 'float' || field.type === 'double';
}

/**
 * A column's key from its decoded Arrow chunks (in row order). Longs are read from their 32-bit
 * words: a BigInt per row would cost more than the sort.
 */
export function readKeyColumn(chunks: Data[], field: NestedField, where: string): KeyColumn {
  const rows = chunks.reduce((n, d) => n + d.length, 0);
  if (isNumeric(field)) {
    const values = new Float64Array(rows);
    let nulls: Uint8Array | null = null;
    let at = 0;
    let exact = true;
    for (const data of chunks) {
      const raw = data.values as unknown;
      if (data.typeId !== Type.Int && data.typeId !== Type.Float) {
        exact = false;
        break;
      }
      if (data.nullCount > 0) {
        nulls ??= new Uint8Array(rows);
        for (let i = 0; i < data.length; i++) if (!data.getValid(i)) nulls[at + i] = 1;
      }
      if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
        const words = new Int32Array(raw.buffer, raw.byteOffset, raw.length * 2);
        const unsigned = raw instanceof BigUint64Array;
        for (let i = 0; i < data.length; i++) {
          const hi = words[2 * i + 1]!;
          // |value| < 2^53 exactly when the high word is within ±2^21 (unsigned: below 2^21).
          if (hi < (unsigned ? 0 : -2097152) || hi >= 2097152) {
            exact = false;
            break;
          }
          values[at + i] = hi * TWO_32 + (words[2 * i]! >>> 0);
        }
        if (!exact) break;
      } else if (ArrayBuffer.isView(raw) && !(raw instanceof DataView)) {
        const typed = raw as unknown as ArrayLike<number>;
        for (let i = 0; i < data.length; i++) values[at + i] = typed[i]!;
      } else {
        exact = false;
        break;
      }
      at += data.length;
    }
    if (exact) return { kind: 'num', values, nulls };
  }
  const out: unknown[] = [];
  for (const data of chunks) for (const v of convertArrowData(data, field.type, where)) out.push(v);
  return { kind: 'any', values: out };
}

/** A column of `rows` copies of one canonical value (a column a file lacks). */
export function constantKeyColumn(value: unknown, rows: number): KeyColumn {
  if (typeof value === 'number' || (typeof value === 'bigint' && value >= -9007199254740991n && value <= 9007199254740991n)) {
    return { kind: 'num', values: new Float64Array(rows).fill(Number(value)), nulls: null };
  }
  return { kind: 'any', values: new Array<unknown>(rows).fill(value ?? null) };
}

export function isNullAt(k: KeyColumn, i: number): boolean {
  return k.kind === 'num' ? k.nulls !== null && k.nulls[i] === 1 : k.values[i] === null || k.values[i] === undefined;
}

/** Orders numbers as DuckDB does: NaN above every number and equal to NaN; -0 equals 0. */
export function compareNumbers(a: number, b: number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (a === b) return 0;
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  return an === bn ? 0 : an ? 1 : -1;
}

/** Strings by code point (UTF-8 byte order), not by UTF-16 unit. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (a code point above U+FFFF) sorts after every other UTF-16 unit.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Orders two non-null canonical values of one column's type. Decimals (strings of digits with a
 * fixed scale per column) compare as numbers; dates, times and timestamps have a fixed-width form
 * that orders as text for years 0–9999.
 */
export function compareCanonical(a: unknown, b: unknown, decimal: boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return compareNumbers(a, b);
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = BigInt(a as bigint);
    const y = BigInt(b as bigint);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return decimal ? compareDecimalText(a, b) : compareText(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytes(a, b);
  return compareText(JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '', JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '');
}

/** Two decimal texts of one scale ("-12.50"): by sign, then integer digits, then text. */
function compareDecimalText(a: string, b: string): number {
  const an = a.startsWith('-');
  const bn = b.startsWith('-');
  if (an !== bn) return an ? -1 : 1;
  const digits = (s: string, neg: boolean) => (s.indexOf('.') < 0 ? s.length : s.indexOf('.')) - (neg ? 1 : 0);
  const ai = digits(a, an);
  const bi = digits(b, bn);
  const c = ai !== bi ? ai - bi : a < b ? -1 : a > b ? 1 : 0;
  return an ? -c : c;
}

/** Orders row i of `k` against row j of `k` (both non-null). */
export function compareAt(k: KeyColumn, i: number, j: number, decimal: boolean): number {
  return k.kind === 'num' ? compareNumbers(k.values[i]!, k.values[j]!) : compareCanonical(k.values[i], k.values[j], decimal);
}

/** The canonical value's text for `contains`. */
function textOf(v: unknown): string {
  if (v instanceof Uint8Array) return bytesToHex(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  return String(v);
}

/**
 * The filter's text as a canonical value of the column's type, or undefined when it does not
 * parse (then the comparison matches no row, as SQL's TRY_CAST gives NULL).
 */
export function castFilterValue(field: NestedField, text: string): unknown {
  const t = text.trim();
  const type = field.type;
  if (typeof type !== 'string') throw new TidemarkError('Unsupported', `filter on ${field.name}: comparing a ${type.type} column is not supported; use contains, is null or is not null`, { column: field.name });
  try {
    if (type === 'int' || type === 'long') {
      if (!/^[+-]?\d+$/.test(t)) return undefined;
      const v = BigInt(t);
      if (type === 'int') return v >= -2147483648n && v <= 2147483647n ? Number(v) : undefined;
      return v >= -(2n ** 63n) && v < 2n ** 63n ? v : undefined;
    }
    if (type === 'float' || type === 'double') {
      let v: number;
      if (/^[+-]?nan$/i.test(t)) v = NaN;
      else if (/^[+-]?inf(inity)?$/i.test(t)) v = t.startsWith('-') ? -Infinity : Infinity;
      else if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) v = Number(t);
      else return undefined;
      return type === 'float' ? Math.fround(v) : v;
    }
    if (type === 'boolean') {
      if (/^(true|t|1)$/i.test(t)) return true;
      if (/^(false|f|0)$/i.test(t)) return false;
      return undefined;
    }
    if (type === 'string') return text;
    if (type === 'uuid') return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t) ? t.toLowerCase() : undefined;
    if (type === 'date') return /^\d{4}-\d{2}-\d{2}$/.test(t) ? formatDate(parseDate(t)) : undefined;
    if (type === 'time') return formatTime(parseTime(t));
    if (type === 'timestamp' || type === 'timestamptz') {
      const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00` : t;
      return formatTimestamp(parseTimestamp(iso), type === 'timestamptz');
    }
    const dec = parseDecimalType(type);
    if (dec) return formatDecimal(parseDecimal(t, dec.scale), dec.scale);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'DataInvalid') return undefined;
    throw e;
  }
  throw new TidemarkError('Unsupported', `filter on ${field.name}: comparing a ${type} column is not supported; use contains, is null or is not null`, { column: field.name });
}

export interface CompiledFilter {
  field: NestedField;
  /** True when row i of the column matches. */
  test(k: KeyColumn, i: number): boolean;
  /** The same condition for file and row-group pruning by statistics, or null when it cannot prune. */
  prune: Predicate | null;
}

/** Compiles one grid filter on `field`; `where` names it in errors (e.g. `filters[0]`). */
export function compileFilter(field: NestedField, f: GridFilter, where: string): CompiledFilter {
  if (f.op === 'is null') return { field, test: (k, i) => isNullAt(k, i), prune: { column: field.name, op: 'is-null' } };
  if (f.op === 'is not null') return { field, test: (k, i) => !isNullAt(k, i), prune: { column: field.name, op: 'not-null' } };
  if (f.value === undefined) throw new TidemarkError('InvalidInput', `${where}: ${f.op} needs a value`, { column: field.name });
  if (f.op === 'contains') {
    const needle = f.value.toLowerCase();
    return { field, test: (k, i) => !isNullAt(k, i) && textOf(k.kind === 'num' ? numberText(field, k.values[i]!) : k.values[i]).toLowerCase().includes(needle), prune: null };
  }
  const value = castFilterValue(field, f.value);
  if (value === undefined) return { field, test: () => false, prune: null };
  const op = f.op;
  const decimal = typeof field.type === 'string' && parseDecimalType(field.type) !== null;
  // Numbers compare as doubles; a long beyond ±2^53 lies beyond every value a `num` column holds.
  const asNumber = typeof value === 'bigint' ? (value >= 2n ** 53n ? Infinity : value <= -(2n ** 53n) ? -Infinity : Number(value)) : typeof value === 'number' ? value : null;
  const accept = (c: number) => (op === '=' ? c === 0 : op === '!=' ? c !== 0 : op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0);
  const test = (k: KeyColumn, i: number) => {
    if (isNullAt(k, i)) return false;
    if (k.kind === 'num') return accept(compareNumbers(k.values[i]!, asNumber!));
    return accept(compareCanonical(k.values[i], value, decimal));
  };
  // Doubles are not pruned: Iceberg bounds leave NaN out, and NaN satisfies `>` here.
  const prunable = field.type !== 'float' && field.type !== 'double' && field.type !== 'string';
  return { field, test, prune: prunable ? { column: field.name, op, value } : null };
}

function numberText(field: NestedField, v: number): string {
  // Longs and ints as integers; doubles as JavaScript prints them.
  return field.type === 'long' || field.type === 'int' ? String(Math.trunc(v)) : String(v);
}
