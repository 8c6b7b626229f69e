import { TidemarkError } from '../../../errors';
import type { StoragePort } from '../../../storage';
import { readPaimonFile } from '../avro-container';
import { joinPath } from '../paths';
import { listPaimonSnapshotIds, parsePaimonSnapshot } from '../snapshot';

/**
 * Exactly once, Paimon's way: every commit carries its writer's `commitUser` and a monotonically
 * increasing `commitIdentifier`; after a restart the writer looks up the last identifier its user
 * committed and skips (or re-derives) the rounds up to it. The source offset travels in the
 * snapshot's `properties`.
 */
export interface PaimonCommitRecord {
  snapshotId: bigint;
  /** A long: Paimon batch commits use Long.MAX_VALUE (beyond 2^53). */
  commitIdentifier: bigint;
  commitKind: string;
  timeMillis: number;
  /** The snapshot's `properties` ({} when it has none). */
  properties: Record<string, string>;
}

/**
 * The latest data (non-COMPACT) snapshot committed by `commitUser` (scanning from the latest snapshot back to the
 * earliest still present), or null when the user committed none of them. Browser-safe: storage port only.
 */
export async function lastPaimonCommit(storage: StoragePort, root: string, commitUser: string): Promise<PaimonCommitRecord | null> {
  if (typeof commitUser !== 'string' || commitUser === '') throw new TidemarkError('InvalidInput', `commitUser must be a non-empty string, found ${JSON.stringify(commitUser)}`);
  const ids = await listPaimonSnapshotIds(storage, root);
  for (let i = ids.length - 1; i >= 0; i--) {
    const path = joinPath(root, 'snapshot', `snapshot-${ids[i]}`);
    let text: string;
    try {
      text = new TextDecoder().decode(await readPaimonFile(storage, path, `snapshot ${ids[i]}`));
    } catch (e) {
      // Expired by a concurrent expiry between the listing and the read: older ones may still match.
      if (e instanceof TidemarkError && e.code === 'NotFound') continue;
      throw e;
    }
    const snap = parsePaimonSnapshot(text, path);
    // COMPACT snapshots rewrite files only: they carry no source offset, and a standalone
    // compaction may use Paimon's batch identifier (Long.MAX_VALUE). The user's data commits decide.
    if (snap.commitUser !== commitUser || snap.commitKind === 'COMPACT') continue;
    const json = JSON.parse(text) as Record<string, unknown>;
    const raw = json.properties;
    const properties: Record<string, string> = {};
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') properties[k] = v;
    }
    return {
      snapshotId: snap.id,
      commitIdentifier: BigInt(snap.commitIdentifier || '0'),
      commitKind: snap.commitKind,
      timeMillis: snap.timeMillis,
      properties,
    };
  }
  return null;
}
