import { parseDocument } from 'yaml';
import { useStore } from '../../store';

/** The common keys as a form; every edit rewrites the YAML (comments and other keys are kept). */
const FIELDS: { path: string[]; label: string; placeholder: string }[] = [
  { path: ['source', 'hostname'], label: 'host', placeholder: '127.0.0.1' },
  { path: ['source', 'port'], label: 'port', placeholder: '3306' },
  { path: ['source', 'username'], label: 'user', placeholder: 'cdc' },
  { path: ['source', 'password'], label: 'password', placeholder: '${env:MYSQL_PASSWORD}' },
  { path: ['source', 'tables'], label: 'tables (regex)', placeholder: 'app.\\.*' },
  { path: ['sink', 'catalog.properties.warehouse'], label: 'warehouse folder', placeholder: '/path/to/warehouse' },
  { path: ['pipeline', 'execution.checkpointing.interval'], label: 'commit interval', placeholder: '30s' },
  { path: ['pipeline', 'schema.change.behavior'], label: 'schema changes', placeholder: 'lenient' },
];

export function PipelineForm() {
  const yaml = useStore((s) => s.pipelineYaml);
  const setYaml = useStore((s) => s.setPipelineYaml);
  let doc: ReturnType<typeof parseDocument> | null = null;
  try {
    doc = parseDocument(yaml);
    if (doc.errors.length) doc = null;
  } catch {
    doc = null;
  }
  if (!doc) return <p className="muted">The form needs valid YAML: fix the text first.</p>;
  const value = (path: string[]) => {
    const v = doc!.getIn(path);
    return v === undefined || v === null ? '' : String(v);
  };
  const update = (path: string[], text: string) => {
    const next = parseDocument(yaml);
    if (text === '') next.deleteIn(path);
    else next.setIn(path, path[1] === 'port' && /^\d+$/.test(text) ? Number(text) : text);
    setYaml(next.toString());
  };
  return (
    <div className="pipeline-form" aria-label="Pipeline form">
      {FIELDS.map((f) => (
        <label key={f.path.join('.')}>
          <span>{f.label}</span>
          {f.path[1] === 'schema.change.behavior' ? (
            <select aria-label={f.label} value={value(f.path) || 'lenient'} onChange={(e) => update(f.path, e.target.value)}>
              {['lenient', 'try_evolve', 'evolve', 'ignore', 'exception'].map((b) => (
                <option key={b}>{b}</option>
              ))}
            </select>
          ) : (
            <input aria-label={f.label} value={value(f.path)} placeholder={f.placeholder} onChange={(e) => update(f.path, e.target.value)} spellCheck={false} />
          )}
        </label>
      ))}
    </div>
  );
}
