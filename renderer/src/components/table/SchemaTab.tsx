import { useState } from 'react';
import type { FieldInfo, SchemaInfo, SnapshotInfo, Wire } from '../../../../core/api';
import { useRead } from '../../store/use-read';
import { formatTime } from '../../lib/format';

function FieldRows({ fields, depth, marks }: { fields: Wire<FieldInfo>[]; depth: number; marks: Map<number, string> }) {
  return (
    <>
      {fields.map((f) => (
        <>
          <tr key={f.id} className={marks.get(f.id) ?? ''}>
            <td className="mono">{f.id}</td>
            <td style={{ paddingLeft: 8 + depth * 16 }}>{f.name}</td>
            <td className="mono">{f.type}</td>
            <td>{f.required ? 'required' : 'optional'}</td>
            <td className="muted">{f.doc ?? ''}</td>
          </tr>
          {f.children.length > 0 && <FieldRows key={`${f.id}-c`} fields={f.children} depth={depth + 1} marks={marks} />}
        </>
      ))}
    </>
  );
}

/** The schema at the chosen version, and a diff against any other version (by field id). */
export function SchemaTab({ path, schema, snapshots, current }: { path: string; schema: Wire<SchemaInfo> | null; snapshots: Wire<SnapshotInfo>[]; current: string | null }) {
  const [other, setOther] = useState<string>('current');
  const { value: diff, error } = useRead('query.schemaDiff', { path, from: other, to: current ?? 'current' });

  if (!schema) return <p className="muted">loading schema…</p>;
  const marks = new Map<number, string>();
  for (const a of diff?.added ?? []) marks.set(a.id, 'added');
  for (const r of diff?.renamed ?? []) marks.set(r.id, 'renamed');
  for (const t of diff?.typeChanged ?? []) marks.set(t.id, 'promoted');
  const changes = diff
    ? diff.added.length + diff.removed.length + diff.renamed.length + diff.typeChanged.length + diff.nullabilityChanged.length + (diff.identifierChanged ? 1 : 0) + (diff.partitionSpecChanged ? 1 : 0)
    : 0;
  return (
    <div className="schema-tab">
      <p>
        schema id <b>{schema.schemaId}</b> · identifier fields <b>{schema.identifierFields.join(', ') || 'none'}</b> · partitioned by <b>{schema.partitionSpec}</b>
      </p>
      <table className="compact" aria-label="Schema">
        <thead>
          <tr>
            <th>id</th>
            <th>name</th>
            <th>type</th>
            <th>nullability</th>
            <th>doc</th>
          </tr>
        </thead>
        <tbody>
          <FieldRows fields={schema.fields} depth={0} marks={marks} />
        </tbody>
      </table>
      <h3>Diff</h3>
      <div className="toolbar">
        <label>
          compare with{' '}
          <select aria-label="Compare schema with" value={other} onChange={(e) => setOther(e.target.value)}>
            <option value="current">current schema</option>
            {snapshots.map((s, i) => (
              <option key={s.snapshotId} value={s.snapshotId}>
                #{i + 1} {s.snapshotId} · {formatTime(s.timestampMs)}
              </option>
            ))}
          </select>
        </label>
        <span className="muted"> → the version shown</span>
      </div>
      {error && <p className="error">{error}</p>}
      {diff && (
        <ul className="schema-diff" aria-label="Schema diff">
          {changes === 0 && <li className="muted">no schema changes</li>}
          {diff.added.map((f) => (
            <li key={`a${f.id}`} className="added">
              + {f.path}: {f.type}
            </li>
          ))}
          {diff.removed.map((f) => (
            <li key={`r${f.id}`} className="removed">
              − {f.path}: {f.type}
            </li>
          ))}
          {diff.renamed.map((r) => (
            <li key={`n${r.id}`} className="renamed">
              ~ renamed {r.from} → {r.to}
            </li>
          ))}
          {diff.typeChanged.map((t) => (
            <li key={`t${t.id}`} className="promoted">
              ~ {t.path}: {t.from} → {t.to}
            </li>
          ))}
          {diff.nullabilityChanged.map((n) => (
            <li key={`o${n.id}`}>
              ~ {n.path}: {n.from} → {n.to}
            </li>
          ))}
          {diff.identifierChanged && (
            <li>
              ~ identifier fields [{diff.identifierChanged.from.join(', ')}] → [{diff.identifierChanged.to.join(', ')}]
            </li>
          )}
          {diff.partitionSpecChanged && (
            <li>
              ~ partition spec {diff.partitionSpecChanged.from} → {diff.partitionSpecChanged.to}
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
