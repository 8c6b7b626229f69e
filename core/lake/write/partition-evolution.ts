import { TidemarkError } from '../../errors';
import type { PartitionField, PartitionSpec, TableMetadata } from '../model';
import { commitTable, defaultWriteEnv, tableRoot, type WriteEnv } from './commit';

/** One field of a new partition spec, by source column name (current schema). */
export interface PartitionFieldChange {
  column: string;
  /** identity, year, month, day, hour, bucket[N], truncate[W], void. */
  transform: string;
  /** Partition field name; default `<column>` for identity, else `<column>_<transform>`. */
  name?: string;
}

const TRANSFORM = /^(identity|year|month|day|hour|void|bucket\[[1-9]\d*\]|truncate\[[1-9]\d*\])$/;

/** Spec "Partition Transforms": which source types each transform accepts. */
function transformApplies(transform: string, type: string): boolean {
  const temporal = ['date', 'timestamp', 'timestamptz', 'timestamp_ns', 'timestamptz_ns'];
  if (transform === 'identity' || transform === 'void') return true;
  if (transform === 'hour') return temporal.slice(1).includes(type);
  if (['year', 'month', 'day'].includes(transform)) return temporal.includes(type);
  const decimal = type.startsWith('decimal(');
  if (transform.startsWith('truncate[')) return ['int', 'long', 'string', 'binary'].includes(type) || decimal;
  // bucket[N]
  return !['boolean', 'float', 'double'].includes(type);
}

/**
 * The table metadata with `fields` as its default partition spec (spec "Partition Evolution", v2).
 * A field equal (same source and transform) to one of an existing spec keeps that field's id, because
 * partition field ids are the field ids of the partition tuples in manifests; other fields get ids
 * after last-partition-id. If an existing spec already has exactly these fields it becomes the default
 * again instead of a duplicate being added. Old data files keep the spec they were written with.
 */
export function applyPartitionSpec(m: TableMetadata, fields: PartitionFieldChange[]): TableMetadata {
  // v1 has no tracked partition field ids (spec: recommended v1 rules differ); we evolve v2 only.
  if (m.formatVersion < 2) throw new TidemarkError('Unsupported', `partition spec evolution of a format v${m.formatVersion} table is not supported (v2 and v3 only)`, { formatVersion: m.formatVersion });
  const schema = m.schemas.find((s) => s.schemaId === m.currentSchemaId)!;
  let lastPartitionId = m.lastPartitionId;
  const names = new Set<string>();
  const newFields: PartitionField[] = fields.map((c) => {
    const source = schema.fields.find((f) => f.name === c.column);
    if (!source) throw new TidemarkError('InvalidInput', `partition spec: no column ${JSON.stringify(c.column)} in the current schema`, { column: c.column });
    if (!TRANSFORM.test(c.transform)) throw new TidemarkError('InvalidInput', `partition spec: unknown transform ${JSON.stringify(c.transform)} for column ${c.column}`, { column: c.column });
    if (typeof source.type !== 'string') throw new TidemarkError('InvalidInput', `partition spec: column ${c.column} is not a primitive`, { column: c.column });
    if (!transformApplies(c.transform, source.type)) {
      throw new TidemarkError('InvalidInput', `partition spec: transform ${c.transform} does not apply to column ${c.column} of type ${source.type}`, { column: c.column });
    }
    const previous = m.partitionSpecs.flatMap((s) => s.fields).find((f) => f.sourceId === source.id && f.transform === c.transform);
    const base = c.transform.replace(/\[.*$/, '');
    const name = c.name ?? previous?.name ?? (c.transform === 'identity' ? c.column : `${c.column}_${base}`);
    if (names.has(name)) throw new TidemarkError('InvalidInput', `partition spec: field name ${JSON.stringify(name)} used twice`, { name });
    // Spec: partition field names must not shadow a schema column other than their identity source.
    if (schema.fields.some((f) => f.name === name && !(c.transform === 'identity' && f.id === source.id))) {
      throw new TidemarkError('InvalidInput', `partition spec: field name ${JSON.stringify(name)} conflicts with a column`, { name });
    }
    names.add(name);
    return { sourceId: source.id, fieldId: previous?.fieldId ?? ++lastPartitionId, name, transform: c.transform };
  });
  const same = (s: PartitionSpec) =>
    s.fields.length === newFields.length && s.fields.every((f, i) => f.sourceId === newFields[i]!.sourceId && f.transform === newFields[i]!.transform && f.name === newFields[i]!.name);
  const existing = m.partitionSpecs.find(same);
  if (existing) return { ...m, defaultSpecId: existing.specId };
  const specId = Math.max(...m.partitionSpecs.map((s) => s.specId)) + 1;
  return { ...m, partitionSpecs: [...m.partitionSpecs, { specId, fields: newFields }], defaultSpecId: specId, lastPartitionId };
}

/** Commits a new default partition spec (metadata only, no snapshot). `fields` is the whole new spec. */
export async function evolvePartitionSpec(root: string, fields: PartitionFieldChange[], env: WriteEnv = defaultWriteEnv) {
  return commitTable(tableRoot(root), async (base) => ({ ...applyPartitionSpec(base.metadata, fields), lastUpdatedMs: Math.max(env.now(), base.metadata.lastUpdatedMs) }), env);
}
