/**
 * The lake.* write calls on a Paimon table (a copy of a Java-written fixture), through the same
 * handler table and contract as Iceberg's: refs in tableInfo (main, tags, branches), tag and branch
 * calls, rollback, expiry and compaction previews that match the runs, and the Unsupported ones.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../core/api';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { createLocalStorage } from '../../core/storage/node/index';
import { tableRoot } from '../paimon/helpers';

const ctx: HandlerContext = { emit: () => undefined };
const handlers = createHandlers({ storage: createLocalStorage(), mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null });
const reply = (name: string, input: unknown) => dispatchCall(handlers, name, input, ctx);
const call = async (name: string, input: unknown) => {
  const r = await reply(name, input);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as never;
};
const work = mkdtempSync(join(tmpdir(), 'tidemark-paimon-app-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lake.* write calls on a Paimon table', () => {
  it('tags, branches and rollback: the timeline refs follow at once', async () => {
    const path = join(work, 'refs');
    cpSync(tableRoot('pk_table_scan_and_read_mor'), path, { recursive: true });
    expect((await call('lake.tableInfo', { path }) as { refs: unknown[] }).refs).toEqual([{ name: 'main', type: 'branch', snapshotId: '5' }]);

    expect(await call('lake.setRef', { path, name: 'q4-close', type: 'tag', snapshotId: '2' })).toEqual({ name: 'q4-close', type: 'tag', snapshotId: '2', previousSnapshotId: null, mode: null });
    expect(await call('lake.setRef', { path, name: 'audit', type: 'branch', snapshotId: '4' })).toEqual({ name: 'audit', type: 'branch', snapshotId: '4', previousSnapshotId: null, mode: null });
    expect((await call('lake.tableInfo', { path }) as { refs: unknown[] }).refs).toEqual([
      { name: 'main', type: 'branch', snapshotId: '5' },
      { name: 'q4-close', type: 'tag', snapshotId: '2' },
      { name: 'audit', type: 'branch', snapshotId: '4' },
    ]);
    expect(await call('query.count', { path, version: { ref: 'q4-close' } })).toEqual({ rows: 8 });
    expect(await call('query.count', { path, version: { ref: 'audit' } })).toEqual(await call('query.count', { path, version: { snapshotId: '4' } }));

    const pick = await reply('lake.cherryPick', { path, snapshotId: '3' });
    expect(pick).toEqual({ ok: false, error: { code: 'Unsupported', message: expect.stringContaining('is a Paimon table, and Paimon has no cherry-pick') as string, context: { table: path } } });
    const orphans = await reply('lake.removeOrphans', { path, olderThanMs: 0, dryRun: true });
    // A copy of a Java-written table with a tag and a branch added: nothing is orphaned.
    expect(orphans).toMatchObject({ ok: true, value: { dryRun: true, files: 0, bytes: 0, paths: [] } });
    expect((orphans as { value: { referencedCount: number } }).value.referencedCount).toBeGreaterThan(0);

    expect(await call('query.count', { path })).toEqual({ rows: 11 });
    const at3 = await call('query.count', { path, version: { snapshotId: '3' } });
    expect(await call('lake.rollback', { path, snapshotId: '3' })).toEqual({ name: 'main', type: 'branch', snapshotId: '3', previousSnapshotId: '5', mode: null });
    const snaps: { snapshotId: string }[] = await call('lake.snapshots', { path });
    expect(snaps.map((s) => s.snapshotId)).toEqual(['1', '2', '3']);
    // The latest version is read again (not the view loaded before the rollback).
    expect(await call('query.count', { path })).toEqual(at3);
    expect((await call('lake.tableInfo', { path }) as { refs: unknown[] }).refs).toEqual([
      { name: 'main', type: 'branch', snapshotId: '3' },
      { name: 'q4-close', type: 'tag', snapshotId: '2' },
      { name: 'audit', type: 'branch', snapshotId: '4' },
    ]);
    expect(await call('lake.removeRef', { path, name: 'audit', type: 'branch' })).toEqual({ name: 'audit', type: 'branch', snapshotId: null, previousSnapshotId: '4', mode: null });
    expect(await call('lake.removeRef', { path, name: 'q4-close', type: 'tag' })).toEqual({ name: 'q4-close', type: 'tag', snapshotId: null, previousSnapshotId: '2', mode: null });
    expect((await call('lake.tableInfo', { path }) as { refs: unknown[] }).refs).toEqual([{ name: 'main', type: 'branch', snapshotId: '3' }]);
  });

  it('expiry and compaction previews match what the runs then do', async () => {
    const path = join(work, 'maint');
    cpSync(tableRoot('pk_table_scan_and_read_mor'), path, { recursive: true });
    const preview = await call('lake.expire', { path, retainLast: 3, dryRun: true });
    expect(preview).toMatchObject({ dryRun: true, expiredSnapshotIds: ['1', '2'], keptSnapshots: 3 });
    const run = await call('lake.expire', { path, retainLast: 3 });
    expect(run).toEqual({ ...(preview as object), dryRun: false });

    const plan = (await call('lake.compact', { path, scope: { kind: 'all' }, dryRun: true })) as { files: number; estimatedFiles: number };
    expect(plan).toMatchObject({ dryRun: true, snapshotId: '5', committedSnapshotId: null });
    expect(plan.files).toBeGreaterThan(1);
    const done = await call('lake.compact', { path, scope: { kind: 'all' } });
    expect(done).toMatchObject({ ...plan, dryRun: false, committedSnapshotId: '6', writtenFiles: plan.estimatedFiles, liveRecords: 11 });
    expect(await call('query.count', { path })).toEqual({ rows: 11 });
    const small = await reply('lake.compact', { path, scope: { kind: 'small' }, dryRun: true });
    expect(small).toMatchObject({ ok: false, error: { code: 'Unsupported' } });
  });
});
