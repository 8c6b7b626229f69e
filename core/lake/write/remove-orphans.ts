import { TidemarkError } from '../../errors';
import type { WritableStorage } from '../../storage';
import { isS3Url } from '../../storage/s3';
import { loadTable, type LoadedTable } from '../table';
import { childPath, defaultWriteEnv, loadWritableTable, tableRoot, writeStorage, type WriteEnv } from './commit';
import { addAll, localPath, readSnapshotFiles } from './reachability';

export interface RemoveOrphansOptions {
  /**
   * Only files last modified strictly before this time (ms since epoch) are removed. A writer puts
   * its data files, manifests and manifest list on disk before it publishes the metadata naming
   * them, so a recent unreferenced file may belong to a commit in flight: keep the threshold well
   * behind the longest commit (Java's default is 3 days).
   */
  olderThanMs: number;
  /** List what would be removed without deleting anything. */
  dryRun?: boolean;
  /** Where the table is: its storage (a folder or a bucket) and catalog; the local file system by default. */
  env?: WriteEnv;
}

export interface OrphanFile {
  path: string;
  size: number;
  mtimeMs: number;
}

export interface RemoveOrphansResult {
  orphans: OrphanFile[];
  /** Files referenced and present: how many were kept. */
  referencedCount: number;
  removed: boolean;
}

/**
 * Removes files under `<root>/data` and `<root>/metadata` that no metadata file still in the table's
 * history references (format v1/v2). The referenced set is built from the current metadata file and
 * every file in its `metadata-log` (so time travel by metadata version keeps working): those
 * metadata files, `version-hint.text`, and every manifest list, manifest and data/delete file their
 * snapshots reach, DELETED manifest entries included. Files named by metadata but already gone are
 * skipped; a corrupt metadata file or manifest aborts before anything is deleted. On an object
 * store the candidates come from one recursive listing (their LastModified is the age compared)
 * and each orphan is one DELETE.
 */
export async function removeOrphanFiles(root: string, options: RemoveOrphansOptions): Promise<RemoveOrphansResult> {
  if (!Number.isFinite(options.olderThanMs)) throw new TidemarkError('InvalidInput', `remove orphans: olderThanMs must be a finite time, found ${options.olderThanMs}`);
  const env = options.env ?? defaultWriteEnv;
  const abs = tableRoot(root);
  const storage = writeStorage(env);
  const current = await loadWritableTable(abs, env);
  const referenced = new Set<string>([localPath(current, current.metadataFile), childPath(abs, 'metadata', 'version-hint.text')]);
  const missing: string[] = [];
  const seenLists = new Set<string>();
  const versions: LoadedTable[] = [current];
  for (const entry of current.metadata.metadataLog) {
    const path = localPath(current, entry.metadataFile);
    referenced.add(path);
    if ((await storage.stat(path)) === null) continue; // Trimmed from disk earlier: nothing it names is kept for it.
    versions.push(await loadTable(storage, abs, path));
  }
  for (const version of versions) {
    for (const s of version.metadata.snapshots) {
      const list = localPath(version, s.manifestList);
      if (seenLists.has(list)) continue;
      seenLists.add(list);
      addAll(referenced, await readSnapshotFiles(storage, version, s, { liveOnly: false, missing }));
    }
  }
  await checkCurrentFilesPresent(storage, current);
  const orphans: OrphanFile[] = [];
  let referencedCount = 0;
  for (const dir of ['data', 'metadata']) {
    // A file that vanished between listing and now was removed by someone else: not listed, or a no-op delete.
    for (const f of await storage.listRecursive(childPath(abs, dir))) {
      if (referenced.has(f.path)) {
        referencedCount++;
        continue;
      }
      if (f.mtimeMs < options.olderThanMs) orphans.push({ path: f.path, size: f.size, mtimeMs: f.mtimeMs });
    }
  }
  orphans.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!options.dryRun) for (const o of orphans) await storage.delete(o.path);
  return { orphans, referencedCount, removed: !options.dryRun };
}

/**
 * Safety net before deleting: every file the current snapshot reads must exist where path rebasing
 * puts it. If one does not, the rebasing may not match this table's layout, and files we would call
 * orphans could be the real ones: refuse (NotFound naming the file) instead of guessing.
 */
async function checkCurrentFilesPresent(storage: WritableStorage, table: LoadedTable): Promise<void> {
  const snapshotId = table.metadata.currentSnapshotId;
  const snapshot = table.metadata.snapshots.find((s) => s.snapshotId === snapshotId);
  if (!snapshot) return;
  const missing: string[] = [];
  const files = await readSnapshotFiles(storage, table, snapshot, { liveOnly: true, missing });
  for (const path of [...files.dataFiles, ...files.deleteFiles]) {
    if (!(await storage.stat(path))) missing.push(path);
  }
  if (missing.length > 0) {
    throw new TidemarkError('NotFound', `remove orphans: refusing to delete anything, the current snapshot ${snapshotId} names ${missing.length} file(s) not found ${isS3Url(table.root) ? `in ${storage.storeName}` : 'on disk'}, first: ${missing[0]}`, { path: missing[0]! });
  }
}
