import type { WarehouseListing, Wire } from '../../../core/api';

/** The warehouse's tables grouped by namespace. */
export function TableTree({ warehouse }: { warehouse: Wire<WarehouseListing> }) {
  const byNamespace = new Map<string, typeof warehouse.tables>();
  for (const t of warehouse.tables) {
    const list = byNamespace.get(t.namespace) ?? [];
    list.push(t);
    byNamespace.set(t.namespace, list);
  }
  if (warehouse.tables.length === 0) {
    return <p className="empty">No Iceberg or Paimon tables under {warehouse.path}.</p>;
  }
  return (
    <nav className="table-tree" aria-label="Tables">
      {[...byNamespace.entries()].map(([ns, tables]) => (
        <div key={ns} className="namespace">
          <h3>{ns || '(table root)'}</h3>
          <ul>
            {tables.map((t) => (
              <li key={t.path} title={t.path}>
                <span className="table-name">{t.name}</span>
                <span className={`badge ${t.format}`}>{t.format}</span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </nav>
  );
}
