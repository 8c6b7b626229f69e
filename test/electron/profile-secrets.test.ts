import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createProfileStore } from '../../core/app/profiles';
import { createKeychainSecrets } from '../../electron/secrets';

// Electron's safeStorage encrypts with a key the OS keeps; here AES-256-GCM with a key held in
// memory stands in for it, so the test sees what reaches the data folder: ciphertext only.
const keychain = vi.hoisted(() => ({ available: true, key: null as Buffer | null }));
vi.mock('electron', () => ({
  safeStorage: {
    isEncryptionAvailable: () => keychain.available,
    encryptString(text: string): Buffer {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', keychain.key!, iv);
      const body = Buffer.concat([c.update(text, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString(data: Buffer): string {
      const d = createDecipheriv('aes-256-gcm', keychain.key!, data.subarray(0, 12));
      d.setAuthTag(data.subarray(12, 28));
      return Buffer.concat([d.update(data.subarray(28)), d.final()]).toString('utf8');
    },
  },
}));

const SECRET = 'profile-secret-for-electron-3a9f';
let dataDir: string;

beforeAll(async () => {
  keychain.key = randomBytes(32);
  dataDir = await mkdtemp(join(tmpdir(), 'tidemark-profile-keychain-'));
});

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function everyFile(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) out.push(...(e.isDirectory() ? await everyFile(join(dir, e.name)) : [join(dir, e.name)]));
  return out;
}

describe('connection profiles in Electron: secrets through safeStorage', () => {
  it('keeps only ciphertext in the data folder and gives the secret back to the main process', async () => {
    const profiles = createProfileStore({ dataDir, secrets: createKeychainSecrets(dataDir), env: {} });
    const info = await profiles.save({ name: 'prod', endpoint: 'https://s3.eu-west-1.amazonaws.com', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, token: 'env:CATALOG_TOKEN' });
    expect(info).toMatchObject({ secretAccessKey: 'keychain', token: 'env:CATALOG_TOKEN' });
    const files = await everyFile(dataDir);
    expect(files.map((f) => f.slice(dataDir.length + 1)).sort()).toEqual(['profiles.json', join('secrets', 'profile_prod_secretAccessKey.bin')]);
    for (const f of files) expect((await readFile(f)).includes(Buffer.from(SECRET))).toBe(false);
    const withEnv = createProfileStore({ dataDir, secrets: createKeychainSecrets(dataDir), env: { CATALOG_TOKEN: 'tok' } });
    expect(await withEnv.resolve('prod')).toMatchObject({ secretAccessKey: SECRET, token: 'tok', accessKeyId: 'AKIDEXAMPLE' });
    // Replacing the secret by an env reference removes the keychain copy.
    await withEnv.save({ name: 'prod', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'env:S3_SECRET' });
    expect((await everyFile(dataDir)).map((f) => f.slice(dataDir.length + 1))).toEqual(['profiles.json']);
    expect(await withEnv.remove('prod')).toEqual({ name: 'prod', deleted: true });
  });

  it('without an OS keychain a literal secret is refused by name, never echoed', async () => {
    keychain.available = false;
    try {
      const profiles = createProfileStore({ dataDir, secrets: createKeychainSecrets(dataDir), env: {} });
      const error = await profiles.save({ name: 'nokeychain', accessKeyId: 'AKID', secretAccessKey: SECRET }).catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ code: 'Unsupported', message: 'no OS keychain is available to store the secret: use ${env:NAME} in the pipeline, or env:NAME in the connection profile, instead' });
      expect(JSON.stringify(error)).not.toContain(SECRET);
      expect(await profiles.list()).toEqual([]);
    } finally {
      keychain.available = true;
    }
  });
});
