import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeOffset, type SourceOffset } from '../../../cdc';
import { TidemarkError } from '../../../errors';
import { writeHintFile } from '../../../lake/paimon/write';
import { defaultWriteEnv } from '../../../lake/write';
import { createLocalStorage } from '../../../storage/node/index';
import { compareOffsets, SUMMARY_OFFSET, SUMMARY_PIPELINE } from '../../runner/offsets';
import { readPaimonOffset } from './offsets';
import { readPaimonSnapshotsNewestFirst } from './snapshots';

const storage = createLocalStorage();

/**
 * Moves a Paimon table back to its state at `offset` (a restart inside the snapshot phase, where
 * every table must resume from the same point): the snapshots committed after the newest one at
 * or before `offset` are removed, newest first, as Paimon's rollback does (the LATEST hint moves
 * back; data and manifest files only they named are left for orphan-file cleanup). With no such
 * snapshot the table goes back to no snapshot at all (schema only). False when the table was not
 * ahead of `offset`. A snapshot of another pipeline in the way refuses the rollback: it would be lost.
 */
export async function rollbackPaimonTarget(root: string, pipeline: string, offset: SourceOffset): Promise<boolean> {
  const current = (await readPaimonOffset(storage, root, pipeline)).offset;
  if (current === null || compareOffsets(current, offset) <= 0) return false;
  const later: bigint[] = [];
  let keep: bigint | null = null;
  for await (const s of readPaimonSnapshotsNewestFirst(storage, root)) {
    const by = s.properties[SUMMARY_PIPELINE];
    const text = s.properties[SUMMARY_OFFSET];
    if (by === pipeline && text !== undefined && s.commitKind !== 'COMPACT' && compareOffsets(decodeOffset(text), offset) <= 0) {
      keep = s.id;
      break;
    }
    if (by !== undefined && by !== pipeline) {
      throw new TidemarkError(
        'Unsupported',
        `${root}: pipeline "${pipeline}" restarted inside its snapshot phase and must take this table back to its resume point, but pipeline "${by}" has committed to the table since (snapshot ${s.id}); a table shared by several pipelines cannot be rolled back`,
        { path: root, pipeline, other: by },
      );
    }
    later.push(s.id);
  }
  const dir = join(root, 'snapshot');
  // Newest first: a crash half way leaves a shorter, still consistent history to roll back again.
  for (const id of later) await rm(join(dir, `snapshot-${id}`), { force: true });
  if (keep !== null) await writeHintFile(dir, 'LATEST', keep.toString(), defaultWriteEnv);
  else {
    await rm(join(dir, 'LATEST'), { force: true });
    await rm(join(dir, 'EARLIEST'), { force: true });
  }
  return true;
}
