import { Field, RecordBatch, Schema as ArrowSchema, Struct, Table, makeData, util, type Data } from 'apache-arrow';
import { TidemarkError } from '../../errors';
import { convertArrowData } from '../arrow-values';
import type { NestedField, Schema } from '../model';
import { valueKey } from '../values';
import { arrowFieldOf, buildVector } from './arrow-build';
import { defaultWriteEnv, tableRoot } from './commit';
import { partitionOf, writeArrowDataFile, writeDataFiles, type FileWriteContext } from './data-files';
import { parquetCodec } from './parquet-write';
import { currentSchema, type WriteOptions } from './operations';
import { commitSnapshot } from './snapshot-commit';

/**
 * Columnar append: an Arrow table goes to Parquet as it is, without per-row objects (building row
 * objects and converting them back costs several times the Parquet write itself; see
 * bench/lake-append.ts). Columns are matched to the current schema by name; the Arrow type must be
 * the one the schema type maps to (long → Int64, timestamp → Timestamp(µs), timestamptz →
 * Timestamp(µs, UTC), decimal(P, S) → Decimal128(P, S), string → Utf8, ...). An optional column
 * absent from the table is written as all nulls; extra columns are InvalidInput.
 */
export function alignArrowTable(schema: Schema, table: Table): Table {
  const known = new Set(schema.fields.map((f) => f.name));
  const extra = table.schema.fields.filter((f) => !known.has(f.name)).map((f) => f.name);
  if (extra.length) throw new TidemarkError('InvalidInput', `append: column(s) ${extra.join(', ')} not in the table schema (${[...known].join(', ')})`, { column: extra[0]! });
  const fields: Field[] = schema.fields.map(arrowFieldOf);
  const sources = schema.fields.map((f, i) => {
    const idx = table.schema.fields.findIndex((a) => a.name === f.name);
    if (idx < 0) {
      if (f.required) throw new TidemarkError('InvalidInput', `append: required column ${f.name} is missing`, { fieldId: f.id });
      return -1;
    }
    const found = table.schema.fields[idx]!.type;
    if (!util.compareTypes(found, fields[i]!.type)) {
      throw new TidemarkError('InvalidInput', `append: column ${f.name} (${String(f.type)}) expects Arrow ${String(fields[i]!.type)}, found ${String(found)}`, { fieldId: f.id });
    }
    if (f.required && table.getChildAt(idx)!.nullCount > 0) {
      throw new TidemarkError('InvalidInput', `append: column ${f.name} is required but ${table.getChildAt(idx)!.nullCount} row(s) are null`, { fieldId: f.id });
    }
    return idx;
  });
  const arrowSchema = new ArrowSchema(fields);
  // Re-wraps the same buffers under a schema whose fields carry PARQUET:field_id: no copy.
  const batches = table.batches.map((batch) => {
    const children: Data[] = fields.map((field, i) =>
      // Absent optional column: an all-null column with properly sized (zeroed) value buffers.
      sources[i]! >= 0 ? batch.data.children[sources[i]!]! : buildVector(schema.fields[i]!, new Array<null>(batch.numRows).fill(null)).data[0]!,
    );
    return new RecordBatch(arrowSchema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children }));
  });
  return new Table(arrowSchema, batches);
}

/** Canonical values of one column across all batches (only for partition source columns). */
function columnValues(table: Table, field: NestedField): unknown[] {
  const idx = table.schema.fields.findIndex((f) => f.name === field.name);
  const out: unknown[] = [];
  for (const data of table.getChildAt(idx)!.data) for (const v of convertArrowData(data, field.type, `append: ${field.name}`)) out.push(v);
  return out;
}

/**
 * Appends an Arrow table as one commit (operation `append`; spec v2). Unpartitioned tables, and
 * partitioned ones whose rows all fall in one partition, write one file straight from the Arrow
 * buffers; rows spanning several partitions are split through canonical rows (correct, slower).
 */
export async function appendArrow(root: string, table: Table, options: WriteOptions = {}) {
  const env = options.env ?? defaultWriteEnv;
  const abs = tableRoot(root);
  return commitSnapshot(abs, async (base) => {
    const m = base.metadata;
    const schema = currentSchema(m);
    const spec = m.partitionSpecs.find((s) => s.specId === m.defaultSpecId)!;
    const ctx: FileWriteContext = { root: abs, schema, spec, env, codec: parquetCodec(m) };
    const aligned = alignArrowTable(schema, table);
    if (aligned.numRows === 0) return { operation: 'append', addedDataFiles: [], summary: options.summary };
    if (spec.fields.length === 0) return { operation: 'append', addedDataFiles: [await writeArrowDataFile(ctx, aligned, [])], summary: options.summary };
    const sourceIds = new Set(spec.fields.map((f) => f.sourceId));
    const sourceFields = schema.fields.filter((f) => sourceIds.has(f.id));
    const cols = sourceFields.map((f) => columnValues(aligned, f));
    const partitions: unknown[][] = [];
    const keys = new Set<string>();
    for (let i = 0; i < aligned.numRows; i++) {
      const row = Object.fromEntries(sourceFields.map((f, k) => [f.name, cols[k]![i]]));
      const p = partitionOf(spec, schema, row);
      keys.add(valueKey(p));
      if (keys.size > 1) break;
      if (i === 0) partitions.push(p);
    }
    if (keys.size === 1) return { operation: 'append', addedDataFiles: [await writeArrowDataFile(ctx, aligned, partitions[0]!)], summary: options.summary };
    const all = schema.fields.map((f) => columnValues(aligned, f));
    const rows = Array.from({ length: aligned.numRows }, (_, i) => Object.fromEntries(schema.fields.map((f, k) => [f.name, all[k]![i]])));
    return { operation: 'append', addedDataFiles: await writeDataFiles(ctx, rows), summary: options.summary };
  }, options);
}
