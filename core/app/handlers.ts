import { resolve } from 'node:path';
import type { HandlerTable } from '../api/contract';
import { loadTable } from '../lake/table';
import { listWarehouseTables } from '../lake/warehouse';
import { readColumnStats } from '../query/column-stats';
import type { QueryEngine } from '../query/engine';
import { readKeyHistory } from '../query/key-history';
import { createNodeQueryEngine } from '../query/node';
import { diffRows } from '../query/row-diff';
import { diffSchemas, readSchemaVersion } from '../query/schema-diff';
import type { StoragePort } from '../storage';
import { describeSnapshots, readFileEntries, readSchemaInfo, readTableInfo } from './lake-service';
import { exportResult, readPage, runSql } from './query-service';
import { TIDEMARK_VERSION } from './version';

export interface HandlerDeps {
  storage: StoragePort;
  mode: 'electron' | 'browser';
  electronVersion: string | null;
  /** Called with every folder the user opens, so the file server may serve files below it. */
  allowRoot(path: string): void;
  /** The warehouse given on the command line, opened first by the UI. */
  initialWarehouse: string | null;
  /** The query engine; created on first use (DuckDB-wasm takes ~1.5 s to start). */
  createEngine?: () => Promise<QueryEngine>;
}

/** The one handler table behind Electron IPC and the browser-mode server. */
export function createHandlers(deps: HandlerDeps): HandlerTable {
  let engine: Promise<QueryEngine> | null = null;
  const getEngine = () => {
    engine ??= (deps.createEngine ?? (() => createNodeQueryEngine(deps.storage)))();
    engine.catch(() => (engine = null));
    return engine;
  };
  const abs = (p: string) => resolve(p);

  return {
    'app.version': async () => ({
      version: TIDEMARK_VERSION,
      node: process.versions.node,
      electron: deps.electronVersion,
      mode: deps.mode,
    }),
    'app.initialState': async () => ({ warehouse: deps.initialWarehouse }),
    'lake.openWarehouse': async ({ path }) => {
      const root = abs(path);
      const tables = await listWarehouseTables(deps.storage, root);
      deps.allowRoot(root);
      return { path: root, tables };
    },
    'lake.tableInfo': async ({ path }) => readTableInfo(deps.storage, abs(path)),
    'lake.snapshots': async ({ path }) => describeSnapshots(await loadTable(deps.storage, abs(path))),
    'lake.schema': async ({ path, version }) => readSchemaInfo(deps.storage, abs(path), version),
    'lake.files': async ({ path, version }) => readFileEntries(deps.storage, abs(path), version),
    'query.page': async (input) => readPage(await getEngine(), { ...input, path: abs(input.path) }),
    'query.sql': async ({ warehouse, sql, limit }) => runSql(await getEngine(), abs(warehouse), sql, limit),
    'query.schemaDiff': async ({ path, from, to }) => {
      const table = await loadTable(deps.storage, abs(path));
      return diffSchemas(await readSchemaVersion(deps.storage, table, from), await readSchemaVersion(deps.storage, table, to));
    },
    'query.rowDiff': async ({ path, from, to, key, limit }) => {
      const e = await getEngine();
      return diffRows(e, await loadTable(deps.storage, abs(path)), from, to, { key, limit });
    },
    'query.keyHistory': async ({ path, key }) => {
      const e = await getEngine();
      return readKeyHistory(e, await loadTable(deps.storage, abs(path)), key);
    },
    'query.stats': async ({ path, version }) => {
      const e = await getEngine();
      return readColumnStats(e, await loadTable(deps.storage, abs(path)), version ?? {});
    },
    'query.export': async (input) => exportResult(await getEngine(), { ...input, to: abs(input.to), path: input.path ? abs(input.path) : undefined, warehouse: input.warehouse ? abs(input.warehouse) : undefined }),
  };
}
