/**
 * Turns raw binlog items into change events and schema-change events, keeping the schema catalog
 * in step with the DDL seen in the stream. Row values are converted with the schema in force at
 * the row's binlog position; column names come from the row images themselves
 * (binlog_row_metadata=FULL), so they are right even across ALTERs, or in schema-history mode
 * from that schema (history-columns.ts).
 */
import { TidemarkError } from '../errors/index';
import type { TableMapEntry } from '@vlasky/zongji';
import { isCapturedTable, type ResolvedConfig } from './config';
import type { RawItem } from './binlog-queue';
import { columnNames, type HeldRowsEvent } from './binlog-rows';
import { historyTableMap } from './history-columns';
import { compileObjectRowBuilder, type ObjectRowBuilder } from './row-builder';
import { makeColumnCodec, makeConverter, mapColumnType, type ColumnCodec } from './type-map';
import { formatTableId, type ChangeEvent, type ColumnSchema, type ColumnValue, type Row, type TableId, type TableSchema } from './types';
import type { SourceOffset } from './offset';

type Conv = (raw: unknown) => ColumnValue;

interface RowPlan {
  names: readonly string[];
  codecs: ColumnCodec[];
  /** Builds a Row from a zongji row object (compiled on first use). */
  buildObject?: ObjectRowBuilder;
}

interface TableCodec {
  schema: TableSchema;
  byName: Map<string, Conv>;
  codecs: Map<string, ColumnCodec>;
  plans: WeakMap<object, RowPlan>;
}

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

export class SchemaCatalog {
  private readonly tables = new Map<string, TableCodec>();
  /** Every table the catalog has held: known tables stay captured across DROP / re-CREATE. */
  private readonly known = new Set<string>();
  private list: TableSchema[] | null = null;
  /**
   * The codec convertRow used last, by TableId object: rows of one binlog event or snapshot chunk
   * share theirs, and building the `db.table` key per row was a measurable share of the binlog path.
   */
  private last: { id: TableId; db: string; table: string; codec: TableCodec } | null = null;
  /**
   * Schema-history mode (config rowMetadata; MySQL 5.7): binlog rows are decoded with the catalog's
   * columns, not the binlog's (history-columns.ts). Set by the source after its preflight.
   */
  columnsFromHistory = false;
  /** Decoding table maps of schema-history mode, per zongji table map, valid while the schema is. */
  private readonly historyMaps = new WeakMap<TableMapEntry, { schema: TableSchema; map: TableMapEntry }>();
  constructor(readonly config: ResolvedConfig) {}

  /**
   * The table map to decode `held` with in schema-history mode (the catalog's columns for its
   * table, checked against the binlog's); undefined otherwise (the binlog's own).
   */
  decodingMap(held: HeldRowsEvent): TableMapEntry | undefined {
    if (!this.columnsFromHistory) return undefined;
    const codec = this.tables.get(formatTableId(held.table));
    if (!codec) throw new TidemarkError('Internal', `no schema known for captured table ${formatTableId(held.table)}`, { table: formatTableId(held.table) });
    let hit = this.historyMaps.get(held.tableMap);
    if (!hit || hit.schema !== codec.schema) this.historyMaps.set(held.tableMap, (hit = { schema: codec.schema, map: historyTableMap(codec.schema, held.tableMap) }));
    return hit.map;
  }

  /** All schemas, as one immutable array shared by offsets until the next DDL changes it. */
  snapshotList(): TableSchema[] {
    if (!this.list) this.list = Object.freeze([...this.tables.values()].map((t) => t.schema)) as TableSchema[];
    return this.list;
  }

  get(id: TableId): TableSchema | undefined {
    return this.tables.get(formatTableId(id))?.schema;
  }
  has(id: TableId): boolean {
    return this.tables.has(formatTableId(id));
  }
  set(schema: TableSchema): void {
    const where = formatTableId(schema.table);
    const byName = new Map<string, Conv>();
    const codecs = new Map<string, ColumnCodec>();
    for (const c of schema.columns) {
      byName.set(c.name, makeConverter(c, `${where}.${c.name}`));
      codecs.set(c.name, makeColumnCodec(c, `${where}.${c.name}`));
    }
    this.tables.set(where, { schema, byName, codecs, plans: new WeakMap() });
    this.known.add(where);
    this.list = null;
    this.last = null;
  }
  delete(id: TableId): void {
    this.tables.delete(formatTableId(id));
    this.list = null;
    this.last = null;
  }
  all(): TableSchema[] {
    return [...this.tables.values()].map((t) => t.schema);
  }
  /**
   * Whether changes of this table are captured now: it matches the configuration and is known, or
   * is new and scan.binlog.newly-added-table.enabled is on. Decided in stream order (at the DDL and
   * row items), never ahead in the binlog reader, whose queue runs ahead of the catalog.
   */
  isCaptured(id: TableId): boolean {
    if (!isCapturedTable(this.config, id)) return false;
    return this.config.binlogNewlyAddedTables || this.known.has(formatTableId(id));
  }
  /** Whether the configuration's patterns match the table (known or not). */
  matches(id: TableId): boolean {
    return isCapturedTable(this.config, id);
  }

  /**
   * Identity of a raw row by its primary key (all columns when the table has none), compared
   * after conversion so snapshot rows and binlog rows of the same key agree.
   */
  keyOf(id: TableId, raw: Record<string, unknown>): string {
    const codec = this.tables.get(formatTableId(id));
    if (!codec) throw new TidemarkError('Internal', `no schema known for captured table ${formatTableId(id)}`, { table: formatTableId(id) });
    const cols = codec.schema.primaryKey.length ? codec.schema.primaryKey : codec.schema.columns.map((c) => c.name);
    let key = '';
    for (const c of cols) {
      const conv = codec.byName.get(c);
      const v = conv ? conv(raw[c]) : raw[c];
      key += (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v === null || v === undefined ? '\u0001' : String(v)) + '\u0000';
    }
    return key;
  }

  /**
   * Converts one raw row, in place (the raw object must not be used afterwards). A column the catalog does not know (the source restarted from an offset
   * older than a later ALTER) is converted by the type the binlog's own metadata gives.
   */
  convertRow(id: TableId, raw: Record<string, unknown>, tableMap?: TableMapEntry, shape?: object): Row {
    const last = this.last;
    const hit = last !== null && last.id === id && last.db === id.db && last.table === id.table;
    const codec = hit ? last.codec : this.tables.get(formatTableId(id));
    if (codec && !hit) this.last = { id, db: id.db, table: id.table, codec };
    if (!codec) throw new TidemarkError('Internal', `no schema known for captured table ${formatTableId(id)}`, { table: formatTableId(id) });
    // Per binlog table map, the column names and converters in row order, resolved once.
    // `shape`: any object standing for "rows with these keys" (a binlog table map, a SELECT result).
    const key = shape ?? tableMap;
    let plan = key ? codec.plans.get(key) : undefined;
    if (!plan) {
      const names = Object.keys(raw);
      plan = { names, codecs: names.map((n) => codec.codecs.get(n) ?? this.fallbackCodec(codec, id, n, tableMap)) };
      if (key) codec.plans.set(key, plan);
    }
    // Converted in place: the driver's row object is ours alone and is not read again, and not
    // allocating a second object per row is a measurable share of binlog throughput.
    const out = raw as Row;
    const { names, codecs } = plan;
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const v = raw[name];
      if (v === null) continue;
      if (v === undefined) {
        out[name] = null;
        continue;
      }
      const c = codecs[i]!;
      if (c.passthrough !== null && typeof v === c.passthrough) continue;
      out[name] = c.convert(v);
    }
    return out;
  }

  /**
   * The builder of rows of `id` from zongji's row objects with the columns `names` (binlog-rows.ts
   * columnNames: one shared array per column list), resolved once per column list.
   */
  binlogObjectPlan(id: TableId, names: readonly string[], tableMap: TableMapEntry): ObjectRowBuilder {
    const plan = this.planFor(id, names, tableMap);
    return (plan.buildObject ??= compileObjectRowBuilder(plan.names, plan.codecs));
  }

  private planFor(id: TableId, names: readonly string[], tableMap: TableMapEntry | undefined): RowPlan {
    const codec = this.tables.get(formatTableId(id));
    if (!codec) throw new TidemarkError('Internal', `no schema known for captured table ${formatTableId(id)}`, { table: formatTableId(id) });
    let plan = codec.plans.get(names);
    if (!plan) codec.plans.set(names, (plan = { names, codecs: names.map((n) => codec.codecs.get(n) ?? this.fallbackCodec(codec, id, n, tableMap)) }));
    return plan;
  }

  private fallbackCodec(codec: TableCodec, id: TableId, name: string, tableMap?: TableMapEntry): ColumnCodec {
    this.fallbackConverter(codec, id, name, tableMap);
    return codec.codecs.get(name)!;
  }

  private fallbackConverter(codec: TableCodec, id: TableId, name: string, tableMap?: TableMapEntry): Conv {
    const where = `${formatTableId(id)}.${name}`;
    const ci = codec.byName.size;
    const fromBinlog = tableMap?.columnSchemas.find((c) => c.COLUMN_NAME === name);
    if (!fromBinlog) {
      throw new TidemarkError('DataInvalid', `${where}: column is in the binlog row but not in the table schema (columns: ${codec.schema.columns.map((c) => c.name).join(', ')})`, {
        column: where,
      });
    }
    const mysqlType = fromBinlog.COLUMN_TYPE + (fromBinlog.UNSIGNED && !/unsigned/.test(fromBinlog.COLUMN_TYPE) ? ' unsigned' : '');
    const col: ColumnSchema = { name, mysqlType, icebergType: mapColumnType(mysqlType, { tinyInt1IsBoolean: this.config.tinyInt1IsBoolean }, where), nullable: true, position: ci + 1 };
    const conv = makeConverter(col, where);
    codec.byName.set(name, conv);
    codec.codecs.set(name, makeColumnCodec(col, where));
    return conv;
  }
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
