import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../core/api';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { commitPaimonChanges, createPaimonTable } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';

/** A table the writer made, through the app's lake.* and query.* calls (what the explorer shows). */
const ctx: HandlerContext = { emit: () => undefined };
const handlers = createHandlers({ storage: createLocalStorage(), mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null });
const call = async (name: string, input: unknown) => {
  const r = await dispatchCall(handlers, name, input, ctx);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as never;
};

describe('Paimon writer: tables read through the app calls', () => {
  it('tableInfo, snapshots, count and a filtered page of a written table', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-app-')), 'orders');
    const env = seededWriteEnv(91);
    await createPaimonTable(root, { columns: [{ name: 'id', type: 'BIGINT' }, { name: 'city', type: 'STRING' }, { name: 'total', type: 'DOUBLE' }], primaryKeys: ['id'], options: { bucket: '2' } }, env);
    await commitPaimonChanges(root, Array.from({ length: 20 }, (_, i) => ({ kind: '+I' as const, row: { id: BigInt(i), city: i % 2 ? 'Oslo' : 'Lima', total: i * 2.5 } })), { commitUser: 'u', commitIdentifier: 1n, compaction: 'none', env });
    await commitPaimonChanges(root, [{ kind: '-D', row: { id: 3n } }, { kind: '+U', row: { id: 4n, city: 'Oslo', total: 1000 } }], { commitUser: 'u', commitIdentifier: 2n, compaction: 'none', env });

    expect(await call('lake.tableInfo', { path: root })).toMatchObject({ format: 'paimon', currentSnapshotId: '2', snapshotCount: 2, totalRecords: 22 });
    const snaps: { snapshotId: string; operation: string }[] = await call('lake.snapshots', { path: root });
    expect(snaps.map((s) => [s.snapshotId, s.operation])).toEqual([['1', 'append'], ['2', 'append']]);
    expect(await call('query.count', { path: root })).toEqual({ rows: 19 });
    expect(await call('query.count', { path: root, version: { snapshotId: '1' } })).toEqual({ rows: 20 });
    const page = (await call('query.page', { path: root, filters: [{ column: 'city', op: '=', value: 'Oslo' }], sort: [{ column: 'id', desc: false }], limit: 100 })) as { rows: unknown[][]; columns: { name: string }[] };
    const id = page.columns.findIndex((c) => c.name === 'id');
    const total = page.columns.findIndex((c) => c.name === 'total');
    expect(page.rows.map((r) => Number(r[id]))).toEqual([1, 4, 5, 7, 9, 11, 13, 15, 17, 19]);
    expect(Number(page.rows[1]![total])).toBe(1000);
  });
});
