import { isAbsolute, resolve } from 'node:path';
import { SCHEMA_CHANGE_TYPES } from './keys';
import { getList, getString, lineOfKey, type Block, type ReadContext } from './read';
import type { PartitionField, SchemaChangeBehavior, SchemaChangeType } from './types';
import { expandSchemaChangeTypes, parsePartitionKey } from './values';

/**
 * What every sink block shares: the schema change types the lake applies
 * (`include.schema.changes` / `exclude.schema.changes` and the behavior's defaults) and
 * `partition.key` (`db.table:col,col;db.table2:col`).
 */
export function readSchemaChanges(b: Block, behavior: SchemaChangeBehavior, ctx: ReadContext): SchemaChangeType[] {
  const expand = (key: string): string[] | null => {
    const list = getList(b, key);
    if (list === null) return null;
    const parsed = expandSchemaChangeTypes(list);
    if ('error' in parsed) {
      ctx.issues.error(lineOfKey(b, key), `sink.${key}`, parsed.error);
      return null;
    }
    return parsed.value;
  };
  // Flink CDC: lenient mode leaves out truncate and drop table unless exclude says otherwise.
  const include = expand('include.schema.changes') ?? [...SCHEMA_CHANGE_TYPES];
  const exclude = expand('exclude.schema.changes') ?? (behavior === 'lenient' ? ['drop.table', 'truncate.table'] : []);
  return SCHEMA_CHANGE_TYPES.filter((t) => include.includes(t) && !exclude.includes(t));
}

export function readPartitionKeys(b: Block, ctx: ReadContext): Record<string, PartitionField[]> {
  const pk = getString(b, 'partition.key');
  if (pk === null) return {};
  const parsed = parsePartitionKey(pk);
  if ('error' in parsed) {
    ctx.issues.error(lineOfKey(b, 'partition.key'), 'sink.partition.key', parsed.error);
    return {};
  }
  return parsed.value;
}

/** A local warehouse folder: `file://` turned into a path, a relative path resolved against `baseDir`; `what` names the other schemes' refusal. */
export function readLocalWarehouse(b: Block, ctx: ReadContext, baseDir: string | undefined, refusal: string): string {
  let warehouse = getString(b, 'catalog.properties.warehouse') ?? '';
  if (warehouse.startsWith('file://')) warehouse = decodeURIComponent(warehouse.slice('file://'.length));
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(warehouse);
  if (scheme) {
    ctx.issues.error(lineOfKey(b, 'catalog.properties.warehouse'), 'sink.catalog.properties.warehouse', `warehouse ${JSON.stringify(warehouse)} uses ${scheme[1]}://; ${refusal}`, 'Unsupported');
  } else if (warehouse !== '' && !isAbsolute(warehouse) && baseDir !== undefined) {
    warehouse = resolve(baseDir, warehouse);
  }
  return warehouse;
}
