import { TidemarkError } from '../../../errors';
import type { Typed } from '../evaluator';
import { BOOLEAN, family, isDec, isNumeric, isZoned, t, type FlinkType, type V } from '../types';
import { dataError, decCompare, decFromInt, floorDiv, NANOS_PER_DAY, parseDec, parseTimeText, parseTimestampText, wallToInstant } from '../values';

/**
 * Comparison family: = <> < <= > >=, IS [NOT] DISTINCT FROM, [NOT] IN, [NOT] BETWEEN, [NOT] LIKE,
 * [NOT] SIMILAR TO. Flink CDC (ComparisonFunctions): an ordering or equality with a NULL operand is
 * FALSE (so `<>` is TRUE); numbers of any width compare by value.
 */
function comparable(a: FlinkType, b: FlinkType, op: string): void {
  if (a.kind === 'NULL' || b.kind === 'NULL') return;
  const fa = family(a);
  const fb = family(b);
  const textNumber = (fa === 'string' && fb === 'numeric') || (fa === 'numeric' && fb === 'string');
  const temporalText = fa === 'string' || fb === 'string';
  if (fa === fb || textNumber || (temporalText && ['timestamp', 'DATE', 'TIME'].includes(fa === 'string' ? fb : fa))) return;
  throw new TidemarkError('InvalidInput', `cannot compare ${a.kind} with ${b.kind} in ${op}`);
}

/** Instant ns of a timestamp-family value, for comparing TIMESTAMP_TZ/LTZ/TIMESTAMP together. */
function timestampNs(v: V): bigint {
  return isZoned(v) ? wallToInstant(v.n, v.z) : (v as bigint);
}

/** Text compared with a DATE, TIME or timestamp is read as one (Calcite casts the literal). */
function textAsTemporal(text: string, ty: FlinkType): V {
  const parsed = ty.kind === 'TIME' ? parseTimeText(text) : parseTimestampText(text);
  if (parsed === null) throw dataError(`cannot compare ${JSON.stringify(text)} with a ${ty.kind}: expected ${ty.kind === 'TIME' ? 'HH:mm:ss' : 'yyyy-MM-dd[ HH:mm:ss]'} text`);
  if (ty.kind === 'DATE') return Number(floorDiv(parsed as bigint, NANOS_PER_DAY));
  return parsed;
}

/** -1, 0 or 1 for two non-null values of comparable types. */
export function compareValues(a: V, at: FlinkType, b: V, bt: FlinkType): number {
  const temporal = (ty: FlinkType) => ['DATE', 'TIME'].includes(ty.kind) || family(ty) === 'timestamp';
  if (typeof a === 'string' && temporal(bt)) return compareValues(textAsTemporal(a, bt), bt.kind === 'TIMESTAMP_TZ' ? t('TIMESTAMP') : bt, b, bt);
  if (typeof b === 'string' && temporal(at)) return compareValues(a, at, textAsTemporal(b, at), at.kind === 'TIMESTAMP_TZ' ? t('TIMESTAMP') : at);
  if (isNumeric(at) || isNumeric(bt)) {
    const da = toDecimalOrNumber(a);
    const db = toDecimalOrNumber(b);
    if (typeof da === 'number' || typeof db === 'number') {
      const x = typeof da === 'number' ? da : Number(da.u) / 10 ** da.s;
      const y = typeof db === 'number' ? db : Number(db.u) / 10 ** db.s;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return decCompare(da, db);
  }
  if (family(at) === 'timestamp' && family(bt) === 'timestamp') {
    const x = at.kind === bt.kind && !isZoned(a) ? (a as bigint) : timestampNs(a);
    const y = at.kind === bt.kind && !isZoned(b) ? (b as bigint) : timestampNs(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'number' && typeof b === 'number') return Math.sign(a - b);
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return Math.sign(a.length - b.length);
  }
  throw dataError(`cannot compare ${String(a)} with ${String(b)}`);
}

function toDecimalOrNumber(v: V): ReturnType<typeof decFromInt> | number {
  if (isDec(v)) return v;
  if (typeof v === 'bigint') return decFromInt(v);
  if (typeof v === 'number') return Number.isInteger(v) ? decFromInt(v) : v;
  if (typeof v === 'string') {
    const d = parseDec(v);
    if (d) return d;
  }
  if (typeof v === 'boolean') return decFromInt(v ? 1 : 0);
  throw dataError(`cannot use ${JSON.stringify(v)} as a number in a comparison`);
}

export function compareOp(op: string, l: Typed, r: Typed): Typed {
  comparable(l.t, r.t, op);
  const test = ((): ((c: number) => boolean) => {
    switch (op) {
      case '=': case '<>': return (c) => c === 0;
      case '<': return (c) => c < 0;
      case '<=': return (c) => c <= 0;
      case '>': return (c) => c > 0;
      default: return (c) => c >= 0;
    }
  })();
  const negated = op === '<>';
  return {
    t: BOOLEAN(),
    ev: (row, m) => {
      const a = l.ev(row, m);
      const b = r.ev(row, m);
      if (a === null || b === null) return negated;
      return test(compareValues(a, l.t, b, r.t)) !== negated;
    },
  };
}

export function distinctFrom(l: Typed, r: Typed, not: boolean): Typed {
  comparable(l.t, r.t, 'IS DISTINCT FROM');
  return {
    t: BOOLEAN(),
    ev: (row, m) => {
      const a = l.ev(row, m);
      const b = r.ev(row, m);
      const distinct = a === null || b === null ? a !== b : compareValues(a, l.t, b, r.t) !== 0;
      return distinct !== not;
    },
  };
}

export function inList(v: Typed, list: Typed[], not: boolean): Typed {
  for (const x of list) comparable(v.t, x.t, 'IN');
  return {
    t: BOOLEAN(),
    ev: (row, m) => {
      const a = v.ev(row, m);
      let found = false;
      if (a !== null) {
        for (const item of list) {
          const b = item.ev(row, m);
          if (b !== null && compareValues(a, v.t, b, item.t) === 0) {
            found = true;
            break;
          }
        }
      }
      return found !== not;
    },
  };
}

const regexCache = new Map<string, RegExp>();
function cached(key: string, build: () => RegExp): RegExp {
  let re = regexCache.get(key);
  if (!re) {
    if (regexCache.size > 1000) regexCache.clear();
    re = build();
    regexCache.set(key, re);
  }
  return re;
}

const quote = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** SQL LIKE pattern → anchored regex: `%` any run, `_` one character, `escape` quotes the next one. */
function likeRegex(pattern: string, escape: string): RegExp {
  return cached(`L${escape}\u0000${pattern}`, () => {
    let src = '';
    const chars = Array.from(pattern);
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (ch === escape) {
        const next = chars[++i];
        if (next === undefined) throw dataError(`LIKE pattern ${JSON.stringify(pattern)} ends with its escape character`);
        src += quote(next);
      } else if (ch === '%') src += '.*';
      else if (ch === '_') src += '.';
      else src += quote(ch);
    }
    return new RegExp(`^${src}$`, 'su');
  });
}

/** SQL SIMILAR TO pattern → anchored regex: LIKE's wildcards plus regex alternation, groups, classes and repeats. */
function similarRegex(pattern: string, escape: string | null): RegExp {
  return cached(`S${escape ?? ''}\u0000${pattern}`, () => {
    let src = '';
    const chars = Array.from(pattern);
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (escape !== null && ch === escape) {
        const next = chars[++i];
        if (next === undefined) throw dataError(`SIMILAR TO pattern ${JSON.stringify(pattern)} ends with its escape character`);
        src += quote(next);
      } else if (ch === '%') src += '.*';
      else if (ch === '_') src += '.';
      else if ('|()[]*+?{}^-,'.includes(ch)) src += ch;
      else src += quote(ch);
    }
    try {
      return new RegExp(`^(?:${src})$`, 'su');
    } catch (e) {
      throw dataError(`SIMILAR TO pattern ${JSON.stringify(pattern)} is not a valid pattern: ${(e as Error).message}`);
    }
  });
}

function requireText(a: Typed, where: string): void {
  if (a.t.kind !== 'NULL' && family(a.t) !== 'string') throw new TidemarkError('InvalidInput', `${where} expects text, found ${a.t.kind}`);
}

/**
 * A pattern predicate (LIKE, SIMILAR TO) of text operands, checked when compiled: NULL in any
 * operand gives NULL; an ESCAPE must be one character. `match` gets the escape, or null without one.
 */
function patternOp(name: string, v: Typed, pattern: Typed, escape: Typed | null, not: boolean, match: (s: string, p: string, esc: string | null) => boolean): Typed {
  requireText(v, name);
  requireText(pattern, name);
  if (escape) requireText(escape, 'ESCAPE');
  return {
    t: BOOLEAN(),
    ev: (row, m) => {
      const s = v.ev(row, m);
      const p = pattern.ev(row, m);
      const esc = escape ? escape.ev(row, m) : '';
      if (s === null || p === null || esc === null) return null;
      if (escape && Array.from(esc as string).length !== 1) throw dataError(`ESCAPE must be one character, found ${JSON.stringify(esc)}`);
      return match(s as string, p as string, escape ? (esc as string) : null) !== not;
    },
  };
}

/**
 * LIKE: without ESCAPE, Flink CDC matches string2 as a Java regular expression anywhere in
 * string1 (StringFunctions.like → Matcher.find); with ESCAPE it is SQL LIKE. NULL gives NULL.
 */
export function likeOp(v: Typed, pattern: Typed, escape: Typed | null, not: boolean): Typed {
  return patternOp('LIKE', v, pattern, escape, not, (s, p, esc) => {
    if (esc !== null) return likeRegex(p, esc).test(s);
    let re: RegExp;
    try {
      re = cached(`R\u0000${p}`, () => new RegExp(p, 'u'));
    } catch (e) {
      throw dataError(`LIKE pattern ${JSON.stringify(p)} is not a valid regular expression: ${(e as Error).message}`);
    }
    return re.test(s);
  });
}

/** SIMILAR TO: SQL's pattern (similarRegex), matched against the whole text. NULL gives NULL. */
export function similarOp(v: Typed, pattern: Typed, escape: Typed | null, not: boolean): Typed {
  return patternOp('SIMILAR TO', v, pattern, escape, not, (s, p, esc) => similarRegex(p, esc).test(s));
}
