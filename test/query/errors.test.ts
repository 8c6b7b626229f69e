/**
 * DuckDB's failures reach the screen as sentences: what failed, on which table, what to do — never
 * DuckDB-wasm's raw JSON (the Data tab once showed `Internal: {"exception_type":"Out of Memory",…}`).
 */
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../core/api/contract';
import { createQueryCalls } from '../../core/query/calls';
import { createNodeSqlSession } from '../../core/query/node/duckdb-node';
import { createQueryEngine } from '../../core/query/engine';
import { mapDuckDbError, parseDuckDbError } from '../../core/query/errors';
import { createSqlSession } from '../../core/query/session';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const OOM_JSON =
  '{"exception_type":"Out of Memory","exception_message":"Failed to create table \'tm_file_40\': could not allocate block of size 256.0 KiB (3.1 GiB/3.1 GiB used)\\n\\nPossible solutions:\\n* Reducing the number of threads"}';
const ctx: HandlerContext = { emit: () => undefined };

describe('DuckDB errors as sentences', () => {
  it('reads DuckDB-wasm JSON errors and DuckDB text errors alike', () => {
    expect(parseDuckDbError(OOM_JSON)).toEqual({
      type: 'Out of Memory',
      message: "Failed to create table 'tm_file_40': could not allocate block of size 256.0 KiB (3.1 GiB/3.1 GiB used)\n\nPossible solutions:\n* Reducing the number of threads",
    });
    expect(parseDuckDbError('Binder Error: Referenced column "x" not found')).toEqual({ type: 'Binder', message: 'Referenced column "x" not found' });
    expect(parseDuckDbError('{not json')).toEqual({ type: null, message: '{not json' });
  });

  it('says what to do when the engine runs out of memory', () => {
    const e = mapDuckDbError(new Error(OOM_JSON), 'CREATE TABLE t AS SELECT 1');
    expect(e.code).toBe('Internal');
    expect(e.message).toBe(
      "the query engine ran out of memory (3.1 GiB of 3.1 GiB used): ask for less at once — a filter, fewer columns, or an older snapshot with fewer rows; an Iceberg table's pages in the Data tab, sorted or filtered, never need this much; a lower query memory budget (Settings) stops such a query before it loads anything",
    );
    expect(e.context).toMatchObject({ duckdbError: 'Out of Memory' });
    const other = mapDuckDbError(new Error('{"exception_type":"IO","exception_message":"Cannot open file \\"x\\"\\nmore"}'), 'SELECT 1');
    expect(other.message).toBe('IO Error: Cannot open file "x"');
  });

  it('a failing whole-version call names the table and the snapshot, without JSON; grid pages still answer', async () => {
    const real = await createNodeSqlSession();
    // The real DuckDB session, except that a pass over a whole table version fails as wasm does
    // when full.
    const session = createSqlSession({
      runQuery: async (sql) => {
        if (/tm_version/.test(sql)) throw new Error(OOM_JSON);
        return real.queryIpc(sql);
      },
      insertArrowIpc: (name, ipc) => real.insertArrowIpc(name, ipc),
      close: () => real.close(),
    });
    const storage = createLocalStorage();
    const engine = createQueryEngine({ session, parquet, storage });
    const calls = createQueryCalls({ storage, engine: async () => engine });
    const table = join(FIXTURES, 'iceberg/icebird/java_bunnies');
    try {
      // Column stats merge the version in DuckDB.
      const failed = calls['query.stats']({ path: table, version: { snapshotId: 4951213507629824583n } }, ctx);
      await expect(failed).rejects.toMatchObject({
        code: 'Internal',
        message: `cannot compute column statistics of table ${table} at snapshot 4951213507629824583: the query engine ran out of memory (3.1 GiB of 3.1 GiB used): ask for less at once — a filter, fewer columns, or an older snapshot with fewer rows; an Iceberg table's pages in the Data tab, sorted or filtered, never need this much; a lower query memory budget (Settings) stops such a query before it loads anything`,
      });
      // Pages of the same version, sorted or not, never read it whole in SQL, so they still answer.
      for (const sort of [[], [{ column: 'Breed Name', desc: false }]]) {
        const page = await calls['query.page']({ path: table, version: { snapshotId: 4951213507629824583n }, offset: 0, limit: 10, sort, filters: [] }, ctx);
        expect(page.rows).toHaveLength(10);
      }
    } finally {
      await engine.close();
    }
  });
});
