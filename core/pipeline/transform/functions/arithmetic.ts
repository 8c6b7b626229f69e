import { TidemarkError } from '../../../errors';
import type { EvalContext, Typed } from '../evaluator';
import { asDecimalType, isDec, isNumeric, t, withNull, type Dec, type FlinkType, type V } from '../types';
import { dataError, decFromInt, decFromNumber, decToNumber, fitDecimal, parseDec, rescale } from '../values';
import { temporalPlus } from './temporal';

/**
 * Arithmetic family: + - * / %, unary minus, ABS, CEIL, FLOOR, ROUND, and the other numeric
 * functions. Types follow Flink CDC (ArithmeticFunctions): TINYINT/SMALLINT/INT operands give INT,
 * BIGINT gives BIGINT, then DECIMAL, FLOAT, DOUBLE by width; integers wrap around at 32/64 bits and
 * divide with truncation as Java does; integer division by zero fails the row.
 */
const RANK: Record<string, number> = { TINYINT: 1, SMALLINT: 1, INT: 1, BIGINT: 2, DECIMAL: 3, FLOAT: 4, DOUBLE: 5 };

export function toNumber(v: V): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (isDec(v)) return decToNumber(v);
  if (typeof v === 'string') {
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  throw dataError(`cannot use ${JSON.stringify(v)} as a number`);
}

export function toBigInt(v: V): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (isDec(v)) return v.u / 10n ** BigInt(v.s);
  throw dataError(`cannot use ${JSON.stringify(v)} as a BIGINT`);
}

export function toDec(v: V): Dec {
  if (isDec(v)) return v;
  if (typeof v === 'bigint') return decFromInt(v);
  if (typeof v === 'number') return Number.isInteger(v) ? decFromInt(v) : decFromNumber(v);
  if (typeof v === 'string') {
    const d = parseDec(v);
    if (d) return d;
  }
  throw dataError(`cannot use ${JSON.stringify(v)} as a DECIMAL`);
}

function requireNumeric(a: Typed, op: string): void {
  if (a.t.kind !== 'NULL' && !isNumeric(a.t)) throw new TidemarkError('InvalidInput', `${op} expects numbers, found ${a.t.kind}`);
}

/** The largest DECIMAL precision of the decimal precision mode (FlinkCdcTypeSystem). */
export const maxPrecision = (ctx: EvalContext): number => (ctx.decimalMode === 'up_to_19' ? 19 : 38);

/** A DECIMAL operand as Calcite sees it: integers widened, precision and scale within the mode's maximum. */
export function decimalOperand(ty: FlinkType, ctx: EvalContext): FlinkType {
  const d = asDecimalType(ty);
  if (d.kind !== 'DECIMAL') return d;
  const max = maxPrecision(ctx);
  return t('DECIMAL', d.nullable, Math.min(d.precision!, max), Math.min(d.scale!, max));
}

/** The result type of a binary arithmetic operator (Calcite's RelDataTypeSystem rules for DECIMAL). */
function resultType(op: string, a: FlinkType, b: FlinkType, ctx: EvalContext): FlinkType {
  const nullable = a.nullable || b.nullable;
  const ka = a.kind === 'NULL' ? b : a;
  const kb = b.kind === 'NULL' ? a : b;
  const top = RANK[ka.kind]! >= RANK[kb.kind]! ? ka : kb;
  if (top.kind === 'DOUBLE' || top.kind === 'FLOAT') return t(top.kind, nullable);
  if (top.kind !== 'DECIMAL') return t(RANK[top.kind] === 2 ? 'BIGINT' : 'INT', nullable);
  const x = decimalOperand(ka, ctx);
  const y = decimalOperand(kb, ctx);
  const [p1, s1, p2, s2] = [x.precision!, x.scale!, y.precision!, y.scale!];
  const max = maxPrecision(ctx);
  let p: number;
  let s: number;
  switch (op) {
    case '+': case '-': s = Math.max(s1, s2); p = Math.min(Math.max(p1 - s1, p2 - s2) + s + 1, max); break;
    case '*': s = Math.min(s1 + s2, max); p = Math.min(p1 + p2, max); break;
    case '/': {
      const whole = Math.min(p1 - s1 + s2, max);
      s = Math.min(Math.max(6, s1 + p2 + 1), max - whole, max);
      p = whole + s;
      break;
    }
    default: s = Math.max(s1, s2); p = Math.min(Math.min(p1 - s1, p2 - s2) + s, max);
  }
  return t('DECIMAL', nullable, p, s);
}

function divideByZero(): TidemarkError {
  return dataError('division by zero (java.lang.ArithmeticException: / by zero)');
}

export function arithmetic(op: string, l: Typed, r: Typed, ctx: EvalContext): Typed {
  if (op === '+' || op === '-') {
    const temporal = temporalPlus(op, l, r);
    if (temporal) return temporal;
  }
  requireNumeric(l, op);
  requireNumeric(r, op);
  const ty = resultType(op, l.t, r.t, ctx);
  const f = binary(op, ty);
  return { t: ty, ev: (row, m) => {
    const a = l.ev(row, m);
    const b = r.ev(row, m);
    return a === null || b === null ? null : f(a, b);
  } };
}

function binary(op: string, ty: FlinkType): (a: V, b: V) => V {
  switch (ty.kind) {
    case 'INT':
      return (a, b) => {
        const x = toNumber(a) | 0;
        const y = toNumber(b) | 0;
        switch (op) {
          case '+': return (x + y) | 0;
          case '-': return (x - y) | 0;
          case '*': return Math.imul(x, y);
          case '/': if (y === 0) throw divideByZero(); return (x / y) | 0;
          default: if (y === 0) throw divideByZero(); return x % y;
        }
      };
    case 'BIGINT':
      return (a, b) => {
        const x = toBigInt(a);
        const y = toBigInt(b);
        switch (op) {
          case '+': return BigInt.asIntN(64, x + y);
          case '-': return BigInt.asIntN(64, x - y);
          case '*': return BigInt.asIntN(64, x * y);
          case '/': if (y === 0n) throw divideByZero(); return BigInt.asIntN(64, x / y);
          default: if (y === 0n) throw divideByZero(); return x % y;
        }
      };
    case 'FLOAT':
    case 'DOUBLE': {
      const round = ty.kind === 'FLOAT' ? Math.fround : (n: number) => n;
      return (a, b) => {
        const x = round(toNumber(a));
        const y = round(toNumber(b));
        switch (op) {
          case '+': return round(x + y);
          case '-': return round(x - y);
          case '*': return round(x * y);
          case '/': return round(x / y);
          default: return round(x % y);
        }
      };
    }
    default:
      return (a, b) => {
        const x = toDec(a);
        const y = toDec(b);
        const s = Math.max(x.s, y.s);
        const xu = rescale(x, s).u;
        const yu = rescale(y, s).u;
        let out: Dec;
        switch (op) {
          case '+': out = { u: xu + yu, s }; break;
          case '-': out = { u: xu - yu, s }; break;
          case '*': out = { u: x.u * y.u, s: x.s + y.s }; break;
          case '/': {
            // BigDecimal.divide(rhs, RoundingMode.DOWN) keeps the dividend's scale; the type's scale then pads it.
            if (y.u === 0n) throw divideByZero();
            out = { u: (x.u * 10n ** BigInt(y.s)) / y.u, s: x.s };
            break;
          }
          default:
            if (yu === 0n) throw divideByZero();
            out = { u: xu % yu, s };
        }
        return fitDecimal(out, ty.precision!, ty.scale!);
      };
  }
}

export function negate(a: Typed): Typed {
  if (a.lit && a.t.kind === 'DECIMAL') {
    const d = a.lit.value as Dec;
    const v = { u: -d.u, s: d.s };
    return { t: a.t, ev: () => v, lit: { value: v } };
  }
  requireNumeric(a, 'unary -');
  const f = unary(a.t, (n) => -n, (n) => -n, (d) => ({ u: -d.u, s: d.s }));
  const out: Typed = { t: a.t, ev: (r, m) => f(a.ev(r, m)) };
  if (a.lit) out.lit = { value: f(a.lit.value) };
  return out;
}

/** Applies a numeric function keeping the operand's type (ABS, CEIL, FLOOR, ROUND, unary minus). */
export function unary(ty: FlinkType, onNumber: (n: number) => number, onBig: (n: bigint) => bigint, onDec: (d: Dec) => Dec): (v: V) => V {
  return (v) => {
    if (v === null) return null;
    switch (ty.kind) {
      case 'TINYINT': return (onNumber(v as number) << 24) >> 24;
      case 'SMALLINT': return (onNumber(v as number) << 16) >> 16;
      case 'INT': return onNumber(v as number) | 0;
      case 'BIGINT': return BigInt.asIntN(64, onBig(v as bigint));
      case 'FLOAT': return Math.fround(onNumber(v as number));
      case 'DOUBLE': return onNumber(v as number);
      case 'DECIMAL': return onDec(v as Dec);
    }
    return onNumber(toNumber(v));
  };
}

export function numericArg(a: Typed, fn: string): void {
  requireNumeric(a, `${fn}()`);
}

export const keepType = (a: Typed, ctx: EvalContext): FlinkType => (a.t.kind === 'NULL' ? t('INT') : a.t.kind === 'DECIMAL' ? withNull(decimalOperand(a.t, ctx), true) : withNull(a.t, true));
