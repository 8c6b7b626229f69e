import type { Table } from 'apache-arrow';
import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import { arrowFieldId, convertArrowData } from './arrow-values';
import { readDataFileTable } from './data-file-format';
import { DeletionVectorReader, deleteFileKey, isDeletionVector } from './deletion-vector';
import { FILE_CONTENT, indexFields, type NestedField, type Schema } from './model';
import { columnNames, findColumn, inheritRowLineage, isRowLineageField } from './row-lineage';
import { rowMatches, type ScanFilter } from './scan-filter';
import { planScan, type PlanOptions, type PlannedDataFile, type PlannedFile, type ScanPlan } from './scan-plan';
import type { LoadedTable } from './table';
import { valueKey } from './values';

/**
 * The reference row reader: applies a scan plan row by row. It is the correctness oracle for the
 * faster engines, so it favours plainness over speed: whole files are decoded, deletes are sets.
 *  - columns are matched by field id (`PARQUET:field_id`, or ORC's `iceberg.id`), so renamed columns read right;
 *  - a column missing from a file is its identity partition value, else its initial-default, else null;
 *  - position deletes (may overlap) and equality deletes (null matches null) remove rows.
 */
export type Row = Record<string, unknown>;

export interface ScanRowsOptions extends PlanOptions {
  /** Top-level column names to return (default: all, in schema order). */
  columns?: string[];
  /** Stop after this many rows. */
  limit?: number;
  filter?: ScanFilter;
}

const POS_FILE_PATH = 2147483546;
const POS_POS = 2147483545;

function columnByFieldId(table: Table, id: number): number {
  return table.schema.fields.findIndex((f) => arrowFieldId(f) === id);
}

/** Reads one column of an Arrow table as canonical values, by field id; null when absent. */
function readColumn(table: Table, field: NestedField, where: string): unknown[] | null {
  const idx = columnByFieldId(table, field.id);
  if (idx < 0) return null;
  const vector = table.getChildAt(idx)!;
  const out: unknown[] = [];
  for (const data of vector.data) for (const v of convertArrowData(data, field.type, where)) out.push(v);
  return out;
}

/** Caches delete files across the data files of one scan (a delete file often applies to many). */
export class DeleteCache {
  private positions = new Map<string, Promise<Map<string, Set<number>>>>();
  private equalities = new Map<string, Promise<{ ids: number[]; keys: Set<string> }>>();
  private readonly vectors: DeletionVectorReader;
  constructor(
    private storage: StoragePort,
    private table: LoadedTable,
    private fields: Map<number, NestedField>,
  ) {
    this.vectors = new DeletionVectorReader(storage);
  }

  /** Position delete file or deletion vector → data file path (local) → deleted positions. */
  positionsOf(d: PlannedFile): Promise<Map<string, Set<number>>> {
    const key = deleteFileKey(d);
    let p = this.positions.get(key);
    if (!p) {
      p = (async () => {
        if (isDeletionVector(d)) {
          const dv = await this.vectors.read(d);
          return new Map([[this.table.resolve(dv.referencedDataFile), new Set(dv.positions)]]);
        }
        const t = await readDataFileTable(this.storage, d, this.table.metadata, 'position delete file');
        const paths = readColumn(t, { id: POS_FILE_PATH, name: 'file_path', required: true, type: 'string' }, `${d.path}: file_path`);
        const pos = readColumn(t, { id: POS_POS, name: 'pos', required: true, type: 'long' }, `${d.path}: pos`);
        if (!paths || !pos) throw new TidemarkError('DataInvalid', `${d.path}: expected position delete columns file_path (2147483546) and pos (2147483545)`, { path: d.path });
        const byFile = new Map<string, Set<number>>();
        paths.forEach((fp, i) => {
          const key = this.table.resolve(String(fp));
          let set = byFile.get(key);
          if (!set) byFile.set(key, (set = new Set()));
          set.add(Number(pos[i] as bigint));
        });
        return byFile;
      })();
      this.positions.set(key, p);
    }
    return p;
  }

  equalityOf(d: PlannedFile): Promise<{ ids: number[]; keys: Set<string> }> {
    let p = this.equalities.get(d.path);
    if (!p) {
      p = (async () => {
        const ids = d.dataFile.equalityIds ?? [];
        if (ids.length === 0) throw new TidemarkError('DataInvalid', `${d.path}: equality delete file without equality_ids (field 135)`, { path: d.path });
        const t = await readDataFileTable(this.storage, d, this.table.metadata, 'equality delete file');
        const cols = ids.map((id) => {
          const field = this.fields.get(id);
          if (!field) throw new TidemarkError('DataInvalid', `${d.path}: equality field id ${id} is not in any table schema`, { path: d.path, fieldId: id });
          const col = readColumn(t, field, `${d.path}: ${field.name}`);
          if (!col) throw new TidemarkError('DataInvalid', `${d.path}: equality delete file lacks column with field id ${id}`, { path: d.path, fieldId: id });
          return col;
        });
        const keys = new Set<string>();
        for (let i = 0; i < t.numRows; i++) keys.add(valueKey(cols.map((c) => c[i])));
        return { ids, keys };
      })();
      this.equalities.set(d.path, p);
    }
    return p;
  }
}

/** All fields of all schemas by id (equality ids may name a column the snapshot schema dropped). */
export function allFields(table: LoadedTable): Map<number, NestedField> {
  const out = new Map<number, NestedField>();
  for (const s of table.metadata.schemas) for (const [id, f] of indexFields(s)) out.set(id, f);
  for (const [id, f] of indexFields(table.metadata.schemas.find((s) => s.schemaId === table.metadata.currentSchemaId) ?? table.metadata.schemas[0]!)) out.set(id, f);
  return out;
}

/** Top-level columns by name: schema fields, and in v3 tables the row-lineage metadata columns. */
function selectColumns(plan: ScanPlan, columns?: string[]): NestedField[] {
  const schema: Schema = plan.schema;
  if (!columns) return schema.fields;
  return columns.map((name) => {
    const f = findColumn(schema, plan.table.metadata, name);
    if (!f) throw new TidemarkError('InvalidInput', `unknown column ${JSON.stringify(name)}; columns: ${columnNames(schema, plan.table.metadata).join(', ')}`, { column: name });
    return f;
  });
}

/**
 * Reads the live rows of one planned data file with all schema columns, plus the v3 row-lineage
 * columns in `metadataColumns` (inherited where not stored; see row-lineage.ts).
 */
export async function readDataFileRows(storage: StoragePort, plan: ScanPlan, file: PlannedDataFile, cache?: DeleteCache, metadataColumns: NestedField[] = []): Promise<Row[]> {
  const fields = allFields(plan.table);
  const deletes = cache ?? new DeleteCache(storage, plan.table, fields);
  const t = await readDataFileTable(storage, file, plan.table.metadata);
  const n = t.numRows;
  const spec = plan.table.metadata.partitionSpecs.find((s) => s.specId === file.specId);
  const columnCache = new Map<number, unknown[]>();
  const column = (field: NestedField): unknown[] => {
    let col = columnCache.get(field.id);
    if (col) return col;
    col = readColumn(t, field, `${file.path}: ${field.name}`) ?? undefined;
    if (isRowLineageField(field)) {
      col = inheritRowLineage(field, col ?? null, n, { firstRowId: file.dataFile.firstRowId ?? null, sequenceNumber: file.sequenceNumber });
    } else if (!col) {
      const pi = spec?.fields.findIndex((pf) => pf.sourceId === field.id && pf.transform === 'identity') ?? -1;
      const fill = pi >= 0 ? file.partition[pi] : (field.initialDefault ?? null);
      col = new Array<unknown>(n).fill(fill);
    }
    columnCache.set(field.id, col);
    return col;
  };
  const alive = new Uint8Array(n).fill(1);
  for (const d of file.deletes) {
    if (d.content === FILE_CONTENT.positionDeletes) {
      const byFile = await deletes.positionsOf(d);
      for (const pos of byFile.get(file.path) ?? []) if (pos >= 0 && pos < n) alive[pos] = 0;
    } else {
      const { ids, keys } = await deletes.equalityOf(d);
      const cols = ids.map((id) => column(fields.get(id)!));
      for (let i = 0; i < n; i++) if (alive[i] && keys.has(valueKey(cols.map((c) => c[i])))) alive[i] = 0;
    }
  }
  const outFields = [...plan.schema.fields, ...metadataColumns.filter((m) => !plan.schema.fields.some((f) => f.id === m.id))];
  const cols = outFields.map((f) => column(f));
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    if (!alive[i]) continue;
    const row: Row = {};
    outFields.forEach((f, k) => (row[f.name] = cols[k]![i]));
    rows.push(row);
  }
  return rows;
}

/** Yields live rows file by file (rows are objects keyed by column name; canonical values). */
export async function* iterateRows(storage: StoragePort, plan: ScanPlan, options: Omit<ScanRowsOptions, keyof PlanOptions> & { filter?: ScanFilter } = {}): AsyncGenerator<Row[]> {
  const columns = selectColumns(plan, options.columns);
  const cache = new DeleteCache(storage, plan.table, allFields(plan.table));
  const metadataColumns = columns.filter(isRowLineageField);
  let remaining = options.limit ?? Infinity;
  for (const file of plan.files) {
    if (remaining <= 0) return;
    let rows = await readDataFileRows(storage, plan, file, cache, metadataColumns);
    if (options.filter) rows = rows.filter((r) => rowMatches(r, options.filter!));
    if (rows.length > remaining) rows = rows.slice(0, remaining);
    remaining -= rows.length;
    yield options.columns ? rows.map((r) => Object.fromEntries(columns.map((c) => [c.name, r[c.name]]))) : rows;
  }
}

export interface ScanResult {
  plan: ScanPlan;
  columns: NestedField[];
  rows: Row[];
}

/** Plans and reads a scan into memory. See planScan for the selectors and errors. */
export async function scanRows(storage: StoragePort, table: string | LoadedTable, options: ScanRowsOptions = {}): Promise<ScanResult> {
  const plan = await planScan(storage, table, options);
  const columns = selectColumns(plan, options.columns);
  const rows: Row[] = [];
  for await (const batch of iterateRows(storage, plan, options)) rows.push(...batch);
  return { plan, columns, rows };
}

/**
 * Counts live rows. Files without applicable deletes are counted from manifest record counts
 * (no data read) unless a filter is given.
 */
export async function countRows(storage: StoragePort, table: string | LoadedTable, options: PlanOptions & { filter?: ScanFilter } = {}): Promise<number> {
  const plan = await planScan(storage, table, options);
  const cache = new DeleteCache(storage, plan.table, allFields(plan.table));
  let total = 0;
  for (const file of plan.files) {
    if (file.deletes.length === 0 && !options.filter) {
      total += file.recordCount;
      continue;
    }
    let rows = await readDataFileRows(storage, plan, file, cache);
    if (options.filter) rows = rows.filter((r) => rowMatches(r, options.filter!));
    total += rows.length;
  }
  return total;
}
