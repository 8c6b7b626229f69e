/**
 * Row-group pruning: which row groups of a Parquet file can hold rows matching a filter, from the
 * column chunk statistics in the footer (min/max, null count). Only integer columns (Iceberg int,
 * long and date, Parquet INT32/INT64, and timestamps whose unit the predicate names) are pruned
 * on: their statistics are exact, while string and binary bounds may be truncated or use an order
 * the writer chose. Anything unknown keeps the row group.
 */
import { statisticsMayMatch } from '../lake';
import { chunkStatistics, type ParquetFooter, type TimeUnit } from '../lake';

/** A predicate on a top-level Parquet column, by its name in the file. */
export type ColumnPredicate =
  /** `timeUnit`: the value is a timestamp in that unit; a column stored in another unit (or not as a timestamp) is not pruned on. */
  | { column: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: number | bigint; timeUnit?: TimeUnit }
  | { column: string; op: 'is-null' };

/** Row groups read when pruning keeps some of them: their indexes and where each starts in the file. */
export interface RowGroupSelection {
  /** Row group indexes to read, ascending. */
  indexes: number[];
  /** For each selected group (same order): its first row's position in the file and its row count. */
  ranges: { filePos: number; rows: number }[];
}

/**
 * The row groups that may hold matching rows, or null when every group may (read the whole file).
 */
export function selectRowGroups(footer: ParquetFooter, predicates: ColumnPredicate[]): RowGroupSelection | null {
  if (predicates.length === 0) return null;
  const indexes: number[] = [];
  const ranges: { filePos: number; rows: number }[] = [];
  let filePos = 0;
  for (const [i, rg] of footer.rowGroups.entries()) {
    const rows = rg.numRows;
    const keep = predicates.every((p) => {
      if ('timeUnit' in p && p.timeUnit !== undefined && footer.columns.find((c) => c.name === p.column)?.timeUnit !== p.timeUnit) return true;
      const stats = chunkStatistics(footer, i, p.column);
      return !stats || statisticsMayMatch(p, { lower: stats.min, upper: stats.max, nullCount: stats.nullCount, valueCount: rows });
    });
    if (keep) {
      indexes.push(i);
      ranges.push({ filePos, rows });
    }
    filePos += rows;
  }
  if (indexes.length === footer.rowGroups.length) return null;
  return { indexes, ranges };
}

/**
 * SQL for a loaded row's position in the file, given DuckDB's `rowid` over the selected groups
 * (loaded one after another): position deletes name file positions, not positions in what we read.
 */
export function filePositionSql(selection: RowGroupSelection | null, rowid = 'rowid'): string {
  if (!selection) return rowid;
  if (selection.ranges.length === 0) return rowid;
  let loaded = 0;
  const cases: string[] = [];
  for (const r of selection.ranges) {
    cases.push(`WHEN ${rowid} < ${loaded + r.rows} THEN ${rowid} + ${r.filePos - loaded}`);
    loaded += r.rows;
  }
  return `(CASE ${cases.join(' ')} END)`;
}
