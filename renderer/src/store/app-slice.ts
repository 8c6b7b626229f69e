import type { StateCreator } from 'zustand';
import type { AppSettings, AppVersion, Wire } from '../../../core/api';
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
  /** The saved settings (null until read). */
  settings: Wire<AppSettings> | null;
  /** Why reading, saving or applying the settings failed (a sentence), or null. */
  settingsError: string | null;
  /** Reads the saved settings and applies them to the query engine (at start). */
  loadSettings(): Promise<void>;
  /** Saves a change and applies it to the query engine; true when both succeeded. */
  saveSettings(change: Partial<Wire<AppSettings>>): Promise<boolean>;
}

/**
 * Sends the memory budget to the engine answering query.* calls: the renderer's own worker (main's
 * engine follows settings.save by itself). Null when it succeeded, else the error as a sentence.
 */
async function applyToEngine(settings: Wire<AppSettings>): Promise<string | null> {
  const reply = await client.call('query.configure', { memoryBudgetMiB: settings.queryMemoryBudgetMiB });
  return reply.ok ? null : `The query engine did not take the memory budget of ${settings.queryMemoryBudgetMiB} MiB: ${reply.error.message}`;
}

/**
 * Each read or save of the settings takes a number; a reply that a later read or save overtook
 * leaves the panel's sentence alone (the engine's start can make the first read's apply finish
 * after a save the user made meanwhile, and it must not wipe that save's error).
 */
let settingsTurn = 0;

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
  settings: null,
  settingsError: null,
  async loadSettings() {
    const turn = ++settingsTurn;
    const reply = await client.call('settings.read', {});
    if (turn !== settingsTurn) return;
    if (!reply.ok) return set({ settingsError: `Cannot read the saved settings: ${reply.error.message}` });
    set({ settings: reply.value });
    const error = await applyToEngine(reply.value);
    if (turn === settingsTurn) set({ settingsError: error });
  },
  async saveSettings(change) {
    const turn = ++settingsTurn;
    const reply = await client.call('settings.save', change);
    if (!reply.ok) {
      if (turn !== settingsTurn) return false;
      set({ settingsError: `The settings were not saved: ${reply.error.message}` });
      return false;
    }
    const error = await applyToEngine(reply.value);
    if (turn === settingsTurn) set({ settings: reply.value, settingsError: error });
    return error === null;
  },
});
