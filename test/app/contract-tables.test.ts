import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../core/api';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const ctx: HandlerContext = { emit: () => undefined };
const handlers = createHandlers({ storage: createLocalStorage(), mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null });
const call = async (name: string, input: unknown) => {
  const r = await dispatchCall(handlers, name, input, ctx);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as never;
};
const fixtures = FIXTURES;
const paimon = join(fixtures, 'paimon/paimon-cpp/pk_table_scan_and_read_mor');
const iceberg = join(fixtures, 'iceberg/icebird/java_bunnies');

afterAll(() => undefined);

describe('lake.* and query.* calls on both formats', () => {
  it('Iceberg: info, timeline, schema, files and a sorted, filtered page', async () => {
    const info = await call('lake.tableInfo', { path: iceberg });
    expect(info).toMatchObject({ format: 'iceberg', formatVersion: 2, currentSnapshotId: '9158179788527662767', snapshotCount: 3 });
    const snaps: { snapshotId: string; operation: string }[] = await call('lake.snapshots', { path: iceberg });
    expect(snaps.map((s) => s.operation)).toEqual(['append', 'delete', 'overwrite']);
    const schema = await call('lake.schema', { path: iceberg, version: { snapshotId: '4951213507629824583' } });
    expect((schema as { fields: { name: string }[] }).fields.map((f) => f.name)).not.toContain('__happy__');
    const files: { content: string }[] = await call('lake.files', { path: iceberg });
    expect(files.map((f) => f.content).sort()).toEqual(['data', 'data', 'equality-deletes', 'position-deletes']);
    // An unsorted first page of a version with deletes does not wait for the count: it says so.
    const first = (await call('query.page', { path: iceberg, limit: 5 })) as { totalRows: number; totalPending: boolean; rows: unknown[][] };
    // 21 rows appended, 1 re-inserted by the update: 22 records before deletes.
    expect(first).toMatchObject({ totalRows: 22, totalPending: true });
    expect(first.rows).toHaveLength(5);
    const page = await call('query.page', { path: iceberg, sort: [{ column: 'Popularity Rank', desc: true }], filters: [{ column: 'Ear Type', op: '=', value: 'Lop' }], limit: 3 });
    const p = page as { totalRows: number; rows: unknown[][]; columns: { name: string }[] };
    const rank = p.columns.findIndex((c) => c.name === 'Popularity Rank');
    expect(p.rows).toHaveLength(3);
    expect(p.rows.map((r) => Number(r[rank]))).toEqual([...p.rows.map((r) => Number(r[rank]))].sort((a, b) => b - a));
    expect(p.totalRows).toBeLessThan(15);
    // 64-bit values arrive as decimal strings on the wire.
    expect(typeof p.rows[0]![rank]).toBe('string');
    // Once a read has learnt every file's live rows (the sorted page above), a page's total is exact at once.
    expect(await call('query.page', { path: iceberg, limit: 1 })).toMatchObject({ totalRows: 15, totalPending: false });
    expect(await call('query.count', { path: iceberg })).toEqual({ rows: 15 });
  });

  it('Paimon: info, timeline, schema, files and pages in the same shapes', async () => {
    const info = await call('lake.tableInfo', { path: paimon });
    // totalRecords is the records in files (Paimon's totalRecordCount, like Iceberg's total-records): 16 before the merge, 11 live.
    expect(info).toMatchObject({ format: 'paimon', currentSnapshotId: '5', snapshotCount: 5, totalRecords: 16 });
    const snaps: { snapshotId: string; totalRecords: number }[] = await call('lake.snapshots', { path: paimon });
    expect(snaps.map((s) => s.snapshotId)).toEqual(['1', '2', '3', '4', '5']);
    const schema = (await call('lake.schema', { path: paimon })) as { identifierFields: string[]; fields: { name: string }[] };
    expect(schema.identifierFields).toEqual(['f0', 'f1', 'f2']);
    const page = (await call('query.page', { path: paimon, version: { snapshotId: '2' }, limit: 100 })) as { totalRows: number };
    expect(page).toMatchObject({ totalRows: 8, totalPending: false });
    expect(await call('query.count', { path: paimon, version: { snapshotId: '2' } })).toEqual({ rows: 8 });
    const alice = (await call('query.page', { path: paimon, filters: [{ column: 'f0', op: '=', value: 'Alice' }] })) as { rows: unknown[][]; columns: { name: string }[] };
    expect(alice.rows).toHaveLength(1);
    expect(alice.rows[0]![alice.columns.findIndex((c) => c.name === 'f3')]).toBe(19.1);
    const files: unknown[] = await call('lake.files', { path: paimon });
    expect(files.length).toBeGreaterThan(0);
    const stats = (await call('query.stats', { path: paimon })) as { name: string; count: number }[];
    expect(stats.find((s) => s.name === 'f0')!.count).toBe(11);
  });

  it('Paimon schema diff by field id across an ALTER TABLE', async () => {
    const altered = join(fixtures, 'paimon/paimon-cpp/pk_table_with_alter_table');
    const snaps: { snapshotId: string; schemaId: number }[] = await call('lake.snapshots', { path: altered });
    const first = snaps.find((s) => s.schemaId === 0)!;
    const diff = (await call('query.schemaDiff', { path: altered, from: first.snapshotId, to: 'current' })) as { added: unknown[]; removed: unknown[]; renamed: unknown[] };
    expect(diff.added.length + diff.removed.length + diff.renamed.length).toBeGreaterThan(0);
  });

  it('names a folder that is no table', async () => {
    const r = await dispatchCall(handlers, 'lake.tableInfo', { path: fixtures }, ctx);
    expect(r).toEqual({ ok: false, error: { code: 'NotFound', message: `not an Iceberg or Paimon table: ${fixtures}`, context: { path: fixtures } } });
  });
});
