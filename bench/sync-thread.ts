/**
 * Runs a bench's measured work in a worker thread with the resource limits of the app's sync
 * thread (core/pipeline/thread/pipeline-thread.ts SYNC_THREAD_LIMITS), where the app runs the CDC source
 * and the pipeline: limit and ours both measured in it, as the app would run them.
 */
import { Worker } from 'node:worker_threads';
import { SYNC_THREAD_LIMITS } from '../core/pipeline/thread/pipeline-thread';

/** Calls `fn` (an export of `module`, a file URL) with `args` in a new sync-sized thread; resolves with its result. */
export function inSyncThread<T>(module: string, fn: string, args: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(new URL('./thread-boot.mjs', import.meta.url), { execArgv: [], resourceLimits: SYNC_THREAD_LIMITS, workerData: { module, fn, args } });
    worker.once('message', (m: { ok: true; value: T } | { ok: false; message: string }) => {
      if (m.ok) resolve(m.value);
      else reject(new Error(`sync-thread bench ${fn}: ${m.message}`));
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`sync-thread bench ${fn}: thread exited with code ${code}`)));
  });
}
