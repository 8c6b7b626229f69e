/**
 * MySQL/MariaDB column types → Iceberg v2 types (see types.ts); the raw values of those columns
 * become canonical values in column-codec.ts.
 */
import { TidemarkError } from '../../errors/index';
import type { IcebergType } from '../types';

export interface TypeMapOptions {
  /** tinyint(1) → boolean (default true, as Flink CDC's `treat-tinyint1-as-boolean.enabled`). */
  tinyInt1IsBoolean: boolean;
}

export const DEFAULT_TYPE_MAP_OPTIONS: TypeMapOptions = { tinyInt1IsBoolean: true };

interface ParsedType {
  base: string;
  args: string[];
  unsigned: boolean;
}

function parseColumnType(columnType: string): ParsedType {
  const m = /^\s*([a-z0-9_ ]+?)\s*(?:\((.*)\))?\s*((?:unsigned|signed|zerofill|\s)*)$/i.exec(columnType);
  if (!m) return { base: columnType.trim().toLowerCase(), args: [], unsigned: false };
  const args = m[2] === undefined ? [] : m[2].split(',').map((a) => a.trim());
  return { base: m[1]!.toLowerCase(), args, unsigned: /unsigned/i.test(m[3] ?? '') };
}

/**
 * The Iceberg type for a column, from its full column type (INFORMATION_SCHEMA.COLUMNS.COLUMN_TYPE,
 * e.g. `bigint(20) unsigned`). Unknown types are Unsupported, naming the column.
 */
export function mapColumnType(columnType: string, options: TypeMapOptions = DEFAULT_TYPE_MAP_OPTIONS, where = ''): IcebergType {
  const t = parseColumnType(columnType);
  const n = (i: number, dflt: number) => (t.args[i] === undefined || t.args[i] === '' ? dflt : Number(t.args[i]));
  switch (t.base) {
    case 'tinyint':
      if (options.tinyInt1IsBoolean && t.args[0] === '1') return { type: 'boolean' };
      return { type: 'int' };
    case 'bool':
    case 'boolean':
      return options.tinyInt1IsBoolean ? { type: 'boolean' } : { type: 'int' };
    case 'smallint':
    case 'mediumint':
    case 'year':
      return { type: 'int' };
    case 'int':
    case 'integer':
      return t.unsigned ? { type: 'long' } : { type: 'int' };
    case 'bigint':
      return t.unsigned ? { type: 'decimal', precision: 20, scale: 0 } : { type: 'long' };
    case 'serial':
      return { type: 'decimal', precision: 20, scale: 0 };
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed': {
      const precision = n(0, 10);
      const scale = n(1, 0);
      // Iceberg decimals stop at 38 digits; wider values stay exact as text (documented in the schema doc).
      return precision > 38 ? { type: 'string' } : { type: 'decimal', precision, scale };
    }
    case 'float':
      return { type: 'float' };
    case 'double':
    case 'double precision':
    case 'real':
      return { type: 'double' };
    case 'bit':
      return n(0, 1) === 1 ? { type: 'boolean' } : { type: 'binary' };
    case 'char':
    case 'varchar':
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
    case 'json':
    case 'enum':
    case 'set':
    case 'uuid':
    case 'inet4':
    case 'inet6':
      return { type: 'string' };
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'geometry':
    case 'point':
    case 'linestring':
    case 'polygon':
    case 'multipoint':
    case 'multilinestring':
    case 'multipolygon':
    case 'geometrycollection':
    case 'geomcollection':
      return { type: 'binary' };
    case 'date':
      return { type: 'date' };
    case 'time':
      return { type: 'time' };
    case 'datetime':
      return { type: 'timestamp' };
    case 'timestamp':
      return { type: 'timestamptz' };
    default:
      throw new TidemarkError('Unsupported', `${where ? where + ': ' : ''}column type "${columnType}" has no Iceberg mapping`, {
        columnType,
        column: where,
      });
  }
}

/** True for MySQL spatial types (read in their stored form, SRID then WKB: schema/wkb.ts). */
export function isSpatialType(columnType: string): boolean {
  return /^(geometry|point|linestring|polygon|multipoint|multilinestring|multipolygon|geometrycollection|geomcollection)\b/i.test(
    columnType.trim(),
  );
}
