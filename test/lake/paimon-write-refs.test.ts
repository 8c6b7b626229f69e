import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPaimonBranches, listPaimonFiles, listPaimonSnapshots, listPaimonTagNames, readPaimonSchema, scanPaimonRows } from '../../core/lake/paimon';
import {
  commitPaimonChanges,
  createPaimonBranch,
  createPaimonTag,
  deletePaimonBranch,
  expirePaimonSnapshots,
  movePaimonTag,
  rollbackPaimonTable,
} from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { copyTable, expectError } from '../paimon/helpers';

/**
 * Rollback, branches and tag moves on copies of tables Java Paimon wrote (the fixtures stay
 * untouched), read back with Tidemark's reader: a rolled-back table reads as its snapshot did, a tag
 * or branch reads as its snapshot did, and only files nothing kept names are deleted.
 */

const storage = createLocalStorage();
type Row = Record<string, unknown>;
const key = (r: Row) => `${String(r.f0)}|${String(r.f1)}|${String(r.f2)}`;
const sorted = (rows: Row[]) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
const rows = async (root: string, sel: Parameters<typeof scanPaimonRows>[2] = {}) => sorted((await scanPaimonRows(storage, root, sel)).rows);

function parquetOnDisk(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet')) out.push(relative(root, p));
    }
  };
  walk(root);
  return out.sort();
}

describe('Paimon writer: rollback, branches and tag moves on a Java-written table', () => {
  it('rolls back as RollbackHelper does: later snapshots and tags go, branches keep their files', async () => {
    const root = copyTable('pk_table_scan_and_read_mor');
    const env = seededWriteEnv(7);
    const before = new Map<bigint, Row[]>();
    for (let id = 1n; id <= 5n; id++) before.set(id, await rows(root, { snapshotId: id }));
    expect(before.get(2n)).toHaveLength(8);
    expect(before.get(5n)).toHaveLength(11);

    expect(await createPaimonTag(root, 't2', { snapshotId: 2n, env })).toBe(2n);
    expect(await createPaimonTag(root, 't4', { snapshotId: 4n, env })).toBe(4n);
    expect(await createPaimonBranch(root, 'b3', { snapshotId: 3n, env })).toBe(3n);
    expect(await createPaimonBranch(root, 'from-t4', { tag: 't4', env })).toBe(4n);
    expect(await createPaimonBranch(root, 'head', { env })).toBe(5n);
    expect(await listPaimonBranches(storage, root)).toEqual(['b3', 'from-t4', 'head']);
    // Java's layout: the branch's own snapshot/, schema/ and tag/ folders, byte copies of the table's.
    const b4 = join(root, 'branch', 'branch-from-t4');
    expect(readdirSync(b4).sort()).toEqual(['schema', 'snapshot', 'tag']);
    expect(readFileSync(join(b4, 'snapshot', 'snapshot-4'), 'utf8')).toBe(readFileSync(join(root, 'snapshot', 'snapshot-4'), 'utf8'));
    expect(readFileSync(join(b4, 'tag', 'tag-t4'), 'utf8')).toBe(readFileSync(join(root, 'tag', 'tag-t4'), 'utf8'));
    expect(readdirSync(join(b4, 'schema'))).toEqual(['schema-0']);
    expect(await rows(root, { ref: 'b3' })).toEqual(before.get(3n));
    expect(await rows(root, { ref: 'from-t4' })).toEqual(before.get(4n));
    expect(await rows(root, { ref: 't2' })).toEqual(before.get(2n));

    const r = await rollbackPaimonTable(root, 2n, { env });
    expect(r).toMatchObject({ snapshotId: 2n, previousSnapshotId: 5n, removedSnapshotIds: [5n, 4n, 3n], removedTags: ['t4'] });
    expect((await listPaimonSnapshots(storage, root)).map((s) => s.snapshotId)).toEqual([1n, 2n]);
    expect(readFileSync(join(root, 'snapshot', 'LATEST'), 'utf8')).toBe('2');
    expect(await listPaimonTagNames(storage, root)).toEqual(['t2']);
    expect(await rows(root)).toEqual(before.get(2n));
    expect(await rows(root, { snapshotId: 1n })).toEqual(before.get(1n));
    expect(await rows(root, { tag: 't2' })).toEqual(before.get(2n));
    // The branches name snapshots 3-5: every file of theirs stays, so nothing was deleted.
    expect(r.deletedFiles).toEqual([]);
    expect(await rows(root, { ref: 'b3' })).toEqual(before.get(3n));
    expect(await rows(root, { ref: 'from-t4' })).toEqual(before.get(4n));
    expect(await rows(root, { ref: 'head' })).toEqual(before.get(5n));

    // Deleting a branch deletes its folder only (as Java): the files only it named stay, as orphans.
    const liveOf = async (sel: Parameters<typeof listPaimonFiles>[2]) => (await listPaimonFiles(storage, root, sel)).map((f) => relative(root, f.path));
    const branchFiles = new Set([...(await liveOf({ ref: 'b3' })), ...(await liveOf({ ref: 'from-t4' })), ...(await liveOf({ ref: 'head' }))]);
    for (const b of ['b3', 'from-t4', 'head']) await deletePaimonBranch(root, b, { env });
    expect(await listPaimonBranches(storage, root)).toEqual([]);
    const r1 = await rollbackPaimonTable(root, 1n, { env });
    expect(r1).toMatchObject({ removedSnapshotIds: [2n], removedTags: ['t2'] });
    expect(r1.deletedFiles.some((f) => f.endsWith('.parquet'))).toBe(true);
    const at1 = await liveOf({});
    const disk = parquetOnDisk(root);
    expect(at1.every((f) => disk.includes(f))).toBe(true);
    // Left over: files only the deleted branches named (those snapshot 2 also named are gone with it).
    expect(disk.filter((f) => !at1.includes(f)).every((f) => branchFiles.has(f))).toBe(true);
    expect(disk.length).toBeGreaterThan(at1.length);
    expect(await rows(root)).toEqual(before.get(1n));

    // The next commit is snapshot 2 again, on top of snapshot 1's rows.
    const c = await commitPaimonChanges(root, [{ kind: '+I', row: { f0: 'Zed', f1: 20, f2: 0, f3: 1.5 } }], { commitUser: 'tidemark', commitIdentifier: 1n, compaction: 'none', env });
    expect(c?.snapshotId).toBe(2n);
    expect(await rows(root)).toEqual(sorted([...before.get(1n)!, { f0: 'Zed', f1: 20, f2: 0, f3: 1.5 }]));

    expect((await rollbackPaimonTable(root, 2n, { env })).removedSnapshotIds).toEqual([]);
    await expectError(rollbackPaimonTable(root, 9n, { env }), 'NotFound', 'snapshot 9 not found', 'snapshots are 1..2');
  });

  it('without refs, a rollback leaves on disk exactly the kept snapshot\'s data files', async () => {
    const root = copyTable('pk_table_scan_and_read_mor');
    const at1 = await rows(root, { snapshotId: 1n });
    const r = await rollbackPaimonTable(root, 1n, { env: seededWriteEnv(6) });
    expect(r.removedSnapshotIds).toEqual([5n, 4n, 3n, 2n]);
    expect(r.deletedFiles.filter((f) => f.endsWith('.parquet')).length).toBeGreaterThan(0);
    expect(r.deletedFiles.some((f) => relative(root, f).startsWith('manifest/manifest-list-'))).toBe(true);
    expect(parquetOnDisk(root)).toEqual((await listPaimonFiles(storage, root)).map((f) => relative(root, f.path)).sort());
    expect(await rows(root)).toEqual(at1);
  });

  it('a branch reads with its own schema; refs resolve a tag first, then a branch', async () => {
    const root = copyTable('pk_table_with_alter_table');
    const env = seededWriteEnv(8);
    expect(await createPaimonBranch(root, 'old', { snapshotId: 4n, env })).toBe(4n);
    expect(await createPaimonBranch(root, 'new', { env })).toBe(6n);
    expect(readdirSync(join(root, 'branch', 'branch-old', 'schema'))).toEqual(['schema-0']);
    expect(readdirSync(join(root, 'branch', 'branch-new', 'schema')).sort()).toEqual(['schema-0', 'schema-1']);
    expect((await readPaimonSchema(storage, root, { ref: 'old' })).schemaId).toBe(0);
    expect((await readPaimonSchema(storage, root, { ref: 'new' })).schemaId).toBe(1);
    expect((await scanPaimonRows(storage, root, { ref: 'old' })).rows).toEqual((await scanPaimonRows(storage, root, { snapshotId: 4n })).rows);
    expect((await scanPaimonRows(storage, root, { ref: 'new' })).rows).toEqual((await scanPaimonRows(storage, root)).rows);

    // A tag named like a branch wins, as Paimon's time travel by name reads tags.
    await createPaimonTag(root, 'old', { snapshotId: 2n, env });
    expect((await scanPaimonRows(storage, root, { ref: 'old' })).snapshotId).toBe(2n);
    await expectError(scanPaimonRows(storage, root, { ref: 'nope' }), 'NotFound', 'no tag or branch "nope"', 'tags: old', 'branches: new, old');

    await expectError(createPaimonBranch(root, 'main', { env }), 'InvalidInput', '"main" is the default branch');
    await expectError(createPaimonBranch(root, '12', { env }), 'InvalidInput', 'cannot be a number');
    await expectError(createPaimonBranch(root, 'a/b', { env }), 'InvalidInput', 'without /');
    await expectError(createPaimonBranch(root, 'old', { env }), 'InvalidInput', 'branch "old" already exists');
    await expectError(createPaimonBranch(root, 'x', { tag: 'missing', env }), 'NotFound', 'tag "missing" not found');
    await expectError(createPaimonBranch(root, 'x', { snapshotId: 99n, env }), 'NotFound', 'snapshot 99 not found');
    await expectError(deletePaimonBranch(root, 'x', { env }), 'NotFound', 'branch "x" not found', 'branches: new, old');
    expect(readdirSync(join(root, 'branch')).sort()).toEqual(['branch-new', 'branch-old']); // no temporary folder left
  });

  it('expiry keeps tagged files; a branch from a tag whose snapshot expired reads as the tag', async () => {
    const root = copyTable('pk_table_scan_and_read_mor');
    const env = seededWriteEnv(9);
    const at2 = await rows(root, { snapshotId: 2n });
    await createPaimonTag(root, 'close', { snapshotId: 2n, env });
    const expired = await expirePaimonSnapshots(root, { retainMin: 1, retainMax: 1, timeRetainedMs: 0, env });
    expect(expired.expiredSnapshotIds).toEqual([1n, 2n, 3n, 4n]);
    expect(await rows(root, { tag: 'close' })).toEqual(at2);
    expect(await createPaimonBranch(root, 'audit', { tag: 'close', env })).toBe(2n);
    expect(await rows(root, { ref: 'audit' })).toEqual(at2);

    // Moving the tag to the latest snapshot deletes what only the old tag kept; the branch still keeps its files.
    expect(await movePaimonTag(root, 'close', 5n, { env })).toBe(2n);
    expect(await rows(root, { tag: 'close' })).toEqual(await rows(root));
    expect(await rows(root, { ref: 'audit' })).toEqual(at2);
    await deletePaimonBranch(root, 'audit', { env });
    expect(existsSync(join(root, 'branch', 'branch-audit'))).toBe(false);
    await expectError(movePaimonTag(root, 'nope', 5n, { env }), 'NotFound', 'tag "nope" not found');
  });
});
