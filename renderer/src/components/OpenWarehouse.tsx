import { useEffect, useState, type FormEvent } from 'react';
import { useStore } from '../store';
import { ProfileForm } from './ProfileForm';

/** s3:// (or s3a://) and rest+http(s):// open through a profile in the main process; anything else is a folder. */
function isRemoteTarget(text: string): boolean {
  return /^(s3a?:\/\/|rest\+https?:\/\/)/i.test(text.trim());
}

export function OpenWarehouse() {
  const openWarehouse = useStore((s) => s.openWarehouse);
  const openRemote = useStore((s) => s.openRemote);
  const recent = useStore((s) => s.recentWarehouses);
  const loading = useStore((s) => s.warehouseLoading);
  const error = useStore((s) => s.warehouseError);
  const profiles = useStore((s) => s.profiles);
  const loadProfiles = useStore((s) => s.loadProfiles);
  const [path, setPath] = useState('');
  const [profile, setProfile] = useState('');
  const remote = isRemoteTarget(path);

  useEffect(() => {
    void loadProfiles();
  }, [loadProfiles]);

  function submit(e: FormEvent) {
    e.preventDefault();
    const target = path.trim();
    if (!target) return;
    if (remote) void openRemote(target, profile || null);
    else void openWarehouse(target);
  }

  return (
    <section className="open-warehouse" aria-label="Open a warehouse">
      <form onSubmit={submit}>
        <label htmlFor="warehouse-path">Warehouse or table folder, s3://bucket/prefix, or REST catalog (rest+http://host:port/warehouse)</label>
        <div className="row">
          <input
            id="warehouse-path"
            value={path}
            placeholder="/path/to/warehouse"
            onChange={(e) => setPath(e.target.value)}
            spellCheck={false}
            autoFocus
          />
          {remote && (
            <select aria-label="Connection profile" value={profile} onChange={(e) => setProfile(e.target.value)}>
              <option value="">no profile</option>
              {profiles.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                </option>
              ))}
            </select>
          )}
          <button type="submit" disabled={loading || !path.trim()}>
            {loading ? 'Opening…' : 'Open'}
          </button>
        </div>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ProfileForm />
      {recent.length > 0 && (
        <div className="recent">
          <h3>Recent</h3>
          <ul>
            {recent.map((p) => (
              <li key={p}>
                <button className="link" onClick={() => void openWarehouse(p)}>
                  {p}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
