import { routeStorage, type WritableStorage } from '../storage';
import { createS3Storage, isS3Url, type S3StorageOptions } from '../storage/s3/index';

/**
 * A WritableStorage that reaches each REST catalog table's files with the S3 settings the catalog
 * vended for that table in its load result (its `config` and `storage-credentials`), over the
 * writer's own settings; every other path goes to `fallback`. A catalog that vends short-lived
 * keys per table (scoped to its location) is written with exactly those keys, table by table.
 */
export interface VendedStorage extends WritableStorage {
  /**
   * Uses `vended` (over the base settings) for `root` and every path below it, from now on. The
   * same settings again keep the storage already built (its conditional-PUT probe, its sockets).
   */
  vend(root: string, vended: S3StorageOptions): void;
}

export function createVendedStorage(fallback: WritableStorage, base: S3StorageOptions = {}, make: (options: S3StorageOptions) => WritableStorage = createS3Storage): VendedStorage {
  const roots = new Map<string, { key: string; storage: WritableStorage }>();

  /** The storage of the longest vended root holding `path` (a whole segment: `t` does not hold `t2`). */
  function at(path: string): WritableStorage {
    if (!isS3Url(path) || roots.size === 0) return fallback;
    const p = path.replace(/^s3a:/i, 's3:');
    let best: { length: number; storage: WritableStorage } | null = null;
    for (const [root, entry] of roots) {
      if ((p === root || p.startsWith(`${root}/`)) && (!best || root.length > best.length)) best = { length: root.length, storage: entry.storage };
    }
    return best?.storage ?? fallback;
  }

  const vend = (root: string, vended: S3StorageOptions): void => {
    const r = root.replace(/^s3a:/i, 's3:').replace(/\/+$/, '');
    // Kept in memory only, never logged: it holds the vended secret.
    const key = JSON.stringify(vended);
    if (roots.get(r)?.key === key) return;
    roots.set(r, { key, storage: make({ ...base, ...vended }) });
  };
  return Object.assign(routeStorage(() => fallback.storeName, at), { vend });
}
