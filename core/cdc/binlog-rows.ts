/**
 * Row images of a binlog rows event, as the binlog reader holds them until their transaction
 * commits: one flat array of the driver's values per event, in column order, instead of zongji's
 * object per row.
 *
 * Why: a transaction's rows must be held until its commit marker, so they survive young-generation
 * collections and get copied (then promoted) while raw delivery drops each row at once. zongji's
 * row object is two heap objects (the object and an out-of-line property store: it grows its rows
 * one key at a time) of ~100 bytes; the flat array holds the same values in 8 bytes a column, and
 * zongji's objects die young. Held bytes per row of the bench table: 241 → 169 (measured).
 */
import type { TableMapEntry } from '@vlasky/zongji';
import type { TableId } from './types';

export interface RawRowsEvent {
  table: TableId;
  op: 'c' | 'u' | 'd';
  /**
   * Column names of the row images in binlog order. The same array for every event of a table with
   * the same column list (an identity key for per-table conversion plans).
   */
  names: readonly string[];
  /**
   * The driver's values (zongji's forms: see type-map.ts), `names.length` per row image, row after
   * row; an update change is its before image followed by its after image.
   */
  values: unknown[];
  /** Row changes in the event (an update counts once). */
  count: number;
  /** zongji's column metadata for the table id, for columns the catalog does not know. */
  tableMap?: TableMapEntry;
}

/**
 * Columns whose text zongji builds by concatenation: TIMESTAMP, TIME, DATETIME (7, 11, 12), their
 * fractional forms (17, 18, 19) and DECIMAL (246). Such a value is a rope of small strings (a
 * DATETIME(6) one 280 bytes, measured) that every young-GC cycle copies while the transaction
 * accumulates; reading a character makes V8 flatten it in place (48 bytes) and the pieces die
 * young. Strings shorter than 13 characters are never ropes in V8.
 */
const ROPE_TYPES = new Set([7, 11, 12, 17, 18, 19, 246]);

type Capture = (row: Record<string, unknown>, values: unknown[], at: number) => void;

interface ColumnLayout {
  names: readonly string[];
  /** Copies one zongji row object's values into `values` from index `at`, flattening ropes. */
  capture: Capture;
}

/** Layouts by a table map's column list (zongji builds a new list on each table map event). */
const layoutsByColumns = new WeakMap<object, ColumnLayout>();
/** Layouts by column names and rope flags, so that every table map of one column list shares one. */
const layoutsByKey = new Map<string, ColumnLayout>();

function flatten(v: unknown): unknown {
  if (typeof v === 'string' && v.length >= 13) v.charCodeAt(0);
  return v;
}

/** A JavaScript string literal for `name` (JSON's is one; U+2028/9 are valid in literals since ES2019). */
export function stringLiteral(name: string): string {
  return JSON.stringify(name);
}

/**
 * The copy of one row as straight-line code: a named load per column is ~7× faster than a loop of
 * keyed loads by varying names (measured, 5 columns: 4.5 against 30 ns a row). Names enter the
 * code only as JSON string literals.
 */
function compileCapture(names: readonly string[], rope: readonly boolean[]): Capture {
  const lines = names.map((n, i) => (rope[i] ? `v[at + ${i}] = flatten(row[${stringLiteral(n)}]);` : `v[at + ${i}] = row[${stringLiteral(n)}];`));
  return new Function('flatten', `return function capture(row, v, at) {\n${lines.join('\n')}\n};`)(flatten) as Capture;
}

function layoutFor(names: string[], rope: boolean[]): ColumnLayout {
  const key = names.map((n, i) => (rope[i] ? '1' : '0') + n).join('\u0000');
  let layout = layoutsByKey.get(key);
  if (!layout) {
    // Bounded: a long-running source sees few distinct column lists, but never let it grow unchecked.
    if (layoutsByKey.size >= 1024) layoutsByKey.clear();
    const shared = Object.freeze(names);
    layoutsByKey.set(key, (layout = { names: shared, capture: compileCapture(shared, rope) }));
  }
  return layout;
}

function layoutOf(tm: TableMapEntry, firstRow: Record<string, unknown> | undefined): ColumnLayout {
  const cols = tm.columns;
  if (cols) {
    let layout = layoutsByColumns.get(cols);
    if (!layout) {
      layout = layoutFor(
        cols.map((c) => c.name),
        cols.map((c) => ROPE_TYPES.has(c.type)),
      );
      layoutsByColumns.set(cols, layout);
    }
    return layout;
  }
  // No column list (not seen from zongji): the row's own keys, every value checked.
  const names = firstRow ? Object.keys(firstRow) : [];
  return layoutFor(names, names.map(() => true));
}

/**
 * Copies zongji's row objects (`{before, after}` pairs for updates) into the flat form. Rope
 * strings are flattened on the way (see ROPE_TYPES).
 */
export function captureRows(table: TableId, op: 'c' | 'u' | 'd', tm: TableMapEntry, rows: unknown[]): RawRowsEvent {
  const first = rows.length === 0 ? undefined : op === 'u' ? (rows[0] as { before: Record<string, unknown> }).before : (rows[0] as Record<string, unknown>);
  const { names, capture } = layoutOf(tm, first);
  const n = names.length;
  let at = 0;
  let values: unknown[];
  if (op === 'u') {
    values = new Array(rows.length * n * 2);
    for (const r of rows as { before: Record<string, unknown>; after: Record<string, unknown> }[]) {
      capture(r.before, values, at);
      capture(r.after, values, at + n);
      at += 2 * n;
    }
  } else {
    values = new Array(rows.length * n);
    for (const r of rows as Record<string, unknown>[]) {
      capture(r, values, at);
      at += n;
    }
  }
  return { table, op, names, values, count: rows.length, tableMap: tm };
}

/**
 * One row image as zongji gave it (`{name: value}`), for the snapshot phase's row filter: row
 * `index` of the event, its after image when `after` (updates only).
 */
export function rawRowImage(ev: RawRowsEvent, index: number, after = false): Record<string, unknown> {
  const n = ev.names.length;
  let at = index * n * (ev.op === 'u' ? 2 : 1) + (after ? n : 0);
  const row: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) row[ev.names[i]!] = ev.values[at++];
  return row;
}
