import { TidemarkError, toTidemarkError } from '../../../errors';
import { commitPaimonChanges, commitPaimonCompaction, expirePaimonSnapshots, preparePaimonChanges, preparePaimonCompaction, readWriteState, sortedRuns, universalOptionsOf, type PreparedPaimonFiles } from '../../../lake/paimon/write';
import type { WriteEnv } from '../../../lake/write';
import { writeFileAtomic } from '../../runner/file-atomic';
import { concatChanges, type SealedChanges } from '../buffer';
import { toPaimonChanges } from './changes';
import { createLocalStorage } from '../../../storage/node/index';

/**
 * Changes of a table held before they are written into level-0 files ahead of the round's commit
 * (Java's `write-buffer-size`, 256 MB, flushes a sorted run the same way): memory follows this,
 * not the round or the table.
 */
export const WRITE_BUFFER_CHANGES = 65_536;

/** One table's commit of a round: its last part (the earlier ones came ahead), the commit identifier and the snapshot properties. */
export interface PaimonCommitJob {
  table: string;
  root: string;
  last: SealedChanges;
  commitUser: string;
  identifier: bigint;
  properties: Record<string, string>;
  /** Snapshot expiry after the commit (not with `write-only`). */
  expire: boolean;
  /** Universal compaction after the commit (not with `write-only`). */
  compact: boolean;
}

export interface PaimonRoundJob {
  commits: PaimonCommitJob[];
  /** Written after every commit of the round (null: the caller writes it). */
  checkpoint: { path: string; text: string } | null;
}

export interface PaimonCommitDone {
  snapshotId: bigint;
  rows: number;
  /** Maintenance done since the last round (compaction, expiry), one sentence each. */
  notes: string[];
}

const storage = createLocalStorage();

/**
 * The Paimon sink's write side, in the sink worker or in the sync thread alike: parts of each
 * table's round are held and flushed into level-0 files once a write buffer is full; a round's
 * commit writes the rest and publishes one APPEND snapshot per table. Compaction is off the commit
 * path, as Java's writer runs it: after a table's APPEND snapshot its compaction is picked and
 * written in the background and committed as its own COMPACT snapshot; a commit waits for it only
 * when a bucket has reached `num-sorted-run.stop-trigger` sorted runs (default trigger + 3).
 * Publishing (APPEND, COMPACT, expiry) takes a per-table lock, so they never race for a snapshot id.
 */
export class PaimonRoundWriter {
  /** Parts of the current round handed over ahead of its commit and not yet flushed, by table. */
  private readonly held = new Map<string, { root: string; parts: SealedChanges[]; changes: number }>();
  /** Level-0 files of the current round flushed ahead of its commit, by table, and their change count. */
  private readonly prepared = new Map<string, { files: PreparedPaimonFiles; changes: number }>();
  /** The write-buffer flush in flight (one at a time, in order); its failure fails the round. */
  private flushing: Promise<void> | null = null;
  private flushFailure: unknown = null;
  /** A background compaction's merge (preparePaimonCompaction) while it runs; flushes wait for it. */
  private merging: Promise<void> | null = null;
  /** The background compaction of each table, while it runs. */
  private readonly compacting = new Map<string, Promise<void>>();
  private compactionFailure: { table: string; error: unknown } | null = null;
  /** Publishing to a table (APPEND, COMPACT, expiry) one at a time. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private notes: string[] = [];
  /** The identifier of each table's last APPEND commit here: a COMPACT snapshot carries the newest (Java commits compaction with a checkpoint). */
  private readonly identifiers = new Map<string, bigint>();

  constructor(private readonly env: WriteEnv) {}

  /** A part handed over ahead of the round's commit; resolves once it is taken (after the flush it started, if any). */
  add(part: SealedChanges, root: string): Promise<void> {
    let h = this.held.get(part.table);
    if (!h) this.held.set(part.table, (h = { root, parts: [], changes: 0 }));
    h.parts.push(part);
    h.changes += part.count;
    if (h.changes < WRITE_BUFFER_CHANGES) return Promise.resolve();
    // One flush at a time, in order; a failure is kept for the round's commit.
    const table = part.table;
    // A flush does not run while a compaction merges (prepares): both hold rows, and on one thread
    // running them in turn costs no throughput, while interleaved their memory adds up.
    const run = (this.flushing ?? Promise.resolve())
      .then(() => this.merging)
      .then(() => this.flush(table))
      .catch((e: unknown) => {
        this.flushFailure ??= e;
      });
    const tracked: Promise<void> = run.then(() => {
      if (this.flushing === tracked) this.flushing = null;
    });
    this.flushing = tracked;
    return tracked;
  }

  /** The flush in flight, if any (the reader waits while it runs: held changes stay within about two write buffers). */
  backlog(): Promise<void> | null {
    return this.flushing;
  }

  /** Commits a round's tables one after the other, then writes the checkpoint. */
  async commitRound(job: PaimonRoundJob): Promise<PaimonCommitDone[]> {
    await this.settleFlushes();
    const out: PaimonCommitDone[] = [];
    for (const c of job.commits) {
      try {
        out.push(await this.commitTable(c));
      } catch (e) {
        const err = toTidemarkError(e);
        throw 'table' in err.context ? err : new TidemarkError(err.code, err.message, { ...err.context, table: c.table }, err);
      }
    }
    if (job.checkpoint) await writeFileAtomic(job.checkpoint.path, job.checkpoint.text);
    return out;
  }

  /** Waits for every background compaction (a schema change, the end of the run); throws the first failure. */
  async settle(): Promise<void> {
    await this.settleFlushes();
    while (this.compacting.size > 0) await Promise.all(this.compacting.values());
    this.throwCompactionFailure();
  }

  private async flush(table: string): Promise<void> {
    const h = this.held.get(table);
    if (!h || h.parts.length === 0) return;
    this.held.delete(table);
    const changes = h.parts.length > 1 ? concatChanges(h.parts) : h.parts[0]!;
    const before = this.prepared.get(table);
    const files = await preparePaimonChanges(h.root, toPaimonChanges(changes), before?.files ?? null, this.env);
    this.prepared.set(table, { files, changes: (before?.changes ?? 0) + changes.count });
  }

  private async settleFlushes(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.flushFailure) {
      const e = this.flushFailure;
      this.flushFailure = null;
      throw e;
    }
  }

  private throwCompactionFailure(): void {
    const f = this.compactionFailure;
    if (!f) return;
    this.compactionFailure = null;
    const err = toTidemarkError(f.error);
    throw new TidemarkError(err.code, `the background compaction of ${f.table} failed: ${err.message}`, { ...err.context, table: f.table }, f.error);
  }

  private locked<R>(root: string, fn: () => Promise<R>): Promise<R> {
    const prev = this.locks.get(root) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(root, tail);
    void tail.then(() => {
      if (this.locks.get(root) === tail) this.locks.delete(root);
    });
    return run;
  }

  private async commitTable(c: PaimonCommitJob): Promise<PaimonCommitDone> {
    this.throwCompactionFailure();
    const parts = this.held.get(c.table)?.parts ?? [];
    this.held.delete(c.table);
    const changes = parts.length > 0 ? concatChanges([...parts, c.last]) : c.last;
    const early = this.prepared.get(c.table) ?? null;
    this.prepared.delete(c.table);
    const running = this.compacting.get(c.root);
    // changelog-producer lookup with lookup.wait (Java's default): each commit waits for its
    // compaction, which writes the commit's changelog, so a round's changes are in the changelog when it ends.
    const wait = c.compact && (await this.lookupWait(c.root));
    // Options the check cannot read fail the compaction too: wait for it, and report its failure.
    if (running && (wait || (await this.atStopTrigger(c.root).catch(() => true)))) await running;
    this.throwCompactionFailure();
    const result = await this.locked(c.root, () =>
      commitPaimonChanges(c.root, toPaimonChanges(changes), { commitUser: c.commitUser, commitIdentifier: c.identifier, properties: c.properties, allowEmpty: true, prepared: early?.files ?? null, compaction: 'none', env: this.env }),
    );
    this.identifiers.set(c.root, c.identifier);
    if (c.compact && !this.compacting.has(c.root)) {
      this.startCompaction(c);
      if (wait) {
        await this.compacting.get(c.root);
        this.throwCompactionFailure();
      }
    } else if (c.expire) this.notes.push(...(await this.locked(c.root, () => this.expire(c))));
    const notes = this.notes;
    this.notes = [];
    return { snapshotId: result!.snapshotId, rows: changes.count + (early?.changes ?? 0), notes };
  }

  /** Whether the table's commits wait for their compaction: `changelog-producer: lookup` and `lookup.wait` (default true). */
  private async lookupWait(root: string): Promise<boolean> {
    const o = (await readWriteState(storage, root)).schema.options;
    return (o['changelog-producer'] ?? 'none').toLowerCase() === 'lookup' && (o['lookup.wait'] ?? 'true').toLowerCase() !== 'false';
  }

  /** Whether a bucket of the table has `num-sorted-run.stop-trigger` sorted runs (Java's writer then waits for its compaction). */
  private async atStopTrigger(root: string): Promise<boolean> {
    const state = await readWriteState(storage, root);
    const o = universalOptionsOf(state.schema);
    const raw = state.schema.options['num-sorted-run.stop-trigger'];
    const stop = raw === undefined ? o.trigger + 3 : Number(raw);
    if (!Number.isInteger(stop) || stop < 1) throw new TidemarkError('InvalidInput', `${root}: table option num-sorted-run.stop-trigger must be an integer >= 1, found ${JSON.stringify(raw)}`, { path: root });
    const buckets = new Map<string, typeof state.files>();
    for (const f of state.files) {
      const id = `${f.partitionKey}|${f.bucket}`;
      const list = buckets.get(id);
      if (list) list.push(f);
      else buckets.set(id, [f]);
    }
    for (const files of buckets.values()) if (sortedRuns(files).length >= stop) return true;
    return false;
  }

  private startCompaction(c: PaimonCommitJob): void {
    const run = (async () => {
      const prep = preparePaimonCompaction(c.root, { env: this.env });
      const merging = prep.then(
        () => undefined,
        () => undefined,
      );
      this.merging = merging;
      let prepared: Awaited<typeof prep>;
      try {
        prepared = await prep;
      } finally {
        if (this.merging === merging) this.merging = null;
      }
      if (prepared) {
        const done = await this.locked(c.root, () => commitPaimonCompaction(c.root, prepared, { commitUser: c.commitUser, commitIdentifier: this.identifiers.get(c.root) ?? c.identifier, env: this.env }));
        if (done) this.notes.push(`compacted ${c.table} (snapshot ${done.snapshotId})`);
      }
      if (c.expire) this.notes.push(...(await this.locked(c.root, () => this.expire(c))));
    })().catch((e: unknown) => {
      this.compactionFailure ??= { table: c.table, error: e };
    });
    const tracked = run.then(() => {
      this.compacting.delete(c.root);
    });
    this.compacting.set(c.root, tracked);
  }

  /** Snapshot expiry by the table's `snapshot.num-retained.*` / `snapshot.time-retained` (Java's defaults: at least 10, 1 h). */
  private async expire(c: PaimonCommitJob): Promise<string[]> {
    const r = await expirePaimonSnapshots(c.root, { env: this.env });
    return r.expiredSnapshotIds.length > 0 ? [`expired ${r.expiredSnapshotIds.length} snapshots of ${c.table}`] : [];
  }
}
