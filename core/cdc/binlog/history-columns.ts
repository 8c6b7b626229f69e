/**
 * Schema-history mode (config rowMetadata, MySQL 5.7): binlog rows are decoded with the column
 * names, types and character sets of the schema history (the catalog in force at the row's binlog
 * position) instead of the binlog's own column metadata, which such servers do not write.
 *
 * zongji, without that metadata, would look the columns up in INFORMATION_SCHEMA when it reads a
 * table map: the server's *current* columns, wrong for rows written before a later ALTER (a
 * restart replaying older binlog), and an error for a table dropped since. The binlog reader
 * therefore gives zongji placeholder columns (placeholderTableMap) and the change processor decodes
 * each rows event with the table map built here from the catalog schema.
 *
 * The binlog's column types (always in the table map) are checked against the history's: a column
 * count or type family that disagrees means the history is out of step with the binlog (a DDL it
 * did not see), and stops the stream naming the table and column rather than misnaming values.
 */
import type { ColumnInfo, ColumnSchema as ZongjiColumnSchema, TableMapEntry } from '@vlasky/zongji';
import { TidemarkError } from '../../errors/index';
import { isTextType } from '../schema/information-schema';
import { formatTableId, type TableSchema } from '../types';

/** zongji's table map entry for a table id whose columns are not looked up (schema-history mode). */
export function placeholderTableMap(schemaName: string, tableName: string, columnCount: number): TableMapEntry {
  const columnSchemas: ZongjiColumnSchema[] = Array.from({ length: columnCount }, (_, i) => ({
    COLUMN_NAME: `@${i + 1}`,
    COLLATION_NAME: null,
    CHARACTER_SET_NAME: null,
    COLUMN_COMMENT: '',
    COLUMN_TYPE: '',
  }));
  return { columnSchemas, parentSchema: schemaName, tableName };
}

/** Binlog column type codes (MySQL's enum_field_types) by the family a column type belongs to. */
const FAMILY_BY_CODE: Record<number, string> = {
  0: 'decimal', 246: 'decimal',
  1: 'tinyint', 2: 'smallint', 9: 'mediumint', 3: 'int', 8: 'bigint',
  4: 'float', 5: 'double',
  10: 'date', 14: 'date', 11: 'time', 19: 'time', 12: 'datetime', 18: 'datetime', 7: 'timestamp', 17: 'timestamp', 13: 'year',
  16: 'bit', 245: 'json', 247: 'enum', 248: 'set', 255: 'geometry',
  15: 'bytes', 253: 'bytes', 254: 'bytes', 249: 'bytes', 250: 'bytes', 251: 'bytes', 252: 'bytes', 140: 'bytes', 141: 'bytes',
};

const FAMILY_BY_TYPE: Record<string, string> = {
  tinyint: 'tinyint', bool: 'tinyint', boolean: 'tinyint', smallint: 'smallint', mediumint: 'mediumint', int: 'int', integer: 'int',
  bigint: 'bigint', serial: 'bigint', float: 'float', double: 'double', real: 'double',
  decimal: 'decimal', numeric: 'decimal', dec: 'decimal', fixed: 'decimal',
  date: 'date', time: 'time', datetime: 'datetime', timestamp: 'timestamp', year: 'year', bit: 'bit', json: 'json', enum: 'enum', set: 'set',
  geometry: 'geometry', point: 'geometry', linestring: 'geometry', polygon: 'geometry', multipoint: 'geometry',
  multilinestring: 'geometry', multipolygon: 'geometry', geometrycollection: 'geometry', geomcollection: 'geometry',
  char: 'bytes', varchar: 'bytes', nchar: 'bytes', nvarchar: 'bytes', binary: 'bytes', varbinary: 'bytes',
  tinytext: 'bytes', text: 'bytes', mediumtext: 'bytes', longtext: 'bytes', tinyblob: 'bytes', blob: 'bytes', mediumblob: 'bytes', longblob: 'bytes',
};

/** The type family of a column type (`float(p)` with p > 24 is a double); null when not known here. */
function typeFamily(mysqlType: string): string | null {
  const m = /^\s*([a-z]+)\s*(?:\(\s*(\d+)[^)]*\))?/i.exec(mysqlType);
  if (!m) return null;
  const base = m[1]!.toLowerCase();
  if (base === 'float' && m[2] !== undefined && Number(m[2]) > 24) return 'double';
  return FAMILY_BY_TYPE[base] ?? null;
}

function compatible(typeFam: string | null, codeFam: string | undefined): boolean {
  if (typeFam === null || codeFam === undefined) return true;
  // MariaDB's JSON is LONGTEXT in the binlog.
  return typeFam === codeFam || (typeFam === 'json' && codeFam === 'bytes');
}

/**
 * zongji's table map entry for decoding a rows event of `schema`'s table with the schema's names,
 * types and character sets; `binlog` is zongji's entry for the event's table id (its columns carry
 * the binlog's type codes and per-column metadata).
 */
export function historyTableMap(schema: TableSchema, binlog: TableMapEntry): TableMapEntry {
  const where = formatTableId(schema.table);
  const cols = binlog.columns ?? [];
  if (cols.length !== schema.columns.length) {
    throw new TidemarkError(
      'DataInvalid',
      `${where}: its binlog rows have ${cols.length} columns, the schema history has ${schema.columns.length} (${schema.columns.map((c) => c.name).join(', ')}): ` +
        'the history missed a DDL statement; with row-metadata schema-history, restart from an offset carrying its schemas or re-snapshot',
      { table: where },
    );
  }
  const columnSchemas: ZongjiColumnSchema[] = [];
  const columns: ColumnInfo[] = [];
  for (let i = 0; i < cols.length; i++) {
    const c = schema.columns[i]!;
    const b = cols[i]!;
    const code = ((b.metadata as { type?: number } | undefined)?.type ?? b.type) as number;
    if (!compatible(typeFamily(c.mysqlType), FAMILY_BY_CODE[code])) {
      throw new TidemarkError(
        'DataInvalid',
        `${where}.${c.name}: column ${i + 1} of its binlog rows has binlog type ${FAMILY_BY_CODE[code] ?? code}, the schema history says ${c.mysqlType}: ` +
          'the history missed a DDL statement; with row-metadata schema-history, restart from an offset carrying its schemas or re-snapshot',
        { table: where, column: c.name },
      );
    }
    // Text needs its character set to decode; every other type decodes without one (and BLOB
    // codes with none are binary: zongji tells TEXT from BLOB by it).
    const charset = isTextType(c.mysqlType) ? (c.charset ?? schema.charset ?? 'utf8mb4') : null;
    // UUID, INET4 and INET6 as the bytes they are in the binlog (FULL metadata gives them so too):
    // the converter prints them as the server does (schema/uuid-inet6.ts).
    const zongjiType = /^(uuid|inet6)\b/i.test(c.mysqlType) ? 'binary(16)' : /^inet4\b/i.test(c.mysqlType) ? 'binary(4)' : c.mysqlType;
    columnSchemas.push({ COLUMN_NAME: c.name, COLLATION_NAME: null, CHARACTER_SET_NAME: charset, COLUMN_COMMENT: '', COLUMN_TYPE: zongjiType });
    columns.push({ name: c.name, charset, type: b.type, metadata: b.metadata });
  }
  return { columnSchemas, parentSchema: binlog.parentSchema, tableName: binlog.tableName, columns };
}
