/**
 * DuckDB's failures reach the screen as sentences: what failed, on which table, what to do — never
 * DuckDB-wasm's raw JSON (the Data tab once showed `Internal: {"exception_type":"Out of Memory",…}`).
 */
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../core/api/contract';
import { createQueryCalls } from '../../core/query/calls';
import { createNodeSqlSession } from '../../core/query/duckdb-node';
import { createQueryEngine } from '../../core/query/engine';
import { mapDuckDbError, parseDuckDbError } from '../../core/query/errors';
import { createSqlSession } from '../../core/query/session';
import { createLocalStorage } from '../../core/storage/local';
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
      'the query engine ran out of memory (3.1 GiB of 3.1 GiB used): ask for less at once — a filter, fewer columns, or an older snapshot with fewer rows; unsorted pages of a table never need this much',
    );
    expect(e.context).toMatchObject({ duckdbError: 'Out of Memory' });
    const other = mapDuckDbError(new Error('{"exception_type":"IO","exception_message":"Cannot open file \\"x\\"\\nmore"}'), 'SELECT 1');
    expect(other.message).toBe('IO Error: Cannot open file "x"');
  });

  it('a failing sorted page names the table and the snapshot, without JSON', async () => {
    const real = await createNodeSqlSession();
    // The real DuckDB session, except that a sorted pass over a whole table version fails as wasm
    // does when full.
    const session = createSqlSession({
      runQuery: async (sql) => {
        if (/tm_version/.test(sql) && /ORDER BY/i.test(sql)) throw new Error(OOM_JSON);
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
      const failed = calls['query.page']({ path: table, version: { snapshotId: 4951213507629824583n }, offset: 0, limit: 10, sort: [{ column: 'Breed Name', desc: false }], filters: [] }, ctx);
      await expect(failed).rejects.toMatchObject({
        code: 'Internal',
        message: `cannot read table ${table} at snapshot 4951213507629824583: the query engine ran out of memory (3.1 GiB of 3.1 GiB used): ask for less at once — a filter, fewer columns, or an older snapshot with fewer rows; unsorted pages of a table never need this much`,
      });
      // The unsorted page of the same version never reads it whole in SQL, so it still answers.
      const page = await calls['query.page']({ path: table, version: { snapshotId: 4951213507629824583n }, offset: 0, limit: 10, sort: [], filters: [] }, ctx);
      expect(page.rows).toHaveLength(10);
    } finally {
      await engine.close();
    }
  });
});
