import { stat } from 'node:fs/promises';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv } from '../../write/commit';
import { joinPath } from '../paths';
import { listPaimonSchemaIds, readPaimonSchemaFile } from '../schema';
import { listPaimonSnapshotIds, listPaimonTags, readPaimonSnapshot, readPaimonSnapshotFile } from '../snapshot';
import { filesOf, parsePaimonDuration, type PaimonExpireOptions } from './expire';

/**
 * The preview of expirePaimonSnapshots: the snapshots it would expire and the files it would
 * delete, read only. It follows expire.ts's pick (Java's ExpireSnapshotsImpl: num-retained min/max,
 * time-retained, expire limit) and its reachability (retained snapshots and tags keep files);
 * test/lake/paimon-write-ops.test.ts checks that the preview equals what the expiry then does.
 */

export interface PaimonExpiryPlan {
  expiredSnapshotIds: bigint[];
  retainedSnapshotIds: bigint[];
  /** Absolute paths, sorted, of the files that exist now. */
  files: string[];
  /** Their sizes in bytes, in the same order. */
  sizes: number[];
  bytes: number;
}

function intOption(options: Record<string, string>, key: string, dflt: number, min: number): number {
  const raw = options[key];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new TidemarkError('InvalidInput', `table option ${key} must be an integer >= ${min}, found ${JSON.stringify(raw)}`);
  return n;
}

export async function planPaimonExpiry(root: string, options: PaimonExpireOptions = {}): Promise<PaimonExpiryPlan> {
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const schemaIds = await listPaimonSchemaIds(storage, root);
  const tableOptions = (await readPaimonSchemaFile(storage, root, schemaIds[schemaIds.length - 1]!)).options;
  const retainMin = options.retainMin ?? intOption(tableOptions, 'snapshot.num-retained.min', 10, 1);
  const retainMax = options.retainMax ?? intOption(tableOptions, 'snapshot.num-retained.max', 2_147_483_647, 1);
  if (retainMin > retainMax) throw new TidemarkError('InvalidInput', `snapshot.num-retained.min (${retainMin}) must not exceed snapshot.num-retained.max (${retainMax})`);
  const timeRetained = options.timeRetainedMs ?? parsePaimonDuration(tableOptions['snapshot.time-retained'] ?? '1 h', 'snapshot.time-retained');
  const limit = options.limit ?? intOption(tableOptions, 'snapshot.expire.limit', 10, 1);
  const ids = await listPaimonSnapshotIds(storage, root);
  if (ids.length === 0) return { expiredSnapshotIds: [], retainedSnapshotIds: [], files: [], sizes: [], bytes: 0 };
  const earliest = ids[0]!;
  const latest = ids[ids.length - 1]!;
  const olderThan = env.now() - timeRetained;
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
  const expired = ids.filter((id) => id < maxExclusive);
  const retained = ids.filter((id) => id >= maxExclusive);
  if (expired.length === 0) return { expiredSnapshotIds: [], retainedSnapshotIds: retained, files: [], sizes: [], bytes: 0 };
  const keep = new Set<string>();
  for (const id of retained) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) keep.add(f);
  for (const tag of await listPaimonTags(storage, root)) {
    for (const f of await filesOf(root, await readPaimonSnapshotFile(storage, joinPath(root, 'tag', `tag-${tag}`), `tag ${tag}`))) keep.add(f);
  }
  const candidates = new Set<string>();
  for (const id of expired) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) if (!keep.has(f)) candidates.add(f);
  const files: string[] = [];
  const sizes: number[] = [];
  let bytes = 0;
  for (const f of [...candidates].sort()) {
    const s = await stat(f).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (s) {
      files.push(f);
      sizes.push(s.size);
      bytes += s.size;
    }
  }
  return { expiredSnapshotIds: expired, retainedSnapshotIds: retained, files, sizes, bytes };
}
