import { useEffect } from 'react';
import { OpenWarehouse } from './components/OpenWarehouse';
import { TableTree } from './components/TableTree';
import { useStore } from './store';

export function App() {
  const version = useStore((s) => s.version);
  const appError = useStore((s) => s.appError);
  const warehouse = useStore((s) => s.warehouse);
  const loadVersion = useStore((s) => s.loadVersion);
  const openInitialWarehouse = useStore((s) => s.openInitialWarehouse);

  useEffect(() => {
    void loadVersion();
    void openInitialWarehouse();
  }, [loadVersion, openInitialWarehouse]);

  return (
    <div className="app">
      <header>
        <h1>Tidemark</h1>
        <span className="subtitle">lake explorer · CDC sync manager</span>
        <span className="version" data-testid="version">
          {version ? `v${version.version} · ${version.mode}${version.electron ? ` · Electron ${version.electron}` : ''}` : '…'}
        </span>
      </header>
      {appError && (
        <p className="error" role="alert">
          {appError}
        </p>
      )}
      <main>
        <aside>
          <OpenWarehouse />
          {warehouse && (
            <>
              <h2 className="warehouse-path" title={warehouse.path}>
                {warehouse.path}
              </h2>
              <TableTree warehouse={warehouse} />
            </>
          )}
        </aside>
        <section className="content">
          {warehouse ? (
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
    </div>
  );
}
