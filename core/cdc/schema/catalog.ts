/**
 * The schemas of the captured tables as the stream goes: each table's schema in force at the
 * current binlog position (DDL applied as it is read) and the value codecs compiled from it.
 */
import type { TableMapEntry } from '@vlasky/zongji';
import { TidemarkError } from '../../errors/index';
import { isCapturedTable, type ResolvedConfig } from '../config';
import { historyTableMap } from '../binlog/history-columns';
import type { HeldRowsEvent } from '../binlog/rows';
import { compileObjectRowBuilder, type ObjectRowBuilder } from '../row-builder';
import { makeColumnCodec, makeConverter, type ColumnCodec } from './column-codec';
import { mapColumnType } from './type-map';
import { formatTableId, type ColumnSchema, type ColumnValue, type Row, type TableId, type TableSchema } from '../types';

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

