import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { readManifestList } from '../manifest';
import { readManifestRecords } from '../manifest-file';
import { listPaimonSchemaIds, readPaimonSchemaFile } from '../schema';
import { listPaimonBranches, listPaimonSnapshotIds, listPaimonTags, paimonBranchRoot, readPaimonSnapshot, readPaimonSnapshotFile, type PaimonSnapshotFile } from '../snapshot';
import { filesOf } from './reachable';

/**
 * Orphan-file removal as Java Paimon's `remove_orphan_files` procedure (OrphanFilesClean) decides it.
 * Candidates are the files directly in manifest/, index/, statistics/ and every bucket folder
 * (`<k=v>/…/bucket-N`, as deep as the partition keys), plus stray files in each branch's snapshot/
 * and changelog/ folders that are neither snapshots, changelogs nor the EARLIEST/LATEST hints.
 * A file is in use when any snapshot, tag or long-lived changelog of the table or of one of its
 * branches names it (manifest lists, manifests, data and changelog files with their extra files,
 * index manifest and index files, statistics). Like Java, use is decided by file name: names are
 * unique per table (UUIDs), and a name match keeps a file that a path rebasing slip would misplace.
 * schema/, tag/ and the snapshots and hints themselves are never candidates. Local folders only
 * (the Paimon write path is node:fs).
 */

export interface PaimonRemoveOrphansOptions {
  /** Only files last modified strictly before this time (ms since epoch) go: a commit in flight writes its files before its snapshot. */
  olderThanMs: number;
  /** List what would be removed without deleting anything. */
  dryRun?: boolean;
}

/** The shape of the Iceberg removeOrphanFiles result (core/lake/write/remove-orphans.ts), so callers treat both alike. */
export interface PaimonRemoveOrphansResult {
  orphans: { path: string; size: number; mtimeMs: number }[];
  /** Candidate files found in use (kept). */
  referencedCount: number;
  removed: boolean;
}

const SNAPSHOT_DIR_KEEP = (name: string) => name.startsWith('snapshot-') || name === 'EARLIEST' || name === 'LATEST';
const CHANGELOG_DIR_KEEP = (name: string) => name.startsWith('changelog-') || name === 'EARLIEST' || name === 'LATEST';

export async function removePaimonOrphanFiles(root: string, options: PaimonRemoveOrphansOptions): Promise<PaimonRemoveOrphansResult> {
  if (!Number.isFinite(options.olderThanMs)) throw new TidemarkError('InvalidInput', `remove orphans: olderThanMs must be a finite time, found ${options.olderThanMs}`);
  const storage = createLocalStorage();
  const branchRoots = [root, ...(await listPaimonBranches(storage, root)).map((b) => paimonBranchRoot(root, b))];
  for (const b of branchRoots) {
    // Java aborts too: a branch without a schema cannot be read, so what it uses is unknown.
    if ((await listPaimonSchemaIds(storage, b)).length === 0) throw new TidemarkError('DataInvalid', `remove orphans: ${b} has no schema file, so the files it uses are unknown; nothing was deleted`, { path: b });
  }
  const used = await usedFileNames(root, branchRoots);
  await checkLatestPresent(root);

  const candidates: { path: string; size: number; mtimeMs: number; meta: boolean }[] = [];
  const schemaIds = await listPaimonSchemaIds(storage, root);
  const partitionDepth = (await readPaimonSchemaFile(storage, root, schemaIds[schemaIds.length - 1]!)).partitionKeys.length;
  const dataDirs = [join(root, 'manifest'), join(root, 'index'), join(root, 'statistics'), ...(await bucketDirs(root, partitionDepth))];
  for (const dir of dataDirs) for (const f of await filesIn(dir)) candidates.push({ ...f, meta: false });
  for (const b of branchRoots) {
    for (const f of await filesIn(join(b, 'snapshot'))) if (!SNAPSHOT_DIR_KEEP(basename(f.path))) candidates.push({ ...f, meta: true });
    for (const f of await filesIn(join(b, 'changelog'))) if (!CHANGELOG_DIR_KEEP(basename(f.path))) candidates.push({ ...f, meta: true });
  }
  const orphans: PaimonRemoveOrphansResult['orphans'] = [];
  let referencedCount = 0;
  for (const c of candidates) {
    if (!c.meta && used.has(basename(c.path))) {
      referencedCount++;
      continue;
    }
    if (c.mtimeMs < options.olderThanMs) orphans.push({ path: c.path, size: c.size, mtimeMs: c.mtimeMs });
  }
  orphans.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!options.dryRun) {
    for (const o of orphans) {
      try {
        await unlink(o.path);
      } catch (e) {
        // Removed by someone else since the listing: the outcome asked for.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }
  return { orphans, referencedCount, removed: !options.dryRun };
}

/** Names of every file a snapshot, tag or changelog of any branch uses; a corrupt one aborts before anything is deleted. */
async function usedFileNames(root: string, branchRoots: string[]): Promise<Set<string>> {
  const storage = createLocalStorage();
  const used = new Set<string>();
  const seenManifests = new Set<string>();
  const seenSnapshots = new Set<string>();
  const add = async (snap: PaimonSnapshotFile) => {
    // A tag or a branch's copy names the same files as its snapshot: read them once.
    const key = [snap.schemaId, snap.baseManifestList, snap.deltaManifestList, snap.changelogManifestList, snap.indexManifest].join('|');
    if (seenSnapshots.has(key)) {
      const statistics = await statisticsOf(snap.file);
      if (statistics) used.add(statistics);
      return;
    }
    seenSnapshots.add(key);
    // Branches share the table's manifest/ and data folders, so files resolve against the table root.
    for (const f of await filesOf(root, snap)) used.add(basename(f));
    for (const list of [snap.baseManifestList, snap.deltaManifestList, snap.changelogManifestList]) {
      if (!list) continue;
      for (const m of await readManifestList(storage, root, list)) {
        if (seenManifests.has(m)) continue;
        seenManifests.add(m);
        // Every entry counts, DELETE ones too (Java keeps those files as well), with its extra files
        // (file indexes beside a data file), which readSnapshotDataFiles drops.
        for (const rec of await readManifestRecords(storage, join(root, 'manifest', m), 'manifest')) {
          const file = rec._FILE as Record<string, unknown>;
          if (typeof file._FILE_NAME === 'string') used.add(file._FILE_NAME);
          if (typeof file._EXTERNAL_PATH === 'string') used.add(basename(file._EXTERNAL_PATH));
          if (Array.isArray(file._EXTRA_FILES)) for (const x of file._EXTRA_FILES) if (typeof x === 'string') used.add(basename(x));
        }
      }
    }
    const statistics = await statisticsOf(snap.file);
    if (statistics) used.add(statistics);
  };
  for (const b of branchRoots) {
    for (const id of await listPaimonSnapshotIds(storage, b)) await add(await readPaimonSnapshot(storage, b, id));
    for (const name of await listPaimonTags(storage, b)) await add(await readPaimonSnapshotFile(storage, join(b, 'tag', `tag-${name}`), `tag ${name} of ${b}`));
    // Long-lived changelogs (changelog.num-retained beyond the snapshots) are snapshot JSON files of their own.
    for (const f of await filesIn(join(b, 'changelog'))) {
      if (/^changelog-\d+$/.test(basename(f.path))) await add(await readPaimonSnapshotFile(storage, f.path, `changelog ${basename(f.path)} of ${b}`));
    }
  }
  return used;
}

/** The snapshot's `statistics` file name (Paimon 0.9+), which the parsed snapshot does not carry. */
async function statisticsOf(file: string): Promise<string | null> {
  const json = JSON.parse(await readFile(file, 'utf8')) as { statistics?: unknown };
  return typeof json.statistics === 'string' ? json.statistics : null;
}

/**
 * Safety net before deleting: every file the latest snapshot names must exist where we resolve it.
 * If one does not, this table's layout is not the one assumed, and "orphans" could be the real files.
 */
async function checkLatestPresent(root: string): Promise<void> {
  const storage = createLocalStorage();
  const ids = await listPaimonSnapshotIds(storage, root);
  if (ids.length === 0) return;
  const latest = ids[ids.length - 1]!;
  const missing: string[] = [];
  for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, latest))) if ((await storage.stat(f)) === null) missing.push(f);
  if (missing.length > 0) {
    throw new TidemarkError('NotFound', `remove orphans: refusing to delete anything, snapshot ${latest} of ${root} names ${missing.length} file(s) not found on disk, first: ${missing.sort()[0]}`, { path: missing[0]! });
  }
}

/** Bucket folders: `bucket-*` under `depth` levels of `key=value` partition folders, as Java lists them. */
async function bucketDirs(dir: string, depth: number): Promise<string[]> {
  const entries = await dirEntries(dir);
  if (depth === 0) return entries.filter((e) => e.isDirectory() && e.name.startsWith('bucket-')).map((e) => join(dir, e.name));
  const out: string[] = [];
  for (const e of entries) if (e.isDirectory() && e.name.includes('=')) out.push(...(await bucketDirs(join(dir, e.name), depth - 1)));
  return out;
}

async function filesIn(dir: string): Promise<{ path: string; size: number; mtimeMs: number }[]> {
  const out: { path: string; size: number; mtimeMs: number }[] = [];
  for (const e of await dirEntries(dir)) {
    if (!e.isFile()) continue;
    const path = join(dir, e.name);
    const s = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null; // Deleted since the listing: nothing to do for it.
      throw err;
    });
    if (s) out.push({ path, size: s.size, mtimeMs: s.mtimeMs });
  }
  return out;
}

async function dirEntries(dir: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
