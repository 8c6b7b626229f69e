/**
 * The app's settings, saved in `<dataDir>/settings.json` (one JSON object). Keys unknown to this
 * version are kept on save, so an older app does not drop a newer one's settings; a known key with a
 * value out of range is an error naming the file and the key, not a silent default.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MEMORY_BUDGET_MIB, type AppSettings } from '../api';
import { TidemarkError } from '../errors';

export interface SettingsStore {
  /** The saved settings, defaults for those never saved. */
  read(): Promise<AppSettings>;
  /** Saves the given settings (the others are kept) and returns them all. */
  save(change: Partial<AppSettings>): Promise<AppSettings>;
}

export const DEFAULT_SETTINGS: AppSettings = { queryMemoryBudgetMiB: MEMORY_BUDGET_MIB.default };

export function createSettingsStore(deps: { dataDir: string }): SettingsStore {
  const file = join(deps.dataDir, 'settings.json');

  async function readRaw(): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new TidemarkError('Io', `cannot read the settings ${file}: ${(e as Error).message}`, { path: file }, e);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new TidemarkError('DataInvalid', `${file}: the settings are not JSON`, { path: file }, e);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TidemarkError('DataInvalid', `${file}: expected a JSON object of settings, found ${Array.isArray(raw) ? 'an array' : JSON.stringify(raw)}`, { path: file });
    return raw as Record<string, unknown>;
  }

  function settingsOf(raw: Record<string, unknown>): AppSettings {
    const budget = raw.queryMemoryBudgetMiB ?? DEFAULT_SETTINGS.queryMemoryBudgetMiB;
    if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < MEMORY_BUDGET_MIB.min || budget > MEMORY_BUDGET_MIB.max) {
      throw new TidemarkError('DataInvalid', `${file}: queryMemoryBudgetMiB: expected a whole number of MiB from ${MEMORY_BUDGET_MIB.min} to ${MEMORY_BUDGET_MIB.max}, found ${JSON.stringify(budget)}`, { path: file, key: 'queryMemoryBudgetMiB' });
    }
    return { queryMemoryBudgetMiB: budget };
  }

  return {
    read: async () => settingsOf(await readRaw()),
    async save(change) {
      const raw = { ...(await readRaw()), ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) };
      const settings = settingsOf(raw);
      await mkdir(deps.dataDir, { recursive: true });
      // Written beside and renamed: a crash never leaves half a settings file.
      const tmp = `${file}.tmp-${process.pid}`;
      await writeFile(tmp, `${JSON.stringify(raw, null, 2)}\n`);
      await rename(tmp, file);
      return settings;
    },
  };
}
