/**
 * Read-ahead windows (reader.ts ChunkWindows) for keys chunked as a tuple: a unique key whose
 * index returns rows in its order (the whole primary key, no TEXT/BLOB column). Each window is one
 * multi-statement round trip: a consistent snapshot, its binlog position, a keyset SELECT of
 * SNAPSHOT_WINDOW_CHUNKS × chunkSize rows after the last bound in the key's order, COMMIT; its rows
 * are cut into chunks as they arrive, each bounded by its last row's key (unique, so no two chunks
 * share a key). A key that may repeat (a composite key's prefix, a keyless table's column) cannot
 * be cut at any row, and TEXT/BLOB bounds need a second query: they stay on one query per chunk.
 */
import type mysql from 'mysql2/promise';
import { afterBoundSql, keyTupleOf } from './chunk-keys';
import { tupleBound, tupleSqlOf, type ChunkPlan } from './chunk-plan';
import type { ResolvedConfig } from '../config';
import { quoteId } from '../connect';
import type { Flavor } from '../flavor';
import { selectList } from './reader';
import type { WindowKeyset } from './chunk-windows';

/** Whether a tuple-keyed table's chunks can be read in windows. */
export function usesTupleWindows(conn: mysql.Connection, flavor: Flavor, config: ResolvedConfig, plan: ChunkPlan): boolean {
  const multi = (conn as unknown as { config?: { multipleStatements?: boolean } }).config?.multipleStatements === true;
  return multi && config.snapshotWatermark === 'auto' && flavor.kind === 'mariadb' && plan.tuple !== null && plan.tuple.unique && plan.tuple.ordered && !plan.keyless;
}

/** The window statements and row bounds of a tuple key (usesTupleWindows). */
export function tupleKeyset(plan: ChunkPlan): WindowKeyset {
  const tuple = plan.tuple!;
  const t = `${quoteId(plan.schema.table.db)}.${quoteId(plan.schema.table.table)}`;
  // Qualified, as in reader.ts selectTupleChunk: a FLOAT column's DOUBLE cast shares its name.
  const order = tuple.columns.map((c) => `${t}.${quoteId(c)}`).join(', ');
  const select = selectList(plan.schema);
  return {
    sql(lastKey, limit) {
      const from = tupleBound(lastKey);
      const after = from === null ? '' : ` WHERE ${afterBoundSql(tupleSqlOf(plan), from)}`;
      return (
        `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY; SHOW STATUS LIKE 'binlog_snapshot_%'; ` +
        `SELECT ${select} FROM ${t}${after} ORDER BY ${order} LIMIT ${limit}; COMMIT`
      );
    },
    boundOf: (row) => keyTupleOf(row, tuple.columns),
  };
}
