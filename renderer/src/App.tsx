import { useEffect, useState } from 'react';
import { client } from './api/client';
import { OpenWarehouse } from './components/OpenWarehouse';
import { SettingsPanel } from './components/SettingsPanel';
import { TableTree } from './components/TableTree';
import { SyncView } from './components/sync/SyncView';
import { TableView } from './components/table/TableView';
import { readUrlState, TABS } from './lib/url-state';
import { useStore } from './store';
import { THEMES, type Theme } from './store/app-slice';
import { isWithin } from './store/warehouse-slice';
import type { RemoteLakeListing, WarehouseListing } from '../../core/api';

/** A local warehouse by its folder; a remote lake by what was opened (its s3:// or rest+ URI), not its internal path. */
const warehouseTitle = (w: WarehouseListing) => (w as Partial<RemoteLakeListing>).label ?? w.path;

export function App() {
  const appVersion = useStore((s) => s.appVersionInfo);
  const screen = useStore((s) => s.screen);
  const setScreen = useStore((s) => s.setScreen);
  const appError = useStore((s) => s.appError);
  const warehouse = useStore((s) => s.warehouse);
  const warehouseLoading = useStore((s) => s.warehouseLoading);
  const tablePath = useStore((s) => s.tablePath);
  const loadVersion = useStore((s) => s.loadVersion);
  const theme = useStore((s) => s.theme);
  const setTheme = useStore((s) => s.setTheme);
  const loadSettings = useStore((s) => s.loadSettings);
  const settingsError = useStore((s) => s.settingsError);
  const [settingsOpen, setSettingsOpen] = useState(false);

  // The pinned theme is an attribute on <html>, which the stylesheet keys its palettes on.
  useEffect(() => {
    if (theme === 'system') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
  }, [theme]);

  useEffect(() => {
    void loadVersion();
    // Reopen what the URL names (a reload or a shared link), else the last warehouse, else the
    // one the app was started with (the demo lake on first start).
    const url = readUrlState();
    const s = useStore.getState();
    void (async () => {
      if (url.warehouse) await s.openWarehouse(url.warehouse);
      else if (s.recentWarehouses[0]) await s.openWarehouse(s.recentWarehouses[0]);
      else await s.openInitialWarehouse();
      // Only a table of the lake reopened: each remote lake reads with the profile it was opened with.
      const lake = useStore.getState().warehouse?.path ?? null;
      if (url.table && (lake === null || isWithin(url.table, lake))) await useStore.getState().openTable(url.table, url.version, url.tab);
    })();
  }, [loadVersion]);

  // The saved memory budget reaches the query engine before the first console query.
  useEffect(() => {
    void loadSettings();
  }, [loadSettings]);

  // Sync progress and events are fed to the store for the whole app (store/sync-feed.ts, main.tsx).

  // The desktop menu (File → Open / Open Recent) opens warehouses through the UI.
  useEffect(() => client.on('app.openWarehouse', ({ path }) => void useStore.getState().openWarehouse(path)), []);

  // Alt+1…6 switch tabs.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!e.altKey) return;
      const n = Number(e.key);
      if (n >= 1 && n <= TABS.length && useStore.getState().tablePath) {
        useStore.getState().setTab(TABS[n - 1]!);
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <header>
        <h1>Tidemark</h1>
        <span className="subtitle">lake explorer · CDC sync manager</span>
        <nav className="screens" role="tablist" aria-label="Screens">
          <button role="tab" aria-selected={screen === 'explorer'} className={screen === 'explorer' ? 'active' : ''} onClick={() => setScreen('explorer')}>
            Explorer
          </button>
          <button role="tab" aria-selected={screen === 'sync'} className={screen === 'sync' ? 'active' : ''} onClick={() => setScreen('sync')}>
            Sync
          </button>
        </nav>
        <label className="theme-picker">
          Theme
          <select aria-label="Theme" value={theme} onChange={(e) => setTheme(e.target.value as Theme)}>
            {THEMES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
        <button className="settings-button" aria-expanded={settingsOpen} onClick={() => setSettingsOpen((o) => !o)}>
          Settings
        </button>
        <span className="version" data-testid="version">
          {appVersion ? `v${appVersion.version} · ${appVersion.mode}${appVersion.electron ? ` · Electron ${appVersion.electron}` : ''}` : '…'}
        </span>
      </header>
      {settingsOpen && <SettingsPanel onClose={() => setSettingsOpen(false)} />}
      {!settingsOpen && settingsError && (
        <p className="error" role="alert">
          {settingsError}
        </p>
      )}
      {appError && (
        <p className="error" role="alert">
          {appError}
        </p>
      )}
      {screen === 'sync' ? (
        <main>
          <SyncView />
        </main>
      ) : (
      <main>
        <aside>
          <OpenWarehouse />
          {/* While another lake opens, the previous one's tables are not offered: a click there
              would open a table of that lake, read with its profile, not the one just chosen. */}
          {warehouse && !warehouseLoading && (
            <>
              <h2 className="warehouse-path" title={warehouseTitle(warehouse)}>
                {warehouseTitle(warehouse)}
              </h2>
              <TableTree warehouse={warehouse} />
            </>
          )}
        </aside>
        <section className="content">
          {tablePath ? (
            <TableView key={tablePath} />
          ) : warehouse ? (
            <p className="hint">
              {warehouse.tables.length} table{warehouse.tables.length === 1 ? '' : 's'} in this warehouse. Pick one on the left.
            </p>
          ) : (
            <div className="empty-state">
              <h2>No warehouse open</h2>
              <p>Open a folder of Iceberg or Paimon tables, or a single table folder written by Spark, Flink, Trino or PyIceberg.</p>
            </div>
          )}
        </section>
      </main>
      )}
    </div>
  );
}
