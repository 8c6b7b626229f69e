/**
 * What crosses a process boundary: plain JSON data. 64-bit values are `bigint` in core and decimal
 * strings on the wire; `Wire<T>` is the type a client sees for a core value `T`.
 */
import type { ErrorCode, ErrorContext } from '../errors';

export type Wire<T> = T extends bigint
  ? string
  : T extends string | number | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;

export interface WireError {
  code: ErrorCode;
  message: string;
  context: ErrorContext;
}

export type Reply<T> = { ok: true; value: T } | { ok: false; error: WireError };

/**
 * Converts a core value to its wire form, recursively: bigint → decimal string, bytes → lowercase
 * hex string (as the CLI prints them), Map → plain object.
 */
export function toWire<T>(value: T): Wire<T> {
  return convert(value) as Wire<T>;
}

function convert(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(convert);
  if (value instanceof Uint8Array) return Array.from(value, (b) => b.toString(16).padStart(2, '0')).join('');
  if (value instanceof Map) return convert(Object.fromEntries(value));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = convert(v);
    return out;
  }
  return value;
}
