import { useState, type FormEvent } from 'react';
import { useStore } from '../store';

export function OpenWarehouse() {
  const openWarehouse = useStore((s) => s.openWarehouse);
  const recent = useStore((s) => s.recentWarehouses);
  const loading = useStore((s) => s.warehouseLoading);
  const error = useStore((s) => s.warehouseError);
  const [path, setPath] = useState('');

  function submit(e: FormEvent) {
    e.preventDefault();
    if (path.trim()) void openWarehouse(path.trim());
  }

  return (
    <section className="open-warehouse" aria-label="Open a warehouse">
      <form onSubmit={submit}>
        <label htmlFor="warehouse-path">Warehouse or table folder</label>
        <div className="row">
          <input
            id="warehouse-path"
            value={path}
            placeholder="/path/to/warehouse"
            onChange={(e) => setPath(e.target.value)}
            spellCheck={false}
            autoFocus
          />
          <button type="submit" disabled={loading || !path.trim()}>
            {loading ? 'Opening…' : 'Open'}
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {recent.length > 0 && (
        <div className="recent">
          <h3>Recent</h3>
          <ul>
            {recent.map((p) => (
              <li key={p}>
                <button className="link" onClick={() => void openWarehouse(p)}>
                  {p}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
