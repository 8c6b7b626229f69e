import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv, type WriteEnv } from '../../write/commit';
import { joinPath } from '../paths';
import { listPaimonSnapshotIds, listPaimonTags, readPaimonSnapshot } from '../snapshot';
import { deleteUnreachable, filesKept, filesOf, readPaimonTag, tagPath } from './reachable';
import { writeHintFile } from './snapshot-commit';

/**
 * Rollback of a Paimon table to snapshot N, as Java Paimon's `rollback_to` (Table#rollbackTo and
 * RollbackHelper#cleanLargerThan) does it: the snapshots after N are deleted (newest first), and
 * so are the tags of snapshots after N; the files those snapshots and tags named that nothing kept
 * names are deleted; LATEST points at N. Unlike Iceberg's rollback, history after N is gone and the
 * next commit is snapshot N + 1 again.
 *
 * Differences from Java, each on the safe side: the files to keep are computed before anything is
 * deleted and include every branch's snapshots and tags (Java looks at main only, so a rollback could
 * delete a branch's files); LATEST is rewritten right after the snapshot files go, before the slow
 * file cleanup (Java writes it last; a Java reader trusts a LATEST whose next snapshot is missing, so
 * a crash in between would leave it reading a deleted snapshot). Like Java, a rollback is not atomic
 * against a writer committing at the same moment: stop writers first.
 */

export interface PaimonRollbackResult {
  snapshotId: bigint;
  /** The latest snapshot before the rollback. */
  previousSnapshotId: bigint;
  /** Deleted snapshot ids, newest first. */
  removedSnapshotIds: bigint[];
  /** Deleted tags (their snapshot was after N), sorted. */
  removedTags: string[];
  /** Data, changelog, index, manifest and manifest-list files deleted. */
  deletedFiles: string[];
}

/** Rolls `root` back to snapshot `snapshotId` (which must exist in snapshot/). Nothing changes when it is already the latest. */
export async function rollbackPaimonTable(root: string, snapshotId: bigint, options: { env?: WriteEnv } = {}): Promise<PaimonRollbackResult> {
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const ids = await listPaimonSnapshotIds(storage, root);
  if (!ids.includes(snapshotId)) {
    const range = ids.length === 0 ? 'the table has no snapshots' : `snapshots are ${ids[0]}..${ids[ids.length - 1]}`;
    throw new TidemarkError('NotFound', `rollback: snapshot ${snapshotId} not found in ${join(root, 'snapshot')} (${range})`, { path: root, snapshotId: snapshotId.toString() });
  }
  const latest = ids[ids.length - 1]!;
  if ((await storage.stat(joinPath(root, 'changelog'))) !== null && (await storage.list(joinPath(root, 'changelog'))).some((e) => /^changelog-\d+$/.test(e.name))) {
    // Java also deletes long-lived changelogs after N (changelog.num-retained.*); not written or read here.
    throw new TidemarkError('Unsupported', `rollback: ${join(root, 'changelog')} holds long-lived changelogs (changelog.num-retained), which Tidemark does not roll back`, { path: root });
  }
  const removed = ids.filter((id) => id > snapshotId).reverse();
  const removedTags: string[] = [];
  for (const name of await listPaimonTags(storage, root)) if ((await readPaimonTag(root, name)).id > snapshotId) removedTags.push(name);
  removedTags.sort();
  if (removed.length === 0 && removedTags.length === 0) return { snapshotId, previousSnapshotId: latest, removedSnapshotIds: [], removedTags: [], deletedFiles: [] };

  // Everything is read before anything is deleted: a failed read changes nothing. Of main's
  // snapshots only N need be read (as Java's skipping set): history is linear and a data file,
  // manifest or index file that left the table never comes back, so a file that a snapshot before N
  // and one after N both name is named by N too. The cost follows the snapshots removed, not the
  // snapshots kept.
  const keep = await filesKept(root, { snapshot: (id) => id === snapshotId, tag: (name) => !removedTags.includes(name) });
  const candidates = new Set<string>();
  for (const id of removed) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) candidates.add(f);
  for (const name of removedTags) for (const f of await filesOf(root, await readPaimonTag(root, name))) candidates.add(f);

  for (const id of removed) await unlink(join(root, 'snapshot', `snapshot-${id}`));
  for (const name of removedTags) await unlink(tagPath(root, name));
  await writeHintFile(join(root, 'snapshot'), 'LATEST', snapshotId.toString(), env);
  const deletedFiles = await deleteUnreachable(candidates, keep);
  return { snapshotId, previousSnapshotId: latest, removedSnapshotIds: removed, removedTags, deletedFiles };
}
