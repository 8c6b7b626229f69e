/**
 * Live counts of data files kept by the lazy reader once known (core/query/pages/live-masks.ts):
 * a count records them, and a later count or deep page of any version sharing a data file and its
 * deletes skips that file without decoding its key column, even after its mask was evicted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../../core/lake/table';
import { applyColumnDelta, createTable } from '../../core/lake/write';
import { createLazyReader } from '../../core/query/pages/reader';
import { createLocalStorage } from '../../core/storage/node/index';
import { appendInRowGroups } from '../support/row-groups';

const storage = createLocalStorage();
const FILES = 6;
const PER_FILE = 2000;
let dir: string;
let root: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-live-counts-'));
  root = join(dir, 't');
  await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
  for (let f = 0; f < FILES; f++) {
    const rows = Array.from({ length: PER_FILE }, (_, i) => ({ id: BigInt(f * PER_FILE + i), v: `v${f * PER_FILE + i}` }));
    await appendInRowGroups(root, rows, 500, null, `f${f}`);
  }
  // A tenth of the keys deleted by equality deletes: every data file has deletes.
  const keys = Array.from({ length: (FILES * PER_FILE) / 10 }, (_, i) => BigInt(i * 10 + 3));
  await applyColumnDelta(root, { deleteKeys: { length: keys.length, columns: { id: keys } } });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LIVE = FILES * PER_FILE * 0.9;

describe('live counts kept by the lazy reader', () => {
  it('counts another version sharing the files without reading them, masks evicted', async () => {
    const table = await loadTable(storage, root);
    const current = table.metadata.currentSnapshotId!;
    // Masks evicted as soon as made, and decoded columns too: only the kept counts remain.
    const reader = createLazyReader({ parquet, storage, liveMaskBytes: 0, cacheBytes: 1 });
    expect(await reader.count(table, {})).toBe(LIVE);
    const decoded = reader.stats.decoded;
    // The same snapshot by id is another version of the reader (its own plan, no count yet).
    expect(await reader.count(table, { snapshotId: current })).toBe(LIVE);
    expect(reader.stats.decoded).toBe(decoded);
    // By ref too: once its plan is complete, its page's total is exact without a count.
    await reader.version(table, { ref: 'main' });
    expect(await reader.window(table, { ref: 'main' }, 0, 1)).toMatchObject({ totalRows: LIVE, totalPending: false });
  });

  it('pages deep after a count decoding only the file that holds the page', async () => {
    const table = await loadTable(storage, root);
    const offset = Math.floor(LIVE * 0.8);
    // The reference: a reader that knows nothing masks every file before the page.
    const fresh = createLazyReader({ parquet, storage, liveMaskBytes: 0, cacheBytes: 1 });
    const expected = await fresh.window(table, {}, offset, 20);
    const freshDecoded = fresh.stats.decoded;

    const counted = createLazyReader({ parquet, storage, liveMaskBytes: 0, cacheBytes: 1 });
    expect(await counted.count(table, {})).toBe(LIVE);
    const before = counted.stats.decoded;
    const page = await counted.window(table, {}, offset, 20);
    expect(page.rows).toEqual(expected.rows);
    // Live ids in file order skip every id ending in 3.
    expect(page.rows.map((r) => Number(r[0]) % 10)).not.toContain(3);
    const used = counted.stats.decoded - before;
    console.log(`deep page column chunks decoded: ${used} after a count, ${freshDecoded} without`);
    expect(used).toBeLessThan(freshDecoded / 2);
  });
});
