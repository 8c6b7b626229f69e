/** The Iceberg write path (Node only: node:fs). Read-path code must not import this file. */
export { createTable, appendRows, applyRowDelta, overwriteRows, rewriteDataFiles, currentSchema, type CreateTableOptions, type RowDelta, type WriteOptions } from './operations';
export { evolveSchema, applySchemaChanges, setRef, type SchemaChange } from './schema-evolution';
export { commitTable, publishExclusive, defaultWriteEnv, seededWriteEnv, COMMIT_RETRIES, type WriteEnv } from './commit';
export { commitSnapshot, type SnapshotChange, type CommitOptions } from './snapshot-commit';
export { rowsToArrow } from './arrow-build';
export { computeMetrics, writeParquetBytes } from './parquet-write';
export { encodeManifest, encodeManifestList } from './manifest-write';
export { createDemoWarehouse } from './demo';
