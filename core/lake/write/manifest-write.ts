import { parseDecimalType, parseFixedType, type IcebergType, type ManifestEntry, type ManifestFile, type PartitionSpec, type Schema } from '../model';
import { indexFields } from '../model';
import { writePartitionSpec, writeSchema } from '../serde/schema-json';
import { partitionResultType } from '../transforms';
import { bigIntToBytes, parseDate, parseDecimal, parseTime, parseTimestamp, uuidToBytes } from '../values';
import { LONG, writeAvroFile } from './avro-write';

/**
 * Manifest and manifest list Avro schemas of format v2 with the spec's field ids (spec "Manifests":
 * manifest_entry 0-4, data_file 100-143; "Manifest Lists": manifest_file 500-519), and their
 * key-value metadata (schema, schema-id, partition-spec, partition-spec-id, format-version, content).
 */
const opt = (type: unknown) => ['null', type];
const kvMap = (name: string, keyId: number, valueId: number, valueType: unknown) => ({
  type: 'array',
  logicalType: 'map',
  items: { type: 'record', name, fields: [{ name: 'key', type: 'int', 'field-id': keyId }, { name: 'value', type: valueType, 'field-id': valueId }] },
});

/** Avro type of a partition value (spec Appendix A type mapping). */
function avroPartitionType(t: IcebergType, fieldId: number): unknown {
  if (typeof t !== 'string') return 'string';
  switch (t) {
    case 'boolean':
    case 'int':
    case 'float':
    case 'double':
    case 'string':
      return t;
    case 'long':
      return LONG;
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'time':
      return { type: LONG, logicalType: 'time-micros' };
    case 'timestamp':
      return { type: LONG, logicalType: 'timestamp-micros', 'adjust-to-utc': false };
    case 'timestamptz':
      return { type: LONG, logicalType: 'timestamp-micros', 'adjust-to-utc': true };
    case 'uuid':
      return { type: 'fixed', name: `uuid_fixed_${fieldId}`, size: 16, logicalType: 'uuid' };
    case 'binary':
      return 'bytes';
  }
  const dec = parseDecimalType(t);
  if (dec) return { type: 'fixed', name: `decimal_${fieldId}`, size: decimalBytes(dec.precision), logicalType: 'decimal', precision: dec.precision, scale: dec.scale };
  const len = parseFixedType(t);
  if (len !== null) return { type: 'fixed', name: `fixed_${fieldId}`, size: len };
  return 'string';
}

/** Minimum bytes for a decimal of precision P (spec: decimal as fixed). */
function decimalBytes(precision: number): number {
  let n = 1;
  while (10n ** BigInt(precision) > 1n << BigInt(8 * n - 1)) n++;
  return n;
}

function toAvroPartitionValue(t: IcebergType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (t === 'long') return BigInt(v as bigint);
  if (t === 'date') return parseDate(String(v));
  if (t === 'time') return parseTime(String(v));
  if (t === 'timestamp' || t === 'timestamptz') return parseTimestamp(String(v));
  if (t === 'uuid') return Buffer.from(uuidToBytes(String(v)));
  const dec = parseDecimalType(t);
  if (dec) return Buffer.from(bigIntToBytes(parseDecimal(String(v), dec.scale), decimalBytes(dec.precision)));
  if (v instanceof Uint8Array) return Buffer.from(v);
  return v;
}

function manifestEntrySchema(spec: PartitionSpec, schema: Schema, formatVersion: 2 | 3): object {
  const fields = indexFields(schema);
  const partitionFields = spec.fields.map((pf) => {
    const source = fields.get(pf.sourceId);
    const type = source ? partitionResultType(pf.transform, source.type) : 'int';
    return { name: pf.name, type: opt(avroPartitionType(type, pf.fieldId)), default: null, 'field-id': pf.fieldId };
  });
  return {
    type: 'record',
    name: 'manifest_entry',
    fields: [
      { name: 'status', type: 'int', 'field-id': 0 },
      { name: 'snapshot_id', type: opt(LONG), default: null, 'field-id': 1 },
      { name: 'sequence_number', type: opt(LONG), default: null, 'field-id': 3 },
      { name: 'file_sequence_number', type: opt(LONG), default: null, 'field-id': 4 },
      {
        name: 'data_file',
        'field-id': 2,
        type: {
          type: 'record',
          name: 'r2',
          fields: [
            { name: 'content', type: 'int', 'field-id': 134 },
            { name: 'file_path', type: 'string', 'field-id': 100 },
            { name: 'file_format', type: 'string', 'field-id': 101 },
            { name: 'partition', type: { type: 'record', name: 'r102', fields: partitionFields }, 'field-id': 102 },
            { name: 'record_count', type: LONG, 'field-id': 103 },
            { name: 'file_size_in_bytes', type: LONG, 'field-id': 104 },
            { name: 'column_sizes', type: opt(kvMap('k117_v118', 117, 118, LONG)), default: null, 'field-id': 108 },
            { name: 'value_counts', type: opt(kvMap('k119_v120', 119, 120, LONG)), default: null, 'field-id': 109 },
            { name: 'null_value_counts', type: opt(kvMap('k121_v122', 121, 122, LONG)), default: null, 'field-id': 110 },
            { name: 'nan_value_counts', type: opt(kvMap('k138_v139', 138, 139, LONG)), default: null, 'field-id': 137 },
            { name: 'lower_bounds', type: opt(kvMap('k126_v127', 126, 127, 'bytes')), default: null, 'field-id': 125 },
            { name: 'upper_bounds', type: opt(kvMap('k129_v130', 129, 130, 'bytes')), default: null, 'field-id': 128 },
            { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 131 },
            { name: 'split_offsets', type: opt({ type: 'array', items: LONG, 'element-id': 133 }), default: null, 'field-id': 132 },
            { name: 'equality_ids', type: opt({ type: 'array', items: 'int', 'element-id': 136 }), default: null, 'field-id': 135 },
            { name: 'sort_order_id', type: opt('int'), default: null, 'field-id': 140 },
            { name: 'referenced_data_file', type: opt('string'), default: null, 'field-id': 143 },
            // v3 row lineage: kept for EXISTING entries so a rewritten manifest keeps the rows' ids.
            ...(formatVersion === 3 ? [{ name: 'first_row_id', type: opt(LONG), default: null, 'field-id': 142 }] : []),
            // v3 deletion vectors: which blob of the Puffin file; kept when a delete manifest is rewritten.
            ...(formatVersion === 3
              ? [
                  { name: 'content_offset', type: opt(LONG), default: null, 'field-id': 144 },
                  { name: 'content_size_in_bytes', type: opt(LONG), default: null, 'field-id': 145 },
                ]
              : []),
          ],
        },
      },
    ],
  };
}

const MANIFEST_LIST_SCHEMA = {
  type: 'record',
  name: 'manifest_file',
  fields: [
    { name: 'manifest_path', type: 'string', 'field-id': 500 },
    { name: 'manifest_length', type: LONG, 'field-id': 501 },
    { name: 'partition_spec_id', type: 'int', 'field-id': 502 },
    { name: 'content', type: 'int', 'field-id': 517 },
    { name: 'sequence_number', type: LONG, 'field-id': 515 },
    { name: 'min_sequence_number', type: LONG, 'field-id': 516 },
    { name: 'added_snapshot_id', type: LONG, 'field-id': 503 },
    { name: 'added_files_count', type: 'int', 'field-id': 504 },
    { name: 'existing_files_count', type: 'int', 'field-id': 505 },
    { name: 'deleted_files_count', type: 'int', 'field-id': 506 },
    { name: 'added_rows_count', type: LONG, 'field-id': 512 },
    { name: 'existing_rows_count', type: LONG, 'field-id': 513 },
    { name: 'deleted_rows_count', type: LONG, 'field-id': 514 },
    {
      name: 'partitions',
      type: opt({
        type: 'array',
        'element-id': 508,
        items: {
          type: 'record',
          name: 'r508',
          fields: [
            { name: 'contains_null', type: 'boolean', 'field-id': 509 },
            { name: 'contains_nan', type: opt('boolean'), default: null, 'field-id': 518 },
            { name: 'lower_bound', type: opt('bytes'), default: null, 'field-id': 510 },
            { name: 'upper_bound', type: opt('bytes'), default: null, 'field-id': 511 },
          ],
        },
      }),
      default: null,
      'field-id': 507,
    },
    { name: 'key_metadata', type: opt('bytes'), default: null, 'field-id': 519 },
  ],
};

const optLong = (v: number | null | undefined) => (v === null || v === undefined ? null : BigInt(v));
const mapOut = <V>(m: Map<number, V> | null, conv: (v: V) => unknown) => (m ? [...m].map(([key, value]) => ({ key, value: conv(value) })) : null);

/** Encodes a manifest. Entries keep explicit sequence numbers (no inheritance needed on read). */
export async function encodeManifest(entries: ManifestEntry[], spec: PartitionSpec, schema: Schema, content: 'data' | 'deletes', formatVersion: 2 | 3 = 2): Promise<Uint8Array> {
  const fields = indexFields(schema);
  const types = spec.fields.map((pf) => {
    const source = fields.get(pf.sourceId);
    return source ? partitionResultType(pf.transform, source.type) : 'int';
  });
  const records = entries.map((e) => {
    const d = e.dataFile;
    return {
      status: e.status,
      snapshot_id: e.snapshotId,
      sequence_number: e.sequenceNumber,
      file_sequence_number: e.fileSequenceNumber,
      data_file: {
        content: d.content,
        file_path: d.filePath,
        file_format: d.fileFormat,
        partition: Object.fromEntries(spec.fields.map((pf, i) => [pf.name, toAvroPartitionValue(types[i]!, d.partition[i])])),
        record_count: BigInt(d.recordCount),
        file_size_in_bytes: BigInt(d.fileSizeInBytes),
        column_sizes: mapOut(d.columnSizes, BigInt),
        value_counts: mapOut(d.valueCounts, BigInt),
        null_value_counts: mapOut(d.nullValueCounts, BigInt),
        nan_value_counts: mapOut(d.nanValueCounts, BigInt),
        lower_bounds: mapOut(d.lowerBounds, (b) => Buffer.from(b)),
        upper_bounds: mapOut(d.upperBounds, (b) => Buffer.from(b)),
        key_metadata: null,
        split_offsets: d.splitOffsets ? d.splitOffsets.map(BigInt) : null,
        equality_ids: d.equalityIds,
        sort_order_id: d.sortOrderId,
        referenced_data_file: d.referencedDataFile,
        ...(formatVersion === 3 ? { first_row_id: d.firstRowId ?? null, content_offset: optLong(d.contentOffset), content_size_in_bytes: optLong(d.contentSizeInBytes) } : {}),
      },
    };
  });
  return writeAvroFile(manifestEntrySchema(spec, schema, formatVersion), records, {
    schema: JSON.stringify(writeSchema(schema)),
    'schema-id': String(schema.schemaId),
    'partition-spec': JSON.stringify(writePartitionSpec(spec).fields),
    'partition-spec-id': String(spec.specId),
    'format-version': String(formatVersion),
    content,
  });
}

/** Encodes a manifest list; v3 adds each manifest's `first_row_id` (520) and the snapshot's `first-row-id`. */
export async function encodeManifestList(manifests: ManifestFile[], snapshotId: bigint, parentSnapshotId: bigint | null, sequenceNumber: bigint, v3?: { firstRowId: bigint }): Promise<Uint8Array> {
  const records = manifests.map((m) => ({
    manifest_path: m.manifestPath,
    manifest_length: BigInt(m.manifestLength),
    partition_spec_id: m.partitionSpecId,
    content: m.content,
    sequence_number: m.sequenceNumber,
    min_sequence_number: m.minSequenceNumber,
    added_snapshot_id: m.addedSnapshotId,
    added_files_count: m.addedFilesCount,
    existing_files_count: m.existingFilesCount,
    deleted_files_count: m.deletedFilesCount,
    added_rows_count: BigInt(m.addedRowsCount),
    existing_rows_count: BigInt(m.existingRowsCount),
    deleted_rows_count: BigInt(m.deletedRowsCount),
    partitions: m.partitions?.map((p) => ({
      contains_null: p.containsNull,
      contains_nan: p.containsNan,
      lower_bound: p.lowerBound ? Buffer.from(p.lowerBound) : null,
      upper_bound: p.upperBound ? Buffer.from(p.upperBound) : null,
    })) ?? null,
    key_metadata: null,
    ...(v3 ? { first_row_id: m.firstRowId ?? null } : {}),
  }));
  const meta: Record<string, string> = { 'snapshot-id': snapshotId.toString(), 'sequence-number': sequenceNumber.toString(), 'format-version': v3 ? '3' : '2' };
  meta['parent-snapshot-id'] = parentSnapshotId === null ? 'null' : parentSnapshotId.toString();
  if (v3) meta['first-row-id'] = v3.firstRowId.toString();
  const schema = v3 ? { ...MANIFEST_LIST_SCHEMA, fields: [...MANIFEST_LIST_SCHEMA.fields, { name: 'first_row_id', type: opt(LONG), default: null, 'field-id': 520 }] } : MANIFEST_LIST_SCHEMA;
  return writeAvroFile(schema, records, meta);
}
