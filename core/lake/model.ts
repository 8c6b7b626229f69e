/**
 * The Iceberg table model (format v1, v2 and read-only v3; spec: apache/iceberg format/spec.md). Names follow the
 * spec's nouns. 64-bit identifiers (snapshot ids, sequence numbers) are bigint; counts and sizes are
 * numbers (they stay far below 2^53). On-disk spellings (JSON keys, Avro field names) live in serde/.
 */

/**
 * A primitive type in the spec's spelling: 'int', 'long', 'decimal(9, 2)', 'fixed[16]', ... and the
 * v3 types 'variant', 'unknown', 'timestamp_ns', 'timestamptz_ns', 'geometry(C)', 'geography(C, A)'.
 */
export type PrimitiveType = string;

export interface NestedField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergType;
  doc?: string;
  /** Value for rows written before the field existed, as a canonical row value (see values.ts). */
  initialDefault?: unknown;
  writeDefault?: unknown;
}

export interface StructType {
  type: 'struct';
  fields: NestedField[];
}

export interface ListType {
  type: 'list';
  elementId: number;
  element: IcebergType;
  elementRequired: boolean;
}

export interface MapType {
  type: 'map';
  keyId: number;
  key: IcebergType;
  valueId: number;
  value: IcebergType;
  valueRequired: boolean;
}

export type IcebergType = PrimitiveType | StructType | ListType | MapType;

export interface Schema extends StructType {
  schemaId: number;
  identifierFieldIds: number[];
}

export interface PartitionField {
  sourceId: number;
  /** Partition field id (≥ 1000 by convention); v1 specs may omit it, it is then assigned. */
  fieldId: number;
  name: string;
  /** 'identity', 'bucket[N]', 'truncate[W]', 'year', 'month', 'day', 'hour', 'void'. */
  transform: string;
}

export interface PartitionSpec {
  specId: number;
  fields: PartitionField[];
}

export interface SortField {
  sourceId: number;
  transform: string;
  direction: 'asc' | 'desc';
  nullOrder: 'nulls-first' | 'nulls-last';
}

export interface SortOrder {
  orderId: number;
  fields: SortField[];
}

export interface Snapshot {
  snapshotId: bigint;
  parentSnapshotId: bigint | null;
  /** 0 for v1 tables. */
  sequenceNumber: bigint;
  timestampMs: number;
  /** Path as written by the writer (not rebased). */
  manifestList: string;
  /** Includes `operation` (append, replace, overwrite, delete). */
  summary: Record<string, string>;
  schemaId: number | null;
  /** v3 row lineage: the first `_row_id` assigned by this snapshot (null before v3 / upgrade). */
  firstRowId: bigint | null;
  /** v3 (`added-rows`): how many `_row_id`s from firstRowId on this snapshot assigned; absent before v3. */
  addedRows?: bigint | null;
}

export interface SnapshotRef {
  snapshotId: bigint;
  type: 'branch' | 'tag';
  minSnapshotsToKeep?: number;
  maxSnapshotAgeMs?: number;
  maxRefAgeMs?: number;
}

export interface SnapshotLogEntry {
  snapshotId: bigint;
  timestampMs: number;
}

export interface MetadataLogEntry {
  metadataFile: string;
  timestampMs: number;
}

export interface TableMetadata {
  /** 3 is read only: the write path refuses it (serde/table-metadata.ts writes v2). */
  formatVersion: 1 | 2 | 3;
  tableUuid: string;
  location: string;
  lastSequenceNumber: bigint;
  lastUpdatedMs: number;
  lastColumnId: number;
  schemas: Schema[];
  currentSchemaId: number;
  partitionSpecs: PartitionSpec[];
  defaultSpecId: number;
  lastPartitionId: number;
  sortOrders: SortOrder[];
  defaultSortOrderId: number;
  properties: Record<string, string>;
  currentSnapshotId: bigint | null;
  snapshots: Snapshot[];
  snapshotLog: SnapshotLogEntry[];
  metadataLog: MetadataLogEntry[];
  refs: Record<string, SnapshotRef>;
  /** v3 row lineage: higher than every assigned `_row_id` (null for v1/v2). */
  nextRowId: bigint | null;
}

/** Manifest content (field 517). */
export const MANIFEST_CONTENT = { data: 0, deletes: 1 } as const;
/** Data file content (field 134). */
export const FILE_CONTENT = { data: 0, positionDeletes: 1, equalityDeletes: 2 } as const;
export type FileContent = 0 | 1 | 2;
/** Manifest entry status (field 0). */
export const ENTRY_STATUS = { existing: 0, added: 1, deleted: 2 } as const;

export interface FieldSummary {
  containsNull: boolean;
  containsNan: boolean | null;
  lowerBound: Uint8Array | null;
  upperBound: Uint8Array | null;
}

/** One row of a manifest list. */
export interface ManifestFile {
  manifestPath: string;
  manifestLength: number;
  partitionSpecId: number;
  content: 0 | 1;
  sequenceNumber: bigint;
  minSequenceNumber: bigint;
  addedSnapshotId: bigint;
  addedFilesCount: number;
  existingFilesCount: number;
  deletedFilesCount: number;
  addedRowsCount: number;
  existingRowsCount: number;
  deletedRowsCount: number;
  /**
   * False when the list does not give added_rows_count and existing_rows_count (optional in v1,
   * then read as 0 above); absent on manifest files made in memory.
   */
  rowCountsListed?: boolean;
  partitions: FieldSummary[] | null;
  /** v3 (field 520): first `_row_id` of the rows in this data manifest's files without one. */
  firstRowId?: bigint | null;
}

export interface DataFile {
  content: FileContent;
  /** Path as written by the writer (not rebased). */
  filePath: string;
  fileFormat: string;
  /** Partition tuple in spec field order, canonical row values (see values.ts). */
  partition: unknown[];
  recordCount: number;
  fileSizeInBytes: number;
  columnSizes: Map<number, number> | null;
  valueCounts: Map<number, number> | null;
  nullValueCounts: Map<number, number> | null;
  nanValueCounts: Map<number, number> | null;
  lowerBounds: Map<number, Uint8Array> | null;
  upperBounds: Map<number, Uint8Array> | null;
  splitOffsets: number[] | null;
  equalityIds: number[] | null;
  sortOrderId: number | null;
  referencedDataFile: string | null;
  /**
   * v3 (field 142): `_row_id` of the file's first row; inherited on read from the manifest's
   * first_row_id when null (spec "First Row ID Inheritance"). Null for delete files and pre-v3 data.
   */
  firstRowId?: bigint | null;
  /** v3 deletion vectors (fields 144, 145): where the blob sits in the Puffin file, in bytes. */
  contentOffset?: number | null;
  contentSizeInBytes?: number | null;
}

export interface ManifestEntry {
  status: 0 | 1 | 2;
  /** Inherited from the manifest list when null on disk (spec: "Sequence Number Inheritance"). */
  snapshotId: bigint;
  /** Data sequence number, inherited when null on disk. */
  sequenceNumber: bigint;
  fileSequenceNumber: bigint | null;
  dataFile: DataFile;
}

export function isStruct(t: IcebergType): t is StructType {
  return typeof t === 'object' && t.type === 'struct';
}
export function isList(t: IcebergType): t is ListType {
  return typeof t === 'object' && t.type === 'list';
}
export function isMap(t: IcebergType): t is MapType {
  return typeof t === 'object' && t.type === 'map';
}

/** 'decimal(P, S)' → {precision, scale}, else null. */
export function parseDecimalType(t: IcebergType): { precision: number; scale: number } | null {
  if (typeof t !== 'string') return null;
  const m = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  return m ? { precision: Number(m[1]), scale: Number(m[2]) } : null;
}

/** 'fixed[L]' → L, else null. */
export function parseFixedType(t: IcebergType): number | null {
  if (typeof t !== 'string') return null;
  const m = /^fixed\[(\d+)\]$/.exec(t);
  return m ? Number(m[1]) : null;
}

/** Every field of a schema by id, nested fields included (list elements and map keys/values too). */
export function indexFields(struct: StructType): Map<number, NestedField> {
  const out = new Map<number, NestedField>();
  const visit = (t: IcebergType) => {
    if (isStruct(t)) {
      for (const f of t.fields) {
        out.set(f.id, f);
        visit(f.type);
      }
    } else if (isList(t)) {
      out.set(t.elementId, { id: t.elementId, name: 'element', required: t.elementRequired, type: t.element });
      visit(t.element);
    } else if (isMap(t)) {
      out.set(t.keyId, { id: t.keyId, name: 'key', required: true, type: t.key });
      out.set(t.valueId, { id: t.valueId, name: 'value', required: t.valueRequired, type: t.value });
      visit(t.key);
      visit(t.value);
    }
  };
  visit(struct);
  return out;
}

/** An Iceberg type as display text: `struct<a: int>`, `list<string>`, `map<string, long>`. */
export function typeToText(t: IcebergType): string {
  if (typeof t === 'string') return t;
  if (isStruct(t)) return `struct<${t.fields.map((f) => `${f.name}: ${typeToText(f.type)}`).join(', ')}>`;
  if (isList(t)) return `list<${typeToText(t.element)}>`;
  if (isMap(t)) return `map<${typeToText(t.key)}, ${typeToText(t.value)}>`;
  return 'unknown';
}
