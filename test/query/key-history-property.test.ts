/**
 * Key history read without SQL (core/query/key-rows.ts: pruned files and row groups, key columns
 * through the row-group cache, deletes checked for the matched rows only) equals key history over
 * the merge-on-read SQL views, on generated tables: appends in tiny row groups (so row-group
 * statistics prune), upserts and key deletes (equality deletes), position deletes of random rows,
 * compaction; every key of the domain plus texts that only look like keys, for a long key and for
 * a string key.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendInRowGroups } from '../support/row-groups';
import { planScan } from '../../core/lake/scan-plan';
import { loadTable } from '../../core/lake/table';
import { applyRowDelta, createTable, rewriteDataFiles } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import { readKeyHistory } from '../../core/query/key-history';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { icebergSource, type TableSource } from '../../core/query/table-source';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
let engine: QueryEngine;
let dir: string;
beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
  dir = await mkdtemp(join(tmpdir(), 'tidemark-keyhist-'));
});
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The same source answering through SQL views only (the reference). */
function sqlOnly(source: TableSource): TableSource {
  const { keyRows: _unused, ...rest } = source;
  return rest;
}

type Op =
  | { kind: 'append'; ids: number[]; groupRows: number }
  | { kind: 'upsert' | 'delete'; ids: number[] }
  | { kind: 'position'; picks: number[] }
  | { kind: 'compact' };
const append = fc.record({ kind: fc.constant('append' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 10 }), groupRows: fc.integer({ min: 1, max: 4 }) });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: append },
  { weight: 3, arbitrary: fc.record({ kind: fc.constantFrom('upsert', 'delete') as fc.Arbitrary<'upsert' | 'delete'>, ids: fc.uniqueArray(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 5 }) }) },
  fc.record({ kind: fc.constant('position' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('compact' as const) }),
);

describe('key history without SQL (property)', () => {
  for (const keyType of ['long', 'string'] as const) {
    it(`equals key history over SQL views on random histories (${keyType} key)`, async () => {
      let run = 0;
      await fc.assert(
        // A first append, so that later deletes find rows.
        fc.asyncProperty(append, fc.array(op, { minLength: 2, maxLength: 7 }), async (first, rest) => {
          const ops: Op[] = [first, ...rest];
          const root = join(dir, `${keyType}${run++}`);
          await createTable(root, { columns: [{ name: 'id', type: keyType, required: true }, { name: 'v', type: 'string' }, { name: 'n', type: 'int' }], identifierColumns: ['id'] });
          const id = (k: number) => (keyType === 'long' ? BigInt(k) : `k${k}`);
          let file = 0;
          for (const o of ops) {
            if (o.kind === 'append') {
              // Keys may repeat across files: older copies are removed by upserts' equality deletes only.
              await appendInRowGroups(root, o.ids.map((k, i) => ({ id: id(k), v: i % 3 === 0 ? null : `a${file}.${i}`, n: i })), o.groupRows, null, `f${file++}`);
            } else if (o.kind === 'upsert') {
              await applyRowDelta(root, { upserts: o.ids.map((k) => ({ id: id(k), v: `u${k}`, n: -k })) });
            } else if (o.kind === 'delete') {
              await applyRowDelta(root, { deleteKeys: o.ids.map((k) => ({ id: id(k) })) });
            } else if (o.kind === 'position') {
              const plan = await planScan(storage, root);
              if (plan.files.length === 0) continue;
              const target = plan.files[o.picks[0]! % plan.files.length]!;
              const positions = [...new Set(o.picks.map((p) => p % target.recordCount))];
              await applyRowDelta(root, { positionDeletes: positions.map((pos) => ({ filePath: target.originalPath, pos })) });
            } else {
              if ((await planScan(storage, root)).files.length === 0) continue;
              await rewriteDataFiles(root);
            }
          }
          const source = icebergSource(engine, await loadTable(storage, root));
          const reference = sqlOnly(source);
          const texts = [...Array.from({ length: 16 }, (_x, k) => String(id(k))), ...(keyType === 'long' ? ['007', '-0', '3.0', 'x'] : ['K1', 'k01', ''])];
          for (const text of texts) {
            const got = await readKeyHistory(engine, source, { id: text });
            const want = await readKeyHistory(engine, reference, { id: text });
            expect(got, `key ${JSON.stringify(text)}`).toEqual(want);
          }
        }),
        { numRuns: 10, seed: 20261207, endOnFailure: true },
      );
    }, 600_000);
  }
});
