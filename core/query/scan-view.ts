/**
 * Merge-on-read in SQL: turns a lake scan plan into a DuckDB view. Each data file is loaded once
 * (projected columns only) and tagged with its file index, row position and data sequence number;
 * delete files are loaded into tables; the view anti-joins them under the spec's rules:
 *  - position deletes: same data file (by the path the writer recorded), data seq ≤ delete seq;
 *  - equality deletes: equal key columns (NULL matches NULL: IS NOT DISTINCT FROM), data seq < delete
 *    seq, and the same partition unless the delete file's spec is unpartitioned.
 * Columns are carried as `c<fieldId>` so renames and promotions between files do not matter;
 * the view exposes them under the snapshot schema's names.
 */
import { checkDataFileFormat } from '../lake';
import { DeletionVectorReader, deleteFileKey, isDeletionVector } from '../lake';
import { FILE_CONTENT, isStruct, type NestedField, type Schema, type TableMetadata } from '../lake';
import { findColumn, isRowLineageField, rowLineageFields } from '../lake';
import type { PlannedFile, ScanPlan, TimeUnit } from '../lake';
import { valueKey } from '../lake';
import type { StoragePort } from '../storage';
import { quoteIdent, quoteLiteral, type SqlSession } from './duckdb';
import { RangedParquetFile, type ParquetApi, type ParquetColumn } from './parquet';
import { filePositionSql, selectRowGroups, type ColumnPredicate, type RowGroupSelection } from './row-groups';
import { duckDbType, sqlLiteral, uuidFromBlob } from './sql-types';
import { deletionVectorSelect } from './deletion-vectors';
import { rowLineageSql } from './row-lineage-sql';
import { variantColumnsToJson } from './variant-columns';

/** Reserved field ids of a position delete file's columns (spec: file_path, pos). */
export const POS_FILE_PATH = 2147483546;
export const POS_POS = 2147483545;

export interface LoadedFile {
  table: string;
  /** Field id → column name in the DuckDB table (only loaded columns). */
  columns: Map<number, string>;
  /** Top-level columns with struct children, to project nested fields by id. */
  tree: ParquetColumn[];
  /** The row groups loaded when statistics pruned some (null: the whole file). */
  rowGroups: RowGroupSelection | null;
}

/** A predicate on a field, by id: pruned against row-group statistics where the file has them. */
export interface FieldPredicate {
  fieldId: number;
  op: '=' | '!=' | '<' | '<=' | '>' | '>=';
  value: number | bigint;
  /** A timestamp in this unit: files storing the column otherwise are not pruned on it. */
  timeUnit?: TimeUnit;
}

/**
 * Names of DuckDB objects are unique per process: engines in one process share the DuckDB-wasm
 * instance (and so its catalog), each with its own connection.
 */
let objectCounter = 0;
export function nextObjectName(prefix: string): string {
  return `${prefix}_${++objectCounter}`;
}

/**
 * Loads Parquet files into DuckDB tables once per (path, size, columns, pruning predicates): the
 * explorer asks many questions of the same snapshot, and consecutive snapshots share most files.
 */
export class FileLoader {
  private readonly loaded = new Map<string, Promise<LoadedFile>>();
  private readonly opened = new Map<string, Promise<RangedParquetFile>>();
  private readonly vectors: DeletionVectorReader;
  private readonly vectorTables = new Map<string, Promise<string>>();
  /** Keys loaded by `load` (never dropped) and the counts of `acquire` not yet released. */
  private readonly pinned = new Set<string>();
  private readonly refs = new Map<string, number>();

  constructor(
    private readonly session: SqlSession,
    private readonly parquet: ParquetApi,
    private readonly storage: StoragePort,
  ) {
    this.vectors = new DeletionVectorReader(storage);
  }

  /** A v3 deletion vector loaded once, as a SELECT of (file_path, pos, _seq) (deletion-vectors.ts). */
  loadDeletionVector(d: PlannedFile): Promise<string> {
    const key = `${deleteFileKey(d)}\u0000${d.sequenceNumber}`;
    let p = this.vectorTables.get(key);
    if (!p) {
      p = deletionVectorSelect(this.session, this.vectors, d, nextObjectName('tm_dv'));
      this.vectorTables.set(key, p);
      p.catch(() => this.vectorTables.delete(key));
    }
    return p;
  }

  /**
   * Loads the columns with the given field ids (those present in the file). With `prune`, only the
   * row groups whose statistics admit the predicates are read: the table may then lack rows that do
   * not match, so the caller must apply the same predicates. Columns of `variantIds` (v3 variant
   * fields) are loaded as their JSON text (variant-columns.ts).
   */
  load(path: string, size: number, fieldIds: number[], what: string, fallbackNames: Map<number, string> = new Map(), prune: FieldPredicate[] = [], groups?: number[], variantIds: number[] = []): Promise<LoadedFile> {
    const key = this.keyOf(path, size, fieldIds, prune, groups, variantIds);
    // Loads through here are kept for the loader's life (lazy views reference them by name).
    this.pinned.add(key);
    return this.loadKeyed(key, path, size, fieldIds, what, fallbackNames, prune, groups, variantIds);
  }

  /** The cache key of a load (see `load`). */
  keyOf(path: string, size: number, fieldIds: number[], prune: FieldPredicate[] = [], groups?: number[], variantIds: number[] = []): string {
    const ids = [...new Set(fieldIds)].sort((a, b) => a - b);
    const pruneKey = prune.map((p) => `${p.fieldId}${p.op}${p.value}`).join('&');
    return `${path}\u0000${size}\u0000${ids.join(',')}\u0000${pruneKey}\u0000${groups?.join(',') ?? ''}\u0000${variantIds.join(',')}`;
  }

  /**
   * `load`, counted: the table stays until as many `release`s of its key (unless a plain `load`
   * pinned it). For views that are dropped again (the engine's masked versions).
   */
  acquire(path: string, size: number, fieldIds: number[], what: string, prune: FieldPredicate[] = [], variantIds: number[] = []): Promise<LoadedFile> {
    const key = this.keyOf(path, size, fieldIds, prune, undefined, variantIds);
    this.refs.set(key, (this.refs.get(key) ?? 0) + 1);
    return this.loadKeyed(key, path, size, fieldIds, what, new Map(), prune, undefined, variantIds);
  }

  /** Releases acquired loads; a table no longer acquired nor pinned is dropped from DuckDB. */
  async release(keys: string[]): Promise<void> {
    const drop: string[] = [];
    for (const key of keys) {
      const n = (this.refs.get(key) ?? 0) - 1;
      if (n > 0) {
        this.refs.set(key, n);
        continue;
      }
      this.refs.delete(key);
      if (this.pinned.has(key)) continue;
      const p = this.loaded.get(key);
      this.loaded.delete(key);
      const t = await p?.catch(() => null);
      if (t) drop.push(t.table);
    }
    if (drop.length) await this.session.query(drop.map((t) => `DROP TABLE IF EXISTS ${quoteIdent(t)};`).join(' '));
  }

  private loadKeyed(key: string, path: string, size: number, fieldIds: number[], what: string, fallbackNames: Map<number, string>, prune: FieldPredicate[], groups: number[] | undefined, variantIds: number[]): Promise<LoadedFile> {
    const ids = [...new Set(fieldIds)].sort((a, b) => a - b);
    let p = this.loaded.get(key);
    if (!p) {
      p = this.loadNow(path, size, ids, what, fallbackNames, prune, groups, variantIds);
      this.loaded.set(key, p);
      p.catch(() => this.loaded.delete(key));
    }
    return p;
  }

  /**
   * The file opened for ranged reads (footer only), once per (path, size): callers that pick row
   * groups themselves (row diff by position) read its footer.
   */
  open(path: string, size: number, what: string): Promise<RangedParquetFile> {
    const key = `${path}\u0000${size}`;
    let p = this.opened.get(key);
    if (!p) {
      p = RangedParquetFile.open(this.parquet, this.storage, path, size, what);
      this.opened.set(key, p);
      p.catch(() => this.opened.delete(key));
    }
    return p;
  }

  private async loadNow(path: string, size: number, ids: number[], what: string, fallbackNames: Map<number, string>, prune: FieldPredicate[], groups: number[] | undefined, variantIds: number[]): Promise<LoadedFile> {
    const file = await this.open(path, size, what);
    const schema = file.columns;
    const columns = new Map<number, string>();
    for (const id of ids) {
      // Files from writers that omit field ids (some delete files) are matched by name.
      const name = schema.byFieldId.get(id) ?? (fallbackNames.has(id) && schema.names.includes(fallbackNames.get(id)!) ? fallbackNames.get(id)! : undefined);
      if (name !== undefined) columns.set(id, name);
    }
    const predicates: ColumnPredicate[] = prune.flatMap((p) => {
      const column = schema.byFieldId.get(p.fieldId);
      return column === undefined ? [] : [{ column, op: p.op, value: p.value, ...(p.timeUnit ? { timeUnit: p.timeUnit } : {}) }];
    });
    const rowGroups = groups ? groupSelection(file.footer.rowGroups, groups) : predicates.length ? selectRowGroups(file.footer, predicates) : null;
    const table = nextObjectName('tm_file');
    // A file none of whose requested columns exist still has rows: read its first column for the count.
    const names = columns.size > 0 ? [...new Set(columns.values())] : schema.names.slice(0, 1);
    let ipc = await file.readIpc(names, rowGroups?.indexes);
    const variants = variantIds.map((id) => columns.get(id)).filter((n): n is string => n !== undefined);
    if (variants.length > 0) ipc = variantColumnsToJson(ipc, variants, path);
    await this.session.insertArrowIpc(table, ipc);
    return { table, columns, tree: schema.tree, rowGroups };
  }
}

/** The given row groups (ascending) with each one's first row position in the file. */
function groupSelection(rowGroups: { numRows: number }[], indexes: number[]): RowGroupSelection {
  const starts: number[] = [];
  let pos = 0;
  for (const rg of rowGroups) {
    starts.push(pos);
    pos += rg.numRows;
  }
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  return { indexes: sorted, ranges: sorted.map((i) => ({ filePos: starts[i]!, rows: rowGroups[i]!.numRows })) };
}

/** Data files loaded at once per view: enough to overlap I/O, decoding and ingestion, bounded in memory. */
const LOAD_CONCURRENCY = 3;

/** Runs at most `n` of the given tasks at a time, in order. */
function createLimiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

export function fieldsById(metadata: TableMetadata): Map<number, NestedField> {
  const out = new Map<number, NestedField>();
  // Newest schema last, so a field keeps its latest definition (equality ids of dropped columns too).
  for (const s of metadata.schemas) for (const f of s.fields) out.set(f.id, f);
  for (const f of rowLineageFields(metadata)) out.set(f.id, f);
  return out;
}

function partitionKey(file: PlannedFile): string {
  return `${file.specId}|${valueKey(file.partition)}`;
}

function isUnpartitioned(metadata: TableMetadata, specId: number): boolean {
  const spec = metadata.partitionSpecs.find((s) => s.specId === specId);
  return !spec || spec.fields.every((f) => f.transform === 'void');
}

export interface ScanView {
  /**
   * The merge-on-read query with NOT EXISTS: correct under any filter a caller adds around it
   * (use it for selective queries such as one key's history).
   */
  sql: string;
  /**
   * The same result with ANTI JOINs: several times faster for a full pass, but only safe when
   * nothing is filtered around it — used to materialize a table version once.
   */
  materializeSql: string;
  /** Output columns (snapshot schema order, or the requested projection). */
  columns: NestedField[];
}

/** Progress of loading one table version's data files (for long loads: the UI shows it). */
export interface LoadProgress {
  /** Table root. */
  table: string;
  /** Data files loaded so far, of `totalFiles`. */
  doneFiles: number;
  totalFiles: number;
  /** Records in the loaded files (before deletes), of `totalRecords`. */
  doneRecords: number;
  totalRecords: number;
}

/**
 * Builds the merge-on-read query of a plan. `columns` selects top-level fields by name
 * (default: all of the snapshot's schema). `prune` skips data-file row groups whose statistics
 * rule the predicates out (key history): the view then lacks non-matching rows, so the caller
 * filters by the same predicates.
 */
export async function buildScanView(loader: FileLoader, plan: ScanPlan, columns?: string[], onProgress?: (p: LoadProgress) => void, prune: FieldPredicate[] = []): Promise<ScanView> {
  const schema: Schema = plan.schema;
  const outFields = columns ? columns.map((name) => findColumn(schema, plan.table.metadata, name)!).filter(Boolean) : schema.fields;
  const allFields = fieldsById(plan.table.metadata);
  const eqIds = new Set<number>();
  for (const f of plan.files) for (const d of f.deletes) if (d.content === FILE_CONTENT.equalityDeletes) for (const id of d.dataFile.equalityIds ?? []) eqIds.add(id);
  const internal = [...new Set([...outFields.map((f) => f.id), ...eqIds])];
  const internalFields = internal.map((id) => allFields.get(id)).filter((f): f is NestedField => f !== undefined);
  const variantIds = internalFields.filter((f) => f.type === 'variant').map((f) => f.id);

  if (plan.files.length === 0) {
    const empty = internalFields.length ? internalFields.map((f) => `${sqlLiteral(f.type, null)} AS ${quoteIdent(`c${f.id}`)}`).join(', ') : '1 AS c0';
    const sql = `SELECT ${outputList(outFields)} FROM (SELECT ${empty}) AS d WHERE false`;
    return { sql, materializeSql: sql, columns: outFields };
  }

  const posFiles = uniqueDeletes(plan, FILE_CONTENT.positionDeletes);
  const eqFiles = uniqueDeletes(plan, FILE_CONTENT.equalityDeletes);
  // Equality deletes of a partitioned spec match rows of their own partition only.
  const partitionScoped = eqFiles.some((ef) => !isUnpartitioned(plan.table.metadata, ef.specId));
  const parts: string[] = [];
  const pathToFile = new Map<string, number>();
  // Loads start a few at a time rather than one after another: in the renderer, fetching and
  // decoding the next file overlaps DuckDB ingesting the previous one in its own worker.
  const limit = createLimiter(LOAD_CONCURRENCY);
  const progress = { table: plan.table.root, doneFiles: 0, totalFiles: plan.files.length, doneRecords: 0, totalRecords: plan.files.reduce((n, f) => n + f.recordCount, 0) };
  const loads = plan.files.map((file) =>
    limit(async () => {
      checkDataFileFormat(file);
      const loaded = await loader.load(file.path, file.fileSizeInBytes, internalFields.map((f) => f.id), 'data file', undefined, prune, undefined, variantIds);
      progress.doneFiles++;
      progress.doneRecords += file.recordCount;
      onProgress?.({ ...progress });
      return loaded;
    }),
  );
  // Every promise gets a handler now, so a failing file cannot surface as an unhandled rejection
  // while an earlier one is still awaited below.
  for (const l of loads) l.catch(() => {});
  for (const [i, file] of plan.files.entries()) {
    pathToFile.set(file.path, i);
    pathToFile.set(file.originalPath, i);
    const loaded = await loads[i]!;
    const select = internalFields.map((f) => `${storedFieldSql(f, loaded, file, plan.table.metadata)} AS ${quoteIdent(`c${f.id}`)}`);
    // Bookkeeping columns only where a delete needs them: they travel through every join.
    const extra = [
      ...(posFiles.length > 0 ? [`${i} AS _file`, `${filePositionSql(loaded.rowGroups)} AS _pos`] : []),
      ...(posFiles.length > 0 || eqFiles.length > 0 ? [`CAST(${file.sequenceNumber} AS BIGINT) AS _seq`] : []),
      ...(partitionScoped ? [`${quoteLiteral(partitionKey(file))} AS _part`] : []),
    ];
    const list = [...select, ...extra];
    // A count projects no column at all: each row still needs something to select.
    parts.push(`SELECT ${list.length ? list.join(', ') : '1 AS _row'} FROM ${loaded.table}`);
  }
  const ctes = [`d AS (${parts.join('\nUNION ALL\n')})`];
  const joins: { table: string; on: string }[] = [];

  // Position deletes: one table per delete file; the written data-file path is mapped to our index.
  if (posFiles.length > 0) {
    const posParts: string[] = [];
    for (const pf of posFiles) {
      if (isDeletionVector(pf)) {
        posParts.push(await loader.loadDeletionVector(pf));
        continue;
      }
      const names = new Map([[POS_FILE_PATH, 'file_path'], [POS_POS, 'pos']]);
      const loaded = await loader.load(pf.path, pf.fileSizeInBytes, [POS_FILE_PATH, POS_POS], 'position delete file', names);
      const pathCol = quoteIdent(loaded.columns.get(POS_FILE_PATH) ?? 'file_path');
      const posCol = quoteIdent(loaded.columns.get(POS_POS) ?? 'pos');
      posParts.push(`SELECT ${pathCol} AS file_path, CAST(${posCol} AS BIGINT) AS pos, CAST(${pf.sequenceNumber} AS BIGINT) AS _seq FROM ${loaded.table}`);
    }
    const mapping = [...pathToFile.entries()].map(([p, i]) => `(${quoteLiteral(p)}, ${i})`).join(', ');
    ctes.push(`pm(file_path, _file) AS (VALUES ${mapping})`);
    ctes.push(`p AS (SELECT pm._file, x.pos, x._seq FROM (${posParts.join(' UNION ALL ')}) AS x JOIN pm ON pm.file_path = x.file_path)`);
    joins.push({ table: 'p', on: 'p._file = d._file AND p.pos = d._pos AND p._seq >= d._seq' });
  }

  // Equality deletes: grouped by their set of equality field ids.
  const groups = new Map<string, PlannedFile[]>();
  for (const ef of eqFiles) {
    const key = (ef.dataFile.equalityIds ?? []).join(',');
    groups.set(key, [...(groups.get(key) ?? []), ef]);
  }
  let g = 0;
  for (const [key, files] of groups) {
    const ids = key.split(',').map(Number);
    const name = `e${g++}`;
    const eqParts: string[] = [];
    for (const ef of files) {
      const { loaded, select } = await loadEqualityKeys(loader, ef, ids, allFields);
      const global = isUnpartitioned(plan.table.metadata, ef.specId);
      eqParts.push(`SELECT ${[...select, `CAST(${ef.sequenceNumber} AS BIGINT) AS _seq`, `${quoteLiteral(partitionKey(ef))} AS _part`, `${global} AS _global`].join(', ')} FROM ${loaded.table}`);
    }
    ctes.push(`${name} AS (${eqParts.join(' UNION ALL ')})`);
    // Two anti-joins, not one with `_global OR _part = _part`: an OR in the join condition makes
    // DuckDB fall back to a nested-loop join, orders of magnitude slower (docs/perf-notes.md).
    const scopes = [['g', '_global', ''], ['p', 'NOT _global', ` AND ${name}p._part = d._part`]] as const;
    for (const [suffix, scope, extra] of partitionScoped ? scopes : scopes.slice(0, 1)) {
      const alias = `${name}${suffix}`;
      ctes.push(`${alias} AS (SELECT * FROM ${name} WHERE ${scope})`);
      const keyMatch = ids.map((id) => `d.${quoteIdent(`c${id}`)} IS NOT DISTINCT FROM ${alias}.${quoteIdent(`c${id}`)}`).join(' AND ');
      joins.push({ table: alias, on: `${keyMatch} AND ${alias}._seq > d._seq${extra}` });
    }
  }

  // Two forms of one query. DuckDB 1.4 (duckdb-wasm 1.32) returns wrong rows from an ANTI JOIN whose
  // condition has IS NOT DISTINCT FROM plus a sequence comparison (a row re-inserted by an upsert
  // vanished once a later commit deleted other keys; test/query/scan-view-joins.test.ts), and when a
  // filter around chained ANTI JOINs is pushed down. The view form uses NOT EXISTS, correct under any
  // filter; a full pass (a materialized version) uses LEFT JOINs keeping the rows no delete matched,
  // as fast as the hash ANTI JOIN and correct on those cases.
  const head = `WITH ${ctes.join(',\n')}\nSELECT ${outputList(outFields)} FROM d`;
  const where = joins.length ? `\nWHERE ${joins.map((j) => `NOT EXISTS (SELECT 1 FROM ${j.table} WHERE ${j.on})`).join('\n  AND ')}` : '';
  // Every delete table has a non-null _seq: a NULL one after the outer join means no delete matched.
  const outer = joins.map((j) => `\nLEFT JOIN ${j.table} ON ${j.on}`).join('') + (joins.length ? `\nWHERE ${joins.map((j) => `${j.table}._seq IS NULL`).join(' AND ')}` : '');
  const headQualified = `WITH ${ctes.join(',\n')}\nSELECT ${outputList(outFields, 'd.')} FROM d`;
  return { sql: head + where, materializeSql: headQualified + outer, columns: outFields };
}

/**
 * An equality delete file's key columns (`ids`) loaded, and their select list as `c<id>` in the
 * fields' types (files from writers that omit field ids are matched by the field's name).
 */
export async function loadEqualityKeys(loader: FileLoader, file: PlannedFile, ids: number[], allFields: Map<number, NestedField>): Promise<{ loaded: LoadedFile; select: string[] }> {
  const names = new Map(ids.map((id) => [id, allFields.get(id)?.name ?? `c${id}`] as [number, string]));
  const loaded = await loader.load(file.path, file.fileSizeInBytes, ids, 'equality delete file', names);
  const select = ids.map((id) => {
    const f = allFields.get(id);
    const col = loaded.columns.get(id);
    const expr = col === undefined || !f ? 'NULL' : columnExpression(f, quoteIdent(col), loaded.tree.find((c) => c.name === col));
    return `${expr} AS ${quoteIdent(`c${id}`)}`;
  });
  return { loaded, select };
}

/**
 * A field's value in a loaded data file, as the field's type: the stored column (matched by field
 * id), else an identity partition's value, else the field's initial-default (or NULL).
 */
export function storedFieldSql(field: NestedField, loaded: LoadedFile, file: PlannedFile, metadata: TableMetadata): string {
  if (isRowLineageField(field)) return rowLineageSql(field, loaded, file);
  const col = loaded.columns.get(field.id);
  if (col !== undefined) return columnExpression(field, quoteIdent(col), loaded.tree.find((c) => c.name === col));
  const spec = metadata.partitionSpecs.find((s) => s.specId === file.specId);
  const pi = spec?.fields.findIndex((pf) => pf.sourceId === field.id && pf.transform === 'identity') ?? -1;
  return pi >= 0 ? sqlLiteral(field.type, file.partition[pi]) : defaultSql(field.type, field.initialDefault ?? null);
}

/** A default value as SQL: primitives as literals, a non-null struct default field by field. */
function defaultSql(type: NestedField['type'], value: unknown): string {
  if (isStruct(type) && value !== null && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    return `struct_pack(${type.fields.map((c) => `${quoteIdent(c.name)} := ${defaultSql(c.type, v[c.name] ?? null)}`).join(', ')})`;
  }
  return sqlLiteral(type, value);
}

/**
 * A stored column as the field's type: primitives are cast (int→long, float→double and decimal
 * widening between files), structs are rebuilt child by child by field id so that renamed children
 * read right and children added later take their initial-default.
 */
export function columnExpression(field: NestedField, expr: string, node: ParquetColumn | undefined): string {
  if (isStruct(field.type) && node && node.children.length > 0) {
    const members = field.type.fields.map((child) => {
      const stored = node.children.find((c) => c.fieldId === child.id);
      const value = stored ? columnExpression(child, `${expr}.${quoteIdent(stored.name)}`, stored) : defaultSql(child.type, child.initialDefault ?? null);
      return `${quoteIdent(child.name)} := ${value}`;
    });
    return `CASE WHEN ${expr} IS NULL THEN NULL ELSE struct_pack(${members.join(', ')}) END`;
  }
  if (field.type === 'uuid') return uuidFromBlob(expr);
  const t = duckDbType(field.type);
  return t ? `CAST(${expr} AS ${t})` : expr;
}

function outputList(fields: NestedField[], qualifier = ''): string {
  if (fields.length === 0) return '1 AS "_"'; // a projection of nothing still counts rows
  return fields.map((f) => `${qualifier}${quoteIdent(`c${f.id}`)} AS ${quoteIdent(f.name)}`).join(', ');
}

function uniqueDeletes(plan: ScanPlan, content: number): PlannedFile[] {
  const seen = new Map<string, PlannedFile>();
  for (const f of plan.files) for (const d of f.deletes) if (d.content === content) seen.set(deleteFileKey(d), d);
  return [...seen.values()];
}
