import { Field, Int16, Int8, Schema as ArrowSchema, TimeMillisecond, TimestampMicrosecond, TimestampMillisecond, makeData, makeVector, type Vector } from 'apache-arrow';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { arrowFieldOf, buildVector, tableWithSchema } from '../../write/arrow-build';
import { makeDirectory, writeNewFile } from '../../write/file-write';
import { writeParquetBytes } from '../../write/parquet-write';
import type { NestedField } from '../../model';
import { KEY_FIELD_ID_START, SEQUENCE_NUMBER_FIELD_ID, VALUE_KIND_FIELD_ID } from '../read';
import { toNestedField, type PaimonDataType, type PaimonField, type PaimonSchema } from '../schema';
import { comparePhysical, encodeBinaryRow, type PhysicalValue } from './binary-row-write';
import type { DataFileRecord, SimpleStats } from './manifest-write';

/**
 * One key-value data file of a primary-key table (Paimon's KeyValueDataFileWriter): Parquet with
 * the system fields first — `_KEY_<pk>` per trimmed primary-key column (field id 1073741823 + id),
 * `_SEQUENCE_NUMBER` (BIGINT, 2147483646), `_VALUE_KIND` (TINYINT RowKind byte, 2147483645) — then
 * the value columns with their field ids; plus its DataFileMeta: min / max key, key stats (full),
 * value stats (Paimon's default `metadata.stats-mode` truncate(16): strings cut to 16 characters,
 * the max one bumped so it stays an upper bound), sequence range, delete row count.
 */

/** RowKind bytes (_VALUE_KIND). */
export const ROW_KINDS = { '+I': 0, '-U': 1, '+U': 2, '-D': 3 } as const;
export type RowKindName = keyof typeof ROW_KINDS;
export const isRetract = (kind: number) => kind === 1 || kind === 3;

/** One record of a sorted run: the row (canonical values by column name) and its physical form. */
export interface KeyValue {
  /** Trimmed primary key, physical values. */
  key: PhysicalValue[];
  sequenceNumber: bigint;
  /** RowKind byte. */
  kind: number;
  /** Canonical values by column name (a schema column missing here is null). */
  row: Record<string, unknown>;
  /** Physical values in schema field order. */
  values: PhysicalValue[];
}

/** The trimmed primary key (primary keys minus partition keys, or all of them if that leaves none). */
export function trimmedKeyFields(schema: PaimonSchema): PaimonField[] {
  const trimmed = schema.primaryKeys.filter((k) => !schema.partitionKeys.includes(k));
  const names = trimmed.length > 0 ? trimmed : schema.primaryKeys;
  return names.map((n) => schema.paimonFields.find((f) => f.name === n)!);
}

function specialArrowVector(t: PaimonDataType, name: string, id: number, values: unknown[], phys: PhysicalValue[]): { field: Field; vector: Vector } | null {
  const meta = new Map([['PARQUET:field_id', String(id)]]);
  const length = values.length;
  let nullCount = 0;
  const bitmap = new Uint8Array((length + 7) >> 3);
  phys.forEach((v, i) => {
    if (v === null) nullCount++;
    else bitmap[i >> 3]! |= 1 << (i & 7);
  });
  if (!t.nullable && nullCount > 0) throw new TidemarkError('InvalidInput', `column ${name} is NOT NULL but ${nullCount} row(s) are null`, { fieldId: id });
  const base = { length, nullCount, nullBitmap: bitmap };
  if (t.root === 'TINYINT' || t.root === 'SMALLINT') {
    const type = t.root === 'TINYINT' ? new Int8() : new Int16();
    const data = t.root === 'TINYINT' ? new Int8Array(length) : new Int16Array(length);
    phys.forEach((v, i) => v !== null && (data[i] = v as number));
    return { field: new Field(name, type, t.nullable, meta), vector: makeVector(makeData({ ...base, type, data } as never)) };
  }
  if (t.root === 'TIME') {
    // Paimon writes TIME as Parquet INT32 TIME(MILLIS): milliseconds of the day.
    const type = new TimeMillisecond();
    const data = new Int32Array(length);
    phys.forEach((v, i) => v !== null && (data[i] = v as number));
    return { field: new Field(name, type, t.nullable, meta), vector: makeVector(makeData({ ...base, type, data } as never)) };
  }
  if (t.root === 'TIMESTAMP' || t.root === 'TIMESTAMP_LTZ') {
    // From the physical value (cut to the column's precision). Paimon writes TIMESTAMP(0..3) as
    // Parquet INT64 TIMESTAMP(MILLIS), (4..6) as MICROS.
    const millis = (t.precision ?? 6) <= 3;
    const zone = t.root === 'TIMESTAMP_LTZ' ? 'UTC' : null;
    const type = millis ? new TimestampMillisecond(zone) : new TimestampMicrosecond(zone);
    const data = new BigInt64Array(length);
    phys.forEach((v, i) => {
      if (v === null) return;
      const micros = v as bigint;
      data[i] = millis ? micros / 1000n - (micros % 1000n < 0n ? 1n : 0n) : micros;
    });
    return { field: new Field(name, type, t.nullable, meta), vector: makeVector(makeData({ ...base, type, data } as never)) };
  }
  return null;
}

function columnVector(pf: PaimonField, name: string, id: number, values: unknown[], phys: PhysicalValue[]): { field: Field; vector: Vector } {
  const special = specialArrowVector(pf.type, name, id, values, phys);
  if (special) return special;
  const nested: NestedField = { ...toNestedField(pf), name, id };
  delete nested.doc;
  return { field: arrowFieldOf(nested), vector: buildVector(nested, values) };
}

/** String stats under truncate(16): at most 16 code points; the max bumped at its last one. */
function truncateString(bytes: Uint8Array, max: boolean): Uint8Array | null {
  const text = new TextDecoder().decode(bytes);
  const points = [...text];
  if (points.length <= 16) return bytes;
  const cut = points.slice(0, 16);
  if (!max) return new TextEncoder().encode(cut.join(''));
  for (let i = cut.length - 1; i >= 0; i--) {
    let c = cut[i]!.codePointAt(0)! + 1;
    if (c >= 0xd800 && c <= 0xdfff) c = 0xe000;
    if (c <= 0x10ffff) return new TextEncoder().encode(cut.slice(0, i).join('') + String.fromCodePoint(c));
  }
  return null;
}

function computeStats(types: PaimonDataType[], columns: PhysicalValue[][], truncate: boolean): SimpleStats {
  const mins: PhysicalValue[] = [];
  const maxs: PhysicalValue[] = [];
  const nulls: bigint[] = [];
  types.forEach((t, c) => {
    let lo: PhysicalValue = null;
    let hi: PhysicalValue = null;
    let n = 0;
    for (const v of columns[c]!) {
      if (v === null) {
        n++;
        continue;
      }
      if (typeof v === 'number' && Number.isNaN(v)) continue;
      if (lo === null || comparePhysical(v, lo) < 0) lo = v;
      if (hi === null || comparePhysical(v, hi) > 0) hi = v;
    }
    const isString = t.root === 'CHAR' || t.root === 'VARCHAR' || t.root === 'STRING';
    if (truncate && isString) {
      lo = lo === null ? null : truncateString(lo as Uint8Array, false);
      hi = hi === null ? null : truncateString(hi as Uint8Array, true);
    }
    mins.push(lo);
    maxs.push(hi);
    nulls.push(BigInt(n));
  });
  return { _MIN_VALUES: encodeBinaryRow(types, mins).serialized, _MAX_VALUES: encodeBinaryRow(types, maxs).serialized, _NULL_COUNTS: nulls };
}

export interface WriteFileOptions {
  /** Folder of the bucket (created when missing). */
  dir: string;
  fileName: string;
  level: number;
  /** 0 APPEND (a commit's level-0 file), 1 COMPACT. */
  fileSource: 0 | 1;
  creationTimeMs: number;
}

/**
 * Writes `records` (sorted by key, one record per key) as one Parquet data file and returns its
 * DataFileMeta. The caller puts it in a manifest entry.
 */
export async function writeKeyValueFile(schema: PaimonSchema, records: KeyValue[], options: WriteFileOptions): Promise<DataFileRecord> {
  if (records.length === 0) throw new TidemarkError('Internal', `no records for data file ${options.fileName}`);
  const keyFields = trimmedKeyFields(schema);
  const keyIndexes = keyFields.map((k) => schema.paimonFields.indexOf(k));
  const fields: Field[] = [];
  const vectors: Vector[] = [];
  const push = (c: { field: Field; vector: Vector }) => {
    fields.push(c.field);
    vectors.push(c.vector);
  };
  keyFields.forEach((k, i) => {
    const col = keyIndexes[i]!;
    push(columnVector(k, `_KEY_${k.name}`, KEY_FIELD_ID_START + k.id, records.map((r) => r.row[k.name] ?? null), records.map((r) => r.values[col]!)));
  });
  const seqField = { id: SEQUENCE_NUMBER_FIELD_ID, name: '_SEQUENCE_NUMBER', required: true, type: 'long' } as NestedField;
  push({ field: arrowFieldOf(seqField), vector: buildVector(seqField, records.map((r) => r.sequenceNumber)) });
  push(specialArrowVector({ root: 'TINYINT', nullable: false }, '_VALUE_KIND', VALUE_KIND_FIELD_ID, records.map((r) => r.kind), records.map((r) => r.kind))!);
  schema.paimonFields.forEach((pf, c) => {
    push(columnVector(pf, pf.name, pf.id, records.map((r) => r.row[pf.name] ?? null), records.map((r) => r.values[c]!)));
  });
  const table = tableWithSchema(new ArrowSchema(fields), vectors, records.length);
  const bytes = writeParquetBytes(table);
  await makeDirectory(options.dir);
  await writeNewFile(join(options.dir, options.fileName), bytes);

  const keyTypes = keyFields.map((k) => k.type);
  const valueTypes = schema.paimonFields.map((f) => f.type);
  let minSeq = records[0]!.sequenceNumber;
  let maxSeq = minSeq;
  let deletes = 0;
  for (const r of records) {
    if (r.sequenceNumber < minSeq) minSeq = r.sequenceNumber;
    if (r.sequenceNumber > maxSeq) maxSeq = r.sequenceNumber;
    if (isRetract(r.kind)) deletes++;
  }
  return {
    _FILE_NAME: options.fileName,
    _FILE_SIZE: BigInt(bytes.length),
    _ROW_COUNT: BigInt(records.length),
    _MIN_KEY: encodeBinaryRow(keyTypes, records[0]!.key).serialized,
    _MAX_KEY: encodeBinaryRow(keyTypes, records[records.length - 1]!.key).serialized,
    _KEY_STATS: computeStats(keyTypes, keyTypes.map((_, i) => records.map((r) => r.key[i]!)), false),
    _VALUE_STATS: computeStats(valueTypes, valueTypes.map((_, c) => records.map((r) => r.values[c]!)), true),
    _MIN_SEQUENCE_NUMBER: minSeq,
    _MAX_SEQUENCE_NUMBER: maxSeq,
    _SCHEMA_ID: BigInt(schema.schemaId),
    _LEVEL: options.level,
    _EXTRA_FILES: [],
    _CREATION_TIME: BigInt(options.creationTimeMs),
    _DELETE_ROW_COUNT: BigInt(deletes),
    _EMBEDDED_FILE_INDEX: null,
    _FILE_SOURCE: options.fileSource,
    _VALUE_STATS_COLS: null,
    _EXTERNAL_PATH: null,
    _FIRST_ROW_ID: null,
  };
}
