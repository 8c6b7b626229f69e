import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv, publishExclusive, type WriteEnv } from '../../write/commit';
import { makeDirectory } from '../../write/file-write';
import { joinPath } from '../paths';
import { listPaimonSnapshotIds, listPaimonTags, readPaimonSnapshot, readPaimonSnapshotFile } from '../snapshot';
import { toPaimonJson } from './table-create';
import { deleteUnreachable, filesOf } from './reachable';

/**
 * Paimon tags: `tag/tag-<name>` is the tagged snapshot's JSON plus `tagCreateTime` (Java's
 * LocalDateTime as Jackson writes it: [year, month, day, hour, minute, second, nanos], here in
 * UTC) and, when given, `tagTimeRetained` (a Duration: seconds). A tag keeps its snapshot's files
 * alive through expiry (expire.ts reads tags); deleting a tag deletes the files nothing else names.
 */

function checkName(name: string): void {
  if (typeof name !== 'string' || name.trim() === '' || /[/\\]/.test(name) || name.startsWith('.')) {
    throw new TidemarkError('InvalidInput', `tag name ${JSON.stringify(name)} is not valid: it must be non-blank, without / or \\, not starting with a dot`);
  }
  // Java refuses numeric names: they would read as snapshot ids in time travel.
  if (/^\d+$/.test(name)) throw new TidemarkError('InvalidInput', `tag name ${JSON.stringify(name)} is not valid: a tag name cannot be a number`);
}

function localDateTime(ms: number): number[] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds() * 1_000_000];
}

export interface PaimonTagOptions {
  /** Default: the latest snapshot. */
  snapshotId?: bigint;
  /** Retention, milliseconds. */
  timeRetainedMs?: number;
  env?: WriteEnv;
}

/** Creates tag `name` (exclusive: an existing tag is InvalidInput). Returns the tagged snapshot id. */
export async function createPaimonTag(root: string, name: string, options: PaimonTagOptions = {}): Promise<bigint> {
  checkName(name);
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  let id = options.snapshotId;
  if (id === undefined) {
    const ids = await listPaimonSnapshotIds(storage, root);
    if (ids.length === 0) throw new TidemarkError('NotFound', `cannot tag ${root}: the table has no snapshot yet`, { path: root });
    id = ids[ids.length - 1]!;
  }
  const snap = await readPaimonSnapshot(storage, root, id);
  const json = JSON.parse(await readFile(snap.file, 'utf8')) as Record<string, unknown>;
  // Keep 64-bit commit identifiers exact: take the digits from the file's text.
  const text = toPaimonJson({
    ...json,
    commitIdentifier: BigInt(snap.commitIdentifier || '0'),
    tagCreateTime: localDateTime(env.now()),
    ...(options.timeRetainedMs !== undefined ? { tagTimeRetained: options.timeRetainedMs / 1000 } : {}),
  });
  await makeDirectory(join(root, 'tag'));
  if (!(await publishExclusive(join(root, 'tag', `tag-${name}`), text, env))) {
    throw new TidemarkError('InvalidInput', `tag ${JSON.stringify(name)} already exists in ${join(root, 'tag')}`, { path: join(root, 'tag', `tag-${name}`) });
  }
  return id;
}

/** Deletes tag `name` and the files only it named (expired snapshots' files). Returns the deleted file paths. */
export async function deletePaimonTag(root: string, name: string): Promise<string[]> {
  checkName(name);
  const storage = createLocalStorage();
  const path = joinPath(root, 'tag', `tag-${name}`);
  const tags = await listPaimonTags(storage, root);
  if (!tags.includes(name)) throw new TidemarkError('NotFound', `tag ${JSON.stringify(name)} not found in ${join(root, 'tag')} (tags: ${tags.join(', ') || 'none'})`, { path });
  const tagged = await filesOf(root, await readPaimonSnapshotFile(storage, path, `tag ${name}`));
  const keep = new Set<string>();
  for (const id of await listPaimonSnapshotIds(storage, root)) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) keep.add(f);
  for (const other of tags.filter((t) => t !== name)) {
    for (const f of await filesOf(root, await readPaimonSnapshotFile(storage, joinPath(root, 'tag', `tag-${other}`), `tag ${other}`))) keep.add(f);
  }
  await unlink(path);
  return deleteUnreachable(tagged, keep);
}
