import { TidemarkError } from '../../../errors';
import { listPaimonSnapshotIds, parsePaimonSnapshot } from '../../../lake/paimon';
import type { StoragePort } from '../../../storage';

/** What the sink reads of a Paimon snapshot file. */
export interface PaimonSnapshotHead {
  id: bigint;
  commitUser: string;
  commitIdentifier: bigint;
  commitKind: string;
  /** The snapshot's `properties` ({} when it has none). */
  properties: Record<string, string>;
}

/**
 * The table's snapshots from the newest back (one expired between the listing and its read is
 * skipped): the sink's offset and commit identifier are in the newest ones, so a caller usually
 * stops after one or two reads.
 */
export async function* readPaimonSnapshotsNewestFirst(storage: StoragePort, root: string): AsyncGenerator<PaimonSnapshotHead> {
  const ids = await listPaimonSnapshotIds(storage, root);
  for (let i = ids.length - 1; i >= 0; i--) {
    const path = `${root}/snapshot/snapshot-${ids[i]}`;
    let text: string;
    try {
      text = new TextDecoder().decode(await storage.readFile(path));
    } catch (e) {
      if (e instanceof TidemarkError && e.code === 'NotFound') continue;
      throw e;
    }
    const snap = parsePaimonSnapshot(text, path);
    const raw = (JSON.parse(text) as Record<string, unknown>).properties;
    const properties: Record<string, string> = {};
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') properties[k] = v;
    }
    yield { id: snap.id, commitUser: snap.commitUser, commitIdentifier: BigInt(snap.commitIdentifier || '0'), commitKind: snap.commitKind, properties };
  }
}
