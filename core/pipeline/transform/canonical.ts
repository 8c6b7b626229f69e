import { isDec, isZoned, MAX_LENGTH, t, type FlinkType, type V } from './types';
import { decToString, floorDiv, parseDec, rescale, wallToInstant } from './values';
import type { RowCodec, SourceColumn } from './projection';

/**
 * core/cdc canonical column values (types.ts ColumnValue: decimals as text, TIME and TIMESTAMP as
 * bigint µs) ↔ the evaluator's (transform/types.ts: Dec, ns), and the typing of rows of a table
 * that was never bound.
 */

/** A core/cdc column value → the evaluator's value for a column of this type. */
export function fromCanonical(v: unknown, ty: FlinkType): V {
  if (v === null || v === undefined) return null;
  switch (ty.kind) {
    case 'DECIMAL': return typeof v === 'string' ? parseDec(v) : isDec(v as V) ? (v as V) : parseDec(String(v));
    case 'BIGINT': return typeof v === 'bigint' ? v : BigInt(v as number);
    case 'TIME': return Number(v as bigint) * 1000;
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return BigInt(v as bigint) * 1000n;
  }
  return v as V;
}

/** An evaluator value of this type → the core/cdc canonical form the sink converts (sink-schema.ts toLakeValue). */
export function toCanonical(v: V, ty: FlinkType): unknown {
  if (v === null) return null;
  switch (ty.kind) {
    case 'DECIMAL': return decToString(rescale(v as { u: bigint; s: number }, ty.scale!));
    case 'TIME': return BigInt(Math.floor((v as number) / 1000));
    case 'TIMESTAMP': case 'TIMESTAMP_LTZ': return floorDiv(v as bigint, 1000n);
    case 'TIMESTAMP_TZ': return isZoned(v) ? floorDiv(wallToInstant(v.n, v.z), 1000n) : v;
  }
  return v;
}

/** The type a value suggests when no schema was bound (see the module comment). */
export function typeOfValue(v: unknown): FlinkType {
  if (typeof v === 'boolean') return t('BOOLEAN');
  if (typeof v === 'bigint') return t('BIGINT');
  if (typeof v === 'number') return Number.isInteger(v) && v === (v | 0) ? t('INT') : t('DOUBLE');
  if (typeof v === 'string') return t('VARCHAR', true, MAX_LENGTH);
  if (v instanceof Uint8Array) return t('VARBINARY', true, MAX_LENGTH);
  return { kind: 'NULL', nullable: true };
}

export const compileCache = <T>(build: (cols: SourceColumn[]) => T) => {
  const cache = new Map<string, T>();
  return (row: Record<string, unknown>): { cols: SourceColumn[]; program: T } => {
    const cols = Object.entries(row).map(([name, v]) => ({ name, type: typeOfValue(v) }));
    const key = cols.map((c) => `${c.name}:${c.type.kind}`).join(',');
    let program = cache.get(key);
    if (program === undefined) {
      program = build(cols);
      if (cache.size > 100) cache.clear();
      cache.set(key, program);
    }
    return { cols, program };
  };
};

/** core/cdc canonical rows in and out (RowCodec); columns whose forms agree are not converted. */
export const CANONICAL_CODEC: RowCodec = {
  reader(ty) {
    switch (ty.kind) {
      case 'DECIMAL': case 'BIGINT': case 'TIME': case 'TIMESTAMP': case 'TIMESTAMP_LTZ':
        return (v) => fromCanonical(v, ty);
    }
    return null;
  },
  writer(ty) {
    switch (ty.kind) {
      case 'DECIMAL': case 'TIME': case 'TIMESTAMP': case 'TIMESTAMP_LTZ': case 'TIMESTAMP_TZ':
        return (v) => toCanonical(v, ty);
    }
    return null;
  },
};
