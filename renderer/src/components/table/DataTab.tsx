import { useEffect, useMemo, useRef, useState } from 'react';
import type { ColumnInfo, Wire } from '../../../../core/api';
import type { LoadProgress } from '../../../../core/query/scan-view';
import { client, onLoadProgress } from '../../api/client';
import { useCall } from '../../api/use-call';
import { formatCount, formatValue } from '../../lib/format';
import type { Version } from '../../lib/url-state';
import { DataGrid, type GridFilter, type GridSort, type GridSource } from '../DataGrid';

function StatsPanel({ path, version, column }: { path: string; version: Version; column: string | null }) {
  const { value: stats, error } = useCall('query.stats', { path, version });
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
  const [columns, setColumns] = useState<Wire<ColumnInfo>[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  // True while the total is the records before deletes and query.count is still counting.
  const [counting, setCounting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [statsColumn, setStatsColumn] = useState<string | null>(null);
  const [showStats, setShowStats] = useState(false);
  // The request's content is the dependency of the effects below: the same content, no refetch.
  const key = JSON.stringify([path, version, sort, filters]);
  const [progress, setProgress] = useState<LoadProgress | null>(null);
  // While the version loads (seconds for millions of rows), say how far along it is.
  useEffect(() => {
    setProgress(null);
    return onLoadProgress((p) => {
      if (p.table === path) setProgress(p);
    });
  }, [path]);

  // Settles when the grid's first page of the current key has arrived (or failed).
  const firstRows = useRef<{ promise: Promise<void>; settle(): void; key: string } | null>(null);
  if (firstRows.current?.key !== key) {
    let settle = () => {};
    const promise = new Promise<void>((resolve) => (settle = resolve));
    firstRows.current = { promise, settle, key };
  }
  useEffect(() => {
    let live = true;
    const first = firstRows.current!;
    const [path, version, sort, filters] = JSON.parse(key) as [string, Version, GridSort[], GridFilter[]];
    setError(null);
    void client.call('query.page', { path, version, offset: 0, limit: 0, sort, filters }).then((r) => {
      if (!live) return;
      if (!r.ok) return setError(`${r.error.code}: ${r.error.message}`);
      setColumns(r.value.columns);
      setTotal(r.value.totalRows);
      setCounting(r.value.totalPending);
      // The rows show at once; the exact count of a version with deletes follows once they have
      // arrived (it reads every data file's key column: started earlier, it delays the first rows).
      if (r.value.totalPending)
        void first.promise.then(() =>
          client.call('query.count', { path, version }).then((c) => {
            if (!live) return;
            if (!c.ok) return setError(`${c.error.code}: ${c.error.message}`);
            setTotal(c.value.rows);
            setCounting(false);
          }),
        );
    });
    return () => {
      live = false;
    };
  }, [key]);

  const source: GridSource | null = useMemo(() => {
    if (total === null) return null;
    const [path, version, sort, filters] = JSON.parse(key) as [string, Version, GridSort[], GridFilter[]];
    return {
      key,
      columns,
      totalRows: total,
      totalPending: counting,
      async fetch(offset, limit) {
        const r = await client.call('query.page', { path, version, offset, limit, sort, filters }).finally(() => firstRows.current?.settle());
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
            {columns.map((c) => (
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
          onCellActivate={(row) => onKey(Object.fromEntries(columns.map((c, i) => [c.name, row[i]])))}
        />
        {showStats && <StatsPanel path={path} version={version} column={statsColumn} />}
      </div>
    </div>
  );
}
