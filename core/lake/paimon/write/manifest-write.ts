import { LONG, writeAvroFile } from '../../write/avro-write';

/**
 * Paimon manifests and manifest lists as Avro object containers, with the record schemas Java
 * Paimon 1.x writes (namespace org.apache.paimon.avro.generated, record names `record`,
 * `record__FILE`, …, nullable fields as ["null", T] with default null). Records use Paimon's
 * column names (`_FILE_NAME`, `_KIND`, …). Longs are bigint. Java writes these with the
 * `zstandard` codec; Node 20 has no zstd encoder, so we write `deflate`, which every Avro reader
 * (Java's DataFileReader included) decodes from the header's avro.codec.
 */

const NS = 'org.apache.paimon.avro.generated';
const opt = (type: unknown) => ({ type: ['null', type], default: null });

const statsType = (name: string) => ({
  type: 'record',
  name,
  fields: [
    { name: '_MIN_VALUES', type: 'bytes' },
    { name: '_MAX_VALUES', type: 'bytes' },
    { name: '_NULL_COUNTS', ...opt({ type: 'array', items: ['null', LONG] }) },
  ],
});

/** ManifestEntry (version 2) with its DataFileMeta. */
export const MANIFEST_ENTRY_SCHEMA = {
  type: 'record',
  name: 'record',
  namespace: NS,
  fields: [
    { name: '_VERSION', type: 'int' },
    { name: '_KIND', type: 'int' },
    { name: '_PARTITION', type: 'bytes' },
    { name: '_BUCKET', type: 'int' },
    { name: '_TOTAL_BUCKETS', type: 'int' },
    {
      name: '_FILE',
      type: {
        type: 'record',
        name: 'record__FILE',
        fields: [
          { name: '_FILE_NAME', type: 'string' },
          { name: '_FILE_SIZE', type: LONG },
          { name: '_ROW_COUNT', type: LONG },
          { name: '_MIN_KEY', type: 'bytes' },
          { name: '_MAX_KEY', type: 'bytes' },
          { name: '_KEY_STATS', type: statsType('record__FILE__KEY_STATS') },
          { name: '_VALUE_STATS', type: statsType('record__FILE__VALUE_STATS') },
          { name: '_MIN_SEQUENCE_NUMBER', type: LONG },
          { name: '_MAX_SEQUENCE_NUMBER', type: LONG },
          { name: '_SCHEMA_ID', type: LONG },
          { name: '_LEVEL', type: 'int' },
          { name: '_EXTRA_FILES', type: { type: 'array', items: 'string' } },
          { name: '_CREATION_TIME', ...opt({ type: 'long', logicalType: 'timestamp-millis' }) },
          { name: '_DELETE_ROW_COUNT', ...opt(LONG) },
          { name: '_EMBEDDED_FILE_INDEX', ...opt('bytes') },
          { name: '_FILE_SOURCE', ...opt('int') },
          { name: '_VALUE_STATS_COLS', ...opt({ type: 'array', items: 'string' }) },
          { name: '_EXTERNAL_PATH', ...opt('string') },
          { name: '_FIRST_ROW_ID', ...opt(LONG) },
        ],
      },
    },
  ],
};

/** ManifestFileMeta (version 2): one row of a manifest list. */
export const MANIFEST_FILE_META_SCHEMA = {
  type: 'record',
  name: 'record',
  namespace: NS,
  fields: [
    { name: '_VERSION', type: 'int' },
    { name: '_FILE_NAME', type: 'string' },
    { name: '_FILE_SIZE', type: LONG },
    { name: '_NUM_ADDED_FILES', type: LONG },
    { name: '_NUM_DELETED_FILES', type: LONG },
    { name: '_PARTITION_STATS', type: statsType('record__PARTITION_STATS') },
    { name: '_SCHEMA_ID', type: LONG },
    { name: '_MIN_BUCKET', ...opt('int') },
    { name: '_MAX_BUCKET', ...opt('int') },
    { name: '_MIN_LEVEL', ...opt('int') },
    { name: '_MAX_LEVEL', ...opt('int') },
  ],
};

/** SimpleStats: min / max as serialized BinaryRows, null counts per column. */
export interface SimpleStats {
  _MIN_VALUES: Uint8Array;
  _MAX_VALUES: Uint8Array;
  _NULL_COUNTS: (bigint | null)[] | null;
}

/** DataFileMeta in its manifest spelling. */
export interface DataFileRecord {
  _FILE_NAME: string;
  _FILE_SIZE: bigint;
  _ROW_COUNT: bigint;
  _MIN_KEY: Uint8Array;
  _MAX_KEY: Uint8Array;
  _KEY_STATS: SimpleStats;
  _VALUE_STATS: SimpleStats;
  _MIN_SEQUENCE_NUMBER: bigint;
  _MAX_SEQUENCE_NUMBER: bigint;
  _SCHEMA_ID: bigint;
  _LEVEL: number;
  _EXTRA_FILES: string[];
  _CREATION_TIME: bigint | null;
  _DELETE_ROW_COUNT: bigint | null;
  _EMBEDDED_FILE_INDEX: Uint8Array | null;
  /** 0 APPEND, 1 COMPACT. */
  _FILE_SOURCE: number | null;
  _VALUE_STATS_COLS: string[] | null;
  _EXTERNAL_PATH: string | null;
  _FIRST_ROW_ID: bigint | null;
}

export const KIND_ADD = 0;
export const KIND_DELETE = 1;

export interface ManifestEntryRecord {
  _VERSION: 2;
  /** 0 ADD, 1 DELETE. */
  _KIND: number;
  _PARTITION: Uint8Array;
  _BUCKET: number;
  _TOTAL_BUCKETS: number;
  _FILE: DataFileRecord;
}

export interface ManifestFileMetaRecord {
  _VERSION: 2;
  _FILE_NAME: string;
  _FILE_SIZE: bigint;
  _NUM_ADDED_FILES: bigint;
  _NUM_DELETED_FILES: bigint;
  _PARTITION_STATS: SimpleStats;
  _SCHEMA_ID: bigint;
  _MIN_BUCKET: number | null;
  _MAX_BUCKET: number | null;
  _MIN_LEVEL: number | null;
  _MAX_LEVEL: number | null;
}

const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function statsForAvro(s: SimpleStats) {
  return { _MIN_VALUES: toBuffer(s._MIN_VALUES), _MAX_VALUES: toBuffer(s._MAX_VALUES), _NULL_COUNTS: s._NULL_COUNTS };
}

/** Avro bytes of a manifest holding `entries`. */
export function encodePaimonManifest(entries: ManifestEntryRecord[]): Promise<Uint8Array> {
  const records = entries.map((e) => ({
    ...e,
    _PARTITION: toBuffer(e._PARTITION),
    _FILE: {
      ...e._FILE,
      _MIN_KEY: toBuffer(e._FILE._MIN_KEY),
      _MAX_KEY: toBuffer(e._FILE._MAX_KEY),
      _KEY_STATS: statsForAvro(e._FILE._KEY_STATS),
      _VALUE_STATS: statsForAvro(e._FILE._VALUE_STATS),
      _EMBEDDED_FILE_INDEX: e._FILE._EMBEDDED_FILE_INDEX === null ? null : toBuffer(e._FILE._EMBEDDED_FILE_INDEX),
      // A plain Avro long under the timestamp-millis logical type (avsc cannot wrap our bigint LONG
      // in a logical type inside a union); epoch millis fit in a double.
      _CREATION_TIME: e._FILE._CREATION_TIME === null ? null : Number(e._FILE._CREATION_TIME),
    },
  }));
  return writeAvroFile(MANIFEST_ENTRY_SCHEMA, records, {});
}

/** Avro bytes of a manifest list holding `metas`. */
export function encodePaimonManifestList(metas: ManifestFileMetaRecord[]): Promise<Uint8Array> {
  return writeAvroFile(MANIFEST_FILE_META_SCHEMA, metas.map((m) => ({ ...m, _PARTITION_STATS: statsForAvro(m._PARTITION_STATS) })), {});
}

/** IndexManifestEntry (version 1): an index file of a (partition, bucket). */
export const INDEX_MANIFEST_ENTRY_SCHEMA = {
  type: 'record',
  name: 'record',
  namespace: NS,
  fields: [
    { name: '_VERSION', type: 'int' },
    { name: '_KIND', type: 'int' },
    { name: '_PARTITION', type: 'bytes' },
    { name: '_BUCKET', type: 'int' },
    { name: '_INDEX_TYPE', type: 'string' },
    { name: '_FILE_NAME', type: 'string' },
    { name: '_FILE_SIZE', type: LONG },
    { name: '_ROW_COUNT', type: LONG },
    {
      name: '_DELETIONS_VECTORS_RANGES',
      ...opt({
        type: 'array',
        items: [
          'null',
          {
            type: 'record',
            name: 'record__DELETIONS_VECTORS_RANGES',
            fields: [
              { name: 'f0', type: 'string' },
              { name: 'f1', type: 'int' },
              { name: 'f2', type: 'int' },
              { name: '_CARDINALITY', ...opt(LONG) },
            ],
          },
        ],
      }),
    },
  ],
};

export interface IndexEntryRecord {
  _VERSION: 1;
  _KIND: number;
  _PARTITION: Uint8Array;
  _BUCKET: number;
  /** DELETION_VECTORS (or HASH, carried over from other writers). */
  _INDEX_TYPE: string;
  _FILE_NAME: string;
  _FILE_SIZE: bigint;
  _ROW_COUNT: bigint;
  _DELETIONS_VECTORS_RANGES: { f0: string; f1: number; f2: number; _CARDINALITY: bigint | null }[] | null;
}

/** Avro bytes of an index manifest. */
export function encodePaimonIndexManifest(entries: IndexEntryRecord[]): Promise<Uint8Array> {
  return writeAvroFile(INDEX_MANIFEST_ENTRY_SCHEMA, entries.map((e) => ({ ...e, _PARTITION: toBuffer(e._PARTITION) })), {});
}
