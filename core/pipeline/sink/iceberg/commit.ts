import { toTidemarkError, TidemarkError } from '../../../errors';
import type { TableMetadata } from '../../../lake';
import { appendDataFiles, appendDataFilesThenDelta, applyColumnDelta, type WriteEnv } from '../../../lake/write';
import { writeFileAtomic } from '../../runner/file-atomic';
import { concatChanges, toColumnDelta, type SealedChanges } from '../buffer';
import { StreamedTable } from './stream';

/**
 * One target's commit of one round: its sealed changes, deduplicated and written as one snapshot
 * (data file, equality deletes, manifests) whose summary holds `summary` (the source offset), in
 * the same atomic commit.
 */
export interface SinkCommitJob {
  root: string;
  changes: SealedChanges;
  summary: Record<string, string>;
}

/**
 * The sink's part of one commit round: the changed targets' commits in order, then (when the
 * round has no other work: changelog tables, maintenance) the checkpoint file. Plain data, so it
 * runs alike in the sink worker and in-thread, and one message each way carries a whole round.
 */
export interface SinkRoundJob {
  /** Each commit's `changes` is the last part of its table's round (RoundParts has the earlier ones). */
  commits: SinkCommitJob[];
  checkpoint: { path: string; text: string } | null;
}

export interface SinkCommitResult {
  /** The table's metadata after the commit (its current snapshot is the new one). */
  metadata: TableMetadata;
  /** Net rows written: inserted, upserted and deleted keys. */
  rows: number;
}

/**
 * The parts of each table's current round handed over ahead of the round's commit, in arrival
 * order: held parts (TableBuffer.take) wait for the commit; streamed parts (TableBuffer.takeStreamed)
 * are written into the table's rolling data files as they come (StreamedTable), `onStreamed`
 * telling when each is written (the runner waits when too many are pending). The runner posts a
 * table's parts, then the round's job: the job completes the rounds (synchronously, before
 * anything else can arrive) and the next parts start the next round.
 */
export class RoundParts {
  private readonly held = new Map<string, SealedChanges[]>();
  private readonly streamed = new Map<string, StreamedTable>();

  constructor(
    private readonly env: WriteEnv,
    private readonly onStreamed: () => void = () => undefined,
  ) {}

  /** A part handed over ahead of the commit (`written` runs once a streamed part is written). */
  add(part: SealedChanges, written: () => void = this.onStreamed): void {
    if (part.stream) {
      // A streamed part never follows a held one in a round (TableBuffer.take ends streaming).
      if (this.held.has(part.table)) throw new TidemarkError('Internal', `${part.table}: a streamed part came after a held part of the same round`, { table: part.table });
      let s = this.streamed.get(part.table);
      if (!s) this.streamed.set(part.table, (s = new StreamedTable(part.stream.root, part.table, this.env)));
      s.add(part, written);
      return;
    }
    const parts = this.held.get(part.table);
    if (parts) parts.push(part);
    else this.held.set(part.table, [part]);
  }

  /**
   * The table's whole round: its streamed parts (being written) and its held parts with `last`
   * (null when `last` is streamed too); the table's parts start over.
   */
  complete(last: SealedChanges): { streamed: StreamedTable | null; held: SealedChanges | null } {
    // The last part came with the job, not ahead of it: nobody waits for its acknowledgement.
    if (last.stream) this.add(last, () => undefined);
    const streamed = this.streamed.get(last.table) ?? null;
    const parts = this.held.get(last.table);
    this.streamed.delete(last.table);
    this.held.delete(last.table);
    if (last.stream) return { streamed, held: null };
    return { streamed, held: parts ? concatChanges([...parts, last]) : last };
  }
}

/**
 * Commits one table's round: the streamed data files and the held changes deduplicated, in one
 * snapshot when only one kind exists. When both do, the files and then the held changes (which
 * may update or delete the files' keys: their equality deletes need a later sequence number than
 * the rows they delete) are two snapshots published in one metadata version, both at the round's
 * offset: a crash never leaves the first without the second.
 */
async function commitTableRound(root: string, streamed: StreamedTable | null, held: SealedChanges | null, summary: Record<string, string>, env: WriteEnv): Promise<SinkCommitResult> {
  const files = streamed ? await streamed.finish() : [];
  const streamedRows = files.length > 0 ? streamed!.rows : 0;
  if (files.length > 0 && !(held && held.count > 0)) return { metadata: (await appendDataFiles(root, files, { summary, env })).metadata, rows: streamedRows };
  // Nothing at all (a round of empty parts) still commits, recording the offset, as a held round does.
  const { delta, rows } = toColumnDelta(held ?? { table: streamed!.table, key: [], columns: [], types: [], count: 0, ops: [], values: [] });
  const committed = files.length > 0 ? await appendDataFilesThenDelta(root, files, delta, { summary, env }) : await applyColumnDelta(root, delta, { summary, env });
  return { metadata: committed.metadata, rows: streamedRows + rows };
}

/** Commits the round's tables one after the other (a failure stops the round there), then writes the checkpoint. */
export async function commitSinkRound(job: SinkRoundJob, env: WriteEnv, parts: RoundParts): Promise<SinkCommitResult[]> {
  // Before the first await: parts arriving from here on belong to the next round.
  const commits = job.commits.map((c) => ({ ...c, ...parts.complete(c.changes) }));
  const results: SinkCommitResult[] = [];
  for (const c of commits) {
    try {
      results.push(await commitTableRound(c.root, c.streamed, c.held, c.summary, env));
    } catch (e) {
      // The message names the file or column at fault; the context says which target it was.
      const err = toTidemarkError(e);
      throw 'table' in err.context ? err : new TidemarkError(err.code, err.message, { ...err.context, table: c.changes.table }, err);
    }
  }
  if (job.checkpoint) await writeFileAtomic(job.checkpoint.path, job.checkpoint.text);
  return results;
}

/** The tables a round commits, for messages: `a.t, b.u`. */
export function roundTables(job: SinkRoundJob): string {
  return job.commits.map((c) => c.changes.table).join(', ') || '(no table)';
}
