/**
 * The chunk plan of a table: which key its snapshot is chunked by (a single integer column on the
 * fast paths, else a key tuple: chunk-keys.ts), chosen from the primary key or the configured
 * scan.incremental.snapshot.chunk.key-column, and the bound type of each.
 */
import { TidemarkError } from '../../errors/index';
import { isPrefixIndexedKind, keyColumnKind, type KeyColumnKind, type KeyColumnSql, type KeyTuple } from './chunk-keys';
import type { ResolvedConfig } from '../config';
import { formatTableId, type TableId, type TableSchema } from '../types';

/** A chunk bound: bigint for a single integer key column, else the key tuple (chunk-keys.ts). */
export type ChunkBound = bigint | KeyTuple;

/** A key chunked as a tuple of columns (anything but a single integer column). */
export interface TupleKey {
  columns: string[];
  kinds: KeyColumnKind[];
  /** The columns identify a row (the whole primary key): keyset pages; else the bound is read first. */
  unique: boolean;
  /**
   * Bounds are read in the key's order. False for a primary key with a TEXT/BLOB or spatial
   * column (indexed by a prefix only): a chunk's bound is then the greatest key of the next
   * chunk-size rows the index yields (the server sorts only those), never an ORDER BY of the rest
   * of the table. A keyless table's such key is read sorted (planOf says why).
   */
  ordered: boolean;
  /** Typed SQL literals of the columns, set by the snapshot phase before the first read. */
  sql: KeyColumnSql[] | null;
}

export interface ChunkPlan {
  schema: TableSchema;
  /** Integer column the table is chunked by on the fast paths; null otherwise. */
  keyColumn: string | null;
  /** The key tuple otherwise; both null reads the whole table as one chunk. */
  tuple: TupleKey | null;
  /** The table has no primary key (chunked by scan.incremental.snapshot.chunk.key-column). */
  keyless: boolean;
}

/**
 * The longest prefix of `columns` whose types can be chunked by (keyColumnKind), ending at the
 * first TEXT/BLOB or spatial column: its index holds a prefix of the value, so columns after it in
 * the index are not ordered by the whole value.
 */
function orderedPrefix(schema: TableSchema, columns: readonly string[]): { columns: string[]; kinds: KeyColumnKind[] } {
  const out: { columns: string[]; kinds: KeyColumnKind[] } = { columns: [], kinds: [] };
  for (const name of columns) {
    const kind = keyColumnKind(schema.columns.find((c) => c.name === name)?.mysqlType ?? '');
    if (kind === null) break;
    out.columns.push(name);
    out.kinds.push(kind);
    if (isPrefixIndexedKind(kind)) break;
  }
  return out;
}

function planOf(schema: TableSchema, columns: readonly string[], unique: boolean): ChunkPlan {
  const keyless = schema.primaryKey.length === 0;
  const ordered = orderedPrefix(schema, columns);
  if (ordered.columns.length === 0) return { schema, keyColumn: null, tuple: null, keyless };
  if (ordered.columns.length === 1 && ordered.kinds[0] === 'integer') return { schema, keyColumn: ordered.columns[0]!, tuple: null, keyless };
  const prefixIndexed = ordered.kinds.some(isPrefixIndexedKind);
  // Bounds read unordered take the greatest key of the next rows in the table's scan order, which
  // follows the key's index prefix only where that index is the clustered primary key; a keyless
  // table is scanned in insertion order, so its bounds are read sorted (ORDER BY … LIMIT 1 OFFSET:
  // a sort of the rest of the range, bounded memory).
  const inIndexOrder = !ordered.kinds.includes('lob') || keyless;
  return { schema, keyColumn: null, tuple: { ...ordered, unique: unique && !prefixIndexed && ordered.columns.length === columns.length, ordered: inIndexOrder, sql: null }, keyless };
}

/**
 * Cuts a tuple key at its first column the primary key indexes by a prefix only (`prefixed`, e.g.
 * a VARCHAR(255) key as `PRIMARY KEY (v(10))`): as for TEXT/BLOB, later columns are not in the
 * index's order, and bounds are read unordered.
 */
export function limitToPrefixIndex(tuple: TupleKey, prefixed: ReadonlySet<string>): void {
  const at = tuple.columns.findIndex((c) => prefixed.has(c));
  if (at < 0) return;
  tuple.columns.length = at + 1;
  tuple.kinds.length = at + 1;
  tuple.unique = false;
  tuple.ordered = false;
}

/**
 * Picks the chunk key: the configured column (a primary-key column; on a table without a primary
 * key any NOT NULL column, as Flink CDC requires), else the whole primary key in its order.
 */
export function planChunks(schema: TableSchema, config: ResolvedConfig): ChunkPlan {
  const name = formatTableId(schema.table);
  const configured = chunkKeyColumnOf(config, schema.table);
  if (configured !== undefined) {
    const key = 'scan.incremental.snapshot.chunk.key-column';
    if (schema.primaryKey.length > 0 && !schema.primaryKey.includes(configured)) {
      throw new TidemarkError('InvalidInput', `${key}: ${configured} is not a primary-key column of ${name} (key: ${schema.primaryKey.join(', ')})`, {
        table: name,
        column: configured,
      });
    }
    const col = schema.columns.find((c) => c.name === configured);
    if (!col) throw new TidemarkError('InvalidInput', `${key}: ${name} has no column ${configured}`, { table: name, column: configured });
    if (schema.primaryKey.length === 0 && col.nullable) {
      throw new TidemarkError('InvalidInput', `${key}: ${name}.${configured} may be NULL; a table without a primary key is chunked by a NOT NULL column`, { table: name, column: configured });
    }
    if (keyColumnKind(col.mysqlType) === null) {
      throw new TidemarkError('Unsupported', `${key}: ${name}.${configured} is ${col.mysqlType}, which cannot be chunked by (integer, decimal, float, double, bit, year, date, datetime, timestamp, time, char, varchar, binary, varbinary, uuid, inet4, inet6, enum, set, text, blob or a spatial type)`, {
        table: name,
        column: configured,
      });
    }
    return planOf(schema, [configured], schema.primaryKey.length === 1 && schema.primaryKey[0] === configured);
  }
  return planOf(schema, schema.primaryKey, true);
}

/**
 * Why a table's snapshot is read as one chunk (held whole until its watermark, no progress within
 * it, no resume inside it), or null when it is chunked.
 */
export function describeOneChunk(schema: TableSchema, config: ResolvedConfig): string | null {
  const plan = planChunks(schema, config);
  if (plan.keyColumn !== null || plan.tuple !== null) return null;
  const name = formatTableId(schema.table);
  if (schema.primaryKey.length === 0) {
    return `${name} has no primary key and no scan.incremental.snapshot.chunk.key-column: its snapshot is read as one chunk, held in memory whole`;
  }
  const first = schema.columns.find((c) => c.name === schema.primaryKey[0]);
  const type = first?.mysqlType ?? 'of an unknown type';
  return `${name}'s first key column ${schema.primaryKey[0]} is ${type}, which cannot be chunked by: its snapshot is read as one chunk, held in memory whole (set scan.incremental.snapshot.chunk.key-column to another key column to chunk it)`;
}

/** The bound of an integer-key plan (Internal when a tuple reached it). */
export function integerBound(b: ChunkBound | null): bigint | null {
  if (b === null || typeof b === 'bigint') return b;
  throw new TidemarkError('Internal', 'a key tuple was given as the bound of a single integer chunk key', {});
}

/** The bound of a tuple plan (Internal when a bigint reached it). */
export function tupleBound(b: ChunkBound | null): KeyTuple | null {
  if (b === null || typeof b !== 'bigint') return b;
  throw new TidemarkError('Internal', 'an integer was given as the bound of a tuple chunk key', {});
}

/** The tuple plan's typed literals (set by the snapshot phase before any read). */
export function tupleSqlOf(plan: ChunkPlan): KeyColumnSql[] {
  const sql = plan.tuple?.sql;
  if (!sql) throw new TidemarkError('Internal', `chunk key literals of ${formatTableId(plan.schema.table)} were not prepared`, { table: formatTableId(plan.schema.table) });
  return sql;
}

/** The configured chunk key column of a table (chunkKeyColumns, else the first matching pattern). */
export function chunkKeyColumnOf(config: ResolvedConfig, id: TableId): string | undefined {
  const name = `${id.db}.${id.table}`;
  return config.chunkKeyColumns[name] ?? config.chunkKeyColumnPatterns.find((p) => p.regex.test(name))?.column;
}
