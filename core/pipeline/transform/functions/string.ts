import { TidemarkError } from '../../../errors';
import type { EvalContext, Typed } from '../evaluator';
import { BOOLEAN, family, INT, STRING, t, type V } from '../types';
import { dataError, valueToText } from '../values';
import { strict } from './strict';

/**
 * String family (Flink CDC StringFunctions): positions are 1-based and count characters (code
 * points); most functions give NULL for a NULL argument; CONCAT and `||` write NULL as `null`
 * (Java string concatenation), CONCAT_WS skips NULLs. Binary strings work in POSITION, OVERLAY,
 * STARTSWITH, ENDSWITH and TO_BASE64.
 */
type Compile = (args: Typed[], ctx: EvalContext) => Typed;

const chars = (s: string) => Array.from(s);

const text = (v: V, a: Typed): string => valueToText(v, a.t)!;
const int = (v: V): number => Number(typeof v === 'bigint' ? v : Math.trunc(v as number));

function requireFamily(a: Typed, fams: string[], fn: string, what: string): void {
  if (a.t.kind !== 'NULL' && !fams.includes(family(a.t))) throw new TidemarkError('InvalidInput', `${fn}() expects ${what}, found ${a.t.kind}`);
}
const textArgs = (args: Typed[], fn: string, idx: number[]) => idx.forEach((i) => args[i] && requireFamily(args[i]!, ['string'], fn, 'text'));
const intArgs = (args: Typed[], fn: string, idx: number[]) => idx.forEach((i) => args[i] && requireFamily(args[i]!, ['numeric'], fn, 'a number'));

const isBin = (a: Typed) => family(a.t) === 'binary';

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** 1-based position of needle in hay from `from` (1-based); 0 when absent (POSITION/LOCATE/INSTR). */
function position(needle: V, hay: V, from: number): number {
  if (hay instanceof Uint8Array && needle instanceof Uint8Array) {
    if (from < 1) return 0;
    const i = indexOfBytes(hay, needle, from - 1);
    return i < 0 ? 0 : i + 1;
  }
  const h = chars(String(hay));
  const n = chars(String(needle));
  if (from < 1) return 0;
  outer: for (let i = from - 1; i + n.length <= h.length; i++) {
    for (let j = 0; j < n.length; j++) if (h[i + j] !== n[j]) continue outer;
    return i + 1;
  }
  return 0;
}

function substring(s: string, start: number, len: number | null): string {
  if (len !== null && len < 0) {
    throw dataError(`length of 'substring(str, beginIndex, length)' must be >= 0 and Int type, but length = ${len}`);
  }
  const cs = chars(s);
  // SQL: a start before 1 eats into the length; 0 and 1 both start at the first character.
  const from = start > 0 ? start - 1 : start < 0 ? Math.max(cs.length + start, 0) : 0;
  const end = len === null ? cs.length : start > 0 || start < 0 ? from + len : Math.max(len - 1, 0);
  return cs.slice(from, Math.max(from, end)).join('');
}

function trimChars(s: string, set: string, lead: boolean, trail: boolean): string {
  const cs = chars(s);
  const drop = new Set(chars(set));
  let a = 0;
  let b = cs.length;
  if (lead) while (a < b && drop.has(cs[a]!)) a++;
  if (trail) while (b > a && drop.has(cs[b - 1]!)) b--;
  return cs.slice(a, b).join('');
}

function pad(s: string, len: number, fill: string, left: boolean): string | null {
  if (len < 0) return null;
  const cs = chars(s);
  if (cs.length >= len) return cs.slice(0, len).join('');
  const f = chars(fill);
  if (f.length === 0) return null;
  const padding: string[] = [];
  while (padding.length < len - cs.length) padding.push(f[padding.length % f.length]!);
  return left ? padding.join('') + s : s + padding.join('');
}

const javaRegex = (pattern: string): RegExp => {
  try {
    return new RegExp(pattern, 'gu');
  } catch (e) {
    throw dataError(`invalid regular expression ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
};

/** Java's Matcher.replaceAll replacement: `$n` groups, `\` quotes. */
const javaReplacement = (rep: string) => rep.replace(/\\(.)|\$(\d)/g, (_m, q: string | undefined, g: string | undefined) => (q !== undefined ? (q === '$' ? '$$' : q) : `$${g}`));

function base64(v: V, a: Typed): string {
  const bytes = v instanceof Uint8Array ? v : new TextEncoder().encode(text(v, a));
  return Buffer.from(bytes).toString('base64');
}

export const STRING_FUNCTIONS: Record<string, { arity: [number, number]; compile: Compile }> = {
  UPPER: { arity: [1, 1], compile: (a) => (textArgs(a, 'UPPER', [0]), strict(STRING(), a, ([s]) => text(s!, a[0]!).toUpperCase())) },
  LOWER: { arity: [1, 1], compile: (a) => (textArgs(a, 'LOWER', [0]), strict(STRING(), a, ([s]) => text(s!, a[0]!).toLowerCase())) },
  CHAR_LENGTH: { arity: [1, 1], compile: (a) => (textArgs(a, 'CHAR_LENGTH', [0]), strict(INT(), a, ([s]) => chars(text(s!, a[0]!)).length)) },
  TRIM: { arity: [1, 3], compile: (a) => {
    // TRIM(s) or the parser's TRIM(mode, chars, s).
    const [mode, set, s] = a.length === 1 ? [null, null, a[0]!] : [a[0]!, a[1]!, a[2]!];
    textArgs([s], 'TRIM', [0]);
    const m = (mode?.lit?.value as string | undefined) ?? 'BOTH';
    return strict(STRING(), set ? [s, set] : [s], ([v, cs]) => trimChars(text(v!, s), (cs as string | undefined) ?? ' ', m !== 'TRAILING', m !== 'LEADING'));
  } },
  LTRIM: { arity: [1, 2], compile: (a) => (textArgs(a, 'LTRIM', [0, 1]), strict(STRING(), a, ([s, cs]) => trimChars(text(s!, a[0]!), (cs as string | undefined) ?? ' ', true, false))) },
  RTRIM: { arity: [1, 2], compile: (a) => (textArgs(a, 'RTRIM', [0, 1]), strict(STRING(), a, ([s, cs]) => trimChars(text(s!, a[0]!), (cs as string | undefined) ?? ' ', false, true))) },
  BTRIM: { arity: [1, 2], compile: (a) => (textArgs(a, 'BTRIM', [0, 1]), strict(STRING(), a, ([s, cs]) => trimChars(text(s!, a[0]!), (cs as string | undefined) ?? ' ', true, true))) },
  CONCAT: { arity: [1, 255], compile: (a) => ({
    t: STRING(),
    ev: (r, m) => a.map((x) => { const v = x.ev(r, m); return v === null ? 'null' : text(v, x); }).join(''),
  }) },
  CONCAT_WS: { arity: [2, 255], compile: (a) => ({
    t: STRING(),
    ev: (r, m) => {
      const sep = a[0]!.ev(r, m);
      if (sep === null) return null;
      return a.slice(1).map((x) => { const v = x.ev(r, m); return v === null ? null : text(v, x); }).filter((v) => v !== null).join(text(sep, a[0]!));
    },
  }) },
  SUBSTR: { arity: [2, 3], compile: (a) => (textArgs(a, 'SUBSTR', [0]), intArgs(a, 'SUBSTR', [1, 2]), strict(STRING(), a, ([s, from, len]) => substring(text(s!, a[0]!), int(from!), len === undefined ? null : int(len)))) },
  REGEXP_REPLACE: { arity: [3, 3], compile: (a) => (textArgs(a, 'REGEXP_REPLACE', [0, 1, 2]), strict(STRING(), a, ([s, re, rep]) => text(s!, a[0]!).replace(javaRegex(re as string), javaReplacement(rep as string)))) },
  REGEXP_EXTRACT: { arity: [2, 3], compile: (a) => strict(STRING(), a, ([s, re, idx]) => {
    const m = new RegExp(javaRegex(re as string).source, 'u').exec(text(s!, a[0]!));
    return m ? (m[idx === undefined ? 1 : int(idx)] ?? null) : null;
  }) },
  REGEXP_COUNT: { arity: [2, 2], compile: (a) => strict(INT(), a, ([s, re]) => (text(s!, a[0]!).match(javaRegex(re as string)) ?? []).length) },
  REGEXP_INSTR: { arity: [2, 2], compile: (a) => strict(INT(), a, ([s, re]) => {
    const str = text(s!, a[0]!);
    const m = new RegExp(javaRegex(re as string).source, 'u').exec(str);
    return m ? chars(str.slice(0, m.index)).length + 1 : 0;
  }) },
  REGEXP_SUBSTR: { arity: [2, 2], compile: (a) => strict(STRING(), a, ([s, re]) => new RegExp(javaRegex(re as string).source, 'u').exec(text(s!, a[0]!))?.[0] ?? null) },
  POSITION: { arity: [2, 3], compile: (a) => strict(INT(), a, ([n, h, from]) => position(n!, h!, from === undefined ? 1 : int(from))) },
  LOCATE: { arity: [2, 3], compile: (a) => strict(INT(), a, ([n, h, from]) => position(n!, h!, from === undefined ? 1 : int(from))) },
  INSTR: { arity: [2, 2], compile: (a) => strict(INT(), a, ([h, n]) => position(n!, h!, 1)) },
  LPAD: { arity: [3, 3], compile: (a) => strict(STRING(), a, ([s, n, f]) => pad(text(s!, a[0]!), int(n!), text(f!, a[2]!), true)) },
  RPAD: { arity: [3, 3], compile: (a) => strict(STRING(), a, ([s, n, f]) => pad(text(s!, a[0]!), int(n!), text(f!, a[2]!), false)) },
  REPLACE: { arity: [3, 3], compile: (a) => strict(STRING(), a, ([s, from, to]) => text(s!, a[0]!).split(text(from!, a[1]!)).join(text(to!, a[2]!))) },
  REPEAT: { arity: [2, 2], compile: (a) => strict(STRING(), a, ([s, n]) => text(s!, a[0]!).repeat(Math.max(int(n!), 0))) },
  LEFT: { arity: [2, 2], compile: (a) => strict(STRING(), a, ([s, n]) => chars(text(s!, a[0]!)).slice(0, Math.max(int(n!), 0)).join('')) },
  RIGHT: { arity: [2, 2], compile: (a) => strict(STRING(), a, ([s, n]) => { const cs = chars(text(s!, a[0]!)); const k = Math.max(int(n!), 0); return cs.slice(Math.max(cs.length - k, 0)).join(''); }) },
  OVERLAY: { arity: [3, 4], compile: (a) => {
    const binary = isBin(a[0]!);
    return strict(binary ? t('VARBINARY', true, 2147483647) : STRING(), a, ([s, p, from, len]) => {
      if (s instanceof Uint8Array && p instanceof Uint8Array) {
        const start = int(from!) - 1;
        const n = len === undefined ? p.length : int(len);
        return Buffer.concat([s.subarray(0, start), p, s.subarray(Math.min(start + n, s.length))]);
      }
      const cs = chars(text(s!, a[0]!));
      const ps = chars(text(p!, a[1]!));
      const start = int(from!) - 1;
      const n = len === undefined ? ps.length : int(len);
      return [...cs.slice(0, start), ...ps, ...cs.slice(Math.min(start + n, cs.length))].join('');
    });
  } },
  STARTSWITH: { arity: [2, 2], compile: (a) => strict(BOOLEAN(), a, ([s, p]) => (s instanceof Uint8Array && p instanceof Uint8Array ? indexOfBytes(s.subarray(0, p.length), p, 0) === 0 : text(s!, a[0]!).startsWith(text(p!, a[1]!)))) },
  ENDSWITH: { arity: [2, 2], compile: (a) => strict(BOOLEAN(), a, ([s, p]) => (s instanceof Uint8Array && p instanceof Uint8Array ? p.length <= s.length && indexOfBytes(s.subarray(s.length - p.length), p, 0) === 0 : text(s!, a[0]!).endsWith(text(p!, a[1]!)))) },
  TO_BASE64: { arity: [1, 1], compile: (a) => strict(STRING(), a, ([s]) => base64(s!, a[0]!)) },
  FROM_BASE64: { arity: [1, 1], compile: (a) => strict(STRING(), a, ([s]) => Buffer.from(text(s!, a[0]!), 'base64').toString('utf8')) },
  FROM_BASE64_BINARY: { arity: [1, 1], compile: (a) => strict(t('VARBINARY', true, 65536), a, ([s]) => new Uint8Array(Buffer.from(text(s!, a[0]!), 'base64'))) },
  UUID: { arity: [0, 0], compile: () => ({ t: STRING(false), ev: () => crypto.randomUUID() }) },
};
STRING_FUNCTIONS.CHARACTER_LENGTH = STRING_FUNCTIONS.CHAR_LENGTH!;
STRING_FUNCTIONS.SUBSTRING = STRING_FUNCTIONS.SUBSTR!;
