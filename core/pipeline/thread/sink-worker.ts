import { parentPort, workerData } from 'node:worker_threads';
import { defaultWriteEnv, type WriteEnv } from '../../lake/write';
import { catalogStorage, sinkCatalog, storageFromSettings, withStorage } from '../sink/iceberg/storage';
import { commitSinkRound, RoundParts } from '../sink/iceberg/commit';
import type { SinkWorkerData, SinkWorkerReply, SinkWorkerRequest } from './sink-thread';
import { writeThreadStats } from './thread-stats';
import { postReply } from './worker-reply';
import { servePaimonWorker } from '../sink/paimon/committer';

/**
 * The sink worker thread (started by sink-thread.ts): commits each posted round and replies with
 * the tables' new metadata, or with the error's code, message and context (a thrown Error does not
 * cross threads intact). Parts of the current round may come ahead of it (RoundParts). The runner
 * posts one round at a time; each commit re-reads its table (commitTable), so the worker keeps no
 * state between rounds.
 */
if (!parentPort) throw new Error('sink-worker.ts runs as a worker thread (see sink-thread.ts)');
const port = parentPort;
const { s3, rest } = (workerData as SinkWorkerData | null) ?? { s3: null, rest: null };
// An s3:// warehouse or a REST catalog: this thread's own storage and client from the runner's settings.
const catalog = sinkCatalog(rest, s3);
const env: WriteEnv = withStorage(defaultWriteEnv, catalogStorage(s3 ? storageFromSettings(s3, rest !== null) : null, catalog), catalog);
// Each streamed part written is acknowledged: the runner stops reading while too many are pending.
const parts = new RoundParts(env, () => port.postMessage({ streamed: 1 } satisfies SinkWorkerReply));
// A Paimon sink's worker (sink/paimon/committer.ts) speaks its own protocol.
if ((workerData as { paimon?: boolean } | null)?.paimon) servePaimonWorker(port);
else port.on('message', (msg: SinkWorkerRequest) => {
  if ('part' in msg) {
    parts.add(msg.part);
    return;
  }
  const work = commitSinkRound(msg.job, env, parts).then((result) => {
    writeThreadStats('sink-worker');
    return result;
  });
  void postReply(port, msg.id, work);
});
