import type { Table } from 'apache-arrow';
import type { Compression } from 'parquet-wasm';
import { FILE_CONTENT, type DataFile, type NestedField, type PartitionSpec, type Schema } from '../model';
import { writeSchema } from '../serde/schema-json';
import { applyTransform } from '../transforms';
import { bytesToHex, formatTimestamp, valueKey } from '../values';
import { columnsToArrow } from './arrow-build';
import { batchValue, rowsToColumnBatch, selectColumnBatch, type ColumnBatch } from './column-batch';
import { childPath, writeStorage, type WriteEnv } from './commit';
import { computeMetrics, writeParquetBytes } from './parquet-write';

/**
 * Writes Parquet data and delete files under `<root>/data` and describes them as DataFiles. The
 * files go to `env.storage` (default the local file system; `root` an `s3://` URL there).
 */
export interface FileWriteContext {
  root: string;
  schema: Schema;
  spec: PartitionSpec;
  env: WriteEnv;
  /**
   * Metadata columns written after the schema's columns, with their reserved field ids: a v3
   * rewrite materializes `_row_id` and `_last_updated_sequence_number` (spec "Row Lineage").
   */
  metadataFields?: NestedField[];
  /** The Parquet codec (parquetCodec of the table; default ZSTD). */
  codec?: Compression;
}

export function partitionOf(spec: PartitionSpec, schema: Schema, row: Record<string, unknown>): unknown[] {
  return spec.fields.map((pf) => {
    const source = schema.fields.find((f) => f.id === pf.sourceId);
    return source ? applyTransform(pf.transform, source.type, row[source.name] ?? null) : null;
  });
}

function partitionPath(spec: PartitionSpec, partition: unknown[]): string {
  return spec.fields
    .map((pf, i) => {
      const v = partition[i];
      const text = v === null || v === undefined ? 'null' : v instanceof Uint8Array ? bytesToHex(v) : String(v);
      return `${encodeURIComponent(pf.name)}=${encodeURIComponent(text)}`;
    })
    .join('/');
}

/** A batch value in its canonical form: a timestamp given as bigint µs (see ColumnBatch) as text. */
function canonicalValue(type: NestedField['type'], v: unknown): unknown {
  return typeof v === 'bigint' && (type === 'timestamp' || type === 'timestamptz') ? formatTimestamp(v, type === 'timestamptz') : v;
}

/** Row objects or a column batch → the batch of `fields` (row objects read as `row[name] ?? null`). */
function asBatch(rows: Record<string, unknown>[] | ColumnBatch, fields: NestedField[]): ColumnBatch {
  return Array.isArray(rows) ? rowsToColumnBatch(rows, fields.map((f) => f.name)) : rows;
}

async function writeOne(ctx: FileWriteContext, fields: NestedField[], batch: ColumnBatch, partition: unknown[], prefix: string): Promise<{ path: string; size: number; metrics: ReturnType<typeof computeMetrics> }> {
  return writeArrowFile(ctx, columnsToArrow(fields, batch.columns, batch.length), partition, prefix);
}

/** Writes an Arrow table whose fields carry `PARQUET:field_id` as one Parquet file of `partition`. */
async function writeArrowFile(ctx: FileWriteContext, table: Table, partition: unknown[], prefix: string): Promise<{ path: string; size: number; metrics: ReturnType<typeof computeMetrics> }> {
  const metrics = computeMetrics(table);
  const bytes = writeParquetBytes(table, JSON.stringify(writeSchema(ctx.schema)), ctx.codec);
  const sub = partitionPath(ctx.spec, partition);
  const path = childPath(ctx.root, 'data', sub, `${prefix}${ctx.env.uuid()}.parquet`);
  // A fresh uuid name: no other writer can hold it. Published whole (temp file renamed, or one PUT).
  await writeStorage(ctx.env).writeFile(path, bytes);
  return { path, size: bytes.length, metrics };
}

/** An Arrow table with field ids (see arrow-append.ts) → one data file of `partition`. */
export async function writeArrowDataFile(ctx: FileWriteContext, table: Table, partition: unknown[]): Promise<DataFile> {
  const { path, size, metrics } = await writeArrowFile(ctx, table, partition, '');
  return describeFile(FILE_CONTENT.data, path, size, partition, metrics);
}

/** The manifest description of a written Parquet file. */
export function describeFile(content: 0 | 1 | 2, path: string, size: number, partition: unknown[], metrics: ReturnType<typeof computeMetrics>, extra: Partial<DataFile> = {}): DataFile {
  return {
    content,
    filePath: path,
    fileFormat: 'PARQUET',
    partition,
    recordCount: metrics.recordCount,
    fileSizeInBytes: size,
    columnSizes: null,
    valueCounts: metrics.valueCounts,
    nullValueCounts: metrics.nullValueCounts,
    nanValueCounts: metrics.nanValueCounts,
    lowerBounds: metrics.lowerBounds,
    upperBounds: metrics.upperBounds,
    splitOffsets: null,
    equalityIds: null,
    sortOrderId: content === FILE_CONTENT.equalityDeletes ? null : 0,
    referencedDataFile: null,
    ...extra,
  };
}

/**
 * Rows (objects or a column batch) → one data file per partition tuple (spec partition transforms
 * applied to each row).
 */
export async function writeDataFiles(ctx: FileWriteContext, rows: Record<string, unknown>[] | ColumnBatch): Promise<DataFile[]> {
  const fields = [...ctx.schema.fields, ...(ctx.metadataFields ?? [])];
  const batch = asBatch(rows, fields);
  const groups = new Map<string, { partition: unknown[]; batch: ColumnBatch }>();
  if (ctx.spec.fields.length === 0) {
    // Unpartitioned: one file, no per-row partition tuple and key.
    if (batch.length > 0) groups.set('', { partition: [], batch });
  } else {
    const sources = ctx.spec.fields.map((pf) => ctx.schema.fields.find((f) => f.id === pf.sourceId));
    const byKey = new Map<string, { partition: unknown[]; indices: number[] }>();
    for (let i = 0; i < batch.length; i++) {
      const partition = ctx.spec.fields.map((pf, k) => {
        const source = sources[k];
        return source ? applyTransform(pf.transform, source.type, canonicalValue(source.type, batchValue(batch, source.name, i))) : null;
      });
      const key = valueKey(partition);
      let g = byKey.get(key);
      if (!g) byKey.set(key, (g = { partition, indices: [] }));
      g.indices.push(i);
    }
    const names = fields.map((f) => f.name);
    for (const [key, g] of byKey) groups.set(key, { partition: g.partition, batch: selectColumnBatch(batch, g.indices, names) });
  }
  const out: DataFile[] = [];
  for (const g of groups.values()) {
    const { path, size, metrics } = await writeOne(ctx, fields, g.batch, g.partition, '');
    out.push(describeFile(FILE_CONTENT.data, path, size, g.partition, metrics));
  }
  return out;
}

/**
 * An equality delete file on `equalityIds` (spec "Equality Delete Files"): rows hold only those
 * columns. Written unpartitioned (ctx.spec should have no fields) so it applies across partitions.
 */
export async function writeEqualityDeleteFile(ctx: FileWriteContext, equalityIds: number[], keys: Record<string, unknown>[] | ColumnBatch): Promise<DataFile> {
  const fields = equalityIds.map((id) => ctx.schema.fields.find((f) => f.id === id)!);
  const { path, size, metrics } = await writeOne(ctx, fields, asBatch(keys, fields), [], 'eq-delete-');
  return describeFile(FILE_CONTENT.equalityDeletes, path, size, [], metrics, { equalityIds });
}

const POSITION_FIELDS: NestedField[] = [
  { id: 2147483546, name: 'file_path', required: true, type: 'string' },
  { id: 2147483545, name: 'pos', required: true, type: 'long' },
];

/** A position delete file (spec "Position Delete Files"), rows sorted by file_path then pos. */
export async function writePositionDeleteFile(ctx: FileWriteContext, partition: unknown[], deletes: { filePath: string; pos: number }[]): Promise<DataFile> {
  const sorted = [...deletes].sort((a, b) => (a.filePath < b.filePath ? -1 : a.filePath > b.filePath ? 1 : a.pos - b.pos));
  const rows = sorted.map((d) => ({ file_path: d.filePath, pos: BigInt(d.pos) }));
  const { path, size, metrics } = await writeOne(ctx, POSITION_FIELDS, asBatch(rows, POSITION_FIELDS), partition, 'pos-delete-');
  const files = new Set(sorted.map((d) => d.filePath));
  return describeFile(FILE_CONTENT.positionDeletes, path, size, partition, metrics, { referencedDataFile: files.size === 1 ? [...files][0]! : null });
}
