import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { bytesToHex } from '../values';
import { decodeBinaryRow } from './binary-row';
import { readManifestRecords } from './manifest-file';
import { escapePartitionValue, joinPath } from './paths';
import type { PaimonSchema } from './schema';
import type { PaimonSnapshotFile } from './snapshot';

/**
 * Paimon manifests (Avro or ORC, see manifest-file.ts; field names as Paimon writes them: `_FILE_NAME`, `_PARTITION`, …).
 * A snapshot's data files are the entries of every manifest named by its base and delta manifest
 * lists, ADD (kind 0) minus DELETE (kind 1), matched by partition, bucket, level and file name.
 * The index manifest names the deletion-vector index files and, per data file, the byte range of
 * its deletion vector.
 */

/** Manifest entry kinds (FileKind). */
const KIND_ADD = 0;
const KIND_DELETE = 1;

export interface PaimonDeletionVectorRef {
  /** Index file path. */
  indexFile: string;
  /** Byte offset of the vector's length prefix in the index file. */
  offset: number;
  /** Serialized length (magic number + bitmap). */
  length: number;
  /** Number of deleted rows, when the writer recorded it. */
  cardinality: number | null;
}

export interface PaimonDataFileEntry {
  /** Full path through the storage port. */
  path: string;
  fileName: string;
  /** Partition values by partition key, canonical values. */
  partition: Record<string, unknown>;
  /** Hex of the serialized partition BinaryRow: the grouping key. */
  partitionKey: string;
  bucket: number;
  totalBuckets: number;
  level: number;
  recordCount: number;
  fileSizeBytes: number;
  minSequenceNumber: bigint;
  maxSequenceNumber: bigint;
  schemaId: number;
  deleteRowCount: number | null;
  creationTimeMs: number | null;
  /** 'append' or 'compact' (FileSource), null when not recorded. */
  fileSource: 'append' | 'compact' | null;
  minKey: Uint8Array;
  maxKey: Uint8Array;
  keyStats: RawStats;
  valueStats: RawStats;
  /** Column names the value stats cover; null = every column of the file's schema. */
  valueStatsCols: string[] | null;
  deletionVector: PaimonDeletionVectorRef | null;
}

export interface RawStats {
  minValues: Uint8Array;
  maxValues: Uint8Array;
  nullCounts: (bigint | null)[] | null;
}

type Rec = Record<string, unknown>;

function field<T>(rec: Rec, name: string, check: (v: unknown) => boolean, file: string): T {
  const v = rec[name];
  if (!check(v)) {
    throw new TidemarkError('DataInvalid', `${file}: expected a Paimon manifest record with ${name}, found ${describe(v)}`, { path: file });
  }
  return v as T;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'bigint') return `${v}`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return JSON.stringify(v) ?? String(v);
}

const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v);
const isLong = (v: unknown) => typeof v === 'bigint';
const isStr = (v: unknown) => typeof v === 'string';
const isBytes = (v: unknown) => v instanceof Uint8Array;
const isRec = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

function toBytes(v: Uint8Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
}

function readStats(v: unknown, file: string): RawStats {
  const rec = v as Rec;
  return {
    minValues: toBytes(field<Uint8Array>(rec, '_MIN_VALUES', isBytes, file)),
    maxValues: toBytes(field<Uint8Array>(rec, '_MAX_VALUES', isBytes, file)),
    nullCounts: Array.isArray(rec._NULL_COUNTS) ? (rec._NULL_COUNTS as (bigint | null)[]) : null,
  };
}

/** The manifest file names listed by a manifest list. */
export async function readManifestList(storage: StoragePort, root: string, name: string): Promise<string[]> {
  const path = joinPath(root, 'manifest', name);
  const records = await readManifestRecords(storage, path, 'manifest list');
  return records.map((r) => field<string>(r, '_FILE_NAME', isStr, path));
}

/** Directory of a partition: `k1=v1/k2=v2` (legacy names: values' toString; null → default name). */
export function partitionPath(schema: PaimonSchema, values: unknown[]): string {
  const defaultName = schema.options['partition.default-name'] ?? '__DEFAULT_PARTITION__';
  const types = new Map(schema.paimonFields.map((f) => [f.name, f.type]));
  return schema.partitionKeys
    .map((k, i) => {
      const v = values[i];
      let text: string;
      if (v === null || v === undefined || v === '') text = defaultName;
      else if (types.get(k)?.root === 'DATE' && schema.options['partition.legacy-name'] !== 'false') {
        // Legacy partition names (the default) print a DATE as its day number.
        text = String(Math.round(Date.parse(`${String(v)}T00:00:00Z`) / 86_400_000));
      } else text = String(v);
      return `${escapePartitionValue(k)}=${escapePartitionValue(text)}`;
    })
    .join('/');
}

function partitionTypes(schema: PaimonSchema) {
  return schema.partitionKeys.map((k) => schema.paimonFields.find((f) => f.name === k)!.type);
}

/** One manifest entry (as decoded from Avro or ORC, or as the writer builds it) as a data file entry of `kind`. */
export function decodeEntry(rec: Rec, root: string, schema: PaimonSchema, file: string): { kind: number; entry: PaimonDataFileEntry } {
  const kind = field<number>(rec, '_KIND', isInt, file);
  const partBytes = toBytes(field<Uint8Array>(rec, '_PARTITION', isBytes, file));
  const bucket = field<number>(rec, '_BUCKET', isInt, file);
  const f = field<Rec>(rec, '_FILE', isRec, file);
  const fileName = field<string>(f, '_FILE_NAME', isStr, file);
  const values = decodeBinaryRow(partBytes, partitionTypes(schema), `${file}: _PARTITION of ${fileName}`);
  const partition: Record<string, unknown> = {};
  schema.partitionKeys.forEach((k, i) => (partition[k] = values[i]));
  const external = f._EXTERNAL_PATH;
  let path: string;
  if (typeof external === 'string') {
    if (!external.startsWith('file:') && !external.startsWith('/')) {
      throw new TidemarkError('Unsupported', `${file}: data file ${fileName} lives at external path ${external}: only local paths are supported`, {
        path: file,
        feature: 'external data paths',
      });
    }
    path = external.replace(/^file:(\/\/)?/, '/').replace(/^\/+/, '/');
  } else {
    const dir = schema.partitionKeys.length > 0 ? joinPath(root, partitionPath(schema, values)) : root;
    path = joinPath(dir, bucket === -2 ? 'bucket-postpone' : `bucket-${bucket}`, fileName);
  }
  const source = f._FILE_SOURCE;
  const creation = f._CREATION_TIME;
  const statsCols = f._VALUE_STATS_COLS;
  return {
    kind,
    entry: {
      path,
      fileName,
      partition,
      partitionKey: bytesToHex(partBytes),
      bucket,
      totalBuckets: typeof rec._TOTAL_BUCKETS === 'number' ? rec._TOTAL_BUCKETS : schema.bucketCount,
      level: field<number>(f, '_LEVEL', isInt, file),
      recordCount: Number(field<bigint>(f, '_ROW_COUNT', isLong, file)),
      fileSizeBytes: Number(field<bigint>(f, '_FILE_SIZE', isLong, file)),
      minSequenceNumber: field<bigint>(f, '_MIN_SEQUENCE_NUMBER', isLong, file),
      maxSequenceNumber: field<bigint>(f, '_MAX_SEQUENCE_NUMBER', isLong, file),
      schemaId: Number(field<bigint>(f, '_SCHEMA_ID', isLong, file)),
      deleteRowCount: typeof f._DELETE_ROW_COUNT === 'bigint' ? Number(f._DELETE_ROW_COUNT) : null,
      creationTimeMs: typeof creation === 'bigint' || typeof creation === 'number' ? Number(creation) : null,
      fileSource: source === 0 ? 'append' : source === 1 ? 'compact' : null,
      minKey: toBytes(field<Uint8Array>(f, '_MIN_KEY', isBytes, file)),
      maxKey: toBytes(field<Uint8Array>(f, '_MAX_KEY', isBytes, file)),
      keyStats: readStats(field<Rec>(f, '_KEY_STATS', isRec, file), file),
      valueStats: readStats(field<Rec>(f, '_VALUE_STATS', isRec, file), file),
      valueStatsCols: Array.isArray(statsCols) ? (statsCols as string[]) : null,
      deletionVector: null,
    },
  };
}

/** What ADD and DELETE entries of one file have in common: partition, bucket, level, file name. */
export function entryIdentity(e: PaimonDataFileEntry): string {
  return `${e.partitionKey}|${e.bucket}|${e.level}|${e.fileName}`;
}

/**
 * The live data files of a snapshot, in manifest order. `schema` is the snapshot's schema (partition
 * keys and their types never change in Paimon). Deletion vectors are attached from the index manifest.
 */
export async function readSnapshotDataFiles(
  storage: StoragePort,
  root: string,
  snapshot: PaimonSnapshotFile,
  schema: PaimonSchema,
): Promise<PaimonDataFileEntry[]> {
  const manifests = [
    ...(await readManifestList(storage, root, snapshot.baseManifestList)),
    ...(await readManifestList(storage, root, snapshot.deltaManifestList)),
  ];
  const live = new Map<string, PaimonDataFileEntry>();
  for (const name of manifests) {
    const path = joinPath(root, 'manifest', name);
    const records = await readManifestRecords(storage, path, 'manifest');
    for (const rec of records) {
      const { kind, entry } = decodeEntry(rec, root, schema, path);
      const id = entryIdentity(entry);
      if (kind === KIND_ADD) live.set(id, entry);
      else if (kind === KIND_DELETE) live.delete(id);
      else throw new TidemarkError('DataInvalid', `${path}: unknown manifest entry kind ${kind} for ${entry.fileName}`, { path });
    }
  }
  const files = [...live.values()];
  if (snapshot.indexManifest) {
    const vectors = await readDeletionVectorIndex(storage, root, snapshot.indexManifest);
    for (const f of files) f.deletionVector = vectors.get(`${f.partitionKey}|${f.bucket}|${f.fileName}`) ?? null;
  }
  return files;
}

/**
 * The changelog files a snapshot names through its changelog manifest list (`changelog-producer`
 * input: written with the APPEND snapshot; lookup: with the COMPACT one), in manifest order; none
 * when it has no list.
 */
export async function readSnapshotChangelogFiles(storage: StoragePort, root: string, snapshot: PaimonSnapshotFile, schema: PaimonSchema): Promise<PaimonDataFileEntry[]> {
  if (!snapshot.changelogManifestList) return [];
  const out: PaimonDataFileEntry[] = [];
  for (const name of await readManifestList(storage, root, snapshot.changelogManifestList)) {
    const path = joinPath(root, 'manifest', name);
    for (const rec of await readManifestRecords(storage, path, 'changelog manifest')) {
      const { kind, entry } = decodeEntry(rec, root, schema, path);
      if (kind !== KIND_ADD) throw new TidemarkError('DataInvalid', `${path}: a changelog manifest entry of kind ${kind} for ${entry.fileName} (only ADD is expected)`, { path });
      out.push(entry);
    }
  }
  return out;
}

/** Deletion-vector ranges by `partitionHex|bucket|dataFileName`, from the index manifest. */
export async function readDeletionVectorIndex(storage: StoragePort, root: string, name: string): Promise<Map<string, PaimonDeletionVectorRef>> {
  const path = joinPath(root, 'manifest', name);
  const records = await readManifestRecords(storage, path, 'index manifest');
  const indexFiles = new Map<string, { partitionKey: string; bucket: number; fileName: string; ranges: unknown[] }>();
  for (const rec of records) {
    const type = field<string>(rec, '_INDEX_TYPE', isStr, path);
    if (type !== 'DELETION_VECTORS') continue; // HASH indexes (dynamic buckets) do not affect reads.
    const kind = field<number>(rec, '_KIND', isInt, path);
    const fileName = field<string>(rec, '_FILE_NAME', isStr, path);
    const partitionKey = bytesToHex(field<Uint8Array>(rec, '_PARTITION', isBytes, path));
    const bucket = field<number>(rec, '_BUCKET', isInt, path);
    const id = `${partitionKey}|${bucket}|${fileName}`;
    if (kind === KIND_DELETE) indexFiles.delete(id);
    else indexFiles.set(id, { partitionKey, bucket, fileName, ranges: Array.isArray(rec._DELETIONS_VECTORS_RANGES) ? rec._DELETIONS_VECTORS_RANGES : [] });
  }
  const out = new Map<string, PaimonDeletionVectorRef>();
  for (const idx of indexFiles.values()) {
    for (const r of idx.ranges) {
      if (!isRec(r)) continue;
      const range = r as Rec;
      const dataFile = field<string>(range, 'f0', isStr, path);
      out.set(`${idx.partitionKey}|${idx.bucket}|${dataFile}`, {
        indexFile: joinPath(root, 'index', idx.fileName),
        offset: field<number>(range, 'f1', isInt, path),
        length: field<number>(range, 'f2', isInt, path),
        cardinality: typeof range._CARDINALITY === 'bigint' ? Number(range._CARDINALITY) : null,
      });
    }
  }
  return out;
}
