import type { TableSchema } from '../../cdc';
import { TidemarkError } from '../../errors';
import { outputColumnTypes } from '../sink/schema';
import type { PipelineOptions } from '../config/types';
import type { SourceTablePlan } from '../config/route';
import { compileTyped, DEFAULT_CONTEXT, METADATA_COLUMNS, type EvalContext, type Row, type RowMeta, type Typed } from './evaluator';
import { ExprParser, parseExpression, referencedNames, type Expr } from './parser';
import { checkCall } from './functions';
import { checkCastTarget } from './functions/casting';
import { CANONICAL_CODEC, compileCache } from './canonical';
import { flinkTypeOfColumn, icebergTypeOf, isDec, type FlinkType, type V } from './types';
import { fitDecimal } from './values';

/**
 * Projection and filter of a Flink CDC `transform` rule, compiled once and applied per row.
 *
 * Projection items: `*` (all source columns, in order), a column, a metadata column, or an
 * expression `expr AS name` (AS may be omitted). A computed item whose name equals a source column
 * replaces that column in place when `*` is used (`*, UPPER(name) AS name`), as Flink CDC does.
 * The filter may read source columns, metadata columns and computed projection columns.
 *
 * Typing: `bind` compiles the rule against a source table's Flink CDC column types (the result
 * schema is then Flink CDC's); the runner binds each source table through transformColumnTypes.
 * Rows of a table that was never bound are typed from their values (numbers as INT or DOUBLE,
 * bigints as BIGINT, text as STRING), which only unit tests and ad-hoc callers rely on.
 */
export type ProjectionItem =
  | { kind: 'star' }
  | { kind: 'expr'; name: string; expr: Expr; text: string };

export interface SourceColumn {
  name: string;
  type: FlinkType;
}

/** A rule compiled for one source table: the result schema and the per-row program. */
export interface BoundTransform {
  /** Output columns with their Flink CDC types (the CreateTableEvent's schema). */
  columns: SourceColumn[];
  /** Runs on internal values (types.ts): the projected row, or null when the filter rejects it. */
  run(row: Row, meta: RowMeta): Row | null;
}

export interface CompiledProjection {
  items: ProjectionItem[];
  /** Names read from the source row (metadata columns excluded). */
  sourceColumns: string[];
  /** Metadata columns read (`__table_name__`, `op_ts`, …). */
  metadataColumns: string[];
  /** Output column names for a source table with these columns; throws InvalidInput on unknown refs. */
  outputColumns(sourceColumns: string[]): string[];
  apply(row: Row, meta: RowMeta): Row;
}

export interface CompiledFilter {
  expr: Expr;
  sourceColumns: string[];
  metadataColumns: string[];
  /** Three-valued result. */
  evaluate(row: Row, meta: RowMeta): boolean | null;
  /** True only when the filter is TRUE (NULL drops the row, as in SQL WHERE). */
  test(row: Row, meta: RowMeta): boolean;
}

const isMetadata = (n: string) => (METADATA_COLUMNS as readonly string[]).includes(n);

function splitRefs(exprs: Expr[]): { source: string[]; metadata: string[] } {
  const names = new Set<string>();
  for (const e of exprs) referencedNames(e, names);
  return { source: [...names].filter((n) => !isMetadata(n)), metadata: [...names].filter(isMetadata) };
}

/** Parses a projection. Throws TidemarkError InvalidInput (syntax) or Unsupported (construct). */
export function parseProjection(text: string): ProjectionItem[] {
  const p = new ExprParser(text);
  const items: ProjectionItem[] = [];
  const names = new Map<string, number>();
  if (p.atEnd()) throw new TidemarkError('InvalidInput', 'expected at least one projection item, found nothing (column 1)', { column: 1 });
  for (let index = 1; ; index++) {
    const start = p.peek().col;
    if (p.peek().t === 'star' || p.isOp('*')) {
      p.next();
      items.push({ kind: 'star' });
    } else {
      const expr = p.parseExpr();
      let name: string | null = null;
      if (p.isWord('AS')) p.next();
      const alias = p.peek();
      if (alias.t === 'id' || alias.t === 'qid') {
        p.next();
        name = alias.v;
      } else if (expr.k === 'col') {
        name = expr.name;
      }
      const end = p.peek().col;
      const itemText = text.slice(start - 1, end - 1).trim();
      if (name === null) {
        throw new TidemarkError('InvalidInput', `projection item ${index} (${itemText}) needs a name: write ${itemText} AS name (column ${start})`, { column: start });
      }
      const lower = name.toLowerCase();
      if (names.has(lower)) {
        throw new TidemarkError('InvalidInput', `projection names column ${JSON.stringify(name)} twice (items ${names.get(lower)} and ${index}) (column ${start})`, { column: start });
      }
      names.set(lower, index);
      checkCalls(expr);
      items.push({ kind: 'expr', name, expr, text: itemText });
    }
    if (p.atEnd()) break;
    if (!p.isOp(',')) throw new TidemarkError('InvalidInput', `expected "," or end of projection, found ${p.describe(p.peek())} (column ${p.peek().col})`, { column: p.peek().col });
    p.next();
  }
  if (items.filter((i) => i.kind === 'star').length > 1) {
    throw new TidemarkError('InvalidInput', 'projection lists \\* more than once', {});
  }
  return items;
}

/** Every function call of an expression names a known function with a fitting argument count. */
function checkCalls(e: Expr): void {
  const walk = (x: Expr | null): void => {
    if (x === null) return;
    switch (x.k) {
      case 'call': checkCall(x.name, x.args.length, x.col ?? 0); x.args.forEach(walk); break;
      case 'cast': checkCastTarget(x.type, x.col); walk(x.e); break;
      case 'neg': case 'not': case 'isnull': case 'istruth': case 'isunknown': walk(x.e); break;
      case 'bin': case 'distinct': walk(x.l); walk(x.r); break;
      case 'in': walk(x.e); x.list.forEach(walk); break;
      case 'like': case 'similar': walk(x.e); walk(x.pattern); walk(x.escape); break;
      case 'between': walk(x.e); walk(x.lo); walk(x.hi); break;
      case 'case': walk(x.operand); x.whens.forEach((w) => { w.when.forEach(walk); walk(w.then); }); walk(x.else); break;
      default: break;
    }
  };
  walk(e);
}

function checkKnown(refs: string[], sourceColumns: string[], where: string): void {
  const known = new Set(sourceColumns.map((c) => c.toLowerCase()));
  for (const r of refs) {
    if (!known.has(r.toLowerCase())) {
      throw new TidemarkError('InvalidInput', `${where} reads column ${JSON.stringify(r)}, which the source table does not have (columns: ${sourceColumns.join(', ')})`, { column: r });
    }
  }
}

type ExprItem = Extract<ProjectionItem, { kind: 'expr' }>;

/**
 * How a bound rule reads its input row and writes its output row. Without one (the conformance
 * runner) rows hold the evaluator's own values (types.ts); Tidemark's runner passes core/cdc
 * canonical rows through canonical.ts's codec.
 */
export interface RowCodec {
  /** A reader of one column's stored value as the evaluator's value, or null when they are the same. */
  reader(ty: FlinkType): ((v: unknown) => V) | null;
  /** A writer of an evaluator's value as the stored form, or null when they are the same. */
  writer(ty: FlinkType): ((v: V) => unknown) | null;
}

/** A scope over named columns of a row (MySQL column names are case-insensitive); one Typed per column. */
function rowScope(columns: SourceColumn[], codec: RowCodec | null): (name: string) => Typed | null {
  const byName = new Map<string, Typed>();
  for (const c of columns) {
    const lower = c.name.toLowerCase();
    if (byName.has(lower)) continue;
    const key = c.name;
    const read = codec?.reader(c.type) ?? null;
    const ev: Typed['ev'] = read ? (row) => read(row[key] ?? null) : (row) => row[key] ?? null;
    byName.set(lower, { t: c.type, ev, column: key });
  }
  return (name) => byName.get(name.toLowerCase()) ?? null;
}

function withWhere(e: unknown, where: string): never {
  if (e instanceof TidemarkError) throw new TidemarkError(e.code, `${where}: ${e.message}`, e.context);
  throw e;
}

/** Compiles projection items and a filter against typed source columns (the Flink CDC result schema). */
export function bindRule(items: ProjectionItem[] | null, filter: Expr | null, source: SourceColumn[], ctx: EvalContext = DEFAULT_CONTEXT, filterText = 'filter', codec: RowCodec | null = null): BoundTransform {
  const scope = rowScope(source, codec);
  const exprItems = (items ?? []).filter((i): i is ExprItem => i.kind === 'expr');
  const compiled = new Map<string, Typed>();
  for (const item of exprItems) {
    try {
      compiled.set(item.name.toLowerCase(), compileTyped(item.expr, scope, ctx));
    } catch (e) {
      withWhere(e, `projection item ${item.text}`);
    }
  }
  const outputs: { name: string; typed: Typed }[] = [];
  const hasStar = items === null || items.some((i) => i.kind === 'star');
  for (const item of items ?? [{ kind: 'star' } as const]) {
    if (item.kind === 'star') {
      for (const c of source) outputs.push({ name: c.name, typed: compiled.get(c.name.toLowerCase()) ?? scope(c.name)! });
    } else if (!(hasStar && source.some((c) => c.name.toLowerCase() === item.name.toLowerCase()))) {
      outputs.push({ name: item.name, typed: compiled.get(item.name.toLowerCase())! });
    }
  }
  // A column passed through unchanged is copied as stored; computed values are kept (for the
  // filter) in `values`, then written.
  const plan = outputs.map((o) => {
    const ty = o.typed.t;
    const write = codec?.writer(ty) ?? null;
    // As Flink CDC writes the record (DecimalData.fromBigDecimal): a DECIMAL takes the column's
    // scale, and one that does not fit its precision becomes NULL.
    const fit = ty.kind === 'DECIMAL' ? (v: V) => (v !== null && isDec(v) ? fitDecimal(v, ty.precision!, ty.scale!) : v) : null;
    return { name: o.name, raw: o.typed.column, ev: o.typed.ev, fit, write };
  });
  const values: V[] = new Array<V>(plan.length).fill(null);
  let test: ((row: Row, meta: RowMeta) => boolean) | null = null;
  let filterFirst = true;
  if (filter) {
    const computed = new Map<string, Typed>();
    plan.forEach((p, i) => {
      const lower = p.name.toLowerCase();
      if (computed.has(lower)) return;
      if (p.raw !== undefined) computed.set(lower, scope(p.raw)!);
      else computed.set(lower, { t: outputs[i]!.typed.t, ev: () => values[i]! });
    });
    let f: Typed;
    try {
      f = compileTyped(filter, (n) => {
        const hit = computed.get(n.toLowerCase());
        if (hit && hit.column === undefined) filterFirst = false;
        return hit ?? scope(n);
      }, ctx);
    } catch (e) {
      withWhere(e, filterText);
    }
    if (f.t.kind !== 'BOOLEAN' && f.t.kind !== 'NULL') throw new TidemarkError('InvalidInput', `${filterText} must be a condition, found a ${f.t.kind} expression`);
    test = (row, meta) => f.ev(row, meta) === true;
  }
  return {
    columns: outputs.map((o) => ({ name: o.name, type: o.typed.t })),
    run(row, meta) {
      // A filter that reads no computed column runs first: a dropped row computes nothing.
      if (test && filterFirst && !test(row, meta)) return null;
      for (let i = 0; i < plan.length; i++) {
        const p = plan[i]!;
        if (p.raw === undefined) {
          const v = p.ev(row, meta);
          values[i] = p.fit ? p.fit(v) : v;
        }
      }
      if (test && !filterFirst && !test(row, meta)) return null;
      const out: Row = {};
      for (let i = 0; i < plan.length; i++) {
        const p = plan[i]!;
        if (p.raw !== undefined) out[p.name] = row[p.raw] ?? null;
        else out[p.name] = (p.write && values[i] !== null ? p.write(values[i]!) : values[i]!) as V;
      }
      return out;
    },
  };
}

export function compileProjection(text: string): CompiledProjection {
  const items = parseProjection(text);
  const exprItems = items.filter((i): i is ExprItem => i.kind === 'expr');
  const refs = splitRefs(exprItems.map((i) => i.expr));
  const hasStar = items.some((i) => i.kind === 'star');
  const programs = compileCache((cols) => bindRule(items, null, cols, DEFAULT_CONTEXT, 'filter', CANONICAL_CODEC));

  const outputColumns = (sourceColumns: string[]): string[] => {
    checkKnown(refs.source, sourceColumns, 'projection');
    const out: string[] = [];
    for (const item of items) {
      if (item.kind === 'star') {
        out.push(...sourceColumns);
      } else if (!hasStar || !sourceColumns.some((c) => c.toLowerCase() === item.name.toLowerCase())) {
        out.push(item.name);
      }
    }
    return out;
  };

  const apply = (row: Row, meta: RowMeta): Row => {
    return programs(row).program.run(row, meta)!;
  };

  return { items, sourceColumns: refs.source, metadataColumns: refs.metadata, outputColumns, apply };
}

export function compileFilter(text: string): CompiledFilter {
  const expr = parseExpression(text);
  // A filter must be a condition; a bare number or text is a mistake we can see before any row.
  if (expr.k === 'lit' && expr.value !== null && typeof expr.value !== 'boolean') {
    throw new TidemarkError('InvalidInput', `filter must be a condition, found the value ${JSON.stringify(expr.value)} (column 1)`, { column: 1 });
  }
  if (expr.k === 'neg' || (expr.k === 'bin' && ['+', '-', '*', '/', '%', '||'].includes(expr.op))) {
    throw new TidemarkError('InvalidInput', 'filter must be a condition (a comparison, IS NULL, IN, LIKE, AND/OR/NOT), found a value expression (column 1)', { column: 1 });
  }
  checkCalls(expr);
  const refs = splitRefs([expr]);
  const programs = compileCache((cols) => {
    try {
      return compileTyped(expr, rowScope(cols, CANONICAL_CODEC), DEFAULT_CONTEXT);
    } catch (e) {
      return withWhere(e, 'filter');
    }
  });
  const evaluate = (row: Row, meta: RowMeta): boolean | null => {
    const v = programs(row).program.ev(row, meta);
    if (v === null || typeof v === 'boolean') return v;
    throw new TidemarkError('DataInvalid', `filter ${JSON.stringify(text)} gave ${String(v)}, not TRUE, FALSE or NULL`);
  };
  return { expr, sourceColumns: refs.source, metadataColumns: refs.metadata, evaluate, test: (row, meta) => evaluate(row, meta) === true };
}

export interface CompiledTransform {
  projection: CompiledProjection | null;
  filter: CompiledFilter | null;
  /** Output columns for a source table (all of them when there is no projection). */
  outputColumns(sourceColumns: string[]): string[];
  /**
   * Compiles the rule for one source table (`db.table`) from its schema: the result schema with
   * Flink CDC types. Later `apply` calls for that table evaluate with those types. Throws
   * InvalidInput/Unsupported naming the item when the rule does not fit the table.
   */
  bind(schema: TableSchema, ctx?: EvalContext): BoundTransform;
  /** The projected row (core/cdc canonical values), or null when the filter rejects it. */
  apply(row: Row, meta: RowMeta): Row | null;
}

/** The pipeline options transforms read (config-types PipelineOptions). */
export type TransformOptions = Pick<PipelineOptions, 'localTimeZone' | 'transformDecimalPrecisionMode'>;

/**
 * A whole transform rule: projection first, then the filter over source + computed columns.
 * `pipeline` gives local-time-zone (null: the machine's zone, as Flink's systemDefault) and
 * transform.decimal.precision.mode; without it, UTC and UP_TO_19.
 */
export function compileTransform(projection: string | null, filter: string | null, pipeline?: TransformOptions): CompiledTransform {
  const context: EvalContext = pipeline
    ? { ...DEFAULT_CONTEXT, timeZone: pipeline.localTimeZone ?? systemTimeZone(), decimalMode: pipeline.transformDecimalPrecisionMode === 'UP_TO_38' ? 'up_to_38' : 'up_to_19' }
    : DEFAULT_CONTEXT;
  const proj = projection === null ? null : compileProjection(projection);
  const filt = filter === null ? null : compileFilter(filter);
  const bound = new Map<string, { cols: SourceColumn[]; program: BoundTransform }>();
  let last: { schema: string | null; table: string; hit: { cols: SourceColumn[]; program: BoundTransform } } | null = null;
  const unbound = compileCache((cols) => bindRule(proj?.items ?? null, filt?.expr ?? null, cols, context, 'filter', CANONICAL_CODEC));
  return {
    projection: proj,
    filter: filt,
    outputColumns(sourceColumns) {
      const out = proj ? proj.outputColumns(sourceColumns) : sourceColumns;
      if (filt) checkKnown(filt.sourceColumns, [...sourceColumns, ...out], 'filter');
      return out;
    },
    bind(schema, ctx = context) {
      const cols = schema.columns.map((c) => ({ name: c.name, type: flinkTypeOfColumn(c) }));
      const program = bindRule(proj?.items ?? null, filt?.expr ?? null, cols, ctx, 'filter', CANONICAL_CODEC);
      bound.set(`${schema.table.db}.${schema.table.table}`, { cols, program });
      last = null;
      return program;
    },
    apply(row, meta) {
      // The runner applies runs of rows of one table: look the table's program up once per run.
      let current = last;
      if (current === null || current.schema !== meta.schemaName || current.table !== meta.tableName) {
        const hit = bound.get(`${meta.schemaName ?? ''}.${meta.tableName}`);
        if (!hit) {
          return unbound(row).program.run(row, meta);
        }
        current = last = { schema: meta.schemaName, table: meta.tableName, hit };
      }
      return current.hit.program.run(row, meta);
    },
  };
}

/**
 * Output column types (Iceberg spelling) of one source table through its transform, binding the
 * transform to the table's schema so that its rows are evaluated with Flink CDC's types. Without a
 * transform: the source types (sink-schema.ts outputColumnTypes).
 */
export function transformColumnTypes(schema: TableSchema, plan: SourceTablePlan, transform: CompiledTransform | null): Map<string, string> {
  const base = outputColumnTypes(schema, plan, transform);
  if (!transform) return base;
  const program = transform.bind(schema);
  const types = new Map(program.columns.map((c) => [c.name.toLowerCase(), icebergTypeOf(c.type)]));
  return new Map(plan.columns.map((name) => [name, types.get(name.toLowerCase()) ?? base.get(name) ?? 'string']));
}

/** The machine's time zone (Flink's `systemDefault`). */
function systemTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}
