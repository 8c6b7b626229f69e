import { describe, expect, it } from 'vitest';
import { recordFigure } from '../support/record';
import { fuzz, fuzzTargets } from './targets';

// Bounded in the unit suite (a few seconds per reader); `npm run reliability` runs longer.
const BUDGET_MS = Number(process.env.TIDEMARK_FUZZ_MS ?? 3000);

const targets = await fuzzTargets();

describe('fuzzing the readers of untrusted input: only typed errors', () => {
  for (const target of targets) {
    it(`${target.name}`, async () => {
      expect(target.seeds.length).toBeGreaterThan(0);
      const r = await fuzz(target, BUDGET_MS, Number(process.env.TIDEMARK_FUZZ_MAX_INPUTS ?? 2000));
      recordFigure(`fuzz: ${target.name}`, { inputs: r.inputs, accepted: r.accepted, typedErrors: r.typedErrors, findings: r.findings.length, ms: r.ms });
      expect(r.findings).toEqual([]);
      expect(r.inputs).toBeGreaterThan(target.seeds.length);
      // Real seeds parse; mutations mostly fail with our error type.
      expect(r.accepted).toBeGreaterThan(0);
      expect(r.typedErrors).toBeGreaterThan(0);
    }, BUDGET_MS + 30_000);
  }
});
