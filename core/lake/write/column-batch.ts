/**
 * Rows as columns, the bulk form of the write path: `columns[name][i]` is row i's canonical value
 * (values.ts), except that a timestamp / timestamptz value may also be a bigint of µs since the
 * epoch (UTC), the form the CDC reader gives (formatting it as text only to parse it back is work
 * thrown away); a column absent from `columns` is null in every row. Plain arrays, so a batch crosses
 * a worker_threads boundary by structured clone at a fraction of the cost of row objects (no
 * property names per row), and the Arrow build reads each column as one array.
 */
export interface ColumnBatch {
  length: number;
  columns: Record<string, unknown[]>;
}

/** Row objects → a batch of the named columns (`row[name] ?? null`, as rowsToArrow reads them). */
export function rowsToColumnBatch(rows: Record<string, unknown>[], names: string[]): ColumnBatch {
  const columns: Record<string, unknown[]> = {};
  for (const name of names) {
    const values = new Array<unknown>(rows.length);
    for (let i = 0; i < rows.length; i++) values[i] = rows[i]![name] ?? null;
    columns[name] = values;
  }
  return { length: rows.length, columns };
}

/** The rows at `indices` (in that order) of the named columns of `batch`. */
export function selectColumnBatch(batch: ColumnBatch, indices: ArrayLike<number>, names: string[]): ColumnBatch {
  const columns: Record<string, unknown[]> = {};
  for (const name of names) {
    const source = batch.columns[name];
    const values = new Array<unknown>(indices.length);
    for (let i = 0; i < indices.length; i++) values[i] = source === undefined ? null : (source[indices[i]!] ?? null);
    columns[name] = values;
  }
  return { length: indices.length, columns };
}

/** Value of column `name` in row `i` (null when the batch has no such column). */
export function batchValue(batch: ColumnBatch, name: string, i: number): unknown {
  return batch.columns[name]?.[i] ?? null;
}
