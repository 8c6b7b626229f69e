import type { NestedField, Schema, TableMetadata } from './model';

/**
 * Iceberg v3 row lineage (spec "Row Lineage"): every row of a v3 table has a `_row_id` and a
 * `_last_updated_sequence_number`, metadata columns with reserved field ids. A writer that moves a
 * row copies them into the new data file (materialized); otherwise they are null or absent and a
 * reader inherits them: `_row_id` = the data file's first_row_id + the row's position (null when the
 * file has no first_row_id: data from before an upgrade to v3), `_last_updated_sequence_number` =
 * the file's data sequence number. They are read only when asked for by name, like Spark's
 * metadata columns: a plain scan shows the table's own columns.
 */
export const ROW_ID_FIELD: NestedField = { id: 2147483540, name: '_row_id', required: false, type: 'long' };
export const LAST_UPDATED_SEQUENCE_NUMBER_FIELD: NestedField = { id: 2147483539, name: '_last_updated_sequence_number', required: false, type: 'long' };

/** The row-lineage metadata columns of a table: both for v3, none before. */
export function rowLineageFields(metadata: TableMetadata): NestedField[] {
  return metadata.formatVersion >= 3 ? [ROW_ID_FIELD, LAST_UPDATED_SEQUENCE_NUMBER_FIELD] : [];
}

export function isRowLineageField(field: NestedField): boolean {
  return field.id === ROW_ID_FIELD.id || field.id === LAST_UPDATED_SEQUENCE_NUMBER_FIELD.id;
}

/** A top-level column by name: a schema field, else (v3) a row-lineage metadata column. */
export function findColumn(schema: Schema, metadata: TableMetadata, name: string): NestedField | undefined {
  return schema.fields.find((f) => f.name === name) ?? rowLineageFields(metadata).find((f) => f.name === name);
}

/** The names a user may ask for, for messages: the schema's, then the metadata columns. */
export function columnNames(schema: Schema, metadata: TableMetadata): string[] {
  return [...schema.fields, ...rowLineageFields(metadata)].map((f) => f.name);
}

/**
 * One data file's values of a row-lineage column (rows 0..n-1 of the file, before deletes), bigint
 * or null: the stored values where not null (`stored` null when the file lacks the column), else
 * inherited from the file's first_row_id / data sequence number.
 */
export function inheritRowLineage(field: NestedField, stored: unknown[] | null, n: number, file: { firstRowId: bigint | null; sequenceNumber: bigint }): unknown[] {
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const v = stored?.[i];
    if (v !== null && v !== undefined) out[i] = BigInt(v as bigint);
    else if (field.id === ROW_ID_FIELD.id) out[i] = file.firstRowId === null ? null : file.firstRowId + BigInt(i);
    else out[i] = file.sequenceNumber;
  }
  return out;
}
