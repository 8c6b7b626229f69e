import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { toWriteError } from '../../errors';

/**
 * Writes a file that must not exist yet (exclusive create). When the write fails part way (a full
 * disk: ENOSPC, a quota: EDQUOT) the partial file is removed, so no truncated Parquet or Avro file
 * is left behind and its blocks are freed; the error is a TidemarkError naming the path and the
 * reason (see toWriteError).
 */
export async function writeNewFile(path: string, bytes: Uint8Array | string): Promise<void> {
  try {
    await writeFile(path, bytes, { flag: 'wx' });
  } catch (e) {
    // With EEXIST the file is someone else's: keep it.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(path).catch(() => undefined);
    throw toWriteError(e, path);
  }
}

/** `mkdir -p` whose failure (read-only file system, full disk) names the folder. */
export async function makeDirectory(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (e) {
    throw toWriteError(e, path, 'create folder');
  }
}

/** Renames a finished temp file over `path` (replacing it); on failure the temp file is removed. */
export async function renameOver(tmp: string, path: string): Promise<void> {
  await rename(tmp, path).catch(async (e: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw toWriteError(e, path, 'replace');
  });
}
