import { parentPort } from 'node:worker_threads';
import { toTidemarkError } from '../../errors';
import type { PipelineWorkerReply, PipelineWorkerRequest } from './pipeline-thread';
import { runPipeline } from '../runner/run';
import { writeThreadStats } from './thread-stats';

/**
 * The sync thread (started by pipeline-thread.ts): runs the one pipeline posted to it, posts its
 * events as they come and then its result, or the error's code, message and context (a thrown
 * Error does not cross threads intact). A stop message aborts the run as the signal would in-thread.
 */
if (!parentPort) throw new Error('pipeline-worker.ts runs as a worker thread (see pipeline-thread.ts)');
const port = parentPort;
const abort = new AbortController();
port.on('message', (msg: PipelineWorkerRequest) => {
  if ('stop' in msg) {
    abort.abort();
    return;
  }
  const post = (reply: PipelineWorkerReply) => port.postMessage(reply);
  runPipeline({ ...msg.start, signal: abort.signal, onEvent: (event) => post({ event }) }).then(
    (result) => {
      writeThreadStats('sync-thread');
      post({ ok: true, result });
    },
    (e: unknown) => {
      const err = toTidemarkError(e);
      post({ ok: false, error: { code: err.code, message: err.message, context: err.context } });
    },
  );
});
