/**
 * Iceberg types and canonical values as DuckDB SQL: type names for casts, literals for defaults and
 * partition values.
 */
import { TidemarkError } from '../errors';
import { isList, isMap, isStruct, parseDecimalType, parseFixedType, type IcebergType } from '../lake';
import { bytesToHex } from '../lake';
import { quoteLiteral } from './duckdb';

/** DuckDB type for an Iceberg type; null for nested types (left as the file has them). */
export function duckDbType(type: IcebergType): string | null {
  if (typeof type !== 'string') return null;
  const dec = parseDecimalType(type);
  if (dec) return `DECIMAL(${dec.precision}, ${dec.scale})`;
  if (parseFixedType(type) !== null) return 'BLOB';
  switch (type) {
    case 'boolean':
      return 'BOOLEAN';
    case 'int':
      return 'INTEGER';
    case 'long':
      return 'BIGINT';
    case 'float':
      return 'FLOAT';
    case 'double':
      return 'DOUBLE';
    case 'date':
      return 'DATE';
    case 'time':
      return 'TIME';
    case 'timestamp':
    case 'timestamp_ns':
      return 'TIMESTAMP';
    case 'timestamptz':
    case 'timestamptz_ns':
      return 'TIMESTAMPTZ';
    case 'string':
      return 'VARCHAR';
    case 'uuid':
      // Stored as 16 bytes; carried as the usual 8-4-4-4-12 text (see uuidFromBlob).
      return 'VARCHAR';
    case 'binary':
      return 'BLOB';
    case 'variant':
      // Loaded as its JSON text (variant-columns.ts), like the lake reader's canonical value.
      return 'VARCHAR';
    case 'unknown':
      // v3: never stored, always null.
      return 'VARCHAR';
    default:
      throw new TidemarkError('Unsupported', `Iceberg type ${type} is not supported by the query engine`, { type });
  }
}

/** SQL literal for a canonical value of `type` (NULL typed when possible). */
export function sqlLiteral(type: IcebergType, value: unknown): string {
  const sqlType = duckDbType(type);
  if (value === null || value === undefined) return sqlType ? `CAST(NULL AS ${sqlType})` : 'NULL';
  if (typeof type !== 'string') {
    if (isStruct(type) || isList(type) || isMap(type)) return 'NULL';
  }
  if (value instanceof Uint8Array) return `from_hex(${quoteLiteral(bytesToHex(value))})`;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number' || typeof value === 'bigint') return `CAST(${value.toString()} AS ${sqlType})`;
  return `CAST(${quoteLiteral(String(value))} AS ${sqlType})`;
}

/** A uuid stored as 16 bytes (Parquet fixed_len_byte_array(16)) → its 8-4-4-4-12 text. */
export function uuidFromBlob(expr: string): string {
  const h = `lower(hex(${expr}))`;
  return `CASE WHEN ${expr} IS NULL THEN NULL ELSE substr(${h},1,8)||'-'||substr(${h},9,4)||'-'||substr(${h},13,4)||'-'||substr(${h},17,4)||'-'||substr(${h},21,12) END`;
}
