import { TidemarkError } from '../../errors';
import { callFunction, registerArithmetic } from './functions';
import { compareOp, distinctFrom, inList, likeOp, similarOp } from './functions/comparison';
import { arithmetic, negate } from './functions/arithmetic';
import { compileCase } from './functions/conditional';
import { compileCast } from './functions/casting';
import { compileInterval } from './functions/temporal';
import { notForMySql, type Expr } from './parser';
import { BOOLEAN, STRING, t, type FlinkType, type V } from './types';
import { parseDec } from './values';

/**
 * Typed evaluation of parsed transform expressions, with Flink CDC 3.x's semantics: each
 * expression gets a Flink CDC type when it is compiled against the source table's column types
 * (that type is the result schema's), and a closure that computes it per row.
 *
 * NULL semantics are Flink CDC's (its functions documentation and SystemFunctionUtils): AND, OR
 * and NOT are three-valued; `=`, `<`, `>`, `<=`, `>=`, BETWEEN and IN are FALSE when an operand is
 * NULL, so `<>`, NOT BETWEEN and NOT IN are TRUE; arithmetic and most functions give NULL for a
 * NULL operand; `||` and CONCAT write NULL as the text `null`. A filter keeps a row when TRUE.
 */
export type Row = Record<string, V>;

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

export type Ev = (row: Row, meta: RowMeta) => V;
/** A compiled expression: its Flink CDC type and its evaluator. */
export interface Typed {
  t: FlinkType;
  ev: Ev;
  /** Set for literals: the constant (CAST and functions fold with it). */
  lit?: { value: V };
  /** Set for a plain read of this source column (a projection copies it as stored). */
  column?: string;
}

export interface EvalContext {
  /** pipeline.local-time-zone: the zone of TIMESTAMP ↔ TIMESTAMP_LTZ conversions and temporal functions. */
  timeZone: string;
  /** pipeline transform decimal precision mode: the largest DECIMAL precision a CAST produces. */
  decimalMode: 'up_to_19' | 'up_to_38';
  /** The clock of CURRENT_TIMESTAMP, NOW() and friends, in ms since the epoch. */
  now(): number;
}

export const DEFAULT_CONTEXT: EvalContext = { timeZone: 'UTC', decimalMode: 'up_to_19', now: () => Date.now() };

/** Resolves a column (source, computed or metadata) to its type and reader; null when unknown. */
export type Scope = (name: string) => Typed | null;

function metadataColumn(name: string): Typed | null {
  switch (name) {
    case '__namespace_name__': return { t: STRING(false), ev: (_r, m) => m.namespaceName };
    case '__schema_name__': return { t: STRING(false), ev: (_r, m) => m.schemaName };
    case '__table_name__': return { t: STRING(false), ev: (_r, m) => m.tableName };
    case '__data_event_type__': return { t: STRING(false), ev: (_r, m) => m.dataEventType };
    // Flink CDC's MySQL source: op_ts is BIGINT NOT NULL, milliseconds since the epoch (OpTsMetadataColumn).
    case 'op_ts': return { t: t('BIGINT', false), ev: (_r, m) => (m.opTs === null ? null : BigInt(m.opTs)) };
  }
  return null;
}

export function lookupColumn(scope: Scope, name: string): Typed {
  const meta = metadataColumn(name);
  if (meta) return meta;
  const hit = scope(name);
  if (hit?.t.kind === 'NESTED') throw notForMySql(`column ${name} of type ${hit.t.text}`, 'ARRAY, MAP, ROW and VARIANT values do not come from a MySQL source');
  if (hit) return hit;
  throw new TidemarkError('InvalidInput', `unknown column ${JSON.stringify(name)}`, { column: name });
}

function literal(value: Expr & { k: 'lit' }): Typed {
  const v = value.value;
  const constant = (ty: FlinkType, x: V): Typed => ({ t: ty, ev: () => x, lit: { value: x } });
  if (v === null) return constant({ kind: 'NULL', nullable: true }, null);
  if (typeof v === 'boolean') return constant(BOOLEAN(false), v);
  if (typeof v === 'string') return constant(t('CHAR', false, Math.max(Array.from(v).length, 1)), v);
  return literalNumber(String(v), constant);
}

/** Numeric literals as Calcite types them: INT, BIGINT past 32 bits, DECIMAL with a point, DOUBLE with an exponent. */
function literalNumber(text: string, constant: (ty: FlinkType, x: V) => Typed): Typed {
  if (/^\d+$/.test(text)) {
    const n = BigInt(text);
    if (n <= 2147483647n) return constant(t('INT', false), Number(n));
    if (n <= 9223372036854775807n) return constant(t('BIGINT', false), n);
  }
  if (/[eE]/.test(text)) return constant(t('DOUBLE', false), Number(text));
  const d = parseDec(text)!;
  const digits = (d.u < 0n ? -d.u : d.u).toString().length;
  return constant(t('DECIMAL', false, Math.max(digits, d.s, 1), d.s), d);
}

/**
 * Compiles an expression against a scope. Throws TidemarkError InvalidInput (unknown column,
 * operand types that do not fit) or Unsupported (a construct or function Tidemark lacks).
 */
export function compileTyped(e: Expr, scope: Scope, ctx: EvalContext): Typed {
  const sub = (x: Expr) => compileTyped(x, scope, ctx);
  switch (e.k) {
    case 'lit':
      return e.raw === undefined ? literal(e) : literalNumber(e.raw, (ty, x) => ({ t: ty, ev: () => x, lit: { value: x } }));
    case 'col':
      return lookupColumn(scope, e.name);
    case 'neg':
      return negate(sub(e.e));
    case 'not': {
      const a = sub(e.e);
      requireBoolean(a, 'NOT');
      return { t: BOOLEAN(), ev: (r, m) => { const v = a.ev(r, m); return v === null ? null : !v; } };
    }
    case 'bin': {
      const l = sub(e.l);
      const r = sub(e.r);
      if (e.op === 'AND' || e.op === 'OR') {
        requireBoolean(l, e.op);
        requireBoolean(r, e.op);
        const stop = e.op === 'OR';
        // Short-circuit, as Flink CDC's and(Boolean, Supplier)/or(...): the right side is not evaluated once decided.
        return { t: BOOLEAN(), ev: (row, m) => {
          const a = l.ev(row, m);
          if (a === stop) return stop;
          const b = r.ev(row, m);
          if (b === stop) return stop;
          return a === null || b === null ? null : !stop;
        } };
      }
      if (e.op === '||') return callFunction('CONCAT', [l, r], ctx, 0);
      if (['+', '-', '*', '/', '%'].includes(e.op)) return arithmetic(e.op, l, r, ctx);
      return compareOp(e.op, l, r);
    }
    case 'isnull': {
      const a = sub(e.e);
      return { t: BOOLEAN(), ev: (r, m) => (a.ev(r, m) === null) !== e.not };
    }
    case 'isunknown': {
      const a = sub(e.e);
      requireBoolean(a, 'IS UNKNOWN');
      return { t: BOOLEAN(), ev: (r, m) => (a.ev(r, m) === null) !== e.not };
    }
    case 'istruth': {
      const a = sub(e.e);
      requireBoolean(a, 'IS');
      return { t: BOOLEAN(), ev: (r, m) => (a.ev(r, m) === e.value) !== e.not };
    }
    case 'distinct':
      return distinctFrom(sub(e.l), sub(e.r), e.not);
    case 'in':
      return inList(sub(e.e), e.list.map(sub), e.not);
    case 'between': {
      const v = sub(e.e);
      const lo = compareOp('>=', v, sub(e.lo));
      const hi = compareOp('<=', v, sub(e.hi));
      return { t: BOOLEAN(), ev: (r, m) => (lo.ev(r, m) === true && hi.ev(r, m) === true) !== e.not };
    }
    case 'like':
      return likeOp(sub(e.e), sub(e.pattern), e.escape ? sub(e.escape) : null, e.not);
    case 'similar':
      return similarOp(sub(e.e), sub(e.pattern), e.escape ? sub(e.escape) : null, e.not);
    case 'case':
      return compileCase(e.operand ? sub(e.operand) : null, e.whens.map((w) => ({ when: w.when.map(sub), then: sub(w.then) })), e.else ? sub(e.else) : null, ctx);
    case 'cast':
      return compileCast(sub(e.e), e.type, e.try, ctx);
    case 'interval':
      return compileInterval(e.amount, e.unit, e.col);
    case 'call':
      return callFunction(e.name, e.args.map(sub), ctx, e.col ?? 0);
  }
}

export function requireBoolean(a: Typed, where: string): void {
  if (a.t.kind !== 'BOOLEAN' && a.t.kind !== 'NULL') {
    throw new TidemarkError('InvalidInput', `${where} expects a BOOLEAN, found ${a.t.kind}`);
  }
}

registerArithmetic(arithmetic);
