import { describe, expect, it } from 'vitest';
import { recordFigure } from '../support/record';
import { fuzzIsolated } from './isolated';
import { fuzzTargets, harnessSelfTestTarget } from './targets';

// Bounded in the unit suite (a few seconds per reader); `npm run reliability` runs longer. Every
// input runs in a worker thread under a deadline (TIDEMARK_FUZZ_INPUT_MS, default 2 s): a reader
// that spins on an input is a hang, reported with the whole input and failing the test, and the
// run goes on with a fresh worker.
const BUDGET_MS = Number(process.env.TIDEMARK_FUZZ_MS ?? 3000);
const MAX_INPUTS = Number(process.env.TIDEMARK_FUZZ_MAX_INPUTS ?? Infinity);
const INPUT_DEADLINE_MS = Number(process.env.TIDEMARK_FUZZ_INPUT_MS ?? 2000);

const targets = await fuzzTargets();

describe('the fuzz harness itself', () => {
  it('reports a spinning input as a hang with the whole input, a raw error as a finding, and goes on', async () => {
    const target = harnessSelfTestTarget();
    const r = await fuzzIsolated(target, 60_000, target.seeds.length, { inputDeadlineMs: 500 });
    expect(r.inputs).toBe(5);
    expect(r.hangs.map((h) => ({ target: h.target, input: h.input }))).toEqual([{ target: 'harness self-test', input: '/w==' }]);
    expect(r.hangs[0]!.ms).toBeGreaterThanOrEqual(500);
    expect(r.findings).toEqual([{ error: 'TypeError: raw error on 0xfe', input: '/g==' }]);
    // The inputs after the hang ran in a fresh worker.
    expect({ accepted: r.accepted, typedErrors: r.typedErrors }).toEqual({ accepted: 2, typedErrors: 1 });
  }, 60_000);
});

describe('fuzzing the readers of untrusted input: only typed errors, no hang', () => {
  for (const target of targets) {
    it(`${target.name}`, async () => {
      expect(target.seeds.length).toBeGreaterThan(0);
      const r = await fuzzIsolated(target, BUDGET_MS, MAX_INPUTS, { inputDeadlineMs: INPUT_DEADLINE_MS, hangDir: process.env.TIDEMARK_FUZZ_HANG_DIR });
      recordFigure(`fuzz: ${target.name}`, { inputs: r.inputs, accepted: r.accepted, typedErrors: r.typedErrors, findings: r.findings.length, hangs: r.hangs.length, inputDeadlineMs: INPUT_DEADLINE_MS, slowestInputMs: r.slowestMs, ms: r.ms, hangFiles: r.hangs.map((h) => h.file ?? h.input) });
      expect(r.hangs.map((h) => ({ target: h.target, ms: h.ms, file: h.file }))).toEqual([]);
      expect(r.findings).toEqual([]);
      expect(r.inputs).toBeGreaterThan(target.seeds.length);
      // Real seeds parse; mutations mostly fail with our error type.
      expect(r.accepted).toBeGreaterThan(0);
      expect(r.typedErrors).toBeGreaterThan(0);
    }, BUDGET_MS + 60_000);
  }
});
