import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import { isDeletionVector } from './deletion-vector';
import { FILE_CONTENT, type DataFile, type ManifestEntry, type ManifestFile, type Schema, type Snapshot } from './model';
import { manifestMayMatch, pruneByFilter, type ScanFilter } from './scan-filter';
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

/** The manifest list of a snapshot (NotFound naming it when missing). */
async function readSnapshotManifests(storage: StoragePort, table: LoadedTable, snapshot: Snapshot): Promise<{ listPath: string; manifests: ManifestFile[] }> {
  const listPath = table.resolve(snapshot.manifestList);
  return { listPath, manifests: await readManifestList(await readOrNotFound(storage, listPath, `manifest list of snapshot ${snapshot.snapshotId}`), listPath) };
}

/** The live entries (status existing/added) of one manifest of a snapshot, decoded once per cache. */
async function readLiveEntries(storage: StoragePort, table: LoadedTable, snapshot: Snapshot, listPath: string, manifest: ManifestFile, cache?: ManifestCache): Promise<ManifestEntry[]> {
  const spec = table.metadata.partitionSpecs.find((s) => s.specId === manifest.partitionSpecId);
  if (!spec) {
    throw new TidemarkError('DataInvalid', `${listPath}: manifest ${manifest.manifestPath} uses unknown partition spec ${manifest.partitionSpecId}`, { path: listPath });
  }
  const path = table.resolve(manifest.manifestPath);
  // Partition values are typed by the current schema's fields; a later schema keeps field ids.
  const typingSchema = table.metadata.schemas.find((s) => s.schemaId === table.metadata.currentSchemaId) ?? snapshotSchema(table.metadata, snapshot, { snapshotId: snapshot.snapshotId });
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
  return (await entries).filter((e) => e.status !== 2);
}

/** Reads the live entries (status existing/added) of a snapshot: manifest list, then manifests. */
export async function readSnapshotEntries(
  storage: StoragePort,
  table: LoadedTable,
  snapshot: Snapshot,
  cache?: ManifestCache,
): Promise<{ manifest: ManifestFile; entries: ManifestEntry[] }[]> {
  const { listPath, manifests } = await readSnapshotManifests(storage, table, snapshot);
  return Promise.all(manifests.map(async (manifest) => ({ manifest, entries: await readLiveEntries(storage, table, snapshot, listPath, manifest, cache) })));
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
 * Assigns delete files to data files under the spec's rules ("Scan Planning"): built once from
 * every delete file of a version, then asked per data file, so that data manifests can be planned
 * one at a time.
 */
class DeleteAssigner {
  private readonly byPartition = new Map<string, PlannedFile[]>();
  private readonly global: PlannedFile[] = [];
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly table: LoadedTable,
    deleteFiles: PlannedFile[],
  ) {
    const unpartitionedSpecs = new Set(table.metadata.partitionSpecs.filter((s) => s.fields.length === 0).map((s) => s.specId));
    for (const d of deleteFiles) {
      if (d.content === FILE_CONTENT.equalityDeletes && unpartitionedSpecs.has(d.specId)) this.global.push(d);
      else {
        const k = partitionKey(d);
        this.byPartition.set(k, [...(this.byPartition.get(k) ?? []), d]);
      }
    }
  }

  /** Sets `f.deletes` to the delete files that apply to it. */
  assign(f: PlannedDataFile): void {
    const candidates = [...(this.byPartition.get(partitionKey(f)) ?? []), ...this.global];
    for (const d of candidates) {
      if (d.content === FILE_CONTENT.positionDeletes) {
        // Spec: applies when data seq <= delete seq, same partition, and referenced_data_file (if set) matches.
        if (f.sequenceNumber > d.sequenceNumber) continue;
        if (d.dataFile.referencedDataFile !== null && this.table.resolve(d.dataFile.referencedDataFile) !== f.path) continue;
        const lo = d.dataFile.lowerBounds?.get(FILE_PATH_FIELD_ID);
        const hi = d.dataFile.upperBounds?.get(FILE_PATH_FIELD_ID);
        if (lo && hi && (f.originalPath < this.decoder.decode(lo) || f.originalPath > this.decoder.decode(hi))) {
          // Bounds may be truncated prefixes: only prune when the path is outside the prefix range.
          if (!f.originalPath.startsWith(this.decoder.decode(hi))) continue;
        }
        f.deletes.push(d);
      } else if (f.sequenceNumber < d.sequenceNumber) {
        // Spec: equality deletes apply to data with a strictly lower data sequence number.
        f.deletes.push(d);
      }
    }
    // Spec: a deletion vector holds every delete of its data file, position delete files included.
    if (f.deletes.some(isDeletionVector)) f.deletes = f.deletes.filter((d) => d.content !== FILE_CONTENT.positionDeletes || isDeletionVector(d));
  }
}

/**
 * A scan plan read as it is needed (format v1, v2 and v3): opening it reads the manifest list and
 * the delete manifests only; each data manifest is read when its files are first asked for, so the
 * first rows of a large version wait for one data manifest, not for all of them. Its files, their
 * order and the deletes assigned to each are exactly planScan's (planScan is built on it).
 */
export interface IncrementalScanPlan {
  table: LoadedTable;
  /** Null for a table without snapshots: no manifests. */
  snapshot: Snapshot | null;
  /** The snapshot's schema (the one it was written with). */
  schema: Schema;
  /** Every live delete file of the version, in manifest-list order. */
  deleteFiles: PlannedFile[];
  /**
   * Groups of data files in plan order: one per data manifest (content 0) in manifest-list order
   * (a version whose delete manifests list data files, against the spec, is planned whole: one group).
   */
  groupCount: number;
  /**
   * Records in the live data files as the manifest list counts them (added + existing rows of the
   * data manifests); null when the list lacks those counts (optional in v1).
   */
  listedRecords: number | null;
  /**
   * The live data files of group `index` (its data manifest read and decoded on the first call,
   * then kept), with the deletes that apply to each; none beyond the last group. DataInvalid when
   * a data manifest lists delete files (its deletes would apply to files already served).
   */
  dataFiles(index: number): Promise<PlannedDataFile[]>;
  /** Every data manifest read: the plan planScan returns (without a filter). Kept once made. */
  complete(): Promise<ScanPlan>;
}

/** A plan already made (e.g. with a filter) as an incremental one: its files are one group. */
export function wholePlan(plan: ScanPlan): IncrementalScanPlan {
  return {
    table: plan.table,
    snapshot: plan.snapshot,
    schema: plan.schema,
    deleteFiles: plan.deleteFiles,
    groupCount: 1,
    listedRecords: null,
    dataFiles: (i) => Promise.resolve(i === 0 ? plan.files : []),
    complete: () => Promise.resolve(plan),
  };
}

/**
 * Opens an incremental plan of a table version: reads the manifest list and every delete manifest
 * (a data file's deletes can come from any of them). Errors as planScan's, each raised when the
 * file is first read.
 */
export async function openScanPlan(storage: StoragePort, table: string | LoadedTable, options: SnapshotSelector & { manifestCache?: ManifestCache; filter?: ScanFilter } = {}): Promise<IncrementalScanPlan> {
  const loaded = typeof table === 'string' ? await loadTable(storage, table) : table;
  const { metadata } = loaded;
  const snapshot = selectSnapshot(metadata, options);
  const schema = snapshotSchema(metadata, snapshot, options);
  if (!snapshot) {
    const empty: ScanPlan = { table: loaded, snapshot, schema, files: [], deleteFiles: [] };
    return { table: loaded, snapshot, schema, deleteFiles: [], groupCount: 0, listedRecords: 0, dataFiles: () => Promise.resolve([]), complete: () => Promise.resolve(empty) };
  }
  const { listPath, manifests } = await readSnapshotManifests(storage, loaded, snapshot);
  const entriesOf = (m: ManifestFile) => readLiveEntries(storage, loaded, snapshot, listPath, m, options.manifestCache);
  const dataManifests = manifests.filter((m) => m.content === 0);
  const deleteManifests = manifests.filter((m) => m.content !== 0);
  // Delete manifests holding data files (against the spec) would put files out of order: planned
  // whole below, as planScan always did.
  // The first data manifest is read meanwhile: the first page needs it next.
  const early = new Map<ManifestFile, Promise<ManifestEntry[]>>();
  if (dataManifests[0] && (!options.filter || manifestMayMatch(metadata, schema, dataManifests[0], options.filter))) {
    const first = entriesOf(dataManifests[0]);
    first.catch(() => undefined); // reported when its files are asked for
    early.set(dataManifests[0], first);
  }
  const deleteGroups = await Promise.all(deleteManifests.map(async (m) => ({ manifest: m, entries: await entriesOf(m) })));
  const strayData = deleteGroups.some((g) => g.entries.some((e) => e.dataFile.content === FILE_CONTENT.data));
  const deleteFiles = deleteGroups.flatMap((g) => g.entries.map((e) => toPlanned(loaded, g.manifest.partitionSpecId, e)));
  let assigner: DeleteAssigner | null = null;
  const files = new Map<number, Promise<PlannedDataFile[]>>();
  let whole: Promise<ScanPlan> | null = null;

  function dataFiles(index: number): Promise<PlannedDataFile[]> {
    const manifest = dataManifests[index];
    if (!manifest) return Promise.resolve([]);
    let p = files.get(index);
    if (!p) {
      const read = early.get(manifest) ?? entriesOf(manifest);
      early.delete(manifest);
      p = read.then((entries) => {
        const path = loaded.resolve(manifest.manifestPath);
        const stray = entries.find((e) => e.dataFile.content !== FILE_CONTENT.data);
        if (stray) throw new TidemarkError('DataInvalid', `${path}: data manifest (content 0) lists delete file ${stray.dataFile.filePath}`, { path });
        assigner ??= new DeleteAssigner(loaded, deleteFiles);
        return entries.map((e) => {
          const f: PlannedDataFile = { ...toPlanned(loaded, manifest.partitionSpecId, e), deletes: [] };
          assigner!.assign(f);
          return f;
        });
      });
      files.set(index, p);
      p.catch(() => files.delete(index));
    }
    return p;
  }

  function complete(): Promise<ScanPlan> {
    if (!whole) {
      whole = (async () => {
        // Every manifest in list order, entries classified by their own content (as planScan
        // always did, whatever the manifest's content says).
        // With a filter, data manifests whose partition summaries exclude it are not read.
        const read = options.filter ? manifests.filter((m) => m.content !== 0 || manifestMayMatch(metadata, schema, m, options.filter!)) : manifests;
        const groups = await Promise.all(read.map(async (m) => ({ manifest: m, entries: await (early.get(m) ?? entriesOf(m)) })));
        const dataFilesAll: PlannedDataFile[] = [];
        const deletes: PlannedFile[] = [];
        for (const { manifest, entries } of groups) {
          for (const e of entries) {
            const planned = toPlanned(loaded, manifest.partitionSpecId, e);
            if (e.dataFile.content === FILE_CONTENT.data) dataFilesAll.push({ ...planned, deletes: [] });
            else deletes.push(planned);
          }
        }
        const assignAll = new DeleteAssigner(loaded, deletes);
        for (const f of dataFilesAll) assignAll.assign(f);
        return { table: loaded, snapshot, schema, files: dataFilesAll, deleteFiles: deletes };
      })();
      whole.catch(() => (whole = null));
    }
    return whole;
  }

  const listedRecords = dataManifests.every((m) => m.rowCountsListed === true) ? dataManifests.reduce((n, m) => n + m.addedRowsCount + m.existingRowsCount, 0) : null;
  if (strayData) {
    // Against the spec, but readable: planned whole, served as one group of files.
    return wholePlan(await complete());
  }
  return { table: loaded, snapshot, schema, deleteFiles, groupCount: dataManifests.length, listedRecords, dataFiles, complete };
}

/**
 * Plans a scan (format v1, v2 and v3: deletion vectors are position deletes of the data file they
 * reference, and replace its position delete files). `table` is a table root path or an already loaded table.
 * Unknown snapshot id / ref → NotFound naming it; a missing manifest list or manifest → NotFound
 * naming the file. With a filter, data files whose partition or column bounds cannot match are
 * pruned (rows are still filtered by the reader).
 */
export async function planScan(storage: StoragePort, table: string | LoadedTable, options: PlanOptions = {}): Promise<ScanPlan> {
  const opened = await openScanPlan(storage, table, options);
  const plan = await opened.complete();
  if (!options.filter) return plan;
  const { metadata } = plan.table;
  return { ...plan, files: plan.files.filter((f) => pruneByFilter(metadata, plan.schema, f, options.filter!)) };
}
