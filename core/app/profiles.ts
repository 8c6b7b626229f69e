/**
 * Named connection profiles for remote lakes, saved in `<dataDir>/profiles.json`. The file holds
 * settings and, for each secret, only where it is: `keychain` (the value in the SecretStore, which
 * Electron backs with safeStorage) or `env:NAME` (read from the environment when used; the only
 * form in browser mode, which has no keychain). Secret values never reach the file, a reply, a log
 * or an error message.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProfileInfo, SecretRef } from '../api';
import { TidemarkError } from '../errors';
import type { SecretStore } from './sync-service';

export const SECRET_FIELDS = ['secretAccessKey', 'sessionToken', 'token', 'credential'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

export interface ProfileInput {
  name: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  token?: string;
  credential?: string;
}

/** A profile with its secrets resolved: in memory only, for the storage and catalog clients. */
export interface ResolvedProfile {
  name: string;
  endpoint: string | null;
  region: string | null;
  pathStyle: boolean | null;
  accessKeyId: string | null;
  secretAccessKey: string | null;
  sessionToken: string | null;
  token: string | null;
  credential: string | null;
}

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

export interface ProfileStore {
  list(): Promise<ProfileInfo[]>;
  save(input: ProfileInput): Promise<ProfileInfo>;
  remove(name: string): Promise<{ name: string; deleted: boolean }>;
  /** The profile with its secrets read (keychain or environment); NotFound naming the profile. */
  resolve(name: string): Promise<ResolvedProfile>;
}

function secretKey(profile: string, field: SecretField): string {
  return `profile.${profile}.${field}`;
}

export function createProfileStore(deps: { dataDir: string; secrets: SecretStore | null; env?: Record<string, string | undefined> }): ProfileStore {
  const file = join(deps.dataDir, 'profiles.json');
  const env = deps.env ?? process.env;

  async function readAll(): Promise<ProfileInfo[]> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new TidemarkError('Io', `cannot read the saved profiles ${file}: ${(e as Error).message}`, { path: file }, e);
    }
    try {
      return JSON.parse(text) as ProfileInfo[];
    } catch (e) {
      throw new TidemarkError('DataInvalid', `${file}: the saved profiles are not JSON`, { path: file }, e);
    }
  }

  async function writeAll(profiles: ProfileInfo[]): Promise<void> {
    await mkdir(deps.dataDir, { recursive: true });
    const tmp = `${file}.tmp-${process.pid}`;
    await writeFile(tmp, `${JSON.stringify(profiles, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  }

  return {
    list: readAll,
    async save(input) {
      const all = await readAll();
      const previous = all.find((p) => p.name === input.name);
      const info: ProfileInfo = {
        name: input.name,
        endpoint: input.endpoint ?? null,
        region: input.region ?? null,
        pathStyle: input.pathStyle ?? null,
        accessKeyId: input.accessKeyId ?? null,
        secretAccessKey: previous?.secretAccessKey ?? null,
        sessionToken: previous?.sessionToken ?? null,
        token: previous?.token ?? null,
        credential: previous?.credential ?? null,
      };
      for (const field of SECRET_FIELDS) {
        const value = input[field];
        if (value === undefined) continue;
        let ref: SecretRef;
        if (ENV_REF.test(value)) ref = value as SecretRef;
        else {
          if (!deps.secrets) throw new TidemarkError('InvalidInput', `profile ${input.name}: ${field}: browser mode keeps no secrets; give it as env:NAME (an environment variable of the Tidemark process)`, { profile: input.name, field });
          await deps.secrets.save(secretKey(input.name, field), value);
          ref = 'keychain';
        }
        if (info[field] === 'keychain' && ref !== 'keychain') await deps.secrets?.remove(secretKey(input.name, field));
        info[field] = ref;
      }
      if ((info.accessKeyId === null) !== (info.secretAccessKey === null)) {
        throw new TidemarkError('InvalidInput', `profile ${input.name}: give the access key id and the secret access key together`, { profile: input.name });
      }
      if (info.token !== null && info.credential !== null) throw new TidemarkError('InvalidInput', `profile ${input.name}: give a catalog token or an OAuth2 credential, not both`, { profile: input.name });
      await writeAll([...all.filter((p) => p.name !== input.name), info].sort((a, b) => (a.name < b.name ? -1 : 1)));
      return info;
    },
    async remove(name) {
      const all = await readAll();
      const found = all.find((p) => p.name === name);
      if (!found) return { name, deleted: false };
      for (const field of SECRET_FIELDS) if (found[field] === 'keychain') await deps.secrets?.remove(secretKey(name, field));
      await writeAll(all.filter((p) => p.name !== name));
      return { name, deleted: true };
    },
    async resolve(name) {
      const info = (await readAll()).find((p) => p.name === name);
      if (!info) throw new TidemarkError('NotFound', `no saved profile named ${JSON.stringify(name)}`, { profile: name });
      const out: ResolvedProfile = { ...info, secretAccessKey: null, sessionToken: null, token: null, credential: null };
      for (const field of SECRET_FIELDS) {
        const ref = info[field];
        if (ref === null) continue;
        if (ref === 'keychain') {
          const value = deps.secrets ? await deps.secrets.load(secretKey(name, field)) : null;
          if (value === null) throw new TidemarkError('NotFound', `profile ${name}: its ${field} is not in the keychain (here); save the profile again`, { profile: name, field });
          out[field] = value;
        } else {
          const variable = ENV_REF.exec(ref)![1]!;
          const value = env[variable];
          if (!value) throw new TidemarkError('InvalidInput', `profile ${name}: ${field} refers to the environment variable ${variable}, which is not set`, { profile: name, field, variable });
          out[field] = value;
        }
      }
      return out;
    },
  };
}
