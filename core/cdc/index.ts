/**
 * core/cdc: the MySQL/MariaDB change-data-capture source. See source.ts for the stream contract
 * (records, offsets, exactly-once resume) and schema/column-codec.ts for value forms.
 */
export { createMySqlSource, type MySqlSource } from './source';
export type { MatchedTable } from './schema/information-schema';
export { openSourceConnection } from './connect-retry';
export { describeOneChunk } from './snapshot/chunk-plan';
export { resolveConfig } from './config';
export type { MySqlSourceConfig, StartupMode } from './config';
export { connectToSource } from './connect';
export { readTrustedCa, type SslMode, type SessionTls } from './tls';
export { encodeOffset, decodeOffset, comparePositions, formatPosition, type SourceOffset, type SnapshotState, type BinlogPosition } from './offset';
export type { PreflightCheck, PreflightReport } from './preflight';
export { mapColumnType, DEFAULT_TYPE_MAP_OPTIONS, type TypeMapOptions } from './schema/type-map';
export { parseDdl, type ParsedDdl } from './ddl/parser';
export { columnValues, columnValueAt, type TypedColumn, type Utf8Column } from './columns';
export {
  formatTableId,
  type TableId,
  type IcebergType,
  type ColumnSchema,
  type TableSchema,
  type ColumnValue,
  type Row,
  type ChangeOp,
  type ChangeEvent,
  type TransactionBatch,
  type SnapshotColumn,
  type SnapshotColumns,
  type ColumnPosition,
  type SchemaChange,
  type SchemaChangeEvent,
  type SnapshotProgressEvent,
  type SourceRecord,
} from './types';
