import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalStorage } from '../../../storage/node';
import { joinPath } from '../paths';
import { listPaimonBranches, listPaimonSnapshotIds, listPaimonTags, paimonBranchRoot, readPaimonSnapshot, readPaimonSnapshotFile, type PaimonSnapshotFile } from '../snapshot';
import { filesOf } from './expire';

/**
 * Reachability for the Paimon operations that delete files (rollback, tag moves): a file may go only
 * when no snapshot, tag or branch that stays names it. Branches share the table's manifest/ and data
 * folders (only snapshot/, schema/ and tag/ are the branch's own), so their snapshots and tags count.
 */

export async function readPaimonTag(root: string, name: string): Promise<PaimonSnapshotFile> {
  return readPaimonSnapshotFile(createLocalStorage(), joinPath(root, 'tag', `tag-${name}`), `tag ${name}`);
}

export interface KeepSelection {
  /** Snapshot ids of snapshot/ that stay (default: all). */
  snapshot?: (id: bigint) => boolean;
  /** Tags that stay (default: all). */
  tag?: (name: string, snapshot: PaimonSnapshotFile) => boolean;
}

/** Every file the kept snapshots and tags of the table and all snapshots and tags of its branches name (absolute paths). */
export async function filesKept(root: string, keep: KeepSelection = {}): Promise<Set<string>> {
  const storage = createLocalStorage();
  const out = new Set<string>();
  const add = async (snap: PaimonSnapshotFile) => {
    for (const f of await filesOf(root, snap)) out.add(f);
  };
  for (const id of await listPaimonSnapshotIds(storage, root)) if (!keep.snapshot || keep.snapshot(id)) await add(await readPaimonSnapshot(storage, root, id));
  for (const name of await listPaimonTags(storage, root)) {
    const snap = await readPaimonTag(root, name);
    if (!keep.tag || keep.tag(name, snap)) await add(snap);
  }
  for (const branch of await listPaimonBranches(storage, root)) {
    const branchRoot = paimonBranchRoot(root, branch);
    for (const id of await listPaimonSnapshotIds(storage, branchRoot)) await add(await readPaimonSnapshot(storage, branchRoot, id));
    for (const name of await listPaimonTags(storage, branchRoot)) await add(await readPaimonSnapshotFile(storage, joinPath(branchRoot, 'tag', `tag-${name}`), `branch ${branch} tag ${name}`));
  }
  return out;
}

/** Deletes `candidates` not in `keep`, sorted; an already missing file is skipped. Returns the deleted paths. */
export async function deleteUnreachable(candidates: Iterable<string>, keep: Set<string>): Promise<string[]> {
  const deleted: string[] = [];
  for (const f of [...new Set(candidates)].filter((x) => !keep.has(x)).sort()) {
    try {
      await unlink(f);
      deleted.push(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return deleted;
}

export const tagPath = (root: string, name: string) => join(root, 'tag', `tag-${name}`);
