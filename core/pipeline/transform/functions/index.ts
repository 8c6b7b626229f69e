import { TidemarkError } from '../../../errors';
import { notForMySql } from '../parser';
import type { EvalContext, Typed } from '../evaluator';
import type { Dec } from '../types';
import { keepType, numericArg, unary } from './arithmetic';
import { compileCoalesce, compileIf, compileIfNull, compileNullIf } from './conditional';
import { STRING_FUNCTIONS } from './string';
import { TEMPORAL_FUNCTIONS } from './temporal';

/**
 * The function table: every built-in function Tidemark evaluates, by name, with its arity. A
 * name not in it is refused at validate time (Unsupported, with the column), never at a row.
 */
type Compile = (args: Typed[], ctx: EvalContext) => Typed;
interface FunctionDef {
  arity: [number, number];
  compile: Compile;
}

const decRound = (d: Dec, scale: number, mode: 'floor' | 'ceil' | 'half-up'): Dec => {
  if (scale >= d.s) return d;
  const div = 10n ** BigInt(d.s - scale);
  let q = d.u / div;
  const r = d.u % div;
  if (mode === 'floor' && r < 0n) q -= 1n;
  if (mode === 'ceil' && r > 0n) q += 1n;
  if (mode === 'half-up' && (r < 0n ? -r : r) * 2n >= div) q += d.u < 0n ? -1n : 1n;
  return { u: q * div, s: d.s };
};

/** Java's Math.round-free HALF_UP on doubles, through the decimal text (as BigDecimal.setScale). */
function roundNumber(n: number, digits: number): number {
  if (!Number.isFinite(n)) return n;
  const f = 10 ** digits;
  return (Math.sign(n) * Math.round(Number((Math.abs(n) * f).toPrecision(15)))) / f;
}

const numeric = (name: string, onNumber: (n: number) => number, onBig: (n: bigint) => bigint, onDec: (d: Dec) => Dec): FunctionDef => ({
  arity: [1, 1],
  compile: ([a], ctx) => {
    numericArg(a!, name);
    const f = unary(a!.t, onNumber, onBig, onDec);
    // CEIL and FLOOR of a DECIMAL(p, s) are DECIMAL(p, 0) (Calcite's ARG0_OR_EXACT_NO_SCALE).
    const ty = keepType(a!, ctx);
    return { t: name === 'ABS' || ty.kind !== 'DECIMAL' ? ty : { ...ty, scale: 0 }, ev: (r, m) => f(a!.ev(r, m)) };
  },
});

const NUMERIC_FUNCTIONS: Record<string, FunctionDef> = {
  ABS: numeric('ABS', Math.abs, (n) => (n < 0n ? -n : n), (d) => ({ u: d.u < 0n ? -d.u : d.u, s: d.s })),
  CEIL: numeric('CEIL', Math.ceil, (n) => n, (d) => decRound(d, 0, 'ceil')),
  FLOOR: numeric('FLOOR', Math.floor, (n) => n, (d) => decRound(d, 0, 'floor')),
  ROUND: {
    arity: [1, 2],
    compile: ([a, digits], ctx) => {
      numericArg(a!, 'ROUND');
      if (digits && !(digits.lit && typeof digits.lit.value === 'number')) throw new TidemarkError('InvalidInput', 'ROUND() takes a constant integer number of digits');
      const k = digits ? (digits.lit!.value as number) : 0;
      const pow = 10n ** BigInt(Math.max(-k, 0));
      const f = unary(a!.t, (n) => (a!.t.kind === 'FLOAT' ? roundNumber(n, k) : roundNumber(n, k)), (n) => (k >= 0 ? n : ((n + (n < 0n ? -pow / 2n : pow / 2n)) / pow) * pow), (d) => decRound(d, k, 'half-up'));
      // ROUND(DECIMAL(p, s), k) is DECIMAL(p, min(s, k)).
      const ty = keepType(a!, ctx);
      return { t: ty.kind === 'DECIMAL' ? { ...ty, scale: Math.max(Math.min(ty.scale!, k), 0) } : ty, ev: (r, m) => f(a!.ev(r, m)) };
    },
  },
  MOD: {
    arity: [2, 2],
    compile: (args, ctx) => ({ ...binaryNumeric('%', args, ctx) }),
  },
};
NUMERIC_FUNCTIONS.CEILING = NUMERIC_FUNCTIONS.CEIL!;

function binaryNumeric(op: string, args: Typed[], ctx: EvalContext): Typed {
  // Late import keeps the module graph acyclic for the evaluator.
  return ARITH!(op, args[0]!, args[1]!, ctx);
}
let ARITH: ((op: string, l: Typed, r: Typed, ctx: EvalContext) => Typed) | null = null;
export function registerArithmetic(f: (op: string, l: Typed, r: Typed, ctx: EvalContext) => Typed): void {
  ARITH = f;
}

const CONDITIONAL_FUNCTIONS: Record<string, FunctionDef> = {
  IF: { arity: [3, 3], compile: ([c, a, b], ctx) => compileIf(c!, a!, b!, ctx) },
  COALESCE: { arity: [1, 255], compile: (args, ctx) => compileCoalesce(args, ctx) },
  IFNULL: { arity: [2, 2], compile: ([a, b], ctx) => compileIfNull(a!, b!, ctx) },
  NULLIF: { arity: [2, 2], compile: ([a, b]) => compileNullIf(a!, b!) },
};

export const FUNCTIONS: Record<string, FunctionDef> = { ...NUMERIC_FUNCTIONS, ...STRING_FUNCTIONS, ...TEMPORAL_FUNCTIONS, ...CONDITIONAL_FUNCTIONS };

/** Names Flink CDC has that a MySQL source cannot feed (nested or VARIANT values), with the reason. */
const NOT_FOR_MYSQL: Record<string, string> = {
  PARSE_JSON: 'it builds a VARIANT value, which Tidemark\'s Iceberg sink and a MySQL source do not have',
  TRY_PARSE_JSON: 'it builds a VARIANT value, which Tidemark\'s Iceberg sink and a MySQL source do not have',
  REGEXP_EXTRACT_ALL: 'it returns an ARRAY, which Tidemark\'s Iceberg sink does not write',
  SPLIT: 'it returns an ARRAY, which Tidemark\'s Iceberg sink does not write',
  ARRAY: 'ARRAY values do not come from a MySQL source',
  MAP: 'MAP values do not come from a MySQL source',
  ROW: 'ROW values do not come from a MySQL source',
  CARDINALITY: 'it reads ARRAY or MAP values, which a MySQL source does not produce',
  ARRAY_CONTAINS: 'it reads ARRAY values, which a MySQL source does not produce',
  ARRAY_POSITION: 'it reads ARRAY values, which a MySQL source does not produce',
  ELEMENT: 'it reads ARRAY values, which a MySQL source does not produce',
  GET_JSON_OBJECT: 'it reads VARIANT values, which a MySQL source does not produce',
  AI_EMBEDDING: 'model calls run Java code (pipeline model block), which Tidemark does not run',
  AI_CHAT_PREDICT: 'model calls run Java code (pipeline model block), which Tidemark does not run',
};

/**
 * Checks that a function exists and takes this many arguments (validate time, no types needed).
 * Throws Unsupported for an unknown name, InvalidInput for a wrong argument count.
 */
export function checkCall(name: string, argc: number, col: number): FunctionDef {
  const def = FUNCTIONS[name];
  const at = col > 0 ? ` (column ${col})` : '';
  if (!def) {
    const reason = NOT_FOR_MYSQL[name];
    if (reason) throw notForMySql(`function ${name}()`, reason, col > 0 ? col : undefined);
    throw new TidemarkError('Unsupported', `function ${name}() is not supported in transform expressions: it is not a Flink CDC built-in function, and user-defined functions (Java or Python code) do not run in Tidemark${at}`, { construct: name, column: col });
  }
  const [min, max] = def.arity;
  if (argc < min || argc > max) {
    const expected = min === max ? `${min}` : `${min} to ${max}`;
    throw new TidemarkError('InvalidInput', `${name}() takes ${expected} argument(s), found ${argc}${at}`, { column: col });
  }
  return def;
}

/** Compiles a call to a built-in function; `col` is the 1-based column of its name (for errors). */
export function callFunction(name: string, args: Typed[], ctx: EvalContext, col: number): Typed {
  const def = checkCall(name, args.length, col);
  const at = col > 0 ? ` (column ${col})` : '';
  for (const a of args) {
    if (a.t.kind === 'NESTED' && !a.t.text?.startsWith('INTERVAL')) {
      throw new TidemarkError('Unsupported', `${name}() of a ${a.t.text} value is not supported: a MySQL source has no ${a.t.text?.replace(/[<(].*$/, '')} values${at}`, { construct: name, column: col });
    }
  }
  return def.compile(args, ctx);
}

