/**
 * Switching versions reuses what was read (issue 24): the grid's pages of an older snapshot read
 * none of the data files an earlier page already read, and a count of the older snapshot of a
 * table with deletes masks none of the files the current one's count masked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../../core/lake/table';
import { appendRows, applyColumnDelta, createTable } from '../../core/lake/write';
import { createLazyReader } from '../../core/query/pages/reader';
import type { StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';

const local = createLocalStorage();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-switch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The storage with every read of a Parquet file recorded (whole or ranged). */
function recording(): { storage: StoragePort; parquetReads: string[] } {
  const parquetReads: string[] = [];
  const note = (p: string) => p.endsWith('.parquet') && parquetReads.push(p);
  const storage: StoragePort = {
    ...local,
    readFile: (p) => (note(p), local.readFile(p)),
    readRange: (p, o, l) => (note(p), local.readRange(p, o, l)),
    readRanges: local.readRanges ? (p, r) => (note(p), local.readRanges!(p, r)) : undefined,
  };
  return { storage, parquetReads };
}

describe('switching versions', () => {
  it('pages an older snapshot without reading a data file again', async () => {
    const root = join(dir, 'plain');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    for (let c = 0; c < 3; c++) await appendRows(root, Array.from({ length: 50 }, (_, i) => ({ id: BigInt(c * 50 + i), v: `c${c}` })));
    const { storage, parquetReads } = recording();
    const reader = createLazyReader({ parquet, storage });
    const table = await loadTable(storage, root);
    const current = await reader.window(table, {}, 0, 1000);
    expect(current.rows.length).toBe(150);
    expect(new Set(parquetReads).size).toBe(3);
    parquetReads.length = 0;
    const second = [...table.metadata.snapshots].sort((a, b) => Number(a.sequenceNumber - b.sequenceNumber))[1]!;
    const older = await reader.window(table, { snapshotId: second.snapshotId }, 0, 1000);
    expect(older.rows.map((r) => Number(r[0])).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(parquetReads).toEqual([]);
  });

  it('counts an older snapshot sharing files and deletes without reading them again', async () => {
    const root = join(dir, 'deletes');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    for (let c = 0; c < 3; c++) await appendRows(root, Array.from({ length: 50 }, (_, i) => ({ id: BigInt(c * 50 + i), v: `c${c}` })));
    await applyColumnDelta(root, { deleteKeys: { length: 3, columns: { id: [7n, 57n, 107n] } } });
    // A last append: the version before it has the same files and deletes, one file fewer.
    await appendRows(root, Array.from({ length: 50 }, (_, i) => ({ id: BigInt(150 + i), v: 'c3' })));
    const { storage, parquetReads } = recording();
    const reader = createLazyReader({ parquet, storage });
    const table = await loadTable(storage, root);
    expect(await reader.count(table, {})).toBe(197);
    parquetReads.length = 0;
    const snaps = [...table.metadata.snapshots].sort((a, b) => Number(a.sequenceNumber - b.sequenceNumber));
    expect(await reader.count(table, { snapshotId: snaps.at(-2)!.snapshotId })).toBe(147);
    expect(parquetReads).toEqual([]);
  });
});
