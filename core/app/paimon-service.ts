/**
 * Paimon tables in the contract's shapes (the same as Iceberg's, so the UI needs no special case
 * beyond labels): table info, snapshot timeline, schema and files.
 */
import type { FileEntry, SchemaInfo, SnapshotInfo, TableInfo } from '../api';
import { describePaimonTable, listPaimonBranches, listPaimonFiles, listPaimonSnapshots, listPaimonTagNames, readPaimonSchema, type PaimonSnapshotSelector } from '../lake/paimon';
import { paimonSelectorOf, resolvePaimonSnapshot } from '../lake/paimon';
import type { StoragePort } from '../storage';
import { describeHealth, describeField, summaryNumber } from './lake-service';

const num = summaryNumber;

export { paimonSelectorOf };

export async function readPaimonTableInfo(storage: StoragePort, root: string): Promise<TableInfo> {
  const [facts, snapshots, files, tags, branches] = await Promise.all([
    describePaimonTable(storage, root),
    listPaimonSnapshots(storage, root),
    listPaimonFiles(storage, root).catch(() => []),
    listPaimonTagNames(storage, root),
    listPaimonBranches(storage, root),
  ]);
  const current = snapshots.at(-1) ?? null;
  const size = files.reduce((n, f) => n + f.fileSizeBytes, 0);
  const dvFiles = files.filter((f) => f.deletionVector).length;
  const health = describeHealth({ 'total-data-files': String(files.length), 'total-delete-files': String(dvFiles), 'total-files-size': String(size) });
  const resolvedTags = await Promise.all(
    tags.map(async (name) => {
      const s = await resolvePaimonSnapshot(storage, root, { tag: name }).catch(() => null);
      return s ? { name, type: 'tag' as const, snapshotId: s.id } : null;
    }),
  );
  // main is the table's snapshot/ folder; a branch is shown at its latest snapshot (an empty one is not shown).
  const resolvedBranches = await Promise.all(
    branches.map(async (name) => {
      const s = await resolvePaimonSnapshot(storage, root, { ref: name }).catch(() => null);
      return s && !tags.includes(name) ? { name, type: 'branch' as const, snapshotId: s.id } : null;
    }),
  );
  const main = current ? [{ name: 'main', type: 'branch' as const, snapshotId: current.snapshotId }] : [];
  return {
    path: root,
    format: 'paimon',
    formatVersion: 3,
    location: root,
    tableUuid: null,
    currentSnapshotId: current?.snapshotId ?? null,
    snapshotCount: facts.snapshotCount,
    totalRecords: current ? num(current.summary.totalRecordCount) : 0,
    totalSizeBytes: size,
    lastCommitMs: current?.timestampMs ?? null,
    health: { ...health, notes: [`${facts.kind} table${facts.mergeEngine ? `, ${facts.mergeEngine} merge engine` : ''}${facts.deletionVectors ? ', deletion vectors' : ''}`, ...health.notes] },
    refs: [...main, ...resolvedTags.filter((t) => t !== null), ...resolvedBranches.filter((b) => b !== null)],
  };
}

export async function describePaimonSnapshots(storage: StoragePort, root: string): Promise<SnapshotInfo[]> {
  return (await listPaimonSnapshots(storage, root)).map((s) => ({
    snapshotId: s.snapshotId,
    parentSnapshotId: s.parentSnapshotId,
    sequenceNumber: s.sequenceNumber,
    timestampMs: s.timestampMs,
    operation: s.operation,
    schemaId: s.schemaId,
    addedRecords: num(s.summary.deltaRecordCount),
    deletedRecords: null,
    totalRecords: num(s.summary.totalRecordCount),
    addedFiles: null,
    addedDeleteFiles: null,
    source: {},
    summary: s.summary,
  }));
}

export async function readPaimonSchemaInfo(storage: StoragePort, root: string, sel: PaimonSnapshotSelector = {}): Promise<SchemaInfo> {
  const schema = await readPaimonSchema(storage, root, sel);
  // -1: dynamic bucket (keys placed by the HASH index), -2: postpone bucket.
  const buckets = schema.bucketCount === -1 ? 'dynamic buckets' : schema.bucketCount === -2 ? 'postpone bucket' : `${schema.bucketCount} buckets`;
  return {
    schemaId: schema.schemaId,
    fields: schema.fields.map(describeField),
    identifierFields: schema.primaryKeys,
    partitionSpec: schema.partitionKeys.length ? schema.partitionKeys.map((k) => `identity(${k})`).join(', ') + `; ${buckets}` : `unpartitioned; ${buckets}`,
  };
}

export async function readPaimonFileEntries(storage: StoragePort, root: string, sel: PaimonSnapshotSelector = {}): Promise<FileEntry[]> {
  return (await listPaimonFiles(storage, root, sel)).map((f) => ({
    content: 'data',
    path: f.path,
    recordCount: f.recordCount,
    fileSizeInBytes: f.fileSizeBytes,
    sequenceNumber: f.maxSequenceNumber,
    fileSequenceNumber: f.minSequenceNumber,
    specId: f.level,
    partition: [...Object.values(f.partition), `bucket-${f.bucket}`],
    deletes: f.deletionVector ? [`deletion vector (${f.deletionVector.deletedRows ?? '?'} rows)`] : [],
  }));
}
