/**
 * A small private file system for disk-fault tests: a size-limited tmpfs (else an ext4 loop file)
 * mounted on a temp folder, which a test can fill to a chosen number of free bytes (ENOSPC for the
 * next write that does not fit) and remount read-only (EROFS). Real kernel errors, nothing
 * injected. Mounting needs root (CAP_SYS_ADMIN); where the kernel refuses, `mountSmallDisk`
 * returns the reason and the caller skips with it.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, fstatSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm, rmdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  /** Mount point; put the warehouse below it. */
  dir: string;
  mechanism: string;
  /** Fills the file system with a filler file until `leaveBytes` (rounded to pages) stay free. Returns the free bytes. */
  fill(leaveBytes?: number): Promise<number>;
  /** The same, synchronously: usable inside a synchronous callback, before the caller continues. */
  fillSync(leaveBytes?: number): void;
  /** Removes the filler. */
  free(): Promise<void>;
  freeBytes(): Promise<number>;
  /** Remounts read-only (true) or read-write (false). */
  setReadOnly(readOnly: boolean): void;
  unmount(): Promise<void>;
}

function run(cmd: string, args: string[]): { ok: boolean; text: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { ok: r.status === 0, text: `${cmd} ${args.join(' ')}: ${(r.stderr || r.stdout || r.error?.message || `exit ${r.status}`).trim()}` };
}

/** Mounts a `sizeMiB` file system, or returns why it cannot be done here. */
export async function mountSmallDisk(sizeMiB: number): Promise<SmallDisk | { unavailable: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-disk-'));
  const reasons: string[] = [];
  let mechanism: string | null = null;
  let loopFile: string | null = null;
  const tmpfs = run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir]);
  if (tmpfs.ok) mechanism = `tmpfs size=${sizeMiB}m`;
  else {
    reasons.push(tmpfs.text);
    // Second choice: an ext4 image on a loop device (needs /dev/loop* as well as CAP_SYS_ADMIN).
    loopFile = `${dir}.img`;
    const steps: [string, string[]][] = [
      ['truncate', ['-s', `${sizeMiB}M`, loopFile]],
      ['mkfs.ext4', ['-q', '-F', '-m', '0', loopFile]],
      ['mount', ['-o', 'loop', loopFile, dir]],
    ];
    let ok = true;
    for (const [cmd, args] of steps) {
      const r = run(cmd, args);
      if (!r.ok) {
        reasons.push(r.text);
        ok = false;
        break;
      }
    }
    if (ok) mechanism = `ext4 loop file ${sizeMiB} MiB`;
  }
  if (mechanism === null) {
    await rm(dir, { recursive: true, force: true });
    if (loopFile) await rm(loopFile, { force: true });
    return { unavailable: `cannot mount a small file system here (not root, or no CAP_SYS_ADMIN): ${reasons.join('; ')}` };
  }
  const filler = join(dir, 'filler.bin');
  const freeBytes = async () => {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  };
  const fillSync = (leaveBytes = 0) => {
    const fd = openSync(filler, 'a');
    try {
      // Big writes first, then pages: the file system ends exactly full.
      for (const size of [1 << 20, 64 << 10, 4 << 10, 512]) {
        const chunk = Buffer.alloc(size, 0x5a);
        for (;;) {
          try {
            if (writeSync(fd, chunk) < size) break;
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
            throw e;
          }
        }
      }
      if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes));
    } finally {
      closeSync(fd);
    }
  };
  return {
    dir,
    mechanism,
    freeBytes,
    fillSync,
    async fill(leaveBytes = 0) {
      fillSync(leaveBytes);
      return freeBytes();
    },
    async free() {
      await rm(filler, { force: true });
    },
    setReadOnly(readOnly) {
      const r = run('mount', ['-o', `remount,${readOnly ? 'ro' : 'rw'}`, dir]);
      if (!r.ok) throw new Error(r.text);
    },
    async unmount() {
      run('mount', ['-o', 'remount,rw', dir]);
      const r = run('umount', [dir]);
      if (!r.ok) run('umount', ['-l', dir]);
      await rmdir(dir).catch(() => undefined);
      if (loopFile) await rm(loopFile, { force: true });
    },
  };
}
