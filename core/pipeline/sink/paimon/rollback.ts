import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeOffset, type SourceOffset } from '../../../cdc';
import { TidemarkError } from '../../../errors';
import { rollbackPaimonTable } from '../../../lake/paimon/write';
import { createLocalStorage } from '../../../storage/node/index';
import { compareOffsets, SUMMARY_OFFSET, SUMMARY_PIPELINE } from '../../runner/offsets';
import { readPaimonOffset } from './offsets';
import { readPaimonSnapshotsNewestFirst } from './snapshots';

const storage = createLocalStorage();

/**
 * Moves a Paimon table back to its state at `offset` (a restart inside the snapshot phase, where
 * every table must resume from the same point): Paimon's rollback to the newest snapshot at or
 * before `offset` (core/lake/paimon/write rollbackPaimonTable). With no such snapshot the table
 * goes back to no snapshot at all (schema only; the files left are orphans). False when the table was not
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
  if (keep !== null) {
    // Paimon's rollback: later snapshots and tags go, newest first, then the files only they named.
    await rollbackPaimonTable(root, keep);
    return true;
  }
  // The table's first commit is after `offset`: back to no snapshot at all (schema only).
  const dir = join(root, 'snapshot');
  for (const id of later) await rm(join(dir, `snapshot-${id}`), { force: true });
  await rm(join(dir, 'LATEST'), { force: true });
  await rm(join(dir, 'EARLIEST'), { force: true });
  return true;
}
