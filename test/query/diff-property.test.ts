import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../../core/lake/table';
import { valueKey } from '../../core/lake/values';
import { applyRowDelta, appendRows, createTable } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { diffRows } from '../../core/query/row-diff';
import { icebergSource } from '../../core/query/table-source';
import { createLocalStorage } from '../../core/storage/node/index';

let engine: QueryEngine;
let dir: string;
const storage = createLocalStorage();

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
  dir = await mkdtemp(join(tmpdir(), 'tidemark-diffprop-'));
});
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

type Op = { kind: 'insert' | 'upsert' | 'delete'; ids: number[]; tag: string };
const op = fc.record({
  kind: fc.constantFrom('insert', 'upsert', 'delete') as fc.Arbitrary<Op['kind']>,
  ids: fc.uniqueArray(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 5 }),
  tag: fc.string({ maxLength: 3 }),
});

const key = (rows: Record<string, unknown>[]) => rows.map((r) => valueKey([r.id, r.v])).sort();

describe('row diff (property)', () => {
  it('applying diff(a, b) to a gives b, and diff(a, a) is empty, on generated histories', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 5 }), async (ops) => {
        const root = join(dir, `t${run++}`);
        await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
        const live = new Set<number>();
        for (const o of ops) {
          if (o.kind === 'insert') {
            const fresh = o.ids.filter((id) => !live.has(id));
            if (fresh.length === 0) continue;
            await appendRows(root, fresh.map((id) => ({ id: BigInt(id), v: `${o.tag}${id}` })));
            fresh.forEach((id) => live.add(id));
          } else if (o.kind === 'upsert') {
            await applyRowDelta(root, { upserts: o.ids.map((id) => ({ id: BigInt(id), v: `${o.tag}!${id}` })) });
            o.ids.forEach((id) => live.add(id));
          } else {
            await applyRowDelta(root, { deleteKeys: o.ids.map((id) => ({ id: BigInt(id) })) });
            o.ids.forEach((id) => live.delete(id));
          }
        }
        const table = await loadTable(storage, root);
        const source = icebergSource(engine, table);
        const ids = source.snapshots.map((s) => s.snapshotId);
        const rowsAt = async (id: bigint) => (await engine.query(`SELECT id, v FROM ${await source.relation(id)}`)).rows.map((r) => ({ id: r[0], v: r[1] }));
        for (const a of ids) {
          for (const b of ids) {
            const d = await diffRows(engine, source, a, b, { limit: 1000 });
            if (a === b) expect(d.addedCount + d.removedCount + d.changedCount).toBe(0);
            const state = new Map((await rowsAt(a)).map((r) => [String(r.id), r]));
            for (const r of d.removed) state.delete(String(r.id));
            for (const r of d.added) state.set(String(r.id), { id: r.id, v: r.v });
            for (const c of d.changed) state.set(String(c.after.id), { id: c.after.id, v: c.after.v });
            expect(key([...state.values()])).toEqual(key(await rowsAt(b)));
          }
        }
      }),
      { numRuns: 6, seed: 20261128 },
    );
  }, 240_000);
});
