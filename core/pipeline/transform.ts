import { TidemarkError } from '../errors';
import { ExprParser, parseExpression, referencedNames, type Expr } from './transform-parser';
import { compileExpr, METADATA_COLUMNS, type Evaluator, type Row, type RowMeta, type Value } from './transform-eval';

/**
 * Projection and filter of a Flink CDC `transform` rule, compiled once and applied per row.
 *
 * Projection items: `\*` (all source columns, in order), a column, a metadata column, or an
 * expression `expr AS name` (AS may be omitted). A computed item whose name equals a source column
 * replaces that column in place when `\*` is used (`\*, UPPER(name) AS name`), as Flink CDC does.
 * The filter may read source columns, metadata columns and computed projection columns.
 */
export type ProjectionItem =
  | { kind: 'star' }
  | { kind: 'expr'; name: string; expr: Expr; text: string };

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

function checkKnown(refs: string[], sourceColumns: string[], where: string): void {
  const known = new Set(sourceColumns.map((c) => c.toLowerCase()));
  for (const r of refs) {
    if (!known.has(r.toLowerCase())) {
      throw new TidemarkError('InvalidInput', `${where} reads column ${JSON.stringify(r)}, which the source table does not have (columns: ${sourceColumns.join(', ')})`, { column: r });
    }
  }
}

export function compileProjection(text: string): CompiledProjection {
  const items = parseProjection(text);
  const exprItems = items.filter((i): i is Extract<ProjectionItem, { kind: 'expr' }> => i.kind === 'expr');
  const refs = splitRefs(exprItems.map((i) => i.expr));
  const evaluators = new Map<string, Evaluator>(exprItems.map((i) => [i.name, compileExpr(i.expr)]));
  const hasStar = items.some((i) => i.kind === 'star');

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
    const out: Row = {};
    for (const item of items) {
      if (item.kind === 'star') {
        for (const [k, v] of Object.entries(row)) {
          const override = exprItems.find((i) => i.name.toLowerCase() === k.toLowerCase());
          out[k] = override ? evaluators.get(override.name)!(row, meta) : v;
        }
      } else if (!(hasStar && Object.keys(out).some((k) => k.toLowerCase() === item.name.toLowerCase()))) {
        out[item.name] = evaluators.get(item.name)!(row, meta);
      }
    }
    return out;
  };

  return { items, sourceColumns: refs.source, metadataColumns: refs.metadata, outputColumns, apply };
}

export function compileFilter(text: string): CompiledFilter {
  const expr = parseExpression(text);
  // A filter must be a condition; a bare number or text is a mistake we can see before any row.
  if (expr.k === 'lit' && expr.value !== null && typeof expr.value !== 'boolean') {
    throw new TidemarkError('InvalidInput', `filter must be a condition, found the value ${JSON.stringify(expr.value)} (column 1)`, { column: 1 });
  }
  if (expr.k === 'neg' || (expr.k === 'bin' && ['+', '-', '*', '/', '%', '||'].includes(expr.op)) || (expr.k === 'call' && expr.name !== 'COALESCE')) {
    throw new TidemarkError('InvalidInput', 'filter must be a condition (a comparison, IS NULL, IN, LIKE, AND/OR/NOT), found a value expression (column 1)', { column: 1 });
  }
  const refs = splitRefs([expr]);
  const f = compileExpr(expr);
  const evaluate = (row: Row, meta: RowMeta): boolean | null => {
    const v: Value = f(row, meta);
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
  /** The projected row, or null when the filter rejects it. */
  apply(row: Row, meta: RowMeta): Row | null;
}

/** A whole transform rule: projection first, then the filter over source + computed columns. */
export function compileTransform(projection: string | null, filter: string | null): CompiledTransform {
  const proj = projection === null ? null : compileProjection(projection);
  const filt = filter === null ? null : compileFilter(filter);
  return {
    projection: proj,
    filter: filt,
    outputColumns(sourceColumns) {
      const out = proj ? proj.outputColumns(sourceColumns) : sourceColumns;
      if (filt) checkKnown(filt.sourceColumns, [...sourceColumns, ...out], 'filter');
      return out;
    },
    apply(row, meta) {
      const projected = proj ? proj.apply(row, meta) : row;
      if (filt && !filt.test(proj ? { ...row, ...projected } : row, meta)) return null;
      return projected;
    },
  };
}
