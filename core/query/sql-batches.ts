/**
 * Console aggregations that run over a table version in batches of data files: each batch is loaded,
 * reduced to one partial row per group, and dropped before the next, so that the engine's memory
 * follows the batch, not the table (issue 24: a 10M-row GROUP BY loaded every referenced column of
 * every file at once). Only queries whose every aggregate combines from partials qualify:
 *
 *   SELECT <group expressions and count/sum/min/max/avg(…) calls> FROM <one lake table> [WHERE …]
 *   [GROUP BY …] [ORDER BY …] [LIMIT …] [OFFSET …]
 *
 * Anything else (joins, subqueries, DISTINCT, windows, HAVING, other aggregates) returns null and
 * runs as one pass under the memory budget. The shape is recognized from tokens only; the caller
 * probes the rewrite against an empty relation and keeps it only when its columns' names and types
 * equal the original query's, so a misread query falls back instead of answering differently.
 */
import { tokenizeSql, upper, type TableRef, type Token } from './sql-rewrite';

/** An aggregation split into a per-batch query and a query combining the batches' partial rows. */
export interface BatchedAggregate {
  /** The per-batch query, over `relation` (the batch's view, aliased as the text named the table). */
  partial(relation: string): string;
  /**
   * The combining query over the partial rows' table, its output columns named and cast as the
   * original's (`columns`: DuckDB's names and types of the original query's result).
   */
  final(partials: string, columns: { name: string; type: string }[]): string;
}

/** Aggregates whose partial results combine: the partial's function and the combining one. */
const COMBINE: Record<string, { partial: string; final: string }> = {
  COUNT: { partial: 'count', final: 'sum' },
  SUM: { partial: 'sum', final: 'sum' },
  MIN: { partial: 'min', final: 'min' },
  MAX: { partial: 'max', final: 'max' },
};

/** Words that make a query unsafe to split (anywhere in it). */
const REFUSED = new Set(['SELECT', 'DISTINCT', 'OVER', 'FILTER', 'WITHIN', 'HAVING', 'QUALIFY', 'WINDOW', 'JOIN', 'UNION', 'EXCEPT', 'INTERSECT', 'PIVOT', 'UNPIVOT', 'ROLLUP', 'CUBE', 'GROUPING', 'SETS', 'TABLESAMPLE', 'USING', 'SAMPLE', 'LATERAL', 'RECURSIVE', 'WITH', 'INTO', 'COLUMNS', 'EXCLUDE']);

const CLAUSES = ['FROM', 'WHERE', 'GROUP', 'ORDER', 'LIMIT', 'OFFSET'] as const;

interface Item {
  /** The expression's text (alias excluded). */
  expr: string;
  tokens: Token[];
  /** The alias given with AS, lower-cased, or null. */
  alias: string | null;
}

/** Splits tokens at depth-0 commas. */
function splitList(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.text === '(') depth++;
    if (t.text === ')') depth--;
    if (depth === 0 && t.text === ',') out.push([]);
    else out[out.length - 1]!.push(t);
  }
  return out;
}

const textOf = (sql: string, tokens: Token[]) => (tokens.length ? sql.slice(tokens[0]!.start, tokens[tokens.length - 1]!.end) : '');

/** An aggregate call filling the whole item (`sum(x)`, `count(*)`), or null. */
function aggregateCall(sql: string, tokens: Token[]): { fn: string; args: string } | null {
  const fn = upper(tokens[0]);
  if (!(fn in COMBINE) && fn !== 'AVG') return null;
  if (tokens[1]?.text !== '(' || tokens[tokens.length - 1]!.text !== ')') return null;
  // The parenthesis after the name must close at the item's end: `sum(a) + sum(b)` is not a call.
  let depth = 0;
  for (let k = 1; k < tokens.length; k++) {
    if (tokens[k]!.text === '(') depth++;
    if (tokens[k]!.text === ')') depth--;
    if (depth === 0 && k < tokens.length - 1) return null;
  }
  const inner = tokens.slice(2, -1);
  if (inner.length === 0) return null;
  // An aggregate inside an aggregate's argument is an error DuckDB reports itself: leave it whole.
  if (inner.some((t, k) => (upper(t) in COMBINE || upper(t) === 'AVG') && inner[k + 1]?.text === '(')) return null;
  return { fn, args: textOf(sql, inner) };
}

/** True when the tokens call one of the combinable aggregates anywhere. */
const callsAggregate = (tokens: Token[]) => tokens.some((t, k) => (upper(t) in COMBINE || upper(t) === 'AVG') && tokens[k + 1]?.text === '(');

/**
 * The batched form of `sql` over its one lake table `ref`, or null when the query is not an
 * aggregation whose results combine from partial ones (see the file comment).
 */
export function planBatchedAggregate(sql: string, ref: TableRef): BatchedAggregate | null {
  let tokens = tokenizeSql(sql);
  while (tokens.length && tokens[tokens.length - 1]!.text === ';') tokens = tokens.slice(0, -1);
  if (upper(tokens[0]) !== 'SELECT' || tokens.some((t) => t.text === ';')) return null;
  if (tokens.slice(1).some((t) => REFUSED.has(upper(t)))) return null;
  // The clauses at depth 0, in their only allowed order.
  const at = new Map<string, number>();
  let depth = 0;
  let order = -1;
  for (let k = 1; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.text === '(') depth++;
    if (t.text === ')') depth--;
    if (depth !== 0) continue;
    const word = upper(t);
    const idx = (CLAUSES as readonly string[]).indexOf(word);
    if (idx < 0) continue;
    if (at.has(word) || idx < order) return null;
    if ((word === 'GROUP' || word === 'ORDER') && upper(tokens[k + 1]) !== 'BY') return null;
    at.set(word, k);
    order = idx;
  }
  const from = at.get('FROM');
  if (from === undefined) return null;
  const end = (k: number) => {
    const next = [...at.values()].filter((v) => v > k).sort((a, b) => a - b)[0];
    return next ?? tokens.length;
  };
  // FROM names the table and at most an alias.
  const fromTokens = tokens.slice(from + 1, end(from));
  const refAt = fromTokens.findIndex((t) => t.start === ref.start);
  if (refAt !== 0) return null;
  const afterRef = fromTokens.filter((t) => t.start >= ref.end);
  if (afterRef.length > 2 || (afterRef.length === 2 && upper(afterRef[0]) !== 'AS') || afterRef.some((t) => t.kind === 'punct')) return null;

  const items: Item[] = [];
  for (const list of splitList(tokens.slice(1, from))) {
    if (list.length === 0) return null;
    const aliased = list.length > 2 && upper(list[list.length - 2]) === 'AS' && (list[list.length - 1]!.kind === 'ident' || list[list.length - 1]!.kind === 'qident');
    const exprTokens = aliased ? list.slice(0, -2) : list;
    items.push({ expr: textOf(sql, exprTokens), tokens: exprTokens, alias: aliased ? list[list.length - 1]!.value.toLowerCase() : null });
  }
  const aggregates = items.map((it) => aggregateCall(sql, it.tokens));
  // Every other item is a group key: it must be grouped by (ordinal, alias or the same text) and
  // call no aggregate; every GROUP BY entry must be one of them.
  const keys = new Set<number>();
  const group = at.get('GROUP');
  if (group !== undefined) {
    for (const entry of splitList(tokens.slice(group + 2, end(group)))) {
      if (entry.length === 0) return null;
      const text = textOf(sql, entry);
      const one = entry.length === 1 ? entry[0]! : null;
      const i =
        one?.kind === 'number' && /^\d+$/.test(one.text)
          ? Number(one.text) - 1
          : one && (one.kind === 'ident' || one.kind === 'qident')
            ? items.findIndex((it) => it.alias === one.value.toLowerCase() || it.expr === text)
            : items.findIndex((it) => it.expr === text);
      if (i < 0 || i >= items.length || aggregates[i]) return null;
      keys.add(i);
    }
  }
  for (const [i, it] of items.entries()) {
    if (aggregates[i]) continue;
    if (!keys.has(i) || callsAggregate(it.tokens)) return null;
  }
  if (aggregates.every((a) => a === null)) return null;

  const where = at.get('WHERE');
  const fromWhere = sql.slice(tokens[from]!.start, group !== undefined ? tokens[group]!.start : where !== undefined ? tokens[end(where) - 1]!.end : tokens[end(from) - 1]!.end);
  const tailStart = at.get('ORDER') ?? at.get('LIMIT') ?? at.get('OFFSET');
  const tail = tailStart !== undefined ? ` ${sql.slice(tokens[tailStart]!.start, tokens[tokens.length - 1]!.end)}` : '';
  const keyItems = [...keys].sort((a, b) => a - b);

  return {
    partial(relation) {
      const shifted = ref.start - tokens[from]!.start;
      const fromText = `${fromWhere.slice(0, shifted)}${relation}${ref.hasAlias ? '' : ` AS "${ref.parts[ref.parts.length - 1]!.replace(/"/g, '""')}"`}${fromWhere.slice(shifted + ref.end - ref.start)}`;
      const select: string[] = keyItems.map((i, k) => `${items[i]!.expr} AS _g${k}`);
      for (const [i, a] of aggregates.entries()) {
        if (!a) continue;
        if (a.fn === 'AVG') select.push(`sum(${a.args}) AS _s${i}`, `count(${a.args}) AS _c${i}`);
        else select.push(`${COMBINE[a.fn]!.partial}(${a.args}) AS _a${i}`);
      }
      const by = keyItems.length ? ` GROUP BY ${keyItems.map((_i, k) => k + 1).join(', ')}` : '';
      return `SELECT ${select.join(', ')} ${fromText}${by}`;
    },
    final(partials, columns) {
      const out = items.map((_it, i) => {
        const a = aggregates[i];
        const value = !a ? `_g${keyItems.indexOf(i)}` : a.fn === 'AVG' ? `sum(_s${i}) / sum(_c${i})` : `${COMBINE[a.fn]!.final}(_a${i})`;
        return `CAST(${value} AS ${columns[i]!.type}) AS "${columns[i]!.name.replace(/"/g, '""')}"`;
      });
      const by = keyItems.length ? ` GROUP BY ${keyItems.map((_i, k) => `_g${k}`).join(', ')}` : '';
      const body = `SELECT ${out.join(', ')} FROM ${partials}${by}`;
      return tail ? `SELECT * FROM (${body}) AS q${tail}` : body;
    },
  };
}
