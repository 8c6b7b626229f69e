import { TidemarkError } from '../../errors';
import type { Snapshot, TableMetadata } from '../model';
import { loadTable, type LoadedTable } from '../table';
import { defaultWriteEnv, commitTable, loadWritableTable, tableRoot, writeStorage, type WriteEnv } from './commit';
import { addAll, readSnapshotFiles } from './reachability';

export interface ExpireOptions {
  /** Expire snapshots committed strictly before this time (ms since epoch). */
  olderThanMs?: number;
  /** Keep at least this many most recent snapshots of each branch's history (≥ 1). */
  retainLast?: number;
  /** Compute what would expire and which files would be deleted, without committing or deleting. */
  dryRun?: boolean;
  env?: WriteEnv;
}

export interface ExpireResult {
  expiredSnapshotIds: bigint[];
  /** Paths deleted (local, or `s3://` on an object store), by kind. Empty when nothing expired. */
  deleted: { manifestLists: string[]; manifests: string[]; dataFiles: string[]; deleteFiles: string[] };
  /** Files an expired snapshot named that were already gone (nothing to delete). */
  missing: string[];
  /** The metadata file committed, or null when nothing expired or on a dry run (no commit is made then). */
  metadataFile: string | null;
  /** Bytes of the files in `deleted` (measured before deleting them). */
  deletedBytes: number;
}

/** The most recent `n` snapshots of the history ending at `head` (head first, following parents). */
function recentAncestors(m: TableMetadata, head: bigint, n: number): bigint[] {
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  const out: bigint[] = [];
  let s: Snapshot | undefined = byId.get(head);
  while (s && out.length < n) {
    out.push(s.snapshotId);
    s = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId);
  }
  return out;
}

/**
 * Which snapshots to keep: the current snapshot and every ref's snapshot (branches and tags) always;
 * with `retainLast`, the last N of each branch's history; with `olderThanMs`, every snapshot at or
 * after it. A snapshot is expired only when no rule keeps it.
 */
export function selectRetainedSnapshots(m: TableMetadata, options: Pick<ExpireOptions, 'olderThanMs' | 'retainLast'>): Set<bigint> {
  const keep = new Set<bigint>();
  if (m.currentSnapshotId !== null) keep.add(m.currentSnapshotId);
  for (const ref of Object.values(m.refs)) keep.add(ref.snapshotId);
  if (options.retainLast !== undefined) {
    const heads = Object.values(m.refs).filter((r) => r.type === 'branch').map((r) => r.snapshotId);
    if (m.currentSnapshotId !== null) heads.push(m.currentSnapshotId);
    for (const head of heads) for (const id of recentAncestors(m, head, options.retainLast)) keep.add(id);
  }
  // Age protects only when olderThanMs is given: with retainLast alone, everything beyond the last N goes.
  if (options.olderThanMs !== undefined) for (const s of m.snapshots) if (s.timestampMs >= options.olderThanMs) keep.add(s.snapshotId);
  return keep;
}

/**
 * Expires snapshots (spec "Snapshot Retention Policy"; format v1/v2 tables): removes them from
 * `snapshots` and `snapshot-log` in one metadata commit, then deletes the manifest lists, manifests,
 * data and delete files that no retained snapshot reaches. Files are deleted only after the commit
 * succeeded: a crash before that leaves orphans (see removeOrphanFiles), never a dangling reference.
 * Retained snapshots may keep a parent-snapshot-id naming an expired snapshot, as the spec allows.
 * The table is read, committed and cleaned through `env` (its storage: a folder or a bucket; its
 * catalog, when a REST catalog owns the metadata).
 */
export async function expireSnapshots(root: string, options: ExpireOptions): Promise<ExpireResult> {
  if (options.olderThanMs === undefined && options.retainLast === undefined) {
    throw new TidemarkError('InvalidInput', 'expire snapshots: give olderThanMs, retainLast or both');
  }
  if (options.retainLast !== undefined && (!Number.isInteger(options.retainLast) || options.retainLast < 1)) {
    throw new TidemarkError('InvalidInput', `expire snapshots: retainLast must be an integer ≥ 1, found ${options.retainLast}`);
  }
  if (options.olderThanMs !== undefined && !Number.isFinite(options.olderThanMs)) {
    throw new TidemarkError('InvalidInput', `expire snapshots: olderThanMs must be a finite time, found ${options.olderThanMs}`);
  }
  const env = options.env ?? defaultWriteEnv;
  const abs = tableRoot(root);
  const storage = writeStorage(env);
  const before = await loadWritableTable(abs, env);
  const result: ExpireResult = { expiredSnapshotIds: [], deleted: { manifestLists: [], manifests: [], dataFiles: [], deleteFiles: [] }, missing: [], metadataFile: null, deletedBytes: 0 };
  const keepNow = selectRetainedSnapshots(before.metadata, options);
  // Nothing to expire: no commit, so no new metadata version either.
  if (before.metadata.snapshots.every((s) => keepNow.has(s.snapshotId))) return result;

  let expired: Snapshot[] = [];
  const retained = (m: TableMetadata, keep: Set<bigint>): TableMetadata => ({
    ...m,
    lastUpdatedMs: Math.max(env.now(), m.lastUpdatedMs),
    snapshots: m.snapshots.filter((s) => keep.has(s.snapshotId)),
    snapshotLog: m.snapshotLog.filter((e) => keep.has(e.snapshotId)),
  });
  let after: LoadedTable;
  if (options.dryRun) {
    // The metadata the commit would publish, never written: reachability is computed from it alike.
    expired = before.metadata.snapshots.filter((s) => !keepNow.has(s.snapshotId));
    after = { ...before, metadata: retained(before.metadata, keepNow) };
  } else {
    // The selection is redone on every attempt: a concurrent commit may have added or moved refs.
    const committed = await commitTable(abs, async (base) => {
      const keep = selectRetainedSnapshots(base.metadata, options);
      expired = base.metadata.snapshots.filter((s) => !keep.has(s.snapshotId));
      return retained(base.metadata, keep);
    }, env);
    result.metadataFile = committed.metadataFile;
    // Reachability is computed from the committed metadata: what a reader of it can still reach
    // (a catalog's current version: ours, or a later one that keeps at least as much).
    after = env.catalog ? await env.catalog.loadTable(abs) : await loadTable(storage, abs, committed.metadataFile);
  }
  result.expiredSnapshotIds = expired.map((s) => s.snapshotId);

  const reachable = new Set<string>();
  for (const s of after.metadata.snapshots) addAll(reachable, await readSnapshotFiles(storage, after, s, { liveOnly: true, missing: result.missing }));
  // DELETED entries of expired manifests still name files an even older expired snapshot held live.
  const candidates = { manifestLists: new Set<string>(), manifests: new Set<string>(), dataFiles: new Set<string>(), deleteFiles: new Set<string>() };
  for (const s of expired) {
    const files = await readSnapshotFiles(storage, after, s, { liveOnly: false, missing: result.missing });
    candidates.manifestLists.add(files.manifestList);
    for (const p of files.manifests) candidates.manifests.add(p);
    for (const p of files.dataFiles) candidates.dataFiles.add(p);
    for (const p of files.deleteFiles) candidates.deleteFiles.add(p);
  }
  const missing = new Set(result.missing);
  for (const kind of ['manifestLists', 'manifests', 'dataFiles', 'deleteFiles'] as const) {
    for (const path of candidates[kind]) {
      if (reachable.has(path) || missing.has(path)) continue;
      result.deletedBytes += (await storage.stat(path))?.size ?? 0;
      // A file a concurrent expiry deleted first is no error: the store's delete ignores it.
      if (!options.dryRun) await storage.delete(path);
      result.deleted[kind].push(path);
    }
  }
  return result;
}
