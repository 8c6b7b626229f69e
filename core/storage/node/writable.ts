import { randomUUID } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { TidemarkError, toTidemarkError, toWriteError } from '../../errors';
import type { ObjectEntry, ObjectWriter, WritableStorage } from '../index';
import { createLocalStorage } from './index';

async function makeParent(path: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw toWriteError(e, dirname(path), 'create folder');
  }
}

/** Writes a fresh temp file beside `path` (never overwriting); a failed write removes it. */
async function writeTemp(path: string, bytes: Uint8Array | string): Promise<string> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, bytes, { flag: 'wx' });
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw toWriteError(e, path);
  }
  return tmp;
}

/**
 * Publishes a finished temp file at `path` only if nothing exists there (a hard link: atomic and
 * exclusive on a local file system), then removes the temp file. False when `path` existed.
 */
export async function publishTempFile(tmp: string, path: string): Promise<boolean> {
  try {
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw toWriteError(e, path, 'publish');
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

async function walk(dir: string, out: ObjectEntry[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw toTidemarkError(e);
  }
  for (const d of entries) {
    const p = join(dir, d.name);
    if (d.isDirectory()) await walk(p, out);
    else if (d.isFile()) {
      // Another writer's temp file may be renamed or removed between the listing and its stat: it
      // is not part of the tree any more (a listing under concurrent commits must not fail on it).
      const info = await stat(p).then(
        (s) => ({ size: s.size, mtimeMs: s.mtimeMs }),
        (e: NodeJS.ErrnoException) => {
          if (e.code === 'ENOENT') return null;
          throw toTidemarkError(e);
        },
      );
      if (info !== null) out.push({ path: p, ...info });
    }
  }
}

function createLocalWriter(path: string): ObjectWriter {
  const tmp = `${path}.${randomUUID()}.tmp`;
  let handle: Promise<FileHandle> | null = null;
  let size = 0;
  let state: 'open' | 'closed' | 'aborted' = 'open';
  const opened = () =>
    (handle ??= makeParent(path).then(() =>
      open(tmp, 'wx').catch((e: unknown) => {
        throw toWriteError(e, path);
      }),
    ));
  async function abort() {
    if (state !== 'open') return;
    state = 'aborted';
    if (handle) await (await handle.catch(() => null))?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
  }
  async function guarded<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (e) {
      await abort();
      throw toWriteError(e, path);
    }
  }
  function requireOpen(op: string) {
    if (state !== 'open') throw new TidemarkError('InvalidInput', `${op} on the writer of ${path}, which is already ${state}`, { path });
  }
  return {
    async write(chunk) {
      requireOpen('write');
      await guarded(async () => {
        const h = await opened();
        await h.write(chunk);
        size += chunk.length;
      });
    },
    async close() {
      requireOpen('close');
      await guarded(async () => {
        const h = await opened();
        await h.close();
        // Published whole or not at all: a reader never sees the file growing.
        await rename(tmp, path);
      });
      state = 'closed';
      return size;
    },
    abort,
  };
}

/**
 * The writable storage port over the local file system (Node only), so that callers can write a
 * table to a folder or a bucket through one interface. `putIfAbsent` publishes a finished temp file
 * with a hard link, which fails when the name exists (the technique of core/lake/write/commit.ts
 * `publishExclusive`, repeated here because storage/ must not depend on lake/).
 */
export function createLocalWritableStorage(): WritableStorage {
  return {
    ...createLocalStorage(),
    storeName: 'local file system',

    async writeFile(path, bytes) {
      await makeParent(path);
      const tmp = await writeTemp(path, bytes);
      await rename(tmp, path).catch(async (e: unknown) => {
        await unlink(tmp).catch(() => undefined);
        throw toWriteError(e, path, 'replace');
      });
    },

    async putIfAbsent(path, bytes) {
      await makeParent(path);
      return publishTempFile(await writeTemp(path, bytes), path);
    },

    async delete(path) {
      try {
        await rm(path, { force: true });
      } catch (e) {
        throw toWriteError(e, path, 'delete');
      }
    },

    async listRecursive(path) {
      const out: ObjectEntry[] = [];
      await walk(path, out);
      return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },

    createWriter: createLocalWriter,

    // link(2) fails with EEXIST atomically on every local file system we write to.
    conditionalPutSupported: async () => true,
  };
}
