import { stat } from 'node:fs/promises';
import { createLocalStorage } from '../../../storage/node';
import { filesOnlyExpiredName, pickPaimonExpiry, type PaimonExpireOptions } from './expire';

/**
 * The preview of expirePaimonSnapshots: the snapshots it would expire and the files it would
 * delete, read only: expire.ts's own pick (Java's ExpireSnapshotsImpl: num-retained min/max,
 * time-retained, expire limit) and reachability (retained snapshots and tags keep files), and the
 * sizes of the files that exist now. test/app/paimon-ops.test.ts checks that the preview
 * equals what the expiry then does.
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

export async function planPaimonExpiry(root: string, options: PaimonExpireOptions = {}): Promise<PaimonExpiryPlan> {
  const storage = createLocalStorage();
  const pick = await pickPaimonExpiry(storage, root, options);
  if (pick.expired.length === 0) return { expiredSnapshotIds: [], retainedSnapshotIds: pick.retained, files: [], sizes: [], bytes: 0 };
  const candidates = await filesOnlyExpiredName(storage, root, pick);
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
  return { expiredSnapshotIds: pick.expired, retainedSnapshotIds: pick.retained, files, sizes, bytes };
}
