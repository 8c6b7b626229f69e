import type { StateCreator } from 'zustand';
import type { AppVersion, Wire } from '../../../core/api';
import { client } from '../api/client';

export type Screen = 'explorer' | 'sync';

export interface AppSlice {
  screen: Screen;
  setScreen(screen: Screen): void;
  appVersionInfo: Wire<AppVersion> | null;
  appError: string | null;
  loadVersion(): Promise<void>;
}

export const createAppSlice: StateCreator<AppSlice, [], [], AppSlice> = (set) => ({
  screen: typeof window !== 'undefined' && window.location.hash.startsWith('#/sync') ? 'sync' : 'explorer',
  setScreen(screen) {
    set({ screen });
  },
  appVersionInfo: null,
  appError: null,
  async loadVersion() {
    const reply = await client.call('app.version', {});
    if (reply.ok) set({ appVersionInfo: reply.value });
    else set({ appError: `${reply.error.code}: ${reply.error.message}` });
  },
});
