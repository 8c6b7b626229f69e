import { useEffect, useState, type ReactNode } from 'react';
import type { CompactionInfo, ExpiryInfo, OrphansInfo, Reply, Wire } from '../../../../core/api';
import { client } from '../../api/client';
import { formatBytes, formatCount } from '../../lib/format';
import { formatTraits, type TableFormat } from './table-format';

type Scope = { kind: 'all' } | { kind: 'small' } | { kind: 'partition'; partition: string };

/** One maintenance action: options, a preview, then a run (with progress and cancel where long). */
function Action<T>({
  title,
  options,
  optionsKey,
  askPreview,
  run,
  describe,
  progress,
  onCancel,
  onDone,
}: {
  title: string;
  options: ReactNode;
  /** The options' values as text: a preview counts for the options it was asked with only. */
  optionsKey: string;
  askPreview(): Promise<Reply<Wire<T>>>;
  run(): Promise<Reply<Wire<T>>>;
  describe(v: Wire<T>): string;
  progress?: { done: number; total: number | null; message: string } | null;
  onCancel?(): void;
  /** After a run: the table is read again (this panel remounts), and the message is shown above. */
  onDone(message: string): Promise<void>;
}) {
  // The last preview and the options it was asked with: options changed since (even while it was
  // on its way) make it stale, so it is not shown and Run waits for a new one.
  const [preview, setPreview] = useState<{ optionsKey: string; text: string } | null>(null);
  const previewed = preview?.optionsKey === optionsKey;
  const [busy, setBusy] = useState<'preview' | 'run' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const go = async (what: 'preview' | 'run') => {
    const askedWith = optionsKey;
    setBusy(what);
    setError(null);
    const r = await (what === 'preview' ? askPreview() : run());
    setBusy(null);
    if (!r.ok) return setError(`${r.error.code}: ${r.error.message}`);
    if (what === 'run') return onDone(describe(r.value));
    setPreview({ optionsKey: askedWith, text: describe(r.value) });
  };
  const label = title.toLowerCase();
  return (
    <section className="maintenance-action" aria-label={title}>
      <h4>{title}</h4>
      <div className="toolbar">
        {options}
        <button onClick={() => void go('preview')} disabled={busy !== null}>
          Preview
        </button>
        <button onClick={() => void go('run')} disabled={busy !== null || !previewed} title={previewed ? '' : 'preview first'}>
          {busy === 'run' ? 'Running…' : 'Run'}
        </button>
        {busy === 'run' && onCancel && (
          <button onClick={onCancel} aria-label={`Cancel ${label}`}>
            Cancel
          </button>
        )}
      </div>
      {busy === 'run' && progress && (
        <p className="muted" role="progressbar" aria-label={`${title} progress`} aria-valuenow={progress.done} aria-valuemax={progress.total ?? undefined}>
          {progress.message} <progress value={progress.done} max={Math.max(1, progress.total ?? 1)} />
        </p>
      )}
      {previewed && <p data-testid={`${label.replace(/\s+/g, '-')}-result`}>{preview.text}</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * Maintenance of a table from the Files tab: compaction (whole table, one partition or the small
 * files), snapshot expiry and orphan removal. Each shows a preview of what it will do (files, bytes,
 * snapshots) before it can run; the table is read again after a run. A Paimon table offers full
 * compaction only (Paimon compacts per bucket), expiry and orphan removal.
 */
export function MaintenancePanel({ path, format = 'iceberg', partitions, onChanged }: { path: string; format?: TableFormat; partitions: string[]; onChanged(message: string): Promise<void> }) {
  const traits = formatTraits(format);
  const [scope, setScope] = useState<Scope>(traits.partialCompaction ? { kind: 'small' } : { kind: 'all' });
  const [retainLast, setRetainLast] = useState('5');
  const [orphanDays, setOrphanDays] = useState('3');
  const [task] = useState(() => `compact-${Math.random().toString(36).slice(2, 10)}`);
  const [progress, setProgress] = useState<{ done: number; total: number | null; message: string } | null>(null);
  useEffect(() => client.on('app.progress', (p) => p.task === task && setProgress(p)), [task]);

  const compactText = (v: Wire<CompactionInfo>) => {
    const what = `${v.files} data file(s), ${formatBytes(v.bytes)}, ${formatCount(v.records)} records in ${v.partitions} partition(s)${v.deleteFiles ? ` and ${v.deleteFiles} delete file(s)` : ''}`;
    if (v.dryRun) return v.files === 0 ? 'nothing to compact' : `will rewrite ${what} into about ${v.estimatedFiles} file(s)`;
    return v.committedSnapshotId === null ? 'nothing to compact' : `rewrote ${what} into ${v.writtenFiles} file(s) (${formatCount(v.liveRecords)} rows), snapshot ${v.committedSnapshotId}`;
  };
  const expiryText = (v: Wire<ExpiryInfo>) =>
    `${v.dryRun ? 'will expire' : 'expired'} ${v.expiredSnapshotIds.length} snapshot(s), keeping ${v.keptSnapshots}; ${v.dryRun ? 'will delete' : 'deleted'} ${v.files} file(s), ${formatBytes(v.bytes)}`;
  const orphansText = (v: Wire<OrphansInfo>) => `${v.dryRun ? 'will delete' : 'deleted'} ${v.files} orphan file(s), ${formatBytes(v.bytes)}; ${v.referencedCount} referenced file(s) kept`;
  const retain = Number(retainLast);
  const olderThanMs = Date.now() - Number(orphanDays) * DAY_MS;

  return (
    <div className="maintenance" aria-label="Maintenance">
      <h3>Maintenance</h3>
      <Action<CompactionInfo>
        title="Compact"
        options={
          <select
            aria-label="compaction scope"
            value={scope.kind === 'partition' ? `p:${scope.partition}` : scope.kind}
            onChange={(e) => setScope(e.target.value === 'all' ? { kind: 'all' } : e.target.value === 'small' ? { kind: 'small' } : { kind: 'partition', partition: e.target.value.slice(2) })}
          >
            {traits.partialCompaction && <option value="small">small files only</option>}
            <option value="all">{traits.wholeCompaction}</option>
            {traits.partialCompaction && partitions.map((p) => (
              <option key={p} value={`p:${p}`}>
                partition {p}
              </option>
            ))}
          </select>
        }
        optionsKey={JSON.stringify(scope)}
        askPreview={() => client.call('lake.compact', { path, scope, dryRun: true })}
        run={() => {
          setProgress(null);
          return client.call('lake.compact', { path, scope, task });
        }}
        describe={compactText}
        onDone={onChanged}
        progress={progress}
        onCancel={() => void client.call('lake.cancel', { task })}
      />
      <Action<ExpiryInfo>
        title="Expire snapshots"
        options={
          <label>
            keep the last <input aria-label="snapshots to keep" type="number" min={1} value={retainLast} onChange={(e) => setRetainLast(e.target.value)} style={{ width: 60 }} /> {traits.expiryKeeps}
          </label>
        }
        optionsKey={retainLast}
        askPreview={() => client.call('lake.expire', { path, retainLast: retain, dryRun: true })}
        run={() => client.call('lake.expire', { path, retainLast: retain })}
        describe={expiryText}
        onDone={onChanged}
      />
      <Action<OrphansInfo>
        title="Remove orphan files"
        options={
          <label>
            older than <input aria-label="orphan age in days" type="number" min={0} value={orphanDays} onChange={(e) => setOrphanDays(e.target.value)} style={{ width: 60 }} /> days
          </label>
        }
        optionsKey={orphanDays}
        askPreview={() => client.call('lake.removeOrphans', { path, olderThanMs, dryRun: true })}
        run={() => client.call('lake.removeOrphans', { path, olderThanMs })}
        describe={orphansText}
        onDone={onChanged}
      />
    </div>
  );
}
