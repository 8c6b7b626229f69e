import { useEffect, useState, type FormEvent } from 'react';
import { MEMORY_BUDGET_MIB } from '../../../core/api';
import { useStore } from '../store';

/**
 * The app's settings (saved in its data folder by the main process): the query engine's memory
 * budget, which stops a console query whose table data would not fit with a sentence saying what
 * to change, before DuckDB-wasm runs out of memory.
 */
export function SettingsPanel({ onClose }: { onClose(): void }) {
  const settings = useStore((s) => s.settings);
  const error = useStore((s) => s.settingsError);
  const saveSettings = useStore((s) => s.saveSettings);
  const [budget, setBudget] = useState(String(settings?.queryMemoryBudgetMiB ?? MEMORY_BUDGET_MIB.default));
  const [saved, setSaved] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  // The saved value arrives after the panel may have opened (read at start).
  useEffect(() => {
    if (settings) setBudget(String(settings.queryMemoryBudgetMiB));
  }, [settings]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(null);
    setSaving(true);
    const mib = Number(budget);
    const ok = await saveSettings({ queryMemoryBudgetMiB: mib });
    setSaving(false);
    if (ok) setSaved(`Saved: console queries may load up to ${mib} MiB of table data.`);
  }

  return (
    <section className="settings-panel" role="dialog" aria-label="Settings">
      {/* Out-of-range values get the contract's sentence below, not the browser's tooltip. */}
      <form noValidate onSubmit={(e) => void submit(e)}>
        <h2>Settings</h2>
        <label htmlFor="memory-budget">Query memory budget (MiB)</label>
        <div className="row">
          <input
            id="memory-budget"
            type="number"
            min={MEMORY_BUDGET_MIB.min}
            max={MEMORY_BUDGET_MIB.max}
            step={1}
            value={budget}
            onChange={(e) => setBudget(e.target.value)}
          />
          <button type="submit" disabled={saving || budget.trim() === ''}>
            {saving ? 'Saving…' : 'Save'}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Close
          </button>
        </div>
        <p className="hint">
          A console query whose table data would need more memory than this stops before loading anything, naming the table, its estimate and what to change (a
          WHERE clause, fewer columns). From {MEMORY_BUDGET_MIB.min} to {MEMORY_BUDGET_MIB.max} MiB: the engine (DuckDB-wasm) has about 3 GiB in all. Default{' '}
          {MEMORY_BUDGET_MIB.default} MiB.
        </p>
        {saved && (
          <p className="settings-saved" role="status">
            {saved}
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
