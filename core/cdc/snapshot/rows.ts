/**
 * Converts the rows of one snapshot SELECT to canonical values (types.ts), in place, with one
 * function compiled per table schema and column list. The values are exactly those of
 * SchemaCatalog.convertRow (same codecs from column-codec.ts, same null / undefined / passthrough
 * rules); only the per-row work differs. The general path looked up the chunk's plan in a WeakMap
 * and read and wrote each field by a computed name through megamorphic property accesses and
 * calls, about twice the cost a row (docs/perf-notes.md).
 */
import { INT64_NUMBER_TYPES, makeColumnCodec, makeInt64NumberCodec, type ColumnCodec } from '../schema/column-codec';
import { formatTableId, type Row, type TableSchema } from '../types';

/** Converts one driver row in place and returns it (the raw object must not be used afterwards). */
export type SnapshotRowConverter = (row: Record<string, unknown>) => Row;

/** Per schema object (a DDL replaces it, so stale entries go with it): column list → converter. */
const compiled = new WeakMap<TableSchema, Map<string, SnapshotRowConverter | null>>();

/**
 * The converter for rows whose own keys are `names`, in that order (a SELECT's column list, as
 * `Object.keys` of its first row gives it), under `schema`. Null when a name is not a column of
 * `schema`, e.g. after a DDL during the chunk's drain: the caller then takes the catalog's general
 * path, which reports such a column.
 */
export function snapshotRowConverter(schema: TableSchema, names: readonly string[], options: { int64Numbers?: boolean } = {}): SnapshotRowConverter | null {
  let bySchema = compiled.get(schema);
  if (!bySchema) compiled.set(schema, (bySchema = new Map()));
  const int64Numbers = options.int64Numbers === true;
  const key = `${int64Numbers ? 'n' : 'b'}\u0000${names.join('\u0000')}`;
  let convert = bySchema.get(key);
  if (convert === undefined) {
    convert = compileConverter(schema, names, int64Numbers);
    bySchema.set(key, convert);
  }
  return convert;
}

/**
 * The names among `names` of columns whose values snapshotRowConverter with `int64Numbers` may give
 * as numbers standing for int64 values (long, and µs of timestamps): makeInt64NumberCodec.
 */
export function int64NumberColumns(schema: TableSchema, names: readonly string[]): string[] {
  return names.filter((name) => {
    const column = schema.columns.find((c) => c.name === name);
    return column !== undefined && INT64_NUMBER_TYPES.has(column.icebergType.type);
  });
}

function compileConverter(schema: TableSchema, names: readonly string[], int64Numbers: boolean): SnapshotRowConverter | null {
  const where = formatTableId(schema.table);
  const codecs: ColumnCodec[] = [];
  for (const name of names) {
    // `__proto__` is never an own key the driver sets; kept out of generated code all the same.
    if (name === '__proto__') return null;
    const column = schema.columns.find((c) => c.name === name);
    if (!column) return null;
    codecs.push((int64Numbers ? makeInt64NumberCodec(column, `${where}.${name}`) : null) ?? makeColumnCodec(column, `${where}.${name}`));
  }
  // Per column: null stays, undefined becomes null, a value already of the canonical JS type is
  // kept, anything else is converted (and may throw DataInvalid naming the column).
  const lines = codecs.map((c, i) => {
    const field = `r[${JSON.stringify(names[i])}]`;
    const convert = c.passthrough === null ? `${field} = k${i}(x);` : `if (typeof x !== ${JSON.stringify(c.passthrough)}) ${field} = k${i}(x);`;
    return `x = ${field}; if (x !== null) { if (x === undefined) ${field} = null; else ${convert} }`;
  });
  const body = `return function convertSnapshotRow(r) {\nlet x;\n${lines.join('\n')}\nreturn r;\n};`;
  const factory = new Function(...codecs.map((_, i) => `k${i}`), body) as (...converters: ColumnCodec['convert'][]) => SnapshotRowConverter;
  return factory(...codecs.map((c) => c.convert));
}
