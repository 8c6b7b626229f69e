import { TidemarkError } from '../../../errors';
import { notForMySql } from '../parser';
import type { EvalContext, Typed } from '../evaluator';
import { isDec, isZoned, STRING, t, withNull, type Dec, type FlinkType, type V } from '../types';
import {
  dataError, decToNumber, decTrunc, fitDecimal, instantToWall, NANOS_PER_DAY, parseDec,
  parseTimeText, parseTimestampText, valueToText, wallToInstant, floorDiv, javaDouble,
} from '../values';
import { toDec } from './arithmetic';

/**
 * Casting family: CAST and TRY_CAST (Flink CDC CastingFunctions). Text that is not a number casts
 * to NULL for numeric targets; integers wrap around like Java's narrowing conversions
 * (`CAST('333' AS TINYINT)` is 77); a DECIMAL that does not fit is NULL. CAST to text gives Flink
 * CDC's text forms; CAST to a TIMESTAMP(p) has type TIMESTAMP(3) in Flink CDC's result schema.
 * A CAST that cannot convert (CAST('x' AS TIMESTAMP)) fails the row; TRY_CAST gives NULL.
 */
/** The targets Flink CDC 3.x compiles a CAST to (JaninoCompiler); others fail there, so they are refused here. */
const CAST_TARGETS = ['BOOLEAN', 'TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL', 'CHAR', 'VARCHAR', 'TIMESTAMP'];

/** Refuses a CAST target Flink CDC cannot compile (validate time: no column types needed). */
export function checkCastTarget(target: FlinkType, col?: number): void {
  const at = col === undefined ? '' : ` (column ${col})`;
  if (target.kind === 'NESTED') throw notForMySql(`CAST to ${target.text}`, `a MySQL source has no ${target.text?.replace(/[<(].*$/, '')} values`, col);
  if (!CAST_TARGETS.includes(target.kind)) {
    const hint = target.kind === 'DATE' ? ' (use TO_DATE)' : target.kind === 'TIMESTAMP_LTZ' ? ' (use TO_TIMESTAMP_LTZ)' : '';
    throw new TidemarkError('Unsupported', `CAST to ${target.kind} is not supported: Flink CDC 3.x casts only to BOOLEAN, TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL, CHAR/VARCHAR/STRING and TIMESTAMP${hint}${at}`, { construct: 'CAST', column: col ?? null });
  }
}

export function castTarget(target: FlinkType, ctx: EvalContext): FlinkType {
  checkCastTarget(target);
  switch (target.kind) {
    case 'CHAR': case 'VARCHAR': return STRING();
    case 'TIMESTAMP': return t('TIMESTAMP', true, 3);
    case 'DECIMAL': {
      const max = ctx.decimalMode === 'up_to_19' ? 19 : 38;
      return t('DECIMAL', true, Math.min(target.precision!, max), Math.min(target.scale!, Math.min(target.precision!, max)));
    }
  }
  return withNull(target, true);
}

const wrap = (n: number, bits: number) => Number(BigInt.asIntN(bits, BigInt(Math.trunc(n))));

/** Java's double → int narrowing: saturates at the int range, NaN is 0. */
function javaDoubleToInt(n: number): number {
  if (Number.isNaN(n)) return 0;
  return Math.max(-2147483648, Math.min(2147483647, Math.trunc(n)));
}
function javaDoubleToLong(n: number): bigint {
  if (Number.isNaN(n)) return 0n;
  if (n >= 2 ** 63) return 9223372036854775807n;
  if (n <= -(2 ** 63)) return -9223372036854775808n;
  return BigInt(Math.trunc(n));
}

const INT_TEXT = /^[+-]?\d+$/;

/** castToByte/Short/Integer/Long: integer text, else a double narrowed, else NULL. */
function castInteger(v: V, from: FlinkType, bits: number, tryCast: boolean): V {
  const out = (n: bigint): V => (bits === 64 ? BigInt.asIntN(64, n) : Number(BigInt.asIntN(bits, n)));
  if (typeof v === 'boolean') return out(v ? 1n : 0n);
  if (isDec(v)) return out(decTrunc(v));
  if (typeof v === 'bigint') return out(v);
  if (typeof v === 'number' && (from.kind === 'FLOAT' || from.kind === 'DOUBLE')) {
    // Java: (byte)/(short) go through int; long saturates.
    if (bits === 64) return javaDoubleToLong(v);
    return wrap(javaDoubleToInt(v), bits);
  }
  if (typeof v === 'number') return out(BigInt(v));
  const text = valueToText(v, from)!;
  const trimmed = tryCast ? text.trim() : text;
  if (INT_TEXT.test(trimmed)) {
    const n = BigInt(trimmed);
    if (n === BigInt.asIntN(bits, n)) return out(n);
    if (tryCast) return null;
  } else if (tryCast) return null;
  const d = Number(trimmed);
  if (trimmed.trim() === '' || Number.isNaN(d) && trimmed.trim() !== 'NaN') return null;
  return bits === 64 ? javaDoubleToLong(d) : wrap(javaDoubleToInt(d), bits);
}

function castFloating(v: V, from: FlinkType, float: boolean): V {
  const round = float ? Math.fround : (n: number) => n;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (isDec(v)) return round(decToNumber(v));
  if (typeof v === 'number' || typeof v === 'bigint') return round(Number(v));
  const text = valueToText(v, from)!.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?$|^[+-]?(NaN|Infinity)$/.test(text)) return null;
  return round(Number(text.replace(/[fFdD]$/, '')));
}

function castTimestamp(v: V, from: FlinkType, ctx: EvalContext, tryCast: boolean, source: string): V {
  switch (from.kind) {
    case 'TIMESTAMP': return v;
    case 'TIMESTAMP_LTZ': return instantToWall(v as bigint, ctx.timeZone);
    case 'TIMESTAMP_TZ': return instantToWall(wallToInstant((v as { n: bigint; z: string }).n, (v as { n: bigint; z: string }).z), ctx.timeZone);
    case 'DATE': return BigInt(v as number) * NANOS_PER_DAY;
  }
  if (typeof v === 'string') {
    const ns = parseTimestampText(v);
    if (ns !== null) return ns;
    if (tryCast) return null;
    throw dataError(`cannot cast ${JSON.stringify(v)} to TIMESTAMP: expected ISO_LOCAL_DATE_TIME text such as 2019-12-31T21:48:25 (in ${source})`);
  }
  if (tryCast) return null;
  throw dataError(`cannot cast ${from.kind} to TIMESTAMP (in ${source})`);
}

/** Converts a non-null value of type `from` to `to` (Flink CDC's cast rules). */
export function castValue(v: V, from: FlinkType, to: FlinkType, ctx: EvalContext, tryCast = false, source = 'CAST'): V {
  if (v === null) return null;
  switch (to.kind) {
    case 'CHAR': case 'VARCHAR':
      return valueToText(v, from);
    case 'BOOLEAN': {
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      if (typeof v === 'bigint') return v !== 0n;
      if (isDec(v)) return v.u !== 0n;
      const text = valueToText(v, from)!;
      if (tryCast) {
        const l = text.toLowerCase();
        if (['t', 'true', 'y', 'yes', '1'].includes(l)) return true;
        if (['f', 'false', 'n', 'no', '0'].includes(l)) return false;
        return null;
      }
      return text.toLowerCase() === 'true';
    }
    case 'TINYINT': return castInteger(v, from, 8, tryCast);
    case 'SMALLINT': return castInteger(v, from, 16, tryCast);
    case 'INT': return castInteger(v, from, 32, tryCast);
    case 'BIGINT': return castInteger(v, from, 64, tryCast);
    case 'FLOAT': return castFloating(v, from, true);
    case 'DOUBLE': return castFloating(v, from, false);
    case 'DECIMAL': {
      let d: Dec | null;
      if (typeof v === 'boolean') d = { u: v ? 1n : 0n, s: 0 };
      else if (typeof v === 'number' && from.kind !== 'DATE') d = Number.isFinite(v) ? parseDec(from.kind === 'FLOAT' ? valueToText(v, from)! : javaDouble(v)) : null;
      else if (typeof v === 'string') d = parseDec(tryCast ? v.trim() : v);
      else if (typeof v === 'bigint' || isDec(v)) d = toDec(v);
      else d = null;
      return d === null ? null : fitDecimal(d, to.precision!, to.scale!);
    }
    case 'TIMESTAMP':
      return castTimestamp(v, from, ctx, tryCast, source);
    case 'TIMESTAMP_LTZ': {
      if (from.kind === 'TIMESTAMP_LTZ') return v;
      if (isZoned(v)) return wallToInstant(v.n, v.z);
      const wall = castTimestamp(v, from, ctx, tryCast, source);
      return wall === null ? null : wallToInstant(wall as bigint, ctx.timeZone);
    }
    case 'TIMESTAMP_TZ': {
      if (isZoned(v)) return v;
      const wall = from.kind === 'TIMESTAMP_LTZ' ? instantToWall(v as bigint, ctx.timeZone) : castTimestamp(v, from, ctx, tryCast, source);
      return wall === null ? null : { n: wall as bigint, z: ctx.timeZone };
    }
    case 'DATE': {
      if (from.kind === 'DATE') return v;
      if (typeof v === 'string') {
        const ns = parseTimestampText(v);
        if (ns !== null) return Number(floorDiv(ns, NANOS_PER_DAY));
        if (tryCast) return null;
        throw dataError(`cannot cast ${JSON.stringify(v)} to DATE: expected yyyy-MM-dd (in ${source})`);
      }
      const wall = castTimestamp(v, from, ctx, tryCast, source);
      return wall === null ? null : Number(floorDiv(wall as bigint, NANOS_PER_DAY));
    }
    case 'TIME': {
      if (from.kind === 'TIME') return v;
      if (typeof v === 'string') {
        const ns = parseTimeText(v) ?? (() => { const ts = parseTimestampText(v); return ts === null ? null : Number(ts - floorDiv(ts, NANOS_PER_DAY) * NANOS_PER_DAY); })();
        if (ns !== null) return ns;
        if (tryCast) return null;
        throw dataError(`cannot cast ${JSON.stringify(v)} to TIME: expected HH:mm:ss (in ${source})`);
      }
      const wall = castTimestamp(v, from, ctx, tryCast, source);
      return wall === null ? null : Number((wall as bigint) - floorDiv(wall as bigint, NANOS_PER_DAY) * NANOS_PER_DAY);
    }
    case 'BINARY': case 'VARBINARY':
      if (v instanceof Uint8Array) return v;
      return new TextEncoder().encode(valueToText(v, from)!);
  }
  throw new TidemarkError('Unsupported', `CAST to ${to.kind} is not supported`);
}

export function compileCast(a: Typed, target: FlinkType, tryCast: boolean, ctx: EvalContext): Typed {
  const ty = castTarget(target, ctx);
  if (a.t.kind === 'NESTED') throw new TidemarkError('Unsupported', `CAST of ${a.t.text} is not supported: a MySQL source has no such values`);
  const source = `CAST(… AS ${target.kind})`;
  // A DECIMAL is computed with the precision as written (CastingFunctions.castToBigDecimal); the
  // result type's precision may be capped by the decimal mode, and the row keeps what fits it.
  const valueType = target.kind === 'DECIMAL' ? target : ty;
  const f = (v: V): V => (v === null ? null : castValue(v, a.t, valueType, ctx, tryCast, source));
  if (a.lit && !tryCast) {
    // Constant folding would move a failing CAST from the row to the compile; keep it per row.
    return { t: ty, ev: () => f(a.lit!.value) };
  }
  return { t: ty, ev: (r, m) => f(a.ev(r, m)) };
}

/** An operand converted to a branch type (CASE/COALESCE): numbers widened, text kept. */
export function coerce(a: Typed, to: FlinkType, ctx: EvalContext): Typed {
  if (a.t.kind === to.kind && (a.t.kind !== 'DECIMAL' || a.t.scale === to.scale)) return a;
  if (a.t.kind === 'NULL' || ['CHAR', 'VARCHAR'].includes(to.kind) && ['CHAR', 'VARCHAR'].includes(a.t.kind)) return a;
  return { t: to, ev: (r, m) => { const v = a.ev(r, m); return v === null ? null : castValue(v, a.t, to, ctx); } };
}

