/**
 * Lake operations on Paimon tables (Node only) in the shapes the Iceberg ones return, so that the
 * CLI, the handler table and the UI need no second contract: tags and branches (created, a tag
 * moved, deleted), rollback of main, snapshot expiry and full compaction, each with its preview.
 * The rules are Java Paimon's (core/lake/paimon/README.md); what Paimon has no counterpart for
 * (cherry-pick, moving a branch, compacting only small files or one partition) fails as Unsupported,
 * naming Paimon.
 */
import type { CompactionInfo, ExpiryInfo } from '../api';
import { TidemarkError } from '../errors';
import { listPaimonBranches, listPaimonSnapshots, listPaimonTagNames, readPaimonSchema, resolvePaimonSnapshot } from '../lake/paimon';
import {
  compactPaimonTable,
  createPaimonBranch,
  createPaimonTag,
  deletePaimonBranch,
  deletePaimonTag,
  expirePaimonSnapshots,
  movePaimonTag,
  planPaimonCompaction,
  planPaimonExpiry,
  rollbackPaimonTable,
  type PaimonExpireOptions,
} from '../lake/paimon/write';
import { defaultWriteEnv } from '../lake/write';
import { createLocalStorage } from '../storage/node';

export type PaimonRefType = 'tag' | 'branch';

export interface PaimonRefChange {
  name: string;
  type: PaimonRefType;
  snapshotId: bigint | null;
  previousSnapshotId: bigint | null;
}

/** The commit user Tidemark's maintenance commits carry (Paimon's commitUser). */
export const PAIMON_COMMIT_USER = 'tidemark';

async function latestSnapshotId(root: string): Promise<bigint> {
  const snaps = await listPaimonSnapshots(createLocalStorage(), root);
  const last = snaps.at(-1);
  if (!last) throw new TidemarkError('NotFound', `${root}: the Paimon table has no snapshot yet`, { table: root });
  return last.snapshotId;
}

/** Creates a tag or branch at `snapshotId` (default the latest), or moves an existing tag there. A Paimon branch cannot be moved. */
export async function setPaimonRef(root: string, name: string, type: PaimonRefType, snapshotId: bigint | null): Promise<PaimonRefChange> {
  const storage = createLocalStorage();
  if (type === 'tag') {
    if ((await listPaimonTagNames(storage, root)).includes(name)) {
      const target = snapshotId ?? (await latestSnapshotId(root));
      const previous = await movePaimonTag(root, name, target);
      return { name, type, snapshotId: target, previousSnapshotId: previous };
    }
    const id = await createPaimonTag(root, name, snapshotId === null ? {} : { snapshotId });
    return { name, type, snapshotId: id, previousSnapshotId: null };
  }
  if (name === 'main') {
    throw new TidemarkError('Unsupported', `branch main of the Paimon table ${root} is its snapshot/ folder: move it with rollback`, { table: root });
  }
  if ((await listPaimonBranches(storage, root)).includes(name)) {
    throw new TidemarkError('Unsupported', `branch ${JSON.stringify(name)} of the Paimon table ${root} exists, and Paimon branches cannot be moved (Java Paimon has no such operation): delete it and create it again`, { table: root, name });
  }
  const id = await createPaimonBranch(root, name, snapshotId === null ? {} : { snapshotId });
  return { name, type, snapshotId: id, previousSnapshotId: null };
}

export async function removePaimonRef(root: string, name: string, type: PaimonRefType): Promise<PaimonRefChange> {
  if (type === 'tag') {
    const tagged = await resolvePaimonSnapshot(createLocalStorage(), root, { tag: name });
    await deletePaimonTag(root, name);
    return { name, type, snapshotId: null, previousSnapshotId: tagged?.id ?? null };
  }
  if (name === 'main') throw new TidemarkError('InvalidInput', `branch main of ${root} cannot be deleted`, { table: root });
  const was = await deletePaimonBranch(root, name);
  return { name, type, snapshotId: null, previousSnapshotId: was };
}

export interface PaimonRollbackChange extends PaimonRefChange {
  removedSnapshotIds: bigint[];
  removedTags: string[];
  deletedFiles: number;
}

/** Java's rollback_to: main (snapshot/) back to snapshot N; later snapshots and their tags are deleted. */
export async function rollbackPaimon(root: string, snapshotId: bigint): Promise<PaimonRollbackChange> {
  const r = await rollbackPaimonTable(root, snapshotId);
  return {
    name: 'main',
    type: 'branch',
    snapshotId,
    previousSnapshotId: r.previousSnapshotId,
    removedSnapshotIds: r.removedSnapshotIds,
    removedTags: r.removedTags,
    deletedFiles: r.deletedFiles.length,
  };
}

/**
 * Tidemark's expiry options in Paimon's terms: `retainLast` N keeps at least the newest N
 * (snapshot.num-retained.min = N); `olderThanMs` T expires snapshots committed before T
 * (snapshot.time-retained = now − T); with only `retainLast`, every older snapshot goes whatever its
 * age (num-retained.max = N). No expire limit applies to one call. The latest snapshot always stays.
 */
export async function paimonExpireOptions(root: string, o: { retainLast?: number; olderThanMs?: number }, now: number = Date.now()): Promise<PaimonExpireOptions> {
  if (o.retainLast === undefined && o.olderThanMs === undefined) throw new TidemarkError('InvalidInput', 'expire: give retainLast, olderThanMs or both');
  const count = (await listPaimonSnapshots(createLocalStorage(), root)).length;
  const retainMin = o.retainLast ?? 1;
  return {
    retainMin,
    retainMax: o.olderThanMs === undefined ? retainMin : 2_147_483_647,
    timeRetainedMs: o.olderThanMs === undefined ? 0 : Math.max(0, now - o.olderThanMs),
    limit: Math.max(1, count),
    env: { ...defaultWriteEnv, now: () => now },
  };
}

export interface PaimonExpiryInfo extends ExpiryInfo {
  /** The files deleted (or that would be), absolute paths. */
  paths: string[];
}

export async function expirePaimon(root: string, o: { retainLast?: number; olderThanMs?: number; dryRun?: boolean }): Promise<PaimonExpiryInfo> {
  const options = await paimonExpireOptions(root, o);
  const plan = await planPaimonExpiry(root, options);
  if (o.dryRun) return { dryRun: true, expiredSnapshotIds: plan.expiredSnapshotIds, keptSnapshots: plan.retainedSnapshotIds.length, files: plan.files.length, bytes: plan.bytes, paths: plan.files };
  const r = await expirePaimonSnapshots(root, options);
  const kept = (await listPaimonSnapshots(createLocalStorage(), root)).length;
  // Sizes come from the preview, taken just before (the files are gone now).
  const size = new Map(plan.files.map((f, i) => [f, plan.sizes[i]!]));
  const bytes = r.deletedFiles.reduce((n, f) => n + (size.get(f) ?? 0), 0);
  return { dryRun: false, expiredSnapshotIds: r.expiredSnapshotIds, keptSnapshots: kept, files: r.deletedFiles.length, bytes, paths: r.deletedFiles };
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };

/** Paimon's `target-file-size` (a MemorySize such as "128 mb"), default 128 MiB for primary-key tables. */
function targetFileSize(options: Record<string, string>): number {
  const raw = options['target-file-size'];
  const m = raw === undefined ? null : /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(raw);
  if (!m) return 128 * 1024 ** 2;
  return Number(m[1]) * (SIZE_UNITS[(m[2] || 'b').toLowerCase()] ?? 1);
}

/**
 * Full compaction of a Paimon primary-key table (every bucket into the max level, one COMPACT
 * snapshot), or its preview. Paimon compacts per bucket: the small-files and one-partition scopes
 * of Iceberg's compaction have no counterpart and are refused.
 */
export async function compactPaimon(root: string, o: { scope: { kind: string }; dryRun?: boolean }): Promise<CompactionInfo> {
  if (o.scope.kind !== 'all') {
    throw new TidemarkError('Unsupported', `compaction of ${o.scope.kind === 'small' ? 'small files only' : 'one partition'} is Iceberg's; a Paimon table (${root}) is compacted whole (full compaction of every bucket)`, { table: root });
  }
  const plan = await planPaimonCompaction(root, { full: true });
  const schema = await readPaimonSchema(createLocalStorage(), root);
  const base = {
    snapshotId: plan.snapshotId,
    files: plan.files,
    bytes: plan.bytes,
    records: plan.records,
    deleteFiles: plan.deletionVectors,
    deleteBytes: plan.deletionVectorBytes,
    partitions: plan.partitions,
    targetFileSizeBytes: targetFileSize(schema.options),
    estimatedFiles: plan.outputFiles,
  };
  if (o.dryRun) return { ...base, dryRun: true, committedSnapshotId: null, writtenFiles: null, liveRecords: null };
  const r = await compactPaimonTable(root, { commitUser: PAIMON_COMMIT_USER, full: true });
  return { ...base, dryRun: false, committedSnapshotId: r?.snapshotId ?? null, writtenFiles: r ? r.addedFiles.length : 0, liveRecords: r ? Number(r.totalRecordCount) : null };
}
