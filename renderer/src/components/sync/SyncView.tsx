import { useEffect, useState, type FormEvent } from 'react';
import { useStore } from '../../store';
import { PipelineEditor } from './PipelineEditor';
import { PipelineForm } from './PipelineForm';
import { SyncCharts } from './SyncCharts';
import { SyncEvents } from './SyncEvents';
import { SyncProgressPanel } from './SyncProgress';

const TEMPLATE = (name: string, warehouse: string) => `# Flink CDC pipeline: runs unchanged on a Flink cluster (tidemark export-flink).
source:
  type: mysql
  hostname: 127.0.0.1
  port: 3306
  username: cdc
  password: \${env:MYSQL_PASSWORD}
  tables: app.\\.*
  server-id: 5401-5404
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
pipeline:
  name: ${name}
  schema.change.behavior: lenient
  execution.checkpointing.interval: 10s
  tidemark.changelog.enabled: true
`;

/** The sync manager: pipelines list, YAML editor with live validation, checks, plan, run, progress. */
export function SyncView() {
  const pipelines = useStore((s) => s.pipelines);
  const name = useStore((s) => s.pipelineName);
  const dirty = useStore((s) => s.pipelineDirty);
  const validation = useStore((s) => s.validation);
  const preflight = useStore((s) => s.preflight);
  const plan = useStore((s) => s.plan);
  const error = useStore((s) => s.syncError);
  const busy = useStore((s) => s.syncBusy);
  const warehouse = useStore((s) => s.warehouse);
  const s = useStore.getState();
  const running = pipelines.find((p) => p.name === name)?.running ?? false;
  const [newName, setNewName] = useState('');
  const [showForm, setShowForm] = useState(false);

  // Progress and events are subscribed for the whole app (App.tsx), not here: this view unmounts.
  useEffect(() => {
    void useStore.getState().loadPipelines();
  }, []);

  const create = (e: FormEvent) => {
    e.preventDefault();
    const n = newName.trim();
    if (!n) return;
    s.newPipeline(n, TEMPLATE(n, warehouse?.path ?? '/path/to/warehouse'));
    setNewName('');
  };

  return (
    <div className="sync-view">
      <aside className="pipelines" aria-label="Pipelines">
        <h3>Pipelines</h3>
        <ul>
          {pipelines.map((p) => (
            <li key={p.name} className={p.name === name ? 'selected' : ''}>
              <button className="table-link" onClick={() => void s.selectPipeline(p.name)}>
                <span className="row1">
                  <span className={`health ${p.running ? 'ok' : ''}`}>{p.running ? '●' : '○'}</span>
                  <span className="table-name">{p.name}</span>
                  <span className="badge">{p.status?.phase ?? 'new'}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
        <form onSubmit={create} className="row">
          <input aria-label="New pipeline name" placeholder="new pipeline name" value={newName} onChange={(e) => setNewName(e.target.value)} />
          <button type="submit" disabled={!newName.trim()}>
            New
          </button>
        </form>
      </aside>
      <section className="pipeline-main">
        {!name ? (
          <div className="empty-state">
            <h2>No pipeline selected</h2>
            <p>Create a pipeline: a Flink CDC YAML file that syncs MySQL/MariaDB tables into Iceberg tables in a warehouse folder.</p>
          </div>
        ) : (
          <>
            <div className="table-header">
              <h2 className="table-title">{name}</h2>
              {dirty && <span className="muted">unsaved</span>}
              {validation && (
                <span className={validation.ok ? 'added' : 'removed'} data-testid="validation-summary">
                  {validation.ok ? `valid · ${validation.warnings.length} warnings` : `${validation.errors.length} error${validation.errors.length === 1 ? '' : 's'}`}
                </span>
              )}
            </div>
            <div className="toolbar">
              <button className={`secondary${showForm ? ' active' : ''}`} aria-pressed={showForm} onClick={() => setShowForm((v) => !v)}>
                {showForm ? 'Hide form' : 'Form view'}
              </button>
            </div>
            {showForm && <PipelineForm />}
            <PipelineEditor />
            <div className="toolbar">
              <button onClick={() => void s.savePipeline()} disabled={busy !== null}>
                Save
              </button>
              <button className="secondary" onClick={() => void s.testConnection()} disabled={busy !== null}>
                {busy === 'test' ? 'Testing…' : 'Test connection'}
              </button>
              <button className="secondary" onClick={() => void s.planPipeline()} disabled={busy !== null}>
                {busy === 'plan' ? 'Planning…' : 'Plan'}
              </button>
              {running ? (
                <button onClick={() => void s.stopPipeline()} disabled={busy !== null}>
                  {busy === 'stop' ? 'Stopping…' : 'Stop'}
                </button>
              ) : (
                <>
                  <button onClick={() => void s.startPipeline(false)} disabled={busy !== null || validation?.ok === false}>
                    Start
                  </button>
                  <button className="secondary" onClick={() => void s.startPipeline(true)} disabled={busy !== null || validation?.ok === false}>
                    Run until caught up
                  </button>
                </>
              )}
            </div>
            {error && (
              <p className="error" role="alert">
                {error}
              </p>
            )}
            {validation && validation.errors.length > 0 && (
              <ul className="issues" aria-label="Validation errors">
                {validation.errors.map((i, k) => (
                  <li key={k} className="removed">
                    line {i.line}: {i.path}: {i.message}
                  </li>
                ))}
              </ul>
            )}
            {preflight && (
              <section aria-label="Connection checks">
                <h3>
                  Connection checks · {preflight.server}
                  {preflight.tls && (
                    <span aria-label="Session encryption"> · {preflight.tls.encrypted ? `encrypted (${preflight.tls.version ?? 'TLS'})` : 'not encrypted'}</span>
                  )}
                </h3>
                <ul className="issues">
                  {preflight.checks.map((c) => (
                    <li key={c.name} className={c.ok ? 'added' : 'removed'}>
                      {c.ok ? '✓' : '✗'} {c.name}: {c.message}
                    </li>
                  ))}
                </ul>
              </section>
            )}
            {plan && (
              <section aria-label="Plan">
                <h3>Plan</h3>
                <table className="compact" aria-label="Source tables">
                  <thead>
                    <tr>
                      <th>source</th>
                      <th>key</th>
                      <th>targets</th>
                      <th>capture</th>
                    </tr>
                  </thead>
                  <tbody>
                    {plan.sourceTables.map((t) => (
                      <tr key={t.table}>
                        <td className="mono">{t.table}</td>
                        <td>{t.primaryKey.join(', ') || 'none'}</td>
                        <td className="mono small">{t.targets.join(', ')}</td>
                        <td className="small">
                          {t.capture.state === 'newly-added' ? <strong>newly added</strong> : t.capture.state}: {t.capture.action}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <table className="compact" aria-label="Target tables">
                  <thead>
                    <tr>
                      <th>target</th>
                      <th>sources</th>
                      <th>key</th>
                      <th>columns</th>
                      <th>exists</th>
                    </tr>
                  </thead>
                  <tbody>
                    {plan.targets.map((t) => (
                      <tr key={t.table}>
                        <td className="mono">{t.table}</td>
                        <td className="mono small">{t.sources.join(', ')}</td>
                        <td>{t.key.join(', ')}</td>
                        <td className="small">{t.columns.length}</td>
                        <td>{t.exists ? 'yes' : 'new'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                {plan.warnings.map((w, k) => (
                  <p key={k} className="health warn">
                    ▲ {w.message}
                  </p>
                ))}
              </section>
            )}
            <h3>Progress</h3>
            <SyncProgressPanel name={name} />
            <SyncCharts name={name} />
            <SyncEvents name={name} />
          </>
        )}
      </section>
    </div>
  );
}
