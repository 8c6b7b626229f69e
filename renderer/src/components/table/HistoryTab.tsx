import { useState, type FormEvent } from 'react';
import type { KeyVersion } from '../../../../core/api';
import type { Wire } from '../../../../core/api';
import { formatTime, formatValue } from '../../lib/format';
import { useRead } from '../../store/use-read';

/** `col=value[,col=value]` as a key, or the sentence saying what is wrong with it. */
function parseKey(text: string): Record<string, string> | string {
  const key: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return `expected col=value[,col=value], got ${JSON.stringify(part)}`;
    key[part.slice(0, eq).trim()] = part.slice(eq + 1);
  }
  return key;
}

const keyText = (key: Record<string, string>) => Object.entries(key).map(([k, v]) => `${k}=${v}`).join(',');

/** Every version of one row across the retained snapshots. */
export function HistoryTab({ path, identifierFields, initialKey }: { path: string; identifierFields: string[]; initialKey: Record<string, string> | null }) {
  const [text, setText] = useState(initialKey ? keyText(initialKey) : identifierFields.map((f) => `${f}=`).join(','));
  // The key asked for: a key clicked in the data grid, then each one submitted here.
  const [asked, setAsked] = useState<Record<string, string> | null>(initialKey);
  const [askedFrom, setAskedFrom] = useState(initialKey);
  if (initialKey !== askedFrom) {
    // Another key clicked in the grid while this tab is shown: ask for it.
    setAskedFrom(initialKey);
    if (initialKey) {
      setAsked(initialKey);
      setText(keyText(initialKey));
    }
  }
  const [parseError, setParseError] = useState<string | null>(null);
  // The store keeps only the answer for the newest key: a late reply for an earlier key is dropped;
  // the history shown stays until the new one arrives.
  const { value: history, error: readError, loading: busy } = useRead('query.keyHistory', asked ? { path, key: asked } : null, { keepPrevious: true });
  const error = parseError ?? readError;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const key = parseKey(text);
    if (typeof key === 'string') return setParseError(key);
    setParseError(null);
    setAsked(key);
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
      {history && history.length > 0 && <HistoryTable history={history} />}
    </div>
  );
}

/**
 * One line per version, one column per field (named as in the newest version), each updated cell
 * shown before → after, like the Changes tab.
 */
function HistoryTable({ history }: { history: Wire<KeyVersion>[] }) {
  const columns: string[] = [];
  for (const h of [...history].reverse()) for (const r of h.rows) for (const c of Object.keys(r)) if (!columns.includes(c)) columns.push(c);
  let previous: Record<string, unknown> | null = null;
  const lines = history.map((h) => {
    const before = previous;
    if (h.status !== 'unreadable') previous = h.rows[0] ?? null;
    return { h, before };
  });
  return (
    <div className="table-scroll">
      <table className="compact" aria-label="Key history">
        <thead>
          <tr>
            <th>snapshot</th>
            <th>committed (UTC)</th>
            <th>operation</th>
            <th>row</th>
            {columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
            <th>source position</th>
          </tr>
        </thead>
        <tbody>
          {lines.map(({ h, before }) => {
            const row = h.rows[0];
            return (
              <tr key={h.snapshotId} className={h.status}>
                <td className="mono">{h.snapshotId}</td>
                <td>{formatTime(h.timestampMs)}</td>
                <td>{h.operation}</td>
                <td>
                  <span className={`status ${h.status}`}>{h.status}</span>
                  {h.rows.length > 1 && <span className="muted"> ({h.rows.length} rows with this key)</span>}
                </td>
                {h.error ? (
                  <td colSpan={columns.length} className="error small">
                    {h.error}
                  </td>
                ) : (
                  columns.map((c) =>
                    !row ? (
                      <td key={c} className="muted">
                        {before ? <s>{formatValue(before[c])}</s> : null}
                      </td>
                    ) : h.changedColumns.includes(c) && before ? (
                      <td key={c} className="cell-changed">
                        <s>{formatValue(before[c])}</s> → {formatValue(row[c])}
                      </td>
                    ) : (
                      <td key={c}>{formatValue(row[c])}</td>
                    ),
                  )
                )}
                <td className="mono small">{formatSource(h.source)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** The commit's source position (Tidemark's `tidemark.*` summary keys), shortest first. */
function formatSource(source: Record<string, string>): string {
  return Object.entries(source)
    .map(([k, v]) => `${k.replace(/^tidemark\./, '')}=${v}`)
    .join(' ');
}
