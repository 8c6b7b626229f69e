import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { defaultWriteEnv, publishExclusive, type WriteEnv } from '../../write/commit';
import { listPaimonSchemaIds, parsePaimonSchema, parsePaimonType, type PaimonDataType, type PaimonSchema } from '../schema';
import { assertWritableSchema, assertWritableType, toPaimonJson } from './table-create';

/**
 * Schema evolution of a Paimon table: each ALTER publishes `schema/schema-<N+1>` (exclusive create)
 * with field ids kept, new columns taking highestFieldId + 1, as Java's SchemaManager does. Data
 * files keep their schema id and are read by field id. Refused as Paimon refuses them: renaming,
 * dropping or retyping a partition column, dropping or retyping a primary-key column, adding a
 * NOT NULL column, a type change that is not a widening, making a column NOT NULL, changing an
 * immutable option (bucket, bucket-key, merge-engine, sequence.field, …).
 */

export type PaimonSchemaChange =
  | { op: 'addColumn'; name: string; type: string; comment?: string; after?: string; first?: boolean }
  | { op: 'renameColumn'; from: string; to: string }
  | { op: 'dropColumn'; name: string }
  | { op: 'updateColumnType'; name: string; type: string }
  | { op: 'updateColumnComment'; name: string; comment: string | null }
  | { op: 'updateComment'; comment: string | null }
  | { op: 'setOption'; key: string; value: string }
  | { op: 'removeOption'; key: string };

/** Options a table keeps for life (Java: CoreOptions' immutable options, plus the fixed bucket count this writer needs). */
const IMMUTABLE = new Set(['bucket', 'bucket-key', 'merge-engine', 'sequence.field', 'primary-key', 'partition', 'changelog-producer', 'deletion-vectors.bitmap64']);

const INTEGER_RANK: Record<string, number> = { TINYINT: 1, SMALLINT: 2, INT: 3, BIGINT: 4 };

/** Whether `to` holds every value of `from` (the widenings a sync needs: integers, floats, decimals, strings, timestamps). */
function isWidening(from: PaimonDataType, to: PaimonDataType): boolean {
  const f = from.root;
  const t = to.root;
  if (f in INTEGER_RANK && t in INTEGER_RANK) return INTEGER_RANK[t]! >= INTEGER_RANK[f]!;
  if (f in INTEGER_RANK && t === 'DOUBLE') return f !== 'BIGINT';
  if (f === 'FLOAT' && t === 'DOUBLE') return true;
  if (f === t && f === 'DECIMAL') {
    const fs = from.scale ?? 0;
    const ts = to.scale ?? 0;
    return ts >= fs && (to.precision ?? 10) - ts >= (from.precision ?? 10) - fs;
  }
  const stringy = (x: string) => x === 'CHAR' || x === 'VARCHAR' || x === 'STRING';
  if (stringy(f) && stringy(t)) {
    if (t === 'STRING') return true;
    if (f === 'STRING') return false;
    return (to.precision ?? Number.MAX_SAFE_INTEGER) >= (from.precision ?? Number.MAX_SAFE_INTEGER) && !(f === 'VARCHAR' && t === 'CHAR');
  }
  if ((f === 'TIMESTAMP' || f === 'TIMESTAMP_LTZ') && t === f) return (to.precision ?? 6) >= (from.precision ?? 6);
  if (['BINARY', 'VARBINARY', 'BYTES'].includes(f) && t === 'BYTES') return true;
  return false;
}

type RawField = { id: number; name: string; type: unknown; description?: string };

/**
 * Applies `changes` to the current schema and publishes the next schema file. Returns the new
 * schema. A concurrent ALTER (the id taken) is CommitConflict: re-read and decide again.
 */
export async function evolvePaimonSchema(root: string, changes: PaimonSchemaChange[], env: WriteEnv = defaultWriteEnv): Promise<PaimonSchema> {
  const storage = createLocalStorage();
  const ids = await listPaimonSchemaIds(storage, root);
  const currentId = ids[ids.length - 1]!;
  const currentPath = join(root, 'schema', `schema-${currentId}`);
  const json = JSON.parse(await readFile(currentPath, 'utf8')) as Record<string, unknown>;
  const current = parsePaimonSchema(JSON.stringify(json), currentPath);
  let fields = (json.fields as RawField[]).map((f) => ({ ...f }));
  let highest = current.highestFieldId;
  let primaryKeys = [...current.primaryKeys];
  const partitionKeys = [...current.partitionKeys];
  const options: Record<string, string> = { ...current.options };
  let comment = typeof json.comment === 'string' ? json.comment : undefined;
  const find = (name: string, what: string) => {
    const f = fields.find((x) => x.name === name);
    if (!f) throw new TidemarkError('InvalidInput', `${what}: no column ${name} in schema ${currentId} (columns: ${fields.map((x) => x.name).join(', ')})`);
    return f;
  };
  const refuse = (what: string): never => {
    throw new TidemarkError('Unsupported', `${what} (Paimon refuses this change)`, { feature: 'schema change' });
  };
  const bucketKeyNames = (options['bucket-key'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  changes.forEach((c, i) => {
    const what = `schema change ${i} (${c.op})`;
    switch (c.op) {
      case 'addColumn': {
        if (fields.some((f) => f.name === c.name)) throw new TidemarkError('InvalidInput', `${what}: column ${c.name} already exists`);
        const t = parsePaimonType(c.type, `${what}: column ${c.name}`);
        if (!t.nullable) refuse(`${what}: column ${c.name} cannot be added as NOT NULL`);
        assertWritableType(t, c.name);
        const field: RawField = { id: ++highest, name: c.name, type: c.type.trim(), ...(c.comment !== undefined ? { description: c.comment } : {}) };
        if (c.first) fields = [field, ...fields];
        else if (c.after !== undefined) {
          const at = fields.indexOf(find(c.after, what));
          fields.splice(at + 1, 0, field);
        } else fields.push(field);
        break;
      }
      case 'renameColumn': {
        const f = find(c.from, what);
        if (fields.some((x) => x.name === c.to)) throw new TidemarkError('InvalidInput', `${what}: column ${c.to} already exists`);
        if (partitionKeys.includes(c.from)) refuse(`${what}: cannot rename partition column ${c.from}`);
        if (bucketKeyNames.includes(c.from)) refuse(`${what}: cannot rename bucket-key column ${c.from}`);
        f.name = c.to;
        primaryKeys = primaryKeys.map((k) => (k === c.from ? c.to : k));
        break;
      }
      case 'dropColumn': {
        find(c.name, what);
        if (partitionKeys.includes(c.name)) refuse(`${what}: cannot drop partition column ${c.name}`);
        if (primaryKeys.includes(c.name)) refuse(`${what}: cannot drop primary-key column ${c.name}`);
        if (fields.length === 1) refuse(`${what}: cannot drop the last column ${c.name}`);
        fields = fields.filter((x) => x.name !== c.name);
        break;
      }
      case 'updateColumnType': {
        const f = find(c.name, what);
        if (partitionKeys.includes(c.name)) refuse(`${what}: cannot change the type of partition column ${c.name}`);
        if (primaryKeys.includes(c.name)) refuse(`${what}: cannot change the type of primary-key column ${c.name}`);
        const from = parsePaimonType(f.type, `${what}: column ${c.name}`);
        const to = parsePaimonType(c.type, `${what}: column ${c.name}`);
        if (from.nullable && !to.nullable) refuse(`${what}: cannot make column ${c.name} NOT NULL`);
        if (!isWidening(from, to)) refuse(`${what}: column ${c.name} ${String(f.type)} -> ${c.type} is not a widening`);
        assertWritableType(to, c.name);
        f.type = c.type.trim();
        break;
      }
      case 'updateColumnComment': {
        const f = find(c.name, what);
        if (c.comment === null) delete f.description;
        else f.description = c.comment;
        break;
      }
      case 'updateComment':
        comment = c.comment ?? undefined;
        break;
      case 'setOption':
      case 'removeOption': {
        if (IMMUTABLE.has(c.key) && (c.op === 'removeOption' || options[c.key] !== c.value)) refuse(`${what}: option ${c.key} cannot be changed once the table exists`);
        if (c.op === 'setOption') {
          if (typeof c.value !== 'string') throw new TidemarkError('InvalidInput', `${what}: option ${c.key} must be a string, found ${JSON.stringify(c.value)}`);
          options[c.key] = c.value;
        } else delete options[c.key];
        break;
      }
      default:
        throw new TidemarkError('InvalidInput', `${what}: unknown schema change ${JSON.stringify((c as { op: unknown }).op)}`);
    }
  });
  const next = {
    version: 3,
    id: currentId + 1,
    fields,
    highestFieldId: highest,
    partitionKeys,
    primaryKeys,
    options,
    ...(comment !== undefined ? { comment } : {}),
    timeMillis: env.now(),
  };
  const text = toPaimonJson(next);
  const path = join(root, 'schema', `schema-${currentId + 1}`);
  const schema = parsePaimonSchema(text, path);
  assertWritableSchema(schema, path);
  if (!(await publishExclusive(path, text, env))) {
    throw new TidemarkError('CommitConflict', `another writer altered ${root} at the same time (${path} exists): read the schema again`, { path });
  }
  return schema;
}
