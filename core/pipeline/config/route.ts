import type { PipelineConfig, ShardColumn } from './types';
import { expandSinkTable, matchTable } from './table-pattern';
import { compileTransform } from '../transform';
import { isTidemarkError } from '../../errors';
import type { PlanWarning } from '../../api';
export type { PlanWarning };

/**
 * Route planning: which source tables are captured, where each one goes, and what each target
 * table looks like (key, columns) — all without touching a database.
 *
 * Flink CDC semantics (TableIdRouter): a table is captured when `source.tables` full-matches
 * `db.table` and `tables.exclude` does not. Each route whose `source-table` full-matches yields a
 * target; ALL_MATCH (default) keeps every matching route, FIRST_MATCH only the first. A captured
 * table that no route matches goes to a target of the same name.
 */
export interface SourceTableInfo {
  db: string;
  table: string;
  /** Primary key columns in key order; empty when the table has none. */
  primaryKeys: string[];
  /** Column names in table order. */
  columns: string[];
}

export interface TableRef {
  db: string;
  table: string;
}

export interface SourceTablePlan {
  source: TableRef;
  /** One entry per matched route (or the same-name target when none matched). */
  targets: { target: TableRef; routeIndex: number | null }[];
  /** Index of the first transform rule whose source-table matches, if any. */
  transformIndex: number | null;
  /** Columns after the transform's projection (the source's columns without one). */
  columns: string[];
}

export interface TargetTablePlan {
  target: TableRef;
  sources: TableRef[];
  /** Identifier fields: primary key (transform primary-keys override) plus shard columns. */
  key: string[];
  /** Metadata columns added to the table and the key (route `tidemark.key.shard-columns`). */
  shardColumns: ShardColumn[];
  /** Union of the sources' output columns, first-seen order, then shard columns. */
  columns: string[];
  routeIndexes: number[];
}

export interface RoutePlan {
  tables: SourceTablePlan[];
  targets: TargetTablePlan[];
  /** `db.table` not matched by source.tables. */
  notCaptured: string[];
  /** `db.table` matched by source.tables but removed by tables.exclude. */
  excluded: string[];
  /** Captured `db.table` that no route matched (routed to the same name), when routes exist. */
  unrouted: string[];
  warnings: PlanWarning[];
}

const id = (t: TableRef) => `${t.db}.${t.table}`;

function parseTarget(text: string): TableRef | null {
  const parts = text.split('.');
  return parts.length === 2 && parts[0] !== '' && parts[1] !== '' ? { db: parts[0]!, table: parts[1]! } : null;
}

/** Plans routes for the given source tables (e.g. from INFORMATION_SCHEMA). Pure; never throws for data. */
export function planRoutes(config: PipelineConfig, sourceTables: SourceTableInfo[]): RoutePlan {
  const plan: RoutePlan = { tables: [], targets: [], notCaptured: [], excluded: [], unrouted: [], warnings: [] };
  const transforms = config.transforms.map((t) => compileTransform(t.projection, t.filter));
  const targets = new Map<string, TargetTablePlan & { keyBySource: Map<string, string[]> }>();

  for (const src of sourceTables) {
    const name = `${src.db}.${src.table}`;
    if (!matchTable(config.source.tables, src.db, src.table)) {
      plan.notCaptured.push(name);
      continue;
    }
    if (config.source.tablesExclude && matchTable(config.source.tablesExclude, src.db, src.table)) {
      plan.excluded.push(name);
      continue;
    }
    const transformIndex = config.transforms.findIndex((t) => matchTable(t.sourceTable, src.db, src.table) !== null);
    const rule = transformIndex >= 0 ? config.transforms[transformIndex]! : null;
    let columns = src.columns;
    if (rule) {
      try {
        columns = transforms[transformIndex]!.outputColumns(src.columns);
      } catch (e) {
        if (!isTidemarkError(e)) throw e;
        plan.warnings.push({ kind: 'transform', target: null, message: `transform[${transformIndex}] on ${name}: ${e.message}` });
      }
    }
    const key = rule?.primaryKeys ?? src.primaryKeys;

    const entry: SourceTablePlan = { source: { db: src.db, table: src.table }, targets: [], transformIndex: rule ? transformIndex : null, columns };
    let matchedAnyRoute = false;
    for (const [routeIndex, route] of config.routes.entries()) {
      const match = matchTable(route.sourceTable, src.db, src.table);
      if (!match) continue;
      matchedAnyRoute = true;
      const targetText = expandSinkTable(route.sinkTable, route.replaceSymbol, match, src.table);
      const target = parseTarget(targetText);
      if (!target) {
        plan.warnings.push({ kind: 'bad-target', target: targetText, message: `route[${routeIndex}] maps ${name} to ${JSON.stringify(targetText)}, which is not <namespace>.<table>` });
      } else {
        entry.targets.push({ target, routeIndex });
      }
      if (config.pipeline.routeMode === 'FIRST_MATCH') break;
    }
    if (!matchedAnyRoute) {
      entry.targets.push({ target: { db: src.db, table: src.table }, routeIndex: null });
      if (config.routes.length > 0) plan.unrouted.push(name);
    }
    plan.tables.push(entry);

    for (const { target, routeIndex } of entry.targets) {
      let t = targets.get(id(target));
      if (!t) {
        t = { target, sources: [], key: [], shardColumns: [], columns: [], routeIndexes: [], keyBySource: new Map() };
        targets.set(id(target), t);
      }
      t.sources.push(entry.source);
      if (routeIndex !== null && !t.routeIndexes.includes(routeIndex)) t.routeIndexes.push(routeIndex);
      for (const c of routeIndex === null ? [] : config.routes[routeIndex]!.tidemark.shardColumns) {
        if (!t.shardColumns.includes(c)) t.shardColumns.push(c);
      }
      for (const c of columns) if (!t.columns.some((x) => x.toLowerCase() === c.toLowerCase())) t.columns.push(c);
      t.keyBySource.set(id(entry.source), key);
    }
  }

  for (const t of targets.values()) {
    const name = id(t.target);
    const keys = [...t.keyBySource.values()];
    const first = keys[0] ?? [];
    if (keys.some((k) => k.join(',') !== first.join(','))) {
      const detail = [...t.keyBySource.entries()].map(([s, k]) => `${s} (${k.join(', ') || 'none'})`).join(', ');
      plan.warnings.push({ kind: 'key-mismatch', target: name, message: `${name} merges tables with different primary keys: ${detail}; the first one is used` });
    }
    if (first.length === 0) {
      plan.warnings.push({ kind: 'no-primary-key', target: name, message: `${name} has no primary key: updates and deletes cannot be applied (set primary-keys in a transform)` });
    }
    t.shardColumns = (['__schema_name__', '__table_name__'] as const).filter((c) => t.shardColumns.includes(c));
    t.key = [...first, ...t.shardColumns.filter((c) => !first.includes(c))];
    for (const c of t.shardColumns) if (!t.columns.includes(c)) t.columns.push(c);
    checkCollisions(t, plan);
    const { keyBySource: _unused, ...plain } = t;
    plan.targets.push(plain);
  }
  return plan;
}

/**
 * Rows of two merged shards collide when their keys can be equal. That is possible whenever two
 * sources agree on every configured shard column (nothing configured: all sources agree), because
 * auto-increment keys restart in every shard.
 */
function checkCollisions(t: TargetTablePlan, plan: RoutePlan): void {
  if (t.sources.length < 2 || t.key.length === 0) return;
  const groups = new Map<string, TableRef[]>();
  for (const s of t.sources) {
    const tuple = t.shardColumns.map((c) => (c === '__schema_name__' ? s.db : s.table)).join('\u0000');
    groups.set(tuple, [...(groups.get(tuple) ?? []), s]);
  }
  const clash = [...groups.values()].find((g) => g.length > 1);
  if (!clash) return;
  const name = id(t.target);
  const routes = t.routeIndexes.map((i) => `route[${i}]`).join(', ') || 'the route';
  const sameTableNames = new Set(clash.map((s) => s.table)).size < clash.length;
  const fix = t.shardColumns.includes('__table_name__') || sameTableNames
    ? '__schema_name__, __table_name__'
    : '__table_name__';
  plan.warnings.push({
    kind: 'key-collision',
    target: name,
    message: `${name} merges ${clash.map(id).join(', ')} on key (${t.key.join(', ')}): rows with equal keys in different shards overwrite each other; add tidemark.key.shard-columns: ${fix} to ${routes}`,
  });
}
