import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, type PaimonChange } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';

/**
 * Property: after any sequence of commits (inserts, updates, deletes of a small key space, so keys
 * collide across commits and buckets) and compactions, every snapshot reads as the model after the
 * commits up to it — with and without deletion vectors.
 */

const storage = createLocalStorage();
type Op = { kind: 'commit'; changes: { k: number; p: number; del: boolean; v: number }[] } | { kind: 'compact'; full: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), changes: fc.array(fc.record({ k: fc.integer({ min: 0, max: 11 }), p: fc.integer({ min: 0, max: 1 }), del: fc.boolean(), v: fc.integer({ min: -1000, max: 1000 }) }), { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), full: fc.boolean() }) },
);

async function check(ops: Op[], dv: boolean, seed: number): Promise<void> {
  const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-prop-')), 't');
  const env = seededWriteEnv(seed);
  await createPaimonTable(
    root,
    {
      columns: [{ name: 'k', type: 'INT' }, { name: 'p', type: 'INT' }, { name: 'v', type: 'INT' }],
      primaryKeys: ['k', 'p'],
      partitionKeys: ['p'],
      options: { bucket: '2', 'num-sorted-run.compaction-trigger': '3', ...(dv ? { 'deletion-vectors.enabled': 'true' } : {}) },
    },
    env,
  );
  const model = new Map<string, { k: number; p: number; v: number }>();
  const bySnapshot = new Map<bigint, string[]>();
  const state = () => [...model.values()].map((r) => JSON.stringify(r)).sort();
  let id = 0n;
  for (const op of ops) {
    let result;
    if (op.kind === 'commit') {
      const changes: PaimonChange[] = op.changes.map((c) => (c.del ? { kind: '-D', row: { k: c.k, p: c.p } } : { kind: '+U', row: { k: c.k, p: c.p, v: c.v } }));
      result = await commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: ++id, env });
      for (const c of op.changes) {
        if (c.del) model.delete(`${c.k}|${c.p}`);
        else model.set(`${c.k}|${c.p}`, { k: c.k, p: c.p, v: c.v });
      }
      // With deletion vectors the APPEND snapshot's level-0 rows are not read until its compaction.
      if (!dv) bySnapshot.set(result!.snapshotId, state());
      if (result!.compaction) bySnapshot.set(result!.compaction.snapshotId, state());
    } else {
      result = await compactPaimonTable(root, { commitUser: 'u', full: op.full, env });
      if (result) bySnapshot.set(result.snapshotId, state());
    }
    const rows = (await scanPaimonRows(storage, root)).rows.map((r) => JSON.stringify(r)).sort();
    if (!dv || op.kind === 'compact' || result?.compaction !== undefined) expect(rows).toEqual(state());
  }
  for (const [snapshotId, expected] of bySnapshot) {
    const rows = (await scanPaimonRows(storage, root, { snapshotId })).rows.map((r) => JSON.stringify(r)).sort();
    expect(rows, `snapshot ${snapshotId}`).toEqual(expected);
  }
}

describe('Paimon writer: any commit history reads as its model', () => {
  it('merge-on-read tables', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 7 }), fc.integer({ min: 1, max: 1000 }), (ops, seed) => check(ops, false, seed)), { numRuns: 12, seed: 20261207 });
  }, 120_000);

  it('deletion-vector tables', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 7 }), fc.integer({ min: 1, max: 1000 }), (ops, seed) => check(ops, true, seed)), { numRuns: 12, seed: 20261207 });
  }, 120_000);
});
