import { readFile, rename, unlink } from 'node:fs/promises';
import { TidemarkError, toWriteError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv, type WriteEnv } from '../../write/commit';
import { writeNewFile } from '../../write/file-write';
import { listPaimonTags, readPaimonSnapshot } from '../snapshot';
import { checkPaimonRefName } from './branches';
import { deleteUnreachable, filesKept, filesOf, readPaimonTag, tagPath } from './reachable';
import { toPaimonJson } from './table-create';

/**
 * Moves tag `name` to snapshot `snapshotId` as Java's TagManager#replaceTag does: the tag file is
 * replaced (by rename, so a reader sees the old tag or the new one) with the snapshot's JSON plus a
 * new `tagCreateTime`, keeping `tagTimeRetained`. Then, unlike Java (which leaves them behind), the
 * files only the old tag named are deleted, as deletePaimonTag does. Returns the previous snapshot id.
 */
export async function movePaimonTag(root: string, name: string, snapshotId: bigint, options: { env?: WriteEnv } = {}): Promise<bigint> {
  checkPaimonRefName('tag', name);
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const tags = await listPaimonTags(storage, root);
  const path = tagPath(root, name);
  if (!tags.includes(name)) throw new TidemarkError('NotFound', `tag ${JSON.stringify(name)} not found in ${root}/tag (tags: ${tags.join(', ') || 'none'})`, { path });
  const old = await readPaimonTag(root, name);
  const oldJson = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  const snap = await readPaimonSnapshot(storage, root, snapshotId);
  if (old.id === snapshotId) return snapshotId;
  const json = JSON.parse(await readFile(snap.file, 'utf8')) as Record<string, unknown>;
  const d = new Date(env.now());
  const text = toPaimonJson({
    ...json,
    // 64-bit commit identifiers keep every digit: taken from the file's text.
    commitIdentifier: BigInt(snap.commitIdentifier || '0'),
    tagCreateTime: [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds() * 1_000_000],
    ...(oldJson.tagTimeRetained !== undefined ? { tagTimeRetained: oldJson.tagTimeRetained } : {}),
  });
  const candidates = await filesOf(root, old);
  const tmp = `${path}.${env.uuid()}.tmp`;
  await writeNewFile(tmp, text);
  await rename(tmp, path).catch(async (e: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw toWriteError(e, path, 'replace');
  });
  await deleteUnreachable(candidates, await filesKept(root));
  return old.id;
}
