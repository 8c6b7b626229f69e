/**
 * Applies a DDL statement from the binlog to the schema catalog and says what changed, as typed
 * schema-change events. Online schema-change tools are recognised when enabled: pt-osc
 * (`CREATE TABLE _t_new LIKE t`, `ALTER TABLE _t_new …`, `RENAME TABLE t TO _t_old, _t_new TO t`)
 * and gh-ost (`_t_gho` / `_t_del`) become one schema change of `t` at the swap.
 */
import { TidemarkError } from '../../errors/index';
import { parseShadowTableName } from '../config';
import type { SchemaCatalog } from '../schema/catalog';
import { guessDdlTables, parseDdl, type CharsetChange } from './parser';
import { applyColumnChanges, isTextType, withDefaultCharset } from '../schema/information-schema';
import { formatTableId, type SchemaChange, type SchemaChangeEvent, type TableId, type TableSchema } from '../types';

interface Shadow {
  original: TableId;
  tool: 'pt-osc' | 'gh-ost';
  changes: SchemaChange[];
  /** Character set changes of the shadow table, applied with `changes` at the swap. */
  charsets: CharsetChange[];
}

export interface DdlContext {
  catalog: SchemaCatalog;
  parseOnlineSchemaChanges: boolean;
  /** Reads a table's current schema from the server (for CREATE … LIKE and renames of unknown tables). */
  readSchema(id: TableId): Promise<TableSchema | null>;
  /** pt-osc / gh-ost shadow tables seen so far, by `db.table`. */
  shadows: Map<string, Shadow>;
  /** Captured tables renamed away to a shadow name during a swap, waiting for their replacement. */
  parked: Map<string, TableSchema>;
  /** Default character set of a table created in `db` without one (the database's, read at start). */
  defaultCharset(db: string): string | undefined;
}

type Draft = Omit<SchemaChangeEvent, 'offset' | 'opTsMs' | 'ddl'>;

function sameTable(a: TableId, b: TableId): boolean {
  return a.db === b.db && a.table === b.table;
}

export function createDdlContext(
  catalog: SchemaCatalog,
  parseOnlineSchemaChanges: boolean,
  readSchema: DdlContext['readSchema'],
  defaultCharset: DdlContext['defaultCharset'] = () => undefined,
): DdlContext {
  return { catalog, parseOnlineSchemaChanges, readSchema, shadows: new Map(), parked: new Map(), defaultCharset };
}

/**
 * The schema after a character set change: a new table default, and with CONVERT TO every text
 * column in the new set too (their Iceberg types stay string: no schema-change event).
 */
function applyCharset(schema: TableSchema, change: CharsetChange): TableSchema {
  if (!change.convert) return { ...schema, charset: change.charset };
  return { ...schema, charset: change.charset, columns: schema.columns.map((c) => (isTextType(c.mysqlType) ? { ...c, charset: change.charset } : c)) };
}

function shadowOf(ctx: DdlContext, id: TableId): { original: TableId; tool: 'pt-osc' | 'gh-ost'; role: string } | null {
  if (!ctx.parseOnlineSchemaChanges) return null;
  const s = parseShadowTableName(id.table);
  if (!s) return null;
  return { original: { db: id.db, table: s.original }, tool: s.tool, role: s.role };
}

/** Schema-change drafts for one DDL statement (empty when it touches no captured table). */
export async function handleDdl(ctx: DdlContext, sql: string, db: string): Promise<Draft[]> {
  const { catalog } = ctx;
  let parsed;
  try {
    parsed = parseDdl(sql, db, { tinyInt1IsBoolean: catalog.config.tinyInt1IsBoolean });
  } catch (e) {
    // Only DDL on a captured table must be understood; anything else may stay opaque.
    const touched = guessDdlTables(sql, db).some((t) => catalog.has(t) || catalog.isCaptured(t) || ctx.shadows.has(formatTableId(t)));
    if (touched) throw e;
    return [];
  }
  const out: Draft[] = [];
  switch (parsed.kind) {
    case 'other':
      return [];
    case 'create-table': {
      const { table } = parsed;
      const charset = parsed.charset ?? ctx.defaultCharset(table.db);
      const schema: TableSchema = {
        table,
        columns: parsed.columns.map((c) => withDefaultCharset(c, charset)),
        primaryKey: parsed.primaryKey,
        ...(charset !== undefined ? { charset } : {}),
      };
      const sh = shadowOf(ctx, table);
      if (sh && (sh.role === 'new' || sh.role === 'gho')) {
        ctx.shadows.set(formatTableId(table), { original: sh.original, tool: sh.tool, changes: [], charsets: [] });
        return [];
      }
      if (!catalog.isCaptured(table)) return [];
      catalog.set(schema);
      out.push({ table, changes: [{ kind: 'create-table', schema }], schemaAfter: schema });
      return out;
    }
    case 'create-table-like': {
      const { table, like } = parsed;
      const sh = shadowOf(ctx, table);
      if (sh && (sh.role === 'new' || sh.role === 'gho') && sameTable(sh.original, like)) {
        ctx.shadows.set(formatTableId(table), { original: like, tool: sh.tool, changes: [], charsets: [] });
        return [];
      }
      if (!catalog.isCaptured(table)) return [];
      const base = catalog.get(like) ?? (await ctx.readSchema(like));
      if (!base) throw new TidemarkError('NotFound', `CREATE TABLE ${formatTableId(table)} LIKE ${formatTableId(like)}: schema of ${formatTableId(like)} unknown`, { statement: sql.slice(0, 1000) });
      const schema = { ...base, table };
      catalog.set(schema);
      out.push({ table, changes: [{ kind: 'create-table', schema }], schemaAfter: schema });
      return out;
    }
    case 'alter-table': {
      const { table, changes, renameTo } = parsed;
      const shadow = ctx.shadows.get(formatTableId(table));
      if (shadow) {
        shadow.changes.push(...changes);
        if (parsed.charset) shadow.charsets.push(parsed.charset);
        return [];
      }
      const current = catalog.get(table);
      if (!current) {
        if (catalog.isCaptured(table)) {
          throw new TidemarkError('DataInvalid', `ALTER TABLE on captured table ${formatTableId(table)} whose schema is unknown: ${sql.slice(0, 300)}`, { statement: sql.slice(0, 1000) });
        }
        return [];
      }
      let schema = applyColumnChanges(current, changes);
      if (parsed.charset) schema = applyCharset(schema, parsed.charset);
      const all: SchemaChange[] = [...changes];
      // Dropping a key column shortens (or removes) the primary key without saying so: the server
      // drops the column from every index. Reported like an explicit key change.
      if (schema.primaryKey.length < current.primaryKey.length && !changes.some((c) => c.kind === 'alter-primary-key')) {
        all.push({ kind: 'alter-primary-key', primaryKey: schema.primaryKey });
      }
      if (renameTo && !sameTable(renameTo, table)) {
        all.push({ kind: 'rename-table', to: renameTo });
        catalog.delete(table);
        schema = { ...schema, table: renameTo };
        if (catalog.matches(renameTo)) catalog.set(schema);
      } else catalog.set(schema);
      if (all.length === 0) return [];
      out.push({ table, changes: all, schemaAfter: schema });
      return out;
    }
    case 'drop-tables':
      for (const table of parsed.tables) {
        ctx.shadows.delete(formatTableId(table));
        if (!catalog.has(table)) continue;
        catalog.delete(table);
        out.push({ table, changes: [{ kind: 'drop-table' }], schemaAfter: null });
      }
      return out;
    case 'drop-database':
      for (const schema of catalog.all()) {
        if (schema.table.db !== parsed.db) continue;
        catalog.delete(schema.table);
        out.push({ table: schema.table, changes: [{ kind: 'drop-table' }], schemaAfter: null });
      }
      return out;
    case 'truncate-table':
      if (!catalog.has(parsed.table)) return [];
      return [{ table: parsed.table, changes: [{ kind: 'truncate-table' }], schemaAfter: catalog.get(parsed.table)! }];
    case 'rename-tables':
      for (const { from, to } of parsed.pairs) out.push(...(await handleRename(ctx, from, to, sql)));
      return out;
  }
}

async function handleRename(ctx: DdlContext, from: TableId, to: TableId, sql: string): Promise<Draft[]> {
  const { catalog } = ctx;
  const fromKey = formatTableId(from);
  const toSh = shadowOf(ctx, to);
  const current = catalog.get(from);
  // Swap step 1: the original moves aside (pt-osc `_t_old`, gh-ost `_t_del`).
  if (current && toSh && (toSh.role === 'old' || toSh.role === 'del') && sameTable(toSh.original, from)) {
    catalog.delete(from);
    ctx.parked.set(fromKey, current);
    return [];
  }
  // Swap step 2: the shadow takes the original's name.
  const shadow = ctx.shadows.get(fromKey);
  if (shadow && sameTable(shadow.original, to)) {
    ctx.shadows.delete(fromKey);
    const base = ctx.parked.get(formatTableId(to)) ?? catalog.get(to);
    ctx.parked.delete(formatTableId(to));
    if (!base) return [];
    let schema = applyColumnChanges(base, shadow.changes);
    for (const cs of shadow.charsets) schema = applyCharset(schema, cs);
    catalog.set(schema);
    return [{ table: to, changes: shadow.changes, schemaAfter: schema, onlineSchemaChangeTool: shadow.tool }];
  }
  if (current) {
    catalog.delete(from);
    const schema = { ...current, table: to };
    // A captured table keeps being captured under a matching new name: it is not a new table.
    if (catalog.matches(to)) catalog.set(schema);
    return [{ table: from, changes: [{ kind: 'rename-table', to }], schemaAfter: schema }];
  }
  if (catalog.isCaptured(to)) {
    // An uncaptured table takes a captured name: it appears as a new table with its current schema.
    const schema = await ctx.readSchema(to);
    if (!schema) {
      throw new TidemarkError('NotFound', `RENAME TABLE ${fromKey} TO ${formatTableId(to)}: schema of the renamed table unknown (${sql.slice(0, 200)})`, { statement: sql.slice(0, 1000) });
    }
    catalog.set(schema);
    return [{ table: to, changes: [{ kind: 'create-table', schema }], schemaAfter: schema }];
  }
  return [];
}
