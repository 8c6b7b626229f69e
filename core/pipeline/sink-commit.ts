import { toTidemarkError, TidemarkError } from '../errors';
import type { TableMetadata } from '../lake';
import { applyColumnDelta, type WriteEnv } from '../lake/write';
import { writeFileAtomic } from './file-atomic';
import { concatChanges, toColumnDelta, type SealedChanges } from './sink-buffer';

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
 * The parts of each table's current round spilled ahead of the round's commit (TableBuffer.take),
 * in arrival order. The runner posts a table's parts, then the round's job: the job completes the
 * rounds (synchronously, before anything else can arrive) and the next parts start the next round.
 */
export class RoundParts {
  private readonly byTable = new Map<string, SealedChanges[]>();

  add(part: SealedChanges): void {
    const parts = this.byTable.get(part.table);
    if (parts) parts.push(part);
    else this.byTable.set(part.table, [part]);
  }

  /** The table's whole round: its parts, then `last`; its parts start over. */
  complete(last: SealedChanges): SealedChanges {
    const parts = this.byTable.get(last.table);
    this.byTable.delete(last.table);
    return parts ? concatChanges([...parts, last]) : last;
  }
}

/** Commits the round's tables one after the other (a failure stops the round there), then writes the checkpoint. */
export async function commitSinkRound(job: SinkRoundJob, env: WriteEnv, parts: RoundParts): Promise<SinkCommitResult[]> {
  // Before the first await: parts arriving from here on belong to the next round.
  const commits = job.commits.map((c) => ({ ...c, changes: parts.complete(c.changes) }));
  const results: SinkCommitResult[] = [];
  for (const c of commits) {
    try {
      const { delta, rows } = toColumnDelta(c.changes);
      const result = await applyColumnDelta(c.root, delta, { summary: c.summary, env });
      results.push({ metadata: result.metadata, rows });
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
