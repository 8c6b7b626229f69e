import { Worker, type ResourceLimits } from 'node:worker_threads';
import { isErrorCode, TidemarkError, toTidemarkError, type ErrorContext } from '../../errors';
import type { RunPipelineOptions, RunPipelineResult } from '../runner/run';
import type { SyncEvent } from '../runner/status';
import { workerExecArgv } from './worker-argv';

/**
 * The sync thread: the desktop app and `tidemark sync` run a pipeline (source, routing, buffering;
 * the sink's commits go on to their own worker, sink-thread.ts) in a worker thread of its own, so
 * the main thread stays free for the app's IPC while a large transaction is converted. Run from
 * the bundle, the thread costs no throughput (docs/perf-notes.md, "Measurements behind code
 * choices").
 *
 * SYNC_THREAD_LIMITS: V8's defaults; a larger young generation helped the binlog path but slowed
 * the snapshot phase in the same thread more (same section).
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
