/**
 * Plain-data views of a table for the contract (lake.* calls): table info with a health badge,
 * the snapshot timeline, the schema at a version and the files of a snapshot.
 */
import type { FieldInfo, FileEntry, SchemaInfo, SnapshotInfo, TableHealth, TableInfo } from '../api';
import { isStruct, typeToText, type NestedField } from '../lake';
import { isDeletionVector } from '../lake';
import { planScan, type PlannedFile } from '../lake';
import { loadTable, selectSnapshot, snapshotSchema, type LoadedTable, type SnapshotSelector } from '../lake';
import { formatPartitionSpec } from '../query';
import type { StoragePort } from '../storage';

export { typeToText };

/** Mean data file size below which a table is flagged as having small files (with > 10 files). */
const SMALL_FILE_BYTES = 8 * 1024 * 1024;
/** Delete files per data file above which merge-on-read gets slow: compaction is due. */
const DELETE_RATIO_WARN = 0.5;

/** A numeric snapshot-summary value (summaries are strings), null when absent or not a number. */
export const summaryNumber = (v: string | undefined) => (v === undefined || v === '' || Number.isNaN(Number(v)) ? null : Number(v));
const num = summaryNumber;

export function describeHealth(summary: Record<string, string>): TableHealth {
  const dataFiles = num(summary['total-data-files']) ?? 0;
  const deleteFiles = num(summary['total-delete-files']) ?? 0;
  const size = num(summary['total-files-size']) ?? 0;
  const mean = dataFiles > 0 ? Math.round(size / dataFiles) : 0;
  const smallFiles = dataFiles > 10 && mean < SMALL_FILE_BYTES;
  const deleteFileRatio = dataFiles > 0 ? deleteFiles / dataFiles : 0;
  const notes: string[] = [];
  if (smallFiles) notes.push(`${dataFiles} data files averaging ${(mean / 1024).toFixed(0)} KiB: compaction would merge them`);
  if (deleteFileRatio > DELETE_RATIO_WARN) notes.push(`${deleteFiles} delete files for ${dataFiles} data files: compaction would apply them`);
  return { dataFiles, deleteFiles, meanFileSizeBytes: mean, smallFiles, deleteFileRatio, badge: notes.length ? 'warn' : 'ok', notes };
}

export async function readTableInfo(storage: StoragePort, path: string): Promise<TableInfo> {
  const table = await loadTable(storage, path);
  const md = table.metadata;
  const current = selectSnapshot(md, {});
  const summary = current?.summary ?? {};
  return {
    path: table.root,
    format: 'iceberg',
    formatVersion: md.formatVersion,
    location: md.location,
    tableUuid: md.tableUuid || null,
    currentSnapshotId: current?.snapshotId ?? null,
    snapshotCount: md.snapshots.length,
    totalRecords: num(summary['total-records']),
    totalSizeBytes: num(summary['total-files-size']),
    lastCommitMs: md.snapshots.length ? Math.max(...md.snapshots.map((s) => s.timestampMs)) : null,
    health: describeHealth(summary),
    refs: Object.entries(md.refs).map(([name, r]) => ({ name, type: r.type, snapshotId: r.snapshotId })),
  };
}

export function describeSnapshots(table: LoadedTable): SnapshotInfo[] {
  return [...table.metadata.snapshots]
    .sort((a, b) => (a.sequenceNumber === b.sequenceNumber ? a.timestampMs - b.timestampMs : a.sequenceNumber < b.sequenceNumber ? -1 : 1))
    .map((s) => ({
      snapshotId: s.snapshotId,
      parentSnapshotId: s.parentSnapshotId,
      sequenceNumber: s.sequenceNumber,
      timestampMs: s.timestampMs,
      operation: s.summary.operation ?? 'unknown',
      schemaId: s.schemaId,
      addedRecords: num(s.summary['added-records']),
      deletedRecords: num(s.summary['deleted-records']),
      totalRecords: num(s.summary['total-records']),
      addedFiles: num(s.summary['added-data-files']),
      addedDeleteFiles: num(s.summary['added-delete-files']),
      source: Object.fromEntries(Object.entries(s.summary).filter(([k]) => k.startsWith('tidemark.'))),
      summary: s.summary,
    }));
}

export function describeField(f: NestedField): FieldInfo {
  const children = isStruct(f.type) ? f.type.fields.map(describeField) : [];
  return { id: f.id, name: f.name, type: typeToText(f.type), required: f.required, doc: f.doc ?? null, children };
}

export async function readSchemaInfo(storage: StoragePort, path: string, version: SnapshotSelector = {}): Promise<SchemaInfo> {
  const table = await loadTable(storage, path);
  const md = table.metadata;
  const snapshot = selectSnapshot(md, version);
  const schema = snapshotSchema(md, snapshot, version);
  const spec = md.partitionSpecs.find((s) => s.specId === md.defaultSpecId) ?? null;
  return {
    schemaId: schema.schemaId,
    fields: schema.fields.map(describeField),
    identifierFields: schema.identifierFieldIds.map((id) => schema.fields.find((f) => f.id === id)?.name ?? `#${id}`),
    partitionSpec: formatPartitionSpec(spec, schema),
  };
}

const CONTENT = ['data', 'position-deletes', 'equality-deletes'] as const;

function fileEntry(f: PlannedFile, deletes: PlannedFile[] = []): FileEntry {
  return {
    content: CONTENT[f.content],
    path: f.path,
    recordCount: f.recordCount,
    fileSizeInBytes: f.fileSizeInBytes,
    sequenceNumber: f.sequenceNumber,
    fileSequenceNumber: f.fileSequenceNumber,
    specId: f.specId,
    partition: f.partition,
    deletes: deletes.map((d) => d.path),
    ...(f.dataFile.equalityIds ? { equalityIds: f.dataFile.equalityIds } : {}),
    ...(isDeletionVector(f) && f.dataFile.referencedDataFile !== null
      ? { deletionVector: { offset: f.dataFile.contentOffset ?? 0, length: f.dataFile.contentSizeInBytes ?? 0, referencedDataFile: f.dataFile.referencedDataFile } }
      : {}),
  };
}

export async function readFileEntries(storage: StoragePort, path: string, version: SnapshotSelector = {}): Promise<FileEntry[]> {
  const plan = await planScan(storage, path, version);
  return [...plan.files.map((f) => fileEntry(f, f.deletes)), ...plan.deleteFiles.map((f) => fileEntry(f))];
}
