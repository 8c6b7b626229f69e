import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { readPaimonFile } from './avro-container';
import { joinPath } from './paths';
import type { SnapshotSelector as IcebergSelector } from '../table';

/**
 * Paimon snapshots: `<table>/snapshot/snapshot-<id>` JSON (format version 3) and tags
 * `<table>/tag/tag-<name>` (a snapshot JSON plus tag fields). The EARLIEST / LATEST hint files are
 * only hints (expiry and crashed commits leave them stale), so the folder listing is the truth.
 */
export interface PaimonSnapshotFile {
  id: bigint;
  schemaId: number;
  baseManifestList: string;
  deltaManifestList: string;
  changelogManifestList: string | null;
  indexManifest: string | null;
  commitUser: string;
  /** Decimal text: Paimon writes Long.MAX_VALUE here for batch commits, beyond 2^53. */
  commitIdentifier: string;
  /** APPEND, COMPACT, OVERWRITE, ANALYZE. */
  commitKind: string;
  timeMillis: number;
  totalRecordCount: bigint | null;
  deltaRecordCount: bigint | null;
  changelogRecordCount: bigint | null;
  watermark: string | null;
  /** Path of the JSON file it was read from. */
  file: string;
}

/** Integer JSON members as written, so that 64-bit values keep every digit. */
function rawIntegers(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/"([A-Za-z]+)"\s*:\s*(-?\d+)\s*[,}\n]/g)) out.set(m[1]!, m[2]!);
  return out;
}

export function parsePaimonSnapshot(text: string, file: string): PaimonSnapshotFile {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${file}: expected Paimon snapshot JSON: ${(e as Error).message}`, { path: file }, e);
  }
  const bad = (what: string): never => {
    throw new TidemarkError('DataInvalid', `${file}: expected Paimon snapshot JSON: ${what}`, { path: file });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('not an object');
  const ints = rawIntegers(text);
  const int = (key: string): bigint | null => (ints.has(key) ? BigInt(ints.get(key)!) : null);
  const str = (key: string): string | null => (typeof json[key] === 'string' ? (json[key] as string) : null);
  const id = int('id');
  if (id === null) return bad('missing "id"');
  if (typeof json.schemaId !== 'number') bad('missing "schemaId"');
  if (typeof json.timeMillis !== 'number') bad('missing "timeMillis"');
  const base = str('baseManifestList');
  const delta = str('deltaManifestList');
  if (base === null || delta === null) bad('missing "baseManifestList" / "deltaManifestList"');
  const watermark = int('watermark');
  return {
    id,
    schemaId: json.schemaId as number,
    baseManifestList: base!,
    deltaManifestList: delta!,
    changelogManifestList: str('changelogManifestList'),
    indexManifest: str('indexManifest'),
    commitUser: str('commitUser') ?? '',
    commitIdentifier: ints.get('commitIdentifier') ?? '',
    commitKind: str('commitKind') ?? 'APPEND',
    timeMillis: json.timeMillis as number,
    totalRecordCount: int('totalRecordCount'),
    deltaRecordCount: int('deltaRecordCount'),
    changelogRecordCount: int('changelogRecordCount'),
    watermark: watermark === null ? null : watermark.toString(),
    file,
  };
}

/** Ids of `snapshot/snapshot-<id>` files, ascending ([] when the table has no snapshot folder). */
export async function listPaimonSnapshotIds(storage: StoragePort, root: string): Promise<bigint[]> {
  const dir = joinPath(root, 'snapshot');
  if ((await storage.stat(dir)) === null) return [];
  const entries = await storage.list(dir);
  return entries
    .filter((e) => e.kind === 'file' && /^snapshot-\d+$/.test(e.name))
    .map((e) => BigInt(e.name.slice('snapshot-'.length)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export async function readPaimonSnapshotFile(storage: StoragePort, path: string, what: string): Promise<PaimonSnapshotFile> {
  const bytes = await readPaimonFile(storage, path, what);
  return parsePaimonSnapshot(new TextDecoder().decode(bytes), path);
}

/** Reads snapshot `id`; NotFound naming the id (and the ids there are) when it does not exist. */
export async function readPaimonSnapshot(storage: StoragePort, root: string, id: bigint): Promise<PaimonSnapshotFile> {
  const path = joinPath(root, 'snapshot', `snapshot-${id}`);
  if ((await storage.stat(path)) === null) {
    const ids = await listPaimonSnapshotIds(storage, root);
    const range = ids.length === 0 ? 'the table has no snapshots' : `snapshots are ${ids[0]}..${ids[ids.length - 1]}`;
    throw new TidemarkError('NotFound', `snapshot ${id} not found in ${joinPath(root, 'snapshot')} (${range})`, {
      path,
      snapshotId: id.toString(),
    });
  }
  const snap = await readPaimonSnapshotFile(storage, path, `snapshot ${id}`);
  if (snap.id !== id) throw new TidemarkError('DataInvalid', `${path}: expected snapshot id ${id}, found ${snap.id}`, { path });
  return snap;
}

export async function readAllPaimonSnapshots(storage: StoragePort, root: string): Promise<PaimonSnapshotFile[]> {
  const ids = await listPaimonSnapshotIds(storage, root);
  const out: PaimonSnapshotFile[] = [];
  for (const id of ids) out.push(await readPaimonSnapshot(storage, root, id));
  return out;
}

/** Names of `tag/tag-<name>` files. */
export async function listPaimonTags(storage: StoragePort, root: string): Promise<string[]> {
  const dir = joinPath(root, 'tag');
  if ((await storage.stat(dir)) === null) return [];
  return (await storage.list(dir)).filter((e) => e.kind === 'file' && e.name.startsWith('tag-')).map((e) => e.name.slice(4));
}

export interface SnapshotSelector {
  snapshotId?: bigint | number;
  /** Epoch ms: the latest snapshot committed at or before it. */
  asOfTimestampMs?: number;
  tag?: string;
  /** A tag name, else a branch name (`branch/branch-<name>/`: its latest snapshot). */
  ref?: string;
}

/** `branch/branch-<name>`: a branch's own snapshot/, schema/ and tag/ folders (data and manifests stay the table's). */
export function paimonBranchRoot(root: string, name: string): string {
  return joinPath(root, 'branch', `branch-${name}`);
}

/** Names of the `branch/branch-<name>` folders, sorted. */
export async function listPaimonBranches(storage: StoragePort, root: string): Promise<string[]> {
  const dir = joinPath(root, 'branch');
  if ((await storage.stat(dir)) === null) return [];
  return (await storage.list(dir))
    .filter((e) => e.kind === 'directory' && e.name.startsWith('branch-') && e.name.length > 'branch-'.length)
    .map((e) => e.name.slice('branch-'.length))
    .sort();
}

/**
 * The folder holding the schema/ a snapshot file belongs with: the table root for
 * `<root>/snapshot/snapshot-N` and `<root>/tag/tag-x`, the branch folder for a branch's files.
 */
export function paimonMetaRootOf(snapshot: PaimonSnapshotFile): string {
  const parts = snapshot.file.split('/');
  return parts.slice(0, -2).join('/') || '/';
}

async function readTag(storage: StoragePort, root: string, tag: string, names: () => Promise<string>): Promise<PaimonSnapshotFile> {
  const path = joinPath(root, 'tag', `tag-${tag}`);
  if ((await storage.stat(path)) === null) {
    throw new TidemarkError('NotFound', `tag ${JSON.stringify(tag)} not found in ${joinPath(root, 'tag')} (${await names()})`, { path, tag });
  }
  return readPaimonSnapshotFile(storage, path, `tag ${tag}`);
}

/**
 * Picks the snapshot a read sees: by id, by tag (the tag file carries its snapshot, which may have
 * expired from snapshot/), by time (latest with timeMillis ≤ t), else the latest. Null when the
 * table has no snapshot yet. More than one selector is InvalidInput.
 */
export async function resolvePaimonSnapshot(storage: StoragePort, root: string, sel: SnapshotSelector = {}): Promise<PaimonSnapshotFile | null> {
  const given = [sel.snapshotId !== undefined, sel.asOfTimestampMs !== undefined, sel.tag !== undefined, sel.ref !== undefined].filter(Boolean).length;
  if (given > 1) throw new TidemarkError('InvalidInput', 'give at most one of snapshotId, asOfTimestampMs, tag, ref');
  if (sel.snapshotId !== undefined) return readPaimonSnapshot(storage, root, BigInt(sel.snapshotId));
  const tagNames = async () => `tags: ${(await listPaimonTags(storage, root)).join(', ') || 'none'}`;
  if (sel.tag !== undefined) return readTag(storage, root, sel.tag, tagNames);
  if (sel.ref !== undefined) {
    // A tag first (Paimon's time travel by name reads tags), else a branch's latest snapshot.
    if ((await storage.stat(joinPath(root, 'tag', `tag-${sel.ref}`))) !== null) return readTag(storage, root, sel.ref, tagNames);
    const branches = await listPaimonBranches(storage, root);
    if (!branches.includes(sel.ref)) {
      throw new TidemarkError('NotFound', `no tag or branch ${JSON.stringify(sel.ref)} in ${root} (${await tagNames()}; branches: ${branches.join(', ') || 'none'})`, {
        path: root,
        ref: sel.ref,
      });
    }
    const branchRoot = paimonBranchRoot(root, sel.ref);
    const ids = await listPaimonSnapshotIds(storage, branchRoot);
    return ids.length === 0 ? null : readPaimonSnapshot(storage, branchRoot, ids[ids.length - 1]!);
  }
  const ids = await listPaimonSnapshotIds(storage, root);
  if (ids.length === 0) return null;
  if (sel.asOfTimestampMs !== undefined) {
    const t = sel.asOfTimestampMs;
    // Snapshot times grow with ids; walk back from the latest.
    for (let i = ids.length - 1; i >= 0; i--) {
      const snap = await readPaimonSnapshot(storage, root, ids[i]!);
      if (snap.timeMillis <= t) return snap;
    }
    throw new TidemarkError('NotFound', `no snapshot at or before ${new Date(t).toISOString()} (${t} ms) in ${root}`, {
      path: root,
      asOfTimestampMs: t,
    });
  }
  return readPaimonSnapshot(storage, root, ids[ids.length - 1]!);
}

/** Iceberg's version selector as Paimon's: a ref is a Paimon tag, else a Paimon branch. */
export function paimonSelectorOf(v: IcebergSelector = {}): SnapshotSelector {
  return { snapshotId: v.snapshotId, asOfTimestampMs: v.asOfTimestampMs, ref: v.ref };
}
