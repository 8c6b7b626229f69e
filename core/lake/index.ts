/**
 * Apache Iceberg v2 lake core: the read path (browser-safe: bytes only through a StoragePort).
 * The write path (Node only) is exported from core/lake/write/index.ts so that the renderer bundle
 * never pulls node:fs in through this file.
 */
export * from './model';
export { parseTableMetadata, writeTableMetadata } from './serde/table-metadata';
export { parseJsonBigint, stringifyJsonBigint } from './serde/json';
export { readManifestList, readManifest } from './serde/manifest-read';
export { readAvroFile } from './serde/avro';
export { encodeSingleValue, decodeSingleValue } from './serde/single-value';
export { resolveTablePath, normalizeLocation } from './paths';
export {
  loadTable,
  findCurrentMetadataFile,
  selectSnapshot,
  snapshotSchema,
  findSnapshot,
  metadataFileVersion,
  type LoadedTable,
  type SnapshotSelector,
} from './table';
export { openScanPlan, planScan, wholePlan, readSnapshotEntries, type IncrementalScanPlan, type ScanPlan, type PlannedFile, type PlannedDataFile, type PlanOptions } from './scan-plan';
export { scanRows, countRows, iterateRows, readDataFileRows, type Row, type ScanRowsOptions, type ScanResult } from './row-reader';
export { rowMatches, compareValues, type ScanFilter, type Predicate } from './scan-filter';
export { applyTransform, partitionResultType } from './transforms';
export * from './values';
export { listWarehouseTables, detectTableFormat, type WarehouseTable, type TableFormat } from './warehouse';
export { arrowFieldId, convertArrowData } from './arrow-values';
export { buildPageSubset, checkChunkPages, chunkStatistics, columnIndexRange, endsWithParquetMagic, offsetIndexRanges, pagesInRange, pageSpan, parseFooter, planSubset, readFooterLength } from './serde/parquet-subset';
export type { ChunkRange, PageSpan, ParquetFooter, TimeUnit } from './serde/parquet-subset';
export { pruneByFilter, statisticsMayMatch } from './scan-filter';
export { DeletionVectorReader, deleteFileKey, isDeletionVector } from './deletion-vector';
export { ROW_ID_FIELD, findColumn, inheritRowLineage, isRowLineageField, rowLineageFields } from './row-lineage';
export { convertVariantData } from './variant';
export { checkDataFileFormat, readDataFileTable } from './data-file-format';
export { decodeOrcDataFile, endsWithOrcPostscript, parseNameMapping, type NameMappingField } from './orc-read';
export type { ManifestCache } from './scan-plan';
export { requireTableFormat } from './warehouse';
export { JsonReader, parsePartitionSpec, parseSchema, parseSortOrder } from './serde/schema-json';
