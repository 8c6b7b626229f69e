/**
 * One table, whatever its format, as the version-aware questions (row diff, key history) need it:
 * its snapshots in commit order, each version's columns and key, and a DuckDB relation holding a
 * version's rows. Iceberg versions are merge-on-read views of the lake core's plans; Paimon versions
 * are its LSM-merged rows loaded as Arrow (core/query/paimon-view.ts).
 */
import { TidemarkError } from '../errors';
import { listPaimonSnapshots, readPaimonSchema } from '../lake/paimon';
import type { NestedField, Schema } from '../lake';
import type { ScanFilter } from '../lake';
import { loadTable, ROW_ID_FIELD, snapshotSchema, type LoadedTable } from '../lake';
import { detectTableFormat } from '../lake';
import { quoteIdent, quoteLiteral } from './duckdb';
import type { QueryEngine } from './engine';
import { registerPaimonView } from './paimon-view';
import { readKeyRows } from './key-rows';
import { planVersionDelta, type VersionDelta } from './version-delta';

export interface SourceSnapshot {
  snapshotId: bigint;
  sequenceNumber: bigint;
  timestampMs: number;
  operation: string;
  summary: Record<string, string>;
}

export interface TableSource {
  format: 'iceberg' | 'paimon';
  root: string;
  /** Snapshots in commit order (sequence number, then time). */
  snapshots: SourceSnapshot[];
  /**
   * Column names, their field ids (same order) and key columns (identifier fields / primary key) of
   * a version's schema. Field ids follow a column through renames.
   */
  columns(snapshotId: bigint): Promise<{ names: string[]; ids: number[]; key: string[] }>;
  /**
   * A relation (SQL text usable after FROM) with a version's rows. `keyEquals` (column → value as
   * text) lets a version skip files that cannot hold that key: the relation may then lack other rows,
   * so the caller must filter by the same key. With `names`, exactly those
   * columns in that order (a column the version lacks reads as NULL; Iceberg matches by field id,
   * so renamed columns carry their values). `lazy` asks for a view suited to a selective filter.
   */
  relation(snapshotId: bigint, options?: { names?: string[]; namesFrom?: bigint; lazy?: boolean; keyEquals?: Record<string, string> }): Promise<string>;
  /**
   * The rows that can differ between two versions, read from the files that differ only (Iceberg;
   * absent for formats diffed by whole versions). `names` and `key` are columns of `namesFrom`'s
   * schema; both versions are read in it by field id.
   */
  delta?(from: bigint, to: bigint, options: { key: string[]; names: string[]; namesFrom: bigint }): Promise<SourceDelta>;
  /**
   * A version's live rows whose columns (named in that version's schema) print as the texts of `key`
   * (as `CAST(column AS VARCHAR) = text`), read without SQL: field ids, and one value per id in each
   * row. Null when this source cannot answer it so (the caller filters `relation` instead).
   */
  keyRows?(snapshotId: bigint, key: Record<string, string>): Promise<{ ids: number[]; rows: unknown[][]; rowIds?: (bigint | null)[] } | null>;
  /**
   * Iceberg v3 (row lineage) only: a version's live rows whose columns print as `key`'s texts, or
   * whose `_row_id` is one of `rowIds` — the same rows in another version even after their key
   * changed. Field ids, values and each row's `_row_id` (null where the row has none).
   */
  lineageRows?(snapshotId: bigint, key: Record<string, string>, rowIds: bigint[]): Promise<{ ids: number[]; rows: unknown[][]; rowIds: (bigint | null)[] }>;
}

/** A version delta with the fields asked for. */
export interface SourceDelta extends VersionDelta {
  /** The fields of `names`, in that order (values are read by field id). */
  outputFields: NestedField[];
  /** Indexes in `outputFields` of the key columns, in key order. */
  keyIndexes: number[];
  /** The table has v3 row lineage: rows are matched by `_row_id` first (row-diff.ts). */
  rowLineage: boolean;
}

function commitOrder(a: SourceSnapshot, b: SourceSnapshot): number {
  return a.sequenceNumber === b.sequenceNumber ? a.timestampMs - b.timestampMs : a.sequenceNumber < b.sequenceNumber ? -1 : 1;
}

export function icebergSource(engine: QueryEngine, table: LoadedTable): TableSource {
  const md = table.metadata;
  const schemaOf = (id: bigint) => {
    const snapshot = md.snapshots.find((s) => s.snapshotId === id);
    if (!snapshot) throw new TidemarkError('NotFound', `snapshot ${id} not found in ${table.root}`, { snapshotId: id.toString() });
    return snapshotSchema(md, snapshot, { snapshotId: id });
  };
  return {
    format: 'iceberg',
    root: table.root,
    snapshots: md.snapshots.map((s) => ({ snapshotId: s.snapshotId, sequenceNumber: s.sequenceNumber, timestampMs: s.timestampMs, operation: s.summary.operation ?? 'unknown', summary: s.summary })).sort(commitOrder),
    async columns(id) {
      const schema = schemaOf(id);
      return {
        names: schema.fields.map((f) => f.name),
        ids: schema.fields.map((f) => f.id),
        key: schema.identifierFieldIds.map((fid) => schema.fields.find((f) => f.id === fid)?.name).filter((n): n is string => !!n),
      };
    },
    async relation(id, options = {}) {
      // Read in the schema named by `namesFrom` (by field id), else the version's own.
      const schema = options.namesFrom !== undefined ? schemaOf(options.namesFrom) : undefined;
      const filter = options.keyEquals ? keyPredicates(schema ?? schemaOf(id), options.keyEquals) : [];
      const { view } = await engine.registerView(table, { snapshotId: id, schema, lazy: options.lazy, filter: filter.length ? filter : undefined });
      if (!options.names) return quoteIdent(view);
      return `(SELECT ${options.names.map((n) => quoteIdent(n)).join(', ')} FROM ${quoteIdent(view)})`;
    },
    async keyRows(id, key) {
      schemaOf(id);
      // v3: each row's _row_id too, so key history can tell whether the rows it follows kept their key.
      const found = await readKeyRows(engine, table, id, key, (schema) => keyPredicates(schema, key), md.formatVersion >= 3 ? [ROW_ID_FIELD] : []);
      return found && { ids: found.fields.map((f) => f.id), rows: found.rows, ...(md.formatVersion >= 3 ? { rowIds: found.extra[0]!.map((v) => (v === null ? null : BigInt(v as bigint))) } : {}) };
    },
    lineageRows:
      md.formatVersion >= 3
        ? async (id, key, rowIds) => {
            const schema = schemaOf(id);
            const names = schema.fields.map((f) => f.name);
            const { view } = await engine.registerView(table, { snapshotId: id, lazy: true, columns: [...names, '_row_id'] });
            const byKey = Object.entries(key).map(([k, v]) => `CAST(${quoteIdent(k)} AS VARCHAR) = ${quoteLiteral(v)}`).join(' AND ');
            const where = rowIds.length ? `(${byKey}) OR _row_id IN (${rowIds.join(', ')})` : byKey;
            const r = await engine.query(`SELECT * FROM ${quoteIdent(view)} WHERE ${where}`);
            return {
              ids: schema.fields.map((f) => f.id),
              rows: r.rows.map((row) => row.slice(0, names.length)),
              rowIds: r.rows.map((row) => (row[names.length] === null ? null : BigInt(row[names.length] as bigint))),
            };
          }
        : undefined,
    async delta(from, to, options) {
      const schema = schemaOf(options.namesFrom);
      const field = (name: string) => {
        const f = schema.fields.find((x) => x.name === name);
        if (!f) throw new TidemarkError('InvalidInput', `column ${JSON.stringify(name)} not in the schema of snapshot ${options.namesFrom}`, { column: name });
        return f;
      };
      const outputFields = options.names.map(field);
      const keyIndexes = options.key.map((k) => {
        field(k);
        return options.names.indexOf(k);
      });
      if (keyIndexes.some((i) => i < 0)) throw new TidemarkError('InvalidInput', `diff: key columns ${options.key.join(', ')} must be among the compared columns`, { key: options.key.join(',') });
      schemaOf(from);
      schemaOf(to);
      const delta = await planVersionDelta(engine, table, from, to);
      return { ...delta, outputFields, keyIndexes, rowLineage: md.formatVersion >= 3 };
    },
  };
}

/**
 * File-pruning predicates for a key given as text: integer columns only. Their manifest bounds are
 * exact (string bounds may be truncated and are never used to prune), and text that is not a plain
 * integer (or another type) simply prunes nothing — the caller's SQL filter still decides.
 */
export function keyPredicates(schema: Schema, key: Record<string, string>): ScanFilter {
  const out: ScanFilter = [];
  for (const [column, text] of Object.entries(key)) {
    const field = schema.fields.find((f) => f.name === column);
    if (!field || !/^-?\d+$/.test(text.trim())) continue;
    if (field.type === 'long') out.push({ column, op: '=', value: BigInt(text.trim()) });
    else if (field.type === 'int' && Math.abs(Number(text)) <= 2 ** 31) out.push({ column, op: '=', value: Number(text) });
  }
  return out;
}

export async function paimonSource(engine: QueryEngine, root: string): Promise<TableSource> {
  const snapshots = await listPaimonSnapshots(engine.storage, root);
  const views = new Map<string, Promise<{ view: string; names: string[] }>>();
  const versionView = (id: bigint) => {
    let p = views.get(id.toString());
    if (!p) {
      p = registerPaimonView(engine, root, { snapshotId: id }).then((v) => ({ view: v.view, names: v.columns.map((c) => c.name) }));
      views.set(id.toString(), p);
    }
    return p;
  };
  return {
    format: 'paimon',
    root,
    snapshots: snapshots.map((s) => ({ snapshotId: s.snapshotId, sequenceNumber: s.sequenceNumber, timestampMs: s.timestampMs, operation: s.operation, summary: s.summary })).sort(commitOrder),
    async columns(id) {
      const schema = await readPaimonSchema(engine.storage, root, { snapshotId: id });
      return { names: schema.fields.map((f) => f.name), ids: schema.fields.map((f) => f.id), key: schema.primaryKeys };
    },
    async relation(id, options = {}) {
      const { view, names } = await versionView(id);
      if (!options.names) return quoteIdent(view);
      // Paimon files are read in the version's own schema: match the requested names by name.
      return `(SELECT ${options.names.map((n) => (names.includes(n) ? quoteIdent(n) : `NULL AS ${quoteIdent(n)}`)).join(', ')} FROM ${quoteIdent(view)})`;
    },
  };
}

/** The source for a table root of either format. */
export async function openTableSource(engine: QueryEngine, root: string): Promise<TableSource> {
  const format = await detectTableFormat(engine.storage, root);
  if (format === 'paimon') return paimonSource(engine, root);
  return icebergSource(engine, await loadTable(engine.storage, root));
}
