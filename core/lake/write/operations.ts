import { TidemarkError } from '../../errors';
import type { DataFile, NestedField, PartitionSpec, Schema, TableMetadata } from '../model';
import { readDataFileRows, scanRows, type Row } from '../row-reader';
import { rowLineageFields } from '../row-lineage';
import { planScan } from '../scan-plan';
import type { LoadedTable } from '../table';
import { valueKey } from '../values';
import { defaultWriteEnv, publishFirstVersion, tableRoot, writeStorage, type WriteEnv } from './commit';
import { rowsToColumnBatch, selectColumnBatch, type ColumnBatch } from './column-batch';
import { writeDataFiles, writeEqualityDeleteFile, writePositionDeleteFile, type FileWriteContext } from './data-files';
import { parquetCodec } from './parquet-write';
import { commitSnapshot, commitSnapshots, type CommitOptions, type MakeChange } from './snapshot-commit';

/**
 * Table operations on local disk or an object store (WriteEnv.storage; Node only), each one commit (spec v2). Rows are canonical row
 * values (values.ts) keyed by column name.
 */
export interface CreateTableOptions {
  /** Top-level columns; ids are assigned 1..n in order. */
  columns: { name: string; type: string; required?: boolean; doc?: string }[];
  /** Column names forming the row identity (upserts and key deletes use them). */
  identifierColumns?: string[];
  /** Partition fields: transform is identity, year, month, day, hour, bucket[N], truncate[W]. */
  partitionBy?: { column: string; transform: string; name?: string }[];
  /**
   * Table properties. `format-version` ("2", the default, or "3") is not stored: as in Iceberg's
   * catalogs it picks the table's format version at creation. v3 adds row lineage; many readers
   * (Athena among them) cannot read v3 yet, hence opt-in.
   */
  properties?: Record<string, string>;
  env?: WriteEnv;
}

/** The format version asked for by the `format-version` property: 2 (default) or 3. */
function formatVersionOf(properties: Record<string, string> | undefined): 2 | 3 {
  const v = properties?.['format-version'];
  if (v === undefined || v.trim() === '2') return 2;
  if (v.trim() === '3') return 3;
  throw new TidemarkError('InvalidInput', `table property format-version: expected 2 or 3, found ${JSON.stringify(v)}`, { property: 'format-version', value: v });
}

export async function createTable(root: string, options: CreateTableOptions): Promise<TableMetadata> {
  const env = options.env ?? defaultWriteEnv;
  const metadata = newTableMetadata(tableRoot(root), options);
  await publishFirstVersion(metadata.location, metadata, env);
  return metadata;
}

/** The first version of a table at `location` (no snapshot): what createTable publishes. */
export function newTableMetadata(location: string, options: CreateTableOptions): TableMetadata {
  const env = options.env ?? defaultWriteEnv;
  const fields: NestedField[] = options.columns.map((c, i) => ({ id: i + 1, name: c.name, type: c.type, required: c.required ?? false, ...(c.doc ? { doc: c.doc } : {}) }));
  const idOf = (name: string) => {
    const f = fields.find((x) => x.name === name);
    if (!f) throw new TidemarkError('InvalidInput', `unknown column ${JSON.stringify(name)}`, { column: name });
    return f;
  };
  const identifierFieldIds = (options.identifierColumns ?? []).map((n) => {
    const f = idOf(n);
    // Spec: identifier fields must be required primitives.
    if (!f.required) throw new TidemarkError('InvalidInput', `identifier column ${n} must be required`, { column: n });
    return f.id;
  });
  const spec: PartitionSpec = {
    specId: 0,
    fields: (options.partitionBy ?? []).map((p, i) => {
      const f = idOf(p.column);
      const base = p.transform.replace(/\[.*$/, '');
      return { sourceId: f.id, fieldId: 1000 + i, transform: p.transform, name: p.name ?? (p.transform === 'identity' ? p.column : `${p.column}_${base}`) };
    }),
  };
  const now = env.now();
  const formatVersion = formatVersionOf(options.properties);
  const { 'format-version': _version, ...properties } = options.properties ?? {};
  const metadata: TableMetadata = {
    formatVersion,
    nextRowId: formatVersion === 3 ? 0n : null,
    tableUuid: env.uuid(),
    location,
    lastSequenceNumber: 0n,
    lastUpdatedMs: now,
    lastColumnId: fields.length,
    schemas: [{ type: 'struct', schemaId: 0, identifierFieldIds, fields }],
    currentSchemaId: 0,
    partitionSpecs: [spec],
    defaultSpecId: 0,
    lastPartitionId: Math.max(999, ...spec.fields.map((f) => f.fieldId)),
    sortOrders: [{ orderId: 0, fields: [] }],
    defaultSortOrderId: 0,
    properties: { 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', ...properties },
    currentSnapshotId: null,
    snapshots: [],
    snapshotLog: [],
    metadataLog: [],
    refs: {},
  };
  return metadata;
}

export function currentSchema(m: TableMetadata): Schema {
  return m.schemas.find((s) => s.schemaId === m.currentSchemaId)!;
}

function fileCtx(root: string, base: LoadedTable, env: WriteEnv, spec?: PartitionSpec): FileWriteContext {
  const m = base.metadata;
  return { root, schema: currentSchema(m), spec: spec ?? m.partitionSpecs.find((s) => s.specId === m.defaultSpecId)!, env, codec: parquetCodec(m) };
}

export interface WriteOptions extends CommitOptions {
  summary?: Record<string, string>;
}

/** Appends rows as new data files (operation `append`). */
export async function appendRows(root: string, rows: Row[], options: WriteOptions = {}) {
  const env = options.env ?? defaultWriteEnv;
  return commitSnapshot(tableRoot(root), async (base) => ({
    operation: 'append',
    addedDataFiles: await writeDataFiles(fileCtx(tableRoot(root), base, env), rows),
    summary: options.summary,
  }), options);
}

/**
 * Adds data files written beforehand (rolling-file.ts) in one commit (operation `append`): the
 * files become visible together with `options.summary`, atomically.
 */
export async function appendDataFiles(root: string, files: DataFile[], options: WriteOptions = {}) {
  return commitSnapshot(tableRoot(root), async () => ({ operation: 'append', addedDataFiles: files, summary: options.summary }), options);
}

/** The unpartitioned spec (added if missing) under which global equality deletes are written. */
function unpartitionedSpec(m: TableMetadata): { spec: PartitionSpec; specs: PartitionSpec[] } {
  const found = m.partitionSpecs.find((s) => s.fields.length === 0);
  if (found) return { spec: found, specs: m.partitionSpecs };
  const spec = { specId: Math.max(...m.partitionSpecs.map((s) => s.specId)) + 1, fields: [] };
  return { spec, specs: [...m.partitionSpecs, spec] };
}

export interface RowDelta {
  /** New rows, no deletes. */
  inserts?: Row[];
  /** Rows replacing any live row with the same identifier values (equality delete + insert). */
  upserts?: Row[];
  /** Identifier values of rows to delete (equality deletes). */
  deleteKeys?: Row[];
  /** Rows to delete by position: the data file path (as in the manifest) and 0-based row number. */
  positionDeletes?: { filePath: string; pos: number }[];
}

/** A row delta in column form (see ColumnBatch): what the sync pipeline's sink worker commits. */
export interface ColumnDelta {
  /** Rows to add: inserts and upserts (the data file rows). */
  added?: ColumnBatch;
  /**
   * Identifier values to delete with equality deletes: the upserted keys and the key deletes.
   * Only the identifier columns are read; a key given twice is written once.
   */
  deleteKeys?: ColumnBatch;
  /** Rows to delete by position: the data file path (as in the manifest) and 0-based row number. */
  positionDeletes?: { filePath: string; pos: number }[];
}

/**
 * Row-level changes in one commit (operation `overwrite`, or `delete` when nothing is added).
 * Equality deletes are written on the identifier fields, unpartitioned so they reach every partition,
 * with this commit's sequence number: they delete older rows but not the rows added alongside.
 */
export async function applyRowDelta(root: string, delta: RowDelta, options: WriteOptions = {}) {
  return commitColumnDelta(root, (schema, keyNames) => ({
    added: rowsToColumnBatch([...(delta.inserts ?? []), ...(delta.upserts ?? [])], schema.fields.map((f) => f.name)),
    deleteKeys: rowsToColumnBatch([...(delta.upserts ?? []), ...(delta.deleteKeys ?? [])], keyNames),
    positionDeletes: delta.positionDeletes,
  }), options);
}

/** applyRowDelta with the rows as column batches (same commit, same files). */
export async function applyColumnDelta(root: string, delta: ColumnDelta, options: WriteOptions = {}) {
  return commitColumnDelta(root, () => delta, options);
}

/** Positions (in order) of the first row of each distinct key of `batch` over the `names` columns. */
function distinctKeyRows(batch: ColumnBatch, names: string[]): number[] {
  const out: number[] = [];
  const columns = names.map((n) => batch.columns[n]);
  const seen = new Set<string | number | bigint>();
  for (let i = 0; i < batch.length; i++) {
    let key: string | number | bigint;
    if (columns.length === 1) {
      // One column of one lake type: integers are their own set key (no text built per row).
      const v = columns[0]?.[i] ?? null;
      key = typeof v === 'number' || typeof v === 'bigint' ? v : valueKey(v);
    } else key = valueKey(columns.map((c) => c?.[i] ?? null));
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(i);
  }
  return out;
}

/**
 * Adds data files written beforehand (as appendDataFiles), then applies `delta` after them (as
 * applyColumnDelta): two snapshots published in one metadata version, so that a reader — or a sync
 * resuming after a crash — sees both or neither. The delta's equality deletes have a later sequence
 * number than the files' rows, so they update and delete rows of those files too. Both snapshots
 * carry `options.summary`.
 */
export async function appendDataFilesThenDelta(root: string, files: DataFile[], delta: ColumnDelta, options: WriteOptions = {}) {
  const abs = tableRoot(root);
  const append: MakeChange = async () => ({ operation: 'append', addedDataFiles: files, summary: options.summary });
  return commitSnapshots(abs, [append, columnDeltaChange(abs, () => delta, options)], options);
}

async function commitColumnDelta(root: string, deltaOf: (schema: Schema, keyNames: string[]) => ColumnDelta, options: WriteOptions) {
  const abs = tableRoot(root);
  return commitSnapshot(abs, columnDeltaChange(abs, deltaOf, options), options);
}

/** The snapshot change of a column delta on the table at `abs` (its delete and data files written). */
function columnDeltaChange(abs: string, deltaOf: (schema: Schema, keyNames: string[]) => ColumnDelta, options: WriteOptions): MakeChange {
  const env = options.env ?? defaultWriteEnv;
  return async (base) => {
    const m = base.metadata;
    const schema = currentSchema(m);
    const keyNames = schema.identifierFieldIds.map((id) => schema.fields.find((f) => f.id === id)!.name);
    const delta = deltaOf(schema, keyNames);
    const keyRows = delta.deleteKeys?.length ?? 0;
    const added = delta.added?.length ?? 0;
    const deleteFiles: { file: Awaited<ReturnType<typeof writeEqualityDeleteFile>>; specId: number }[] = [];
    let specs = m.partitionSpecs;
    if (keyRows > 0) {
      if (schema.identifierFieldIds.length === 0) throw new TidemarkError('InvalidInput', `table ${abs} has no identifier fields: upserts and key deletes need them`, { path: abs });
      const keys = selectColumnBatch(delta.deleteKeys!, distinctKeyRows(delta.deleteKeys!, keyNames), keyNames);
      const un = unpartitionedSpec(m);
      specs = un.specs;
      deleteFiles.push({ file: await writeEqualityDeleteFile(fileCtx(abs, base, env, un.spec), schema.identifierFieldIds, keys), specId: un.spec.specId });
    }
    if (delta.positionDeletes?.length) {
      const plan = await planScan(writeStorage(env), base);
      const byFile = new Map<string, { filePath: string; pos: number }[]>();
      for (const d of delta.positionDeletes) byFile.set(d.filePath, [...(byFile.get(d.filePath) ?? []), d]);
      for (const [filePath, dels] of byFile) {
        const target = plan.files.find((f) => f.originalPath === filePath);
        if (!target) throw new TidemarkError('NotFound', `position delete names a data file that is not live: ${filePath}`, { path: filePath });
        const spec = specs.find((s) => s.specId === target.specId)!;
        deleteFiles.push({ file: await writePositionDeleteFile(fileCtx(abs, base, env, spec), target.partition, dels), specId: target.specId });
      }
    }
    return {
      operation: added > 0 ? 'overwrite' : 'delete',
      addedDataFiles: added > 0 ? await writeDataFiles(fileCtx(abs, base, env), delta.added!) : [],
      addedDeleteFiles: deleteFiles,
      partitionSpecs: specs,
      summary: options.summary,
    };
  };
}

/** Replaces the whole table content with `rows` (operation `overwrite`). */
export async function overwriteRows(root: string, rows: Row[], options: WriteOptions = {}) {
  const env = options.env ?? defaultWriteEnv;
  const abs = tableRoot(root);
  return commitSnapshot(abs, async (base) => ({ operation: 'overwrite', removeAll: true, addedDataFiles: await writeDataFiles(fileCtx(abs, base, env), rows), summary: options.summary }), options);
}

/**
 * Compaction (spec operation `replace`): reads the live rows (deletes applied) and rewrites them
 * into one file per partition, removing every old data and delete file. Row content is unchanged;
 * in a v3 table so is each row's lineage (materialized, see compact.ts).
 */
export async function rewriteDataFiles(root: string, options: WriteOptions = {}) {
  const env = options.env ?? defaultWriteEnv;
  const abs = tableRoot(root);
  return commitSnapshot(abs, async (base) => {
    const storage = writeStorage(env);
    const plan = await planScan(storage, base);
    const lineage = rowLineageFields(base.metadata);
    const rows: Row[] = [];
    for (const f of plan.files) rows.push(...(await readDataFileRows(storage, plan, f, undefined, lineage)));
    return { operation: 'replace', removeAll: true, addedDataFiles: await writeDataFiles({ ...fileCtx(abs, base, env), metadataFields: lineage }, rows), summary: options.summary };
  }, options);
}

export { scanRows };
