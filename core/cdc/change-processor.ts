/**
 * Turns raw binlog items into change events and schema-change events, keeping the schema catalog
 * in step with the DDL seen in the stream. Row values are converted with the schema in force at
 * the row's binlog position; column names come from the row images themselves
 * (binlog_row_metadata=FULL), so they are right even across ALTERs, or in schema-history mode
 * from that schema (history-columns.ts).
 */
import type { TableMapEntry } from '@vlasky/zongji';
import type { RawItem } from './binlog/queue';
import { columnNames, type HeldRowsEvent } from './binlog/rows';
import type { ObjectRowBuilder } from './row-builder';
import type { SchemaCatalog } from './schema/catalog';
import type { ChangeEvent, Row, TableId } from './types';
import type { SourceOffset } from './offset';

/** Where a row stands relative to the snapshot: emit it, leave it to a later chunk, or fold it into the open chunk. */
export type RowRegion = 'emit' | 'skip' | 'chunk';

export interface RowFilter {
  region(table: TableId, row: Record<string, unknown>): RowRegion;
  /** Applies a change to the open chunk's buffer (c: upsert `row`, d: remove `row`). */
  absorb(op: 'c' | 'd', row: Record<string, unknown>): void;
  /**
   * Called with a transaction's rows events before they are converted, when `region` needs the
   * server to place keys (collation-ordered chunk keys: snapshot-phase.ts).
   */
  prepare?(events: readonly HeldRowsEvent[]): Promise<void>;
}

/**
 * Change events of one committed transaction, restricted by `filter` during the snapshot phase.
 * An update whose before and after images fall on different sides of the snapshot frontier is
 * split into the half that is already visible to the consumer (a delete or an insert).
 */
export function convertTransaction(
  catalog: SchemaCatalog,
  item: Extract<RawItem, { kind: 'tx' }>,
  offset: SourceOffset,
  filter: RowFilter,
): ChangeEvent[] {
  const out: ChangeEvent[] = [];
  for (const held of item.rowsEvents) convertFilteredRowsEvent(catalog, held, item.tsMs, offset, filter, out);
  return out;
}

/**
 * Change events of one committed transaction in parts of rows events of at least `partBytes`
 * binlog bytes together (the last part smaller), converted as each part is asked for: the rows are
 * decoded only then (zongji-rows.ts), and a part the consumer has taken is garbage before the next
 * one is built, where a whole 10k-row transaction outlived two young-generation collections and
 * was promoted. Parts are cut by the held events' sizes, so whether a part is the last is known
 * before it is built.
 */
export function* convertTransactionParts(
  catalog: SchemaCatalog,
  item: Extract<RawItem, { kind: 'tx' }>,
  offset: SourceOffset,
  partBytes: number,
): Generator<{ events: ChangeEvent[]; last: boolean }, void, undefined> {
  const held = item.rowsEvents;
  for (let i = 0; i < held.length; ) {
    let j = i;
    for (let bytes = 0; j < held.length && (j === i || bytes < partBytes); j++) bytes += held[j]!.size;
    const out: ChangeEvent[] = [];
    let k = 0;
    for (let x = i; x < j; x++) k = convertRowsEvent(catalog, held[x]!, item.tsMs, offset, out, k);
    yield { events: out, last: j === held.length };
    i = j;
  }
}

type ZongjiRow = Record<string, unknown>;

/**
 * The builder of the event's rows (`rows`: its decoded rows, at least one; `tm`: the table map they
 * were decoded with), by its column list.
 */
function rowBuilder(catalog: SchemaCatalog, held: HeldRowsEvent, rows: unknown[], tm: TableMapEntry): ObjectRowBuilder {
  const first = (held.op === 'u' ? (rows[0] as { before: ZongjiRow }).before : rows[0]) as ZongjiRow;
  return catalog.binlogObjectPlan(held.table, columnNames(tm, first), tm);
}

/**
 * Decodes the held event and writes its changes into `out` from index `k`; returns the index after
 * them. Event by event, so that one event's decoded rows are garbage before the next is decoded.
 */
function convertRowsEvent(catalog: SchemaCatalog, held: HeldRowsEvent, ts: number, offset: SourceOffset, out: ChangeEvent[], k: number): number {
  const { table, op } = held;
  const tm = catalog.decodingMap(held);
  const rows = held.rows(tm);
  if (rows.length === 0) return k;
  const build = rowBuilder(catalog, held, rows, tm ?? held.tableMap);
  if (op === 'u') {
    for (const r of rows as { before: ZongjiRow; after: ZongjiRow }[]) out[k++] = { op: 'u', before: build(r.before), after: build(r.after), table, opTsMs: ts, offset };
  } else if (op === 'c') {
    for (const r of rows as ZongjiRow[]) out[k++] = { op: 'c', before: null, after: build(r), table, opTsMs: ts, offset };
  } else {
    for (const r of rows as ZongjiRow[]) out[k++] = { op: 'd', before: build(r), after: null, table, opTsMs: ts, offset };
  }
  return k;
}

function convertFilteredRowsEvent(catalog: SchemaCatalog, held: HeldRowsEvent, ts: number, offset: SourceOffset, filter: RowFilter, out: ChangeEvent[]): void {
  const { table, op } = held;
  const tm = catalog.decodingMap(held);
  const rows = held.rows(tm);
  if (rows.length === 0) return;
  let build: ObjectRowBuilder | null = null;
  // Converted only when emitted: a row left to the snapshot is never converted (nor fails to be).
  // The builder makes a new object, so an image folded into the chunk stays the driver's row.
  const conv = (row: ZongjiRow): Row => (build ??= rowBuilder(catalog, held, rows, tm ?? held.tableMap))(row);
  if (op === 'u') {
    for (const { before, after } of rows as { before: ZongjiRow; after: ZongjiRow }[]) {
      const rb = filter.region(table, before);
      const ra = filter.region(table, after);
      if (rb === 'chunk') filter.absorb('d', before);
      if (ra === 'chunk') filter.absorb('c', after);
      if (rb === 'emit' && ra === 'emit') out.push({ op: 'u', before: conv(before), after: conv(after), table, opTsMs: ts, offset });
      else if (rb === 'emit') out.push({ op: 'd', before: conv(before), after: null, table, opTsMs: ts, offset });
      else if (ra === 'emit') out.push({ op: 'c', before: null, after: conv(after), table, opTsMs: ts, offset });
    }
    return;
  }
  for (const row of rows as ZongjiRow[]) {
    const region = filter.region(table, row);
    if (region === 'chunk') filter.absorb(op, row);
    else if (region === 'emit') {
      const built = conv(row);
      out.push(op === 'c' ? { op: 'c', before: null, after: built, table, opTsMs: ts, offset } : { op: 'd', before: built, after: null, table, opTsMs: ts, offset });
    }
  }
}
