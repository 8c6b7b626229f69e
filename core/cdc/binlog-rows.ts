/**
 * Rows events as the binlog reader holds them until their transaction commits (HeldRowsEvent:
 * undecoded, zongji-rows.ts), and the flat form of a decoded event: one array of the driver's
 * values per event, in column order, for the snapshot phase's row filter (the binlog phase builds
 * rows straight from zongji's row objects: row-builder.ts compileObjectRowBuilder).
 *
 * The flat form was how the reader held open transactions before it held their bytes: zongji's row
 * object is two heap objects (the object and an out-of-line property store) of ~100 bytes; the flat
 * array holds the same values in 8 bytes a column. Held bytes per row of the bench table: 241 → 169.
 */
import type { TableMapEntry } from '@vlasky/zongji';
import { TidemarkError } from '../errors/index';
import { formatDateTimeText, readDateTimeText } from './datetime-text';
import { formatPosition, type BinlogPosition } from './offset';
import { formatTableId, type TableId } from './types';

/**
 * A rows event of a captured table as the binlog reader holds it until its transaction commits:
 * undecoded (zongji-rows.ts says why), decoded into the flat form below when converted.
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
   * new array each call); throws DataInvalid naming the table for a value that cannot be decoded.
   */
  rows(): unknown[];
  /** The same rows in the flat form (for the snapshot phase's row filter). */
  decode(): RawRowsEvent;
}

/**
 * Holds a rows event: `decode` gives its rows as zongji delivers them. `file` and `groupStart`
 * (where the transaction began, when known) only name the event in an error.
 */
export function holdRows(table: TableId, op: 'c' | 'u' | 'd', tableMap: TableMapEntry, decode: () => unknown[], file: string, groupStart: BinlogPosition | null, size = 0): HeldRowsEvent {
  const rows = (): unknown[] => {
    try {
      return decode();
    } catch (e) {
      const where = groupStart ? `in the transaction after ${formatPosition(groupStart)}` : `in binlog ${file}`;
      throw new TidemarkError('DataInvalid', `cannot decode a rows event of ${formatTableId(table)} ${where}: ${(e as Error).message}`, { table: formatTableId(table), file }, e);
    }
  };
  return { table, op, tableMap, size, rows, decode: () => captureRows(table, op, tableMap, rows()) };
}

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
  /**
   * Indexes of the DATETIME / TIMESTAMP columns. Their valid values are held as bigint µs since the
   * epoch (the Iceberg timestamp form: see HELD_DATETIME), the others as zongji's text.
   */
  dateTimes: readonly number[];
  /** Per column: the fraction digits of its held date-times' text (-1 before the first). */
  fractionDigits: number[] | null;
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

/**
 * TIMESTAMP, DATETIME and their fractional forms (7, 12, 17, 18): a valid value is held as bigint µs
 * rather than as text, 24 bytes in one heap object instead of a flattened rope (~80 bytes in two),
 * and it is the value a timestamp column emits, so nothing is allocated for it at the commit.
 * Parsing moves from the commit to here, at the same cost. Where the driver's text is needed (the
 * snapshot phase's row filter, a column whose schema type is not a timestamp), it is restored
 * exactly from the µs and the column's fraction digits.
 */
const HELD_DATETIME = new Set([7, 12, 17, 18]);

const PLAIN = 0;
const ROPE = 1;
const DATETIME = 2;

type Capture = (row: Record<string, unknown>, values: unknown[], at: number, fractionDigits: number[] | null) => void;

interface ColumnLayout {
  names: readonly string[];
  dateTimes: readonly number[];
  /** Copies one zongji row object's values into `values` from index `at`. */
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

/** Column `i`'s value as bigint µs when it is a valid date-time with the column's fraction digits. */
function holdDateTime(v: unknown, fractionDigits: number[], i: number): unknown {
  if (typeof v !== 'string') return v;
  const micros = readDateTimeText(v);
  if (micros !== micros) return flatten(v);
  const digits = v.length === 19 ? 0 : v.length - 20;
  if (fractionDigits[i] !== digits) {
    if (fractionDigits[i] !== -1) return flatten(v);
    fractionDigits[i] = digits;
  }
  return BigInt(micros);
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
function compileCapture(names: readonly string[], kinds: readonly number[]): Capture {
  const lines = names.map((n, i) => {
    const read = `row[${stringLiteral(n)}]`;
    return `v[at + ${i}] = ${kinds[i] === DATETIME ? `holdDateTime(${read}, fd, ${i})` : kinds[i] === ROPE ? `flatten(${read})` : read};`;
  });
  const body = `return function capture(row, v, at, fd) {\n${lines.join('\n')}\n};`;
  return new Function('flatten', 'holdDateTime', body)(flatten, holdDateTime) as Capture;
}

function layoutFor(names: string[], kinds: number[]): ColumnLayout {
  const key = names.map((n, i) => `${kinds[i]}${n}`).join('\u0000');
  let layout = layoutsByKey.get(key);
  if (!layout) {
    // Bounded: a long-running source sees few distinct column lists, but never let it grow unchecked.
    if (layoutsByKey.size >= 1024) layoutsByKey.clear();
    const shared = Object.freeze(names);
    const dateTimes = Object.freeze(kinds.flatMap((k, i) => (k === DATETIME ? [i] : [])));
    layoutsByKey.set(key, (layout = { names: shared, dateTimes, capture: compileCapture(shared, kinds) }));
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
        cols.map((c) => (HELD_DATETIME.has(c.type) ? DATETIME : ROPE_TYPES.has(c.type) ? ROPE : PLAIN)),
      );
      layoutsByColumns.set(cols, layout);
    }
    return layout;
  }
  // No column list (not seen from zongji): the row's own keys, every value checked.
  const names = firstRow ? Object.keys(firstRow) : [];
  return layoutFor(
    names,
    names.map(() => ROPE),
  );
}

/**
 * Column names of zongji's row objects for a table map, in binlog order: one shared frozen array
 * per column list (an identity key for per-table conversion plans, as RawRowsEvent.names).
 * `firstRow` names them when the table map has no column list.
 */
export function columnNames(tm: TableMapEntry, firstRow: Record<string, unknown> | undefined): readonly string[] {
  return layoutOf(tm, firstRow).names;
}

/**
 * Copies zongji's row objects (`{before, after}` pairs for updates) into the flat form. Rope
 * strings are flattened on the way (see ROPE_TYPES).
 */
export function captureRows(table: TableId, op: 'c' | 'u' | 'd', tm: TableMapEntry, rows: unknown[]): RawRowsEvent {
  const first = rows.length === 0 ? undefined : op === 'u' ? (rows[0] as { before: Record<string, unknown> }).before : (rows[0] as Record<string, unknown>);
  const { names, dateTimes, capture } = layoutOf(tm, first);
  const n = names.length;
  const fd = dateTimes.length > 0 ? new Array<number>(n).fill(-1) : null;
  let at = 0;
  let values: unknown[];
  if (op === 'u') {
    values = new Array(rows.length * n * 2);
    for (const r of rows as { before: Record<string, unknown>; after: Record<string, unknown> }[]) {
      capture(r.before, values, at, fd);
      capture(r.after, values, at + n, fd);
      at += 2 * n;
    }
  } else {
    values = new Array(rows.length * n);
    for (const r of rows as Record<string, unknown>[]) {
      capture(r, values, at, fd);
      at += n;
    }
  }
  return { table, op, names, values, count: rows.length, dateTimes, fractionDigits: fd, tableMap: tm };
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
  for (const i of ev.dateTimes) {
    const v = row[ev.names[i]!];
    if (typeof v === 'bigint') row[ev.names[i]!] = formatDateTimeText(v, ev.fractionDigits![i]!);
  }
  return row;
}

/** Puts back zongji's text for the held date-times of `columns` (indexes), in every row image of the event. */
export function restoreDateTimeText(ev: RawRowsEvent, columns: readonly number[]): void {
  const n = ev.names.length;
  const { values } = ev;
  for (let at = 0; at < values.length; at += n) {
    for (const i of columns) {
      const v = values[at + i];
      if (typeof v === 'bigint') values[at + i] = formatDateTimeText(v, ev.fractionDigits![i]!);
    }
  }
}
