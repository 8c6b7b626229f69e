import type { SourceOffset } from '../../cdc';
import type { SchemaChange as LakeChange } from '../../lake/write';
import type { RoutePlan } from '../config/route';
import type { SealedChanges, TableBuffer } from './buffer';
import type { PendingChangelogRow } from './changelog';
import type { TargetColumn, TargetDesign } from './schema';

/**
 * The sink port: what the runner (runner/run.ts) asks of the lake format it writes. The runner
 * reads the source, routes and transforms rows into each target's buffer, and decides when a
 * round ends; a sink opens (creating) targets, commits each round with its source offset in the
 * same atomic commit, reports the offsets it holds on a restart, rolls a table back, evolves
 * schemas and runs its table maintenance. Iceberg (sink/iceberg/) is the first implementation.
 */

/** One lake table a pipeline writes (a target, or the changelog table beside it). */
export interface SinkTable {
  id: string;
  columns: TargetColumn[];
  key: string[];
  /** Everything of the source stream at or before this offset is in the table; null = nothing yet, from the stream's very beginning. */
  committed: SourceOffset | null;
}

/** A target as the runner routes into it. A sink's own targets extend it with their lake state. */
export interface SinkTarget extends SinkTable {
  design: TargetDesign;
  shardColumns: string[];
  /** Inserts can meet a live row with the same key (merged shards without a distinguishing shard column, or a transform key): write them as upserts. */
  insertsMayCollide: boolean;
  buffer: TableBuffer;
  changelog: SinkTable | null;
  pendingChangelog: PendingChangelogRow[];
  /** Latest source commit time (ms) among buffered changes, for the lag metric. */
  newestOpTsMs: number | null;
}

/** One target's round, taken from it at the round's end (its buffer and pending changelog start over). */
export interface SealedTarget<T extends SinkTarget = SinkTarget> {
  target: T;
  changes: SealedChanges | null;
  changelog: PendingChangelogRow[];
  newestOpTsMs: number | null;
}

/** What one target's commit of a round did. */
export interface CommitOutcome {
  table: string;
  snapshotId: bigint;
  rows: number;
  lagMs: number | null;
}

export interface SinkRound<T extends SinkTarget = SinkTarget> {
  sealed: SealedTarget<T>[];
  /** The round's end: every target holds everything of the source up to here once it is committed. */
  offset: SourceOffset;
  /** Written (atomically) once every table of the round is committed. */
  checkpoint: { path: string; text: string };
  /** When the round was sealed (ms since the epoch). */
  nowMs: number;
}

export interface SinkRoundResult {
  /** One per sealed target, in order; null for a target that had nothing to commit. */
  outcomes: (CommitOutcome | null)[];
  /** Maintenance done or skipped (compaction, expiry, orphan removal), one sentence each. */
  notes: string[];
}

/** An existing target table (or changelog table) and this pipeline's offset in it. */
export interface StoredOffset {
  /** Where the table is (shown in messages and passed back to `rollback`). */
  location: string;
  offset: SourceOffset | null;
}

export interface SinkPort<T extends SinkTarget = SinkTarget> {
  /**
   * This pipeline's committed offsets in the target tables of `plan` that exist: each table's
   * last commit, or the offset it was created at when it has none (null: from the stream's start).
   */
  storedOffsets(plan: RoutePlan): Promise<StoredOffset[]>;
  /** Moves a table back to its state at `offset` (restart inside a snapshot phase); false when it was not ahead. */
  rollback(location: string, offset: SourceOffset): Promise<boolean>;
  /** Opens a target, creating it (with `startOffset`) when absent. */
  openTarget(design: TargetDesign, shardColumns: string[], insertsMayCollide: boolean, startOffset: SourceOffset | null): Promise<T>;
  /** Hands over a part of a target's current round (TableBuffer.take / takeStreamed). */
  append(part: SealedChanges): void;
  /** While the sink is behind on handed-over parts, a promise that resolves once it has caught up enough; else null. */
  backlog(): Promise<void> | null;
  /** Commits a round: every sealed target's changes, their changelogs, maintenance, then the checkpoint. */
  commitRound(round: SinkRound<T>): Promise<SinkRoundResult>;
  /** Applies lake schema changes to a target (nothing may be buffered) and refreshes its columns. */
  evolve(t: T, changes: LakeChange[]): Promise<void>;
  /** The keys of the target's rows that came from `source` (a TRUNCATE of that source table). */
  truncateKeys(t: T, source: { db: string; table: string }, singleSource: boolean): Promise<Record<string, unknown>[]>;
  /** Makes every later insert into `t` an upsert, persisted with the table. */
  markInsertsMayCollide(t: T): Promise<void>;
  /** Stops the sink's worker (no round may be in flight). */
  close(): Promise<void>;
}

/** Seals a target's round: its last part, its changelog and the newest change's time; the target starts a new round. */
export function sealTarget<T extends SinkTarget>(t: T): SealedTarget<T> {
  const sealed: SealedTarget<T> = { target: t, changes: t.buffer.empty ? null : t.buffer.seal(true), changelog: t.pendingChangelog, newestOpTsMs: t.newestOpTsMs };
  t.pendingChangelog = [];
  t.newestOpTsMs = null;
  return sealed;
}
