import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { RefChangeInfo, RefInfo, Reply, SnapshotInfo, Wire } from '../../../../core/api';
import { client } from '../../api/client';
import { formatTraits, type TableFormat } from './table-format';

export interface SnapshotMenuProps {
  path: string;
  /** The table format (table-format.ts): Paimon tables have no cherry-pick, and rolling back deletes the later snapshots and their tags. */
  format?: TableFormat;
  snapshot: Wire<SnapshotInfo>;
  snapshots: Wire<SnapshotInfo>[];
  refs: Wire<RefInfo>[];
  /** Where to open (viewport pixels). */
  at: { x: number; y: number };
  onClose(): void;
  /** Called after a change was committed: reload the table, then say what happened. */
  onChanged(message: string): Promise<void>;
}

/** Snapshot ids from `head` back through its parents. */
function lineOf(snapshots: Wire<SnapshotInfo>[], head: string | undefined): Set<string> {
  const byId = new Map(snapshots.map((s) => [s.snapshotId, s]));
  const out = new Set<string>();
  for (let id = head; id !== undefined && !out.has(id); ) {
    const s = byId.get(id);
    if (!s) break;
    out.add(id);
    id = s.parentSnapshotId ?? undefined;
  }
  return out;
}

/**
 * The timeline's context menu for one snapshot: tag it, branch from it, roll main back to it,
 * cherry-pick it onto main, and remove the tags and branches that point at it. Each action is one
 * commit in the main process; the table is reloaded at once so the timeline shows the result.
 */
export function SnapshotMenu({ path, format = 'iceberg', snapshot, snapshots, refs, at, onClose, onChanged }: SnapshotMenuProps) {
  const traits = formatTraits(format);
  const [naming, setNaming] = useState<'tag' | 'branch' | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const menu = useRef<HTMLDivElement>(null);
  const id = snapshot.snapshotId;
  const mainHead = refs.find((r) => r.name === 'main')?.snapshotId;
  const inMain = lineOf(snapshots, mainHead).has(id);
  const here = refs.filter((r) => r.snapshotId === id && r.name !== 'main');

  useEffect(() => {
    menu.current?.querySelector<HTMLElement>('button, input')?.focus();
    const away = (e: MouseEvent) => {
      if (menu.current && !menu.current.contains(e.target as Node)) onClose();
    };
    const escape = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    document.addEventListener('mousedown', away);
    document.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('mousedown', away);
      document.removeEventListener('keydown', escape);
    };
  }, [onClose, naming]);

  async function run(action: () => Promise<Reply<Wire<RefChangeInfo>>>, done: (v: Wire<RefChangeInfo>) => string) {
    setBusy(true);
    setError(null);
    const r = await action();
    setBusy(false);
    if (!r.ok) return setError(`${r.error.code}: ${r.error.message}`);
    await onChanged(done(r.value));
    onClose();
  }

  const submitName = (e: FormEvent) => {
    e.preventDefault();
    if (!naming) return;
    const type = naming;
    void run(
      () => client.call('lake.setRef', { path, name: name.trim(), type, snapshotId: id }),
      (v) => `${type} ${name.trim()} → ${v.snapshotId}${v.previousSnapshotId ? ` (moved from ${v.previousSnapshotId})` : ''}`,
    );
  };

  return (
    <div className="snapshot-menu" role="menu" aria-label={`Snapshot ${id}`} ref={menu} style={{ left: at.x, top: at.y }}>
      <div className="title muted">snapshot {id}</div>
      {naming ? (
        <form onSubmit={submitName}>
          <input aria-label={`${naming} name`} value={name} onChange={(e) => setName(e.target.value)} placeholder={naming === 'tag' ? 'q4-close' : 'audit'} spellCheck={false} />
          <button type="submit" disabled={busy || name.trim() === ''}>
            {naming === 'tag' ? 'Tag' : 'Branch'}
          </button>
        </form>
      ) : (
        <>
          <button className="item" role="menuitem" onClick={() => setNaming('tag')}>
            Tag this snapshot…
          </button>
          <button className="item" role="menuitem" onClick={() => setNaming('branch')}>
            Create a branch here…
          </button>
          {inMain && id !== mainHead && (
            <button
              className="item"
              role="menuitem"
              disabled={busy}
              title={traits.rollbackDeletesLater ? 'As Paimon does: the later snapshots and their tags are deleted' : undefined}
              onClick={() =>
                void run(
                  () => client.call('lake.rollback', { path, snapshotId: id }),
                  (v) => `main rolled back to ${v.snapshotId} (was ${v.previousSnapshotId}${traits.rollbackDeletesLater ? '; later snapshots deleted' : ''})`,
                )
              }
            >
              {traits.rollbackDeletesLater ? 'Roll back main to here (deletes later snapshots)' : 'Roll back main to here'}
            </button>
          )}
          {!inMain && traits.cherryPick && (
            <button
              className="item"
              role="menuitem"
              disabled={busy}
              onClick={() =>
                void run(() => client.call('lake.cherryPick', { path, snapshotId: id }), (v) => `cherry-picked onto main: main → ${v.snapshotId} (${v.mode === 'fast-forward' ? 'fast-forward' : 'append re-applied'})`)
              }
            >
              Cherry-pick onto main
            </button>
          )}
          {here.map((r) => (
            <button
              key={r.name}
              className="item"
              role="menuitem"
              disabled={busy}
              onClick={() => void run(() => client.call('lake.removeRef', { path, name: r.name, type: r.type }), () => `${r.type} ${r.name} removed`)}
            >
              Delete {r.type} {r.name}
            </button>
          ))}
        </>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
