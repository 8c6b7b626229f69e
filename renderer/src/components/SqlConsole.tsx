import { autocompletion } from '@codemirror/autocomplete';
import { sql, StandardSQL } from '@codemirror/lang-sql';
import { EditorState } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { basicSetup, EditorView } from 'codemirror';
import { editorTheme } from '../lib/editor-theme';
import { useEffect, useMemo, useRef, useState } from 'react';
import { client } from '../api/client';
import { useStore } from '../store';
import { DataGrid, type GridSource } from './DataGrid';

/**
 * The SQL console: CodeMirror with SQL highlighting and completion of `ns.table` names and their
 * columns; Ctrl/Cmd+Enter runs; results in the same grid; history; export to CSV/Parquet.
 */
const resultIds = new WeakMap<object, number>();
let lastResultId = 0;
/** A number per result object, stable for its life. */
function resultId(result: object): number {
  let id = resultIds.get(result);
  if (id === undefined) resultIds.set(result, (id = ++lastResultId));
  return id;
}

export function SqlConsole() {
  const warehouse = useStore((s) => s.warehouse);
  const text = useStore((s) => s.sqlText);
  const setText = useStore((s) => s.setSqlText);
  const run = useStore((s) => s.runSql);
  const result = useStore((s) => s.sqlResult);
  const error = useStore((s) => s.sqlError);
  const running = useStore((s) => s.sqlRunning);
  const history = useStore((s) => s.sqlHistory);
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const [exportTo, setExportTo] = useState('');
  const [exportMsg, setExportMsg] = useState<string | null>(null);

  // Table and column names for completion.
  const schema = useStore((s) => s.sqlSchema);
  const loadSqlSchema = useStore((s) => s.loadSqlSchema);
  useEffect(() => {
    void loadSqlSchema();
  }, [warehouse, loadSqlSchema]);

  const first = warehouse?.tables[0];
  const defaultSql = first ? `SELECT * FROM ${first.namespace}.${first.name} LIMIT 100` : 'SELECT 42';
  useEffect(() => {
    if (!host.current) return;
    const runKey = keymap.of([{ key: 'Mod-Enter', run: () => (void useStore.getState().runSql(), true) }]);
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: useStore.getState().sqlText || defaultSql,
        extensions: [
          editorTheme,
          runKey,
          basicSetup,
          sql({ dialect: StandardSQL, schema, upperCaseKeywords: true }),
          autocompletion(),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) useStore.getState().setSqlText(u.state.doc.toString());
          }),
          EditorView.contentAttributes.of({ 'aria-label': 'SQL editor' }),
        ],
      }),
    });
    setText(v.state.doc.toString());
    view.current = v;
    return () => v.destroy();
  }, [schema, setText, defaultSql]);

  const source: GridSource | null = useMemo(
    () =>
      result
        ? {
            // One key per result object: a re-run with the same shape still reloads the grid.
            key: `sql-result-${resultId(result)}`,
            columns: result.columns,
            totalRows: result.rows.length,
            fetch: async (offset, limit) => result.rows.slice(offset, offset + limit),
          }
        : null,
    [result],
  );

  async function doExport(format: 'csv' | 'parquet') {
    if (!warehouse || !exportTo) return;
    const to = exportTo.replace(/\.(csv|parquet)$/, '') + `.${format}`;
    const r = await client.call('query.export', { warehouse: warehouse.path, sql: text, to, format });
    setExportMsg(r.ok ? `wrote ${r.value.rows} rows to ${r.value.to}` : `${r.error.code}: ${r.error.message}`);
  }

  function recall(h: string) {
    view.current?.dispatch({ changes: { from: 0, to: view.current.state.doc.length, insert: h } });
  }

  return (
    <div className="sql-console">
      <div className="sql-editor" ref={host} />
      <div className="toolbar">
        <button onClick={() => void run()} disabled={running}>
          {running ? 'Running…' : 'Run (Ctrl+Enter)'}
        </button>
        {history.length > 0 && (
          <select aria-label="History" value="" onChange={(e) => e.target.value && recall(e.target.value)}>
            <option value="">history…</option>
            {history.map((h) => (
              <option key={h} value={h}>
                {h.length > 80 ? `${h.slice(0, 80)}…` : h}
              </option>
            ))}
          </select>
        )}
        <input aria-label="Export to" placeholder="/path/to/result" value={exportTo} onChange={(e) => setExportTo(e.target.value)} />
        <button className="secondary" disabled={!exportTo || !result} onClick={() => void doExport('csv')}>
          Export CSV
        </button>
        <button className="secondary" disabled={!exportTo || !result} onClick={() => void doExport('parquet')}>
          Export Parquet
        </button>
        {exportMsg && <span className="muted">{exportMsg}</span>}
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result && (
        <p className="muted" data-testid="sql-status">
          {result.rows.length.toLocaleString('en-US')} rows{result.truncated ? ' (truncated)' : ''} in {result.elapsedMs} ms
        </p>
      )}
      {source && <DataGrid source={source} height={360} />}
    </div>
  );
}
