import { useEffect, useMemo, useState } from 'react';
import type { LoadProgress } from '../../../../core/query/scan-view';
import { client, onLoadProgress } from '../../api/client';
import { formatCount, formatValue } from '../../lib/format';
import { leadColumnsInView } from '../../lib/row-window';
import { useRead } from '../../store/use-read';
import type { Version } from '../../lib/url-state';
import { DataGrid, GRID_PAGE_ROWS, type GridFilter, type GridSort, type GridSource } from '../DataGrid';

function StatsPanel({ path, version, column }: { path: string; version: Version; column: string | null }) {
  const { value: stats, error } = useRead('query.stats', { path, version });
  if (error) return <aside className="stats-panel error">{error}</aside>;
  if (!stats) return <aside className="stats-panel muted">computing column stats…</aside>;
  const shown = column ? stats.filter((s) => s.name === column) : stats;
  return (
    <aside className="stats-panel" aria-label="Column statistics">
      {shown.map((s) => {
        const max = Math.max(1, ...(s.histogram ?? []).map((b) => b.count));
        return (
          <div key={s.name} className="stat-block">
            <h4>
              {s.name} <span className="muted">{s.type}</span>
            </h4>
            <dl>
              <dt>count</dt>
              <dd>{formatCount(s.count)}</dd>
              <dt>nulls</dt>
              <dd>{formatCount(s.nulls)}</dd>
              <dt>distinct≈</dt>
              <dd>{formatCount(s.approxDistinct)}</dd>
              <dt>min</dt>
              <dd>{formatValue(s.min)}</dd>
              <dt>max</dt>
              <dd>{formatValue(s.max)}</dd>
            </dl>
            {s.histogram && (
              <div className="histogram" role="img" aria-label={`histogram of ${s.name}`}>
                {s.histogram.map((b, i) => (
                  <span key={i} style={{ height: `${(b.count / max) * 100}%` }} title={`${formatValue(b.low)} – ${formatValue(b.high)}: ${b.count}`} />
                ))}
              </div>
            )}
            {s.topValues && (
              <ol className="top-values">
                {s.topValues.map((t) => (
                  <li key={formatValue(t.value)}>
                    <span>{formatValue(t.value)}</span> <span className="muted">{t.count}</span>
                  </li>
                ))}
              </ol>
            )}
          </div>
        );
      })}
    </aside>
  );
}

/** Records and files loaded so far, with a bar (nothing once every file is in). */
function LoadProgressText({ progress }: { progress: LoadProgress | null }) {
  if (!progress || progress.doneFiles >= progress.totalFiles) return null;
  return (
    <>
      {formatCount(progress.doneRecords)} of {formatCount(progress.totalRecords)} records ({progress.doneFiles} of {progress.totalFiles} files)
      <progress value={progress.doneRecords} max={Math.max(1, progress.totalRecords)} />
    </>
  );
}

/** The rows of the chosen version in the virtualized grid, with per-column stats beside it. */
export function DataTab({ path, version, onKey }: { path: string; version: Version; onKey(row: Record<string, unknown>): void }) {
  const [sort, setSort] = useState<GridSort[]>([]);
  const [filters, setFilters] = useState<GridFilter[]>([]);
  const [statsColumn, setStatsColumn] = useState<string | null>(null);
  const [showStats, setShowStats] = useState(false);
  // The grid's rows change with this key (the version, sort and filters as JSON).
  const key = JSON.stringify([path, version, sort, filters]);
  const [progress, setProgress] = useState<LoadProgress | null>(null);
  // While the version loads (seconds for millions of rows), say how far along it is.
  useEffect(() => {
    setProgress(null);
    return onLoadProgress((p) => {
      if (p.table === path) setProgress(p);
    });
  }, [path]);

  // The columns, the total and the first page of rows of the current sort and filters, in one
  // call. While a new sort, filter or version loads, the grid keeps the previous one's rows and
  // filter boxes: it shows the key the header last answered.
  // In file order, the first rows carry the columns in view only (their pages alone are decoded
  // before the first paint); the grid then fetches them whole.
  const [lead] = useState(() => leadColumnsInView(window.innerWidth));
  const plain = sort.length === 0 && filters.length === 0;
  const header = useRead('query.page', { path, version, offset: 0, limit: GRID_PAGE_ROWS, sort, filters, ...(plain ? { leadColumns: lead } : {}) }, { keepPrevious: true });
  const [shownKey, setShownKey] = useState<string | null>(null);
  if (header.value && !header.loading && shownKey !== key) setShownKey(key);
  // The exact count of a version with deletes follows the first rows (it reads every data file's
  // key column: started earlier, it delays them).
  const countWanted = header.value?.totalPending === true && !header.loading;
  const count = useRead('query.count', countWanted ? { path, version } : null);
  const first = header.value;
  const counted = countWanted && count.value ? count.value.rows : null;
  const total = first ? (counted ?? first.totalRows) : null;
  const counting = first?.totalPending === true && counted === null;
  const error = header.error ?? count.error;
  const columns = first?.columns;

  const source: GridSource | null = useMemo(() => {
    if (total === null || !first || shownKey === null) return null;
    const [path, version, sort, filters] = JSON.parse(shownKey) as [string, Version, GridSort[], GridFilter[]];
    return {
      key: shownKey,
      columns: first.columns,
      totalRows: total,
      totalPending: counting,
      firstRows: first.rows,
      async fetch(offset, limit) {
        const r = await client.call('query.page', { path, version, offset, limit, sort, filters });
        if (!r.ok) throw new Error(r.error.message);
        return r.value.rows;
      },
    };
  }, [shownKey, first, total, counting]);

  if (error) return <p className="error" role="alert">{error}</p>;
  if (!source)
    return (
      <p className="muted" role="status" data-testid="load-progress">
        loading rows… <LoadProgressText progress={progress} />
      </p>
    );
  return (
    <div className="data-tab">
      <div className="toolbar">
        {progress && progress.doneFiles < progress.totalFiles && (
          // A sort or filter merges the whole version first: its load shows here.
          <span className="muted" role="status" data-testid="load-progress">
            loading the version for this order… <LoadProgressText progress={progress} />
          </span>
        )}
        <button className="secondary" onClick={() => setShowStats((s) => !s)} aria-pressed={showStats}>
          {showStats ? 'Hide stats' : 'Column stats'}
        </button>
        {showStats && (
          <select aria-label="Stats column" value={statsColumn ?? ''} onChange={(e) => setStatsColumn(e.target.value || null)}>
            <option value="">all columns</option>
            {(columns ?? []).map((c) => (
              <option key={c.name}>{c.name}</option>
            ))}
          </select>
        )}
      </div>
      <div className="data-layout">
        <DataGrid
          source={source}
          sort={sort}
          onSortChange={setSort}
          onFilterChange={setFilters}
          onCellActivate={(row) => onKey(Object.fromEntries(source.columns.map((c, i) => [c.name, row[i]])))}
        />
        {showStats && <StatsPanel path={path} version={version} column={statsColumn} />}
      </div>
    </div>
  );
}
