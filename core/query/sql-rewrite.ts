/**
 * Finds the lake tables a SQL text names (`ns.table`, nested `a.b.table`, quoted parts) in FROM
 * and JOIN positions, with Trino/Spark-style time travel:
 *   ns.t FOR VERSION AS OF 123456789        (also FOR SYSTEM_VERSION AS OF)
 *   ns.t FOR VERSION AS OF 'q4-close'       (a tag or branch name)
 *   ns.t FOR TIMESTAMP AS OF TIMESTAMP '2026-01-01 00:00:00'   (also FOR SYSTEM_TIME AS OF; UTC
 *        unless the literal carries an offset)
 * Hand-written because no SQL parser on npm speaks DuckDB's dialect plus these clauses; it only
 * tokenizes (strings, quoted identifiers and comments are skipped correctly) and never rewrites
 * anything but the table reference it found.
 */
import { TidemarkError } from '../errors';
import { parseTimestamp } from '../lake';

export type TimeTravel = { kind: 'version'; snapshotId: bigint } | { kind: 'ref'; name: string } | { kind: 'timestamp'; timestampMs: number };

export interface TableRef {
  /** Character range of the reference including any time-travel clause. */
  start: number;
  end: number;
  /** Name parts, unquoted: ['demo', 'orders']. */
  parts: string[];
  timeTravel: TimeTravel | null;
  /** Whether an alias follows (if not, the rewrite adds the table name as alias). */
  hasAlias: boolean;
}

type TokenKind = 'ident' | 'qident' | 'string' | 'number' | 'punct';
export interface Token {
  kind: TokenKind;
  text: string;
  /** Identifier value (unquoted) or string value. */
  value: string;
  start: number;
  end: number;
}

export function tokenizeSql(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === "'" || c === '"') {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= sql.length) throw new TidemarkError('InvalidInput', `unterminated ${c === "'" ? 'string' : 'quoted identifier'} starting at character ${start + 1}`, { position: start + 1 });
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += sql[i++];
      }
      tokens.push({ kind: c === "'" ? 'string' : 'qident', text: sql.slice(start, i), value, start, end: i });
    } else if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < sql.length && /[A-Za-z0-9_$]/.test(sql[i]!)) i++;
      const text = sql.slice(start, i);
      tokens.push({ kind: 'ident', text, value: text, start, end: i });
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < sql.length && /[0-9.eE]/.test(sql[i]!)) i++;
      tokens.push({ kind: 'number', text: sql.slice(start, i), value: sql.slice(start, i), start, end: i });
    } else {
      tokens.push({ kind: 'punct', text: c, value: c, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

const CLAUSE_END = new Set(['WHERE', 'GROUP', 'ORDER', 'LIMIT', 'HAVING', 'UNION', 'EXCEPT', 'INTERSECT', 'QUALIFY', 'WINDOW', 'ON', 'USING', 'SELECT', 'SET', 'VALUES', 'RETURNING', 'OFFSET']);
const NOT_ALIAS = new Set([...CLAUSE_END, 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS', 'NATURAL', 'ANTI', 'SEMI', 'POSITIONAL', 'ASOF', 'LATERAL', 'FOR', 'TABLESAMPLE', 'USING']);

/** An unquoted identifier token's text in upper case (keywords), else ''. */
export const upper = (t: Token | undefined) => (t && t.kind === 'ident' ? t.text.toUpperCase() : '');
const isName = (t: Token | undefined) => t !== undefined && (t.kind === 'ident' || t.kind === 'qident');

function parseTimeTravel(tokens: Token[], k: number): { travel: TimeTravel; next: number } | null {
  // FOR [SYSTEM_]VERSION AS OF <n>  |  FOR [SYSTEM_]TIMESTAMP|SYSTEM_TIME AS OF [TIMESTAMP] '<text>'
  if (upper(tokens[k]) !== 'FOR') return null;
  const what = upper(tokens[k + 1]);
  if (upper(tokens[k + 2]) !== 'AS' || upper(tokens[k + 3]) !== 'OF') return null;
  let v = k + 4;
  if (what === 'VERSION' || what === 'SYSTEM_VERSION') {
    const t = tokens[v];
    const text = t?.kind === 'number' || t?.kind === 'string' ? t.value : null;
    // A quoted name is a tag or branch (as Spark's VERSION AS OF 'tag'); digits are a snapshot id.
    if (t?.kind === 'string' && text !== null && text !== '' && !/^\d+$/.test(text)) return { travel: { kind: 'ref', name: text }, next: v + 1 };
    if (text === null || !/^\d+$/.test(text)) {
      throw new TidemarkError('InvalidInput', `FOR VERSION AS OF expects a snapshot id or a quoted tag or branch name at character ${(t?.start ?? 0) + 1}`, { position: (t?.start ?? 0) + 1 });
    }
    return { travel: { kind: 'version', snapshotId: BigInt(text) }, next: v + 1 };
  }
  if (what === 'TIMESTAMP' || what === 'SYSTEM_TIME' || what === 'SYSTEM_TIMESTAMP') {
    if (upper(tokens[v]) === 'TIMESTAMP' || upper(tokens[v]) === 'TIMESTAMPTZ') v++;
    const t = tokens[v];
    if (t?.kind !== 'string') {
      throw new TidemarkError('InvalidInput', `FOR TIMESTAMP AS OF expects a timestamp literal at character ${(t?.start ?? 0) + 1}`, { position: (t?.start ?? 0) + 1 });
    }
    let micros: bigint;
    try {
      micros = parseTimestamp(t.value.trim().replace(/ UTC$/i, 'Z'));
    } catch {
      throw new TidemarkError('InvalidInput', `FOR TIMESTAMP AS OF: expected 'YYYY-MM-DD HH:MM:SS[.ffffff][+HH:MM]', got ${t.text} at character ${t.start + 1}`, { position: t.start + 1 });
    }
    return { travel: { kind: 'timestamp', timestampMs: Number(micros / 1000n) }, next: v + 1 };
  }
  return null;
}

/** The table references in FROM/JOIN positions with two or more name parts. */
export function findTableRefs(sql: string): TableRef[] {
  const tokens = tokenizeSql(sql);
  const refs: TableRef[] = [];
  // Per parenthesis depth: are we in a FROM list (so that a comma starts another table)?
  const inFrom: boolean[] = [false];
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    const word = upper(t);
    if (t.text === '(') {
      depth++;
      inFrom[depth] = false;
      continue;
    }
    if (t.text === ')') {
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (CLAUSE_END.has(word)) inFrom[depth] = false;
    const starts = word === 'FROM' || word === 'JOIN' || (t.text === ',' && inFrom[depth]);
    if (word === 'FROM') inFrom[depth] = true;
    if (!starts || !isName(tokens[k + 1])) continue;
    const parts: string[] = [tokens[k + 1]!.value];
    let j = k + 2;
    while (tokens[j]?.text === '.' && isName(tokens[j + 1]) && tokens[j]!.start === tokens[j - 1]!.end) {
      parts.push(tokens[j + 1]!.value);
      j += 2;
    }
    if (parts.length < 2 || tokens[j]?.text === '(') continue; // one part, or a table function call
    let end = tokens[j - 1]!.end;
    let timeTravel: TimeTravel | null = null;
    const travel = parseTimeTravel(tokens, j);
    if (travel) {
      timeTravel = travel.travel;
      end = tokens[travel.next - 1]!.end;
      j = travel.next;
    }
    const after = tokens[j];
    const hasAlias = upper(after) === 'AS' || (isName(after) && !NOT_ALIAS.has(upper(after)));
    refs.push({ start: tokens[k + 1]!.start, end, parts, timeTravel, hasAlias });
    k = j - 1;
  }
  return refs;
}

/** Replaces each reference by `replacement(ref)` (plus an alias when the SQL had none). */
export function rewriteTableRefs(sql: string, refs: TableRef[], replacement: (ref: TableRef) => string): string {
  let out = '';
  let last = 0;
  for (const ref of refs) {
    out += sql.slice(last, ref.start) + replacement(ref);
    if (!ref.hasAlias) out += ` AS "${ref.parts[ref.parts.length - 1]!.replace(/"/g, '""')}"`;
    last = ref.end;
  }
  return out + sql.slice(last);
}
