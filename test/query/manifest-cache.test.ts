import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../../core/lake/table';
import { appendRows, applyRowDelta, createTable } from '../../core/lake/write';
import { readKeyHistory } from '../../core/query/key-history';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { icebergSource } from '../../core/query/table-source';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { createLocalStorage } from '../../core/storage/node/index';

let dir: string;
const storage = createLocalStorage();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-manifests-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('manifest cache', () => {
  it('reads each manifest once while planning every snapshot of a table (key history)', async () => {
    const root = join(dir, 't');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    for (let c = 0; c < 6; c++) await appendRows(root, [{ id: BigInt(c), v: `c${c}` }]);
    await applyRowDelta(root, { upserts: [{ id: 3n, v: 'new' }] });
    const reads = new Map<string, number>();
    const counting = { ...storage, readFile: (p: string) => (reads.set(p, (reads.get(p) ?? 0) + 1), storage.readFile(p)) };
    const engine = await createNodeQueryEngine(counting);
    try {
      const h = await readKeyHistory(engine, icebergSource(engine, await loadTable(counting, root)), { id: '3' });
      expect(h.map((v) => v.status)).toEqual(['inserted', 'unchanged', 'unchanged', 'updated']);
      const manifests = [...reads].filter(([p]) => p.endsWith('.avro') && !p.split('/').pop()!.startsWith('snap-'));
      // 7 snapshots list 1 + 2 + … manifests; each is decoded once.
      expect(manifests.length).toBeGreaterThanOrEqual(7);
      expect(manifests.filter(([, n]) => n > 1)).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('plans a console query\'s filtered version once', async () => {
    const root = join(dir, 'wh', 'ns', 'orders');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    for (let c = 0; c < 3; c++) await appendRows(root, [{ id: BigInt(c), v: `c${c}` }]);
    await applyRowDelta(root, { deleteKeys: [{ id: 1n }] });
    const reads = new Map<string, number>();
    const counting = { ...storage, readFile: (p: string) => (reads.set(p, (reads.get(p) ?? 0) + 1), storage.readFile(p)) };
    const engine = await createNodeQueryEngine(counting);
    try {
      const r = await queryWarehouse(engine, join(dir, 'wh'), 'SELECT id, v FROM ns.orders WHERE id >= 1 ORDER BY id');
      expect(r.rows).toEqual([[2n, 'c2']]);
      // The manifest list is read once per plan: the budget check and the view share one plan.
      const lists = [...reads].filter(([p]) => p.split('/').pop()!.startsWith('snap-'));
      expect(lists).toHaveLength(1);
      expect(lists[0]![1]).toBe(1);
    } finally {
      await engine.close();
    }
  });
});
