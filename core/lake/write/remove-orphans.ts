import { readdir, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { TidemarkError, toTidemarkError } from '../../errors';
import { createLocalStorage } from '../../storage/node/index';
import { loadTable, type LoadedTable } from '../table';
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
 * skipped; a corrupt metadata file or manifest aborts before anything is deleted.
 */
export async function removeOrphanFiles(root: string, options: RemoveOrphansOptions): Promise<RemoveOrphansResult> {
  if (!Number.isFinite(options.olderThanMs)) throw new TidemarkError('InvalidInput', `remove orphans: olderThanMs must be a finite time, found ${options.olderThanMs}`);
  const abs = resolve(root);
  const storage = createLocalStorage();
  const current = await loadTable(storage, abs);
  const referenced = new Set<string>([resolve(current.metadataFile), resolve(abs, 'metadata', 'version-hint.text')]);
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
  await checkCurrentFilesPresent(current);
  const orphans: OrphanFile[] = [];
  let referencedCount = 0;
  for (const dir of ['data', 'metadata']) {
    for (const path of await listFiles(join(abs, dir))) {
      if (referenced.has(path)) {
        referencedCount++;
        continue;
      }
      const info = await stat(path).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw toTidemarkError(e);
      });
      if (info && info.mtimeMs < options.olderThanMs) orphans.push({ path, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
  orphans.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!options.dryRun) {
    for (const o of orphans) {
      await unlink(o.path).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw toTidemarkError(e);
      });
    }
  }
  return { orphans, referencedCount, removed: !options.dryRun };
}

/**
 * Safety net before deleting: every file the current snapshot reads must exist where path rebasing
 * puts it. If one does not, the rebasing may not match this table's layout, and files we would call
 * orphans could be the real ones: refuse (NotFound naming the file) instead of guessing.
 */
async function checkCurrentFilesPresent(table: LoadedTable): Promise<void> {
  const snapshotId = table.metadata.currentSnapshotId;
  const snapshot = table.metadata.snapshots.find((s) => s.snapshotId === snapshotId);
  if (!snapshot) return;
  const missing: string[] = [];
  const files = await readSnapshotFiles(createLocalStorage(), table, snapshot, { liveOnly: true, missing });
  for (const path of [...files.dataFiles, ...files.deleteFiles]) {
    if (!(await stat(path).catch(() => null))) missing.push(path);
  }
  if (missing.length > 0) {
    throw new TidemarkError('NotFound', `remove orphans: refusing to delete anything, the current snapshot ${snapshotId} names ${missing.length} file(s) not found on disk, first: ${missing[0]}`, { path: missing[0]! });
  }
}

/** Every regular file below `dir` (absolute paths); a missing folder has none. */
async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw toTidemarkError(e);
  }
  const out: string[] = [];
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(path)));
    else if (e.isFile()) out.push(path);
  }
  return out;
}
