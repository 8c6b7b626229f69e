import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable, scanRows } from '../../core/lake';
import { appendRows, applyRowDelta, createTable, rewriteDataFiles } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';

// Compaction racing a writer (as it races the sync runner): both start from the same base; the one
// that loses the publish rebases and retries, and no change of either is lost or undone.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-race-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('compaction racing a row delta', () => {
  it.each([0, 1, 2, 3, 4])('trial %i: deletes and updates committed during a compaction survive it', async (trial) => {
    const root = join(dir, `t${trial}`);
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    await appendRows(root, Array.from({ length: 100 }, (_, i) => ({ id: BigInt(i), v: 'a' })));
    await applyRowDelta(root, { deleteKeys: [{ id: 1n }] });
    const versionsBefore = (await readdir(join(root, 'metadata'))).filter((f) => f.endsWith('.metadata.json')).length;
    const results = await Promise.allSettled([rewriteDataFiles(root), applyRowDelta(root, { deleteKeys: [{ id: 5n }], upserts: [{ id: 7n, v: `b${trial}` }] })]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const storage = createLocalStorage();
    const { rows } = await scanRows(storage, root);
    const ids = rows.map((r) => Number(r.id));
    expect(ids).toHaveLength(98);
    expect(new Set(ids).size).toBe(98);
    expect(ids).not.toContain(1);
    expect(ids).not.toContain(5);
    expect(rows.filter((r) => Number(r.id) === 7).map((r) => r.v)).toEqual([`b${trial}`]);
    // Both commits landed as their own versions; nothing was overwritten.
    const table = await loadTable(storage, root);
    expect(table.metadata.snapshots.map((s) => s.summary.operation).slice(-2).sort()).toEqual(['overwrite', 'replace'].sort());
    expect((await readdir(join(root, 'metadata'))).filter((f) => f.endsWith('.metadata.json')).length).toBe(versionsBefore + 2);
  });
});
