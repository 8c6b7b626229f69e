import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanRows } from '../../core/lake';
import { planScan } from '../../core/lake/scan-plan';
import { loadTable } from '../../core/lake/table';
import { valueKey } from '../../core/lake/values';
import { applyRowDelta, appendRows, createTable } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { icebergSource } from '../../core/query/table-source';
import { createLocalStorage } from '../../core/storage/node/index';

let engine: QueryEngine;
let dir: string;
const storage = createLocalStorage();
beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
  dir = await mkdtemp(join(tmpdir(), 'tidemark-joins-'));
});
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Every version of the table, materialized and as a view, against the lake core's row reader. */
async function expectVersionsMatchReader(root: string) {
  const table = await loadTable(storage, root);
  const source = icebergSource(engine, table);
  for (const s of source.snapshots) {
    const want = (await scanRows(storage, root, { snapshotId: s.snapshotId })).rows.map((r) => valueKey([r.id, r.v])).sort();
    for (const lazy of [false, true]) {
      const got = (await engine.query(`SELECT id, v FROM ${await source.relation(s.snapshotId, { lazy })}`)).rows.map((r) => valueKey(r)).sort();
      expect(got, `snapshot ${s.snapshotId} ${lazy ? 'view' : 'materialized'}`).toEqual(want);
    }
  }
}

describe('merge-on-read joins', () => {
  it('keeps a row re-inserted by an upsert after later deletes of other keys (DuckDB 1.4 ANTI JOIN bug)', async () => {
    const root = join(dir, 'regression');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    await appendRows(root, [{ id: 5n, v: '5' }]);
    await applyRowDelta(root, { deleteKeys: [{ id: 0n }] });
    await applyRowDelta(root, { upserts: [{ id: 5n, v: '!5' }] });
    await applyRowDelta(root, { deleteKeys: [{ id: 0n }, { id: 1n }] });
    await expectVersionsMatchReader(root);
    expect((await engine.scan(root)).rows).toEqual([[5n, '!5']]);
  });

  it('equals the row reader on random histories of inserts, upserts, key and position deletes', async () => {
    let run = 0;
    const op = fc.oneof(
      fc.record({ kind: fc.constantFrom('insert', 'upsert', 'delete') as fc.Arbitrary<'insert' | 'upsert' | 'delete'>, ids: fc.uniqueArray(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant('position' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 8 }), async (ops) => {
        const root = join(dir, `r${run++}`);
        await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
        const live = new Set<number>();
        for (const [i, o] of ops.entries()) {
          if (o.kind === 'insert') {
            const fresh = o.ids.filter((id) => !live.has(id));
            if (fresh.length) await appendRows(root, fresh.map((id) => ({ id: BigInt(id), v: `${i}:${id}` })));
            fresh.forEach((id) => live.add(id));
          } else if (o.kind === 'upsert') {
            await applyRowDelta(root, { upserts: o.ids.map((id) => ({ id: BigInt(id), v: `${i}!${id}` })) });
            o.ids.forEach((id) => live.add(id));
          } else if (o.kind === 'delete') {
            await applyRowDelta(root, { deleteKeys: o.ids.map((id) => ({ id: BigInt(id) })) });
            o.ids.forEach((id) => live.delete(id));
          } else if (o.kind === 'position') {
            const plan = await planScan(storage, root);
            if (plan.files.length === 0) continue;
            const f = plan.files[o.pick % plan.files.length]!;
            await applyRowDelta(root, { positionDeletes: [{ filePath: f.originalPath, pos: o.pick % f.recordCount }] });
          }
        }
        await expectVersionsMatchReader(root);
      }),
      { numRuns: 60, seed: 20261207 },
    );
  }, 600_000);
});
