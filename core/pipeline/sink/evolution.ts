import type { SchemaChange as SourceChange, SchemaChangeEvent } from '../../cdc';
import { TidemarkError } from '../../errors';
import type { SchemaChange as LakeChange } from '../../lake/write';
import type { PipelineConfig, SchemaChangeBehavior, SchemaChangeType } from '../config/types';
import { icebergTypeName, type TargetColumn } from './schema';

/**
 * `schema.change.behavior` (Flink CDC semantics) turned into lake schema changes for one target.
 *
 *  - lenient (default): add column → add nullable; drop column → keep it, nullable; rename →
 *    add the new name nullable, keep the old; type change → widen when Iceberg allows it, else keep
 *    the old type; truncate and drop table are not applied.
 *  - try_evolve: apply everything; a change Iceberg cannot express is skipped and reported.
 *  - evolve: apply everything; a change Iceberg cannot express stops the pipeline.
 *  - ignore: apply nothing (rows keep flowing in the target's schema: new columns are not written).
 *  - exception: stop on any schema change except table creation.
 *
 * Planning is idempotent against the target's current columns: a schema change replayed after a
 * crash (the lake's schema commit has no source offset of its own) plans no further change.
 */
export interface EvolutionPlan {
  changes: LakeChange[];
  /** One line per source change saying what happens to the target. */
  notes: string[];
}

const TYPE_OF: Record<SourceChange['kind'], SchemaChangeType | null> = {
  'create-table': 'create.table',
  'drop-table': 'drop.table',
  'truncate-table': 'truncate.table',
  'rename-table': null,
  'add-column': 'add.column',
  'drop-column': 'drop.column',
  'rename-column': 'rename.column',
  'modify-column': 'alter.column.type',
  // Not a Flink CDC schema change type: Flink CDC's MySQL source reports no event for it.
  'alter-primary-key': null,
};

const norm = (t: string) => t.replace(/\s+/g, '');

function canWiden(fromType: string, toType: string): boolean {
  const from = norm(fromType);
  const to = norm(toType);
  if (from === to) return true;
  if (from === 'int' && to === 'long') return true;
  if (from === 'float' && to === 'double') return true;
  const a = /^decimal\((\d+),(\d+)\)$/.exec(from);
  const b = /^decimal\((\d+),(\d+)\)$/.exec(to);
  return Boolean(a && b && a[2] === b[2] && Number(b[1]) >= Number(a[1]));
}

/**
 * The behavior schema changes get: `ignore` when the source sends none (`schema-change.enabled:
 * false`, a Flink CDC source option: its sink then never sees a schema change, and the target keeps
 * its schema), else `schema.change.behavior`. Created tables still get their target, as Flink CDC
 * still sends a table's CreateTableEvent before its first rows.
 */
export function appliedBehavior(config: PipelineConfig): SchemaChangeBehavior {
  return config.source.schemaChangeEnabled ? config.pipeline.schemaChangeBehavior : 'ignore';
}

export function planEvolution(
  behavior: SchemaChangeBehavior,
  allowed: SchemaChangeType[],
  event: SchemaChangeEvent,
  /** `shardColumns`: key columns added by tidemark.key.shard-columns; `keyFromTransform`: the key is a transform's primary-keys. */
  target: { id: string; columns: TargetColumn[]; key: string[]; shardColumns?: string[]; keyFromTransform?: boolean },
): EvolutionPlan {
  const where = `${event.offset.file}:${event.offset.pos}`;
  const cols = target.columns.map((c) => ({ ...c }));
  const has = (n: string) => cols.find((c) => c.name === n);
  const plan: EvolutionPlan = { changes: [], notes: [] };
  const note = (text: string) => plan.notes.push(`${target.id}: ${text}`);
  const cannot = (text: string) => {
    if (behavior === 'evolve') throw new TidemarkError('Unsupported', `${target.id}: ${text} (schema.change.behavior evolve; DDL ${JSON.stringify(event.ddl)} at ${where})`, { table: target.id, ddl: event.ddl });
    note(`${text}: skipped (${behavior})`);
  };
  const add = (name: string, type: string) => {
    if (has(name)) return;
    plan.changes.push({ op: 'add', name, type });
    cols.push({ name, type, required: false });
  };

  for (const change of event.changes) {
    const type = TYPE_OF[change.kind];
    if (change.kind === 'create-table') continue;
    if (change.kind === 'alter-primary-key') {
      primaryKeyChange(change.primaryKey);
      continue;
    }
    if (behavior === 'exception') {
      throw new TidemarkError('Unsupported', `${target.id}: schema change ${change.kind} by ${JSON.stringify(event.ddl)} at ${where}: schema.change.behavior is exception`, { table: target.id, ddl: event.ddl });
    }
    if (behavior === 'ignore') {
      note(`${change.kind} ignored (schema.change.behavior ignore)`);
      continue;
    }
    if (type === null || !allowed.includes(type)) {
      note(`${change.kind} not applied (${type ?? change.kind} is not among the applied schema changes)`);
      continue;
    }
    switch (change.kind) {
      case 'add-column':
        if (has(change.column.name)) note(`column ${change.column.name} exists already`);
        else {
          add(change.column.name, icebergTypeName(change.column.icebergType));
          note(`add column ${change.column.name} ${icebergTypeName(change.column.icebergType)}`);
        }
        break;
      case 'drop-column': {
        const c = has(change.name);
        if (!c) break;
        if (behavior === 'lenient') {
          if (c.required && !target.key.includes(c.name)) plan.changes.push({ op: 'make-optional', name: c.name });
          note(`drop column ${change.name}: kept, nullable (lenient)`);
        } else if (target.key.includes(c.name)) {
          cannot(`cannot drop key column ${c.name}`);
        } else {
          plan.changes.push({ op: 'drop', name: c.name });
          cols.splice(cols.indexOf(c), 1);
          note(`drop column ${change.name}`);
        }
        break;
      }
      case 'rename-column':
        rename(change.from, change.to, null);
        break;
      case 'modify-column': {
        const newType = icebergTypeName(change.column.icebergType);
        if (change.from !== change.column.name) rename(change.from, change.column.name, newType);
        const c = has(change.column.name) ?? (behavior === 'lenient' ? undefined : has(change.from));
        if (!c) break;
        if (norm(c.type) !== norm(newType)) {
          if (canWiden(c.type, newType)) {
            plan.changes.push({ op: 'widen', name: c.name, type: newType });
            note(`column ${c.name}: ${c.type} → ${newType}`);
            c.type = newType;
          } else if (behavior === 'lenient') {
            note(`column ${c.name}: type change ${c.type} → ${newType} kept as ${c.type} (not a widening Iceberg allows; values are converted)`);
          } else {
            cannot(`column ${c.name}: type change ${c.type} → ${newType} is not a widening Iceberg allows`);
          }
        }
        if (change.column.nullable && c.required && !target.key.includes(c.name)) {
          plan.changes.push({ op: 'make-optional', name: c.name });
          c.required = false;
        }
        break;
      }
      case 'drop-table':
        note('drop table: the lake table is kept (not applied)');
        break;
      case 'truncate-table':
        note('truncate table: rows of this source are deleted');
        break;
      case 'rename-table':
        note(`rename table to ${change.to.db}.${change.to.table}: the lake table is kept; rows of the new name follow the route rules`);
        break;
    }
  }
  return plan;

  /**
   * ADD / DROP PRIMARY KEY. Flink CDC reports no event for it and its sinks keep the key they were
   * created with; Iceberg identifier fields stay too. That is only safe when the new key is a
   * non-empty subset of the target's key (rows unique by it stay unique by the old key); a wider,
   * different or dropped key would make distinct source rows overwrite each other in the lake, so
   * it stops the pipeline under every behavior rather than lose rows silently.
   */
  function primaryKeyChange(newKey: string[]) {
    const shown = (k: string[]) => `(${k.join(', ')})`;
    if (target.keyFromTransform) {
      note(`primary key now ${shown(newKey)}: the target keeps the transform's primary-keys ${shown(target.key)}`);
      return;
    }
    const shard = new Set(target.shardColumns ?? []);
    const lakeKey = target.key.filter((k) => !shard.has(k));
    const sourceColumns = new Set((event.schemaAfter?.columns ?? []).map((c) => c.name.toLowerCase()));
    const gone = lakeKey.filter((k) => !sourceColumns.has(k.toLowerCase()));
    const wider = newKey.length === 0 || !newKey.every((k) => lakeKey.some((l) => l.toLowerCase() === k.toLowerCase()));
    if (wider || gone.length > 0) {
      const why = gone.length > 0 ? `${gone.join(', ')} ${gone.length > 1 ? 'are' : 'is'} no longer a source column, so new rows could not fill the key` : 'rows unique only by the new key would overwrite each other';
      throw new TidemarkError(
        'Unsupported',
        `${target.id}: primary key of ${event.table.db}.${event.table.table} changed to ${newKey.length ? shown(newKey) : 'none'} by ${JSON.stringify(event.ddl)} at ${where}; the target's identifier fields ${shown(target.key)} cannot follow (${why}): re-create the target table from a new snapshot`,
        { table: target.id, ddl: event.ddl },
      );
    }
    note(`primary key now ${shown(newKey)}: identifier fields ${shown(target.key)} kept (every row stays unique under them)`);
  }

  function rename(from: string, to: string, type: string | null) {
    const old = has(from);
    if (has(to)) return;
    const t = type ?? old?.type ?? 'string';
    if (behavior === 'lenient' || !old) {
      add(to, t);
      note(`rename column ${from} → ${to}: ${to} added nullable${old ? `, ${from} kept` : ''}${behavior === 'lenient' ? ' (lenient)' : ''}`);
    } else if (target.key.includes(from)) {
      cannot(`cannot rename key column ${from}`);
    } else {
      plan.changes.push({ op: 'rename', name: from, newName: to });
      old.name = to;
      note(`rename column ${from} → ${to}`);
    }
  }
}

/** What the configured behavior does with each kind of schema change (for `tidemark plan`). */
export function describeBehavior(behavior: SchemaChangeBehavior, allowed: SchemaChangeType[]): Record<SchemaChangeType, string> {
  const off = (t: SchemaChangeType) => !allowed.includes(t);
  const base: Record<SchemaChangeType, string> = {
    'create.table': 'creates the target table (when the route maps it to a new one)',
    'add.column': 'adds the column, nullable',
    'drop.column': behavior === 'lenient' ? 'keeps the column, made nullable; new rows hold NULL' : 'drops the column',
    'rename.column': behavior === 'lenient' ? 'adds the new name as a nullable column and keeps the old one' : 'renames the column (same field id)',
    'alter.column.type':
      behavior === 'lenient'
        ? 'widens int→long, float→double, decimal precision; any other type change keeps the old type'
        : behavior === 'evolve'
          ? 'widens when Iceberg allows it, else stops the pipeline'
          : 'widens when Iceberg allows it, else skipped and reported',
    'drop.table': 'keeps the lake table',
    'truncate.table': 'deletes the rows of that source table from the target',
  };
  const out = {} as Record<SchemaChangeType, string>;
  for (const [k, v] of Object.entries(base) as [SchemaChangeType, string][]) {
    if (behavior === 'exception' && k !== 'create.table') out[k] = 'stops the pipeline (exception)';
    else if (behavior === 'ignore' && k !== 'create.table') out[k] = 'ignored: the target schema stays as it is';
    else out[k] = off(k) && k !== 'create.table' ? 'not applied (excluded by sink include/exclude.schema.changes or the behavior)' : v;
  }
  return out;
}
