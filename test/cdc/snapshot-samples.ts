/** Sample values of every conversion kind for the snapshot row tests (rows.ts and text-columns.ts). */
import { SchemaCatalog } from '../../core/cdc/schema/catalog';
import { resolveConfig } from '../../core/cdc/config';
import { mapColumnType } from '../../core/cdc/schema/type-map';
import type { TableSchema } from '../../core/cdc/types';

export const config = resolveConfig({ hostname: 'h', port: 3306, username: 'u', password: 'p', tables: ['app\\.t'], serverId: 1 });

/** A column of every conversion kind, with raw values as the snapshot's mysql2 options give them. */
export const COLUMNS: [string, string, boolean, unknown[]][] = [
  ['id', 'int(11)', false, [1, -2147483648, 2147483647]],
  ['flag', 'tinyint(1)', true, [0, 1, null]],
  ['small', 'smallint(6)', true, [-32768, null]],
  ['yr', 'year(4)', true, [1901, 2155, 0, null]],
  ['u32', 'int(10) unsigned', true, [0, 4294967295, null]],
  ['big', 'bigint(20)', true, ['-9223372036854775808', '9007199254740993', '0', 12, null]],
  ['ubig', 'bigint(20) unsigned', true, ['18446744073709551615', '0', null]],
  ['price', 'decimal(12,2)', true, ['1234.50', '-0.00', '007.10', '-12.3', null]],
  ['wide', 'decimal(65,30)', true, ['1.000000000000000000000000000000', null]],
  ['f', 'float', true, [0.1, 3.4028234663852886e38, -1.5, null]],
  ['d', 'double', true, [0.1, -1e308, null]],
  ['bit1', 'bit(1)', true, [Buffer.from([1]), Buffer.from([0]), null]],
  ['bits', 'bit(10)', true, [Buffer.from([3, 255]), null]],
  ['name', 'varchar(32)', true, ['', 'row-1', 'ünïcødé ✓', null]],
  ['doc', 'json', true, ['{"a":[1,2]}', null]],
  ['e', "enum('a','b')", true, ['a', null]],
  ['bin', 'varbinary(16)', true, [Buffer.from('ab'), Buffer.alloc(0), null]],
  ['day', 'date', true, ['2024-02-29', '1000-01-01', '0000-00-00', '2020-00-10', null]],
  ['day0', 'date', false, ['0000-00-00', '9999-12-31']],
  ['tod', 'time(6)', true, ['00:00:00', '23:59:59.999999', '12:30:00.5', null]],
  ['at', 'datetime(6)', true, ['2024-01-01 00:00:00.000000', '1969-12-31 23:59:59.999999', '0000-00-00 00:00:00.000000', null]],
  ['at0', 'datetime', false, ['0000-00-00 00:00:00', '2255-06-05 23:47:34', '9999-12-31 23:59:59']],
  ['ts', 'timestamp(3)', true, ['1970-01-01 00:00:01.000', '2038-01-19 03:14:07.999', null]],
  ['g', 'geometry', true, [Buffer.from('e61000000101000000000000000000f03f0000000000000040', 'hex'), Buffer.from('000000000101000000000000000000f03f0000000000000040', 'hex'), null]],
];

export function schemaOf(columns: typeof COLUMNS): TableSchema {
  return {
    table: { db: 'app', table: 't' },
    primaryKey: ['id'],
    columns: columns.map(([name, mysqlType, nullable], i) => ({ name, mysqlType, icebergType: mapColumnType(mysqlType, undefined, `app.t.${name}`), nullable, position: i + 1 })),
  };
}

/** A driver-shaped row: an object literal filled field by field, in SELECT order. */
export function rawRow(names: string[], values: unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  names.forEach((n, i) => (row[n] = values[i] instanceof Buffer ? Buffer.from(values[i] as Buffer) : values[i]));
  return row;
}

/** The catalog's general conversion (the reference), converting a copy of the rows as one chunk. */
export function viaCatalog(catalog: SchemaCatalog, schema: TableSchema, rows: Record<string, unknown>[]): unknown[] {
  const copies = rows.map((r) => rawRow(Object.keys(r), Object.values(r)));
  return copies.map((r) => catalog.convertRow(schema.table, r, undefined, copies));
}

export function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as { code?: string }).code, message: (e as Error).message };
  }
}

