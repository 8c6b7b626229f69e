/**
 * Schema diff between two versions of a table, matched by field id (spec: columns are tracked by
 * id, so a rename keeps its id and an add never reuses one). Nested struct/list/map fields are
 * compared by their ids too and named by dotted paths (`address.city`, `tags.element`).
 */
import { isList, isMap, isStruct, type IcebergType, type PartitionSpec, type Schema, type TableMetadata } from '../lake';
import { findSnapshot, snapshotSchema } from '../lake';
import { readManifestList } from '../lake';
import type { LoadedTable } from '../lake';
import type { StoragePort } from '../storage';
import type { DiffField, SchemaDiff } from '../api';
export type { DiffField, SchemaDiff };

/** One side of a diff: a schema and the partition spec its data was written with. */
export interface SchemaVersion {
  schema: Schema;
  spec: PartitionSpec | null;
}

function typeText(t: IcebergType): string {
  if (typeof t === 'string') return t;
  if (isStruct(t)) return 'struct';
  if (isList(t)) return 'list';
  if (isMap(t)) return 'map';
  return 'unknown';
}

/** Every field of a schema, nested ones included, by id. */
export function flattenSchema(schema: Schema): Map<number, DiffField> {
  const out = new Map<number, DiffField>();
  const walk = (t: IcebergType, prefix: string) => {
    if (isStruct(t)) {
      for (const f of t.fields) {
        const path = prefix ? `${prefix}.${f.name}` : f.name;
        out.set(f.id, { id: f.id, path, type: typeText(f.type), required: f.required });
        walk(f.type, path);
      }
    } else if (isList(t)) {
      out.set(t.elementId, { id: t.elementId, path: `${prefix}.element`, type: typeText(t.element), required: t.elementRequired });
      walk(t.element, `${prefix}.element`);
    } else if (isMap(t)) {
      out.set(t.keyId, { id: t.keyId, path: `${prefix}.key`, type: typeText(t.key), required: true });
      out.set(t.valueId, { id: t.valueId, path: `${prefix}.value`, type: typeText(t.value), required: t.valueRequired });
      walk(t.key, `${prefix}.key`);
      walk(t.value, `${prefix}.value`);
    }
  };
  walk(schema, '');
  return out;
}

export function formatPartitionSpec(spec: PartitionSpec | null, schema: Schema): string {
  if (!spec || spec.fields.length === 0) return 'unpartitioned';
  const names = flattenSchema(schema);
  return spec.fields.map((f) => `${f.transform}(${names.get(f.sourceId)?.path ?? `#${f.sourceId}`})`).join(', ');
}

export function diffSchemas(from: SchemaVersion, to: SchemaVersion): SchemaDiff {
  const a = flattenSchema(from.schema);
  const b = flattenSchema(to.schema);
  const diff: SchemaDiff = { added: [], removed: [], renamed: [], typeChanged: [], nullabilityChanged: [], identifierChanged: null, partitionSpecChanged: null };
  for (const [id, f] of b) if (!a.has(id)) diff.added.push(f);
  for (const [id, f] of a) if (!b.has(id)) diff.removed.push(f);
  for (const [id, old] of a) {
    const now = b.get(id);
    if (!now) continue;
    if (old.path !== now.path && old.path.split('.').pop() !== now.path.split('.').pop()) diff.renamed.push({ id, from: old.path, to: now.path });
    if (old.type !== now.type) diff.typeChanged.push({ id, path: now.path, from: old.type, to: now.type });
    if (old.required !== now.required) {
      diff.nullabilityChanged.push({ id, path: now.path, from: old.required ? 'required' : 'optional', to: now.required ? 'required' : 'optional' });
    }
  }
  const ids = (s: Schema, names: Map<number, DiffField>) => s.identifierFieldIds.map((id) => names.get(id)?.path ?? `#${id}`);
  const fromIds = ids(from.schema, a);
  const toIds = ids(to.schema, b);
  if ([...from.schema.identifierFieldIds].sort().join(',') !== [...to.schema.identifierFieldIds].sort().join(',')) {
    diff.identifierChanged = { from: fromIds, to: toIds };
  }
  // A spec changes when its (transform, source id) list does; a renamed source column is not a change.
  const specKey = (spec: PartitionSpec | null) => (spec?.fields ?? []).filter((f) => f.transform !== 'void').map((f) => `${f.transform}:${f.sourceId}`).join(',');
  if (specKey(from.spec) !== specKey(to.spec)) {
    diff.partitionSpecChanged = { from: formatPartitionSpec(from.spec, from.schema), to: formatPartitionSpec(to.spec, to.schema) };
  }
  return diff;
}

/**
 * The schema and partition spec of a table version: `current` is the table's current schema and
 * default spec (a schema can change without a new snapshot); a snapshot id gives the schema it was
 * written with and the newest spec its data manifests use.
 */
export async function readSchemaVersion(storage: StoragePort, table: LoadedTable, version: bigint | 'current'): Promise<SchemaVersion> {
  const md: TableMetadata = table.metadata;
  if (version === 'current') {
    const schema = md.schemas.find((s) => s.schemaId === md.currentSchemaId) ?? snapshotSchema(md, null);
    return { schema, spec: md.partitionSpecs.find((s) => s.specId === md.defaultSpecId) ?? null };
  }
  const snapshot = findSnapshot(md, version);
  const schema = snapshotSchema(md, snapshot, { snapshotId: snapshot.snapshotId });
  let specId = md.defaultSpecId;
  const manifests = await readManifestList(await storage.readFile(table.resolve(snapshot.manifestList)), table.resolve(snapshot.manifestList));
  const dataSpecs = manifests.filter((m) => m.content === 0).map((m) => m.partitionSpecId);
  if (dataSpecs.length > 0) specId = Math.max(...dataSpecs);
  return { schema, spec: md.partitionSpecs.find((s) => s.specId === specId) ?? null };
}
