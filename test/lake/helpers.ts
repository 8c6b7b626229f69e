import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from '../../core/lake';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesRoot = resolve(repoRoot, '../shared/fixtures/iceberg');

/** Canonical row values made comparable with JSON expectations: safe bigints become numbers. */
export function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

export function plainRows(rows: Row[]): Record<string, unknown>[] {
  return rows.map((r) => plain(r) as Record<string, unknown>);
}

export async function expectCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.code !== code) throw new Error(`expected error code ${code}, got ${err.code}: ${err.message}`, { cause: e });
    if (message && !message.test(err.message)) throw new Error(`message ${JSON.stringify(err.message)} does not match ${message}`, { cause: e });
    return err;
  }
  throw new Error(`expected a ${code} error, got success`);
}
