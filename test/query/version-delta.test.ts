import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planScan } from '../../core/lake/scan-plan';
import { loadTable } from '../../core/lake/table';
import { valueKey } from '../../core/lake/values';
import { applyRowDelta, appendRows, createTable, rewriteDataFiles } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { diffRows, type RowDiff } from '../../core/query/row-diff';
import { icebergSource, type TableSource } from '../../core/query/table-source';
import { planVersionDelta } from '../../core/query/version-delta';
import { createLocalStorage } from '../../core/storage/node/index';

let engine: QueryEngine;
let dir: string;
const storage = createLocalStorage();

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
  dir = await mkdtemp(join(tmpdir(), 'tidemark-delta-'));
});
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The whole-version diff (every row of both versions), as before the delta: the reference. */
function wholeVersions(source: TableSource): TableSource {
  const { delta: _unused, ...rest } = source;
  return rest;
}

/** A diff as comparable data: counts and the sorted listed rows. */
function canonical(d: RowDiff) {
  const sorted = (rows: unknown[]) => rows.map((r) => valueKey(r)).sort();
  return {
    counts: [d.addedCount, d.removedCount, d.changedCount],
    added: sorted(d.added),
    removed: sorted(d.removed),
    changed: sorted(d.changed.map((c) => [c.before, c.after, c.changedColumns])),
  };
}

type Op =
  | { kind: 'insert' | 'upsert' | 'delete'; ids: number[]; tag: string }
  | { kind: 'position'; pick: number }
  | { kind: 'compact' };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('insert', 'upsert', 'delete') as fc.Arbitrary<'insert' | 'upsert' | 'delete'>, ids: fc.uniqueArray(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 6 }), tag: fc.string({ maxLength: 2 }) }),
  fc.record({ kind: fc.constant('position' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('compact' as const) }),
);

describe('row diff from the files that differ', () => {
  it('equals the whole-version diff on random histories with equality and position deletes and compaction', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 6 }), async (ops) => {
        const root = join(dir, `t${run++}`);
        await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }, { name: 'n', type: 'int' }], identifierColumns: ['id'] });
        const live = new Set<number>();
        for (const o of ops) {
          if (o.kind === 'insert') {
            const fresh = o.ids.filter((id) => !live.has(id));
            if (fresh.length === 0) continue;
            await appendRows(root, fresh.map((id) => ({ id: BigInt(id), v: `${o.tag}${id}`, n: id % 3 === 0 ? null : id })));
            fresh.forEach((id) => live.add(id));
          } else if (o.kind === 'upsert') {
            await applyRowDelta(root, { upserts: o.ids.map((id) => ({ id: BigInt(id), v: `${o.tag}!${id}`, n: id })) });
            o.ids.forEach((id) => live.add(id));
          } else if (o.kind === 'delete') {
            await applyRowDelta(root, { deleteKeys: o.ids.map((id) => ({ id: BigInt(id) })) });
            o.ids.forEach((id) => live.delete(id));
          } else if (o.kind === 'position') {
            const plan = await planScan(storage, root);
            if (plan.files.length === 0) continue;
            const f = plan.files[o.pick % plan.files.length]!;
            await applyRowDelta(root, { positionDeletes: [{ filePath: f.originalPath, pos: o.pick % f.recordCount }] });
          } else {
            if ((await planScan(storage, root)).files.length === 0) continue;
            await rewriteDataFiles(root);
          }
        }
        const source = icebergSource(engine, await loadTable(storage, root));
        const reference = wholeVersions(source);
        const ids = source.snapshots.map((s) => s.snapshotId);
        for (const a of ids) {
          for (const b of ids) {
            const got = await diffRows(engine, source, a, b, { limit: 1000 });
            const want = await diffRows(engine, reference, a, b, { limit: 1000 });
            expect(canonical(got)).toEqual(canonical(want));
            const whole = await diffRows(engine, source, a, b, { key: [], limit: 1000 });
            const wholeWant = await diffRows(engine, reference, a, b, { key: [], limit: 1000 });
            expect(canonical(whole)).toEqual(canonical(wholeWant));
          }
        }
      }),
      { numRuns: 8, seed: 20261207 },
    );
  }, 600_000);

  it('reads only the files of the commit and those its deletes touch; the rest cancel out', async () => {
    const root = join(dir, 'files');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    for (let i = 0; i < 5; i++) await appendRows(root, Array.from({ length: 10 }, (_x, j) => ({ id: BigInt(i * 10 + j), v: `r${i}` })));
    await appendRows(root, [{ id: 100n, v: 'late' }]);
    const table = await loadTable(storage, root);
    const snaps = table.metadata.snapshots.map((s) => s.snapshotId);
    const schema = table.metadata.schemas[0]!;
    const d = await planVersionDelta(engine, table, snaps[4]!, snaps[5]!);
    expect(d.stats).toEqual({ filesRead: 1, filesCancelled: 5 });
    expect([d.a.length, d.b.length, [...d.b.pos]]).toEqual([0, 1, [0]]);
    expect(await d.readValues(d.b, [0], schema.fields)).toEqual([[100n], ['late']]);
    const diff = await diffRows(engine, icebergSource(engine, table), snaps[4]!, snaps[5]!);
    expect([diff.addedCount, diff.removedCount, diff.changedCount]).toEqual([1, 0, 0]);
    expect(diff.added).toEqual([{ id: 100n, v: 'late' }]);
  });
});
