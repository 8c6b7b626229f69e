import { useEffect, useState, type FormEvent } from 'react';
import type { KeyVersion } from '../../../../core/api';
import type { Wire } from '../../../../core/api';
import { client } from '../../api/client';
import { formatTime, formatValue } from '../../lib/format';

/** Every version of one row across the retained snapshots. */
export function HistoryTab({ path, identifierFields, initialKey }: { path: string; identifierFields: string[]; initialKey: Record<string, string> | null }) {
  const [text, setText] = useState(initialKey ? Object.entries(initialKey).map(([k, v]) => `${k}=${v}`).join(',') : identifierFields.map((f) => `${f}=`).join(','));
  const [history, setHistory] = useState<Wire<KeyVersion>[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function load(keyText: string) {
    const key: Record<string, string> = {};
    for (const part of keyText.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) return setError(`expected col=value[,col=value], got ${JSON.stringify(part)}`);
      key[part.slice(0, eq).trim()] = part.slice(eq + 1);
    }
    setBusy(true);
    setError(null);
    const r = await client.call('query.keyHistory', { path, key });
    setBusy(false);
    if (r.ok) setHistory(r.value);
    else setError(`${r.error.code}: ${r.error.message}`);
  }

  useEffect(() => {
    if (initialKey) void load(Object.entries(initialKey).map(([k, v]) => `${k}=${v}`).join(','));
    // Reload when a key is clicked in the data grid.
  }, [path, JSON.stringify(initialKey)]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void load(text);
  };
  return (
    <div className="history-tab">
      <form onSubmit={submit} className="toolbar">
        <label htmlFor="history-key">key</label>
        <input id="history-key" value={text} onChange={(e) => setText(e.target.value)} placeholder="id=42" spellCheck={false} />
        <button type="submit" disabled={busy}>
          {busy ? 'Searching…' : 'Show history'}
        </button>
        <span className="muted">double-click a row in Data to pick its key</span>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {history && history.length === 0 && <p className="muted">No row with this key in any retained snapshot.</p>}
      {history && history.length > 0 && (
        <table className="compact" aria-label="Key history">
          <thead>
            <tr>
              <th>snapshot</th>
              <th>committed (UTC)</th>
              <th>operation</th>
              <th>row</th>
              <th>values</th>
              <th>source</th>
            </tr>
          </thead>
          <tbody>
            {history.map((h) => (
              <tr key={h.snapshotId} className={h.status}>
                <td className="mono">{h.snapshotId}</td>
                <td>{formatTime(h.timestampMs)}</td>
                <td>{h.operation}</td>
                <td>
                  <span className={`status ${h.status}`}>{h.status}</span>
                </td>
                <td className="mono small">{h.error ?? h.rows.map((r) => formatValue(r)).join(' ')}</td>
                <td className="mono small">{Object.entries(h.source).map(([k, v]) => `${k.replace(/^tidemark\./, '')}=${v}`).join(' ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
