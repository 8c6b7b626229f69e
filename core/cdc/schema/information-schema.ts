/**
 * Table schemas of the captured tables: loaded from INFORMATION_SCHEMA at start, then kept in step
 * with the binlog by applying parsed DDL, so a row is always decoded with the schema in force at
 * its binlog position (not the server's current one).
 */
import type mysql from 'mysql2/promise';
import { TidemarkError } from '../../errors/index';
import { isCapturedTable, type ResolvedConfig } from '../config';
import { mapColumnType, type TypeMapOptions } from './type-map';
import { formatTableId, type ColumnPosition, type ColumnSchema, type SchemaChange, type TableId, type TableSchema } from '../types';

const SYSTEM_DBS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

export interface MatchedTable {
  id: TableId;
  rowsEstimated: number;
  /** DATA_LENGTH: bytes of the table's rows as the engine stores them (an estimate for InnoDB). */
  bytesEstimated: number;
}

/** Base tables the configuration captures, ordered by db then table. */
export async function listMatchedTables(conn: mysql.Connection, config: ResolvedConfig): Promise<MatchedTable[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, TABLE_ROWS AS n, DATA_LENGTH AS b FROM information_schema.TABLES
     WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    [SYSTEM_DBS],
  );
  return rows
    .map((r) => ({ id: { db: String(r.db), table: String(r.t) }, rowsEstimated: Number(r.n ?? 0), bytesEstimated: Number(r.b ?? 0) }))
    .filter((m) => isCapturedTable(config, m.id));
}

/** Reads the schemas of the given tables. Tables that vanished meanwhile are left out. */
export async function readTableSchemas(conn: mysql.Connection, tables: TableId[], options: TypeMapOptions): Promise<TableSchema[]> {
  if (tables.length === 0) return [];
  const dbs = [...new Set(tables.map((t) => t.db))];
  const [cols] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, COLUMN_NAME AS c, COLUMN_TYPE AS ct, IS_NULLABLE AS n, ORDINAL_POSITION AS p,
       CHARACTER_SET_NAME AS cs
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    [dbs],
  );
  const [keys] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE
     WHERE CONSTRAINT_NAME = 'PRIMARY' AND TABLE_SCHEMA IN (?) ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`,
    [dbs],
  );
  const [collations] = await conn.query<mysql.RowDataPacket[]>(
    'SELECT TABLE_SCHEMA AS db, TABLE_NAME AS t, TABLE_COLLATION AS tc FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (?)',
    [dbs],
  );
  const wanted = new Set(tables.map(formatTableId));
  const byTable = new Map<string, TableSchema>();
  for (const r of cols) {
    const id = { db: String(r.db), table: String(r.t) };
    const key = formatTableId(id);
    if (!wanted.has(key)) continue;
    let schema = byTable.get(key);
    if (!schema) byTable.set(key, (schema = { table: id, columns: [], primaryKey: [] }));
    const name = String(r.c);
    const mysqlType = String(r.ct);
    schema.columns.push({
      name,
      mysqlType,
      icebergType: mapColumnType(mysqlType, options, `${key}.${name}`),
      nullable: r.n === 'YES',
      position: Number(r.p),
      ...(r.cs ? { charset: String(r.cs) } : {}),
    });
  }
  for (const r of keys) {
    byTable.get(`${r.db}.${r.t}`)?.primaryKey.push(String(r.c));
  }
  for (const r of collations) {
    const schema = byTable.get(`${r.db}.${r.t}`);
    if (schema && r.tc) schema.charset = charsetOfCollation(String(r.tc));
  }
  return tables.map((t) => byTable.get(formatTableId(t))).filter((s): s is TableSchema => s !== undefined);
}

/**
 * The default character set of a table created in a database without one: the database's, read
 * now, or for a database created later the server's (character_set_server).
 */
export async function readDefaultCharsets(conn: mysql.Connection): Promise<(db: string) => string> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME AS db, DEFAULT_CHARACTER_SET_NAME AS cs FROM information_schema.SCHEMATA');
  const [server] = await conn.query<mysql.RowDataPacket[]>('SELECT @@character_set_server AS cs');
  const byDb = new Map(rows.map((r) => [String(r.db), String(r.cs)]));
  const fallback = String(server[0]?.cs ?? 'utf8mb4');
  return (db) => byDb.get(db) ?? fallback;
}

/** The character set a collation belongs to: every collation name is `charset_…`, but `binary`. */
export function charsetOfCollation(collation: string): string {
  const lower = collation.toLowerCase();
  return lower === 'binary' ? 'binary' : lower.split('_')[0]!;
}

/** Whether a column of this type holds text in a character set (CHARACTER_SET_NAME is set for it). */
export function isTextType(mysqlType: string): boolean {
  return /^(?:char|varchar|nchar|nvarchar|tinytext|text|mediumtext|longtext|enum|set|json)\b/i.test(mysqlType.trim());
}

/** `column` with the table's default character set when it is a text column without one of its own. */
export function withDefaultCharset(column: ColumnSchema, charset: string | undefined): ColumnSchema {
  if (column.charset !== undefined || charset === undefined || !isTextType(column.mysqlType)) return column;
  return { ...column, charset };
}

function renumber(columns: ColumnSchema[]): ColumnSchema[] {
  return columns.map((c, i) => ({ ...c, position: i + 1 }));
}

function insertAt(columns: ColumnSchema[], column: ColumnSchema, position: ColumnPosition, where: string): ColumnSchema[] {
  const out = [...columns];
  if (position.kind === 'first') out.unshift(column);
  else if (position.kind === 'last') out.push(column);
  else {
    const i = out.findIndex((c) => c.name.toLowerCase() === position.column.toLowerCase());
    if (i < 0) throw new TidemarkError('DataInvalid', `${where}: AFTER ${position.column}: no such column`, { table: where });
    out.splice(i + 1, 0, column);
  }
  return renumber(out);
}

function indexOfColumn(schema: TableSchema, name: string, where: string): number {
  const i = schema.columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
  if (i < 0) throw new TidemarkError('DataInvalid', `${where}: no column ${name} (columns: ${schema.columns.map((c) => c.name).join(', ')})`, { table: where });
  return i;
}

/**
 * The schema after column-level changes (add/drop/rename/modify). Table-level changes (create,
 * drop, rename, truncate) are handled by the catalog owner. Column names compare case-insensitively,
 * as MySQL does.
 */
export function applyColumnChanges(schema: TableSchema, changes: SchemaChange[]): TableSchema {
  const where = formatTableId(schema.table);
  let s: TableSchema = { ...schema, columns: [...schema.columns], primaryKey: [...schema.primaryKey] };
  for (const ch of changes) {
    switch (ch.kind) {
      case 'add-column':
        // Present already: `ADD COLUMN IF NOT EXISTS` (the parser keeps no flag), or a schema read
        // from the server just after the statement (newly added tables): a no-op either way.
        if (s.columns.some((c) => c.name.toLowerCase() === ch.column.name.toLowerCase())) break;
        s = { ...s, columns: insertAt(s.columns, withDefaultCharset(ch.column, s.charset), ch.position, where) };
        break;
      case 'drop-column': {
        const i = indexOfColumn(s, ch.name, where);
        const cols = [...s.columns];
        cols.splice(i, 1);
        s = { ...s, columns: renumber(cols), primaryKey: s.primaryKey.filter((k) => k.toLowerCase() !== ch.name.toLowerCase()) };
        break;
      }
      case 'rename-column': {
        const i = indexOfColumn(s, ch.from, where);
        const cols = [...s.columns];
        cols[i] = { ...cols[i]!, name: ch.to };
        s = { ...s, columns: cols, primaryKey: s.primaryKey.map((k) => (k.toLowerCase() === ch.from.toLowerCase() ? ch.to : k)) };
        break;
      }
      case 'modify-column': {
        const i = indexOfColumn(s, ch.from, where);
        const cols = [...s.columns];
        const column = withDefaultCharset(ch.column, s.charset);
        if (ch.position === null) {
          cols[i] = { ...column, position: i + 1 };
          s = { ...s, columns: cols };
        } else {
          cols.splice(i, 1);
          s = { ...s, columns: insertAt(cols, column, ch.position, where) };
        }
        s = { ...s, primaryKey: s.primaryKey.map((k) => (k.toLowerCase() === ch.from.toLowerCase() ? ch.column.name : k)) };
        break;
      }
      case 'alter-primary-key': {
        // Key columns are spelled as the table spells them, and are NOT NULL (MySQL makes them so).
        const names = ch.primaryKey.map((k) => s.columns[indexOfColumn(s, k, where)]!.name);
        const inKey = new Set(names.map((n) => n.toLowerCase()));
        s = { ...s, primaryKey: names, columns: s.columns.map((c) => (inKey.has(c.name.toLowerCase()) ? { ...c, nullable: false } : c)) };
        break;
      }
      default:
        break;
    }
  }
  return s;
}
