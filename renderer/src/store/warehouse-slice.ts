import type { StateCreator } from 'zustand';
import type { WireCallInput, ProfileInfo, TableInfo, WarehouseListing, Wire } from '../../../core/api';
import { client } from '../api/client';
import { writeUrlState } from '../lib/url-state';
import { takeTicket } from './latest';
import type { TableSlice } from './table-slice';

const RECENT_KEY = 'tidemark.recentWarehouses';
const MAX_RECENT = 8;

function readRecent(): string[] {
  try {
    const value = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export interface WarehouseSlice {
  warehouse: Wire<WarehouseListing> | null;
  recentWarehouses: string[];
  warehouseLoading: boolean;
  warehouseError: string | null;
  /** Per table path: its info for the tree (row count, size, snapshots, health) or an error text. */
  tableInfos: Record<string, Wire<TableInfo> | { error: string }>;
  openWarehouse(path: string): Promise<void>;
  /** Opens `s3://bucket/prefix` or a REST catalog URI with a saved profile (the main process keeps its secrets). */
  openRemote(target: string, profile: string | null): Promise<void>;
  openInitialWarehouse(): Promise<void>;
  /** Saved connection profiles: settings and where each secret is kept, never a secret. */
  profiles: Wire<ProfileInfo>[];
  profileError: string | null;
  loadProfiles(): Promise<void>;
  saveProfile(input: WireCallInput<'profiles.save'>): Promise<boolean>;
  deleteProfile(name: string): Promise<void>;
}

/** True when `path` is the lake root `root` or lies below it (either separator: Windows folders). */
export function isWithin(path: string, root: string): boolean {
  if (path === root) return true;
  const base = root.replace(/[\\/]+$/, '');
  return path.startsWith(`${base}/`) || path.startsWith(`${base}\\`);
}

export const createWarehouseSlice: StateCreator<WarehouseSlice & TableSlice, [], [], WarehouseSlice> = (set, get) => {
  async function showListing(listing: Wire<WarehouseListing>, latest: () => boolean) {
    // A table of another lake stays open no longer: its reads would go on with that lake's profile
    // (another remote lake's credentials) while this one, opened with the profile just chosen, is
    // shown. The table ticket drops the replies still in flight for it.
    const open = get().tablePath;
    if (open !== null && !isWithin(open, listing.path)) {
      takeTicket('table');
      set({ tablePath: null, tableInfo: null, snapshots: [], schema: null, version: {}, tableError: null });
    }
    set({ warehouse: listing, warehouseLoading: false, tableInfos: {} });
    const s = get();
    writeUrlState({ warehouse: listing.path, table: s.tablePath, version: s.version, tab: s.tab });
    // Table details fill in as they arrive, a few at a time (each reads one metadata file).
    const queue = listing.tables.map((t) => t.path);
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const info = await client.call('lake.tableInfo', { path: p });
        if (!latest()) return;
        set({ tableInfos: { ...get().tableInfos, [p]: info.ok ? info.value : { error: `${info.error.code}: ${info.error.message}` } } });
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  return {
    warehouse: null,
    recentWarehouses: readRecent(),
    warehouseLoading: false,
    warehouseError: null,
    tableInfos: {},
    profiles: [],
    profileError: null,
    async loadProfiles() {
      const reply = await client.call('profiles.list', {});
      set(reply.ok ? { profiles: reply.value, profileError: null } : { profileError: `${reply.error.code}: ${reply.error.message}` });
    },
    async saveProfile(input) {
      const reply = await client.call('profiles.save', input);
      if (!reply.ok) {
        set({ profileError: `${reply.error.code}: ${reply.error.message}` });
        return false;
      }
      await get().loadProfiles();
      return true;
    },
    async deleteProfile(name) {
      const reply = await client.call('profiles.delete', { name });
      if (!reply.ok) set({ profileError: `${reply.error.code}: ${reply.error.message}` });
      await get().loadProfiles();
    },
    async openRemote(target, profile) {
      set({ warehouseLoading: true, warehouseError: null });
      const latest = takeTicket('warehouse');
      const reply = await client.call('lake.openRemote', profile ? { target, profile } : { target });
      if (!latest()) return;
      if (!reply.ok) {
        set({ warehouseLoading: false, warehouseError: `${reply.error.code}: ${reply.error.message}` });
        return;
      }
      // Remote lake ids last as long as the process: they are not kept among the recent folders.
      await showListing(reply.value, latest);
    },
    async openWarehouse(path) {
      set({ warehouseLoading: true, warehouseError: null });
      const latest = takeTicket('warehouse');
      const reply = await client.call('lake.openWarehouse', { path });
      if (!latest()) return;
      if (!reply.ok) {
        set({ warehouseLoading: false, warehouseError: `${reply.error.code}: ${reply.error.message}` });
        return;
      }
      const recent = [reply.value.path, ...get().recentWarehouses.filter((p) => p !== reply.value.path)].slice(0, MAX_RECENT);
      localStorage.setItem(RECENT_KEY, JSON.stringify(recent));
      set({ recentWarehouses: recent });
      await showListing(reply.value, latest);
    },
    async openInitialWarehouse() {
      const reply = await client.call('app.initialState', {});
      const path = reply.ok ? reply.value.warehouse : null;
      if (path) await get().openWarehouse(path);
    },
  };
};
