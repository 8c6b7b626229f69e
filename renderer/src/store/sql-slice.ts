import type { StateCreator } from 'zustand';
import type { SqlResult, Wire } from '../../../core/api';
import { client } from '../api/client';
import type { WarehouseSlice } from './warehouse-slice';

const HISTORY_KEY = 'tidemark.sqlHistory';
const MAX_HISTORY = 50;

function readHistory(): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** The SQL console: text, last result, history (kept across restarts). */
export interface SqlSlice {
  sqlText: string;
  sqlResult: Wire<SqlResult> | null;
  sqlError: string | null;
  sqlRunning: boolean;
  sqlHistory: string[];
  setSqlText(text: string): void;
  runSql(): Promise<void>;
}

export const createSqlSlice: StateCreator<SqlSlice & WarehouseSlice, [], [], SqlSlice> = (set, get) => ({
  sqlText: '',
  sqlResult: null,
  sqlError: null,
  sqlRunning: false,
  sqlHistory: readHistory(),
  setSqlText(text) {
    set({ sqlText: text });
  },
  async runSql() {
    const { sqlText, warehouse } = get();
    const sql = sqlText.trim();
    if (!sql) return;
    if (!warehouse) return set({ sqlError: 'InvalidInput: open a warehouse first' });
    set({ sqlRunning: true, sqlError: null });
    const reply = await client.call('query.sql', { warehouse: warehouse.path, sql });
    const history = [sql, ...get().sqlHistory.filter((h) => h !== sql)].slice(0, MAX_HISTORY);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(history));
    if (reply.ok) set({ sqlResult: reply.value, sqlRunning: false, sqlHistory: history });
    else set({ sqlError: `${reply.error.code}: ${reply.error.message}`, sqlRunning: false, sqlResult: null, sqlHistory: history });
  },
});
