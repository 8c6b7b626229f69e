import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv, type WriteEnv } from '../../write/commit';
import { readManifestList, readSnapshotDataFiles } from '../manifest';
import { readManifestRecords } from '../manifest-file';
import { joinPath } from '../paths';
import { listPaimonSchemaIds, readPaimonSchemaFile } from '../schema';
import { listPaimonSnapshotIds, listPaimonTags, readPaimonSnapshot, readPaimonSnapshotFile, type PaimonSnapshotFile } from '../snapshot';
import { bucketDir } from './commit-changes';
import { readIndexEntries } from './table-state';
import { writeHintFile } from './snapshot-commit';

/**
 * Snapshot expiry as Java Paimon's ExpireSnapshotsImpl decides it: keep at least
 * `snapshot.num-retained.min` (default 10) and at most `snapshot.num-retained.max` (default
 * Integer.MAX_VALUE) snapshots, and expire an older one only when it is older than
 * `snapshot.time-retained` (default 1 h); at most `snapshot.expire.limit` (default 10) per call.
 * Files are deleted by reachability: a data, changelog, manifest, manifest-list or index file that
 * an expired snapshot named and no retained snapshot or tag names. Snapshot files go first (oldest
 * first, then the EARLIEST hint), so a crash part way leaves unreferenced files, never a snapshot
 * whose files are gone.
 */

export interface PaimonExpireOptions {
  /** Override the table options. */
  retainMin?: number;
  retainMax?: number;
  /** Milliseconds. */
  timeRetainedMs?: number;
  /** Snapshots expired per call at most. */
  limit?: number;
  env?: WriteEnv;
}

export interface PaimonExpireResult {
  expiredSnapshotIds: bigint[];
  /** Paths of the files deleted (data, changelog, index, manifest, manifest list). */
  deletedFiles: string[];
}

const UNITS: Record<string, number> = {
  ms: 1, milli: 1, millis: 1, millisecond: 1, milliseconds: 1,
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000, m: 60_000,
  h: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
};

/** A Paimon duration option ("1 h", "30min", "100 ms", "2 d"; a bare number is milliseconds). */
export function parsePaimonDuration(text: string, key: string): number {
  const m = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? (m[2] ?? '').toLowerCase() : '';
  if (!m || (unit !== '' && UNITS[unit] === undefined)) {
    throw new TidemarkError('InvalidInput', `table option ${key} must be a duration such as "1 h", "30 min" or "10 s", found ${JSON.stringify(text)}`);
  }
  return Number(m[1]) * (unit === '' ? 1 : UNITS[unit]!);
}

function intOption(options: Record<string, string>, key: string, dflt: number, min: number): number {
  const raw = options[key];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new TidemarkError('InvalidInput', `table option ${key} must be an integer >= ${min}, found ${JSON.stringify(raw)}`);
  return n;
}

/** Every file a snapshot (or tag) needs, as absolute paths. */
export async function filesOf(root: string, snap: PaimonSnapshotFile): Promise<Set<string>> {
  const storage = createLocalStorage();
  const out = new Set<string>();
  const manifestDir = join(root, 'manifest');
  const lists = [snap.baseManifestList, snap.deltaManifestList, ...(snap.changelogManifestList ? [snap.changelogManifestList] : [])];
  for (const list of lists) {
    out.add(join(manifestDir, list));
    for (const m of await readManifestList(storage, root, list)) out.add(join(manifestDir, m));
  }
  const schema = await readPaimonSchemaFile(storage, root, snap.schemaId);
  for (const f of await readSnapshotDataFiles(storage, root, snap, schema)) out.add(f.path);
  if (snap.changelogManifestList) {
    for (const m of await readManifestList(storage, root, snap.changelogManifestList)) {
      for (const rec of await readManifestRecords(storage, joinPath(root, 'manifest', m), 'changelog manifest')) {
        const file = rec._FILE as Record<string, unknown>;
        const partition = rec._PARTITION as Uint8Array;
        out.add(join(bucketDir(root, schema, partition, rec._BUCKET as number), String(file._FILE_NAME)));
      }
    }
  }
  if (snap.indexManifest) {
    out.add(join(manifestDir, snap.indexManifest));
    for (const e of await readIndexEntries(storage, root, snap.indexManifest)) out.add(join(root, 'index', e._FILE_NAME));
  }
  return out;
}

/**
 * Expires the snapshots the table's retention options (or `options`) allow. Returns what was
 * expired and deleted; nothing when every snapshot must stay.
 */
export async function expirePaimonSnapshots(root: string, options: PaimonExpireOptions = {}): Promise<PaimonExpireResult> {
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const schemaIds = await listPaimonSchemaIds(storage, root);
  const tableOptions = (await readPaimonSchemaFile(storage, root, schemaIds[schemaIds.length - 1]!)).options;
  const retainMin = options.retainMin ?? intOption(tableOptions, 'snapshot.num-retained.min', 10, 1);
  const retainMax = options.retainMax ?? intOption(tableOptions, 'snapshot.num-retained.max', 2_147_483_647, 1);
  if (retainMin > retainMax) throw new TidemarkError('InvalidInput', `snapshot.num-retained.min (${retainMin}) must not exceed snapshot.num-retained.max (${retainMax})`);
  const timeRetained = options.timeRetainedMs ?? parsePaimonDuration(tableOptions['snapshot.time-retained'] ?? '1 h', 'snapshot.time-retained');
  const limit = options.limit ?? intOption(tableOptions, 'snapshot.expire.limit', 10, 1);
  const ids = await listPaimonSnapshotIds(storage, root);
  const none: PaimonExpireResult = { expiredSnapshotIds: [], deletedFiles: [] };
  if (ids.length === 0) return none;
  const earliest = ids[0]!;
  const latest = ids[ids.length - 1]!;
  const olderThan = env.now() - timeRetained;
  // Java: [earliest, maxExclusive) may go; the newest retainMin stay; beyond retainMax go whatever their age.
  const min = BigInt(Math.max(Number(latest) - retainMax + 1, Number(earliest)));
  let maxExclusive = latest - BigInt(retainMin) + 1n;
  if (maxExclusive > earliest + BigInt(limit)) maxExclusive = earliest + BigInt(limit);
  for (let id = min; id < maxExclusive; id++) {
    if (!ids.includes(id)) continue;
    if ((await readPaimonSnapshot(storage, root, id)).timeMillis >= olderThan) {
      maxExclusive = id;
      break;
    }
  }
  const expired = ids.filter((id) => id < maxExclusive);
  if (expired.length === 0) return none;
  const retained = ids.filter((id) => id >= maxExclusive);

  const keep = new Set<string>();
  for (const id of retained) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) keep.add(f);
  for (const tag of await listPaimonTags(storage, root)) {
    for (const f of await filesOf(root, await readPaimonSnapshotFile(storage, joinPath(root, 'tag', `tag-${tag}`), `tag ${tag}`))) keep.add(f);
  }
  const candidates = new Set<string>();
  for (const id of expired) for (const f of await filesOf(root, await readPaimonSnapshot(storage, root, id))) if (!keep.has(f)) candidates.add(f);

  // Snapshots first (oldest first), then the hint, then the files they alone named.
  for (const id of expired) await unlink(join(root, 'snapshot', `snapshot-${id}`));
  await writeHintFile(join(root, 'snapshot'), 'EARLIEST', retained[0]!.toString(), env).catch(() => undefined);
  const deleted: string[] = [];
  for (const f of [...candidates].sort()) {
    try {
      await unlink(f);
      deleted.push(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return { expiredSnapshotIds: expired, deletedFiles: deleted };
}
