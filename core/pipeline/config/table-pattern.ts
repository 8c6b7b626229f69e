import type { TablePattern } from './types';

/**
 * Flink CDC's table-list syntax (MySQL connector `tables`, route and transform `source-table`):
 * - entries are separated by `,` (each trimmed) and mean "any of" — a `,` can therefore never be
 *   part of a regex here, not even in `{1,3}` (Flink has the same limitation);
 * - an unescaped `.` separates database and table and matches a literal dot;
 * - `\.` is the regex "any character".
 * Flink swaps the two spellings and then requires the whole `db.table` string to match
 * (`Pattern.matcher(id).matches()`), so we anchor the pattern with `^(?:…)$`.
 */
export function convertTableList(text: string): string {
  const alternatives = text.split(',').map((s) => s.trim());
  const swapped = alternatives
    .join('|')
    .split('\\.')
    .map((piece) => piece.replace(/\./g, '\\.'))
    .join('.');
  return `^(?:${swapped})$`;
}

/**
 * Compiles a table list; a bad regex yields the engine's own message (e.g. "Unterminated group")
 * so the user can see what is wrong with the part they wrote.
 */
export function compileTablePattern(text: string): { pattern: TablePattern } | { error: string } {
  if (text.trim() === '') return { error: 'expected a table pattern such as db.table or db.\\.*, found an empty value' };
  const regex = convertTableList(text);
  try {
    new RegExp(regex);
  } catch (e) {
    const reason = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
    return { error: `invalid regex ${JSON.stringify(text)}: ${reason}` };
  }
  return { pattern: { text, regex } };
}

const cache = new Map<string, RegExp>();

function regexOf(pattern: TablePattern): RegExp {
  let re = cache.get(pattern.regex);
  if (!re) {
    re = new RegExp(pattern.regex);
    cache.set(pattern.regex, re);
  }
  return re;
}

/** Full-match of `db.table` against a compiled table list; the match carries capture groups. */
export function matchTable(pattern: TablePattern, db: string, table: string): RegExpExecArray | null {
  return regexOf(pattern).exec(`${db}.${table}`);
}

/**
 * Expands a route's `sink-table`. With `replace-symbol`, every occurrence of the symbol becomes the
 * source *table* name (not `db.table`, as in Flink's RouteRule). Otherwise `$n` refers to capture
 * group n as in Java's `Matcher.replaceAll` (the longest group number that exists wins, `\$` is a
 * literal dollar); a group that did not participate expands to the empty string.
 */
export function expandSinkTable(sinkTable: string, replaceSymbol: string | null, match: RegExpExecArray, sourceTable: string): string {
  if (replaceSymbol !== null) return sinkTable.split(replaceSymbol).join(sourceTable);
  let out = '';
  for (let i = 0; i < sinkTable.length; i++) {
    const ch = sinkTable[i]!;
    if (ch === '\\' && i + 1 < sinkTable.length) {
      out += sinkTable[++i];
    } else if (ch === '$' && /\d/.test(sinkTable[i + 1] ?? '')) {
      let digits = sinkTable[++i]!;
      while (/\d/.test(sinkTable[i + 1] ?? '') && Number(digits + sinkTable[i + 1]) < match.length) digits += sinkTable[++i];
      out += match[Number(digits)] ?? '';
    } else {
      out += ch;
    }
  }
  return out;
}

/** Highest `$n` used in a sink-table, to check it against the pattern's group count. */
export function highestGroupReference(sinkTable: string): number {
  let max = 0;
  for (const m of sinkTable.matchAll(/(\\.)|\$(\d)/g)) if (m[2] !== undefined) max = Math.max(max, Number(m[2]));
  return max;
}

/** Number of capturing groups in a regex source (the engine counts them for us). */
export function countGroups(regex: string): number {
  return new RegExp(`${regex}|`).exec('')!.length - 1;
}
