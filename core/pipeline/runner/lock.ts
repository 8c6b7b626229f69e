import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { TidemarkError, toWriteError } from '../../errors';

/**
 * One running instance per pipeline and warehouse. Two runners of the same pipeline would read the
 * same source changes and both commit them: inserts carry no equality delete (README "Commit
 * rounds"), so the rows would be doubled. A lake commit conflict cannot catch that (each commit is
 * valid on its own), so the second runner is refused before it reads anything.
 *
 * The lock is `<warehouse>/.tidemark/<pipeline>.lock`, created with an exclusive hard link of a
 * finished temp file (never half-written), holding the pid, host, process start time and a token.
 * A lock whose process is gone (kill -9, power loss) is stale and is taken over: its pid no longer
 * exists, is a zombie, or belongs to a process started at another time (pid reuse, Linux /proc).
 * A lock held on another host cannot be checked and is never taken over.
 */
export interface PipelineLock {
  path: string;
  /** Removes the lock if it is still ours. Never throws (a read-only disk keeps a stale lock). */
  release(): Promise<void>;
}

interface LockHolder {
  pipeline: string;
  pid: number;
  host: string;
  startedAtMs: number;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22), null off Linux. */
  procStart: string | null;
  token: string;
}

/** Tokens of the locks this process holds: a lock naming our pid but no live token is a leftover. */
const held = new Set<string>();
/**
 * Tokens of this process's acquirers still running: a lock or `.break` file naming one is live,
 * not a leftover. Both windows were found by racing acquirers, each letting two of them win: a
 * `.break` whose breaker was still at work, and a lock file just linked whose acquirer had not yet
 * recorded it as held (createExclusive still removing its temp file).
 */
const acquiring = new Set<string>();

function readProcStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return null;
  }
}

/** Whether the holder's process still runs (on this host; another host's lock counts as running). */
function isRunning(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  // Not a pid (an unreadable lock): kill(-1 or 0, 0) would probe every process or our group.
  if (!Number.isInteger(h.pid) || h.pid <= 0) return false;
  if (h.pid === process.pid) return held.has(h.token) || acquiring.has(h.token);
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const stat = readProcStat(h.pid);
  if (stat === null) return true;
  // A killed child its parent has not reaped yet is a zombie: it will never commit again.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return h.procStart === null || stat.start === h.procStart;
}

async function readHolder(path: string): Promise<LockHolder | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockHolder;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    // Unparsable: not written by this code (the lock is published whole); treat it as stale.
    return { pipeline: '?', pid: -1, host: hostname(), startedAtMs: 0, procStart: null, token: 'unreadable' };
  }
}

const describeHolder = (h: LockHolder) => `pid ${h.pid} on ${h.host}, started ${new Date(h.startedAtMs).toISOString()}`;

async function createExclusive(path: string, text: string): Promise<boolean> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(tmp, text, { flag: 'wx' });
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw toWriteError(e, path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/**
 * Takes the lock of `pipeline` at `path`, or throws CommitConflict naming the pipeline, the holder
 * (pid, host, start time) and the lock file. `now` is the clock for the recorded start time.
 */
export async function acquirePipelineLock(path: string, pipeline: string, now: () => number = Date.now): Promise<PipelineLock> {
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw toWriteError(e, dirname(path), 'create folder');
  }
  const me: LockHolder = { pipeline, pid: process.pid, host: hostname(), startedAtMs: now(), procStart: readProcStat(process.pid)?.start ?? null, token: randomUUID() };
  const text = JSON.stringify(me);
  acquiring.add(me.token);
  try {
    return await takeLock(path, pipeline, me, text);
  } finally {
    acquiring.delete(me.token);
  }
}

async function takeLock(path: string, pipeline: string, me: LockHolder, text: string): Promise<PipelineLock> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(path, text)) {
      held.add(me.token);
      return {
        path,
        async release() {
          held.delete(me.token);
          const h = await readHolder(path).catch(() => null);
          if (h?.token === me.token) await unlink(path).catch(() => undefined);
        },
      };
    }
    const holder = await readHolder(path);
    if (holder === null) continue; // released in between: try again
    if (isRunning(holder)) {
      throw new TidemarkError(
        'CommitConflict',
        `pipeline "${pipeline}" is already running on this warehouse (${describeHolder(holder)}; lock ${path}): stop it first, or delete the lock file if that process is gone`,
        { pipeline, path, pid: holder.pid, host: holder.host },
      );
    }
    // Stale: remove it under a second exclusive file, so two processes that both found it stale
    // cannot remove each other's fresh lock; only the one holding `.break` removes, after checking
    // the lock is still the stale one it read.
    const breaker = `${path}.break`;
    if (await createExclusive(breaker, text)) {
      try {
        const again = await readHolder(path);
        if (again?.token === holder.token) await unlink(path);
      } finally {
        await unlink(breaker).catch(() => undefined);
      }
    } else {
      const other = await readHolder(breaker);
      // A breaker that died while breaking leaves `.break` behind: it is stale the same way.
      if (other && !isRunning(other)) await unlink(breaker).catch(() => undefined);
    }
  }
  const holder = await readHolder(path);
  throw new TidemarkError('CommitConflict', `pipeline "${pipeline}": could not take the lock ${path}${holder ? ` (held by ${describeHolder(holder)})` : ''}`, { pipeline, path });
}
