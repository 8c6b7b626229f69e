import { Worker, type MessagePort } from 'node:worker_threads';
import { TidemarkError, toTidemarkError } from '../../../errors';
import { defaultWriteEnv, type WriteEnv } from '../../../lake/write';
import type { SealedChanges } from '../buffer';
import { transferablesOf } from '../columns';
import { defaultWorkerEntry, type SinkThread } from '../../thread/sink-thread';
import { workerExecArgv } from '../../thread/worker-argv';
import { postReply, settleReply, type WorkerResultReply } from '../../thread/worker-reply';
import { PaimonRoundWriter, type PaimonCommitDone, type PaimonRoundJob } from './writer';

/**
 * Where the Paimon sink's writing runs: in the sink worker thread (the sync thread reads the
 * binlog meanwhile; the Paimon write path — key rows, bucket hashes, Arrow, Parquet, compaction —
 * costs several times the reading) or in-thread (always for an injected WriteEnv: its functions
 * cannot cross to a worker).
 */
export interface PaimonCommitter {
  append(part: SealedChanges, root: string): void;
  /** While the writer is behind on handed-over parts, a promise that resolves once it has caught up enough; else null. */
  backlog(): Promise<void> | null;
  commit(job: PaimonRoundJob): Promise<PaimonCommitDone[]>;
  /** Waits for background compaction (before a schema change). */
  settle(): Promise<void>;
  /** Waits for background compaction, then stops the worker. */
  close(): Promise<void>;
}

/** Parts handed over to the worker and not yet taken beyond which the runner waits. */
export const PAIMON_PARTS_AHEAD = 6;

export type PaimonWorkerRequest = { part: SealedChanges; root: string } | { id: number; job: PaimonRoundJob } | { id: number; settle: true };
export type PaimonWorkerReply = { taken: 1 } | WorkerResultReply<PaimonCommitDone[]>;

/**
 * The committer for a run: in-thread unless `thread` is 'worker' (and the env is not injected).
 * Not the worker by default yet: with it, the Paimon kill -9 trials (crash.test.ts) never got past
 * the snapshot phase within their 2 s kill window under load (three runs; in-thread: 13 of 20
 * kills in streaming), for a reason not yet found (docs/perf-notes.md).
 */
export function createPaimonCommitter(env: WriteEnv, thread?: SinkThread): PaimonCommitter {
  return thread === 'worker' && env === defaultWriteEnv ? createWorkerPaimonCommitter() : createInThreadPaimonCommitter(env);
}

export function createInThreadPaimonCommitter(env: WriteEnv): PaimonCommitter {
  const writer = new PaimonRoundWriter(env);
  return {
    append: (part, root) => void writer.add(part, root),
    backlog: () => writer.backlog(),
    commit: (job) => writer.commitRound(job),
    settle: () => writer.settle(),
    // The runner closes the sink in its `finally`, before releasing its lock: close must not throw
    // (the lock would stay). A compaction that failed there lost nothing (the rows are committed;
    // only its unreferenced files remain), and the next run compacts the same runs again.
    close: () => writer.settle().catch(() => undefined),
  };
}

/** The sink worker side of the protocol (core/pipeline/thread/sink-worker.ts starts it when told to write Paimon). */
export function servePaimonWorker(port: MessagePort, env: WriteEnv = defaultWriteEnv): void {
  const writer = new PaimonRoundWriter(env);
  port.on('message', (msg: PaimonWorkerRequest) => {
    if ('part' in msg) {
      // Acknowledged once taken: after the write-buffer flush it started, if it did.
      void writer.add(msg.part, msg.root).then(() => port.postMessage({ taken: 1 } satisfies PaimonWorkerReply));
      return;
    }
    void postReply(port, msg.id, 'settle' in msg ? writer.settle().then(() => []) : writer.commitRound(msg.job));
  });
}

export function createWorkerPaimonCommitter(entry: URL = defaultWorkerEntry()): PaimonCommitter {
  const pending = new Map<number, { what: string; resolve: (r: PaimonCommitDone[]) => void; reject: (e: TidemarkError) => void }>();
  let nextId = 1;
  let stopped: string | null = null;
  let failure: string | null = null;
  let untaken = 0;
  let waiters: (() => void)[] = [];
  const release = () => {
    const ws = waiters;
    waiters = [];
    for (const w of ws) w();
  };
  const worker = new Worker(entry, { execArgv: workerExecArgv(), workerData: { s3: null, rest: null, paimon: true } });
  worker.unref();
  const updateRef = () => (pending.size === 0 && untaken === 0 ? worker.unref() : worker.ref());
  const failAll = (why: string) => {
    for (const [id, p] of pending) {
      pending.delete(id);
      p.reject(new TidemarkError('Internal', `Paimon sink worker ${why} while ${p.what}`, {}));
    }
  };
  worker.on('message', (reply: PaimonWorkerReply) => {
    if ('taken' in reply) {
      untaken = Math.max(0, untaken - 1);
      if (untaken <= PAIMON_PARTS_AHEAD) release();
      updateRef();
      return;
    }
    if (settleReply(pending, reply)) updateRef();
  });
  worker.on('error', (e) => {
    failure = `failed (${toTidemarkError(e).message})`;
  });
  worker.on('exit', (code) => {
    stopped = failure ?? (stopped === 'closed' ? 'was closed' : `stopped with exit code ${code}`);
    failAll(stopped);
    release();
  });
  const request = (what: string, make: (id: number) => PaimonWorkerRequest): Promise<PaimonCommitDone[]> => {
    if (stopped !== null) return Promise.reject(new TidemarkError('Internal', `Paimon sink worker ${stopped} before ${what}`, {}));
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { what, resolve, reject });
      worker.ref();
      try {
        // Copied, not transferred: the round's last parts stay whole on this side.
        worker.postMessage(make(id));
      } catch (e) {
        pending.delete(id);
        updateRef();
        reject(new TidemarkError('Internal', `cannot pass ${what} to the Paimon sink worker: ${toTidemarkError(e).message}`, {}));
      }
    });
  };
  return {
    append(part, root) {
      if (stopped !== null) throw new TidemarkError('Internal', `Paimon sink worker ${stopped} before committing ${part.table}`, { table: part.table });
      try {
        worker.postMessage({ part, root } satisfies PaimonWorkerRequest, transferablesOf(part.values));
      } catch (e) {
        throw new TidemarkError('Internal', `cannot pass the changes of ${part.table} to the Paimon sink worker: ${toTidemarkError(e).message}`, { table: part.table });
      }
      untaken++;
      updateRef();
    },
    backlog: () => (stopped === null && untaken > PAIMON_PARTS_AHEAD ? new Promise<void>((resolve) => waiters.push(resolve)) : null),
    commit: (job) => request(`committing ${job.commits.map((c) => c.table).join(', ') || '(no table)'}`, (id) => ({ id, job })),
    settle: async () => {
      await request('waiting for compaction', (id) => ({ id, settle: true }));
    },
    async close() {
      if (stopped !== null) return;
      // As in-thread: waits for the background compaction (no commit may outlive the runner's lock), never throws.
      await request('finishing compaction', (id) => ({ id, settle: true })).catch(() => undefined);
      stopped = 'closed';
      await worker.terminate();
    },
  };
}
