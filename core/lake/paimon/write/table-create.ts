import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { defaultWriteEnv, publishExclusive, type WriteEnv } from '../../write/commit';
import { makeDirectory } from '../../write/file-write';
import { parsePaimonSchema, parsePaimonType, type PaimonDataType, type PaimonSchema } from '../schema';
import { dynamicBucketOptionsOf } from './dynamic-bucket';

/**
 * Creating a Paimon primary-key table: `schema/schema-0` as Java Paimon lays it out (TableSchema
 * JSON, version 3): fields with ids from 0 and Flink SQL type strings, highestFieldId,
 * partitionKeys, primaryKeys, options, comment (only when given), timeMillis.
 */

export interface PaimonColumn {
  name: string;
  /** A Paimon (Flink SQL) type string: "INT", "STRING NOT NULL", "DECIMAL(10, 2)", "TIMESTAMP(6)". */
  type: string;
  comment?: string;
}

/** A neutral description of a table to create. */
export interface PaimonTableDescription {
  columns: PaimonColumn[];
  /** Required: this writer writes primary-key tables only. */
  primaryKeys: string[];
  partitionKeys?: string[];
  /** Table options verbatim (`bucket`, `bucket-key`, `file.format`, …). `bucket` ≥ 1 is required. */
  options?: Record<string, string>;
  comment?: string;
}

/** Types the writer can put in Parquet data files and BinaryRows. */
const WRITABLE = new Set([
  'BOOLEAN', 'TINYINT', 'SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL', 'CHAR', 'VARCHAR', 'STRING',
  'BINARY', 'VARBINARY', 'BYTES', 'DATE', 'TIME', 'TIMESTAMP', 'TIMESTAMP_LTZ',
]);

/** Fails (InvalidInput / Unsupported, naming the column) for a type the writer cannot write. */
export function assertWritableType(t: PaimonDataType, column: string): void {
  if (!WRITABLE.has(t.root)) {
    throw new TidemarkError('Unsupported', `column ${column}: writing Paimon ${t.root} columns is not supported (primitive types only; nested types are not)`, {
      feature: `write type ${t.root}`,
    });
  }
  if ((t.root === 'TIMESTAMP' || t.root === 'TIMESTAMP_LTZ') && (t.precision ?? 6) > 6) {
    throw new TidemarkError('Unsupported', `column ${column}: ${t.root}(${t.precision}) is not supported by the writer (precision 0-6 is)`, {
      feature: `write ${t.root}(${t.precision})`,
    });
  }
}

/**
 * Fails for the options and layouts this writer does not write correctly: anything but a
 * primary-key table with a fixed bucket count or dynamic bucket (-1, not cross-partition), Parquet data files, the deduplicate merge engine,
 * no sequence.field, changelog-producer none, input or lookup, 32-bit deletion vectors.
 */
export function assertWritableSchema(schema: PaimonSchema, where: string): void {
  const o = schema.options;
  if (schema.primaryKeys.length === 0) {
    throw new TidemarkError('Unsupported', `${where}: append tables (no primary key) are not written by the Paimon writer; give primaryKeys`, { feature: 'append table' });
  }
  // No `bucket` option is Paimon's default for a primary-key table: -1, dynamic bucket.
  const bucket = o.bucket ?? '-1';
  if (!/^-?\d+$/.test(bucket.trim())) {
    throw new TidemarkError('InvalidInput', `${where}: option bucket must be a fixed bucket count N >= 1 or -1 (dynamic bucket), found ${JSON.stringify(bucket)}`);
  }
  const n = Number(bucket);
  if (n === -1) {
    if (o['bucket-key'] !== undefined) {
      throw new TidemarkError('InvalidInput', `${where}: bucket-key (${o['bucket-key']}) cannot be set with bucket = -1 (dynamic bucket), as Paimon refuses; remove it or give a bucket count`);
    }
    const outside = schema.partitionKeys.filter((k) => !schema.primaryKeys.includes(k));
    if (outside.length > 0) {
      throw new TidemarkError(
        'Unsupported',
        `${where}: bucket = -1 with partition keys outside the primary key (${outside.join(', ')}) is Paimon's cross-partition upsert mode, which the writer does not support; give a fixed bucket count`,
        { feature: 'cross-partition upsert' },
      );
    }
    dynamicBucketOptionsOf(schema, where);
  } else if (n < 1) {
    throw new TidemarkError('Unsupported', `${where}: bucket = ${n} is not supported (a fixed bucket count N >= 1 or -1, dynamic bucket, is)`, { feature: `bucket=${n}` });
  }
  const format = (o['file.format'] ?? 'parquet').toLowerCase();
  if (format !== 'parquet') {
    throw new TidemarkError('Unsupported', `${where}: file.format = ${o['file.format']} is not supported by the writer (parquet is)`, { feature: `file.format=${format}` });
  }
  const manifestFormat = (o['manifest.format'] ?? 'avro').toLowerCase();
  if (manifestFormat !== 'avro') {
    throw new TidemarkError('Unsupported', `${where}: manifest.format = ${o['manifest.format']} is not supported by the writer (avro is)`, { feature: `manifest.format=${manifestFormat}` });
  }
  const engine = o['merge-engine'] ?? 'deduplicate';
  if (engine !== 'deduplicate') {
    throw new TidemarkError('Unsupported', `${where}: merge-engine = ${engine} is not supported by the writer (deduplicate is)`, { feature: `merge-engine=${engine}` });
  }
  if (o['sequence.field']) {
    throw new TidemarkError('Unsupported', `${where}: sequence.field (${o['sequence.field']}) is not supported by the writer`, { feature: 'sequence.field' });
  }
  const changelog = o['changelog-producer'] ?? 'none';
  if (changelog !== 'none' && changelog !== 'input' && changelog !== 'lookup') {
    throw new TidemarkError('Unsupported', `${where}: changelog-producer = ${changelog} is not supported by the writer yet (none, input and lookup are)`, { feature: `changelog-producer=${changelog}` });
  }
  if (o['deletion-vectors.bitmap64'] === 'true') {
    throw new TidemarkError('Unsupported', `${where}: deletion-vectors.bitmap64 = true is not supported by the writer (32-bit vectors are)`, { feature: 'deletion-vectors.bitmap64' });
  }
  for (const f of schema.paimonFields) assertWritableType(f.type, f.name);
}

/** Jackson-style pretty JSON ("key" : value, two-space indent), as Java Paimon writes its files. */
export function toPaimonJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) {
    if (value.length === 0) return '[ ]';
    return `[ ${value.map((v) => toPaimonJson(v, indent)).join(', ')} ]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{ }';
    return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)} : ${toPaimonJson(v, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** Validates a description and returns the schema-0 JSON object (field ids from 0). */
export function buildSchemaJson(desc: PaimonTableDescription, timeMillis: number): Record<string, unknown> {
  const where = 'Paimon table description';
  if (!Array.isArray(desc.columns) || desc.columns.length === 0) throw new TidemarkError('InvalidInput', `${where}: columns must be a non-empty list`);
  const names = new Set<string>();
  for (const c of desc.columns) {
    if (typeof c.name !== 'string' || c.name === '') throw new TidemarkError('InvalidInput', `${where}: a column has no name: ${JSON.stringify(c)}`);
    if (names.has(c.name)) throw new TidemarkError('InvalidInput', `${where}: column ${c.name} is given twice`);
    if (c.name.startsWith('_KEY_') || ['_SEQUENCE_NUMBER', '_VALUE_KIND'].includes(c.name)) {
      throw new TidemarkError('InvalidInput', `${where}: column name ${c.name} is reserved by Paimon for its system fields`);
    }
    names.add(c.name);
  }
  const pks = desc.primaryKeys ?? [];
  const parts = desc.partitionKeys ?? [];
  for (const k of [...pks, ...parts]) if (!names.has(k)) throw new TidemarkError('InvalidInput', `${where}: key column ${k} is not a column (columns: ${[...names].join(', ')})`);
  if (new Set(pks).size !== pks.length) throw new TidemarkError('InvalidInput', `${where}: primaryKeys repeat a column: ${pks.join(', ')}`);
  for (const p of parts) {
    if (pks.length > 0 && !pks.includes(p)) {
      throw new TidemarkError('InvalidInput', `${where}: partition key ${p} must be part of the primary key (${pks.join(', ')}), as Paimon requires`);
    }
  }
  const options: Record<string, string> = { ...(desc.options ?? {}) };
  for (const [k, v] of Object.entries(options)) {
    if (typeof v !== 'string') throw new TidemarkError('InvalidInput', `${where}: option ${k} must be a string, found ${JSON.stringify(v)}`);
  }
  if (options['bucket-key'] !== undefined) {
    const trimmed = pks.filter((k) => !parts.includes(k));
    for (const k of options['bucket-key'].split(',').map((s) => s.trim())) {
      if (!trimmed.includes(k)) {
        throw new TidemarkError('InvalidInput', `${where}: bucket-key ${k} must be a primary-key column that is not a partition key (${trimmed.join(', ')})`);
      }
    }
  }
  options['file.format'] ??= 'parquet';
  const fields = desc.columns.map((c, id) => {
    let type = c.type.trim();
    const parsed = parsePaimonType(type, `${where}: column ${c.name}`);
    // Paimon makes primary-key columns NOT NULL (Schema: "primary key fields are nullable, converting to not null").
    if (pks.includes(c.name) && parsed.nullable) type = `${type} NOT NULL`;
    return { id, name: c.name, type, ...(c.comment !== undefined ? { description: c.comment } : {}) };
  });
  return {
    version: 3,
    id: 0,
    fields,
    highestFieldId: fields.length - 1,
    partitionKeys: parts,
    primaryKeys: pks,
    options,
    ...(desc.comment !== undefined ? { comment: desc.comment } : {}),
    timeMillis,
  };
}

/**
 * Creates a Paimon primary-key table at `root` (a new folder, or an empty one): validates the
 * description (refusing what the writer does not support, see assertWritableSchema) and publishes
 * `schema/schema-0` exclusively. An existing schema-0 is CommitConflict.
 */
export async function createPaimonTable(root: string, desc: PaimonTableDescription, env: WriteEnv = defaultWriteEnv): Promise<PaimonSchema> {
  const json = buildSchemaJson(desc, env.now());
  const text = toPaimonJson(json);
  const path = join(root, 'schema', 'schema-0');
  const schema = parsePaimonSchema(text, path);
  assertWritableSchema(schema, path);
  await makeDirectory(join(root, 'schema'));
  if (!(await publishExclusive(path, text, env))) {
    throw new TidemarkError('CommitConflict', `a Paimon table already exists at ${root} (${path} is there)`, { path });
  }
  return schema;
}
