import { Worker, type ResourceLimits } from 'node:worker_threads';
import { isErrorCode, TidemarkError, toTidemarkError, type ErrorContext } from '../../errors';
import type { RunPipelineOptions, RunPipelineResult } from '../runner/run';
import type { SyncEvent } from '../runner/status';
import { workerExecArgv } from './worker-argv';

/**
 * The sync thread: the desktop app and `tidemark sync` run a pipeline (source, routing, buffering;
 * the sink's commits go on to their own worker, sink-thread.ts) in a worker thread of its own. The
 * main thread stays free for the app's IPC while a large transaction is converted (10k rows take
 * ~30 ms on the binlog path). Run from the bundle, the thread costs no throughput: 1M row changes in
 * 5.5–5.6 s against 5.4–5.5 s in-thread (2026-11-28, two runs each); from the sources (tsx) its
 * start costs ~1 s more.
 *
 * SYNC_THREAD_LIMITS: V8's defaults. Measured and not kept (2026-11-28): a young generation of
 * 384 MB (semi-spaces of 128 MB against 16) lets the binlog path's open transactions die young
 * instead of being promoted (it decodes ~2.8 KB of short-lived objects a row while it holds each
 * 10k-row transaction to its commit; with 16 MB semi-spaces ~100 bytes a row are promoted): the
 * binlog bench rose from 0.64–0.73× to 0.84× raw zongji (two full runs). But the snapshot phase,
 * which runs in the same thread, slowed down: 5M rows at 0.54× a raw SELECT against 0.76× on the
 * main thread, and our snapshot of 2M rows took 1.5–2.0 s with `--max-semi-space-size=128` against
 * 1.1–1.75 s with the default on the same machine, alternating (a nursery beyond the cache, on a
 * machine where first touching memory costs ~4 ms a MiB); peak RSS +200–300 MB. 96 MB did not help
 * the binlog path (0.64–0.73×).
 */
export const SYNC_THREAD_LIMITS: ResourceLimits = {};

/** What crosses to the sync thread: the options that are data (no injected env, clock or sink thread). */
export type PipelineThreadOptions = Pick<RunPipelineOptions, 'config' | 'untilCaughtUp' | 'signal' | 'onEvent' | 'source'>;

/** Messages of the sync thread (pipeline-worker.ts is the other side). */
export type PipelineWorkerRequest = { start: Pick<RunPipelineOptions, 'config' | 'untilCaughtUp' | 'source'> } | { stop: true };
export type PipelineWorkerReply =
  | { event: SyncEvent }
  | { ok: true; result: RunPipelineResult }
  | { ok: false; error: { code: string; message: string; context: ErrorContext } };

/**
 * esbuild's `define` sets this in the bundled Electron main process (electron/build.mjs), which
 * ships the sync thread as its own bundle beside main.mjs; from the sources it is started through
 * pipeline-worker-boot.mjs (as the sink worker: sink-thread.ts).
 */
declare const TIDEMARK_PIPELINE_WORKER: string | undefined;

export function defaultPipelineWorkerEntry(): URL {
  return typeof TIDEMARK_PIPELINE_WORKER === 'string' ? new URL(TIDEMARK_PIPELINE_WORKER, import.meta.url) : new URL('./pipeline-worker-boot.mjs', import.meta.url);
}

/**
 * runPipeline in the sync thread: the same options (those that are data), events and result; the
 * signal stops the run as in-thread (the buffered rows are committed first). A thread that fails
 * to start, throws outside the run or exits without a result rejects with an Internal error naming
 * the pipeline.
 */
export function runPipelineInThread(options: PipelineThreadOptions, entry: URL = defaultPipelineWorkerEntry()): Promise<RunPipelineResult> {
  const name = options.config.pipeline.name;
  return new Promise<RunPipelineResult>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      options.signal?.removeEventListener('abort', stop);
      fn();
    };
    const worker = new Worker(entry, { execArgv: workerExecArgv(), resourceLimits: SYNC_THREAD_LIMITS });
    const stop = () => worker.postMessage({ stop: true } satisfies PipelineWorkerRequest);
    let failure: string | null = null;
    worker.on('message', (msg: PipelineWorkerReply) => {
      if ('event' in msg) {
        options.onEvent?.(msg.event);
        return;
      }
      if (msg.ok) settle(() => resolve(msg.result));
      else settle(() => reject(new TidemarkError(isErrorCode(msg.error.code) ? msg.error.code : 'Internal', msg.error.message, msg.error.context)));
      void worker.terminate();
    });
    worker.on('error', (e) => {
      failure = toTidemarkError(e).message;
    });
    worker.on('messageerror', (e) => {
      failure = `sent an unreadable message (${e.message})`;
    });
    worker.on('exit', (code) => {
      settle(() => reject(new TidemarkError('Internal', `sync thread of pipeline ${name} ${failure ? `failed (${failure})` : `stopped with exit code ${code}`} before the run ended`, { pipeline: name })));
    });
    try {
      worker.postMessage({ start: { config: options.config, untilCaughtUp: options.untilCaughtUp, source: options.source } } satisfies PipelineWorkerRequest);
    } catch (e) {
      void worker.terminate();
      settle(() => reject(new TidemarkError('Internal', `cannot pass pipeline ${name} to the sync thread: ${toTidemarkError(e).message}`, { pipeline: name })));
      return;
    }
    if (options.signal?.aborted) stop();
    else options.signal?.addEventListener('abort', stop, { once: true });
  });
}
