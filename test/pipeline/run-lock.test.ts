import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { acquirePipelineLock } from '../../core/pipeline/runner/lock';

// The pipeline lock on its own: who holds it, when a lock is stale (dead pid, zombie-free reuse of
// a pid by another process, a leftover of this process, an unreadable file) and when it is not
// (a live process, another host), and that racing acquirers get exactly one winner.
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-lock-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Start time of pid 1 in clock ticks (/proc/1/stat field 22): the value a true holder records. */
const initStart = () => {
  const stat = readFileSync('/proc/1/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
};

async function holderLock(path: string, holder: Record<string, unknown>): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify({ pipeline: 'p', startedAtMs: 0, token: 'someone-else', host: hostname(), procStart: null, ...holder }));
}

async function conflict(p: Promise<unknown>): Promise<TidemarkError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TidemarkError);
  expect((e as TidemarkError).code).toBe('CommitConflict');
  return e as TidemarkError;
}

describe('pipeline lock', () => {
  it('is held until released; a second acquirer in the same process is refused naming this pid', async () => {
    const path = join(dir, 'a', '.tidemark', 'p.lock');
    const lock = await acquirePipelineLock(path, 'p', () => Date.UTC(2026, 0, 2));
    const content = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(content).toMatchObject({ pipeline: 'p', pid: process.pid, host: hostname(), startedAtMs: Date.UTC(2026, 0, 2) });
    const e = await conflict(acquirePipelineLock(path, 'p'));
    expect(e.message).toBe(`pipeline "p" is already running on this warehouse (pid ${process.pid} on ${hostname()}, started 2026-01-02T00:00:00.000Z; lock ${path}): stop it first, or delete the lock file if that process is gone`);
    expect(e.context).toMatchObject({ pipeline: 'p', path, pid: process.pid });
    await lock.release();
    expect(existsSync(path)).toBe(false);
    const again = await acquirePipelineLock(path, 'p');
    await again.release();
  });

  it('takes over the lock of a process that is gone (kill -9)', async () => {
    const path = join(dir, 'b', '.tidemark', 'p.lock');
    const child = spawn('sleep', ['30']);
    await holderLock(path, { pid: child.pid });
    await conflict(acquirePipelineLock(path, 'p'));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await acquirePipelineLock(path, 'p');
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('takes over a lock whose pid now belongs to another process (start time differs), keeps one whose start time matches', async () => {
    const path = join(dir, 'c', '.tidemark', 'p.lock');
    await holderLock(path, { pid: 1, procStart: initStart() });
    const e = await conflict(acquirePipelineLock(path, 'p'));
    expect(e.message).toContain(`(pid 1 on ${hostname()}, started 1970-01-01T00:00:00.000Z; lock ${path})`);
    await holderLock(path, { pid: 1, procStart: String(Number(initStart()) + 12345) });
    const lock = await acquirePipelineLock(path, 'p');
    await lock.release();
  });

  it('never takes over a lock held on another host; takes over an unreadable lock and a leftover of this process', async () => {
    const path = join(dir, 'd', '.tidemark', 'p.lock');
    await holderLock(path, { pid: 999_999, host: 'elsewhere.example' });
    const e = await conflict(acquirePipelineLock(path, 'p'));
    expect(e.message).toContain('(pid 999999 on elsewhere.example,');
    await writeFile(path, '{"pipeline": "p", "pi');
    await (await acquirePipelineLock(path, 'p')).release();
    // A run of this process that could not remove its lock (read-only disk) left it behind.
    await holderLock(path, { pid: process.pid, token: 'a-finished-run' });
    const lock = await acquirePipelineLock(path, 'p');
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ pid: process.pid });
    expect(JSON.parse(await readFile(path, 'utf8')).token).not.toBe('a-finished-run');
    await lock.release();
  });

  it('racing acquirers of a stale lock: exactly one wins, the others are refused', async () => {
    const path = join(dir, 'e', '.tidemark', 'p.lock');
    // Many rounds of 16: each window that let two acquirers win showed up once in a few such runs.
    for (let round = 0; round < 100; round++) {
      await holderLock(path, { pid: 999_999 });
      const results = await Promise.allSettled(Array.from({ length: 16 }, () => acquirePipelineLock(path, 'p')));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as TidemarkError).code).toBe('CommitConflict');
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquirePipelineLock>>>).value.release();
      expect(existsSync(path)).toBe(false);
    }
  });
});
