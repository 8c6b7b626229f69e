import type { StateCreator } from 'zustand';
import type { SqlResult, Wire } from '../../../core/api';
import { client } from '../api/client';
import { takeTicket } from './latest';
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
  /** Column names per namespace and table of the open warehouse's Iceberg tables, for completion. */
  sqlSchema: Record<string, Record<string, string[]>>;
  setSqlText(text: string): void;
  runSql(): Promise<void>;
  /** Reads the schema of every Iceberg table of the open warehouse into `sqlSchema`. */
  loadSqlSchema(): Promise<void>;
}

export const createSqlSlice: StateCreator<SqlSlice & WarehouseSlice, [], [], SqlSlice> = (set, get) => ({
  sqlText: '',
  sqlResult: null,
  sqlError: null,
  sqlRunning: false,
  sqlHistory: readHistory(),
  sqlSchema: {},
  setSqlText(text) {
    set({ sqlText: text });
  },
  async runSql() {
    const { sqlText, warehouse } = get();
    const sql = sqlText.trim();
    if (!sql) return;
    if (!warehouse) return set({ sqlError: 'InvalidInput: open a warehouse first' });
    set({ sqlRunning: true, sqlError: null });
    const latest = takeTicket('query.sql');
    const reply = await client.call('query.sql', { warehouse: warehouse.path, sql });
    // A newer run (or another warehouse's) owns the result pane; the history still gets this text.
    const history = [sql, ...get().sqlHistory.filter((h) => h !== sql)].slice(0, MAX_HISTORY);
    localStorage.setItem(HISTORY_KEY, JSON.stringify(history));
    if (!latest()) return set({ sqlHistory: history });
    if (get().warehouse?.path !== warehouse.path) return set({ sqlRunning: false, sqlHistory: history });
    if (reply.ok) set({ sqlResult: reply.value, sqlRunning: false, sqlHistory: history });
    else set({ sqlError: `${reply.error.code}: ${reply.error.message}`, sqlRunning: false, sqlResult: null, sqlHistory: history });
  },
  async loadSqlSchema() {
    const warehouse = get().warehouse;
    if (!warehouse) return;
    const latest = takeTicket('sqlSchema');
    const entries = await Promise.all(
      warehouse.tables
        .filter((t) => t.format === 'iceberg')
        .map(async (t) => {
          const r = await client.call('lake.schema', { path: t.path });
          return [t, r.ok ? r.value.fields.map((f) => f.name) : []] as const;
        }),
    );
    if (!latest()) return;
    const schema: Record<string, Record<string, string[]>> = {};
    for (const [t, cols] of entries) (schema[t.namespace] ??= {})[t.name] = cols;
    // The same names again (the console reopened) keep the editor as it is.
    if (JSON.stringify(schema) !== JSON.stringify(get().sqlSchema)) set({ sqlSchema: schema });
  },
});
