import { TidemarkError } from '../../errors';
import { FILE_CONTENT, type DataFile, type ManifestEntry, type ManifestFile, type PartitionSpec, type Snapshot, type TableMetadata } from '../model';
import { readManifestList } from '../serde/manifest-read';
import { encodeSingleValue } from '../serde/single-value';
import { readSnapshotEntries } from '../scan-plan';
import { selectSnapshot, type LoadedTable } from '../table';
import { partitionResultType } from '../transforms';
import { compareValues } from '../scan-filter';
import { childPath, commitTable, defaultWriteEnv, writeStorage, type WriteEnv } from './commit';
import { encodeManifest, encodeManifestList } from './manifest-write';

/** What an operation adds and removes; the snapshot, manifests and summary are derived from it. */
export interface SnapshotChange {
  operation: 'append' | 'overwrite' | 'delete' | 'replace';
  addedDataFiles?: DataFile[];
  /** Delete files with the spec they were written with. */
  addedDeleteFiles?: { file: DataFile; specId: number }[];
  /** Remove every live data and delete file of the base snapshot (overwrite, compaction). */
  removeAll?: boolean;
  /**
   * Remove these live files of the base snapshot, by path as written in the manifests (a partial
   * compaction). The manifests holding them are rewritten with them DELETED and the rest EXISTING;
   * the others are carried forward. A path that is no longer live is a CommitConflict. The
   * deletion vectors of removed data files are removed with them.
   */
  removeFiles?: ReadonlySet<string>;
  /** Caller-set summary properties (e.g. the sync engine's source offsets). */
  summary?: Record<string, string>;
  /** Metadata changes made together with the snapshot (e.g. a new unpartitioned spec). */
  partitionSpecs?: PartitionSpec[];
}

export interface CommitOptions {
  env?: WriteEnv;
  /** Branch to commit to (default main). */
  branch?: string;
}

type SummaryTotal = 'total-records' | 'total-files-size' | 'total-data-files' | 'total-delete-files' | 'total-position-deletes' | 'total-equality-deletes';

function partitionSummaries(spec: PartitionSpec, metadata: TableMetadata, files: DataFile[]) {
  const schema = metadata.schemas.find((s) => s.schemaId === metadata.currentSchemaId)!;
  return spec.fields.map((pf, i) => {
    const source = schema.fields.find((f) => f.id === pf.sourceId);
    const type = source ? partitionResultType(pf.transform, source.type) : 'int';
    const values = files.map((f) => f.partition[i]).filter((v) => v !== null && v !== undefined);
    const sorted = [...values].sort(compareValues);
    return {
      containsNull: files.some((f) => f.partition[i] === null || f.partition[i] === undefined),
      containsNan: false,
      lowerBound: sorted.length ? encodeSingleValue(type, sorted[0]) : null,
      upperBound: sorted.length ? encodeSingleValue(type, sorted[sorted.length - 1]) : null,
    };
  });
}

/**
 * Commits one snapshot (spec "Snapshots", "Manifests"): new data and delete manifests, the base's
 * manifests carried forward (or rewritten with DELETED entries when `removeAll`), a manifest list,
 * and a summary with the Appendix F metrics. `make` may run again on a lost race.
 */
export async function commitSnapshot(root: string, make: MakeChange, options: CommitOptions = {}) {
  return commitSnapshots(root, [make], options);
}

/** Derives a snapshot's change from the table as it stands (the base it is committed on). */
export type MakeChange = (base: LoadedTable, ctx: { sequenceNumber: bigint; snapshotId: bigint }) => Promise<SnapshotChange>;

/**
 * Commits several snapshots in order, each the parent of the next, published together in one
 * metadata version (as Java's Transaction does): a reader sees all of them or none. Each `make`
 * sees the table with the snapshots before it; all may run again on a lost race.
 */
export async function commitSnapshots(root: string, makes: MakeChange[], options: CommitOptions = {}) {
  const env = options.env ?? defaultWriteEnv;
  return commitTable(
    root,
    async (base, version) => {
      let table = base;
      for (const make of makes) table = { ...table, metadata: await buildSnapshot(root, table, version, make, options) };
      return table.metadata;
    },
    env,
  );
}

/** The table's metadata with one more snapshot, `make`'s change, on `options.branch` (its manifests and list written). */
async function buildSnapshot(root: string, base: LoadedTable, version: number, make: MakeChange, options: CommitOptions): Promise<TableMetadata> {
  const env = options.env ?? defaultWriteEnv;
  const branch = options.branch ?? 'main';
  const storage = writeStorage(env);
  const m = base.metadata;
  const parent = m.refs[branch] ? selectSnapshot(m, { ref: branch }) : branch === 'main' ? selectSnapshot(m) : null;
  const sequenceNumber = m.lastSequenceNumber + 1n;
  const snapshotId = env.snapshotId();
  const change = await make(base, { sequenceNumber, snapshotId });
  const v3 = m.formatVersion === 3;
  if (v3) checkV3Change(root, change);
  const specs = change.partitionSpecs ?? m.partitionSpecs;
  const meta2 = { ...m, partitionSpecs: specs };
  const manifests: ManifestFile[] = [];
  /** v3: rows of each manifest written here whose files inherit a first_row_id (spec "First Row ID Assignment"). */
  const inheritingRows = new Map<string, bigint>();
  const removed: (ManifestEntry & { specId?: number })[] = [];
  const rewritten: { entries: ManifestEntry[]; specId: number; content: 0 | 1 }[] = [];
  if (parent && change.removeFiles && !change.removeAll) {
    const found = new Set<string>();
    const listed = await readManifestList(await storage.readFile(base.resolve(parent.manifestList)), parent.manifestList);
    const groups = await readSnapshotEntries(storage, base, parent);
    // A deletion vector (v3) applies to exactly one data file: it goes with that file, whereas
    // its Puffin file may hold vectors of other files and stays.
    const goes = (e: ManifestEntry) => change.removeFiles!.has(e.dataFile.filePath) || (isDeletionVector(e.dataFile) && change.removeFiles!.has(e.dataFile.referencedDataFile!));
    for (const g of groups) {
      const hit = g.entries.filter(goes);
      if (hit.length === 0) continue;
      for (const e of hit) found.add(e.dataFile.filePath);
      // Entries stay as they were (snapshot id and sequence numbers inherited) but EXISTING.
      const entries = g.entries.map((e) => (goes(e) ? { ...e, status: 2 as const, snapshotId } : { ...e, status: 0 as const }));
      rewritten.push({ entries, specId: g.manifest.partitionSpecId, content: g.manifest.content === 1 ? 1 : 0 });
      removed.push(...hit.map((e) => ({ ...e, specId: g.manifest.partitionSpecId })));
    }
    const gone = [...change.removeFiles].filter((p) => !found.has(p));
    if (gone.length > 0) {
      throw new TidemarkError('CommitConflict', `${gone.length} file(s) to replace are no longer live in ${root} (e.g. ${gone[0]}): another commit changed them; run it again`, { table: root, path: gone[0]! });
    }
    const touched = new Set(groups.filter((g) => g.entries.some(goes)).map((g) => g.manifest.manifestPath));
    manifests.push(...listed.filter((m) => !touched.has(m.manifestPath)));
  } else if (parent && !change.removeAll) {
    manifests.push(...(await readManifestList(await storage.readFile(base.resolve(parent.manifestList)), parent.manifestList)));
  } else if (parent) {
    for (const g of await readSnapshotEntries(storage, base, parent)) removed.push(...g.entries.map((e) => ({ ...e, specId: g.manifest.partitionSpecId })));
  }
  const writeManifest = async (entries: ManifestEntry[], specId: number, content: 0 | 1) => {
    const spec = specs.find((s) => s.specId === specId)!;
    const schema = m.schemas.find((s) => s.schemaId === m.currentSchemaId)!;
    const bytes = await encodeManifest(entries, spec, schema, content === 0 ? 'data' : 'deletes', v3 ? 3 : 2);
    const path = childPath(root, 'metadata', `${env.uuid()}-m${manifests.length}.avro`);
    await storage.writeFile(path, bytes);
    const live = entries.filter((e) => e.status !== 2);
    const count = (s: number) => entries.filter((e) => e.status === s);
    if (v3 && content === 0) inheritingRows.set(path, live.filter((e) => e.dataFile.firstRowId === null || e.dataFile.firstRowId === undefined).reduce((a, e) => a + BigInt(e.dataFile.recordCount), 0n));
    manifests.unshift({
      manifestPath: path,
      manifestLength: bytes.length,
      partitionSpecId: specId,
      content,
      sequenceNumber,
      minSequenceNumber: live.reduce((a, e) => (e.sequenceNumber < a ? e.sequenceNumber : a), sequenceNumber),
      addedSnapshotId: snapshotId,
      addedFilesCount: count(1).length,
      existingFilesCount: count(0).length,
      deletedFilesCount: count(2).length,
      addedRowsCount: count(1).reduce((a, e) => a + e.dataFile.recordCount, 0),
      existingRowsCount: count(0).reduce((a, e) => a + e.dataFile.recordCount, 0),
      deletedRowsCount: count(2).reduce((a, e) => a + e.dataFile.recordCount, 0),
      partitions: partitionSummaries(spec, meta2, entries.map((e) => e.dataFile)),
    });
  };
  const added = (file: DataFile): ManifestEntry => ({ status: 1, snapshotId, sequenceNumber, fileSequenceNumber: sequenceNumber, dataFile: file });
  const data = change.addedDataFiles ?? [];
  if (data.length) await writeManifest(data.map(added), m.defaultSpecId, 0);
  const deletesBySpec = new Map<number, DataFile[]>();
  for (const d of change.addedDeleteFiles ?? []) deletesBySpec.set(d.specId, [...(deletesBySpec.get(d.specId) ?? []), d.file]);
  for (const [specId, files] of deletesBySpec) await writeManifest(files.map(added), specId, 1);
  for (const r of rewritten) await writeManifest(r.entries, r.specId, r.content);
  // Removed files are recorded as DELETED entries (status 2) in manifests of their own spec.
  const removedBySpec = new Map<string, ManifestEntry[]>();
  for (const e of change.removeFiles ? [] : removed) {
    const key = `${e.dataFile.content === FILE_CONTENT.data ? 0 : 1}|${specOfEntry(e, specs)}`;
    const { specId: _s, ...entry } = e;
    removedBySpec.set(key, [...(removedBySpec.get(key) ?? []), { ...entry, status: 2, snapshotId }]);
  }
  for (const [key, entries] of removedBySpec) {
    const [content, specId] = key.split('|').map(Number) as [0 | 1, number];
    await writeManifest(entries, specId, content);
  }

  const sum = (files: DataFile[], pick: (f: DataFile) => number) => files.reduce((a, f) => a + pick(f), 0);
  const addedDeletes = (change.addedDeleteFiles ?? []).map((d) => d.file);
  const removedFiles = removed.map((e) => e.dataFile);
  const isData = (f: DataFile) => f.content === FILE_CONTENT.data;
  const isPos = (f: DataFile) => f.content === FILE_CONTENT.positionDeletes;
  const isEq = (f: DataFile) => f.content === FILE_CONTENT.equalityDeletes;
  const summary: Record<string, string> = { operation: change.operation };
  const put = (k: string, v: number) => {
    if (v !== 0) summary[k] = String(v);
  };
  put('added-data-files', data.length);
  put('added-records', sum(data, (f) => f.recordCount));
  put('added-files-size', sum([...data, ...addedDeletes], (f) => f.fileSizeInBytes));
  put('added-delete-files', addedDeletes.length);
  put('added-equality-delete-files', addedDeletes.filter(isEq).length);
  put('added-position-delete-files', addedDeletes.filter(isPos).length);
  put('added-equality-deletes', sum(addedDeletes.filter(isEq), (f) => f.recordCount));
  put('added-position-deletes', sum(addedDeletes.filter(isPos), (f) => f.recordCount));
  put('deleted-data-files', removedFiles.filter(isData).length);
  put('deleted-records', sum(removedFiles.filter(isData), (f) => f.recordCount));
  put('removed-delete-files', removedFiles.filter((f) => !isData(f)).length);
  put('removed-files-size', sum(removedFiles, (f) => f.fileSizeInBytes));
  const prev = parent?.summary ?? {};
  // A partial removal subtracts what it removed; removeAll starts from nothing.
  const less = change.removeFiles && !change.removeAll ? removedFiles : [];
  const prevTotal = (k: SummaryTotal) => (change.removeAll ? 0 : Number(prev[k] ?? 0));
  summary['total-records'] = String(prevTotal('total-records') + sum(data, (f) => f.recordCount) - sum(less.filter(isData), (f) => f.recordCount));
  summary['total-files-size'] = String(prevTotal('total-files-size') + sum([...data, ...addedDeletes], (f) => f.fileSizeInBytes) - sum(less, (f) => f.fileSizeInBytes));
  summary['total-data-files'] = String(prevTotal('total-data-files') + data.length - less.filter(isData).length);
  summary['total-delete-files'] = String(prevTotal('total-delete-files') + addedDeletes.length - less.filter((f) => !isData(f)).length);
  summary['total-position-deletes'] = String(prevTotal('total-position-deletes') + sum(addedDeletes.filter(isPos), (f) => f.recordCount) - sum(less.filter(isPos), (f) => f.recordCount));
  summary['total-equality-deletes'] = String(prevTotal('total-equality-deletes') + sum(addedDeletes.filter(isEq), (f) => f.recordCount) - sum(less.filter(isEq), (f) => f.recordCount));
  for (const [k, v] of Object.entries(change.summary ?? {})) {
    if (k === 'operation') throw new TidemarkError('InvalidInput', 'summary property "operation" is set by the operation itself');
    summary[k] = v;
  }

  const listPath = childPath(root, 'metadata', `snap-${snapshotId}-${version}-${env.uuid()}.avro`);
  const lineage = v3 ? assignFirstRowIds(manifests, inheritingRows, m.nextRowId ?? 0n) : null;
  await storage.writeFile(listPath, await encodeManifestList(manifests, snapshotId, parent?.snapshotId ?? null, sequenceNumber, lineage ?? undefined));
  const now = Math.max(env.now(), m.lastUpdatedMs);
  const snapshot: Snapshot = {
    snapshotId,
    parentSnapshotId: parent?.snapshotId ?? null,
    sequenceNumber,
    timestampMs: now,
    manifestList: listPath,
    summary,
    schemaId: m.currentSchemaId,
    firstRowId: lineage?.firstRowId ?? null,
    ...(lineage ? { addedRows: lineage.addedRows } : {}),
  };
  const onMain = branch === 'main';
  return {
    ...meta2,
    // v3: advanced by every commit, on any branch (spec "Row Lineage").
    nextRowId: lineage ? lineage.firstRowId + lineage.addedRows : meta2.nextRowId,
    lastSequenceNumber: sequenceNumber,
    lastUpdatedMs: now,
    snapshots: [...m.snapshots, snapshot],
    currentSnapshotId: onMain ? snapshotId : m.currentSnapshotId,
    snapshotLog: onMain ? [...m.snapshotLog, { snapshotId, timestampMs: now }] : m.snapshotLog,
    refs: { ...m.refs, [branch]: { ...(m.refs[branch] ?? {}), snapshotId, type: 'branch' } },
  };
}

/**
 * What Tidemark cannot yet write into a format-version 3 table: position delete files (v3 takes
 * deletion vectors in Puffin files instead). A `replace` is allowed: its writer materializes each
 * row's lineage (compact.ts), and the ids its new files are assigned only count as consumed id
 * space (added-rows), as Iceberg's own rewrite does.
 */
function checkV3Change(root: string, change: SnapshotChange): void {
  if ((change.addedDeleteFiles ?? []).some((d) => d.file.content === FILE_CONTENT.positionDeletes)) {
    throw new TidemarkError('Unsupported', `${root}: position delete files cannot be added to a format-version 3 table (v3 takes deletion vectors, which Tidemark does not write yet)`, { table: root, feature: 'v3 position deletes' });
  }
}

/**
 * Spec "First Row ID Assignment": data manifests without a first_row_id get one, in list order,
 * from the table's next-row-id, each advancing by the rows that will inherit an id from it (for a
 * manifest written here, its live entries without a first_row_id; for one carried from before an
 * upgrade to v3, all its rows). Existing assignments are kept; delete manifests have none.
 */
function assignFirstRowIds(manifests: ManifestFile[], inheriting: Map<string, bigint>, nextRowId: bigint): { firstRowId: bigint; addedRows: bigint } {
  let next = nextRowId;
  for (const mf of manifests) {
    if (mf.content !== 0 || (mf.firstRowId !== null && mf.firstRowId !== undefined)) continue;
    mf.firstRowId = next;
    next += inheriting.get(mf.manifestPath) ?? BigInt(mf.addedRowsCount + mf.existingRowsCount);
  }
  return { firstRowId: nextRowId, addedRows: next - nextRowId };
}

/** A v3 deletion vector: a position delete entry pointing at one blob of a Puffin file. */
export function isDeletionVector(f: DataFile): boolean {
  return f.content === FILE_CONTENT.positionDeletes && f.referencedDataFile !== null && f.contentOffset !== null && f.contentOffset !== undefined;
}

/** The spec id a live entry was read under is not kept on ManifestEntry; match by partition arity. */
function specOfEntry(e: ManifestEntry & { specId?: number }, specs: PartitionSpec[]): number {
  if (e.specId !== undefined) return e.specId;
  return specs.find((s) => s.fields.length === e.dataFile.partition.length)?.specId ?? 0;
}
