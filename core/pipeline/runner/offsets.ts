import { readFile } from 'node:fs/promises';
import { comparePositions, decodeOffset, encodeOffset, type SnapshotState, type SourceOffset } from '../../cdc';
import { TidemarkError, toTidemarkError } from '../../errors';
import type { Snapshot, TableMetadata } from '../../lake';
import { writeFileAtomic } from './file-atomic';

/**
 * Source offsets as the runner stores them: in each target snapshot's summary (the exactly-once
 * record, written in the same atomic commit as the data), as a table property at creation (the
 * start point of a table that has no commit yet), and in the pipeline checkpoint file (a point
 * every target has committed through, so idle tables do not force a long replay).
 */
export const SUMMARY_OFFSET = 'tidemark.source-offset';
export const SUMMARY_FILE = 'tidemark.binlog-file';
export const SUMMARY_POS = 'tidemark.binlog-pos';
export const SUMMARY_GTID = 'tidemark.gtid';
export const SUMMARY_PIPELINE = 'tidemark.pipeline';
/** Table property: the offset the pipeline stood at when it created the table (nothing of it committed). */
export const PROPERTY_START_OFFSET = 'tidemark.start-offset';
/** Table property: the pipeline that created the table, whose start point PROPERTY_START_OFFSET is. */
export const PROPERTY_START_PIPELINE = 'tidemark.start-pipeline';

/**
 * Whether snapshot summary `summary` records an offset of `pipeline` (any pipeline when undefined).
 * Several pipelines may write one table (shards of a source merged by two pipelines): each one's
 * offsets are positions in its own stream (its own snapshot chunks, its own table list), so a
 * pipeline reads only its own.
 */
function isOffsetOf(summary: Record<string, string>, pipeline: string | undefined): boolean {
  return summary[SUMMARY_OFFSET] !== undefined && (pipeline === undefined || summary[SUMMARY_PIPELINE] === pipeline);
}

/** Summary properties recording `offset` (decimal strings for 64-bit values). */
export function offsetSummary(pipeline: string, offset: SourceOffset): Record<string, string> {
  return {
    [SUMMARY_OFFSET]: encodeOffset(offset),
    [SUMMARY_FILE]: offset.file,
    [SUMMARY_POS]: offset.pos.toString(),
    [SUMMARY_GTID]: offset.gtidSet ?? '',
    [SUMMARY_PIPELINE]: pipeline,
  };
}

/**
 * Total order of offsets along one stream: binlog position first; at an equal position the
 * newly-added-table snapshot round (a later round re-enters a snapshot phase at a position the
 * stream already reached), then the snapshot progress (chunks emitted without binlog progress in
 * between), where a finished snapshot (null) is after every unfinished one of its round.
 * Negative when a is before b.
 */
export function compareOffsets(a: SourceOffset, b: SourceOffset): number {
  const byPos = comparePositions(a, b);
  if (byPos !== 0) return byPos;
  const byRound = (a.round ?? 0) - (b.round ?? 0);
  if (byRound !== 0) return byRound;
  const sa = a.snapshot;
  const sb = b.snapshot;
  if (sa === null || sb === null) return sa === sb ? 0 : sa === null ? 1 : -1;
  if (sa.tableIndex !== sb.tableIndex) return sa.tableIndex - sb.tableIndex;
  if (sa.lastKey === sb.lastKey) return 0;
  if (sa.lastKey === null) return -1;
  if (sb.lastKey === null) return 1;
  return compareChunkBounds(sa, sb);
}

const DECIMAL = /^-?\d+$/;

/**
 * Two different chunk bounds of one table's snapshot. A single integer key (decimal text) by
 * value. A key tuple (JSON) has only the server's order (collations, UUID), so by the count of
 * chunks emitted up to each: it follows that order along the stream, and stored offsets never come
 * from diverging runs, as a restart inside the snapshot phase rolls every table back to the resume
 * point (run.ts rollBackForReplay) and the source counts on from there.
 */
function compareChunkBounds(sa: SnapshotState, sb: SnapshotState): number {
  const a = sa.lastKey!;
  const b = sb.lastKey!;
  if (DECIMAL.test(a) && DECIMAL.test(b)) {
    const ka = BigInt(a);
    const kb = BigInt(b);
    return ka === kb ? 0 : ka < kb ? -1 : 1;
  }
  if (sa.chunks !== undefined && sb.chunks !== undefined) return sa.chunks - sb.chunks;
  const table = sa.tables[sa.tableIndex];
  throw new TidemarkError(
    'DataInvalid',
    `source offsets inside the snapshot of ${table ? `${table.db}.${table.table}` : 'a table'} cannot be ordered: chunk bounds ${a.slice(0, 100)} and ${b.slice(0, 100)} carry no chunk count (written by an earlier version); restart the snapshot of that table`,
    { lastKey: a.slice(0, 100), otherLastKey: b.slice(0, 100) },
  );
}

export function maxOffset(a: SourceOffset | null, b: SourceOffset | null): SourceOffset | null {
  if (a === null) return b;
  if (b === null) return a;
  return compareOffsets(a, b) >= 0 ? a : b;
}

/** The newest snapshot of main's history that carries a source offset (of `pipeline`, when given), with that offset. */
export function readCommittedOffset(m: TableMetadata, pipeline?: string): { offset: SourceOffset; snapshot: Snapshot } | null {
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  let s = m.currentSnapshotId === null ? undefined : byId.get(m.currentSnapshotId);
  while (s) {
    if (isOffsetOf(s.summary, pipeline)) return { offset: decodeOffset(s.summary[SUMMARY_OFFSET]!), snapshot: s };
    s = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId);
  }
  return null;
}

/**
 * Offset a table has everything (of `pipeline`, when given) up to: its last commit, else the point
 * it was created at; null when `pipeline` neither committed to nor created it.
 */
export function readTableOffset(m: TableMetadata, pipeline?: string): SourceOffset | null {
  const committed = readCommittedOffset(m, pipeline);
  if (committed) return committed.offset;
  const start = m.properties[PROPERTY_START_OFFSET];
  // Tables created before the creator was recorded are taken as the caller's.
  const creator = m.properties[PROPERTY_START_PIPELINE];
  if (pipeline !== undefined && creator !== undefined && creator !== pipeline) return null;
  return start ? decodeOffset(start) : null;
}

/**
 * Where a restart resumes, from what the pipeline stored: `tableOffsets` (readTableOffset of each
 * existing target and changelog table) and the checkpoint offset, which every table has committed
 * through. `fresh`: nothing stored, the run starts from scan.startup.mode. Else the smallest table
 * offset, each raised to the checkpoint; null when a table holds no offset (only startup modes
 * that replay the binlog deterministically store none): the stream starts from the configuration.
 */
export function resolveResumePoint(tableOffsets: (SourceOffset | null)[], checkpoint: SourceOffset | null): { fresh: true } | { fresh: false; resume: SourceOffset | null } {
  if (checkpoint === null && tableOffsets.every((o) => o === null)) return { fresh: true };
  const effective = tableOffsets.length === 0 ? [checkpoint] : tableOffsets.map((o) => maxOffset(o, checkpoint));
  if (effective.some((o) => o === null)) return { fresh: false, resume: null };
  return { fresh: false, resume: (effective as SourceOffset[]).reduce((a, b) => (compareOffsets(a, b) <= 0 ? a : b)) };
}

/**
 * Source tables (`db.table`) the stream knew at `offset`: its schema history and its snapshot
 * phase's tables. A matched table outside the set is newly added. null when the offset carries no
 * schema history: no table can be told newly added then.
 */
export function listKnownTables(offset: SourceOffset): Set<string> | null {
  if (!offset.schemas) return null;
  return new Set([...offset.schemas.map((s) => `${s.table.db}.${s.table.table}`), ...(offset.snapshot?.tables ?? []).map((t) => `${t.db}.${t.table}`)]);
}

/**
 * The first snapshot of main's history whose offset is at or after `offset`: the commit that
 * made a record at `offset` visible (used to fill the changelog's target snapshot id on replay).
 */
export function findSnapshotCovering(m: TableMetadata, offset: SourceOffset, pipeline?: string): bigint | null {
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  let s = m.currentSnapshotId === null ? undefined : byId.get(m.currentSnapshotId);
  let found: bigint | null = null;
  while (s) {
    if (isOffsetOf(s.summary, pipeline)) {
      if (compareOffsets(decodeOffset(s.summary[SUMMARY_OFFSET]!), offset) >= 0) found = s.snapshotId;
      else break;
    }
    s = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId);
  }
  return found;
}

/** Pipeline checkpoint: an offset every target table (and changelog table) has committed through. */
export interface Checkpoint {
  pipeline: string;
  offset: SourceOffset;
  /** Wall time of the commit round (ms). */
  committedAtMs: number;
}

export async function readCheckpoint(path: string): Promise<Checkpoint | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw toTidemarkError(e);
  }
  const raw = JSON.parse(text) as { pipeline: string; offset: string; committedAtMs: number };
  return { pipeline: raw.pipeline, offset: decodeOffset(raw.offset), committedAtMs: raw.committedAtMs };
}

export async function writeCheckpoint(path: string, cp: Checkpoint): Promise<void> {
  await writeFileAtomic(path, checkpointText(cp));
}

/** The checkpoint file's content (the sink worker writes it at the end of a round it commits whole). */
export function checkpointText(cp: Checkpoint): string {
  return JSON.stringify({ pipeline: cp.pipeline, offset: encodeOffset(cp.offset), committedAtMs: cp.committedAtMs });
}
