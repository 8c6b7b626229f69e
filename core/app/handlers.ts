import { resolve } from 'node:path';
import type { HandlerTable } from '../api/contract';
import { listWarehouseTables } from '../lake/warehouse';
import type { StoragePort } from '../storage';
import { TIDEMARK_VERSION } from './version';

export interface HandlerDeps {
  storage: StoragePort;
  mode: 'electron' | 'browser';
  electronVersion: string | null;
  /** Called with every folder the user opens, so the file server may serve files below it. */
  allowRoot(path: string): void;
  /** The warehouse given on the command line, opened first by the UI. */
  initialWarehouse: string | null;
}

/** The one handler table behind Electron IPC and the browser-mode server. */
export function createHandlers(deps: HandlerDeps): HandlerTable {
  return {
    'app.version': async () => ({
      version: TIDEMARK_VERSION,
      node: process.versions.node,
      electron: deps.electronVersion,
      mode: deps.mode,
    }),
    'app.initialState': async () => ({ warehouse: deps.initialWarehouse }),
    'lake.openWarehouse': async ({ path }) => {
      const root = resolve(path);
      const tables = await listWarehouseTables(deps.storage, root);
      deps.allowRoot(root);
      return { path: root, tables };
    },
  };
}
