/**
 * One SqlSession over any DuckDB-wasm connection (the blocking build in Node, the async build in a
 * browser): the shared part is the closed check, the mapping of DuckDB's errors to ours (with the
 * position in the SQL), and decoding result IPC into canonical values.
 */
import { tableFromIPC } from 'apache-arrow';
import { TidemarkError } from '../errors';
import { toResultSet, type ArrowTableLike } from './arrow-values';
import type { SqlSession } from './duckdb';
import { mapDuckDbError } from './errors';

export interface ConnectionOps {
  /** Runs SQL and returns the result as Arrow IPC stream bytes that the caller owns. */
  runQuery(sql: string): Uint8Array | Promise<Uint8Array>;
  /** Creates table `name` from Arrow IPC stream bytes. */
  insertArrowIpc(name: string, ipc: Uint8Array): void | Promise<void>;
  close(): void | Promise<void>;
}

export function createSqlSession(ops: ConnectionOps): SqlSession {
  let closed = false;
  async function queryIpc(sql: string): Promise<Uint8Array> {
    if (closed) throw new TidemarkError('Internal', 'SQL session is closed');
    try {
      return await ops.runQuery(sql);
    } catch (e) {
      throw mapDuckDbError(e, sql);
    }
  }
  return {
    async query(sql) {
      return toResultSet(tableFromIPC(await queryIpc(sql)) as unknown as ArrowTableLike);
    },
    queryIpc,
    async insertArrowIpc(name, ipc) {
      try {
        await ops.insertArrowIpc(name, ipc);
      } catch (e) {
        throw mapDuckDbError(e, `insert into ${name}`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await ops.close();
    },
  };
}
