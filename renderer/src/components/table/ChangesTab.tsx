import { useState } from 'react';
import type { SnapshotInfo, Wire } from '../../../../core/api';
import { useRead } from '../../store/use-read';
import { formatCount, formatValue } from '../../lib/format';

/** Row diff between two snapshots: added, removed, changed (before → after, changed cells marked). */
export function ChangesTab({ path, snapshots, current }: { path: string; snapshots: Wire<SnapshotInfo>[]; current: string | null }) {
  const idx = snapshots.findIndex((s) => s.snapshotId === current);
  const [to, setTo] = useState<string | null>(current);
  const [from, setFrom] = useState<string | null>(idx > 0 ? snapshots[idx - 1]!.snapshotId : (snapshots[0]?.snapshotId ?? null));
  const { value: diff, error } = useRead('query.rowDiff', from && to ? { path, from, to, limit: 500 } : null);

  const picker = (label: string, value: string | null, onChange: (v: string) => void) => (
    <select aria-label={label} value={value ?? ''} onChange={(e) => onChange(e.target.value)}>
      {snapshots.map((s, i) => (
        <option key={s.snapshotId} value={s.snapshotId}>
          #{i + 1} {s.operation} {s.snapshotId}
        </option>
      ))}
    </select>
  );
  const columns = diff ? Object.keys(diff.added[0] ?? diff.removed[0] ?? diff.changed[0]?.after ?? {}) : [];

  return (
    <div className="changes-tab">
      <div className="toolbar">
        from {picker('Diff from', from, setFrom)} to {picker('Diff to', to, setTo)}
      </div>
      {error && <p className="error">{error}</p>}
      {!diff && !error && <p className="muted">computing diff…</p>}
      {diff && (
        <>
          <p className="diff-counts" data-testid="diff-counts">
            key <b>{diff.key.length ? diff.key.join(', ') : 'whole row'}</b> · <span className="added">+{formatCount(diff.addedCount)} added</span> ·{' '}
            <span className="removed">−{formatCount(diff.removedCount)} removed</span> · <span className="promoted">~{formatCount(diff.changedCount)} changed</span>
          </p>
          {columns.length > 0 && (
            <table className="compact diff-table" aria-label="Row changes">
              <thead>
                <tr>
                  <th />
                  {columns.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {diff.added.map((r, i) => (
                  <tr key={`a${i}`} className="added">
                    <td>+</td>
                    {columns.map((c) => (
                      <td key={c}>{formatValue(r[c])}</td>
                    ))}
                  </tr>
                ))}
                {diff.removed.map((r, i) => (
                  <tr key={`r${i}`} className="removed">
                    <td>−</td>
                    {columns.map((c) => (
                      <td key={c}>{formatValue(r[c])}</td>
                    ))}
                  </tr>
                ))}
                {diff.changed.map((ch, i) => (
                  <tr key={`c${i}`} className="changed">
                    <td>~</td>
                    {columns.map((c) =>
                      ch.changedColumns.includes(c) ? (
                        <td key={c} className="cell-changed">
                          <s>{formatValue(ch.before[c])}</s> → {formatValue(ch.after[c])}
                        </td>
                      ) : (
                        <td key={c}>{formatValue(ch.after[c])}</td>
                      ),
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </div>
  );
}
