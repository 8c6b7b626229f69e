import {
  Binary,
  Bool,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimeMicrosecond,
  TimestampMicrosecond,
  Utf8,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import { ORC_KIND_NAMES, OrcFormatError, OrcKind, maxStripeValues, readOrcColumn, readOrcTail, readStripe, type OrcType } from './paimon/orc';
import { concatBytes } from './values';

/**
 * Iceberg ORC data files → an Arrow table shaped as parquet-wasm would give the same data from
 * Parquet (field ids in `PARQUET:field_id`), so the rest of the read path treats both alike.
 *
 * Hand-written on the ORC decoders of paimon/orc: npm has no maintained ORC reader that runs in
 * Node and in the browser (checked again 2026-12-07: `orc`, `orc-js`, `orcjs`, `@apache/orc` are
 * unrelated or absent; `apache-orc` / `nodejs-orc` wrap native or Java code). The file is decoded
 * whole: ORC data files from Iceberg writers are read at most once per view and cached.
 *
 * Column mapping (Iceberg's ORCSchemaUtil): the `iceberg.id` type attribute names a column's field
 * id; a file without any is mapped by `schema.name-mapping.default` when the table has one, else
 * Unsupported (a silent name guess could read another column's values). `iceberg.long-type = TIME`
 * marks a time column (microseconds in a LONG). TIMESTAMP is Iceberg `timestamp`,
 * TIMESTAMP_INSTANT `timestamptz`, both read at microsecond precision.
 */

/** One entry of an Iceberg name mapping (spec "Column Projection", `schema.name-mapping.default`). */
export interface NameMappingField {
  fieldId: number | null;
  names: string[];
  fields: NameMappingField[];
}

/** Parses `schema.name-mapping.default`; InvalidInput naming the property when it is not a mapping. */
export function parseNameMapping(json: string): NameMappingField[] {
  const where = 'table property schema.name-mapping.default';
  const walk = (v: unknown): NameMappingField[] => {
    if (!Array.isArray(v)) throw new TidemarkError('DataInvalid', `${where}: expected a JSON array of fields, found ${JSON.stringify(v)?.slice(0, 60)}`);
    return v.map((f: unknown) => {
      const o = f as { 'field-id'?: unknown; names?: unknown; fields?: unknown };
      if (typeof o !== 'object' || o === null || !Array.isArray(o.names)) throw new TidemarkError('DataInvalid', `${where}: expected {"field-id", "names"}, found ${JSON.stringify(f)?.slice(0, 60)}`);
      return { fieldId: typeof o['field-id'] === 'number' ? o['field-id'] : null, names: o.names.map(String), fields: o.fields === undefined ? [] : walk(o.fields) };
    });
  };
  try {
    return walk(JSON.parse(json));
  } catch (e) {
    if (e instanceof TidemarkError) throw e;
    throw new TidemarkError('DataInvalid', `${where}: not JSON (${e instanceof Error ? e.message : String(e)})`, {}, e);
  }
}

interface Column {
  type: OrcType;
  column: number;
  /** The Iceberg field id, or null for a column Iceberg does not know (skipped at the top level). */
  fieldId: number | null;
}

function idOf(type: OrcType, name: string, mapping: NameMappingField[] | null): { id: number | null; children: NameMappingField[] | null } {
  if (!mapping) {
    const raw = type.attributes.get('iceberg.id');
    return { id: raw === undefined || !/^-?\d+$/.test(raw) ? null : Number(raw), children: null };
  }
  const entry = mapping.find((m) => m.names.includes(name));
  return { id: entry?.fieldId ?? null, children: entry?.fields ?? [] };
}

function hasIcebergIds(types: OrcType[]): boolean {
  return types.some((t) => t.attributes.has('iceberg.id'));
}

function unsupported(file: string, feature: string, detail: string): TidemarkError {
  return new TidemarkError('Unsupported', `${file}: ${detail}`, { path: file, feature });
}

function arrowType(types: OrcType[], column: number, file: string, mapping: NameMappingField[] | null): { type: DataType; children: Field[] } {
  const t = types[column]!;
  const child = (c: number, name: string, m: NameMappingField[] | null): Field => {
    const { id, children } = idOf(types[c]!, name, m);
    const inner = arrowType(types, c, file, children);
    return new Field(name, inner.type, true, id === null ? new Map() : new Map([['PARQUET:field_id', String(id)]]));
  };
  switch (t.kind) {
    case OrcKind.BOOLEAN:
      return { type: new Bool(), children: [] };
    case OrcKind.BYTE:
    case OrcKind.SHORT:
    case OrcKind.INT:
      return { type: new Int32(), children: [] };
    case OrcKind.LONG:
      return { type: t.attributes.get('iceberg.long-type') === 'TIME' ? new TimeMicrosecond() : new Int64(), children: [] };
    case OrcKind.FLOAT:
      return { type: new Float32(), children: [] };
    case OrcKind.DOUBLE:
      return { type: new Float64(), children: [] };
    case OrcKind.STRING:
    case OrcKind.VARCHAR:
    case OrcKind.CHAR:
      return { type: new Utf8(), children: [] };
    case OrcKind.BINARY:
      return { type: new Binary(), children: [] };
    case OrcKind.DATE:
      return { type: new DateDay(), children: [] };
    case OrcKind.TIMESTAMP:
      return { type: new TimestampMicrosecond(), children: [] };
    case OrcKind.TIMESTAMP_INSTANT:
      return { type: new TimestampMicrosecond('UTC'), children: [] };
    case OrcKind.DECIMAL:
      if (t.precision > 38) throw unsupported(file, 'orc decimal precision > 38', `ORC decimal(${t.precision}, ${t.scale}) column ${column} is wider than 38 digits`);
      return { type: new Decimal(t.scale, t.precision, 128), children: [] };
    case OrcKind.STRUCT: {
      const fields = t.subtypes.map((c, i) => child(c, t.fieldNames[i] ?? `_col${i}`, mapping));
      return { type: new Struct(fields), children: fields };
    }
    case OrcKind.LIST: {
      const element = child(t.subtypes[0]!, 'element', mapping);
      return { type: new List(element), children: [element] };
    }
    case OrcKind.MAP: {
      const key = child(t.subtypes[0]!, 'key', mapping);
      const value = child(t.subtypes[1]!, 'value', mapping);
      const entries = new Field('entries', new Struct([new Field('key', key.type, false, key.metadata), value]), false);
      return { type: new Map_(entries), children: [entries] };
    }
    default:
      throw unsupported(file, `orc type ${ORC_KIND_NAMES[t.kind] ?? t.kind}`, `ORC ${ORC_KIND_NAMES[t.kind] ?? `type kind ${t.kind}`} columns are not supported (column ${column})`);
  }
}

function validity(values: unknown[]): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  values.forEach((v, i) => {
    if (v === null || v === undefined) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap: nullCount ? bitmap : undefined, nullCount };
}

/** The unscaled value of a decimal string at `scale` digits (columns.ts formats with each value's own scale). */
function unscaled(text: string, scale: number): bigint {
  const neg = text.startsWith('-');
  const [whole = '0', frac = ''] = (neg ? text.slice(1) : text).split('.');
  if (/[1-9]/.test(frac.slice(scale))) throw new OrcFormatError(`decimal ${text} has more than the column's ${scale} fraction digits`);
  const digits = `${whole}${frac.slice(0, scale).padEnd(scale, '0')}`;
  const v = BigInt(digits);
  return neg ? -v : v;
}

/** Builds Arrow data of `type` from decoded values (null for a null slot), recursively. */
function buildData(type: DataType, values: unknown[], file: string): Data {
  const length = values.length;
  const { nullBitmap, nullCount } = validity(values);
  const fixed = <T extends ArrayLike<unknown>>(make: (n: number) => T & { [i: number]: unknown }, conv: (v: unknown) => unknown): T => {
    const out = make(length);
    values.forEach((v, i) => {
      if (v !== null && v !== undefined) out[i] = conv(v);
    });
    return out;
  };
  if (type instanceof Bool) {
    const bits = new Uint8Array(Math.ceil(length / 8));
    values.forEach((v, i) => {
      if (v === true) bits[i >> 3]! |= 1 << (i & 7);
    });
    return makeData({ type, length, nullCount, nullBitmap, data: bits });
  }
  if (type instanceof Int32) return makeData({ type, length, nullCount, nullBitmap, data: fixed((n) => new Int32Array(n), Number) });
  if (type instanceof DateDay) return makeData({ type, length, nullCount, nullBitmap, data: fixed((n) => new Int32Array(n), Number) });
  if (type instanceof Int64) return makeData({ type, length, nullCount, nullBitmap, data: fixed((n) => new BigInt64Array(n), (v) => BigInt(v as bigint)) });
  if (type instanceof TimeMicrosecond) return makeData({ type, length, nullCount, nullBitmap, data: fixed((n) => new BigInt64Array(n), (v) => BigInt(v as bigint)) });
  if (type instanceof TimestampMicrosecond) {
    // Floor, not truncation, so a time before 1970 keeps its microsecond.
    const floorDiv = (v: bigint) => (v >= 0n ? v / 1000n : -((-v + 999n) / 1000n));
    return makeData({ type, length, nullCount, nullBitmap, data: fixed((n) => new BigInt64Array(n), (v) => floorDiv(v as bigint)) });
  }
  if (type instanceof Float32) return makeData({ type, length, nullCount, nullBitmap, data: fixed((n) => new Float32Array(n), Number) });
  if (type instanceof Float64) return makeData({ type, length, nullCount, nullBitmap, data: fixed((n) => new Float64Array(n), Number) });
  if (type instanceof Decimal) {
    const words = new Uint32Array(length * 4);
    values.forEach((v, i) => {
      if (v === null || v === undefined) return;
      let u = BigInt.asUintN(128, unscaled(String(v), type.scale));
      for (let w = 0; w < 4; w++, u >>= 32n) words[i * 4 + w] = Number(u & 0xffffffffn);
    });
    return makeData({ type, length, nullCount, nullBitmap, data: words });
  }
  if (type instanceof Utf8 || type instanceof Binary) {
    const encoder = new TextEncoder();
    const parts = values.map((v) => (v === null || v === undefined ? new Uint8Array(0) : typeof v === 'string' ? encoder.encode(v) : (v as Uint8Array)));
    const valueOffsets = new Int32Array(length + 1);
    parts.forEach((p, i) => (valueOffsets[i + 1] = valueOffsets[i]! + p.length));
    const data = concatBytes(parts);
    return type instanceof Utf8 ? makeData({ type, length, nullCount, nullBitmap, valueOffsets, data }) : makeData({ type, length, nullCount, nullBitmap, valueOffsets, data });
  }
  if (type instanceof Struct) {
    const children = type.children.map((f) => buildData(f.type, values.map((v) => (v === null || v === undefined ? null : (v as Record<string, unknown>)[f.name] ?? null)), file));
    return makeData({ type, length, nullCount, nullBitmap, children });
  }
  if (type instanceof List || type instanceof Map_) {
    const isMap = type instanceof Map_;
    const flat: unknown[] = [];
    const valueOffsets = new Int32Array(length + 1);
    values.forEach((v, i) => {
      if (v !== null && v !== undefined) {
        if (isMap) for (const [key, value] of v as Map<unknown, unknown>) flat.push({ key, value });
        else flat.push(...(v as unknown[]));
      }
      valueOffsets[i + 1] = flat.length;
    });
    const child = buildData(type.children[0]!.type, flat, file);
    return makeData({ type, length, nullCount, nullBitmap, valueOffsets, child } as Parameters<typeof makeData>[0]);
  }
  throw unsupported(file, `arrow ${String(type)}`, `cannot build ${String(type)} values`);
}

/**
 * Decodes an Iceberg ORC data (or delete) file into an Arrow table. `nameMapping` is the table's
 * `schema.name-mapping.default`, used only when the file carries no `iceberg.id` attributes.
 * Malformed bytes are DataInvalid, unsupported codecs and types Unsupported, both naming `file`.
 */
export async function decodeOrcDataFile(bytes: Uint8Array, file: string, nameMapping?: NameMappingField[] | null): Promise<Table> {
  try {
    const tail = await readOrcTail(bytes, file);
    const root = tail.types[0]!;
    if (root.kind !== OrcKind.STRUCT) throw new OrcFormatError(`root type is kind ${root.kind}, expected a struct`);
    const mapping = hasIcebergIds(tail.types) ? null : (nameMapping ?? null);
    if (!hasIcebergIds(tail.types) && !mapping) {
      throw unsupported(file, 'orc without iceberg.id', 'ORC file has no iceberg.id column attributes and the table has no schema.name-mapping.default');
    }
    const columns: (Column & { name: string; field: Field })[] = [];
    root.subtypes.forEach((c, i) => {
      const name = root.fieldNames[i] ?? `_col${i}`;
      const { id, children } = idOf(tail.types[c]!, name, mapping);
      if (id === null) return; // not an Iceberg column (Iceberg readers skip these too)
      const { type } = arrowType(tail.types, c, file, children);
      columns.push({ type: tail.types[c]!, column: c, fieldId: id, name, field: new Field(name, type, true, new Map([['PARQUET:field_id', String(id)]])) });
    });
    const values: unknown[][] = columns.map(() => []);
    let rows = 0;
    for (let s = 0; s < tail.stripes.length; s++) {
      const stripe = await readStripe(bytes, tail, s);
      const n = tail.stripes[s]!.numberOfRows;
      const ctx = { types: tail.types, stripe, where: `stripe ${s}`, file, maxValues: maxStripeValues(stripe, 0), timestampNanos: true };
      if (n > ctx.maxValues) throw new OrcFormatError(`stripe ${s} claims ${n} rows, more than its streams can hold`);
      columns.forEach((c, k) => {
        for (const v of readOrcColumn(ctx, c.column, n)) values[k]!.push(v);
      });
      rows += n;
    }
    if (rows !== tail.numberOfRows) throw new OrcFormatError(`footer says ${tail.numberOfRows} rows, the stripes hold ${rows}`);
    const schema = new Schema(columns.map((c) => c.field));
    const children = columns.map((c, k) => buildData(c.field.type, values[k]!, file));
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
    return new Table([batch]);
  } catch (e) {
    if (e instanceof TidemarkError) throw e;
    const detail = e instanceof OrcFormatError ? e.message : `${e instanceof Error ? e.name : 'error'}: ${e instanceof Error ? e.message : String(e)}`;
    throw new TidemarkError('DataInvalid', `${file}: expected an ORC data file: ${detail}`, { path: file }, e);
  }
}

/** True when the bytes end like an ORC file: "ORC" just before the PostScript-length byte. */
export function endsWithOrcPostscript(tail: Uint8Array): boolean {
  const n = tail.length;
  return n >= 4 && tail[n - 4] === 0x4f && tail[n - 3] === 0x52 && tail[n - 2] === 0x43;
}

/** Reads a whole ORC file through the storage port (NotFound names it) and decodes it. */
export async function readOrcFile(storage: StoragePort, path: string, what = 'data file', nameMapping?: NameMappingField[] | null): Promise<Table> {
  let bytes: Uint8Array;
  try {
    bytes = await storage.readFile(path);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') throw new TidemarkError('NotFound', `${what} not found: ${path}`, { path }, e);
    throw e;
  }
  return decodeOrcDataFile(bytes, path, nameMapping);
}
