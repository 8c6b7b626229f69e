/** The Iceberg write path (Node only), onto WritableStorage (WriteEnv.storage). Read-path code must not import this file. */
export { createTable, newTableMetadata, appendRows, appendDataFiles, appendDataFilesThenDelta, applyRowDelta, applyColumnDelta, overwriteRows, rewriteDataFiles, currentSchema, type CreateTableOptions, type RowDelta, type ColumnDelta, type WriteOptions } from './operations';
export { rowsToColumnBatch, selectColumnBatch, type ColumnBatch } from './column-batch';
export { evolveSchema, applySchemaChanges, setRef, type SchemaChange } from './schema-evolution';
export { commitTable, publishExclusive, defaultWriteEnv, seededWriteEnv, COMMIT_RETRIES, loadWritableTable, type TableCatalog, writeStorage, tableRoot, childPath, hasMetadataFile, type WriteEnv } from './commit';
export { commitSnapshot, type SnapshotChange, type CommitOptions } from './snapshot-commit';
export { rowsToArrow, columnsToArrow, encodeAsciiStrings, type FixedWidthColumn, type VariableWidthColumn } from './arrow-build';
export { RollingDataFileWriter, targetFileSizeBytes, PROPERTY_TARGET_FILE_SIZE, DEFAULT_TARGET_FILE_SIZE_BYTES, ROLLING_ROW_GROUP_ROWS, rowGroupRowsFor } from './rolling-file';
export { type FileWriteContext } from './data-files';
export { computeMetrics, highCardinalityColumns, writeParquetBytes } from './parquet-write';
export { encodeManifest, encodeManifestList } from './manifest-write';
export { createDemoWarehouse } from './demo';
export { appendArrow, alignArrowTable } from './arrow-append';
export { evolvePartitionSpec, applyPartitionSpec, type PartitionFieldChange } from './partition-evolution';
export { expireSnapshots, selectRetainedSnapshots, type ExpireOptions, type ExpireResult } from './expire-snapshots';
export { removeOrphanFiles, type RemoveOrphansOptions, type RemoveOrphansResult, type OrphanFile } from './remove-orphans';
export { setSnapshotRef, removeSnapshotRef, rollbackTo, cherryPick, type RefType, type RefChange, type CherryPickResult } from './refs';
export { planCompaction, compactDataFiles, partitionText, type CompactionScope, type CompactionPreview, type CompactionProgress, type CompactionResult, type CompactOptions } from './compact';
export { publishFirstVersion } from './commit';
