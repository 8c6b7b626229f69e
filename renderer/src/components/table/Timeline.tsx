import { useCallback, useEffect, useRef, useState, type MouseEvent as ReactMouseEvent } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { RefInfo, SnapshotInfo, Wire } from '../../../../core/api';
import { SnapshotMenu } from './SnapshotMenu';
import type { TableFormat } from './table-format';
import { formatCompact, formatCount, formatTime } from '../../lib/format';

const OP_COLORS: Record<string, string> = { append: '#2e7d32', overwrite: '#1f6feb', delete: '#c62828', replace: '#8e24aa' };

/** Total records after each commit, one point per snapshot, coloured by operation. */
function TimelineChart({ snapshots, selected }: { snapshots: Wire<SnapshotInfo>[]; selected: string | null }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || snapshots.length === 0) return;
    const xs = snapshots.map((_s, i) => i + 1);
    const ys = snapshots.map((s) => s.totalRecords ?? null);
    const sel = snapshots.findIndex((s) => s.snapshotId === selected);
    const plot = new uPlot(
      {
        width: el.current.clientWidth || 600,
        height: 140,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false } },
        axes: [
          { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? `#${t}` : '')), stroke: '#8a93a6', grid: { show: false } },
          // Compact labels (1.5M, 20k) so millions fit the axis instead of being clipped.
          { values: (_u, ticks) => ticks.map((t) => formatCompact(t)), stroke: '#8a93a6', size: 60 },
        ],
        series: [
          {},
          {
            label: 'total records',
            stroke: '#1f6feb',
            width: 2,
            points: {
              size: 9,
              fill: (u: uPlot, seriesIdx: number) => {
                void u;
                void seriesIdx;
                return '#ffffff';
              },
            },
          },
        ],
        hooks: {
          draw: [
            (u) => {
              // Colour each commit's point by its operation; ring the selected version.
              const ctx = u.ctx;
              snapshots.forEach((s, i) => {
                const v = ys[i];
                if (v === null || v === undefined) return;
                const x = u.valToPos(i + 1, 'x', true);
                const y = u.valToPos(v, 'y', true);
                ctx.beginPath();
                ctx.fillStyle = OP_COLORS[s.operation] ?? '#6b7385';
                ctx.arc(x, y, 4 * devicePixelRatio, 0, 2 * Math.PI);
                ctx.fill();
                if (i === sel) {
                  ctx.beginPath();
                  ctx.strokeStyle = '#f9a825';
                  ctx.lineWidth = 2 * devicePixelRatio;
                  ctx.arc(x, y, 8 * devicePixelRatio, 0, 2 * Math.PI);
                  ctx.stroke();
                }
              });
            },
          ],
        },
      },
      [xs, ys],
      el.current,
    );
    return () => plot.destroy();
  }, [snapshots, selected]);
  return <div className="timeline-chart" ref={el} role="img" aria-label="Total records per commit" />;
}

export interface TimelineProps {
  snapshots: Wire<SnapshotInfo>[];
  selected: string | null;
  onSelect(id: string): void;
  /** Tags and branches, shown beside their snapshots. */
  refs?: Wire<RefInfo>[];
  /** The table's folder: with `onChanged`, enables the snapshot menu (tags, branches, rollback, cherry-pick). */
  path?: string;
  /** The table format: Paimon's menu has no cherry-pick, and its rollback deletes the later snapshots. */
  format?: TableFormat;
  onChanged?(message: string): Promise<void>;
}

export function Timeline({ snapshots, selected, onSelect, refs = [], path, format = 'iceberg', onChanged }: TimelineProps) {
  const [menu, setMenu] = useState<{ id: string; x: number; y: number } | null>(null);
  const closeMenu = useCallback(() => setMenu(null), []);
  if (snapshots.length === 0) return <p className="muted">This table has no snapshots yet.</p>;
  const managed = path !== undefined && onChanged !== undefined;
  const openMenu = (e: ReactMouseEvent, id: string) => {
    if (!managed) return;
    e.preventDefault();
    setMenu({ id, x: e.clientX, y: e.clientY });
  };
  const menuSnapshot = menu ? snapshots.find((s) => s.snapshotId === menu.id) : undefined;
  return (
    <section className="timeline" aria-label="Snapshot timeline">
      <TimelineChart snapshots={snapshots} selected={selected} />
      <div className="timeline-list">
        <table className="compact">
          <thead>
            <tr>
              <th>#</th>
              <th>snapshot</th>
              <th>committed (UTC)</th>
              <th>operation</th>
              <th className="num">+records</th>
              <th className="num">−records</th>
              <th className="num">total</th>
              <th className="num">+files</th>
              <th>source</th>
              {managed && <th aria-label="actions" />}
            </tr>
          </thead>
          <tbody>
            {snapshots.map((s, i) => (
              <tr
                key={s.snapshotId}
                className={s.snapshotId === selected ? 'selected' : ''}
                onClick={() => onSelect(s.snapshotId)}
                tabIndex={0}
                onKeyDown={(e) => e.key === 'Enter' && onSelect(s.snapshotId)}
                onContextMenu={(e) => openMenu(e, s.snapshotId)}
                data-snapshot={s.snapshotId}
              >
                <td>{i + 1}</td>
                <td className="mono">
                  {s.snapshotId}
                  {refs
                    .filter((r) => r.snapshotId === s.snapshotId)
                    .map((r) => (
                      <span key={r.name} className={`ref ${r.type}`} title={`${r.type} ${r.name}`}>
                        {r.name}
                      </span>
                    ))}
                </td>
                <td>{formatTime(s.timestampMs)}</td>
                <td>
                  <span className={`op ${s.operation}`}>{s.operation}</span>
                </td>
                <td className="num">{formatCount(s.addedRecords)}</td>
                <td className="num">{formatCount(s.deletedRecords)}</td>
                <td className="num">{formatCount(s.totalRecords)}</td>
                <td className="num">{formatCount(s.addedFiles)}</td>
                <td className="mono small">{Object.entries(s.source).map(([k, v]) => `${k.replace(/^tidemark\./, '')}=${v}`).join(' ')}</td>
                {managed && (
                  <td className="more">
                    <button
                      aria-label={`Actions for snapshot ${s.snapshotId}`}
                      onClick={(e) => {
                        e.stopPropagation();
                        const box = e.currentTarget.getBoundingClientRect();
                        setMenu({ id: s.snapshotId, x: Math.max(8, box.right - 240), y: box.bottom });
                      }}
                    >
                      ⋯
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {menu && menuSnapshot && managed && (
        <SnapshotMenu path={path} format={format} snapshot={menuSnapshot} snapshots={snapshots} refs={refs} at={{ x: menu.x, y: menu.y }} onClose={closeMenu} onChanged={onChanged} />
      )}
    </section>
  );
}
