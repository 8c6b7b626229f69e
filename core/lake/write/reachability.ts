import { resolve as resolvePath } from 'node:path';
import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { isS3Url } from '../../storage/s3';
import { FILE_CONTENT, type Snapshot } from '../model';
import { readManifest, readManifestList } from '../serde/manifest-read';
import type { LoadedTable } from '../table';

/**
 * Which files a snapshot reaches (spec "Snapshots" → manifest list → manifests → data and delete
 * files), as normalised paths. Maintenance (expiry, orphan removal) compares these sets, so
 * every path goes through the table's rebasing and one spelling: `path.resolve` for a local path,
 * `s3://` for an object (`s3a://`, as Hadoop writes it, names the same key).
 */
export interface SnapshotFiles {
  manifestList: string;
  manifests: string[];
  dataFiles: string[];
  deleteFiles: string[];
}

export function localPath(table: LoadedTable, path: string): string {
  const rebased = table.resolve(path);
  return isS3Url(rebased) ? rebased.replace(/^s3a:/i, 's3:') : resolvePath(rebased);
}

/**
 * Reads a snapshot's manifest list and manifests. `liveOnly` skips DELETED entries (status 2): a file
 * that a snapshot records as removed is not needed to read that snapshot. A missing manifest list or
 * manifest is reported in `missing` (already deleted, e.g. by an earlier expiry) rather than thrown,
 * because maintenance must still account for the rest; corrupt files throw (never guess).
 */
export async function readSnapshotFiles(
  storage: StoragePort,
  table: LoadedTable,
  snapshot: Snapshot,
  options: { liveOnly: boolean; missing: string[] },
): Promise<SnapshotFiles> {
  const listPath = localPath(table, snapshot.manifestList);
  const out: SnapshotFiles = { manifestList: listPath, manifests: [], dataFiles: [], deleteFiles: [] };
  const listBytes = await readIfPresent(storage, listPath, options.missing);
  if (!listBytes) return out;
  const manifests = await readManifestList(listBytes, listPath);
  const m = table.metadata;
  const schema = m.schemas.find((s) => s.schemaId === m.currentSchemaId) ?? m.schemas[0]!;
  for (const manifest of manifests) {
    const path = localPath(table, manifest.manifestPath);
    out.manifests.push(path);
    const spec = m.partitionSpecs.find((s) => s.specId === manifest.partitionSpecId);
    if (!spec) throw new TidemarkError('DataInvalid', `${listPath}: manifest ${manifest.manifestPath} uses unknown partition spec ${manifest.partitionSpecId}`, { path: listPath });
    const bytes = await readIfPresent(storage, path, options.missing);
    if (!bytes) continue;
    for (const e of await readManifest(bytes, path, { manifest, spec, schema })) {
      if (options.liveOnly && e.status === 2) continue;
      const file = localPath(table, e.dataFile.filePath);
      if (e.dataFile.content === FILE_CONTENT.data) out.dataFiles.push(file);
      else out.deleteFiles.push(file);
    }
  }
  return out;
}

async function readIfPresent(storage: StoragePort, path: string, missing: string[]): Promise<Uint8Array | null> {
  try {
    return await storage.readFile(path);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') {
      missing.push(path);
      return null;
    }
    throw e;
  }
}

/** Every path a SnapshotFiles names, in one set. */
export function addAll(set: Set<string>, files: SnapshotFiles): Set<string> {
  set.add(files.manifestList);
  for (const list of [files.manifests, files.dataFiles, files.deleteFiles]) for (const p of list) set.add(p);
  return set;
}
