/**
 * What a console query needs of a lake table, read from its text before anything is loaded: the
 * columns it may reference, and the simple predicates of its WHERE clause that prune files and row
 * groups. Both are conservative: a word that could name a column loads that column, and a WHERE is
 * used for pruning only when its meaning for the table is certain (one table, no OR at the top);
 * the query itself still applies the whole WHERE to the rows, so pruning never changes a result.
 */
import type { NestedField, Schema } from '../lake';
import type { ScanFilter } from '../lake';
import { formatTimestamp, formatTimestampNanos, parseTimestamp, parseTimestampNanos } from '../lake';
import { tokenizeSql, upper, type TableRef, type Token } from './sql-rewrite';

/** Words that make every column of a table visible: `*` in a projection, DuckDB's COLUMNS(…). */
function selectsEverything(tokens: Token[], k: number): boolean {
  const t = tokens[k]!;
  if (upper(t) === 'COLUMNS' && tokens[k + 1]?.text === '(') return true;
  if (t.text !== '*') return false;
  const prev = tokens[k - 1];
  // `SELECT *`, `SELECT DISTINCT *`, `a, *`, `t.*`; not `count(*)` nor a product `a * b`.
  return prev === undefined || prev.text === ',' || prev.text === '.' || ['SELECT', 'DISTINCT', 'ALL'].includes(upper(prev));
}

/**
 * The top-level columns of `schema` that the SQL text may reference (by name, quoted or not, in any
 * case), in schema order; all of them when it selects `*` or COLUMNS(…).
 */
export function referencedColumns(sql: string, schema: Schema): string[] {
  const tokens = tokenizeSql(sql);
  if (tokens.some((_t, k) => selectsEverything(tokens, k))) return schema.fields.map((f) => f.name);
  // DuckDB matches identifiers case-insensitively, quoted or not.
  const words = new Set(tokens.filter((t) => t.kind === 'ident' || t.kind === 'qident').map((t) => t.value.toLowerCase()));
  return schema.fields.filter((f) => words.has(f.name.toLowerCase())).map((f) => f.name);
}

const COMPARISONS = new Set(['=', '!=', '<>', '<', '<=', '>', '>=']);
const FLIP: Record<string, '=' | '!=' | '<' | '<=' | '>' | '>='> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const WHERE_END = new Set(['GROUP', 'ORDER', 'LIMIT', 'HAVING', 'QUALIFY', 'WINDOW', 'UNION', 'EXCEPT', 'INTERSECT', 'OFFSET', 'RETURNING']);

/**
 * Predicates of the query's top-level WHERE usable to prune `ref`'s files and row groups: each
 * conjunct `column op literal` (either side) on an int or long column with an integer literal, or
 * on a string or date column with a string literal. Empty unless `ref` is the query's only table
 * (at the top level, with no JOIN, no FROM list and no set operation) and the WHERE has no OR at its
 * top level.
 */
export function pushdownFilter(sql: string, ref: TableRef, refs: TableRef[], schema: Schema): ScanFilter {
  if (refs.length !== 1) return [];
  const tokens = tokenizeSql(sql);
  let depth = 0;
  let where = -1;
  let refDepth = -1;
  let fromSeen = false;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    if (t.start === ref.start) refDepth = depth;
    if (depth !== 0) continue;
    const word = upper(t);
    if (['JOIN', 'UNION', 'EXCEPT', 'INTERSECT', 'PIVOT', 'UNPIVOT'].includes(word)) return [];
    if (word === 'FROM') fromSeen = true;
    if (fromSeen && where < 0 && t.text === ',') return [];
    if (word === 'WHERE' && where < 0) where = k;
  }
  if (where < 0 || refDepth !== 0 || where < tokens.findIndex((t) => t.start === ref.start)) return [];
  // The conjuncts of the WHERE at depth 0, up to the clause that ends it.
  const conjuncts: Token[][] = [[]];
  depth = 0;
  for (let k = where + 1; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.text === '(') depth++;
    if (t.text === ')') depth--;
    if (depth < 0 || t.text === ';') break;
    const word = upper(t);
    if (depth === 0 && WHERE_END.has(word)) break;
    if (depth === 0 && word === 'OR') return [];
    // BETWEEN x AND y: its AND is not a conjunction; the whole conjunct is skipped below.
    if (depth === 0 && word === 'AND' && upper(conjuncts[conjuncts.length - 1]!.at(-2)) !== 'BETWEEN') conjuncts.push([]);
    else conjuncts[conjuncts.length - 1]!.push(t);
  }
  const filter: ScanFilter = [];
  for (const c of conjuncts) {
    const p = simplePredicate(c, schema);
    if (p) filter.push(p);
  }
  return filter;
}

function simplePredicate(c: Token[], schema: Schema): ScanFilter[number] | null {
  // side op side, where op is a run of comparison characters and each side is a literal or a column
  // (optionally qualified: t.col).
  const first = c.findIndex((t) => t.kind === 'punct' && '<>=!'.includes(t.text));
  if (first < 0) return null;
  let last = first;
  while (c[last + 1]?.kind === 'punct' && '<>=!'.includes(c[last + 1]!.text)) last++;
  let op = c.slice(first, last + 1).map((t) => t.text).join('');
  if (!COMPARISONS.has(op)) return null;
  if (op === '<>') op = '!=';
  const column = (side: Token[]) => {
    const name = side.length === 1 ? side[0] : side.length === 3 && side[1]!.text === '.' ? side[2] : undefined;
    return name && (name.kind === 'ident' || name.kind === 'qident') ? schema.fields.find((f) => f.name.toLowerCase() === name.value.toLowerCase()) : undefined;
  };
  const left = c.slice(0, first);
  const right = c.slice(last + 1);
  const leftCol = column(left);
  const col = leftCol ?? column(right);
  const literal = leftCol ? right : left;
  if (!col || literal.length !== 1 || column(literal)) return null;
  const value = literalValue(col, literal[0]!);
  if (value === undefined) return null;
  return { column: col.name, op: leftCol ? (op as '=') : FLIP[op]!, value };
}

/** The literal as the column's canonical value (core/lake/values.ts), or undefined when unsure. */
function literalValue(field: NestedField, t: Token): unknown {
  if (field.type === 'long' && t.kind === 'number' && /^\d+$/.test(t.value)) return BigInt(t.value);
  if (field.type === 'int' && t.kind === 'number' && /^\d+$/.test(t.value) && Number(t.value) < 2 ** 31) return Number(t.value);
  if (field.type === 'string' && t.kind === 'string') return t.value;
  if (field.type === 'date' && t.kind === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(t.value)) return t.value;
  if (t.kind === 'string' && typeof field.type === 'string' && field.type.startsWith('timestamp')) return timestampLiteral(field.type, t.value);
  return undefined;
}

/**
 * A string literal compared with a timestamp column, as the column's canonical value, when DuckDB
 * reads it the same way whatever the session: a local timestamp ('YYYY-MM-DD', with ' HH:MM[:SS[.f]]'
 * or 'T…') for timestamp and timestamp_ns; a timestamp with an explicit offset (Z, ±HH:MM) for the
 * zoned types (without one DuckDB would apply the session's time zone). Fractions no finer than the
 * type; an impossible date is left to DuckDB.
 */
function timestampLiteral(type: string, text: string): string | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.(\d{1,9}))?)?))?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m || Number.isNaN(Date.parse(`${m[1]}T00:00:00Z`))) return undefined;
  const zoned = type === 'timestamptz' || type === 'timestamptz_ns';
  const nanos = type === 'timestamp_ns' || type === 'timestamptz_ns';
  if ((m[4] !== undefined) !== zoned || (!nanos && (m[3]?.length ?? 0) > 6) || (!nanos && type !== 'timestamp' && type !== 'timestamptz')) return undefined;
  const iso = `${m[1]}T${m[2] ?? '00:00'}${m[4] ?? ''}`;
  try {
    return nanos ? formatTimestampNanos(parseTimestampNanos(iso), zoned) : formatTimestamp(parseTimestamp(iso), zoned);
  } catch {
    return undefined;
  }
}
