import { Worker, type ResourceLimits } from 'node:worker_threads';
import { isErrorCode, TidemarkError, toTidemarkError, type ErrorContext } from '../errors';
import type { RunPipelineOptions, RunPipelineResult } from './run';
import type { SyncEvent } from './status';

/**
 * The sync thread: the desktop app and `tidemark sync` run a pipeline (source, routing, buffering;
 * the sink's commits go on to their own worker, sink-thread.ts) in a worker thread of its own. The
 * main thread stays free for the app's IPC while a large transaction is converted, and the thread's
 * heap is sized for the work.
 *
 * SYNC_THREAD_LIMITS: a young generation of up to 384 MB (semi-spaces of 128 MB; V8's default on
 * the main thread is 16 MB). The binlog path decodes ~2.8 KB of short-lived objects a row (zongji's
 * text for DATETIME and DECIMAL, decoded strings: measured with --trace-gc-nvp) while it keeps each
 * open transaction's rows until the commit; with 16 MB semi-spaces a 10k-row transaction lives
 * through two scavenges and is promoted (~100 bytes a row, later collected by the old generation;
 * on a machine where first touching memory is slow, ~4 ms a MiB, that alone is ~0.4 µs a row). V8
 * grows the young generation only while survival is high, so syncs of small transactions keep it
 * small; a large transaction grows it (peak RSS ~500 MB in the binlog bench against ~340 MB).
 * Measured on 2026-11-28 (bench/cdc-binlog.ts, 1M inserts in 10k-row transactions, our source
 * against raw zongji in the same thread): 0.84× (rounds 0.83–0.96) in this thread, 0.73× (0.66–0.83)
 * on the main thread in the same run; with 192 MB 0.62× (0.57–1.10) in one run and ~0.78 in another.
 */
export const SYNC_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 384 };

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
    // No inherited execArgv: under the tsx CLI or vitest the parent's loader flags would route every
    // module of the thread through hooks it registers again itself (pipeline-worker-boot.mjs).
    const worker = new Worker(entry, { execArgv: [], resourceLimits: SYNC_THREAD_LIMITS });
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
