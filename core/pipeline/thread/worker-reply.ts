import type { MessagePort } from 'node:worker_threads';
import { isErrorCode, TidemarkError, toTidemarkError, type ErrorContext } from '../../errors';

/**
 * The reply to a sink worker's request `id` (the Iceberg and the Paimon protocols alike): its
 * result, or its error as code, message and context (a thrown Error does not cross threads intact).
 */
export type WorkerResultReply<R> = { id: number; ok: true; result: R } | { id: number; ok: false; error: { code: string; message: string; context: ErrorContext } };

/** A request posted to a worker and not yet answered. */
export interface PendingRequest<R> {
  resolve: (result: R) => void;
  reject: (error: TidemarkError) => void;
}

/** Worker side: once `work` settles, posts its result or its error as the reply to request `id`. */
export function postReply<R>(port: MessagePort, id: number, work: Promise<R>): Promise<void> {
  return work.then(
    (result) => port.postMessage({ id, ok: true, result } satisfies WorkerResultReply<R>),
    (e: unknown) => {
      const err = toTidemarkError(e);
      port.postMessage({ id, ok: false, error: { code: err.code, message: err.message, context: err.context } } satisfies WorkerResultReply<R>);
    },
  );
}

/**
 * Thread side: settles the request that `reply` answers and removes it from `pending` — its
 * result, or its error rebuilt as a TidemarkError of the same code (Internal for a code this side
 * does not know). False when no request waits for that id.
 */
export function settleReply<R>(pending: Map<number, PendingRequest<R>>, reply: WorkerResultReply<R>): boolean {
  const p = pending.get(reply.id);
  if (!p) return false;
  pending.delete(reply.id);
  if (reply.ok) p.resolve(reply.result);
  else p.reject(new TidemarkError(isErrorCode(reply.error.code) ? reply.error.code : 'Internal', reply.error.message, reply.error.context));
  return true;
}
