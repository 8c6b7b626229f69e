import { TidemarkError } from '../../../errors';
import type { EvalContext, Typed } from '../evaluator';
import { leastRestrictive, withNull, type FlinkType, type V } from '../types';
import { compareValues } from './comparison';
import { coerce } from './casting';

/**
 * Conditional family: CASE … END (simple and searched), IF, COALESCE, IFNULL, NULLIF. The result
 * type is the least restrictive of the branches (Calcite's), nullable as Flink CDC reports it.
 */
function commonType(branches: Typed[], where: string): FlinkType {
  const ty = leastRestrictive(branches.map((b) => b.t));
  if (!ty) throw new TidemarkError('InvalidInput', `${where} branches have types that do not mix: ${branches.map((b) => b.t.kind).join(', ')}`);
  return ty;
}

export function compileCase(operand: Typed | null, whens: { when: Typed[]; then: Typed }[], otherwise: Typed | null, ctx: EvalContext): Typed {
  const branches = [...whens.map((w) => w.then), ...(otherwise ? [otherwise] : [])];
  const ty = withNull(commonType(branches, 'CASE'), true);
  const thens = whens.map((w) => coerce(w.then, ty, ctx));
  const other = otherwise ? coerce(otherwise, ty, ctx) : null;
  const tests = whens.map((w) => w.when.map((c) => {
    if (!operand) return (r: Parameters<Typed['ev']>[0], m: Parameters<Typed['ev']>[1]) => c.ev(r, m) === true;
    return (r: Parameters<Typed['ev']>[0], m: Parameters<Typed['ev']>[1], v: V) => {
      const x = c.ev(r, m);
      return v !== null && x !== null && compareValues(v, operand.t, x, c.t) === 0;
    };
  }));
  return {
    t: ty,
    ev: (r, m) => {
      const v = operand ? operand.ev(r, m) : null;
      for (let i = 0; i < tests.length; i++) {
        if (tests[i]!.some((test) => test(r, m, v))) return thens[i]!.ev(r, m);
      }
      return other ? other.ev(r, m) : null;
    },
  };
}

export function compileIf(cond: Typed, yes: Typed, no: Typed, ctx: EvalContext): Typed {
  if (cond.t.kind !== 'BOOLEAN' && cond.t.kind !== 'NULL') throw new TidemarkError('InvalidInput', `IF expects a BOOLEAN condition, found ${cond.t.kind}`);
  const ty = withNull(commonType([yes, no], 'IF'), true);
  const a = coerce(yes, ty, ctx);
  const b = coerce(no, ty, ctx);
  return { t: ty, ev: (r, m) => (cond.ev(r, m) === true ? a.ev(r, m) : b.ev(r, m)) };
}

export function compileCoalesce(args: Typed[], ctx: EvalContext): Typed {
  const ty = withNull(commonType(args, 'COALESCE'), true);
  const xs = args.map((a) => coerce(a, ty, ctx));
  return { t: ty, ev: (r, m) => {
    for (const x of xs) {
      const v = x.ev(r, m);
      if (v !== null) return v;
    }
    return null;
  } };
}

/** IFNULL(value, replacement): NOT NULL when the replacement is. */
export function compileIfNull(value: Typed, replacement: Typed, ctx: EvalContext): Typed {
  const ty = withNull(commonType([value, replacement], 'IFNULL'), replacement.t.nullable || replacement.t.kind === 'NULL');
  const a = coerce(value, ty, ctx);
  const b = coerce(replacement, ty, ctx);
  return { t: ty, ev: (r, m) => a.ev(r, m) ?? b.ev(r, m) };
}

/** NULLIF(value, other): NULL when they are equal (numbers by value), else value; value's type. */
export function compileNullIf(value: Typed, other: Typed): Typed {
  const ty = withNull(value.t.kind === 'NULL' ? other.t : value.t, true);
  return { t: ty, ev: (r, m) => {
    const v = value.ev(r, m);
    const o = other.ev(r, m);
    if (v === null || o === null) return v;
    return compareValues(v, value.t, o, other.t) === 0 ? null : v;
  } };
}

