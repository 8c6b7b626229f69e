import { decodeOffset, type SourceOffset } from '../../../cdc';
import { TidemarkError } from '../../../errors';
import { readPaimonSchema } from '../../../lake/paimon';
import { readPaimonSnapshotsNewestFirst } from './snapshots';
import type { StoragePort } from '../../../storage';
import { PROPERTY_START_OFFSET, PROPERTY_START_PIPELINE, SUMMARY_OFFSET, SUMMARY_PIPELINE } from '../../runner/offsets';

/**
 * A pipeline's offset in a Paimon table: the source offset in the `properties` of the newest
 * data (non-COMPACT) snapshot the pipeline committed, else the offset the table was created at
 * (schema option `tidemark.start-offset`, when `pipeline` created it), else null.
 */
export async function readPaimonOffset(storage: StoragePort, root: string, pipeline: string): Promise<{ offset: SourceOffset | null; snapshotId: bigint | null }> {
  for await (const snap of readPaimonSnapshotsNewestFirst(storage, root)) {
    if (snap.commitKind === 'COMPACT' || snap.properties[SUMMARY_PIPELINE] !== pipeline) continue;
    const text = snap.properties[SUMMARY_OFFSET];
    if (text === undefined) throw new TidemarkError('DataInvalid', `${root}: snapshot ${snap.id} of pipeline ${pipeline} has no ${SUMMARY_OFFSET} property`, { path: root });
    return { offset: decodeOffset(text), snapshotId: snap.id };
  }
  const options = (await readPaimonSchema(storage, root)).options;
  const start = options[PROPERTY_START_OFFSET];
  const creator = options[PROPERTY_START_PIPELINE];
  if (start === undefined || (creator !== undefined && creator !== pipeline)) return { offset: null, snapshotId: null };
  return { offset: decodeOffset(start), snapshotId: null };
}
