/**
 * Lazy grid pages and counts (core/query/pages) equal the reference reader (core/lake scanRows) on
 * generated tables: appends written with tiny row groups and pages (so windows start and end
 * inside row groups and pages, skip whole ones, and read pages through the offset index), equality deletes and upserts (global, by the identifier), and
 * position deletes of random rows of random data files, over several commits; every snapshot is
 * checked at random offsets and limits, with a roomy cache, with one so small that every read
 * evicts, and with every file masked from its key range's delete pages only.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatedOps, generateTable } from '../support/row-groups';
import { scanRows } from '../../core/lake/row-reader';
import { loadTable } from '../../core/lake/table';
import { createLazyReader } from '../../core/query/pages/reader';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-lazy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const op = generatedOps({ maxId: 40, appendIds: 14, appendWeight: 3, maxPageRows: 3, deletes: 6, picks: 6 });
const windows = fc.array(fc.tuple(fc.nat({ max: 60 }), fc.integer({ min: 1, max: 25 })), { minLength: 3, maxLength: 6 });

describe('lazy grid pages (property)', () => {
  it('windows and counts of every snapshot equal the reference reader', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 7 }), windows, async (ops, wins) => {
        const root = join(dir, `t${run++}`);
        await generateTable(root, ops, run);
        const table = await loadTable(storage, root);
        const roomy = createLazyReader({ parquet, storage });
        const tiny = createLazyReader({ parquet, storage, cacheBytes: 64 });
        // Every data file masked from the pages of its key range only (the deep-page path).
        const ranged = createLazyReader({ parquet, storage, equalityWithinFraction: 1 });
        // Masks evicted as soon as made, live counts kept: after a count, windows skip files by
        // their kept counts, and later snapshots sharing a file and its deletes reuse its count.
        const counted = createLazyReader({ parquet, storage, cacheBytes: 64, liveMaskBytes: 0 });
        for (const s of table.metadata.snapshots) {
          const sel = { snapshotId: s.snapshotId };
          const ref = await scanRows(storage, table, sel);
          const rows = ref.rows.map((r) => ref.columns.map((c) => r[c.name]));
          for (const reader of [roomy, tiny, ranged]) {
            for (const [offset, limit] of wins) {
              const w = await reader.window(table, sel, offset, limit);
              expect(w.rows, `snapshot ${s.sequenceNumber} window ${offset}+${limit}`).toEqual(rows.slice(offset, offset + limit));
            }
            expect(await reader.count(table, sel)).toBe(rows.length);
            expect(await reader.window(table, sel, 0, 1)).toMatchObject({ totalRows: rows.length, totalPending: false });
          }
          expect(await counted.count(table, sel)).toBe(rows.length);
          for (const [offset, limit] of wins) {
            const w = await counted.window(table, sel, offset, limit);
            expect(w.rows, `counted first: snapshot ${s.sequenceNumber} window ${offset}+${limit}`).toEqual(rows.slice(offset, offset + limit));
          }
        }
      }),
      { numRuns: 25, seed: 24, endOnFailure: true },
    );
  }, 300_000);
});
