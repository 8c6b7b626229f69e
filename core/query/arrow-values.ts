/**
 * Arrow (as returned by DuckDB-wasm, apache-arrow 17) → Tidemark's canonical row values, the same
 * forms the lake core's reference reader produces (see core/lake/values.ts): long → bigint,
 * decimal → string with exactly `scale` digits, date → 'YYYY-MM-DD', time → 'HH:MM:SS.ffffff',
 * timestamp → ISO without zone, timestamptz → ISO + '+00:00', binary → Uint8Array,
 * struct → object, list → array, map → [{key, value}].
 * We read the raw buffers for timestamps, times and decimals because Arrow's `get()` returns
 * milliseconds as a float (loses microseconds) and decimals as word arrays.
 * Only structural typing is used so that the duckdb-wasm copy of apache-arrow (17) and ours (21)
 * never need to agree on classes.
 */
import { formatDate, formatDecimal, formatTime, formatTimestamp } from '../lake';

/** The parts of an Arrow `Data` chunk we read. */
interface ArrowData {
  type: ArrowType;
  length: number;
  offset: number;
  values: ArrayLike<number | bigint> & { BYTES_PER_ELEMENT?: number };
  valueOffsets?: Int32Array | BigInt64Array;
  children: ArrowData[];
  nullBitmap?: Uint8Array;
  nullCount: number;
}

export interface ArrowType {
  typeId: number;
  unit?: number;
  timezone?: string | null;
  scale?: number;
  bitWidth?: number;
  children?: { name: string; type: ArrowType }[];
  toString(): string;
}

export interface ArrowField {
  name: string;
  type: ArrowType;
}

/** The parts of an Arrow Table we read. */
export interface ArrowTableLike {
  numRows: number;
  schema: { fields: ArrowField[] };
  getChildAt(i: number): { data: ArrowData[] } | null;
}

// apache-arrow Type enum values (stable across versions).
const T = { Int: 2, Float: 3, Binary: 4, Utf8: 5, Bool: 6, Decimal: 7, Date: 8, Time: 9, Timestamp: 10, Interval: 11, List: 12, Struct: 13, FixedSizeBinary: 15, FixedSizeList: 16, Map: 17, Duration: 18, LargeBinary: 19, LargeUtf8: 20 } as const;

function isValid(d: ArrowData, i: number): boolean {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return true;
  const j = d.offset + i;
  return (d.nullBitmap[j >> 3]! & (1 << (j & 7))) !== 0;
}

/** Integer of any width from a time/timestamp buffer (32- or 64-bit) as bigint. */
function rawInt(d: ArrowData, i: number): bigint {
  const v = d.values[i]!;
  return typeof v === 'bigint' ? v : BigInt(v);
}

function toMicros(value: bigint, unit: number | undefined): bigint {
  // TimeUnit: SECOND 0, MILLISECOND 1, MICROSECOND 2, NANOSECOND 3.
  switch (unit) {
    case 0:
      return value * 1_000_000n;
    case 1:
      return value * 1_000n;
    case 3:
      return value / 1_000n;
    default:
      return value;
  }
}

const decoder = new TextDecoder();

function readValue(d: ArrowData, i: number): unknown {
  if (!isValid(d, i)) return null;
  const t = d.type;
  // Arrow JS slices value and offset buffers with the data; only bitmaps (validity, booleans) are
  // indexed from `offset`. So `j` indexes values and offsets, `d.offset + i` bits.
  const j = i;
  switch (t.typeId) {
    case T.Int: {
      const v = d.values[j]!;
      return (t.bitWidth ?? 32) === 64 ? BigInt(v) : Number(v);
    }
    case T.Float:
      return Number(d.values[j]);
    case T.Bool: {
      const bit = d.offset + i;
      return ((d.values as Uint8Array)[bit >> 3]! & (1 << (bit & 7))) !== 0;
    }
    case T.Utf8:
    case T.LargeUtf8:
    case T.Binary:
    case T.LargeBinary: {
      const offsets = d.valueOffsets!;
      const start = Number(offsets[j]);
      const end = Number(offsets[j + 1]);
      const bytes = (d.values as Uint8Array).subarray(start, end);
      return t.typeId === T.Utf8 || t.typeId === T.LargeUtf8 ? decoder.decode(bytes) : bytes.slice();
    }
    case T.FixedSizeBinary: {
      const width = (t as { byteWidth?: number }).byteWidth ?? 0;
      return (d.values as Uint8Array).slice(j * width, (j + 1) * width);
    }
    case T.Decimal: {
      const words = d.values as Uint32Array;
      const width = (t.bitWidth ?? 128) / 32;
      let v = 0n;
      for (let k = width - 1; k >= 0; k--) v = (v << 32n) | BigInt(words[j * width + k]!);
      return formatDecimal(BigInt.asIntN(width * 32, v), t.scale ?? 0);
    }
    case T.Date: {
      // DateUnit: DAY 0 (int32 days), MILLISECOND 1 (int64 ms).
      const v = d.values[j]!;
      return formatDate(t.unit === 0 ? Number(v) : Math.floor(Number(v) / 86_400_000));
    }
    case T.Time:
      return formatTime(toMicros(rawInt(d, i), t.unit));
    case T.Timestamp:
      return formatTimestamp(toMicros(rawInt(d, i), t.unit), t.timezone != null && t.timezone !== '');
    case T.Struct: {
      const out: Record<string, unknown> = {};
      t.children!.forEach((f, k) => (out[f.name] = readValue(d.children[k]!, j)));
      return out;
    }
    case T.List:
    case T.Map: {
      const offsets = d.valueOffsets!;
      const start = Number(offsets[j]);
      const end = Number(offsets[j + 1]);
      const child = d.children[0]!;
      const items: unknown[] = [];
      for (let k = start; k < end; k++) items.push(readValue(child, k - child.offset));
      return items;
    }
    case T.FixedSizeList: {
      const size = (t as { listSize?: number }).listSize ?? 0;
      const child = d.children[0]!;
      const items: unknown[] = [];
      for (let k = j * size; k < (j + 1) * size; k++) items.push(readValue(child, k - child.offset));
      return items;
    }
    default:
      // Intervals, durations, unions: not produced by Iceberg columns; show DuckDB's text.
      return String(d.values[j]);
  }
}

export interface ResultColumn {
  name: string;
  /** Arrow type as text, e.g. `Int64`, `Timestamp<MICROSECOND, UTC>`. */
  type: string;
}

export interface ResultSet {
  columns: ResultColumn[];
  /** Rows as arrays in column order, canonical values. */
  rows: unknown[][];
}

/** Converts a DuckDB-wasm result table to canonical values. */
export function toResultSet(table: ArrowTableLike): ResultSet {
  const fields = table.schema.fields;
  const columns = fields.map((f) => ({ name: f.name, type: String(f.type) }));
  const rows: unknown[][] = Array.from({ length: table.numRows }, () => new Array<unknown>(fields.length));
  fields.forEach((_f, c) => {
    const vector = table.getChildAt(c);
    if (!vector) return;
    let r = 0;
    for (const chunk of vector.data) {
      for (let i = 0; i < chunk.length; i++) rows[r++]![c] = readValue(chunk, i);
    }
  });
  return { columns, rows };
}

/** Rows as objects keyed by column name (later duplicate names win). */
export function toObjects(result: ResultSet): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]])));
}
