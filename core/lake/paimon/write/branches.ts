import { copyFile, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv, type WriteEnv } from '../../write/commit';
import { makeDirectory, writeNewFile } from '../../write/file-write';
import { listPaimonSchemaIds } from '../schema';
import { listPaimonBranches, listPaimonSnapshotIds, listPaimonTags, paimonBranchRoot, readPaimonSnapshot } from '../snapshot';
import { readPaimonTag, tagPath } from './reachable';

/**
 * Paimon branches as Java's BranchManager lays them out: `branch/branch-<name>/` holds the branch's
 * own `snapshot/`, `schema/` and `tag/` folders; manifests and data files stay the table's. A branch
 * made from a snapshot copies that snapshot file and the schema files up to its schema id; from a
 * tag, also the tag file (and, when the tagged snapshot has expired, the tag's JSON as the snapshot
 * file, as Java's rollback to a tag does); on a table without snapshots it is an empty branch with
 * the latest schema. Names are checked as Java checks them (not `main`, not blank, not a number).
 * The folder is built under a temporary name and renamed into place, so a reader never sees half
 * a branch. Deleting a branch deletes its folder only: its files are the table's.
 */

export interface PaimonBranchOptions {
  /** Default: the latest snapshot (an empty branch on a table without snapshots). */
  snapshotId?: bigint;
  /** Create from this tag instead of a snapshot id. */
  tag?: string;
  env?: WriteEnv;
}

export function checkPaimonRefName(kind: 'tag' | 'branch', name: string): void {
  if (typeof name !== 'string' || name.trim() === '' || /[/\\]/.test(name) || name.startsWith('.')) {
    throw new TidemarkError('InvalidInput', `${kind} name ${JSON.stringify(name)} is not valid: it must be non-blank, without / or \\, not starting with a dot`, { name: String(name) });
  }
  if (/^\d+$/.test(name)) throw new TidemarkError('InvalidInput', `${kind} name ${JSON.stringify(name)} is not valid: a ${kind} name cannot be a number`, { name });
  if (kind === 'branch' && name === 'main') throw new TidemarkError('InvalidInput', 'branch name "main" is the default branch of a Paimon table and cannot be created or deleted', { name });
}

/** Creates branch `name`. Returns the snapshot id it starts at (null for an empty branch). */
export async function createPaimonBranch(root: string, name: string, options: PaimonBranchOptions = {}): Promise<bigint | null> {
  checkPaimonRefName('branch', name);
  if (options.snapshotId !== undefined && options.tag !== undefined) throw new TidemarkError('InvalidInput', `branch ${name}: give a snapshot id or a tag, not both`, { name });
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const dest = paimonBranchRoot(root, name);
  const branches = await listPaimonBranches(storage, root);
  if (branches.includes(name)) throw new TidemarkError('InvalidInput', `branch ${JSON.stringify(name)} already exists in ${join(root, 'branch')}`, { path: dest });

  let snapshotText: string | null = null;
  let snapshotId: bigint | null = null;
  let schemaId: number;
  let tagText: string | null = null;
  if (options.tag !== undefined) {
    const tags = await listPaimonTags(storage, root);
    if (!tags.includes(options.tag)) throw new TidemarkError('NotFound', `tag ${JSON.stringify(options.tag)} not found in ${join(root, 'tag')} (tags: ${tags.join(', ') || 'none'})`, { path: tagPath(root, options.tag) });
    const tagged = await readPaimonTag(root, options.tag);
    tagText = await readFile(tagPath(root, options.tag), 'utf8');
    const ids = await listPaimonSnapshotIds(storage, root);
    snapshotText = ids.includes(tagged.id) ? await readFile(join(root, 'snapshot', `snapshot-${tagged.id}`), 'utf8') : tagText;
    snapshotId = tagged.id;
    schemaId = tagged.schemaId;
  } else {
    const ids = await listPaimonSnapshotIds(storage, root);
    const id = options.snapshotId ?? ids[ids.length - 1];
    if (id !== undefined) {
      const snap = await readPaimonSnapshot(storage, root, id);
      snapshotText = await readFile(snap.file, 'utf8');
      snapshotId = id;
      schemaId = snap.schemaId;
    } else {
      const schemaIds = await listPaimonSchemaIds(storage, root);
      schemaId = schemaIds[schemaIds.length - 1]!;
    }
  }

  const tmp = join(root, 'branch', `.branch-${name}.${env.uuid()}.tmp`);
  try {
    await makeDirectory(join(tmp, 'schema'));
    for (const id of await listPaimonSchemaIds(storage, root)) {
      if (id <= schemaId) await copyFile(join(root, 'schema', `schema-${id}`), join(tmp, 'schema', `schema-${id}`));
    }
    if (snapshotText !== null) {
      await makeDirectory(join(tmp, 'snapshot'));
      await writeNewFile(join(tmp, 'snapshot', `snapshot-${snapshotId}`), snapshotText);
    }
    if (tagText !== null) {
      await makeDirectory(join(tmp, 'tag'));
      await writeNewFile(join(tmp, 'tag', `tag-${options.tag}`), tagText);
    }
    // rename(2) of a folder fails when the destination is a non-empty folder: a racing creator wins.
    await rename(tmp, dest);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST') throw new TidemarkError('InvalidInput', `branch ${JSON.stringify(name)} already exists in ${join(root, 'branch')}`, { path: dest });
    throw e;
  }
  return snapshotId;
}

/** Deletes branch `name` (its folder; the table's files stay). Returns the branch's latest snapshot id, null when it had none. */
export async function deletePaimonBranch(root: string, name: string, options: { env?: WriteEnv } = {}): Promise<bigint | null> {
  checkPaimonRefName('branch', name);
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const branches = await listPaimonBranches(storage, root);
  const dir = paimonBranchRoot(root, name);
  if (!branches.includes(name)) throw new TidemarkError('NotFound', `branch ${JSON.stringify(name)} not found in ${join(root, 'branch')} (branches: ${branches.join(', ') || 'none'})`, { path: dir });
  const ids = await listPaimonSnapshotIds(storage, dir);
  // Out of sight in one rename, then removed: a reader sees the whole branch or none of it.
  const tmp = join(root, 'branch', `.deleted-branch-${name}.${env.uuid()}.tmp`);
  await rename(dir, tmp);
  await rm(tmp, { recursive: true, force: true });
  return ids.length === 0 ? null : ids[ids.length - 1]!;
}
