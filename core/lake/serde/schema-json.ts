import { TidemarkError } from '../../errors';
import type { IcebergType, NestedField, PartitionSpec, Schema, SortOrder } from '../model';
import { fromJsonSingleValue, toJsonSingleValue } from '../values';

/**
 * JSON spellings of schemas, partition specs and sort orders (spec Appendix C). Parsing takes the
 * file name for messages: "<file>: schemas[1].fields[3]: expected ...".
 */
export type Json = Record<string, unknown>;

/**
 * v3 primitive types (spec "Primitive Types"). geometry and geography carry parameters:
 * `geometry(C)`, `geography(C, A)`, bare `geometry` / `geography` meaning the defaults.
 */
const V3_TYPES = new Set(['variant', 'unknown', 'timestamp_ns', 'timestamptz_ns']);
const GEO_TYPE = /^(geometry|geography)(\s*\(.*\))?$/;

export class JsonReader {
  constructor(readonly file: string) {}

  fail(where: string, expected: string, found: unknown): never {
    const shown = found === undefined ? 'nothing' : JSON.stringify(found, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    throw new TidemarkError('DataInvalid', `${this.file}: ${where}: expected ${expected}, found ${shown?.slice(0, 80)}`, { path: this.file });
  }
  obj(v: unknown, where: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(where, 'an object', v);
    return v as Json;
  }
  arr(v: unknown, where: string): unknown[] {
    if (!Array.isArray(v)) this.fail(where, 'an array', v);
    return v;
  }
  int(v: unknown, where: string): number {
    if (typeof v === 'bigint' || typeof v !== 'number' || !Number.isInteger(v)) this.fail(where, 'an integer', v);
    return v;
  }
  long(v: unknown, where: string): bigint {
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    return this.fail(where, 'a 64-bit integer', v);
  }
  str(v: unknown, where: string): string {
    if (typeof v !== 'string') this.fail(where, 'a string', v);
    return v;
  }
  bool(v: unknown, where: string): boolean {
    if (typeof v !== 'boolean') this.fail(where, 'a boolean', v);
    return v;
  }
}

export function parseType(r: JsonReader, v: unknown, where: string): IcebergType {
  if (typeof v === 'string') {
    // Read paths decide per column: geometry/geography values fail there as Unsupported, so a table
    // with such a column still opens, lists snapshots and counts rows.
    if (V3_TYPES.has(v) || GEO_TYPE.test(v)) return v.trim();
    return v.replace(/\s+/g, ' ').replace(/decimal\((\d+),\s*(\d+)\)/, 'decimal($1, $2)');
  }
  const o = r.obj(v, where);
  const kind = r.str(o.type, `${where}.type`);
  if (kind === 'struct') {
    return { type: 'struct', fields: r.arr(o.fields, `${where}.fields`).map((f, i) => parseField(r, f, `${where}.fields[${i}]`)) };
  }
  if (kind === 'list') {
    return {
      type: 'list',
      elementId: r.int(o['element-id'], `${where}.element-id`),
      element: parseType(r, o.element, `${where}.element`),
      elementRequired: r.bool(o['element-required'], `${where}.element-required`),
    };
  }
  if (kind === 'map') {
    return {
      type: 'map',
      keyId: r.int(o['key-id'], `${where}.key-id`),
      key: parseType(r, o.key, `${where}.key`),
      valueId: r.int(o['value-id'], `${where}.value-id`),
      value: parseType(r, o.value, `${where}.value`),
      valueRequired: r.bool(o['value-required'], `${where}.value-required`),
    };
  }
  return r.fail(`${where}.type`, 'struct, list or map', kind);
}

function parseField(r: JsonReader, v: unknown, where: string): NestedField {
  const o = r.obj(v, where);
  const type = parseType(r, o.type, `${where}.type`);
  const field: NestedField = {
    id: r.int(o.id, `${where}.id`),
    name: r.str(o.name, `${where}.name`),
    required: r.bool(o.required, `${where}.required`),
    type,
  };
  if (typeof o.doc === 'string') field.doc = o.doc;
  if (o['initial-default'] !== undefined) field.initialDefault = readDefault(r, type, o['initial-default'], 'initialDefault', `${where}.initial-default`);
  if (o['write-default'] !== undefined) field.writeDefault = readDefault(r, type, o['write-default'], 'writeDefault', `${where}.write-default`);
  return field;
}

/**
 * A default value (spec "Default values"). A struct's non-null default is a struct whose fields take
 * the values it lists (JSON keyed by field id, spec Appendix D) and, for the others, their own
 * default of the same kind — the spec stores `{}` and keeps sub-field defaults on the sub-fields.
 */
function readDefault(r: JsonReader, type: IcebergType, json: unknown, kind: 'initialDefault' | 'writeDefault', where: string): unknown {
  if (json === null || typeof type === 'string' || type.type !== 'struct') return fromJsonSingleValue(type, json);
  const given = r.obj(json, where);
  const out: Record<string, unknown> = {};
  for (const child of type.fields) {
    const listed = given[String(child.id)];
    out[child.name] = listed !== undefined ? readDefault(r, child.type, listed, kind, `${where}.${child.id}`) : (child[kind] ?? null);
  }
  return out;
}

export function parseSchema(r: JsonReader, v: unknown, where: string): Schema {
  const o = r.obj(v, where);
  const struct = parseType(r, { ...o, type: 'struct' }, where);
  if (typeof struct === 'string' || struct.type !== 'struct') return r.fail(where, 'a struct', v);
  return {
    ...struct,
    schemaId: o['schema-id'] === undefined ? 0 : r.int(o['schema-id'], `${where}.schema-id`),
    identifierFieldIds: o['identifier-field-ids'] === undefined ? [] : r.arr(o['identifier-field-ids'], `${where}.identifier-field-ids`).map((x, i) => r.int(x, `${where}.identifier-field-ids[${i}]`)),
  };
}

export function parsePartitionSpec(r: JsonReader, v: unknown, where: string, nextFieldId: { value: number }): PartitionSpec {
  const o = r.obj(v, where);
  return {
    specId: o['spec-id'] === undefined ? 0 : r.int(o['spec-id'], `${where}.spec-id`),
    fields: r.arr(o.fields, `${where}.fields`).map((f, i) => parsePartitionField(r, f, `${where}.fields[${i}]`, nextFieldId)),
  };
}

/**
 * A partition or sort field's source column. v3 writes `source-ids` (and no `source-id`) for
 * multi-argument transforms, which no transform we know has: a list of one id is read as that id,
 * a longer one is Unsupported, named.
 */
function parseSourceId(r: JsonReader, f: Json, where: string): number {
  if (f['source-id'] === undefined && f['source-ids'] !== undefined) {
    const ids = r.arr(f['source-ids'], `${where}.source-ids`).map((x, i) => r.int(x, `${where}.source-ids[${i}]`));
    if (ids.length === 1) return ids[0]!;
    throw new TidemarkError('Unsupported', `${r.file}: ${where}: multi-argument transform ${JSON.stringify(f.transform)} on source-ids ${JSON.stringify(ids)} is not supported`, { path: r.file, feature: 'multi-argument transform' });
  }
  return r.int(f['source-id'], `${where}.source-id`);
}

/** v1 specs may omit field-id: the spec assigns 1000, 1001, ... in order. */
export function parsePartitionField(r: JsonReader, v: unknown, where: string, nextFieldId: { value: number }) {
  const f = r.obj(v, where);
  const fieldId = f['field-id'] === undefined ? nextFieldId.value++ : r.int(f['field-id'], `${where}.field-id`);
  return {
    sourceId: parseSourceId(r, f, where),
    fieldId,
    name: r.str(f.name, `${where}.name`),
    transform: r.str(f.transform, `${where}.transform`),
  };
}

export function parseSortOrder(r: JsonReader, v: unknown, where: string): SortOrder {
  const o = r.obj(v, where);
  return {
    orderId: r.int(o['order-id'], `${where}.order-id`),
    fields: r.arr(o.fields, `${where}.fields`).map((x, i) => {
      const f = r.obj(x, `${where}.fields[${i}]`);
      return {
        sourceId: parseSourceId(r, f, `${where}.fields[${i}]`),
        transform: r.str(f.transform, `${where}.fields[${i}].transform`),
        direction: r.str(f.direction, `${where}.fields[${i}].direction`) === 'desc' ? 'desc' : 'asc',
        nullOrder: r.str(f['null-order'], `${where}.fields[${i}].null-order`) === 'nulls-last' ? 'nulls-last' : 'nulls-first',
      };
    }),
  };
}

export function writeType(t: IcebergType): unknown {
  if (typeof t === 'string') return t;
  if (t.type === 'struct') return { type: 'struct', fields: t.fields.map(writeField) };
  if (t.type === 'list') return { type: 'list', 'element-id': t.elementId, element: writeType(t.element), 'element-required': t.elementRequired };
  return { type: 'map', 'key-id': t.keyId, key: writeType(t.key), 'value-id': t.valueId, value: writeType(t.value), 'value-required': t.valueRequired };
}

function writeField(f: NestedField): Json {
  const out: Json = { id: f.id, name: f.name, required: f.required, type: writeType(f.type) };
  if (f.doc !== undefined) out.doc = f.doc;
  if (f.initialDefault !== undefined) out['initial-default'] = toJsonSingleValue(f.type, f.initialDefault);
  if (f.writeDefault !== undefined) out['write-default'] = toJsonSingleValue(f.type, f.writeDefault);
  return out;
}

export function writeSchema(s: Schema): Json {
  return { type: 'struct', 'schema-id': s.schemaId, 'identifier-field-ids': s.identifierFieldIds, fields: s.fields.map(writeField) };
}

export function writePartitionSpec(s: PartitionSpec): Json {
  return {
    'spec-id': s.specId,
    fields: s.fields.map((f) => ({ name: f.name, transform: f.transform, 'source-id': f.sourceId, 'field-id': f.fieldId })),
  };
}

export function writeSortOrder(s: SortOrder): Json {
  return {
    'order-id': s.orderId,
    fields: s.fields.map((f) => ({ transform: f.transform, 'source-id': f.sourceId, direction: f.direction, 'null-order': f.nullOrder })),
  };
}
