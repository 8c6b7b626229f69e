import { TidemarkError } from '../errors';
import type { BinaryOp, Expr } from './transform-parser';

/**
 * Evaluation of parsed transform expressions over one row.
 *
 * Values are the CDC source's canonical column values (core/cdc ColumnValue): boolean, number
 * (int/float/double, and date as days), bigint (long, time, timestamps), string (text and
 * decimals as plain decimal text), Uint8Array (binary), null.
 *
 * NULL semantics are SQL's three-valued logic (Flink SQL semantics): comparisons, arithmetic and
 * string functions with a NULL operand give NULL; AND/OR/NOT follow the truth tables (FALSE AND
 * NULL = FALSE, TRUE OR NULL = TRUE, NOT NULL = NULL); a filter keeps a row only when TRUE.
 * Flink CDC's legacy semantics instead make `x > 1` FALSE when x is NULL, which differs only under
 * NOT: `NOT (x > 1)` keeps NULL rows there and drops them here (README.md).
 */
export type Value = null | boolean | number | bigint | string | Uint8Array;
export type Row = Record<string, Value>;

/** Per-row metadata, as Flink CDC exposes it to transforms. */
export interface RowMeta {
  /** MySQL has no namespace level: null (Flink CDC TableId(schema, table)). */
  namespaceName: string | null;
  /** The MySQL database. */
  schemaName: string | null;
  tableName: string;
  /** `+I` insert, `-U` update before, `+U` update after, `-D` delete (Flink RowKind). */
  dataEventType: '+I' | '-U' | '+U' | '-D';
  /** Source commit time in ms since the epoch (metadata.list: op_ts); null when not captured. */
  opTs: number | null;
}

export const METADATA_COLUMNS = ['__namespace_name__', '__schema_name__', '__table_name__', '__data_event_type__', 'op_ts'] as const;

export type Evaluator = (row: Row, meta: RowMeta) => Value;

function dataError(message: string): TidemarkError {
  return new TidemarkError('DataInvalid', message);
}

function show(v: Value): string {
  if (typeof v === 'string') return `'${v}'`;
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return String(v);
}

function readColumn(name: string): Evaluator {
  switch (name) {
    case '__namespace_name__': return (_r, m) => m.namespaceName;
    case '__schema_name__': return (_r, m) => m.schemaName;
    case '__table_name__': return (_r, m) => m.tableName;
    case '__data_event_type__': return (_r, m) => m.dataEventType;
    case 'op_ts': return (_r, m) => m.opTs;
  }
  return (row, meta) => {
    if (Object.prototype.hasOwnProperty.call(row, name)) return row[name]!;
    // MySQL column names are case-insensitive; accept `ID` for a column `id`.
    const lower = name.toLowerCase();
    const hit = Object.keys(row).find((k) => k.toLowerCase() === lower);
    if (hit !== undefined) return row[hit]!;
    throw dataError(`unknown column ${JSON.stringify(name)} in ${meta.schemaName ?? ''}.${meta.tableName} (columns: ${Object.keys(row).join(', ')})`);
  };
}

const NUMERIC_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A numeric operand: number or bigint; decimal text (how decimals arrive) becomes a number. */
function toNumeric(v: Value, op: string): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'string' && NUMERIC_TEXT.test(v)) return Number(v);
  throw dataError(`cannot use ${show(v)} as a number in ${op}`);
}

const isIntegral = (v: number | bigint) => typeof v === 'bigint' || Number.isInteger(v);

/**
 * Arithmetic keeps 64-bit integers exact: when either side is a bigint and the other integral,
 * the result is a bigint (and `/` truncates like SQL integer division). Otherwise it is a double.
 */
function arithmetic(op: string, a: number | bigint, b: number | bigint): number | bigint {
  if ((typeof a === 'bigint' || typeof b === 'bigint') && isIntegral(a) && isIntegral(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    if ((op === '/' || op === '%') && y === 0n) throw dataError(`division by zero in ${x} ${op} ${y}`);
    switch (op) {
      case '+': return x + y;
      case '-': return x - y;
      case '*': return x * y;
      case '/': return x / y;
      default: return x % y;
    }
  }
  const x = Number(a);
  const y = Number(b);
  if ((op === '/' || op === '%') && y === 0) throw dataError(`division by zero in ${x} ${op} ${y}`);
  switch (op) {
    case '+': return x + y;
    case '-': return x - y;
    case '*': return x * y;
    case '/': return x / y;
    default: return x % y;
  }
}

function toText(v: Value, op: string): string {
  if (v instanceof Uint8Array) throw dataError(`cannot use binary value ${show(v)} as text in ${op}`);
  return String(v);
}

/** SQL comparison: -1, 0, 1. Numbers, bigints and decimal text compare numerically. */
export function compareValues(a: Exclude<Value, null>, b: Exclude<Value, null>, op: string): number {
  const numA = typeof a === 'number' || typeof a === 'bigint';
  const numB = typeof b === 'number' || typeof b === 'bigint';
  if (numA || numB) {
    const x = toNumeric(a, op);
    const y = toNumeric(b, op);
    if (isIntegral(x) && isIntegral(y)) {
      const bx = BigInt(x);
      const by = BigInt(y);
      return bx < by ? -1 : bx > by ? 1 : 0;
    }
    return Number(x) < Number(y) ? -1 : Number(x) > Number(y) ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
    return Math.sign(a.length - b.length);
  }
  throw dataError(`cannot compare ${show(a)} with ${show(b)} in ${op}`);
}

function compare(op: BinaryOp, a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  const c = compareValues(a, b, op);
  switch (op) {
    case '=': return c === 0;
    case '<>': return c !== 0;
    case '<': return c < 0;
    case '<=': return c <= 0;
    case '>': return c > 0;
    default: return c >= 0;
  }
}

function toTruth(v: Value, where: string): boolean | null {
  if (v === null || typeof v === 'boolean') return v;
  throw dataError(`expected TRUE, FALSE or NULL in ${where}, found ${show(v)}`);
}

/** LIKE pattern → anchored regex: `%` any run, `_` one character, `escape` quotes the next one. */
function likeRegex(pattern: string, escape: string | null): RegExp {
  let src = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (escape !== null && ch === escape) {
      const nextCh = pattern[++i];
      if (nextCh === undefined) throw dataError(`LIKE pattern ${show(pattern)} ends with its escape character`);
      src += nextCh.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (ch === '%') src += '.*';
    else if (ch === '_') src += '.';
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, 'su');
}

function callFunction(name: string, args: Value[]): Value {
  if (name === 'COALESCE') return args.find((a) => a !== null) ?? null;
  if (args.some((a) => a === null)) return null; // every other supported function is NULL-strict
  const [a, b, c] = args as Exclude<Value, null>[];
  switch (name) {
    case 'UPPER': return toText(a!, name).toUpperCase();
    case 'LOWER': return toText(a!, name).toLowerCase();
    case 'TRIM': return toText(a!, name).trim();
    case 'CHAR_LENGTH':
    case 'CHARACTER_LENGTH': return Array.from(toText(a!, name)).length;
    case 'CONCAT': return args.map((v) => toText(v, name)).join('');
    case 'SUBSTR':
    case 'SUBSTRING': {
      // SQL positions are 1-based; a length runs to the end when omitted.
      const chars = Array.from(toText(a!, name));
      const start = Number(toNumeric(b!, name));
      const from = Math.max(start - 1, 0);
      const len = c === undefined ? chars.length : Number(toNumeric(c, name)) + Math.min(start - 1, 0);
      return chars.slice(from, from + Math.max(len, 0)).join('');
    }
    case 'ABS': {
      const n = toNumeric(a!, name);
      return typeof n === 'bigint' ? (n < 0n ? -n : n) : Math.abs(n);
    }
    case 'CEIL':
    case 'CEILING': {
      const n = toNumeric(a!, name);
      return typeof n === 'bigint' ? n : Math.ceil(n);
    }
    case 'FLOOR': {
      const n = toNumeric(a!, name);
      return typeof n === 'bigint' ? n : Math.floor(n);
    }
    case 'ROUND': {
      const n = toNumeric(a!, name);
      if (typeof n === 'bigint') return n;
      const digits = b === undefined ? 0 : Number(toNumeric(b, name));
      const f = 10 ** digits;
      // SQL rounds half away from zero; Math.round rounds half toward +infinity.
      return (Math.sign(n) * Math.round(Math.abs(n) * f)) / f;
    }
  }
  throw new TidemarkError('Internal', `function ${name} has no evaluator`);
}

/** Compiles an expression tree into a closure; the tree is walked once, not per row. */
export function compileExpr(e: Expr): Evaluator {
  switch (e.k) {
    case 'lit': {
      const v = e.value;
      return () => v;
    }
    case 'col':
      return readColumn(e.name);
    case 'neg': {
      const f = compileExpr(e.e);
      return (r, m) => {
        const v = f(r, m);
        if (v === null) return null;
        const n = toNumeric(v, 'unary -');
        return typeof n === 'bigint' ? -n : -n;
      };
    }
    case 'not': {
      const f = compileExpr(e.e);
      return (r, m) => {
        const v = toTruth(f(r, m), 'NOT');
        return v === null ? null : !v;
      };
    }
    case 'bin': {
      const l = compileExpr(e.l);
      const rr = compileExpr(e.r);
      const op = e.op;
      if (op === 'AND') {
        return (r, m) => {
          const a = toTruth(l(r, m), 'AND');
          if (a === false) return false;
          const b = toTruth(rr(r, m), 'AND');
          if (b === false) return false;
          return a === null || b === null ? null : true;
        };
      }
      if (op === 'OR') {
        return (r, m) => {
          const a = toTruth(l(r, m), 'OR');
          if (a === true) return true;
          const b = toTruth(rr(r, m), 'OR');
          if (b === true) return true;
          return a === null || b === null ? null : false;
        };
      }
      if (op === '||') {
        return (r, m) => {
          const a = l(r, m);
          const b = rr(r, m);
          return a === null || b === null ? null : toText(a, '||') + toText(b, '||');
        };
      }
      if (['+', '-', '*', '/', '%'].includes(op)) {
        return (r, m) => {
          const a = l(r, m);
          const b = rr(r, m);
          return a === null || b === null ? null : arithmetic(op, toNumeric(a, op), toNumeric(b, op));
        };
      }
      return (r, m) => compare(op, l(r, m), rr(r, m));
    }
    case 'isnull': {
      const f = compileExpr(e.e);
      return (r, m) => (f(r, m) === null) !== e.not;
    }
    case 'istruth': {
      const f = compileExpr(e.e);
      return (r, m) => (toTruth(f(r, m), 'IS') === e.value) !== e.not;
    }
    case 'in': {
      const f = compileExpr(e.e);
      const list = e.list.map(compileExpr);
      return (r, m) => {
        const v = f(r, m);
        if (v === null) return null;
        let sawNull = false;
        for (const item of list) {
          const eq = compare('=', v, item(r, m));
          if (eq === true) return !e.not;
          if (eq === null) sawNull = true;
        }
        return sawNull ? null : e.not;
      };
    }
    case 'like': {
      const f = compileExpr(e.e);
      const p = compileExpr(e.pattern);
      const esc = e.escape ? compileExpr(e.escape) : null;
      return (r, m) => {
        const v = f(r, m);
        const pattern = p(r, m);
        const escape = esc ? esc(r, m) : null;
        if (v === null || pattern === null || (esc && escape === null)) return null;
        const escText = escape === null ? null : toText(escape, 'ESCAPE');
        if (escText !== null && Array.from(escText).length !== 1) throw dataError(`ESCAPE must be one character, found ${show(escText)}`);
        return likeRegex(toText(pattern, 'LIKE'), escText).test(toText(v, 'LIKE')) !== e.not;
      };
    }
    case 'between': {
      const f = compileExpr(e.e);
      const lo = compileExpr(e.lo);
      const hi = compileExpr(e.hi);
      return (r, m) => {
        const v = f(r, m);
        const a = compare('>=', v, lo(r, m));
        const b = compare('<=', v, hi(r, m));
        const both = a === false || b === false ? false : a === null || b === null ? null : true;
        return both === null ? null : both !== e.not;
      };
    }
    case 'call': {
      const args = e.args.map(compileExpr);
      return (r, m) => callFunction(e.name, args.map((a) => a(r, m)));
    }
  }
}
