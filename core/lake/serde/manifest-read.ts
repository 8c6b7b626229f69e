import { TidemarkError } from '../../errors';
import {
  indexFields,
  parseDecimalType,
  type DataFile,
  type FieldSummary,
  type FileContent,
  type IcebergType,
  type ManifestEntry,
  type ManifestFile,
  type PartitionSpec,
  type Schema,
} from '../model';
import { partitionResultType } from '../transforms';
import { bytesToBigInt, bytesToUuid, formatDate, formatDecimal, formatTime, formatTimestamp, formatTimestampNanos } from '../values';
import { readAvroFile } from './avro';

/**
 * Manifest lists and manifests (spec "Manifests", "Manifest Lists"), decoded with the writer's Avro
 * schema and read by field name. v1 spellings (added_data_files_count, no content / sequence
 * numbers) are normalized: v1 content is data and sequence numbers are 0.
 */
type Rec = Record<string, unknown>;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));
const big = (v: unknown): bigint => (v === null || v === undefined ? 0n : BigInt(v as bigint));
const u8 = (v: unknown): Uint8Array | null => (v instanceof Uint8Array ? new Uint8Array(v) : null);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function pick(r: Rec, ...names: string[]): unknown {
  for (const n of names) if (r[n] !== undefined) return r[n];
  return undefined;
}

export async function readManifestList(bytes: Uint8Array, file: string): Promise<ManifestFile[]> {
  const { records } = await readAvroFile(bytes, file);
  return records.map((r, i): ManifestFile => {
    if (typeof r.manifest_path !== 'string') {
      throw new TidemarkError('DataInvalid', `${file}: record ${i}: expected manifest_path (field 500)`, { path: file });
    }
    const partitions = Array.isArray(r.partitions)
      ? (r.partitions as Rec[]).map((p): FieldSummary => ({
          containsNull: Boolean(p.contains_null),
          containsNan: p.contains_nan === null || p.contains_nan === undefined ? null : Boolean(p.contains_nan),
          lowerBound: u8(p.lower_bound),
          upperBound: u8(p.upper_bound),
        }))
      : null;
    return {
      manifestPath: r.manifest_path,
      manifestLength: num(r.manifest_length),
      partitionSpecId: num(r.partition_spec_id),
      content: num(r.content) === 1 ? 1 : 0,
      sequenceNumber: big(r.sequence_number),
      minSequenceNumber: big(r.min_sequence_number),
      addedSnapshotId: big(r.added_snapshot_id),
      addedFilesCount: num(pick(r, 'added_files_count', 'added_data_files_count')),
      existingFilesCount: num(pick(r, 'existing_files_count', 'existing_data_files_count')),
      deletedFilesCount: num(pick(r, 'deleted_files_count', 'deleted_data_files_count')),
      addedRowsCount: num(r.added_rows_count),
      existingRowsCount: num(r.existing_rows_count),
      deletedRowsCount: num(r.deleted_rows_count),
      rowCountsListed: r.added_rows_count !== null && r.added_rows_count !== undefined && r.existing_rows_count !== null && r.existing_rows_count !== undefined,
      partitions,
      firstRowId: r.first_row_id === null || r.first_row_id === undefined ? null : big(r.first_row_id),
    };
  });
}

function mapOf<V>(v: unknown, conv: (x: unknown) => V): Map<number, V> | null {
  if (!Array.isArray(v)) return null;
  return new Map((v as Rec[]).map((kv) => [Number(kv.key), conv(kv.value)]));
}

/** Avro partition value → canonical row value for the partition field's result type. */
export function fromAvroPartitionValue(type: IcebergType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof type !== 'string') return v;
  switch (type) {
    case 'int':
    case 'float':
    case 'double':
      return Number(v);
    case 'long':
      return BigInt(v as bigint);
    case 'date':
      return formatDate(Number(v));
    case 'time':
      return formatTime(BigInt(v as bigint));
    case 'timestamp':
    case 'timestamptz':
      return formatTimestamp(BigInt(v as bigint), type === 'timestamptz');
    case 'timestamp_ns':
    case 'timestamptz_ns':
      return formatTimestampNanos(BigInt(v as bigint), type === 'timestamptz_ns');
    case 'uuid':
      return v instanceof Uint8Array ? bytesToUuid(v) : String(v);
  }
  const dec = parseDecimalType(type);
  if (dec) return formatDecimal(v instanceof Uint8Array ? bytesToBigInt(v) : BigInt(v as bigint), dec.scale);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  return v;
}

export interface ManifestContext {
  /** Inherited values (spec "Sequence Number Inheritance", "Snapshot ID Inheritance"). */
  manifest: ManifestFile;
  spec: PartitionSpec;
  schema: Schema;
}

/**
 * Reads a manifest's entries; partition tuples come out in spec field order. v3: a data file with a
 * null first_row_id inherits the manifest's first_row_id plus the record counts of the data files
 * before it that had none (spec "First Row ID Inheritance"); it stays null when the manifest has none.
 */
export async function readManifest(bytes: Uint8Array, file: string, ctx: ManifestContext): Promise<ManifestEntry[]> {
  const { records, schema: writerSchema } = await readAvroFile(bytes, file);
  const fieldsById = indexFields(ctx.schema);
  // Map partition field ids to the Avro field names the writer used (names may differ from ours).
  const avroPartitionNames = new Map<number, string>();
  const dataFileSchema = ((writerSchema as Rec).fields as Rec[] | undefined)?.find((f) => f.name === 'data_file')?.type as Rec | undefined;
  const partitionSchema = (dataFileSchema?.fields as Rec[] | undefined)?.find((f) => f.name === 'partition')?.type as Rec | undefined;
  for (const f of (partitionSchema?.fields as Rec[] | undefined) ?? []) {
    if (typeof f['field-id'] === 'number') avroPartitionNames.set(f['field-id'], String(f.name));
  }
  let nextRowId = ctx.manifest.firstRowId ?? null;
  return records.map((r, i): ManifestEntry => {
    const df = r.data_file as Rec | undefined;
    if (!df || typeof df.file_path !== 'string') {
      throw new TidemarkError('DataInvalid', `${file}: entry ${i}: expected data_file.file_path (field 100)`, { path: file });
    }
    const partRec = (df.partition ?? {}) as Rec;
    const partition = ctx.spec.fields.map((pf) => {
      const name = avroPartitionNames.get(pf.fieldId) ?? pf.name;
      const source = fieldsById.get(pf.sourceId);
      const resultType = source ? partitionResultType(pf.transform, source.type) : 'int';
      return fromAvroPartitionValue(resultType, partRec[name]);
    });
    const status = num(r.status);
    const dataFile: DataFile = {
      content: (num(df.content) as FileContent) ?? 0,
      filePath: df.file_path,
      fileFormat: String(df.file_format ?? 'PARQUET'),
      partition,
      recordCount: num(df.record_count),
      fileSizeInBytes: num(df.file_size_in_bytes),
      columnSizes: mapOf(df.column_sizes, num),
      valueCounts: mapOf(df.value_counts, num),
      nullValueCounts: mapOf(df.null_value_counts, num),
      nanValueCounts: mapOf(df.nan_value_counts, num),
      lowerBounds: mapOf(df.lower_bounds, (x) => u8(x) ?? new Uint8Array()),
      upperBounds: mapOf(df.upper_bounds, (x) => u8(x) ?? new Uint8Array()),
      splitOffsets: Array.isArray(df.split_offsets) ? df.split_offsets.map(num) : null,
      equalityIds: Array.isArray(df.equality_ids) ? df.equality_ids.map(num) : null,
      sortOrderId: df.sort_order_id === null || df.sort_order_id === undefined ? null : num(df.sort_order_id),
      referencedDataFile: typeof df.referenced_data_file === 'string' ? df.referenced_data_file : null,
      firstRowId: df.first_row_id === null || df.first_row_id === undefined ? null : big(df.first_row_id),
      contentOffset: optNum(df.content_offset),
      contentSizeInBytes: optNum(df.content_size_in_bytes),
    };
    if (dataFile.content === 0 && dataFile.firstRowId === null && nextRowId !== null) {
      dataFile.firstRowId = nextRowId;
      nextRowId += BigInt(dataFile.recordCount);
    }
    return {
      status: status === 0 || status === 2 ? status : 1,
      snapshotId: r.snapshot_id === null || r.snapshot_id === undefined ? ctx.manifest.addedSnapshotId : big(r.snapshot_id),
      sequenceNumber: r.sequence_number === null || r.sequence_number === undefined ? ctx.manifest.sequenceNumber : big(r.sequence_number),
      fileSequenceNumber: r.file_sequence_number === null || r.file_sequence_number === undefined ? (status === 1 ? ctx.manifest.sequenceNumber : null) : big(r.file_sequence_number),
      dataFile,
    };
  });
}
