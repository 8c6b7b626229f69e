import type { Table } from 'apache-arrow';
import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import type { DataFile, TableMetadata } from './model';
import { parseNameMapping, readOrcFile } from './orc-read';
import { readParquetFile } from './parquet-read';

/**
 * Data and delete files are read from Parquet and ORC (orc-read.ts). Avro data files (allowed by
 * the spec, rare in practice) fail here, named, before any bytes are read; planning, snapshot lists
 * and counts from manifests still work for those tables.
 */
export function checkDataFileFormat(file: { path: string; dataFile: DataFile }): void {
  const format = file.dataFile.fileFormat.toUpperCase();
  if (format === 'PARQUET' || format === 'ORC') return;
  throw new TidemarkError('Unsupported', `${file.path}: data file format ${format} is not supported (Parquet and ORC data files are read)`, {
    path: file.path,
    feature: `file_format=${format}`,
  });
}

/**
 * Reads a whole data or delete file into an Arrow table whose fields carry `PARQUET:field_id`,
 * whatever its format. ORC files without `iceberg.id` attributes are mapped through the table's
 * `schema.name-mapping.default`.
 */
export async function readDataFileTable(storage: StoragePort, file: { path: string; dataFile: DataFile }, metadata: TableMetadata, what = 'data file'): Promise<Table> {
  checkDataFileFormat(file);
  if (file.dataFile.fileFormat.toUpperCase() === 'ORC') {
    const mapping = metadata.properties['schema.name-mapping.default'];
    return readOrcFile(storage, file.path, what, mapping === undefined ? null : parseNameMapping(mapping));
  }
  return readParquetFile(storage, file.path, what);
}
