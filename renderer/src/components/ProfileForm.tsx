import { useState, type FormEvent } from 'react';
import { useStore } from '../store';

const EMPTY = { name: '', endpoint: '', region: '', pathStyle: false, accessKeyId: '', secretAccessKey: '', sessionToken: '', token: '', credential: '' };

const SECRET_HELP = 'a value (kept in the OS keychain by the desktop app) or env:NAME (a variable of the Tidemark process; the only form in browser mode)';

/**
 * Connection profiles for remote lakes: saved by the main process. Secrets are sent once, when
 * saved, and never come back: the list shows only where each is kept (keychain or env:NAME).
 */
export function ProfileForm() {
  const profiles = useStore((s) => s.profiles);
  const error = useStore((s) => s.profileError);
  const saveProfile = useStore((s) => s.saveProfile);
  const deleteProfile = useStore((s) => s.deleteProfile);
  const [form, setForm] = useState(EMPTY);
  const field = (key: keyof typeof form) => ({
    value: form[key] as string,
    onChange: (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value }),
    spellCheck: false,
  });

  async function submit(e: FormEvent) {
    e.preventDefault();
    const input = {
      name: form.name.trim(),
      ...(form.endpoint.trim() ? { endpoint: form.endpoint.trim() } : {}),
      ...(form.region.trim() ? { region: form.region.trim() } : {}),
      ...(form.pathStyle ? { pathStyle: true } : {}),
      ...(form.accessKeyId.trim() ? { accessKeyId: form.accessKeyId.trim() } : {}),
      ...(form.secretAccessKey ? { secretAccessKey: form.secretAccessKey } : {}),
      ...(form.sessionToken ? { sessionToken: form.sessionToken } : {}),
      ...(form.token ? { token: form.token } : {}),
      ...(form.credential ? { credential: form.credential } : {}),
    };
    // The secret fields are cleared whatever the answer: the form never keeps a secret.
    const saved = await saveProfile(input);
    setForm(saved ? EMPTY : { ...form, secretAccessKey: '', sessionToken: '', token: '', credential: '' });
  }

  return (
    <details className="profiles">
      <summary>Connection profiles</summary>
      {profiles.length > 0 && (
        <ul aria-label="Saved profiles">
          {profiles.map((p) => (
            <li key={p.name}>
              <strong>{p.name}</strong> {p.endpoint ?? 'AWS S3'} {p.region ?? ''} {p.accessKeyId ? `key ${p.accessKeyId}` : ''}
              {p.secretAccessKey ? ` · secret: ${p.secretAccessKey}` : ''}
              {p.sessionToken ? ` · session token: ${p.sessionToken}` : ''}
              {p.token ? ` · catalog token: ${p.token}` : ''}
              {p.credential ? ` · OAuth2 client: ${p.credential}` : ''}{' '}
              <button className="link" onClick={() => void deleteProfile(p.name)} aria-label={`Delete profile ${p.name}`}>
                delete
              </button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={(e) => void submit(e)} aria-label="Save a profile" className="profile-form">
        <label>
          Name <input {...field('name')} />
        </label>
        <label>
          S3 endpoint <input {...field('endpoint')} placeholder="http://127.0.0.1:9000 (empty: AWS S3)" />
        </label>
        <label>
          Region <input {...field('region')} placeholder="us-east-1" />
        </label>
        <label>
          <input type="checkbox" checked={form.pathStyle} onChange={(e) => setForm({ ...form, pathStyle: e.target.checked })} /> Path-style addressing
        </label>
        <label>
          Access key id <input {...field('accessKeyId')} />
        </label>
        <label title={SECRET_HELP}>
          Secret access key <input type="password" autoComplete="off" {...field('secretAccessKey')} />
        </label>
        <label title={SECRET_HELP}>
          AWS session token <input type="password" autoComplete="off" {...field('sessionToken')} />
        </label>
        <label title={`REST catalog bearer token: ${SECRET_HELP}`}>
          Catalog token <input type="password" autoComplete="off" {...field('token')} />
        </label>
        <label title={`REST catalog OAuth2 client credentials as client_id:client_secret (instead of a token): ${SECRET_HELP}`}>
          OAuth2 client credentials <input type="password" autoComplete="off" {...field('credential')} placeholder="client_id:client_secret" />
        </label>
        <button type="submit" disabled={!form.name.trim()}>
          Save profile
        </button>
      </form>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </details>
  );
}
