import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { createLocalStorage } from '../../../storage/node';
import { joinPath } from '../paths';
import { listPaimonBranches, listPaimonSnapshotIds, listPaimonTags, paimonBranchRoot, readPaimonSnapshot, readPaimonSnapshotFile, type PaimonSnapshotFile } from '../snapshot';
import { readManifestList, readSnapshotDataFiles } from '../manifest';
import { readManifestRecords } from '../manifest-file';
import { readPaimonSchemaFile } from '../schema';
import { bucketDir } from './commit-changes';
import { readIndexEntries } from './table-state';

/**
 * Reachability for the Paimon operations that delete files (expiry, tag deletion, rollback, tag
 * moves, orphan removal): the files a snapshot names (filesOf), and for rollback and tag moves the
 * rule that a file may go only when no snapshot, tag or branch that stays names it (filesKept).
 * Branches share the table's manifest/ and data folders (only snapshot/, schema/ and tag/ are the
 * branch's own), so their snapshots and tags count.
 */

/** Every file a snapshot (or tag) needs, as absolute paths. */
export async function filesOf(root: string, snap: PaimonSnapshotFile): Promise<Set<string>> {
  const storage = createLocalStorage();
  const out = new Set<string>();
  const manifestDir = join(root, 'manifest');
  const lists = [snap.baseManifestList, snap.deltaManifestList, ...(snap.changelogManifestList ? [snap.changelogManifestList] : [])];
  for (const list of lists) {
    out.add(join(manifestDir, list));
    for (const m of await readManifestList(storage, root, list)) out.add(join(manifestDir, m));
  }
  const schema = await readPaimonSchemaFile(storage, root, snap.schemaId);
  for (const f of await readSnapshotDataFiles(storage, root, snap, schema)) out.add(f.path);
  if (snap.changelogManifestList) {
    for (const m of await readManifestList(storage, root, snap.changelogManifestList)) {
      for (const rec of await readManifestRecords(storage, joinPath(root, 'manifest', m), 'changelog manifest')) {
        const file = rec._FILE as Record<string, unknown>;
        const partition = rec._PARTITION as Uint8Array;
        out.add(join(bucketDir(root, schema, partition, rec._BUCKET as number), String(file._FILE_NAME)));
      }
    }
  }
  if (snap.indexManifest) {
    out.add(join(manifestDir, snap.indexManifest));
    for (const e of await readIndexEntries(storage, root, snap.indexManifest)) out.add(join(root, 'index', e._FILE_NAME));
  }
  return out;
}

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
