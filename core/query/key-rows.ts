/**
 * The live rows of one Iceberg table version whose key columns equal given texts, read lazily for
 * key history: the plan keeps the files whose column bounds admit the key, row-group statistics keep
 * the row groups, only the key columns of those are decoded (through the engine's row-group cache,
 * so the versions of a history that share a file decode it once), and only the matched rows are
 * checked against the deletes the plan assigns to their file and read whole. No SQL view per
 * snapshot, no DuckDB table.
 *
 * The match is the one key history's SQL made (`CAST(column AS VARCHAR) = text`): it is answered
 * here for int, long and string key columns, whose canonical values print as DuckDB prints them;
 * other types return null and the caller keeps the SQL path.
 */
import { DeletionVectorReader, isDeletionVector } from '../lake';
import { TidemarkError } from '../errors';
import { FILE_CONTENT, type NestedField, type Schema, type TableMetadata } from '../lake';
import type { ScanFilter } from '../lake';
import type { PlannedDataFile, ScanPlan } from '../lake';
import { selectSnapshot, snapshotSchema, type LoadedTable } from '../lake';
import { convertArrowData } from '../lake';
import type { QueryEngine } from './engine';
import type { Data } from 'apache-arrow';
import { columnKeys, equalityFieldsOf, fieldsById, integerKeys, normalizeKey, readWhole, tupleKeys } from './pages/delete-index';
import { absentFieldValue, readFileValues } from './pages/file-values';
import { loadDeletionVectorPositions } from './deletion-vectors';
import type { ColumnChunks, RowGroupCache } from './pages/row-group-cache';
import { selectRowGroups, type ColumnPredicate } from './row-groups';

const POS_FILE_PATH = 2147483546;
const POS_POS = 2147483545;

/** Key column types whose canonical value's text equals DuckDB's VARCHAR cast of it. */
const TEXT_EXACT = new Set(['int', 'long', 'string']);

export interface KeyRows {
  /** The version's schema fields, in order; each row holds one value per field. */
  fields: NestedField[];
  rows: unknown[][];
  /** Values of the `extra` fields asked for (e.g. v3 `_row_id`), one array per field, aligned with rows. */
  extra: unknown[][];
}

/**
 * Live rows of snapshot `snapshotId` whose columns (by name, in the snapshot's schema) equal the
 * texts of `key`; null when a key column's type is not answered here (see above). `prune` gives the
 * file-pruning predicates of the key in the snapshot's schema (table-source.ts keyPredicates).
 */
export async function readKeyRows(engine: QueryEngine, table: LoadedTable, snapshotId: bigint, key: Record<string, string>, prune: (schema: Schema) => ScanFilter, extra: NestedField[] = []): Promise<KeyRows | null> {
  // The snapshot's schema from the metadata: planning is left to the filtered plan below.
  const schema = snapshotSchema(table.metadata, selectSnapshot(table.metadata, { snapshotId }), { snapshotId });
  const keyFields: { field: NestedField; text: string }[] = [];
  for (const [name, text] of Object.entries(key)) {
    const field = schema.fields.find((f) => f.name === name);
    if (!field || typeof field.type !== 'string' || !TEXT_EXACT.has(field.type)) return null;
    keyFields.push({ field, text });
  }
  const filter = prune(schema);
  const plan = await engine.plan(table, filter.length ? { snapshotId, filter } : { snapshotId });
  const cache = engine.lazy.cache;
  const rows: unknown[][] = [];
  const extraValues: unknown[][] = extra.map(() => []);
  for (const f of plan.files) {
    const positions = await matchingPositions(cache, plan.table.metadata, f, keyFields);
    if (positions.length === 0) continue;
    const live = await liveOf(cache, plan, f, positions);
    const kept = positions.filter((_p, i) => live[i]);
    if (kept.length === 0) continue;
    const values = await readFileValues(cache, plan.table.metadata, f, [...schema.fields, ...extra], kept);
    const own = values.slice(0, schema.fields.length);
    for (let i = 0; i < kept.length; i++) rows.push(own.map((column) => column[i]));
    extra.forEach((_e, k) => extraValues[k]!.push(...values[schema.fields.length + k]!));
  }
  return { fields: schema.fields, rows, extra: extraValues };
}

/** Row positions (ascending) of a data file whose key columns print as the key's texts. */
async function matchingPositions(cache: RowGroupCache, metadata: TableMetadata, f: PlannedDataFile, key: { field: NestedField; text: string }[]): Promise<number[]> {
  const file = await cache.open(f.path, f.fileSizeInBytes, 'data file');
  const names = key.map((k) => file.columns.byFieldId.get(k.field.id) ?? null);
  const predicates: ColumnPredicate[] = [];
  key.forEach((k, i) => {
    const n = names[i];
    if (n && (k.field.type === 'int' || k.field.type === 'long') && /^-?\d+$/.test(k.text)) predicates.push({ column: n, op: '=', value: BigInt(k.text) });
  });
  const selection = selectRowGroups(file.footer, predicates);
  const out: number[] = [];
  let start = 0;
  const starts = file.footer.rowGroups.map((rg) => {
    const s = start;
    start += rg.numRows;
    return s;
  });
  const groups = selection ? selection.indexes : file.footer.rowGroups.map((_rg, g) => g);
  const present = [...new Set(names.filter((n): n is string => n !== null))];
  for (const g of groups) {
    const rowCount = file.footer.rowGroups[g]!.numRows;
    const read: Map<string, ColumnChunks> = present.length ? await cache.read(file, g, present) : new Map();
    const hit = new Uint8Array(rowCount).fill(1);
    for (const [i, k] of key.entries()) {
      const n = names[i];
      if (n === null || n === undefined) {
        // Every row of the file has the partition value or the initial-default.
        const value = absentFieldValue(metadata, f, k.field);
        if (value === null || value === undefined || String(value) !== k.text) hit.fill(0);
        continue;
      }
      const chunks = read.get(n)!.chunks;
      if ((k.field.type === 'int' || k.field.type === 'long') && chunks.every((d) => d.values instanceof BigInt64Array || d.values instanceof Int32Array)) {
        // Integers print as their decimal digits: the text must be exactly that. Compared on the
        // raw words, without converting the column (it is read again for every snapshot).
        const wanted = /^(0|-?[1-9]\d*)$/.test(k.text) ? BigInt(k.text) : null;
        matchIntegers(chunks, wanted, hit);
      } else {
        let r = 0;
        for (const d of chunks) {
          for (const v of convertArrowData(d, k.field.type, `${f.path}: ${k.field.name}`)) {
            if (hit[r] && (v === null || String(v) !== k.text)) hit[r] = 0;
            r++;
          }
        }
      }
    }
    for (let r = 0; r < rowCount; r++) if (hit[r]) out.push(starts[g]! + r);
  }
  return out;
}

/** Clears `hit` for rows of int/long chunks (BigInt64Array or Int32Array values) not equal to `wanted`. */
function matchIntegers(chunks: Data[], wanted: bigint | null, hit: Uint8Array) {
  let r = 0;
  for (const d of chunks) {
    const values = d.values as BigInt64Array | Int32Array;
    const inRange = wanted !== null && (values instanceof BigInt64Array ? BigInt.asIntN(64, wanted) === wanted : wanted >= -2147483648n && wanted <= 2147483647n);
    if (!inRange) {
      hit.fill(0, r, r + d.length);
      r += d.length;
      continue;
    }
    const valid = (i: number) => d.nullCount === 0 || d.getValid(i);
    if (values instanceof BigInt64Array) {
      const words = new Int32Array(values.buffer, values.byteOffset, d.length * 2);
      const lo = Number(BigInt.asIntN(32, wanted));
      const hi = Number(BigInt.asIntN(32, wanted >> 32n));
      for (let i = 0; i < d.length; i++, r++) if (hit[r] && !(words[2 * i] === lo && words[2 * i + 1] === hi && valid(i))) hit[r] = 0;
    } else {
      const w = Number(wanted);
      for (let i = 0; i < d.length; i++, r++) if (hit[r] && !(values[i] === w && valid(i))) hit[r] = 0;
    }
  }
}

/** Whether each row (positions ascending) survives the delete files the plan assigns to its file. */
async function liveOf(cache: RowGroupCache, plan: ScanPlan, f: PlannedDataFile, positions: number[]): Promise<boolean[]> {
  const live = positions.map(() => true);
  const metadata: TableMetadata = plan.table.metadata;
  const allFields = fieldsById(metadata);
  for (const d of f.deletes) {
    if (isDeletionVector(d)) {
      // A v3 deletion vector: the positions of its one data file (a Puffin blob).
      const { byFile } = await loadDeletionVectorPositions(new DeletionVectorReader(cache.storage), plan, d);
      const dead = new Set(byFile.get(f.path) ?? []);
      positions.forEach((p, i) => dead.has(p) && (live[i] = false));
      continue;
    }
    if (d.content === FILE_CONTENT.positionDeletes) {
      const { columns } = await readWhole(cache, d, 'position delete file', [
        { id: POS_FILE_PATH, fallback: 'file_path' },
        { id: POS_POS, fallback: 'pos' },
      ]);
      const [paths, pos] = columns;
      if (!paths || !pos) throw new TidemarkError('DataInvalid', `${d.path}: expected position delete columns file_path (2147483546) and pos (2147483545)`, { path: d.path });
      const pathValues = paths.chunks.flatMap((c) => convertArrowData(c, 'string', `${d.path}: file_path`));
      const posValues = columnKeys(pos.chunks, { id: POS_POS, name: 'pos', required: true, type: 'long' }, `${d.path}: pos`);
      const wanted = new Map(positions.map((p, i) => [p, i]));
      const resolved = new Map<string, string>();
      for (let i = 0; i < pathValues.length; i++) {
        const i0 = wanted.get(Number(posValues[i]));
        if (i0 === undefined) continue;
        const written = String(pathValues[i]);
        let local = resolved.get(written);
        if (local === undefined) resolved.set(written, (local = plan.table.resolve(written)));
        if (local === f.path) live[i0] = false;
      }
      continue;
    }
    const fields = equalityFieldsOf(d, allFields);
    const ids = fields.map((field) => field.id);
    // The rows' keys, normalized as the delete index normalizes them.
    const rowValues = await readFileValues(cache, metadata, f, fields, positions);
    const rowKeys = tupleKeys(rowValues.map((column) => column.map(normalizeKey)), positions.length);
    const { rows, columns } = await readWhole(cache, d, 'equality delete file', fields.map((x) => ({ id: x.id, fallback: x.name })));
    columns.forEach((c, k) => {
      if (!c) throw new TidemarkError('DataInvalid', `${d.path}: equality delete file lacks column with field id ${ids[k]}`, { path: d.path, fieldId: ids[k]! });
    });
    const ints = fields.length === 1 ? integerKeys(columns[0]!.chunks, fields[0]!) : null;
    const deleted: ArrayLike<unknown> = ints ?? tupleKeys(columns.map((c, k) => columnKeys(c!.chunks, fields[k]!, `${d.path}: ${fields[k]!.name}`)), rows);
    rowKeys.forEach((k, i) => {
      if (!live[i]) return;
      for (let j = 0; j < deleted.length; j++) {
        if (deleted[j] === k) {
          live[i] = false;
          return;
        }
      }
    });
  }
  return live;
}
