import type { StateCreator } from 'zustand';
import type { AppVersion, Wire } from '../../../core/api';
import { client } from '../api/client';

export type Screen = 'explorer' | 'sync';
/** 'system' follows the OS (prefers-color-scheme); the others pin a palette. */
export type Theme = 'system' | 'light' | 'dark';
export const THEMES: readonly Theme[] = ['system', 'light', 'dark'];
const THEME_KEY = 'tidemark.theme';

function readTheme(): Theme {
  const v = typeof localStorage === 'undefined' ? null : localStorage.getItem(THEME_KEY);
  return THEMES.includes(v as Theme) ? (v as Theme) : 'system';
}

export interface AppSlice {
  screen: Screen;
  setScreen(screen: Screen): void;
  theme: Theme;
  /** Pins or releases the palette; kept across restarts. */
  setTheme(theme: Theme): void;
  appVersionInfo: Wire<AppVersion> | null;
  appError: string | null;
  loadVersion(): Promise<void>;
}

export const createAppSlice: StateCreator<AppSlice, [], [], AppSlice> = (set) => ({
  screen: typeof window !== 'undefined' && window.location.hash.startsWith('#/sync') ? 'sync' : 'explorer',
  setScreen(screen) {
    set({ screen });
  },
  theme: readTheme(),
  setTheme(theme) {
    localStorage.setItem(THEME_KEY, theme);
    set({ theme });
  },
  appVersionInfo: null,
  appError: null,
  async loadVersion() {
    const reply = await client.call('app.version', {});
    if (reply.ok) set({ appVersionInfo: reply.value });
    else set({ appError: `${reply.error.code}: ${reply.error.message}` });
  },
});
