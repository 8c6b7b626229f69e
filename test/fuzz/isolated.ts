/**
 * Fuzzing with a deadline per input. Inputs run in a worker thread (worker.ts), one at a time; an
 * input that does not finish within `inputDeadlineMs` is a hang: the worker is terminated (the only
 * way to stop a synchronous loop), the input is recorded in full (base64, with its target, and
 * saved to `hangDir` when given) and a fresh worker takes the next input. A worker that dies (an
 * uncaught error, out of memory) is a finding too. Hangs and findings both fail the fuzz test.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fuzzInputs, type FuzzResult, type FuzzTarget } from './targets';
import type { WorkerReply } from './worker';

export interface Hang {
  target: string;
  /** The whole input, base64. */
  input: string;
  /** How long it ran before it was stopped (ms). */
  ms: number;
  /** Where it was saved, if it was. */
  file: string | null;
}

export interface IsolatedFuzzResult extends FuzzResult {
  hangs: Hang[];
  /** Slowest input that finished (ms), for the report. */
  slowestMs: number;
}

export interface IsolatedFuzzOptions {
  inputDeadlineMs?: number;
  seed?: number;
  /** Folder to save hanging inputs in (one JSON file each). */
  hangDir?: string;
  /** Heap limit of the worker (MiB): a reader allocating without bound dies instead of the run. */
  maxHeapMb?: number;
}

const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-');

class FuzzWorker {
  private worker: Worker;
  private pending: ((r: WorkerReply | { id: number; outcome: 'died'; error: string }) => void) | null = null;
  readonly ready: Promise<void>;

  constructor(target: string, maxHeapMb: number) {
    // The worker loads the TypeScript sources through tsx's loader, as bin/tidemark does (Node 20
    // workers do not take `--import` in execArgv, so a two-line bootstrap registers it).
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}); })`;
    this.worker = new Worker(boot, { eval: true, workerData: { target }, resourceLimits: { maxOldGenerationSizeMb: maxHeapMb } });
    this.ready = new Promise((resolve, reject) => {
      const onReady = (m: WorkerReply) => {
        if (m.outcome === 'ready') {
          this.worker.off('message', onReady);
          this.worker.on('message', (r: WorkerReply) => this.resolve(r));
          resolve();
        }
      };
      this.worker.on('message', onReady);
      this.worker.once('error', (e) => {
        reject(e);
        this.resolve({ id: -2, outcome: 'died', error: `${e.name}: ${e.message}` });
      });
      this.worker.once('exit', (code) => this.resolve({ id: -2, outcome: 'died', error: `worker exited with code ${code}` }));
    });
  }

  private resolve(r: WorkerReply | { id: number; outcome: 'died'; error: string }) {
    const p = this.pending;
    this.pending = null;
    p?.(r);
  }

  /** The outcome of `input`, or 'hang' after `deadlineMs`. */
  async run(id: number, input: Uint8Array, deadlineMs: number): Promise<WorkerReply | { id: number; outcome: 'died'; error: string } | { id: number; outcome: 'hang' }> {
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<WorkerReply | { id: number; outcome: 'died'; error: string }>((resolve) => (this.pending = resolve));
    this.worker.postMessage({ id, input });
    const r = await Promise.race([reply, new Promise<{ id: number; outcome: 'hang' }>((resolve) => (timer = setTimeout(() => resolve({ id, outcome: 'hang' }), deadlineMs)))]);
    clearTimeout(timer);
    if (r.outcome === 'hang') this.pending = null;
    return r;
  }

  async stop(): Promise<void> {
    this.pending = null;
    await this.worker.terminate();
  }
}

async function saveHang(dir: string, target: string, input: Uint8Array, ms: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${slug(target)}-${createHash('sha256').update(input).digest('hex').slice(0, 12)}.json`);
  await writeFile(file, `${JSON.stringify({ target, deadlineExceededAfterMs: ms, base64: Buffer.from(input).toString('base64') }, null, 2)}\n`);
  return file;
}

/** Runs `target` for `budgetMs` (or `maxInputs`), every input under a deadline in a worker. */
export async function fuzzIsolated(target: FuzzTarget, budgetMs: number, maxInputs = Infinity, options: IsolatedFuzzOptions = {}): Promise<IsolatedFuzzResult> {
  const deadline = options.inputDeadlineMs ?? 2000;
  const maxHeap = options.maxHeapMb ?? 1024;
  const result: IsolatedFuzzResult = { target: target.name, inputs: 0, typedErrors: 0, accepted: 0, findings: [], ms: 0, hangs: [], slowestMs: 0 };
  let worker = new FuzzWorker(target.name, maxHeap);
  await worker.ready;
  // The budget counts running inputs, not the worker's start (tsx compiling the readers).
  const started = performance.now();
  try {
    for (const input of fuzzInputs(target, options.seed ?? 1)) {
      if (result.inputs >= maxInputs || performance.now() - started > budgetMs) break;
      const id = result.inputs++;
      const t0 = performance.now();
      const r = await worker.run(id, input, deadline);
      const ms = Math.round(performance.now() - t0);
      if (r.outcome === 'accepted' || r.outcome === 'typed') {
        if (r.outcome === 'accepted') result.accepted++;
        else result.typedErrors++;
        result.slowestMs = Math.max(result.slowestMs, ms);
        continue;
      }
      if (r.outcome === 'finding') {
        if (result.findings.length < 5) result.findings.push({ error: r.error, input: Buffer.from(input).toString('base64') });
        else result.findings.length++;
        continue;
      }
      // A hang or a dead worker: the worker is unusable; record the input whole and start afresh.
      await worker.stop();
      if (r.outcome === 'hang') {
        const file = options.hangDir ? await saveHang(options.hangDir, target.name, input, ms) : null;
        const hang: Hang = { target: target.name, input: Buffer.from(input).toString('base64'), ms, file };
        result.hangs.push(hang);
        console.error(`fuzz hang: ${target.name}: input ran over ${deadline} ms${file ? `, saved to ${file}` : ''}; base64 ${hang.input}`);
      } else {
        result.findings.push({ error: `worker died: ${r.outcome === 'died' ? r.error : r.outcome}`, input: Buffer.from(input).toString('base64') });
      }
      worker = new FuzzWorker(target.name, maxHeap);
      await worker.ready;
    }
  } finally {
    await worker.stop();
  }
  result.ms = Math.round(performance.now() - started);
  return result;
}
