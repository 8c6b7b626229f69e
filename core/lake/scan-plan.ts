import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import { isDeletionVector } from './deletion-vector';
import { FILE_CONTENT, type DataFile, type ManifestEntry, type ManifestFile, type Schema, type Snapshot } from './model';
import { pruneByFilter, type ScanFilter } from './scan-filter';
import { readManifest, readManifestList } from './serde/manifest-read';
import { loadTable, selectSnapshot, snapshotSchema, type LoadedTable, type SnapshotSelector } from './table';
import { valueKey } from './values';

/** A data or delete file in a plan. Paths are rebased onto the local table root. */
export interface PlannedFile {
  /** Local path to read. */
  path: string;
  /** Path as written in the manifest (position delete files refer to data files by it). */
  originalPath: string;
  content: 0 | 1 | 2;
  /** Data sequence number (spec: inherited from the manifest when null on disk). */
  sequenceNumber: bigint;
  fileSequenceNumber: bigint | null;
  specId: number;
  /** Partition tuple in spec field order (canonical values). */
  partition: unknown[];
  recordCount: number;
  fileSizeInBytes: number;
  dataFile: DataFile;
}

export interface PlannedDataFile extends PlannedFile {
  /** The delete files that apply to this data file under the spec's rules ("Scan Planning"). */
  deletes: PlannedFile[];
}

export interface ScanPlan {
  table: LoadedTable;
  /** Null for a table without snapshots: the plan is empty. */
  snapshot: Snapshot | null;
  /** The snapshot's schema (the one it was written with). */
  schema: Schema;
  files: PlannedDataFile[];
  deleteFiles: PlannedFile[];
}

export interface PlanOptions extends SnapshotSelector {
  filter?: ScanFilter;
  /**
   * Decoded manifests by path (manifests are immutable): a caller planning many snapshots of one
   * table (key history, diffs, time travel) decodes each manifest once instead of once per snapshot.
   */
  manifestCache?: ManifestCache;
}

/** Manifest entries (all statuses) by manifest path, partition spec and typing schema. */
export type ManifestCache = Map<string, Promise<ManifestEntry[]>>;

async function readOrNotFound(storage: StoragePort, path: string, what: string): Promise<Uint8Array> {
  try {
    return await storage.readFile(path);
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') {
      throw new TidemarkError('NotFound', `${what} not found: ${path}`, { path }, e);
    }
    throw e;
  }
}

/** Reads the live entries (status existing/added) of a snapshot: manifest list, then manifests. */
export async function readSnapshotEntries(
  storage: StoragePort,
  table: LoadedTable,
  snapshot: Snapshot,
  cache?: ManifestCache,
): Promise<{ manifest: ManifestFile; entries: ManifestEntry[] }[]> {
  const listPath = table.resolve(snapshot.manifestList);
  const manifests = await readManifestList(await readOrNotFound(storage, listPath, `manifest list of snapshot ${snapshot.snapshotId}`), listPath);
  const schema = snapshotSchema(table.metadata, snapshot, { snapshotId: snapshot.snapshotId });
  return Promise.all(
    manifests.map(async (manifest) => {
      const spec = table.metadata.partitionSpecs.find((s) => s.specId === manifest.partitionSpecId);
      if (!spec) {
        throw new TidemarkError('DataInvalid', `${listPath}: manifest ${manifest.manifestPath} uses unknown partition spec ${manifest.partitionSpecId}`, { path: listPath });
      }
      const path = table.resolve(manifest.manifestPath);
      // Partition values are typed by the current schema's fields; a later schema keeps field ids.
      const typingSchema = table.metadata.schemas.find((s) => s.schemaId === table.metadata.currentSchemaId) ?? schema;
      // Entries inherit sequence numbers and snapshot ids from the manifest's list entry: those
      // are part of the key, so a manifest listed with other values is decoded again.
      const key = `${path}\u0000${manifest.partitionSpecId}\u0000${typingSchema.schemaId}\u0000${manifest.sequenceNumber}\u0000${manifest.minSequenceNumber}\u0000${manifest.addedSnapshotId}`;
      let entries = cache?.get(key);
      if (!entries) {
        entries = readOrNotFound(storage, path, 'manifest').then((bytes) => readManifest(bytes, path, { manifest, spec, schema: typingSchema }));
        if (cache) {
          cache.set(key, entries);
          entries.catch(() => cache.delete(key));
        }
      }
      return { manifest, entries: (await entries).filter((e) => e.status !== 2) };
    }),
  );
}

function toPlanned(table: LoadedTable, specId: number, e: ManifestEntry): PlannedFile {
  const d = e.dataFile;
  return {
    path: table.resolve(d.filePath),
    originalPath: d.filePath,
    content: d.content,
    sequenceNumber: e.sequenceNumber,
    fileSequenceNumber: e.fileSequenceNumber,
    specId,
    partition: d.partition,
    recordCount: d.recordCount,
    fileSizeInBytes: d.fileSizeInBytes,
    dataFile: d,
  };
}

const FILE_PATH_FIELD_ID = 2147483546;

function partitionKey(f: PlannedFile): string {
  return `${f.specId}|${valueKey(f.partition)}`;
}

/**
 * Plans a scan (format v1, v2 and v3: deletion vectors are position deletes of the data file they
 * reference, and replace its position delete files). `table` is a table root path or an already loaded table.
 * Unknown snapshot id / ref → NotFound naming it; a missing manifest list or manifest → NotFound
 * naming the file. With a filter, data files whose partition or column bounds cannot match are
 * pruned (rows are still filtered by the reader).
 */
export async function planScan(storage: StoragePort, table: string | LoadedTable, options: PlanOptions = {}): Promise<ScanPlan> {
  const loaded = typeof table === 'string' ? await loadTable(storage, table) : table;
  const { metadata } = loaded;
  const snapshot = selectSnapshot(metadata, options);
  const schema = snapshotSchema(metadata, snapshot, options);
  if (!snapshot) return { table: loaded, snapshot, schema, files: [], deleteFiles: [] };

  const groups = await readSnapshotEntries(storage, loaded, snapshot, options.manifestCache);
  const dataFiles: PlannedDataFile[] = [];
  const deleteFiles: PlannedFile[] = [];
  for (const { manifest, entries } of groups) {
    for (const e of entries) {
      const planned = toPlanned(loaded, manifest.partitionSpecId, e);
      if (e.dataFile.content === FILE_CONTENT.data) dataFiles.push({ ...planned, deletes: [] });
      else deleteFiles.push(planned);
    }
  }
  const unpartitionedSpecs = new Set(metadata.partitionSpecs.filter((s) => s.fields.length === 0).map((s) => s.specId));
  const byPartition = new Map<string, PlannedFile[]>();
  const global: PlannedFile[] = [];
  for (const d of deleteFiles) {
    if (d.content === FILE_CONTENT.equalityDeletes && unpartitionedSpecs.has(d.specId)) global.push(d);
    else {
      const k = partitionKey(d);
      byPartition.set(k, [...(byPartition.get(k) ?? []), d]);
    }
  }
  const decoder = new TextDecoder();
  for (const f of dataFiles) {
    const candidates = [...(byPartition.get(partitionKey(f)) ?? []), ...global];
    for (const d of candidates) {
      if (d.content === FILE_CONTENT.positionDeletes) {
        // Spec: applies when data seq <= delete seq, same partition, and referenced_data_file (if set) matches.
        if (f.sequenceNumber > d.sequenceNumber) continue;
        if (d.dataFile.referencedDataFile !== null && loaded.resolve(d.dataFile.referencedDataFile) !== f.path) continue;
        const lo = d.dataFile.lowerBounds?.get(FILE_PATH_FIELD_ID);
        const hi = d.dataFile.upperBounds?.get(FILE_PATH_FIELD_ID);
        if (lo && hi && (f.originalPath < decoder.decode(lo) || f.originalPath > decoder.decode(hi))) {
          // Bounds may be truncated prefixes: only prune when the path is outside the prefix range.
          if (!f.originalPath.startsWith(decoder.decode(hi))) continue;
        }
        f.deletes.push(d);
      } else if (f.sequenceNumber < d.sequenceNumber) {
        // Spec: equality deletes apply to data with a strictly lower data sequence number.
        f.deletes.push(d);
      }
    }
  }
  for (const f of dataFiles) {
    // Spec: a deletion vector holds every delete of its data file, position delete files included.
    if (f.deletes.some(isDeletionVector)) f.deletes = f.deletes.filter((d) => d.content !== FILE_CONTENT.positionDeletes || isDeletionVector(d));
  }
  const files = options.filter ? dataFiles.filter((f) => pruneByFilter(metadata, schema, f, options.filter!)) : dataFiles;
  return { table: loaded, snapshot, schema, files, deleteFiles };
}
