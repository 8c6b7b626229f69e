/**
 * Iceberg v3 row-lineage columns in merge-on-read SQL (spec "Row Lineage"; see
 * core/lake/row-lineage.ts): the stored value where a writer materialized it, else `_row_id` =
 * the data file's first_row_id + the row's position in the file (NULL without a first_row_id) and
 * `_last_updated_sequence_number` = the file's data sequence number.
 */
import type { PlannedFile } from '../lake';
import { ROW_ID_FIELD } from '../lake';
import type { NestedField } from '../lake';
import { quoteIdent } from './duckdb';
import { filePositionSql, type RowGroupSelection } from './row-groups';

export function rowLineageSql(field: NestedField, loaded: { columns: Map<number, string>; rowGroups: RowGroupSelection | null }, file: PlannedFile): string {
  const col = loaded.columns.get(field.id);
  const firstRowId = file.dataFile.firstRowId ?? null;
  const inherited =
    field.id === ROW_ID_FIELD.id
      ? firstRowId === null
        ? 'CAST(NULL AS BIGINT)'
        : `CAST(${firstRowId} + ${filePositionSql(loaded.rowGroups)} AS BIGINT)`
      : `CAST(${file.sequenceNumber} AS BIGINT)`;
  return col === undefined ? inherited : `COALESCE(CAST(${quoteIdent(col)} AS BIGINT), ${inherited})`;
}
