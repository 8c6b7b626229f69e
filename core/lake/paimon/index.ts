/**
 * Apache Paimon tables, read side (browser-safe: bytes only through a StoragePort). The API is
 * shaped like the Iceberg one (core/lake) so that the explorer needs no special case beyond labels:
 * snapshots carry bigint ids and a string summary, schemas use Iceberg type names, rows are the
 * canonical values of core/lake/values.ts.
 *
 * Handles: snapshot format version 3 (Paimon 0.9 – 1.x), Avro manifests (zstandard, deflate or no
 * compression) and ORC manifests (zstd, zlib or none; ./orc), Parquet data files (with field ids, or
 * without as Paimon 0.9 writes them), append tables, primary-key tables with the deduplicate merge
 * engine, deletion vectors (32-bit bitmaps), schema evolution by field id, time travel by snapshot
 * id, timestamp and tag. Fails as Unsupported, naming the feature: ORC / Avro data files, the
 * partial-update / aggregation / first-row merge engines, `sequence.field`, ORC snappy / lzo / lz4.
 */
import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import type { NestedField } from '../model';
import { rowMatches, type ScanFilter } from '../scan-filter';
import { decodeBinaryRow } from './binary-row';
import { readSnapshotChangelogFiles, readSnapshotDataFiles, type PaimonDataFileEntry, type PaimonDeletionVectorRef } from './manifest';
import { joinPath } from './paths';
import { assertReadable, filesToRead, keyFields, knownGroupRows, paimonReadGroups, readPaimonRows, type Row } from './read';
import { deletionVectorsEnabled, listPaimonSchemaIds, readPaimonSchemaFile, type PaimonSchema } from './schema';
import { listPaimonTags, paimonBranchRoot, paimonMetaRootOf, readAllPaimonSnapshots, resolvePaimonSnapshot, type PaimonSnapshotFile, type SnapshotSelector } from './snapshot';

export type { PaimonSchema, PaimonField, PaimonDataType } from './schema';
export type { PaimonDeletionVectorRef } from './manifest';
export type { SnapshotSelector as PaimonSnapshotSelector } from './snapshot';
export { paimonSelectorOf, listPaimonBranches, paimonBranchRoot, listPaimonSnapshotIds, parsePaimonSnapshot, type PaimonSnapshotFile } from './snapshot';
export { decodeBinaryRow } from './binary-row';
export { knownGroupRows, paimonReadGroups, readPaimonRows, type Row as PaimonRow } from './read';
export type { PaimonDataFileEntry } from './manifest';
export { decodeRoaringBitmap } from './deletion-vector';
export { decodeAvroRecords } from './avro-container';
export { decodeOrcRecords } from './orc';
export {
  readPaimonSnapshotRecords,
  readPaimonSchemaRecords,
  readPaimonTagRecords,
  scanPaimonAuditLog,
  formatJavaDuration,
  type PaimonSnapshotRecord,
  type PaimonSchemaRecord,
  type PaimonTagRecord,
  type PaimonAuditLogResult,
} from './system-tables';

/** A snapshot in the shape of core/lake's Snapshot (less the manifest list). */
export interface PaimonSnapshot {
  snapshotId: bigint;
  /** The previous snapshot id still present, null for the first one listed. */
  parentSnapshotId: bigint | null;
  /** Paimon snapshots have no sequence number of their own: the snapshot id (ids grow by one per commit). */
  sequenceNumber: bigint;
  timestampMs: number;
  /** commitKind lower-cased: append, compact, overwrite, analyze. */
  operation: string;
  schemaId: number;
  /** operation, commitKind, commitUser, commitIdentifier, totalRecordCount, deltaRecordCount, changelogRecordCount, watermark (when set), as strings. */
  summary: Record<string, string>;
}

/** True when `root` holds a Paimon table: a schema/ folder with at least one schema-N file. */
export async function isPaimonTable(storage: StoragePort, root: string): Promise<boolean> {
  try {
    return (await listPaimonSchemaIds(storage, root)).length > 0;
  } catch (e) {
    if (e instanceof TidemarkError && e.code === 'NotFound') return false;
    throw e;
  }
}

async function requireTable(storage: StoragePort, root: string): Promise<void> {
  if (!(await isPaimonTable(storage, root))) {
    throw new TidemarkError('NotFound', `not a Paimon table: no schema/schema-<id> files under ${root}`, { path: root });
  }
}

function toSnapshot(s: PaimonSnapshotFile, parent: bigint | null): PaimonSnapshot {
  const summary: Record<string, string> = {
    operation: s.commitKind.toLowerCase(),
    commitKind: s.commitKind,
    commitUser: s.commitUser,
    commitIdentifier: s.commitIdentifier,
  };
  if (s.totalRecordCount !== null) summary.totalRecordCount = s.totalRecordCount.toString();
  if (s.deltaRecordCount !== null) summary.deltaRecordCount = s.deltaRecordCount.toString();
  if (s.changelogRecordCount !== null) summary.changelogRecordCount = s.changelogRecordCount.toString();
  if (s.watermark !== null) summary.watermark = s.watermark;
  return {
    snapshotId: s.id,
    parentSnapshotId: parent,
    sequenceNumber: s.id,
    timestampMs: s.timeMillis,
    operation: s.commitKind.toLowerCase(),
    schemaId: s.schemaId,
    summary,
  };
}

/** Every snapshot in snapshot/, oldest first (the EARLIEST / LATEST hints are not trusted). */
export async function listPaimonSnapshots(storage: StoragePort, root: string): Promise<PaimonSnapshot[]> {
  await requireTable(storage, root);
  const snaps = await readAllPaimonSnapshots(storage, root);
  return snaps.map((s, i) => toSnapshot(s, i > 0 && snaps[i - 1]!.id === s.id - 1n ? s.id - 1n : null));
}

/** Tag names (tag/tag-<name>) for time travel by tag. */
export async function listPaimonTagNames(storage: StoragePort, root: string): Promise<string[]> {
  await requireTable(storage, root);
  return listPaimonTags(storage, root);
}

function checkSelector(sel: SnapshotSelector): void {
  if (sel.asOfTimestampMs !== undefined && !Number.isFinite(sel.asOfTimestampMs)) {
    throw new TidemarkError('InvalidInput', `asOfTimestampMs must be a number of ms since the epoch, found ${sel.asOfTimestampMs}`);
  }
}

/**
 * The schema of a snapshot (by id / timestamp / tag), or with no selector the table's current
 * schema (the highest schema id, which an ALTER without a commit may have made newer than the
 * latest snapshot's).
 */
export async function readPaimonSchema(storage: StoragePort, root: string, sel: SnapshotSelector = {}): Promise<PaimonSchema> {
  await requireTable(storage, root);
  checkSelector(sel);
  if (sel.snapshotId === undefined && sel.asOfTimestampMs === undefined && sel.tag === undefined && sel.ref === undefined) return readLatestSchema(storage, root);
  const snap = await resolvePaimonSnapshot(storage, root, sel);
  return snap ? readPaimonSchemaFile(storage, paimonMetaRootOf(snap), snap.schemaId) : readLatestSchema(storage, emptyRoot(root, sel));
}

async function readLatestSchema(storage: StoragePort, metaRoot: string): Promise<PaimonSchema> {
  const ids = await listPaimonSchemaIds(storage, metaRoot);
  return readPaimonSchemaFile(storage, metaRoot, ids[ids.length - 1]!);
}

/** Where the schema of a selector that found no snapshot lives: an empty branch's folder, else the table's. */
function emptyRoot(root: string, sel: SnapshotSelector): string {
  return sel.ref !== undefined ? paimonBranchRoot(root, sel.ref) : root;
}

interface Resolved {
  snapshot: PaimonSnapshotFile | null;
  /** The folder of the snapshot's schema files: the table root, or a branch's folder. */
  metaRoot: string;
  schema: PaimonSchema;
  files: PaimonDataFileEntry[];
}

/** The schemas the data files were written with (read only for files matched by column name). */
async function readFileSchemas(storage: StoragePort, root: string, schema: PaimonSchema, files: PaimonDataFileEntry[]): Promise<Map<number, PaimonSchema>> {
  const out = new Map<number, PaimonSchema>([[schema.schemaId, schema]]);
  for (const id of new Set(files.map((f) => f.schemaId))) {
    if (!out.has(id)) out.set(id, await readPaimonSchemaFile(storage, root, id));
  }
  return out;
}

async function resolve(storage: StoragePort, root: string, sel: SnapshotSelector): Promise<Resolved> {
  await requireTable(storage, root);
  checkSelector(sel);
  const snapshot = await resolvePaimonSnapshot(storage, root, sel);
  if (!snapshot) return { snapshot: null, metaRoot: emptyRoot(root, sel), schema: await readLatestSchema(storage, emptyRoot(root, sel)), files: [] };
  // A branch's snapshot names the branch's schema files; its manifests and data files are the table's.
  const schema = await readPaimonSchemaFile(storage, paimonMetaRootOf(snapshot), snapshot.schemaId);
  const files = await readSnapshotDataFiles(storage, root, snapshot, schema);
  return { snapshot, metaRoot: paimonMetaRootOf(snapshot), schema, files };
}

export interface PaimonScanOptions extends SnapshotSelector {
  /** Top-level column names (default: all, in schema order). Unknown names are InvalidInput. */
  columns?: string[];
  /** Stop after this many rows. */
  limit?: number;
  /** Row predicates as in core/lake's scan (applied after the merge). */
  filter?: ScanFilter;
  /**
   * Told the data files the scan will read (from the manifests) before any is read: a caller with
   * a memory bound throws here to stop a scan that would not fit.
   */
  beforeRead?(files: { recordCount: number; fileSizeBytes: number }[], fields: NestedField[]): void;
}

export interface PaimonScanResult {
  snapshotId: bigint | null;
  schema: PaimonSchema;
  columns: NestedField[];
  rows: Row[];
}

function selectColumns(schema: PaimonSchema, names?: string[]): NestedField[] {
  if (!names) return schema.fields;
  return names.map((n) => {
    const f = schema.fields.find((x) => x.name === n);
    if (!f) throw new TidemarkError('InvalidInput', `no column ${JSON.stringify(n)} in schema ${schema.schemaId} (columns: ${schema.fields.map((x) => x.name).join(', ')})`);
    return f;
  });
}

/** A snapshot's schema, data files and the schemas its files were written with: what a read needs. */
export interface PaimonVersion {
  snapshotId: bigint | null;
  schema: PaimonSchema;
  files: PaimonDataFileEntry[];
  fileSchemas: Map<number, PaimonSchema>;
}

/** Resolves a selector (default latest) to the version's schema and data files, reading no data. */
export async function openPaimonVersion(storage: StoragePort, root: string, sel: SnapshotSelector = {}): Promise<PaimonVersion> {
  const { snapshot, metaRoot, schema, files } = await resolve(storage, root, sel);
  assertReadable(schema);
  return { snapshotId: snapshot?.id ?? null, schema, files, fileSchemas: await readFileSchemas(storage, metaRoot, schema, files) };
}

/** Reads the live rows of a snapshot (default latest) in that snapshot's schema. */
export async function scanPaimonRows(storage: StoragePort, root: string, options: PaimonScanOptions = {}): Promise<PaimonScanResult> {
  const { snapshot, metaRoot, schema, files } = await resolve(storage, root, options);
  const columns = selectColumns(schema, options.columns);
  const filter = options.filter;
  // A filter may name columns that are not returned: read them, then project.
  const readFields = filter ? schema.fields : columns;
  options.beforeRead?.(filesToRead(schema, files), readFields);
  let rows = await readPaimonRows(storage, schema, files, {
    fields: readFields,
    fileSchemas: await readFileSchemas(storage, metaRoot, schema, files),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(filter ? { accept: (r: Row) => rowMatches(r, filter) } : {}),
  });
  if (filter) rows = rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, r[c.name]])));
  return { snapshotId: snapshot?.id ?? null, schema, columns, rows };
}

export interface PaimonChangelogResult extends PaimonScanResult {
  /** Each row's kind (+I, -U, +U, -D), in row order. */
  rowKinds: string[];
}

const KIND_NAMES = ['+I', '-U', '+U', '-D'];

/**
 * The changelog one snapshot (default latest) committed: the rows of the changelog files its
 * changelog manifest list names (`changelog-producer` input: the APPEND snapshot's, every change as
 * written; lookup: the COMPACT snapshot's, -U / +U pairs and -D with the old row, +I), what Java
 * Paimon's streaming read of the table (and of `$audit_log`) returns for that snapshot. Per
 * (partition, bucket), by key, the records of a key in sequence order. Empty for a snapshot with
 * no changelog.
 */
export async function readPaimonChangelog(storage: StoragePort, root: string, options: SnapshotSelector & { columns?: string[] } = {}): Promise<PaimonChangelogResult> {
  await requireTable(storage, root);
  checkSelector(options);
  const snapshot = await resolvePaimonSnapshot(storage, root, options);
  const metaRoot = snapshot ? paimonMetaRootOf(snapshot) : emptyRoot(root, options);
  const schema = snapshot ? await readPaimonSchemaFile(storage, metaRoot, snapshot.schemaId) : await readLatestSchema(storage, metaRoot);
  const columns = selectColumns(schema, options.columns);
  const files = snapshot ? await readSnapshotChangelogFiles(storage, root, snapshot, schema) : [];
  const keep = { kinds: [] as number[], sequenceNumbers: [] as (bigint | null)[] };
  const rows = await readPaimonRows(storage, schema, files, { fields: columns, fileSchemas: await readFileSchemas(storage, metaRoot, schema, files), keepRetracts: keep, unmerged: true });
  return { snapshotId: snapshot?.id ?? null, schema, columns, rows, rowKinds: keep.kinds.map((k) => KIND_NAMES[k] ?? String(k)) };
}

/**
 * Counts live rows. Without a filter, each (partition, bucket) group whose manifest entries say how
 * many rows it has is counted from them (knownGroupRows: append files, one sorted run without
 * retractions, deletion-vector files); only the other groups are read and merged.
 */
export async function countPaimonRows(storage: StoragePort, root: string, options: SnapshotSelector & { filter?: ScanFilter } = {}): Promise<number> {
  const { metaRoot, schema, files } = await resolve(storage, root, options);
  assertReadable(schema);
  if (!options.filter) {
    let total = 0;
    const unknown: PaimonDataFileEntry[] = [];
    for (const group of paimonReadGroups(schema, files)) {
      const known = knownGroupRows(schema, group);
      if (known === null) unknown.push(...group);
      else total += known;
    }
    if (unknown.length === 0) return total;
    const rows = await readPaimonRows(storage, schema, unknown, { fields: [], fileSchemas: await readFileSchemas(storage, metaRoot, schema, unknown) });
    return total + rows.length;
  }
  const filter = options.filter;
  const rows = await readPaimonRows(storage, schema, files, {
    fields: filter ? schema.fields : [],
    fileSchemas: await readFileSchemas(storage, metaRoot, schema, files),
    ...(filter ? { accept: (r: Row) => rowMatches(r, filter) } : {}),
  });
  return rows.length;
}

export interface PaimonStats {
  /** By column name; null for columns without stats (nested types). */
  min: Record<string, unknown>;
  max: Record<string, unknown>;
  nullCounts: Record<string, number | null>;
}

export interface PaimonDataFile {
  path: string;
  fileName: string;
  partition: Record<string, unknown>;
  bucket: number;
  /** LSM level: 0 = not yet compacted. */
  level: number;
  recordCount: number;
  fileSizeBytes: number;
  minSequenceNumber: bigint;
  maxSequenceNumber: bigint;
  schemaId: number;
  /** Rows with a retract value kind (-U / -D) in the file, when recorded. */
  deleteRowCount: number | null;
  creationTimeMs: number | null;
  fileSource: 'append' | 'compact' | null;
  /** Whether a batch read of this snapshot reads the file (level-0 files of DV tables are skipped). */
  readByScan: boolean;
  /** Decoded min / max primary key (trimmed key columns), null for append tables. */
  minKey: Record<string, unknown> | null;
  maxKey: Record<string, unknown> | null;
  valueStats: PaimonStats;
  deletionVector: (PaimonDeletionVectorRef & { deletedRows: number | null }) | null;
}

function decodeStats(
  raw: PaimonDataFileEntry['valueStats'],
  fields: { name: string; type: PaimonSchema['paimonFields'][number]['type'] }[],
  where: string,
): PaimonStats {
  const min = decodeBinaryRow(raw.minValues, fields.map((f) => f.type), `${where} min`);
  const max = decodeBinaryRow(raw.maxValues, fields.map((f) => f.type), `${where} max`);
  const stats: PaimonStats = { min: {}, max: {}, nullCounts: {} };
  fields.forEach((f, i) => {
    stats.min[f.name] = min[i];
    stats.max[f.name] = max[i];
    const nc = raw.nullCounts?.[i];
    stats.nullCounts[f.name] = nc === undefined || nc === null ? null : Number(nc);
  });
  return stats;
}

/** The live data files of a snapshot (default latest) with their LSM and deletion-vector details. */
export async function listPaimonFiles(storage: StoragePort, root: string, sel: SnapshotSelector = {}): Promise<PaimonDataFile[]> {
  const { metaRoot, schema, files } = await resolve(storage, root, sel);
  const read = new Set(filesToRead(schema, files));
  const schemas = new Map<number, PaimonSchema>([[schema.schemaId, schema]]);
  const keys = schema.primaryKeys.length > 0 ? keyFields(schema) : [];
  const keyTypes = keys.map((k) => ({ name: k.name, type: schema.paimonFields.find((f) => f.id === k.id)!.type }));
  const out: PaimonDataFile[] = [];
  for (const f of files) {
    let fileSchema = schemas.get(f.schemaId);
    if (!fileSchema) {
      fileSchema = await readPaimonSchemaFile(storage, metaRoot, f.schemaId);
      schemas.set(f.schemaId, fileSchema);
    }
    const statFields = (f.valueStatsCols ?? fileSchema.paimonFields.map((x) => x.name)).map((n) => {
      const pf = fileSchema.paimonFields.find((x) => x.name === n);
      if (!pf) throw new TidemarkError('DataInvalid', `${f.path}: value stats name column ${n}, not in schema ${fileSchema.schemaId}`, { path: f.path });
      return { name: n, type: pf.type };
    });
    const where = `${joinPath(root, 'manifest')}: stats of ${f.fileName}`;
    const decodeKey = (bytes: Uint8Array, which: string) => {
      if (keys.length === 0) return null;
      const values = decodeBinaryRow(bytes, keyTypes.map((k) => k.type), `${where} ${which} key`);
      return Object.fromEntries(keyTypes.map((k, i) => [k.name, values[i]]));
    };
    out.push({
      path: f.path,
      fileName: f.fileName,
      partition: f.partition,
      bucket: f.bucket,
      level: f.level,
      recordCount: f.recordCount,
      fileSizeBytes: f.fileSizeBytes,
      minSequenceNumber: f.minSequenceNumber,
      maxSequenceNumber: f.maxSequenceNumber,
      schemaId: f.schemaId,
      deleteRowCount: f.deleteRowCount,
      creationTimeMs: f.creationTimeMs,
      fileSource: f.fileSource,
      readByScan: read.has(f),
      minKey: decodeKey(f.minKey, 'min'),
      maxKey: decodeKey(f.maxKey, 'max'),
      valueStats: decodeStats(f.valueStats, statFields, where),
      deletionVector: f.deletionVector ? { ...f.deletionVector, deletedRows: f.deletionVector.cardinality } : null,
    });
  }
  return out;
}

/** Table facts for the explorer header: keys, buckets, merge engine, deletion vectors. */
export async function describePaimonTable(storage: StoragePort, root: string): Promise<{
  schema: PaimonSchema;
  kind: 'append' | 'primary-key';
  mergeEngine: string | null;
  deletionVectors: boolean;
  snapshotCount: number;
}> {
  const schema = await readPaimonSchema(storage, root);
  const snaps = await listPaimonSnapshots(storage, root);
  const pk = schema.primaryKeys.length > 0;
  return {
    schema,
    kind: pk ? 'primary-key' : 'append',
    mergeEngine: pk ? (schema.options['merge-engine'] ?? 'deduplicate') : null,
    deletionVectors: deletionVectorsEnabled(schema),
    snapshotCount: snaps.length,
  };
}
export { resolvePaimonSnapshot } from './snapshot';
