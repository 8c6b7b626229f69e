import { create } from 'zustand';
import { createAppSlice, type AppSlice } from './app-slice';
import { createSqlSlice, type SqlSlice } from './sql-slice';
import { createSyncSlice, type SyncSlice } from './sync-slice';
import { createTableSlice, type TableSlice } from './table-slice';
import { createViewSlice, type ViewSlice } from './view-slice';
import { createWarehouseSlice, type WarehouseSlice } from './warehouse-slice';

/** One store, one slice per concern. */
export type Store = AppSlice & WarehouseSlice & TableSlice & SqlSlice & SyncSlice & ViewSlice;

export const useStore = create<Store>()((...a) => ({
  ...createAppSlice(...a),
  ...createWarehouseSlice(...a),
  ...createTableSlice(...a),
  ...createSqlSlice(...a),
  ...createSyncSlice(...a),
  ...createViewSlice(...a),
}));
