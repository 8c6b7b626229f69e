// Entry of a bench's sync-thread worker (bench/sync-thread.ts): registers tsx (a worker does not
// inherit the parent's hooks), calls the named export of the module with the posted arguments and
// posts back its result, or the error's message.
import { parentPort, workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
try {
  const mod = await import(workerData.module);
  parentPort.postMessage({ ok: true, value: await mod[workerData.fn](workerData.args) });
} catch (e) {
  parentPort.postMessage({ ok: false, message: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) });
}
