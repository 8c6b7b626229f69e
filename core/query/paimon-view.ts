/**
 * A Paimon table version as a DuckDB view, so SQL, row diff and the explorer's paging work on Paimon
 * tables as on Iceberg ones. Unlike Iceberg views (merge-on-read SQL over Parquet files), the rows
 * come from scanPaimonRows: the LSM merge, deletion vectors and schema evolution are done there once,
 * in TypeScript, and the merged rows are handed to DuckDB as one Arrow IPC stream. That costs memory
 * proportional to the table version, which suits the explorer's tables; it keeps one implementation
 * of Paimon's merge rules instead of a second one in SQL.
 */
import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Float32,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  Table,
  tableToIPC,
  TimeMicrosecond,
  Timestamp,
  TimeUnit,
  Utf8,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { TidemarkError } from '../errors';
import { parseDecimalType, type IcebergType, type NestedField } from '../lake';
import { scanPaimonRows, type PaimonSnapshotSelector } from '../lake/paimon';
import { bytesToHex, parseDate, parseDecimal, parseTime, parseTimestamp } from '../lake';
import { quoteIdent } from './duckdb';
import { checkPaimonMemoryBudget } from './memory-budget';
import type { QueryEngine } from './engine';
import { nextObjectName } from './scan-view';

export interface PaimonView {
  /** The DuckDB view name (unique per process). */
  view: string;
  /** The view's columns with their DuckDB types, in the snapshot schema's order. */
  columns: { name: string; type: string }[];
  /** The snapshot read; null for a table without snapshots (the view is then empty). */
  snapshotId: bigint | null;
}

/** Validity bitmap (LSB first, as Arrow lays it out) and null count of `values`. */
function validity(values: unknown[]): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { bitmap, nullCount };
}

/** A fixed-width column: `convert` maps each non-null canonical value into slot i of `data`. */
function fixedWidth<T extends DataType>(type: T, values: unknown[], data: ArrayLike<unknown> & { length: number }, convert: (v: unknown, i: number) => void): Vector<T> {
  const { bitmap, nullCount } = validity(values);
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) convert(v, i);
  });
  // makeData's typings tie `data` to T's array type; the callers pass the matching typed array.
  const props = { type, length: values.length, nullCount, nullBitmap: bitmap, data } as never;
  return makeVector(makeData(props)) as unknown as Vector<T>;
}

/**
 * A Utf8 or Binary column built by hand: apache-arrow's vectorFromArray compiles its null check
 * with `new Function`, which the renderer's CSP (no 'unsafe-eval') refuses, so a Paimon grid in
 * the app failed with an EvalError.
 */
function variableWidth(type: Utf8 | Binary, values: (string | Uint8Array | null)[]): Vector {
  const { bitmap, nullCount } = validity(values);
  const encoder = new TextEncoder();
  const parts = values.map((v) => (v === null ? null : typeof v === 'string' ? encoder.encode(v) : v));
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  parts.forEach((b, i) => {
    total += b ? b.length : 0;
    offsets[i + 1] = total;
  });
  const data = new Uint8Array(total);
  parts.forEach((b, i) => b && data.set(b, offsets[i]!));
  const props = { type, length: values.length, nullCount, nullBitmap: bitmap, valueOffsets: offsets, data } as never;
  return makeVector(makeData(props)) as unknown as Vector;
}

/** JSON text of a nested canonical value: bigints as numbers' digits, bytes as hex (how the view holds ROW, ARRAY and MAP columns). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? bytesToHex(x) : x));
}

/** Decimal(P ≤ 38, S) as Arrow's 128-bit little-endian two's complement. */
function decimalColumn(values: unknown[], precision: number, scale: number): Vector {
  const words = new Uint32Array(values.length * 4);
  const mask = (1n << 128n) - 1n;
  return fixedWidth(new Decimal(scale, precision, 128), values, words, (v, i) => {
    let u = parseDecimal(String(v), scale) & mask;
    for (let w = 0; w < 4; w++) {
      words[i * 4 + w] = Number(u & 0xffffffffn);
      u >>= 32n;
    }
  });
}

/** One column of canonical values (core/lake/values.ts) as an Arrow vector of the matching type. */
function buildColumn(field: NestedField, values: unknown[]): Vector {
  const type: IcebergType = field.type;
  if (typeof type !== 'string') return variableWidth(new Utf8(), values.map((v) => (v === null || v === undefined ? null : toJson(v))));
  const dec = parseDecimalType(type);
  if (dec) {
    // Arrow's Decimal128 holds 38 digits; wider Paimon decimals (none exist: DECIMAL caps at 38) would be text.
    if (dec.precision <= 38) return decimalColumn(values, dec.precision, dec.scale);
    return variableWidth(new Utf8(), values.map((v) => (v === null || v === undefined ? null : String(v))));
  }
  const n = values.length;
  switch (type) {
    case 'boolean': {
      const bits = new Uint8Array(Math.ceil(n / 8));
      return fixedWidth(new Bool(), values, bits, (v, i) => {
        if (v === true) bits[i >> 3]! |= 1 << (i & 7);
      });
    }
    case 'int': {
      const data = new Int32Array(n);
      return fixedWidth(new Int32(), values, data, (v, i) => (data[i] = Number(v)));
    }
    case 'long': {
      const data = new BigInt64Array(n);
      return fixedWidth(new Int64(), values, data, (v, i) => (data[i] = BigInt(v as bigint)));
    }
    case 'float': {
      const data = new Float32Array(n);
      return fixedWidth(new Float32(), values, data, (v, i) => (data[i] = Number(v)));
    }
    case 'double': {
      const data = new Float64Array(n);
      return fixedWidth(new Float64(), values, data, (v, i) => (data[i] = Number(v)));
    }
    case 'date': {
      const data = new Int32Array(n);
      return fixedWidth(new DateDay(), values, data, (v, i) => (data[i] = parseDate(String(v))));
    }
    case 'time': {
      const data = new BigInt64Array(n);
      return fixedWidth(new TimeMicrosecond(), values, data, (v, i) => (data[i] = parseTime(String(v))));
    }
    case 'timestamp':
    case 'timestamptz': {
      const data = new BigInt64Array(n);
      const arrowType = new Timestamp(TimeUnit.MICROSECOND, type === 'timestamptz' ? 'UTC' : null);
      return fixedWidth(arrowType, values, data, (v, i) => (data[i] = parseTimestamp(String(v))));
    }
    case 'string':
      return variableWidth(new Utf8(), values.map((v) => (v === null || v === undefined ? null : String(v))));
    case 'binary':
      return variableWidth(new Binary(), values.map((v) => (v instanceof Uint8Array ? v : null)));
    default:
      throw new TidemarkError('Unsupported', `column ${field.name}: type ${type} cannot be loaded into the query engine`, { type });
  }
}

/**
 * Registers a Paimon table version (default: the latest snapshot) as a DuckDB view and returns its
 * name. Types: BIGINT → Int64, DECIMAL → Decimal128, DATE → DateDay, TIMESTAMP(_LTZ) → microsecond
 * timestamps (LTZ as UTC), TIME → microseconds, strings, bytes, booleans, ints, floats; ROW, ARRAY
 * and MAP columns become JSON text (maps as [{key, value}]). Each call loads the rows anew.
 */
export async function registerPaimonView(engine: QueryEngine, root: string, selector: PaimonSnapshotSelector = {}, table: string = root): Promise<PaimonView> {
  // Nothing is read when the version would not fit the engine's memory budget (named as `table`).
  const beforeRead = (files: { recordCount: number; fileSizeBytes: number }[], fields: NestedField[]) => checkPaimonMemoryBudget(table, files, fields, engine.memoryBudgetBytes);
  const scan = await scanPaimonRows(engine.storage, root, { ...selector, beforeRead });
  return { ...(await registerRowsView(engine, scan.columns, scan.rows)), snapshotId: scan.snapshotId };
}

/**
 * Loads rows of canonical values (by column name) into DuckDB as one Arrow stream and returns the
 * view over them with its DuckDB column types (the system tables of core/query/paimon-system-tables.ts
 * are loaded so too).
 */
export async function registerRowsView(engine: QueryEngine, fields: NestedField[], rows: Record<string, unknown>[]): Promise<Omit<PaimonView, 'snapshotId'>> {
  const vectors: Record<string, Vector> = {};
  for (const f of fields) vectors[f.name] = buildColumn(f, rows.map((r) => r[f.name]));
  const view = nextObjectName('tm_paimon_view');
  const tableName = nextObjectName('tm_paimon');
  // An Arrow stream with no record batch is refused by DuckDB's reader: insert one row and filter it
  // out, which keeps the column types of an empty table version.
  const empty = rows.length === 0;
  const table = empty
    ? new Table(Object.fromEntries(fields.map((f) => [f.name, buildColumn(f, [null])])))
    : new Table(vectors);
  await engine.session.insertArrowIpc(tableName, tableToIPC(table, 'stream'));
  const select = fields.map((f) => quoteIdent(f.name)).join(', ');
  await engine.session.query(`CREATE VIEW ${quoteIdent(view)} AS SELECT ${select} FROM ${quoteIdent(tableName)}${empty ? ' WHERE false' : ''}`);
  const described = await engine.session.query(`DESCRIBE ${quoteIdent(view)}`);
  const nameIdx = described.columns.findIndex((c) => c.name === 'column_name');
  const typeIdx = described.columns.findIndex((c) => c.name === 'column_type');
  const columns = described.rows.map((r) => ({ name: String(r[nameIdx]), type: String(r[typeIdx]) }));
  return { view, columns };
}
