import { formatCount, formatRelative } from '../../lib/format';
import { useStore } from '../../store';

/** A pipeline's live progress: phase, committed position, per-table rows, lag, snapshot ETA. */
export function SyncProgressPanel({ name }: { name: string }) {
  const p = useStore((s) => s.progress[name]);
  const openWarehouse = useStore((s) => s.openWarehouse);
  const openTable = useStore((s) => s.openTable);
  const setScreen = useStore((s) => s.setScreen);
  const plan = useStore((s) => s.plan);
  if (!p) return <p className="muted">Not run yet.</p>;
  const open = async (table: string) => {
    const target = plan?.targets.find((t) => t.table === table);
    if (!target) return;
    await openWarehouse(target.path.split('/').slice(0, -2).join('/'));
    await openTable(target.path);
    setScreen('explorer');
  };
  return (
    <section aria-label="Progress" className="sync-progress">
      <p>
        phase <b data-testid="sync-phase">{p.phase}</b> · committed through <span className="mono">{p.committedPosition ?? '–'}</span>
        {p.committedGtid && <span className="mono"> ({p.committedGtid})</span>} · {p.bufferedTransactions} transactions buffered · updated {formatRelative(p.updatedAtMs)}
      </p>
      {p.lastError && <p className="error">{p.lastError}</p>}
      <table className="compact" aria-label="Tables in sync">
        <thead>
          <tr>
            <th>target table</th>
            <th className="num">rows in</th>
            <th className="num">rows committed</th>
            <th className="num">commits</th>
            <th className="num">lag</th>
            <th>snapshot phase</th>
            <th>last error</th>
          </tr>
        </thead>
        <tbody>
          {p.tables.map((t) => (
            <tr key={t.table}>
              <td>
                <button className="link" onClick={() => void open(t.table)} disabled={!plan} title={plan ? 'open in the explorer' : 'run Plan to link tables'}>
                  {t.table}
                </button>
              </td>
              <td className="num">{formatCount(t.rowsIn)}</td>
              <td className="num">{formatCount(t.rowsCommitted)}</td>
              <td className="num">{t.commits}</td>
              <td className="num">{t.lagMs === null ? '–' : `${(t.lagMs / 1000).toFixed(1)} s`}</td>
              <td>
                {t.snapshot ? (
                  <>
                    <progress max={Math.max(1, t.snapshot.rowsEstimated)} value={t.snapshot.rowsDone} /> {formatCount(t.snapshot.rowsDone)} / ≈{formatCount(t.snapshot.rowsEstimated)}
                    {t.snapshot.etaMs !== null && !t.snapshot.done && ` · ETA ${Math.ceil(t.snapshot.etaMs / 1000)} s`}
                    {t.snapshot.done && ' · done'}
                  </>
                ) : (
                  'streaming'
                )}
              </td>
              <td className="error">{t.lastError ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
