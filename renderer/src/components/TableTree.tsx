import type { TableInfo, WarehouseListing, Wire } from '../../../core/api';
import { formatBytes, formatCount, formatRelative } from '../lib/format';
import { useStore } from '../store';

function Details({ info }: { info: Wire<TableInfo> | { error: string } | undefined }) {
  if (!info) return <span className="muted">…</span>;
  if ('error' in info) return <span className="error" title={info.error}>unreadable</span>;
  return (
    <span className="details" title={`${info.snapshotCount} snapshots · last commit ${new Date(info.lastCommitMs ?? 0).toISOString()}`}>
      {formatCount(info.totalRecords)} records · {formatBytes(info.totalSizeBytes)} · {info.snapshotCount} snap · {formatRelative(info.lastCommitMs)}
    </span>
  );
}

function HealthBadge({ info }: { info: Wire<TableInfo> | { error: string } | undefined }) {
  if (!info || 'error' in info) return null;
  return (
    <span className={`health ${info.health.badge}`} title={info.health.notes.join('\n') || 'healthy'} aria-label={`health ${info.health.badge}`}>
      {info.health.badge === 'ok' ? '●' : '▲'}
    </span>
  );
}

/** The warehouse's tables grouped by namespace, with row count, size, snapshots and health. */
export function TableTree({ warehouse }: { warehouse: Wire<WarehouseListing> }) {
  const infos = useStore((s) => s.tableInfos);
  const openTable = useStore((s) => s.openTable);
  const current = useStore((s) => s.tablePath);
  const byNamespace = new Map<string, typeof warehouse.tables>();
  for (const t of warehouse.tables) byNamespace.set(t.namespace, [...(byNamespace.get(t.namespace) ?? []), t]);
  if (warehouse.tables.length === 0) return <p className="empty">No Iceberg or Paimon tables under {warehouse.path}.</p>;
  return (
    <nav className="table-tree" aria-label="Tables">
      {[...byNamespace.entries()].map(([ns, tables]) => (
        <div key={ns} className="namespace">
          <h3>{ns || '(table root)'}</h3>
          <ul>
            {tables.map((t) => (
              <li key={t.path} title={t.path} className={current === t.path ? 'selected' : ''}>
                <button className="table-link" onClick={() => void openTable(t.path)}>
                  <span className="row1">
                    <HealthBadge info={infos[t.path]} />
                    <span className="table-name">{t.name}</span>
                    <span className={`badge ${t.format}`}>{t.format}</span>
                  </span>
                  <Details info={infos[t.path]} />
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </nav>
  );
}
