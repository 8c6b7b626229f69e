/**
 * DuckDB-wasm in Node: the blocking build (no worker), used by the CLI, tests and the main process.
 * Node only (it resolves the wasm files from node_modules).
 */
import { createDuckDB, NODE_RUNTIME, VoidLogger, type DuckDBBindings } from '@duckdb/duckdb-wasm/blocking';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SESSION_SETUP, type SqlSession } from '../duckdb';
import { createSqlSession } from '../session';

let shared: Promise<DuckDBBindings> | null = null;

/** Instantiates DuckDB-wasm once per process (~1.5 s); connections are cheap. */
function instantiate(): Promise<DuckDBBindings> {
  shared ??= (async () => {
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@duckdb/duckdb-wasm/dist/duckdb-eh.wasm'));
    const db = await createDuckDB(
      {
        mvp: { mainModule: join(dist, 'duckdb-mvp.wasm'), mainWorker: join(dist, 'duckdb-node-mvp.worker.cjs') },
        eh: { mainModule: join(dist, 'duckdb-eh.wasm'), mainWorker: join(dist, 'duckdb-node-eh.worker.cjs') },
      },
      new VoidLogger(),
      NODE_RUNTIME,
    );
    await db.instantiate();
    return db;
  })();
  return shared;
}

export async function createNodeSqlSession(): Promise<SqlSession> {
  const db = await instantiate();
  const conn = db.connect();
  for (const s of SESSION_SETUP) conn.query(s);
  return createSqlSession({
    // runQuery returns a view into wasm memory: copy it before the next call reuses it.
    runQuery: (sql) => conn.useUnsafe((bindings, id) => bindings.runQuery(id, sql)).slice(),
    insertArrowIpc: (name, ipc) => conn.insertArrowFromIPCStream(ipc, { name, create: true }),
    close: () => conn.close(),
  });
}
