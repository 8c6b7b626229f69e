import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from '../../core/lake';
import { appendRows, applyRowDelta, rewriteDataFiles, type WriteEnv } from '../../core/lake/write';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const fixturesRoot = resolve(repoRoot, 'test/fixtures/iceberg');

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

/** A generated write for model tests: rows by key `id`, or a compaction. */
export type ModelOp = { kind: 'append' | 'upsert' | 'delete' | 'compact' };

/**
 * Applies one generated write to the table and to its model (key → row). Appends take only keys
 * the model lacks (appending an existing key would duplicate it); a compaction runs only once the
 * table has a snapshot. Returns false when nothing was committed.
 */
export async function applyModelOp(root: string, model: Map<number, Row>, op: ModelOp, rows: Row[], env: WriteEnv, canCompact: boolean): Promise<boolean> {
  if (op.kind === 'append') {
    const fresh = rows.filter((r) => !model.has(Number(r.id)));
    if (fresh.length === 0) return false;
    await appendRows(root, fresh, { env });
    for (const r of fresh) model.set(Number(r.id), r);
  } else if (op.kind === 'upsert') {
    await applyRowDelta(root, { upserts: rows }, { env });
    for (const r of rows) model.set(Number(r.id), r);
  } else if (op.kind === 'delete') {
    await applyRowDelta(root, { deleteKeys: rows.map((r) => ({ id: r.id })) }, { env });
    for (const r of rows) model.delete(Number(r.id));
  } else {
    if (!canCompact) return false;
    await rewriteDataFiles(root, { env });
  }
  return true;
}
