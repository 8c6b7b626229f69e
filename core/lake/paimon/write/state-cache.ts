import { join } from 'node:path';
import type { StoragePort } from '../../../storage';
import { decodeEntry, entryIdentity, type PaimonDataFileEntry } from '../manifest';
import { listPaimonSchemaIds } from '../schema';
import { listPaimonSnapshotIds, parsePaimonSnapshot } from '../snapshot';
import { deletionVectorsEnabled } from '../schema';
import { KIND_ADD, KIND_DELETE, type IndexEntryRecord, type ManifestEntryRecord, type ManifestFileMetaRecord } from './manifest-write';
import { readPaimonTableState, type PaimonTableState } from './table-state';

/**
 * The table state a commit of this process published, by table root, so that the next commit of a
 * sync (one every interval, to the same tables) does not decode every manifest again: the state of
 * snapshot N+1 is that of N with the commit's entries applied. It is used only while the table's
 * newest snapshot file still has the exact text this process wrote (snapshot files name their
 * manifest lists by UUID, so equal text is the same snapshot) and no newer schema exists; anything
 * else — another writer, a rollback, an expiry's re-read, a schema change — reads the table again.
 * Deletion-vector tables are not cached (their files' vectors come from the index manifest); a
 * commit that changes the index manifest otherwise (dynamic bucket's HASH files) updates its entries.
 */
const published = new Map<string, { text: string; state: PaimonTableState }>();

/** The state a commit to `root` starts from: the cached one when it is still the table's, else read. */
export async function readWriteState(storage: StoragePort, root: string): Promise<PaimonTableState> {
  const cached = published.get(root);
  if (cached) {
    const ids = await listPaimonSnapshotIds(storage, root);
    const schemaIds = await listPaimonSchemaIds(storage, root);
    const latest = ids[ids.length - 1];
    if (latest === cached.state.snapshot?.id && schemaIds[schemaIds.length - 1] === cached.state.schema.schemaId) {
      const text = await storage.readFile(join(root, 'snapshot', `snapshot-${latest}`)).then(
        (b) => new TextDecoder().decode(b),
        () => null,
      );
      if (text === cached.text) return cached.state;
    }
    published.delete(root);
  }
  return readPaimonTableState(storage, root);
}

/** Records the state after this process published `text` as snapshot `id` on top of `before`. */
export function rememberPublished(
  root: string,
  before: PaimonTableState,
  text: string,
  commit: { entries: ManifestEntryRecord[]; manifests: ManifestFileMetaRecord[]; indexEntries?: IndexEntryRecord[] },
): void {
  // A deletion-vector table's files carry their vectors from the index manifest: read it again.
  if (deletionVectorsEnabled(before.schema)) {
    published.delete(root);
    return;
  }
  const path = join(root, 'snapshot', 'snapshot-new');
  const live = new Map<string, PaimonDataFileEntry>(before.files.map((f) => [entryIdentity(f), f]));
  for (const e of commit.entries) {
    const { kind, entry } = decodeEntry(e as unknown as Record<string, unknown>, root, before.schema, path);
    if (kind === KIND_ADD) live.set(entryIdentity(entry), entry);
    else if (kind === KIND_DELETE) live.delete(entryIdentity(entry));
  }
  const files = [...live.values()];
  let maxSequenceNumber = -1n;
  let totalRecordCount = 0n;
  for (const f of files) {
    if (f.maxSequenceNumber > maxSequenceNumber) maxSequenceNumber = f.maxSequenceNumber;
    totalRecordCount += BigInt(f.recordCount);
  }
  const snapshot = parsePaimonSnapshot(text, path);
  published.set(root, { text, state: { schema: before.schema, snapshot, files, manifests: commit.manifests, maxSequenceNumber, totalRecordCount, indexEntries: commit.indexEntries ?? before.indexEntries } });
}

/** Drops what is cached of `root` (a writer that changes the table other than by a commit). */
export function forgetPublished(root: string): void {
  published.delete(root);
}
