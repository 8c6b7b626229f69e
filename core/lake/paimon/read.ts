import { Type, type Data, type Table } from 'apache-arrow';
import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import { arrowFieldId, convertArrowData } from '../arrow-values';
import type { IcebergType, NestedField } from '../model';
import { readParquetFile } from '../parquet-read';
import { formatTimestamp, valueKey } from '../values';
import { readDeletionVector } from './deletion-vector';
import type { PaimonDataFileEntry } from './manifest';
import { deletionVectorsEnabled, mergeEngineOf, type PaimonSchema } from './schema';

/**
 * Reading a Paimon snapshot's data files into rows.
 *  - Columns are matched by field id (`PARQUET:field_id`), so files written before an ALTER read in
 *    the snapshot's schema: renamed columns keep their values, dropped ones vanish, added ones are null.
 *    Files without field ids (Paimon 0.9) are matched by the name in the file's own schema.
 *  - Append tables: every row of every live file, minus deletion-vector positions.
 *  - Primary-key tables, deduplicate merge engine: within each (partition, bucket) the LSM levels are
 *    merged by key (the `_KEY_*` columns, field id 1073741823 + id) keeping the highest
 *    `_SEQUENCE_NUMBER`; a winner whose `_VALUE_KIND` is a retraction (-U, -D) removes the key.
 *  - Primary-key tables with deletion vectors: as Paimon's batch scan, level-0 files (not yet
 *    compacted) are not read; each other file is read minus its deletion vector, no merge needed.
 *  - partial-update, aggregation, first-row and a `sequence.field` fail as Unsupported by name.
 */

export const KEY_FIELD_ID_START = 1_073_741_823;
export const SEQUENCE_NUMBER_FIELD_ID = 2_147_483_646;
export const VALUE_KIND_FIELD_ID = 2_147_483_645;

/** RowKind bytes in `_VALUE_KIND`: +I 0, -U 1, +U 2, -D 3. */
const RETRACT_KINDS = new Set([1, 3]);

export type Row = Record<string, unknown>;

/** Fails as Unsupported for what this reader cannot merge correctly. */
export function assertReadable(schema: PaimonSchema): void {
  if (schema.primaryKeys.length === 0) return;
  const engine = mergeEngineOf(schema);
  if (engine !== 'deduplicate') {
    throw new TidemarkError('Unsupported', `Paimon merge engine ${engine} is not supported (deduplicate is): the table's rows cannot be merged`, {
      feature: `merge-engine=${engine}`,
    });
  }
  const seqField = schema.options['sequence.field'];
  if (seqField) {
    throw new TidemarkError('Unsupported', `Paimon sequence.field (${seqField}) is not supported: rows are merged by _SEQUENCE_NUMBER only`, {
      feature: 'sequence.field',
    });
  }
}

/**
 * Files a batch read sees: level-0 files are skipped for primary-key tables with deletion vectors,
 * and files of the postpone bucket (-2, not yet assigned a bucket by compaction) are never read.
 */
export function filesToRead(schema: PaimonSchema, files: PaimonDataFileEntry[]): PaimonDataFileEntry[] {
  const assigned = files.filter((f) => f.bucket !== -2);
  if (schema.primaryKeys.length > 0 && deletionVectorsEnabled(schema)) return assigned.filter((f) => f.level > 0);
  return assigned;
}

/** Trimmed primary key: the primary keys minus the partition keys (Paimon's `_KEY_*` columns). */
export function keyFields(schema: PaimonSchema): NestedField[] {
  const trimmed = schema.primaryKeys.filter((k) => !schema.partitionKeys.includes(k));
  const names = trimmed.length > 0 ? trimmed : schema.primaryKeys;
  return names.map((n) => schema.fields.find((f) => f.name === n)!);
}

function convertColumn(data: Data, type: IcebergType, where: string): unknown[] {
  // Paimon TIMESTAMP(7..9) is stored in nanoseconds; floor to microseconds (convertArrowData
  // truncates toward zero, which is off by one microsecond before 1970).
  const t = data.type as { typeId: Type; unit?: number };
  if (t.typeId === Type.Timestamp && t.unit === 3 && (type === 'timestamp' || type === 'timestamptz')) {
    const values = data.values as BigInt64Array;
    const out: unknown[] = new Array(data.length);
    for (let i = 0; i < data.length; i++) {
      if (data.nullCount > 0 && !data.getValid(i)) out[i] = null;
      else {
        const nanos = values[data.offset + i]!;
        let micros = nanos / 1000n;
        if (nanos % 1000n < 0n) micros -= 1n;
        out[i] = formatTimestamp(micros, type === 'timestamptz');
      }
    }
    return out;
  }
  return convertArrowData(data, type, where);
}

/**
 * Finds a file's column by field id (`PARQUET:field_id`). Files without any field ids (Paimon 0.9's
 * Parquet writer) are matched by `name`: the column's name in the file's own schema, so a later
 * rename still finds it.
 */
function findColumn(table: Table, id: number, name: string | null): number {
  const hasIds = table.schema.fields.some((f) => arrowFieldId(f) !== null);
  if (hasIds) return table.schema.fields.findIndex((f) => arrowFieldId(f) === id);
  return name === null ? -1 : table.schema.fields.findIndex((f) => f.name === name);
}

/** One column as canonical values, or null when the file has no such column. */
function readColumn(table: Table, id: number, name: string | null, type: IcebergType, where: string): unknown[] | null {
  const idx = findColumn(table, id, name);
  if (idx < 0) return null;
  const vector = table.getChildAt(idx)!;
  const out: unknown[] = [];
  for (const data of vector.data) for (const v of convertColumn(data, type, where)) out.push(v);
  return out;
}

interface FileColumns {
  file: PaimonDataFileEntry;
  numRows: number;
  values: (unknown[] | null)[];
  keys: unknown[][];
  seq: bigint[] | null;
  kinds: unknown[] | null;
  deleted: Set<number> | null;
}

async function readFileColumns(
  storage: StoragePort,
  schema: PaimonSchema,
  file: PaimonDataFileEntry,
  fields: NestedField[],
  isPk: boolean,
  fileSchema: PaimonSchema,
): Promise<FileColumns> {
  const ext = /\.([a-z0-9]+)$/i.exec(file.fileName)?.[1]?.toLowerCase() ?? '';
  if (ext !== 'parquet') {
    throw new TidemarkError('Unsupported', `${file.path}: Paimon data files in format ${ext || 'unknown'} are not supported (file.format = parquet is)`, {
      path: file.path,
      feature: `file.format=${ext}`,
    });
  }
  const table = await readParquetFile(storage, file.path, 'Paimon data file');
  const where = (name: string) => `${file.path}: column ${name}`;
  // Names in the schema the file was written with (used only for files without field ids).
  const nameInFile = (id: number) => fileSchema.fields.find((f) => f.id === id)?.name ?? null;
  const values = fields.map((f) => readColumn(table, f.id, nameInFile(f.id), f.type, where(f.name)));
  const keys: unknown[][] = [];
  let seq: bigint[] | null = null;
  let kinds: unknown[] | null = null;
  if (isPk) {
    for (const k of keyFields(schema)) {
      const fileName = nameInFile(k.id);
      const col =
        readColumn(table, KEY_FIELD_ID_START + k.id, fileName === null ? null : `_KEY_${fileName}`, k.type, where(`_KEY_${k.name}`)) ??
        readColumn(table, k.id, fileName, k.type, where(k.name));
      if (!col) throw new TidemarkError('DataInvalid', `${file.path}: primary-key table data file has no key column _KEY_${k.name}`, { path: file.path });
      keys.push(col);
    }
    seq = readColumn(table, SEQUENCE_NUMBER_FIELD_ID, '_SEQUENCE_NUMBER', 'long', where('_SEQUENCE_NUMBER')) as bigint[] | null;
    kinds = readColumn(table, VALUE_KIND_FIELD_ID, '_VALUE_KIND', 'int', where('_VALUE_KIND'));
    if (!seq || !kinds) {
      throw new TidemarkError('DataInvalid', `${file.path}: primary-key table data file lacks _SEQUENCE_NUMBER / _VALUE_KIND`, { path: file.path });
    }
  }
  if (table.numRows !== file.recordCount) {
    throw new TidemarkError('DataInvalid', `${file.path}: manifest says ${file.recordCount} rows, the file has ${table.numRows}`, { path: file.path });
  }
  const deleted = file.deletionVector ? await readDeletionVector(storage, file.deletionVector) : null;
  return { file, numRows: table.numRows, values, keys, seq, kinds, deleted };
}

/** Orders canonical values: null first, numbers and bigints numerically, strings by code point, bytes bytewise. */
export function compareCanonical(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  const x = valueKey(a);
  const y = valueKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function compareTuples(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareCanonical(a[i], b[i]);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

export interface ReadOptions {
  /** Output columns (already resolved against the schema). */
  fields: NestedField[];
  limit?: number;
  /** Called per row before the limit counts it; false drops the row. */
  accept?: (row: Row) => boolean;
  /**
   * The schemas data files were written with, by schema id, for files without field ids (matched by
   * name). Missing ids fall back to `schema`.
   */
  fileSchemas?: Map<number, PaimonSchema>;
  /**
   * Java's `forceKeepDelete` (what the `$audit_log` system table reads with): a merged winner, or a
   * row of a file read unmerged, whose `_VALUE_KIND` is a retraction (-U, -D) is kept, and each
   * emitted row's value kind byte (0 +I, 1 -U, 2 +U, 3 -D; append rows 0) and `_SEQUENCE_NUMBER`
   * (null for append rows) are pushed here, in row order.
   */
  keepRetracts?: { kinds: number[]; sequenceNumbers: (bigint | null)[] };
  /**
   * Every row of every file, none merged or skipped (changelog files: `files` are a snapshot's
   * changelog files, not its data files); per (partition, bucket) in key order, rows of one key in
   * file then row order. Use with `keepRetracts` for the row kinds.
   */
  unmerged?: boolean;
}

/**
 * The files a batch read sees (filesToRead) by (partition, bucket), in the order a read returns
 * them: partition values, then bucket. The groups are independent: a group's live rows are
 * readPaimonRows of its files alone, so a page can be read group by group.
 */
export function paimonReadGroups(schema: PaimonSchema, files: PaimonDataFileEntry[]): PaimonDataFileEntry[][] {
  return sortedGroups(schema, filesToRead(schema, files));
}

/** `files` by (partition, bucket), in the order each group is first met: each group is one bucket's LSM tree. */
export function filesByBucket(files: PaimonDataFileEntry[]): PaimonDataFileEntry[][] {
  const groups = new Map<string, PaimonDataFileEntry[]>();
  for (const f of files) {
    const id = `${f.partitionKey}|${f.bucket}`;
    const g = groups.get(id);
    if (g) g.push(f);
    else groups.set(id, [f]);
  }
  return [...groups.values()];
}

/** `files` by (partition, bucket), ordered by partition values, then bucket. */
function sortedGroups(schema: PaimonSchema, files: PaimonDataFileEntry[]): PaimonDataFileEntry[][] {
  return filesByBucket(files).sort((a, b) => {
    const pa = schema.partitionKeys.map((k) => a[0]!.partition[k]);
    const pb = schema.partitionKeys.map((k) => b[0]!.partition[k]);
    return compareTuples(pa, pb) || a[0]!.bucket - b[0]!.bucket;
  });
}

/**
 * The live rows of a read group (paimonReadGroups) when its manifest entries say how many without
 * reading it, else null: an append group's record counts minus its deletion vectors' cardinalities;
 * a primary-key group of one file (a sorted run: its keys are unique) with no retraction in it
 * (`deleteRowCount` 0) and no deletion vector; with deletion vectors on, files without retractions
 * (level-0 files are not read, and files above level 0 hold each key once) minus their vectors'
 * cardinalities.
 */
export function knownGroupRows(schema: PaimonSchema, group: PaimonDataFileEntry[]): number | null {
  const minusVectors = () => {
    let n = 0;
    for (const f of group) {
      if (f.deletionVector && f.deletionVector.cardinality === null) return null;
      n += f.recordCount - (f.deletionVector?.cardinality ?? 0);
    }
    return n;
  };
  if (schema.primaryKeys.length === 0) return minusVectors();
  if (group.some((f) => f.deleteRowCount !== 0)) return null;
  if (deletionVectorsEnabled(schema)) return minusVectors();
  return group.length === 1 && group[0]!.deletionVector === null ? group[0]!.recordCount : null;
}

/**
 * Reads the live rows of `files` (a snapshot's data files) in `schema`. Groups are (partition,
 * bucket), ordered by partition values then bucket; rows of a primary-key group are in key order,
 * rows of an append group in file order.
 */
export async function readPaimonRows(storage: StoragePort, schema: PaimonSchema, files: PaimonDataFileEntry[], options: ReadOptions): Promise<Row[]> {
  assertReadable(schema);
  const isPk = schema.primaryKeys.length > 0;
  const dvMode = isPk && (deletionVectorsEnabled(schema) || options.unmerged === true);
  const ordered = options.unmerged ? sortedGroups(schema, files) : paimonReadGroups(schema, files);
  const limit = options.limit ?? Infinity;
  const keep = options.keepRetracts;
  const out: Row[] = [];
  const emit = (fc: FileColumns, i: number): boolean => {
    const row: Row = {};
    options.fields.forEach((f, k) => (row[f.name] = fc.values[k] ? fc.values[k][i] : null));
    if (options.accept && !options.accept(row)) return false;
    out.push(row);
    if (keep) {
      keep.kinds.push(fc.kinds ? Number(fc.kinds[i]) : 0);
      keep.sequenceNumbers.push(fc.seq ? fc.seq[i]! : null);
    }
    return out.length >= limit;
  };
  if (limit <= 0) return out;
  for (const group of ordered) {
    // Oldest first: on equal sequence numbers the later file wins.
    group.sort((a, b) => (a.maxSequenceNumber < b.maxSequenceNumber ? -1 : a.maxSequenceNumber > b.maxSequenceNumber ? 1 : b.level - a.level));
    const read: FileColumns[] = [];
    for (const f of group) read.push(await readFileColumns(storage, schema, f, options.fields, isPk, options.fileSchemas?.get(f.schemaId) ?? schema));
    if (!isPk || dvMode) {
      const rows: { fc: FileColumns; i: number; key: unknown[] | null }[] = [];
      for (const fc of read) {
        for (let i = 0; i < fc.numRows; i++) {
          if (fc.deleted?.has(i)) continue;
          if (!keep && fc.kinds && RETRACT_KINDS.has(fc.kinds[i] as number)) continue;
          rows.push({ fc, i, key: isPk ? fc.keys.map((c) => c[i]) : null });
        }
      }
      if (isPk) rows.sort((a, b) => compareTuples(a.key!, b.key!));
      for (const r of rows) if (emit(r.fc, r.i)) return out;
      continue;
    }
    const winners = new Map<string, { fc: FileColumns; i: number; seq: bigint; key: unknown[] }>();
    for (const fc of read) {
      for (let i = 0; i < fc.numRows; i++) {
        if (fc.deleted?.has(i)) continue;
        const key = fc.keys.map((c) => c[i]);
        const id = key.map(valueKey).join('\u0000');
        const seq = fc.seq![i]!;
        const prev = winners.get(id);
        if (!prev || seq >= prev.seq) winners.set(id, { fc, i, seq, key });
      }
    }
    const live = [...winners.values()].filter((w) => keep || !RETRACT_KINDS.has(w.fc.kinds![w.i] as number));
    live.sort((a, b) => compareTuples(a.key, b.key));
    for (const w of live) if (emit(w.fc, w.i)) return out;
  }
  return out;
}
