/**
 * Fuzz worker (worker_threads): runs one target on the inputs the main thread sends, one at a time,
 * and answers each with its outcome. Kept in a thread of its own so the main thread can give every
 * input a deadline and terminate the worker when a reader spins (a synchronous loop cannot be
 * interrupted any other way).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isTidemarkError } from '../../core/errors';
import { fuzzTargets, harnessSelfTestTarget } from './targets';

export interface WorkerRequest {
  id: number;
  input: Uint8Array;
}

export type WorkerReply = { id: number; outcome: 'accepted' | 'typed' } | { id: number; outcome: 'finding'; error: string } | { id: -1; outcome: 'ready' };

const port = parentPort!;
const { target: name } = workerData as { target: string };
const target = name === harnessSelfTestTarget().name ? harnessSelfTestTarget() : (await fuzzTargets()).find((t) => t.name === name);
if (!target) throw new Error(`fuzz worker: unknown target ${name}`);
port.on('message', (req: WorkerRequest) => {
  void (async () => {
    let reply: WorkerReply;
    try {
      await target.run(req.input);
      reply = { id: req.id, outcome: 'accepted' };
    } catch (e) {
      reply = isTidemarkError(e) ? { id: req.id, outcome: 'typed' } : { id: req.id, outcome: 'finding', error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
    port.postMessage(reply);
  })();
});
port.postMessage({ id: -1, outcome: 'ready' } satisfies WorkerReply);
