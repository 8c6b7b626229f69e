import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import type { StoragePort } from '../../../storage';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv, type WriteEnv } from '../../write/commit';
import { joinPath } from '../paths';
import { listPaimonSchemaIds, readPaimonSchemaFile } from '../schema';
import { listPaimonSnapshotIds, listPaimonTags, readPaimonSnapshot, readPaimonSnapshotFile } from '../snapshot';
import { writeHintFile } from './snapshot-commit';
import { deleteUnreachable, filesOf } from './reachable';
import { intTableOption, parsePaimonDuration } from './table-options';

/**
 * Snapshot expiry as Java Paimon's ExpireSnapshotsImpl decides it: keep at least
 * `snapshot.num-retained.min` (default 10) and at most `snapshot.num-retained.max` (default
 * Integer.MAX_VALUE) snapshots, and expire an older one only when it is older than
 * `snapshot.time-retained` (default 1 h); at most `snapshot.expire.limit` (default 10) per call.
 * Files are deleted by reachability: a data, changelog, manifest, manifest-list or index file that
 * an expired snapshot named and no retained snapshot or tag names. Snapshot files go first (oldest
 * first, then the EARLIEST hint), so a crash part way leaves unreferenced files, never a snapshot
 * whose files are gone.
 */

export interface PaimonExpireOptions {
  /** Override the table options. */
  retainMin?: number;
  retainMax?: number;
  /** Milliseconds. */
  timeRetainedMs?: number;
  /** Snapshots expired per call at most. */
  limit?: number;
  env?: WriteEnv;
}

export interface PaimonExpireResult {
  expiredSnapshotIds: bigint[];
  /** Paths of the files deleted (data, changelog, index, manifest, manifest list). */
  deletedFiles: string[];
}

/** Which snapshots an expiry removes and which stay (ascending ids; both empty for a table without snapshots). */
export interface PaimonExpiryPick {
  expired: bigint[];
  retained: bigint[];
}

/**
 * Java's ExpireSnapshotsImpl pick under the table's retention options (or `options`): the ids
 * below the first one that must stay — the newest `snapshot.num-retained.min`, any younger than
 * `snapshot.time-retained`, and all past the first `snapshot.expire.limit` — expire, except that
 * those beyond `snapshot.num-retained.max` go whatever their age.
 */
export async function pickPaimonExpiry(storage: StoragePort, root: string, options: PaimonExpireOptions): Promise<PaimonExpiryPick> {
  const env = options.env ?? defaultWriteEnv;
  const schemaIds = await listPaimonSchemaIds(storage, root);
  const tableOptions = (await readPaimonSchemaFile(storage, root, schemaIds[schemaIds.length - 1]!)).options;
  const retainMin = options.retainMin ?? intTableOption(tableOptions, 'snapshot.num-retained.min', 10, 1);
  const retainMax = options.retainMax ?? intTableOption(tableOptions, 'snapshot.num-retained.max', 2_147_483_647, 1);
  if (retainMin > retainMax) throw new TidemarkError('InvalidInput', `snapshot.num-retained.min (${retainMin}) must not exceed snapshot.num-retained.max (${retainMax})`);
  const timeRetained = options.timeRetainedMs ?? parsePaimonDuration(tableOptions['snapshot.time-retained'] ?? '1 h', 'snapshot.time-retained');
  const limit = options.limit ?? intTableOption(tableOptions, 'snapshot.expire.limit', 10, 1);
  const ids = await listPaimonSnapshotIds(storage, root);
  if (ids.length === 0) return { expired: [], retained: [] };
  const earliest = ids[0]!;
  const latest = ids[ids.length - 1]!;
  const olderThan = env.now() - timeRetained;
  // Java: [earliest, maxExclusive) may go; the newest retainMin stay; beyond retainMax go whatever their age.
  const min = BigInt(Math.max(Number(latest) - retainMax + 1, Number(earliest)));
  let maxExclusive = latest - BigInt(retainMin) + 1n;
  if (maxExclusive > earliest + BigInt(limit)) maxExclusive = earliest + BigInt(limit);
  for (let id = min; id < maxExclusive; id++) {
    if (!ids.includes(id)) continue;
    if ((await readPaimonSnapshot(storage, root, id)).timeMillis >= olderThan) {
      maxExclusive = id;
      break;
    }
  }
  return { expired: ids.filter((id) => id < maxExclusive), retained: ids.filter((id) => id >= maxExclusive) };
}

/** The files (absolute paths) that the `expired` snapshots name and no retained snapshot or tag names. */
export async function filesOnlyExpiredName(storage: StoragePort, root: string, pick: PaimonExpiryPick): Promise<Set<string>> {
  const keep = new Set<string>();
  for (const id of pick.retained) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) keep.add(f);
  for (const tag of await listPaimonTags(storage, root)) {
    for (const f of await filesOf(root, await readPaimonSnapshotFile(storage, joinPath(root, 'tag', `tag-${tag}`), `tag ${tag}`))) keep.add(f);
  }
  const candidates = new Set<string>();
  for (const id of pick.expired) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) if (!keep.has(f)) candidates.add(f);
  return candidates;
}

/**
 * Expires the snapshots the table's retention options (or `options`) allow. Returns what was
 * expired and deleted; nothing when every snapshot must stay.
 */
export async function expirePaimonSnapshots(root: string, options: PaimonExpireOptions = {}): Promise<PaimonExpireResult> {
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const pick = await pickPaimonExpiry(storage, root, options);
  const { expired, retained } = pick;
  if (expired.length === 0) return { expiredSnapshotIds: [], deletedFiles: [] };
  const candidates = await filesOnlyExpiredName(storage, root, pick);

  // Snapshots first (oldest first), then the hint, then the files they alone named.
  for (const id of expired) await unlink(join(root, 'snapshot', `snapshot-${id}`));
  await writeHintFile(join(root, 'snapshot'), 'EARLIEST', retained[0]!.toString(), env).catch(() => undefined);
  return { expiredSnapshotIds: expired, deletedFiles: await deleteUnreachable(candidates, new Set()) };
}
