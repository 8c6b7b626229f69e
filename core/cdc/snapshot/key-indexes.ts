/**
 * What the server's indexes say about a chunk key (INFORMATION_SCHEMA.STATISTICS): which key
 * columns are indexed by a prefix only, and whether a spatial chunk key can be ranged at all.
 */
import type mysql from 'mysql2/promise';
import { TidemarkError } from '../../errors/index';
import type { ChunkPlan } from './chunk-plan';
import { formatTableId, type TableSchema } from '../types';

/** `s` as a utf8mb4 string expression (hex: never quoted). */
function textSql(s: string): string {
  return `CONVERT(_utf8mb4 X'${Buffer.from(s, 'utf8').toString('hex')}' USING utf8mb4)`;
}

/**
 * Primary-key columns indexed by a prefix only (`PRIMARY KEY (v(10))`): the index does not return
 * rows in such a column's order (INFORMATION_SCHEMA.STATISTICS.SUB_PART).
 */
export async function readPrefixedKeyColumns(conn: mysql.Connection, schema: TableSchema): Promise<Set<string>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${textSql(schema.table.db)} AND TABLE_NAME = ${textSql(schema.table.table)} AND INDEX_NAME = 'PRIMARY' AND SUB_PART IS NOT NULL`,
  );
  return new Set(rows.map((r) => String(r.name)));
}

/**
 * Refuses a spatial chunk key of a table without a primary key when no B-tree index starts with
 * the column. Its values compare as stored bytes, a range only a B-tree index can serve; a
 * SPATIAL index is an R-tree of bounding boxes, which follows no order of the values, so each
 * chunk's read would scan the whole table (quadratic in the table's size).
 */
export async function checkSpatialChunkKey(conn: mysql.Connection, plan: ChunkPlan): Promise<void> {
  const tuple = plan.tuple;
  if (!plan.keyless || tuple?.kinds[0] !== 'spatial') return;
  const { db, table } = plan.schema.table;
  const column = tuple.columns[0]!;
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ${textSql(db)} AND TABLE_NAME = ${textSql(table)} AND COLUMN_NAME = ${textSql(column)} AND SEQ_IN_INDEX = 1 AND INDEX_TYPE = 'BTREE'`,
  );
  if (rows.length > 0) return;
  const name = formatTableId(plan.schema.table);
  const type = plan.schema.columns.find((c) => c.name === column)?.mysqlType ?? 'spatial';
  throw new TidemarkError(
    'Unsupported',
    `scan.incremental.snapshot.chunk.key-column: ${name}.${column} is ${type} and no B-tree index starts with it (a SPATIAL index follows no order of the values), so every chunk would scan the whole table: add one (ALTER TABLE ${name} ADD INDEX (${column}(32))) or name another NOT NULL column`,
    { table: name, column },
  );
}
