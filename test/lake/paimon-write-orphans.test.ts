/**
 * Orphan-file removal on Paimon tables (Java's remove_orphan_files): only unused files older than the
 * threshold go; files a tag, a branch or an expired-but-tagged snapshot still names stay, and so do
 * snapshot/, schema/ and hints.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listPaimonSnapshotIds, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonBranch, createPaimonTable, createPaimonTag, expirePaimonSnapshots, removePaimonOrphanFiles, rollbackPaimonTable } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { expectError, tableRoot } from '../paimon/helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-paimon-orphans-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const DAY = 86_400_000;
const now = Date.now();
const old = new Date(now - 10 * DAY);

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Everything the table holds is made 10 days old, so only use (not age) can keep it. */
function ageAll(dir: string): void {
  for (const f of allFiles(dir)) utimesSync(f, old, old);
}

function plant(path: string, age: 'old' | 'new'): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, 'orphan');
  if (age === 'old') utimesSync(path, old, old);
  return path;
}

async function readAll(root: string) {
  return {
    main: (await scanPaimonRows(storage, root)).rows,
    tag: (await scanPaimonRows(storage, root, { tag: 'r2' })).rows,
    branch: (await scanPaimonRows(storage, root, { ref: 'audit' })).rows,
  };
}

describe('Paimon writer: remove orphan files', () => {
  it('removes only old unused files; tag-, branch- and expired-but-tagged files stay; the dry run names the same files', async () => {
    const root = join(work, 't');
    const env = seededWriteEnv(23);
    const commit = (id: bigint, changes: Parameters<typeof commitPaimonChanges>[1]) => commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: id, compaction: 'none', env });
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '2' } }, env);
    await commit(1n, [{ kind: '+I', row: { k: 1, v: 'a' } }, { kind: '+I', row: { k: 2, v: 'b' } }]);
    await commit(2n, [{ kind: '+U', row: { k: 1, v: 'a2' } }]);
    await createPaimonBranch(root, 'audit', { snapshotId: 2n, env });
    // Snapshot 2 of main goes; its level-0 file is now named by the branch alone.
    await rollbackPaimonTable(root, 1n, { env });
    await commit(3n, [{ kind: '+I', row: { k: 3, v: 'c' } }]);
    expect(await createPaimonTag(root, 'r2', { env })).toBe(2n);
    await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    // Snapshots 1 and 2 expire; the tag keeps snapshot 2's files (k=3's level-0 file only it names).
    expect((await expirePaimonSnapshots(root, { retainMin: 1, retainMax: 1, env })).expiredSnapshotIds).toEqual([1n, 2n]);
    expect(await listPaimonSnapshotIds(storage, root)).toEqual([3n]);
    const before = await readAll(root);
    const byKey = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.k) - Number(b.k));
    expect(byKey(before.main)).toEqual([{ k: 1, v: 'a' }, { k: 2, v: 'b' }, { k: 3, v: 'c' }]);
    expect(byKey(before.tag)).toEqual([{ k: 1, v: 'a' }, { k: 2, v: 'b' }, { k: 3, v: 'c' }]);
    expect(byKey(before.branch)).toEqual([{ k: 1, v: 'a2' }, { k: 2, v: 'b' }]);

    ageAll(root);
    const bucket = readdirSync(root).find((n) => n.startsWith('bucket-'))!;
    const oldOrphans = [
      plant(join(root, bucket, 'data-00000000-dead-beef-0000-000000000000-0.parquet'), 'old'),
      plant(join(root, 'manifest', 'manifest-00000000-dead-beef-0000-000000000000-0'), 'old'),
      plant(join(root, 'index', 'index-00000000-dead-beef-0000-000000000000-0'), 'old'),
      plant(join(root, 'statistics', 'stat-00000000-dead-beef-0000-000000000000-0'), 'old'),
      plant(join(root, 'snapshot', '.snapshot-4.00000000-dead-beef.tmp'), 'old'),
      plant(join(root, 'branch', 'branch-audit', 'snapshot', '.snapshot-3.00000000-dead-beef.tmp'), 'old'),
    ].sort();
    const newOrphan = plant(join(root, bucket, 'data-11111111-dead-beef-0000-000000000000-0.parquet'), 'new');
    // Not candidates whatever their age: schema/ and tag/ are metadata, and a folder that is no bucket is not scanned.
    const notScanned = [plant(join(root, 'schema', 'stray'), 'old'), plant(join(root, 'tag', 'stray'), 'old'), plant(join(root, 'misc', 'stray'), 'old')];
    const files = allFiles(root);

    const olderThanMs = now - 3 * DAY;
    const preview = await removePaimonOrphanFiles(root, { olderThanMs, dryRun: true });
    expect(preview.removed).toBe(false);
    expect(preview.orphans.map((o) => o.path)).toEqual(oldOrphans);
    // stat's mtimeMs comes from nanoseconds as a float: 1795817811077 may read back as …076.999.
    expect(preview.orphans.every((o) => o.size === 6 && Math.abs(o.mtimeMs - old.getTime()) < 1)).toBe(true);
    expect(allFiles(root)).toEqual(files);

    const run = await removePaimonOrphanFiles(root, { olderThanMs });
    expect(run).toEqual({ ...preview, removed: true });
    expect(allFiles(root)).toEqual(files.filter((f) => !oldOrphans.includes(f)));
    expect(existsSync(newOrphan)).toBe(true);
    expect(notScanned.every((f) => existsSync(f))).toBe(true);
    expect(await readAll(root)).toEqual(before);
    // Every data, manifest and index file the table had is still in use: the next run finds nothing.
    expect((await removePaimonOrphanFiles(root, { olderThanMs })).orphans).toEqual([]);
    expect(run.referencedCount).toBe(allFiles(root).filter((f) => /\/(manifest|index|bucket-\d+)\//.test(f) && f !== newOrphan).length);
  });

  it('a Java-written table loses nothing, however old its files', async () => {
    for (const name of readdirSync(join(tableRoot('append_09'), '..'))) {
      const root = join(work, 'java', name);
      cpSync(tableRoot(name), root, { recursive: true });
      ageAll(root);
      const files = allFiles(root);
      const r = await removePaimonOrphanFiles(root, { olderThanMs: now });
      expect([name, r.orphans]).toEqual([name, []]);
      expect(r.referencedCount).toBeGreaterThan(0);
      expect(allFiles(root)).toEqual(files);
    }
  });

  it('refuses to delete when a file of the latest snapshot is missing, and a bad threshold', async () => {
    const root = join(work, 'broken');
    cpSync(tableRoot('pk_table_scan_and_read_mor'), root, { recursive: true });
    const data = allFiles(root).filter((f) => /\/bucket-\d+\//.test(f));
    expect(data.length).toBeGreaterThan(0);
    await expectError(removePaimonOrphanFiles(root, { olderThanMs: Number.NaN }), 'InvalidInput', 'olderThanMs must be a finite time, found NaN');
    // Data files gone by hand: the layout no longer matches what the manifests name, so nothing may go.
    for (const f of data) rmSync(f);
    const before = allFiles(root);
    await expectError(removePaimonOrphanFiles(root, { olderThanMs: now + DAY }), 'NotFound', 'remove orphans: refusing to delete anything');
    expect(allFiles(root)).toEqual(before);
  });
});
