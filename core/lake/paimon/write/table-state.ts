import { TidemarkError } from '../../../errors';
import type { StoragePort } from '../../../storage';
import { hexToBytes } from '../../values';
import { readSnapshotDataFiles, type PaimonDataFileEntry, type RawStats } from '../manifest';
import { readManifestRecords } from '../manifest-file';
import { joinPath } from '../paths';
import { listPaimonSchemaIds, readPaimonSchemaFile, type PaimonSchema } from '../schema';
import { listPaimonSnapshotIds, readPaimonSnapshot, type PaimonSnapshotFile } from '../snapshot';
import { KIND_DELETE, type DataFileRecord, type IndexEntryRecord, type ManifestEntryRecord, type ManifestFileMetaRecord, type SimpleStats } from './manifest-write';

/** What a commit builds on: the current schema, the latest snapshot and its live files. */
export interface PaimonTableState {
  /** The table's current schema (highest schema id). */
  schema: PaimonSchema;
  /** The latest snapshot, null for a table without one. */
  snapshot: PaimonSnapshotFile | null;
  /** Live data files of the latest snapshot. */
  files: PaimonDataFileEntry[];
  /** The manifests of the latest snapshot (its base list, then its delta list): the next base list. */
  manifests: ManifestFileMetaRecord[];
  /** Highest sequence number of any live file, -1 when there is none. */
  maxSequenceNumber: bigint;
  totalRecordCount: bigint;
  /** Live index files (deletion vectors, HASH indexes) of the latest snapshot's index manifest. */
  indexEntries: IndexEntryRecord[];
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;

function rawStats(v: unknown, path: string): SimpleStats {
  const r = (v ?? {}) as Record<string, unknown>;
  if (!isBytes(r._MIN_VALUES) || !isBytes(r._MAX_VALUES)) {
    throw new TidemarkError('DataInvalid', `${path}: expected _PARTITION_STATS with _MIN_VALUES / _MAX_VALUES bytes`, { path });
  }
  return { _MIN_VALUES: r._MIN_VALUES.slice(), _MAX_VALUES: r._MAX_VALUES.slice(), _NULL_COUNTS: Array.isArray(r._NULL_COUNTS) ? (r._NULL_COUNTS as (bigint | null)[]) : null };
}

const optInt = (v: unknown) => (typeof v === 'number' ? v : null);
const long = (v: unknown, name: string, path: string): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new TidemarkError('DataInvalid', `${path}: expected a long ${name}, found ${JSON.stringify(v)}`, { path });
};

/** The rows of a manifest list as ManifestFileMeta records (written back unchanged into the next base list). */
export async function readManifestFileMetas(storage: StoragePort, root: string, name: string): Promise<ManifestFileMetaRecord[]> {
  const path = joinPath(root, 'manifest', name);
  const records = await readManifestRecords(storage, path, 'manifest list');
  return records.map((r) => {
    if (typeof r._FILE_NAME !== 'string') throw new TidemarkError('DataInvalid', `${path}: a manifest list row has no _FILE_NAME`, { path });
    return {
      _VERSION: 2,
      _FILE_NAME: r._FILE_NAME,
      _FILE_SIZE: long(r._FILE_SIZE, '_FILE_SIZE', path),
      _NUM_ADDED_FILES: long(r._NUM_ADDED_FILES, '_NUM_ADDED_FILES', path),
      _NUM_DELETED_FILES: long(r._NUM_DELETED_FILES, '_NUM_DELETED_FILES', path),
      _PARTITION_STATS: rawStats(r._PARTITION_STATS, path),
      _SCHEMA_ID: long(r._SCHEMA_ID, '_SCHEMA_ID', path),
      _MIN_BUCKET: optInt(r._MIN_BUCKET),
      _MAX_BUCKET: optInt(r._MAX_BUCKET),
      _MIN_LEVEL: optInt(r._MIN_LEVEL),
      _MAX_LEVEL: optInt(r._MAX_LEVEL),
    };
  });
}

/** Reads the state a commit starts from (Node or browser storage alike). */
export async function readPaimonTableState(storage: StoragePort, root: string): Promise<PaimonTableState> {
  const schemaIds = await listPaimonSchemaIds(storage, root);
  if (schemaIds.length === 0) throw new TidemarkError('NotFound', `not a Paimon table: no schema/schema-<id> files under ${root}`, { path: root });
  const schema = await readPaimonSchemaFile(storage, root, schemaIds[schemaIds.length - 1]!);
  const ids = await listPaimonSnapshotIds(storage, root);
  if (ids.length === 0) return { schema, snapshot: null, files: [], manifests: [], maxSequenceNumber: -1n, totalRecordCount: 0n, indexEntries: [] };
  const snapshot = await readPaimonSnapshot(storage, root, ids[ids.length - 1]!);
  // Partition keys never change in Paimon, so the current schema decodes every manifest's partitions.
  const files = await readSnapshotDataFiles(storage, root, snapshot, schema);
  const manifests = [
    ...(await readManifestFileMetas(storage, root, snapshot.baseManifestList)),
    ...(await readManifestFileMetas(storage, root, snapshot.deltaManifestList)),
  ];
  let maxSeq = -1n;
  let total = 0n;
  for (const f of files) {
    if (f.maxSequenceNumber > maxSeq) maxSeq = f.maxSequenceNumber;
    total += BigInt(f.recordCount);
  }
  const indexEntries = snapshot.indexManifest ? await readIndexEntries(storage, root, snapshot.indexManifest) : [];
  return { schema, snapshot, files, manifests, maxSequenceNumber: maxSeq, totalRecordCount: total, indexEntries };
}

function toStats(s: RawStats): SimpleStats {
  return { _MIN_VALUES: s.minValues, _MAX_VALUES: s.maxValues, _NULL_COUNTS: s.nullCounts };
}

/** A live file as a manifest entry of `kind` (DELETE entries of compaction name the file they drop). */
export function entryOfLiveFile(f: PaimonDataFileEntry, kind: number): ManifestEntryRecord {
  const file: DataFileRecord = {
    _FILE_NAME: f.fileName,
    _FILE_SIZE: BigInt(f.fileSizeBytes),
    _ROW_COUNT: BigInt(f.recordCount),
    _MIN_KEY: f.minKey,
    _MAX_KEY: f.maxKey,
    _KEY_STATS: toStats(f.keyStats),
    _VALUE_STATS: toStats(f.valueStats),
    _MIN_SEQUENCE_NUMBER: f.minSequenceNumber,
    _MAX_SEQUENCE_NUMBER: f.maxSequenceNumber,
    _SCHEMA_ID: BigInt(f.schemaId),
    _LEVEL: f.level,
    _EXTRA_FILES: [],
    _CREATION_TIME: f.creationTimeMs === null ? null : BigInt(f.creationTimeMs),
    _DELETE_ROW_COUNT: f.deleteRowCount === null ? null : BigInt(f.deleteRowCount),
    _EMBEDDED_FILE_INDEX: null,
    _FILE_SOURCE: f.fileSource === 'append' ? 0 : f.fileSource === 'compact' ? 1 : null,
    _VALUE_STATS_COLS: f.valueStatsCols,
    _EXTERNAL_PATH: null,
    _FIRST_ROW_ID: null,
  };
  return { _VERSION: 2, _KIND: kind, _PARTITION: hexToBytes(f.partitionKey), _BUCKET: f.bucket, _TOTAL_BUCKETS: f.totalBuckets, _FILE: file };
}

/** The live entries of an index manifest (ADD minus DELETE), written back unchanged when untouched. */
export async function readIndexEntries(storage: StoragePort, root: string, name: string): Promise<IndexEntryRecord[]> {
  const path = joinPath(root, 'manifest', name);
  const live = new Map<string, IndexEntryRecord>();
  for (const r of await readManifestRecords(storage, path, 'index manifest')) {
    if (typeof r._FILE_NAME !== 'string' || typeof r._INDEX_TYPE !== 'string' || !isBytes(r._PARTITION) || typeof r._BUCKET !== 'number') {
      throw new TidemarkError('DataInvalid', `${path}: expected index manifest entries with _FILE_NAME, _INDEX_TYPE, _PARTITION, _BUCKET`, { path });
    }
    const entry: IndexEntryRecord = {
      _VERSION: 1,
      _KIND: 0,
      _PARTITION: r._PARTITION.slice(),
      _BUCKET: r._BUCKET,
      _INDEX_TYPE: r._INDEX_TYPE,
      _FILE_NAME: r._FILE_NAME,
      _FILE_SIZE: long(r._FILE_SIZE, '_FILE_SIZE', path),
      _ROW_COUNT: long(r._ROW_COUNT, '_ROW_COUNT', path),
      _DELETIONS_VECTORS_RANGES: Array.isArray(r._DELETIONS_VECTORS_RANGES)
        ? (r._DELETIONS_VECTORS_RANGES as Record<string, unknown>[]).map((x) => ({
            f0: String(x.f0),
            f1: Number(x.f1),
            f2: Number(x.f2),
            _CARDINALITY: typeof x._CARDINALITY === 'bigint' ? x._CARDINALITY : null,
          }))
        : null,
    };
    const id = `${hexOf(entry._PARTITION)}|${entry._BUCKET}|${entry._FILE_NAME}`;
    if (r._KIND === KIND_DELETE) live.delete(id);
    else live.set(id, entry);
  }
  return [...live.values()];
}

const hexOf = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
