import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import type { IcebergType, NestedField, Schema } from '../model';
import { readPaimonFile } from './avro-container';
import { joinPath } from './paths';

/**
 * Paimon table schemas: `<table>/schema/schema-<id>` JSON files, one per ALTER (format version 3 as
 * written by Paimon 0.9 – 1.x). Field ids are stable across versions, so old data files are read in a
 * newer schema by id. Types are Flink SQL spellings ("INT NOT NULL", "DECIMAL(23, 5)",
 * "TIMESTAMP(9)", {type: "ROW", fields}); they are kept (for BinaryRow decoding) and mapped to the
 * Iceberg type names the rest of Tidemark uses.
 */

export type PaimonTypeRoot =
  | 'BOOLEAN' | 'TINYINT' | 'SMALLINT' | 'INT' | 'BIGINT' | 'FLOAT' | 'DOUBLE' | 'DECIMAL'
  | 'CHAR' | 'VARCHAR' | 'STRING' | 'BINARY' | 'VARBINARY' | 'BYTES' | 'DATE' | 'TIME'
  | 'TIMESTAMP' | 'TIMESTAMP_LTZ' | 'ROW' | 'ARRAY' | 'MAP' | 'MULTISET';

export interface PaimonDataType {
  root: PaimonTypeRoot;
  nullable: boolean;
  /** DECIMAL precision, TIMESTAMP / TIME fractional precision, CHAR / BINARY length. */
  precision?: number;
  scale?: number;
  fields?: PaimonField[];
  element?: PaimonDataType;
  key?: PaimonDataType;
  value?: PaimonDataType;
}

export interface PaimonField {
  id: number;
  name: string;
  type: PaimonDataType;
  description?: string;
}

/** A Paimon schema in Tidemark's (Iceberg-shaped) form plus the Paimon table layout. */
export interface PaimonSchema extends Schema {
  /** The raw Paimon fields (Flink SQL types), by position. */
  paimonFields: PaimonField[];
  highestFieldId: number;
  primaryKeys: string[];
  partitionKeys: string[];
  /** `bucket-key` option, else the primary keys minus partition keys, else []. */
  bucketKeys: string[];
  /** `bucket` option: -1 dynamic, -2 postpone, N fixed. */
  bucketCount: number;
  options: Record<string, string>;
  timeMillis: number | null;
}

const SIMPLE: Record<string, PaimonTypeRoot> = {
  BOOLEAN: 'BOOLEAN', TINYINT: 'TINYINT', SMALLINT: 'SMALLINT', INT: 'INT', INTEGER: 'INT', BIGINT: 'BIGINT',
  FLOAT: 'FLOAT', DOUBLE: 'DOUBLE', 'DOUBLE PRECISION': 'DOUBLE', STRING: 'STRING', BYTES: 'BYTES', DATE: 'DATE',
  DECIMAL: 'DECIMAL', NUMERIC: 'DECIMAL', DEC: 'DECIMAL', CHAR: 'CHAR', VARCHAR: 'VARCHAR', BINARY: 'BINARY',
  VARBINARY: 'VARBINARY', TIME: 'TIME', TIMESTAMP: 'TIMESTAMP',
};

/** Parses one Paimon type (string or object form). `where` names the field in errors. */
export function parsePaimonType(raw: unknown, where: string): PaimonDataType {
  if (typeof raw === 'object' && raw !== null) {
    const obj = raw as Record<string, unknown>;
    const head = parseHead(String(obj.type ?? ''), where);
    if (head.root === 'ROW') {
      const fields = Array.isArray(obj.fields) ? obj.fields.map((f, i) => parsePaimonField(f, `${where}.fields[${i}]`)) : [];
      return { ...head, fields };
    }
    if (head.root === 'ARRAY' || head.root === 'MULTISET') return { ...head, element: parsePaimonType(obj.element, `${where}.element`) };
    if (head.root === 'MAP') {
      return { ...head, key: parsePaimonType(obj.key, `${where}.key`), value: parsePaimonType(obj.value, `${where}.value`) };
    }
    throw new TidemarkError('DataInvalid', `${where}: unexpected object type ${JSON.stringify(obj.type)}`);
  }
  if (typeof raw !== 'string') throw new TidemarkError('DataInvalid', `${where}: expected a Paimon type, found ${JSON.stringify(raw)}`);
  return parseHead(raw, where);
}

function parseHead(text: string, where: string): PaimonDataType {
  let t = text.trim();
  let nullable = true;
  if (/\s+NOT NULL$/i.test(t)) {
    nullable = false;
    t = t.replace(/\s+NOT NULL$/i, '');
  }
  const ltz = /^TIMESTAMP(?:\((\d+)\))?\s+WITH\s+LOCAL\s+TIME\s+ZONE$/i.exec(t) ?? /^TIMESTAMP_LTZ(?:\((\d+)\))?$/i.exec(t);
  if (ltz) return { root: 'TIMESTAMP_LTZ', nullable, precision: Number(ltz[1] ?? 6) };
  const m = /^([A-Z_ ]+?)\s*(?:\((\d+)(?:\s*,\s*(\d+))?\))?$/i.exec(t);
  const name = m?.[1]?.toUpperCase();
  if (name === 'ROW' || name === 'ARRAY' || name === 'MAP' || name === 'MULTISET') return { root: name, nullable };
  const root = name ? SIMPLE[name] : undefined;
  if (!m || !root) {
    throw new TidemarkError('Unsupported', `${where}: Paimon type ${JSON.stringify(text)} is not supported`, { feature: `type ${text}` });
  }
  const p = m[2] === undefined ? undefined : Number(m[2]);
  switch (root) {
    case 'DECIMAL':
      return { root, nullable, precision: p ?? 10, scale: m[3] === undefined ? 0 : Number(m[3]) };
    case 'TIMESTAMP':
      return { root, nullable, precision: p ?? 6 };
    case 'TIME':
      return { root, nullable, precision: p ?? 0 };
    case 'CHAR':
    case 'BINARY':
      return { root, nullable, precision: p ?? 1 };
    default:
      return { root, nullable };
  }
}

function parsePaimonField(raw: unknown, where: string): PaimonField {
  const f = raw as Record<string, unknown>;
  if (typeof f !== 'object' || f === null || typeof f.id !== 'number' || typeof f.name !== 'string') {
    throw new TidemarkError('DataInvalid', `${where}: expected a field {id, name, type}, found ${JSON.stringify(raw)}`);
  }
  const field: PaimonField = { id: f.id, name: f.name, type: parsePaimonType(f.type, `${where} (${f.name})`) };
  if (typeof f.description === 'string') field.description = f.description;
  return field;
}

/**
 * Paimon has no ids for array elements and map keys / values. Its Parquet writer derives them from
 * the parent field id (seen in the fixtures: element / value = 536870911 + 1024 × id + depth, key =
 * 536854525 + 1024 × id + depth); we use the same rule at depth 1 so the ids are stable. Nothing
 * matches on them: Arrow list / map children are positional.
 */
const elementId = (parentId: number) => 536_870_911 + 1024 * parentId + 1;
const mapKeyId = (parentId: number) => 536_854_525 + 1024 * parentId + 1;

/** Paimon type → Iceberg type name / nested type (core/lake/model.ts). */
export function toIcebergType(t: PaimonDataType, parentId: number): IcebergType {
  switch (t.root) {
    case 'BOOLEAN':
      return 'boolean';
    case 'TINYINT':
    case 'SMALLINT':
    case 'INT':
      return 'int';
    case 'BIGINT':
      return 'long';
    case 'FLOAT':
      return 'float';
    case 'DOUBLE':
      return 'double';
    case 'DECIMAL':
      return `decimal(${t.precision}, ${t.scale})`;
    case 'CHAR':
    case 'VARCHAR':
    case 'STRING':
      return 'string';
    case 'BINARY':
    case 'VARBINARY':
    case 'BYTES':
      return 'binary';
    case 'DATE':
      return 'date';
    case 'TIME':
      return 'time';
    case 'TIMESTAMP':
      return 'timestamp';
    case 'TIMESTAMP_LTZ':
      return 'timestamptz';
    case 'ROW':
      return { type: 'struct', fields: (t.fields ?? []).map(toNestedField) };
    case 'ARRAY':
      return {
        type: 'list',
        elementId: elementId(parentId),
        element: toIcebergType(t.element!, elementId(parentId)),
        elementRequired: !t.element!.nullable,
      };
    case 'MAP':
      return {
        type: 'map',
        keyId: mapKeyId(parentId),
        key: toIcebergType(t.key!, mapKeyId(parentId)),
        valueId: elementId(parentId),
        value: toIcebergType(t.value!, elementId(parentId)),
        valueRequired: !t.value!.nullable,
      };
    case 'MULTISET':
      throw new TidemarkError('Unsupported', `Paimon MULTISET columns are not supported`, { feature: 'type MULTISET' });
  }
}

export function toNestedField(f: PaimonField): NestedField {
  const field: NestedField = { id: f.id, name: f.name, required: !f.type.nullable, type: toIcebergType(f.type, f.id) };
  if (f.description) field.doc = f.description;
  return field;
}

/** Parses the text of `schema/schema-<id>`. `file` names the file in errors. */
export function parsePaimonSchema(text: string, file: string): PaimonSchema {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${file}: expected Paimon schema JSON: ${(e as Error).message}`, { path: file }, e);
  }
  const bad = (what: string): never => {
    throw new TidemarkError('DataInvalid', `${file}: expected Paimon schema JSON: ${what}`, { path: file });
  };
  if (typeof json !== 'object' || json === null) bad('not an object');
  if (typeof json.id !== 'number') bad('missing "id"');
  if (!Array.isArray(json.fields)) bad('missing "fields"');
  const paimonFields = (json.fields as unknown[]).map((f, i) => parsePaimonField(f, `${file}: fields[${i}]`));
  const strings = (v: unknown, key: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) bad(`"${key}" must be a list of names`);
    return v as string[];
  };
  const primaryKeys = strings(json.primaryKeys, 'primaryKeys');
  const partitionKeys = strings(json.partitionKeys, 'partitionKeys');
  const options = (json.options ?? {}) as Record<string, string>;
  const names = new Map(paimonFields.map((f) => [f.name, f.id]));
  for (const k of [...primaryKeys, ...partitionKeys]) if (!names.has(k)) bad(`key column "${k}" is not a field`);
  const bucketKeys = options['bucket-key']
    ? options['bucket-key'].split(',').map((s) => s.trim()).filter(Boolean)
    : primaryKeys.filter((k) => !partitionKeys.includes(k));
  return {
    type: 'struct',
    schemaId: json.id as number,
    fields: paimonFields.map(toNestedField),
    identifierFieldIds: primaryKeys.map((k) => names.get(k)!),
    paimonFields,
    highestFieldId: typeof json.highestFieldId === 'number' ? json.highestFieldId : Math.max(-1, ...paimonFields.map((f) => f.id)),
    primaryKeys,
    partitionKeys,
    bucketKeys,
    bucketCount: options.bucket === undefined ? -1 : Number(options.bucket),
    options,
    timeMillis: typeof json.timeMillis === 'number' ? json.timeMillis : null,
  };
}

/** Ids of the schema versions present in `<table>/schema`, ascending. */
export async function listPaimonSchemaIds(storage: StoragePort, root: string): Promise<number[]> {
  const dir = joinPath(root, 'schema');
  const entries = await storage.list(dir).catch((e: unknown) => {
    throw new TidemarkError('NotFound', `not a Paimon table: no schema folder at ${dir}`, { path: dir }, e);
  });
  return entries
    .filter((e) => e.kind === 'file' && /^schema-\d+$/.test(e.name))
    .map((e) => Number(e.name.slice('schema-'.length)))
    .sort((a, b) => a - b);
}

/** Reads `schema/schema-<id>`; a missing file is NotFound naming it. */
export async function readPaimonSchemaFile(storage: StoragePort, root: string, schemaId: number): Promise<PaimonSchema> {
  const path = joinPath(root, 'schema', `schema-${schemaId}`);
  const bytes = await readPaimonFile(storage, path, `schema ${schemaId}`);
  const schema = parsePaimonSchema(new TextDecoder().decode(bytes), path);
  if (schema.schemaId !== schemaId) {
    throw new TidemarkError('DataInvalid', `${path}: expected schema id ${schemaId}, found ${schema.schemaId}`, { path });
  }
  return schema;
}

/** Merge engine of a primary-key table (`merge-engine` option, default deduplicate). */
export function mergeEngineOf(schema: PaimonSchema): string {
  return schema.options['merge-engine'] ?? 'deduplicate';
}

export function deletionVectorsEnabled(schema: PaimonSchema): boolean {
  return schema.options['deletion-vectors.enabled'] === 'true';
}
