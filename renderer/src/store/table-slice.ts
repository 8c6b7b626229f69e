import type { StateCreator } from 'zustand';
import type { SchemaInfo, SnapshotInfo, TableInfo, Wire } from '../../../core/api';
import { client } from '../api/client';
import { takeTicket } from './latest';
import { leadColumnsInView } from '../lib/row-window';
import { readUrlState, writeUrlState, type Tab, type Version } from '../lib/url-state';
import type { WarehouseSlice } from './warehouse-slice';

/** The table being explored: its info, snapshot timeline, the version shown and the active tab. */
export interface TableSlice {
  tablePath: string | null;
  tableInfo: Wire<TableInfo> | null;
  snapshots: Wire<SnapshotInfo>[];
  schema: Wire<SchemaInfo> | null;
  version: Version;
  tab: Tab;
  tableError: string | null;
  /** Bumped by refreshTable: views of the table key on it to read the table again. */
  tableRevision: number;
  openTable(path: string, version?: Version, tab?: Tab): Promise<void>;
  /** Reads the table's info and timeline again (after a tag, branch, rollback or cherry-pick). */
  refreshTable(): Promise<void>;
  setVersion(version: Version): Promise<void>;
  setTab(tab: Tab): void;
  /** The snapshot id the chosen version resolves to (null for an empty table). */
  resolvedSnapshotId(): string | null;
}

function errorText(e: { code: string; message: string }): string {
  return `${e.code}: ${e.message}`;
}

/** The snapshot a version selector resolves to, following the same rules as the engine. */
export function resolveVersion(version: Version, snapshots: Wire<SnapshotInfo>[], info: Wire<TableInfo> | null): string | null {
  if (version.snapshotId) return version.snapshotId;
  if (version.ref) return info?.refs.find((r) => r.name === version.ref)?.snapshotId ?? null;
  if (version.asOfTimestampMs !== undefined) {
    let pick: string | null = null;
    for (const s of [...snapshots].sort((a, b) => a.timestampMs - b.timestampMs)) if (s.timestampMs <= version.asOfTimestampMs) pick = s.snapshotId;
    return pick;
  }
  return info?.currentSnapshotId ?? null;
}

export const createTableSlice: StateCreator<TableSlice & WarehouseSlice, [], [], TableSlice> = (set, get) => {
  const syncUrl = () => {
    const s = get();
    writeUrlState({ warehouse: s.warehouse?.path ?? null, table: s.tablePath, version: s.version, tab: s.tab });
  };
  const loadSchema = async () => {
    const { tablePath, version } = get();
    if (!tablePath) return;
    const latest = takeTicket('lake.schema');
    const reply = await client.call('lake.schema', { path: tablePath, version });
    if (!latest()) return;
    set(reply.ok ? { schema: reply.value, tableError: null } : { schema: null, tableError: errorText(reply.error) });
  };
  return {
    tablePath: null,
    tableInfo: null,
    snapshots: [],
    schema: null,
    version: {},
    tab: readUrlState().tab,
    tableError: null,
    tableRevision: 0,
    async openTable(path, version = {}, tab) {
      set({ tablePath: path, tableInfo: null, snapshots: [], schema: null, version, tableError: null, ...(tab ? { tab } : {}) });
      syncUrl();
      // Warm the query engine's plan of the version while the table's header loads (the Data tab
      // asks for the same page next); its own call reports any error.
      // With the Data tab's lead columns: the rows it reads ahead are those that tab asks for.
      void client.call('query.page', { path, version, offset: 0, limit: 0, ...(typeof window === 'undefined' ? {} : { leadColumns: leadColumnsInView(window.innerWidth) }) });
      const latest = takeTicket('table');
      const [info, snaps] = await Promise.all([client.call('lake.tableInfo', { path }), client.call('lake.snapshots', { path })]);
      if (!latest()) return;
      if (!info.ok) return set({ tableError: errorText(info.error) });
      if (!snaps.ok) return set({ tableError: errorText(snaps.error) });
      set({ tableInfo: info.value, snapshots: snaps.value });
      await loadSchema();
    },
    async refreshTable() {
      const path = get().tablePath;
      if (!path) return;
      // The renderer's engine reuses a table's metadata for a moment: a change made here shows at once.
      await client.call('query.refresh', { path });
      const latest = takeTicket('table');
      const [info, snaps] = await Promise.all([client.call('lake.tableInfo', { path }), client.call('lake.snapshots', { path })]);
      if (!latest() || get().tablePath !== path) return;
      if (!info.ok) return set({ tableError: errorText(info.error) });
      if (!snaps.ok) return set({ tableError: errorText(snaps.error) });
      set({ tableInfo: info.value, snapshots: snaps.value, tableError: null, tableRevision: get().tableRevision + 1 });
      await loadSchema();
    },
    async setVersion(version) {
      set({ version });
      syncUrl();
      await loadSchema();
    },
    setTab(tab) {
      set({ tab });
      syncUrl();
    },
    resolvedSnapshotId() {
      const s = get();
      return resolveVersion(s.version, s.snapshots, s.tableInfo);
    },
  };
};
