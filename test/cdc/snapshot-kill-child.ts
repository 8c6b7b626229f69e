/**
 * A CDC consumer for the kill -9 test (snapshot-kill.test.ts): runs the source from the offset in
 * its job and "commits" each transaction by appending one line to the log file: the batch's rows
 * and its end offset together, as a sink commits data with its offset. Prints `committed <n>
 * <op>` after each line so the test can kill it at a chosen moment.
 */
import { appendFileSync } from 'node:fs';
import { createMySqlSource, decodeOffset, encodeOffset } from '../../core/cdc/index';

export interface KillJob {
  db: { host: string; port: number; user: string; password: string };
  table: string;
  chunkSize: number;
  chunkKeyColumns?: Record<string, string>;
  serverId: number;
  /** encodeOffset text to start from; null for a fresh start. */
  offset: string | null;
  log: string;
}

/** JSON of event rows: bigint as {$b}, bytes as {$x} (hex). */
export function encodeRows(value: unknown): string {
  // The holder's own value: a Buffer's toJSON has already run on `v`.
  return JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
    const raw = this[k];
    return typeof raw === 'bigint' ? { $b: raw.toString() } : raw instanceof Uint8Array ? { $x: Buffer.from(raw).toString('hex') } : v;
  });
}

export function decodeRows(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v && typeof v === 'object' && '$b' in v) return BigInt((v as { $b: string }).$b);
    if (v && typeof v === 'object' && '$x' in v) return new Uint8Array(Buffer.from((v as { $x: string }).$x, 'hex'));
    return v;
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.env.TIDEMARK_KILL_JOB!) as KillJob;
  const source = createMySqlSource({
    hostname: job.db.host,
    port: job.db.port,
    username: job.db.user,
    password: job.db.password,
    tables: [`app\\.${job.table}`],
    serverId: job.serverId,
    chunkSize: job.chunkSize,
    heartbeatIntervalMs: 500,
    ...(job.chunkKeyColumns ? { chunkKeyColumns: job.chunkKeyColumns } : {}),
  });
  let n = 0;
  let parts: { op: string; before: unknown; after: unknown; table: unknown }[] = [];
  for await (const r of source.start(job.offset === null ? null : decodeOffset(job.offset))) {
    if (r.kind !== 'transaction') continue;
    for (const e of r.batch.events) parts.push({ op: e.op, before: e.before, after: e.after, table: e.table });
    // A transaction in parts is committed with its last part (its offset is after the whole).
    if (r.batch.partial) continue;
    const events = parts;
    parts = [];
    appendFileSync(job.log, `${encodeRows({ events, offset: encodeOffset(r.batch.endOffset) })}\n`);
    n++;
    process.stdout.write(`committed ${n} ${events[0]?.op ?? '-'}\n`);
  }
}

// Run as the child only (the test imports the row codec from here).
if (process.env.TIDEMARK_KILL_JOB) {
  main().catch((e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
