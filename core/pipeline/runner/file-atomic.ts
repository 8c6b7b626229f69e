import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toWriteError } from '../../errors';

/** Replaces the file atomically (temp file + rename): a crash leaves the old or the new version. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (e) {
    // A full or read-only disk: drop the partial temp file, name the file in the error.
    await unlink(tmp).catch(() => undefined);
    throw toWriteError(e, path);
  }
}
