/**
 * Rows events as the binlog reader holds them until their transaction commits (HeldRowsEvent:
 * undecoded, zongji-rows.ts says why), and the shared column-name lists that key the per-table
 * conversion plans (change-processor.ts, row-builder.ts).
 */
import type { TableMapEntry } from '@vlasky/zongji';
import { TidemarkError } from '../../errors/index';
import { formatPosition, type BinlogPosition } from '../offset';
import { formatTableId, type TableId } from '../types';

/**
 * A rows event of a captured table as the binlog reader holds it until its transaction commits:
 * undecoded (zongji-rows.ts says why), decoded when converted.
 */
export interface HeldRowsEvent {
  table: TableId;
  op: 'c' | 'u' | 'd';
  /** zongji's column metadata for the table id. */
  tableMap: TableMapEntry;
  /** Bytes of the event in the binlog (0 when unknown: rows zongji decoded itself). */
  size: number;
  /**
   * The event's rows as zongji delivers them (`{before, after}` pairs for updates), decoded now (a
   * new array each call) with `tableMap`'s column names and types in place of zongji's when given
   * (schema-history mode); throws DataInvalid naming the table for a value that cannot be decoded.
   */
  rows(tableMap?: TableMapEntry): unknown[];
}

/**
 * Holds a rows event: `decode` gives its rows as zongji delivers them. `file` and `groupStart`
 * (where the transaction began, when known) only name the event in an error.
 */
export function holdRows(table: TableId, op: 'c' | 'u' | 'd', tableMap: TableMapEntry, decode: (tableMap?: TableMapEntry) => unknown[], file: string, groupStart: BinlogPosition | null, size = 0): HeldRowsEvent {
  const rows = (tm?: TableMapEntry): unknown[] => {
    try {
      return decode(tm);
    } catch (e) {
      const where = groupStart ? `in the transaction after ${formatPosition(groupStart)}` : `in binlog ${file}`;
      throw new TidemarkError('DataInvalid', `cannot decode a rows event of ${formatTableId(table)} ${where}: ${(e as Error).message}`, { table: formatTableId(table), file }, e);
    }
  };
  return { table, op, tableMap, size, rows };
}

/** A JavaScript string literal for `name` (JSON's is one; U+2028/9 are valid in literals since ES2019). */
export function stringLiteral(name: string): string {
  return JSON.stringify(name);
}

/** Names by a table map's column list (zongji builds a new list on each table map event). */
const namesByColumns = new WeakMap<object, readonly string[]>();
/** Names by their joined text, so that every table map of one column list shares one array. */
const namesByKey = new Map<string, readonly string[]>();

function shared(names: string[]): readonly string[] {
  const key = names.join('\u0000');
  let list = namesByKey.get(key);
  if (!list) {
    // Bounded: a long-running source sees few distinct column lists, but never let it grow unchecked.
    if (namesByKey.size >= 1024) namesByKey.clear();
    namesByKey.set(key, (list = Object.freeze(names)));
  }
  return list;
}

/**
 * Column names of zongji's row objects for a table map, in binlog order: one shared frozen array
 * per column list (an identity key for per-table conversion plans). `firstRow` names them when the
 * table map has no column list.
 */
export function columnNames(tm: TableMapEntry, firstRow: Record<string, unknown> | undefined): readonly string[] {
  const cols = tm.columns;
  if (!cols) return shared(firstRow ? Object.keys(firstRow) : []);
  let names = namesByColumns.get(cols);
  if (!names) namesByColumns.set(cols, (names = shared(cols.map((c) => c.name))));
  return names;
}
