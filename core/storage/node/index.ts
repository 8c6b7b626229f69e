/** core/storage/node: the storage port over the local file system (Node only; core/storage/index.ts stays browser-safe). */
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { toTidemarkError } from '../../errors';
import type { DirEntry, FileInfo, StoragePort } from '../index';

/** The storage port over the local file system (Node only). */
export function createLocalStorage(): StoragePort {
  return {
    async readFile(path) {
      try {
        return new Uint8Array(await readFile(path));
      } catch (e) {
        throw toTidemarkError(e);
      }
    },
    async readRange(path, offset, length) {
      let handle;
      try {
        handle = await open(path, 'r');
        const buffer = new Uint8Array(length);
        const { bytesRead } = await handle.read(buffer, 0, length, offset);
        return buffer.subarray(0, bytesRead);
      } catch (e) {
        throw toTidemarkError(e);
      } finally {
        await handle?.close();
      }
    },
    async stat(path): Promise<FileInfo | null> {
      try {
        const s = await stat(path);
        return { size: s.size, mtimeMs: s.mtimeMs };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw toTidemarkError(e);
      }
    },
    async list(path): Promise<DirEntry[]> {
      try {
        const entries = await readdir(path, { withFileTypes: true });
        return entries
          .filter((d) => d.isFile() || d.isDirectory())
          .map((d): DirEntry => ({ name: d.name, kind: d.isDirectory() ? 'directory' : 'file' }))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      } catch (e) {
        throw toTidemarkError(e);
      }
    },
  };
}

export { createLocalWritableStorage } from './writable';
export { storageFor, type StorageForOptions, type StorageLocation } from './storage-for';
export { publishTempFile } from './writable';
