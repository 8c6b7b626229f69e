import { Worker } from 'node:worker_threads';
import { TidemarkError, toTidemarkError } from '../../errors';
import { defaultWriteEnv, type TableCatalog, type WriteEnv } from '../../lake/write';
import type { SinkRestSettings } from '../config/types';
import type { WritableStorage } from '../../storage';
import type { S3Config } from '../../storage/s3/index';
import type { SealedChanges } from '../sink/buffer';
import { transferablesOf } from '../sink/columns';
import { workerExecArgv } from './worker-argv';
import { settleReply, type WorkerResultReply } from './worker-reply';
import { commitSinkRound, RoundParts, roundTables, type SinkCommitResult, type SinkRoundJob } from '../sink/iceberg/commit';

/**
 * Where the sink's commits run. The machine the runner is sized for has 2 cores and the binlog
 * reader keeps the main thread busy, so by default the per-commit encoding (dedup, Arrow build,
 * Parquet with ZSTD, manifests) runs in a worker thread: the next round is read while the last
 * one is written. `main` runs it in-thread (an injected WriteEnv: its functions cannot cross to
 * a worker).
 */
export type SinkThread = 'worker' | 'main';

export interface SinkCommitter {
  readonly thread: SinkThread;
  /** Hands over a part of a table's current round (TableBuffer.take); throws a TidemarkError naming the table when it cannot. */
  append(part: SealedChanges): void;
  /**
   * While more streamed parts than STREAMED_PARTS_AHEAD are not yet written, a promise that
   * resolves once they are down to it (the reader waits: the sink's memory stays one part per
   * pending slot, however fast the source is); else null.
   */
  backlog(): Promise<void> | null;
  /** Commits a round (one result per commit, in order); rejects with a TidemarkError (naming the table) when it cannot. */
  commit(job: SinkRoundJob): Promise<SinkCommitResult[]>;
  /** Stops the worker (no commit may be pending). */
  close(): Promise<void>;
}

/** Streamed parts handed over and not yet written beyond which the runner waits (SinkCommitter.backlog). */
export const STREAMED_PARTS_AHEAD = 6;

/** Counts streamed parts handed over and not yet written; `wait` resolves once they are at most STREAMED_PARTS_AHEAD. */
class StreamedBacklog {
  private pending = 0;
  private waiters: (() => void)[] = [];

  sent(part: SealedChanges): void {
    if (part.stream) this.pending++;
  }

  written(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending <= STREAMED_PARTS_AHEAD) this.release();
  }

  /** Releases every waiter (the worker is gone: the next append or commit reports why). */
  release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  get idle(): boolean {
    return this.pending === 0;
  }

  wait(): Promise<void> | null {
    if (this.pending <= STREAMED_PARTS_AHEAD) return null;
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export function createInThreadCommitter(env: WriteEnv): SinkCommitter {
  const backlog = new StreamedBacklog();
  const parts = new RoundParts(env, () => backlog.written());
  return {
    thread: 'main',
    append: (part) => {
      backlog.sent(part);
      parts.add(part);
    },
    backlog: () => backlog.wait(),
    commit: (job) => commitSinkRound(job, env, parts),
    close: async () => undefined,
  };
}

/** What the sink worker is started with: the S3 settings of an s3:// warehouse (a storage cannot cross threads; its settings can). */
export interface SinkWorkerData {
  s3: S3Config | null;
  /** A REST catalog sink's catalog (its client is rebuilt in the worker). */
  rest: (SinkRestSettings & { warehouse: string }) | null;
}

/** Where a sink that is not a local hadoop warehouse writes: this thread's storage and catalog, and their settings for the worker. */
export interface SinkRemote extends SinkWorkerData {
  storage: WritableStorage | null;
  catalog: TableCatalog | null;
}

/** Messages of the worker protocol (sink-worker.ts is the other side). */
export type SinkWorkerRequest = { id: number; job: SinkRoundJob } | { part: SealedChanges };
export type SinkWorkerReply = WorkerResultReply<SinkCommitResult[]> | { streamed: 1 };

/**
 * esbuild's `define` sets this in the bundled Electron main process (electron/build.mjs), which
 * ships the worker as its own bundle beside main.mjs. From the sources (tsx: the CLI, tests,
 * benches) the worker entry is a JavaScript file that registers tsx and loads sink-worker.ts.
 */
declare const TIDEMARK_SINK_WORKER: string | undefined;

export function defaultWorkerEntry(): URL {
  return typeof TIDEMARK_SINK_WORKER === 'string' ? new URL(TIDEMARK_SINK_WORKER, import.meta.url) : new URL('./sink-worker-boot.mjs', import.meta.url);
}

/**
 * The sink worker: one thread, started now (it loads while the source connects), committing the
 * jobs posted to it. A worker that throws, exits or cannot be started fails every pending and
 * later commit with an Internal error naming the table; it is never waited for silently. The
 * worker keeps the process alive only while a commit is pending.
 */
export function createWorkerCommitter(entry: URL = defaultWorkerEntry(), options: SinkWorkerData = { s3: null, rest: null }): SinkCommitter {
  const pending = new Map<number, { table: string; resolve: (r: SinkCommitResult[]) => void; reject: (e: TidemarkError) => void }>();
  let nextId = 1;
  let failure: string | null = null;
  let stopped: string | null = null;
  const worker = new Worker(entry, { execArgv: workerExecArgv(), workerData: options });
  worker.unref();
  const backlog = new StreamedBacklog();
  // Referenced while a commit or a streamed part is pending: the reply must keep the thread alive.
  const updateRef = () => (pending.size === 0 && backlog.idle ? worker.unref() : worker.ref());
  const failAll = (why: string) => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new TidemarkError('Internal', `sink worker ${why} while committing ${p.table}`, { table: p.table }));
    }
  };
  worker.on('message', (reply: SinkWorkerReply) => {
    if ('streamed' in reply) {
      backlog.written();
      updateRef();
      return;
    }
    if (settleReply(pending, reply)) updateRef();
  });
  worker.on('error', (e) => {
    failure = `failed (${toTidemarkError(e).message})`;
  });
  worker.on('messageerror', (e) => {
    failure = `sent an unreadable reply (${e.message})`;
    failAll(failure);
  });
  worker.on('exit', (code) => {
    stopped = failure ?? (stopped === 'closed' ? 'was closed' : `stopped with exit code ${code}`);
    failAll(stopped);
    backlog.release();
  });
  const post = (message: SinkWorkerRequest, table: string) => {
    try {
      // A part's typed columns move to the worker (TableBuffer made them for this part alone); a
      // round's job (its last parts) is copied, so that it stays whole on this side.
      worker.postMessage(message, 'part' in message ? transferablesOf(message.part.values) : []);
    } catch (e) {
      // A value structured clone cannot copy (a class instance from a transform).
      throw new TidemarkError('Internal', `cannot pass the changes of ${table} to the sink worker: ${toTidemarkError(e).message}`, { table });
    }
  };
  return {
    thread: 'worker',
    append(part) {
      if (stopped !== null) throw new TidemarkError('Internal', `sink worker ${stopped} before committing ${part.table}`, { table: part.table });
      post({ part }, part.table);
      backlog.sent(part);
      updateRef();
    },
    backlog: () => (stopped === null ? backlog.wait() : null),
    commit(job) {
      const table = roundTables(job);
      if (stopped !== null) return Promise.reject(new TidemarkError('Internal', `sink worker ${stopped} before committing ${table}`, { table }));
      return new Promise<SinkCommitResult[]>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { table, resolve, reject });
        worker.ref();
        try {
          post({ id, job }, table);
        } catch (e) {
          pending.delete(id);
          updateRef();
          reject(e);
        }
      });
    },
    async close() {
      if (stopped !== null) return;
      stopped = 'closed';
      await worker.terminate();
    },
  };
}

/**
 * The committer for a run: a worker unless the write env is injected (or `thread` says otherwise).
 * `remote` is an object store or REST catalog: in-thread commits use its `storage` and `catalog`,
 * the worker builds its own from `s3` and `rest`.
 */
export function createSinkCommitter(env: WriteEnv, thread?: SinkThread, remote: SinkRemote | null = null): SinkCommitter {
  const chosen = thread ?? (env === defaultWriteEnv ? 'worker' : 'main');
  if (chosen === 'worker') return createWorkerCommitter(defaultWorkerEntry(), { s3: remote?.s3 ?? null, rest: remote?.rest ?? null });
  return createInThreadCommitter(remote ? { ...env, ...(remote.storage ? { storage: remote.storage } : {}), ...(remote.catalog ? { catalog: remote.catalog } : {}) } : env);
}
