/**
 * Pipeline passwords and connection-profile secrets in the OS keychain: Electron safeStorage encrypts them with a key the OS
 * keeps (Keychain, DPAPI, libsecret/kwallet); only the ciphertext is written to the data folder.
 */
import { safeStorage } from 'electron';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError } from '../core/errors';
import type { SecretStore } from '../core/app/sync-service';

export function createKeychainSecrets(dataDir: string): SecretStore {
  const dir = join(dataDir, 'secrets');
  const file = (key: string) => join(dir, `${key.replace(/[^A-Za-z0-9_]/g, '_')}.bin`);
  return {
    async save(key, value) {
      if (!safeStorage.isEncryptionAvailable()) {
        throw new TidemarkError('Unsupported', 'no OS keychain is available to store the secret: use ${env:NAME} in the pipeline, or env:NAME in the connection profile, instead', {});
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(file(key), safeStorage.encryptString(value), { mode: 0o600 });
    },
    async load(key) {
      try {
        return safeStorage.decryptString(await readFile(file(key)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    },
    async remove(key) {
      await rm(file(key), { force: true });
    },
  };
}
