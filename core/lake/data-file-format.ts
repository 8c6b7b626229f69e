import { TidemarkError } from '../errors';
import type { DataFile } from './model';

/**
 * Data files are read as Parquet only. Iceberg also allows ORC and Avro data files (v3 fixtures
 * written by Spark with `write.format.default = orc`): no maintained ORC reader on npm runs in both
 * Node and the browser (the hand-written one in paimon/orc decodes whole manifests, not projected
 * data pages), so such a file fails here, named, before any bytes are read. Planning, snapshot lists
 * and counts from manifests still work for those tables.
 */
export function checkDataFileFormat(file: { path: string; dataFile: DataFile }): void {
  const format = file.dataFile.fileFormat.toUpperCase();
  if (format === 'PARQUET') return;
  throw new TidemarkError('Unsupported', `${file.path}: data file format ${format} is not supported (only Parquet data files are read)`, {
    path: file.path,
    feature: `file_format=${format}`,
  });
}
