import { useEffect, useMemo, useState } from 'react';
import type { LoadProgress } from '../../../../core/query/scan-view';
import { client, onLoadProgress } from '../../api/client';
import { formatCount, formatValue } from '../../lib/format';
import { useRead } from '../../store/use-read';
import type { Version } from '../../lib/url-state';
import { DataGrid, type GridFilter, type GridSort, type GridSource } from '../DataGrid';

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

  // The columns and total of the current sort and filters; the previous ones stay shown while
  // they load, so the grid keeps its rows and filter boxes.
  const header = useRead('query.page', { path, version, offset: 0, limit: 0, sort, filters }, { keepPrevious: true });
  // The key whose first page of rows has arrived (or failed).
  const [firstRowsOf, setFirstRowsOf] = useState<string | null>(null);
  // The rows show at once; the exact count of a version with deletes follows once they have
  // arrived (it reads every data file's key column: started earlier, it delays the first rows).
  const countWanted = header.value?.totalPending === true && !header.loading && firstRowsOf === key;
  const count = useRead('query.count', countWanted ? { path, version } : null);
  const columns = header.value?.columns;
  const counted = countWanted && count.value ? count.value.rows : null;
  const total = header.value ? (counted ?? header.value.totalRows) : null;
  const counting = header.value?.totalPending === true && counted === null;
  const error = header.error ?? count.error;

  const source: GridSource | null = useMemo(() => {
    if (total === null || !columns) return null;
    const [path, version, sort, filters] = JSON.parse(key) as [string, Version, GridSort[], GridFilter[]];
    let told = false;
    const firstRowsArrived = () => {
      if (told) return;
      told = true;
      setFirstRowsOf(key);
    };
    return {
      key,
      columns,
      totalRows: total,
      totalPending: counting,
      async fetch(offset, limit) {
        const r = await client.call('query.page', { path, version, offset, limit, sort, filters }).finally(firstRowsArrived);
        if (!r.ok) throw new Error(r.error.message);
        return r.value.rows;
      },
    };
  }, [key, columns, total, counting]);

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
