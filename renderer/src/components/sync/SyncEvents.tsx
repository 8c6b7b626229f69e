import { useStore } from '../../store';

/** A pipeline's last 30 events (commits, schema changes, warnings, stop or failure), oldest first. */
export function SyncEvents({ name }: { name: string }) {
  const all = useStore((s) => s.syncEvents);
  const events = all.filter((e) => e.pipeline === name);
  if (events.length === 0) return null;
  return (
    <section aria-label="Events">
      <h3>Events</h3>
      <ol className="events mono small">
        {events.slice(-30).map((e, k) => (
          <li key={k} className={e.type === 'sync.failed' ? 'removed' : ''}>
            {new Date(e.at).toISOString().slice(11, 19)} {e.message}
          </li>
        ))}
      </ol>
    </section>
  );
}
