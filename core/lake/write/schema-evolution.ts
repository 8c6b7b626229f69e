import { TidemarkError } from '../../errors';
import { parseDecimalType, type NestedField, type Schema, type TableMetadata } from '../model';
import { commitTable, defaultWriteEnv, tableRoot, type WriteEnv } from './commit';

/**
 * Schema evolution on top-level columns (spec "Schema Evolution"): ids are never reused and
 * last-column-id only grows; renames keep the id so old files still read by id.
 */
export type SchemaChange =
  | { op: 'add'; name: string; type: string; doc?: string; initialDefault?: unknown }
  | { op: 'rename'; name: string; newName: string }
  | { op: 'drop'; name: string }
  | { op: 'make-optional'; name: string }
  | { op: 'widen'; name: string; type: string }
  | { op: 'move'; name: string; after: string | null };

/** Allowed promotions (spec "Schema Evolution"): int→long, float→double, decimal(P,S)→decimal(P2≥P,S). */
function canWiden(from: string, to: string): boolean {
  if (from === to) return true;
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = parseDecimalType(from);
  const b = parseDecimalType(to);
  return Boolean(a && b && a.scale === b.scale && b.precision >= a.precision);
}

export function applySchemaChanges(m: TableMetadata, changes: SchemaChange[]): TableMetadata {
  const current = m.schemas.find((s) => s.schemaId === m.currentSchemaId)!;
  let fields: NestedField[] = current.fields.map((f) => ({ ...f }));
  let lastColumnId = m.lastColumnId;
  const find = (name: string) => {
    const i = fields.findIndex((f) => f.name === name);
    if (i < 0) throw new TidemarkError('InvalidInput', `schema change: no column ${JSON.stringify(name)}`, { column: name });
    return i;
  };
  for (const c of changes) {
    if (c.op === 'add') {
      if (fields.some((f) => f.name === c.name)) throw new TidemarkError('InvalidInput', `schema change: column ${c.name} already exists`, { column: c.name });
      const f: NestedField = { id: ++lastColumnId, name: c.name, type: c.type, required: false };
      if (c.doc) f.doc = c.doc;
      if (c.initialDefault !== undefined) f.initialDefault = c.initialDefault;
      fields.push(f);
    } else if (c.op === 'rename') {
      if (fields.some((f) => f.name === c.newName)) throw new TidemarkError('InvalidInput', `schema change: column ${c.newName} already exists`, { column: c.newName });
      fields[find(c.name)]!.name = c.newName;
    } else if (c.op === 'drop') {
      const f = fields[find(c.name)]!;
      if (current.identifierFieldIds.includes(f.id)) throw new TidemarkError('InvalidInput', `schema change: cannot drop identifier column ${c.name}`, { column: c.name });
      fields = fields.filter((x) => x.id !== f.id);
    } else if (c.op === 'make-optional') {
      fields[find(c.name)]!.required = false;
    } else if (c.op === 'widen') {
      const f = fields[find(c.name)]!;
      if (typeof f.type !== 'string' || !canWiden(f.type, c.type)) {
        throw new TidemarkError('InvalidInput', `schema change: cannot change ${c.name} from ${JSON.stringify(f.type)} to ${c.type}`, { column: c.name });
      }
      f.type = c.type;
    } else if (c.op === 'move') {
      const f = fields[find(c.name)]!;
      fields = fields.filter((x) => x.id !== f.id);
      const at = c.after === null ? 0 : find(c.after) + 1;
      fields.splice(at, 0, f);
    }
  }
  const schemaId = Math.max(...m.schemas.map((s) => s.schemaId)) + 1;
  const schema: Schema = { type: 'struct', schemaId, identifierFieldIds: current.identifierFieldIds, fields };
  return { ...m, schemas: [...m.schemas, schema], currentSchemaId: schemaId, lastColumnId };
}

/** Commits a schema change (metadata only, no snapshot). */
export async function evolveSchema(root: string, changes: SchemaChange[], env: WriteEnv = defaultWriteEnv) {
  return commitTable(tableRoot(root), async (base) => ({ ...applySchemaChanges(base.metadata, changes), lastUpdatedMs: Math.max(env.now(), base.metadata.lastUpdatedMs) }), env);
}

/** Creates or moves a branch or tag (spec "Snapshot References"). */
export async function setRef(root: string, name: string, ref: { snapshotId: bigint; type: 'branch' | 'tag' }, env: WriteEnv = defaultWriteEnv) {
  return commitTable(tableRoot(root), async (base) => {
    if (!base.metadata.snapshots.some((s) => s.snapshotId === ref.snapshotId)) {
      throw new TidemarkError('NotFound', `snapshot ${ref.snapshotId} not found`, { snapshotId: ref.snapshotId.toString() });
    }
    const m = base.metadata;
    return { ...m, lastUpdatedMs: Math.max(env.now(), m.lastUpdatedMs), refs: { ...m.refs, [name]: { snapshotId: ref.snapshotId, type: ref.type } }, ...(name === 'main' ? { currentSnapshotId: ref.snapshotId } : {}) };
  }, env);
}
