import { appendFileSync } from 'node:fs';

/**
 * Records a measured figure (fuzz inputs tried, crash trials…) for `npm run reliability`, which
 * sets TIDEMARK_RELIABILITY_OUT; a no-op in ordinary test runs.
 */
export function recordFigure(name: string, data: Record<string, unknown>): void {
  const out = process.env.TIDEMARK_RELIABILITY_OUT;
  if (!out) return;
  appendFileSync(out, `${JSON.stringify({ name, ...data }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}
