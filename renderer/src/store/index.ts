import { create } from 'zustand';
import { createAppSlice, type AppSlice } from './app-slice';
import { createWarehouseSlice, type WarehouseSlice } from './warehouse-slice';

/** One store, one slice per concern. */
export type Store = AppSlice & WarehouseSlice;

export const useStore = create<Store>()((...a) => ({
  ...createAppSlice(...a),
  ...createWarehouseSlice(...a),
}));
