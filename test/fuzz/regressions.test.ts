import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzzIsolated } from './isolated';
import { fuzzTargets } from './targets';

// Inputs the fuzzers once caught (hangs, raw errors), replayed under the same deadline in a worker:
// each must now finish with a value or a TidemarkError. Add a file here for every new finding.
const dir = join(import.meta.dirname, 'regressions');
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as { target: string; base64: string }) }));
const targets = await fuzzTargets();

describe('fuzz regressions: inputs that once hung or crashed a reader', () => {
  it('the folder holds the known cases', () => {
    expect(cases.map((c) => c.file)).toEqual(expect.arrayContaining(['avro-manifest-list-119d5f22b0fa.json', 'avro-manifest-list-67a3d7a83341.json', 'avro-manifest-9b490101110b.json']));
  });
  for (const c of cases) {
    it(`${c.target}: ${c.file}`, async () => {
      const target = targets.find((t) => t.name === c.target);
      expect(target, `unknown fuzz target ${c.target}`).toBeDefined();
      // The input as the only seed: the run is exactly this input, in the target's own worker.
      const r = await fuzzIsolated({ ...target!, seeds: [new Uint8Array(Buffer.from(c.base64, 'base64'))] }, 60_000, 1, { inputDeadlineMs: 2000 });
      expect(r.inputs).toBe(1);
      expect(r.hangs.map((h) => h.ms)).toEqual([]);
      expect(r.findings).toEqual([]);
      expect(r.accepted + r.typedErrors).toBe(1);
    }, 60_000);
  }
});
