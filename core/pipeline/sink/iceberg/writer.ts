import { decodeOffset, encodeOffset, type ChangeEvent, type SourceOffset } from '../../../cdc';
import { TidemarkError } from '../../../errors';
import { scanRows, type TableMetadata } from '../../../lake';
import { appendRows, childPath, commitTable, compactDataFiles, createTable, currentSchema, evolvePartitionSpec, evolveSchema, expireSnapshots, hasMetadataFile, loadWritableTable, newTableMetadata, overwriteRows, removeOrphanFiles, setRef, writeStorage, type WriteEnv } from '../../../lake/write';
import type { WritableStorage } from '../../../storage';
import { CHANGELOG_COLUMNS, CHANGELOG_SUFFIX, toChangelogRow } from '../changelog';
import type { PipelineConfig } from '../../config/types';
import { compareOffsets, findSnapshotCovering, offsetSummary, PROPERTY_START_OFFSET, PROPERTY_START_PIPELINE, readTableOffset, SUMMARY_OFFSET, SUMMARY_PIPELINE } from '../../runner/offsets';
import { TableBuffer } from '../buffer';
import type { SinkCommitResult } from './commit';
import type { TargetColumn, TargetDesign } from '../schema';
import type { CommitOutcome, SealedTarget, SinkTable, SinkTarget } from '../port';

/** An Iceberg table the pipeline writes (a target or its changelog): the port's table and its lake state. */
export interface LakeTableState extends SinkTable {
  root: string;
  commitsSinceCompaction: number;
  /** When orphan files were last removed (ms; 0: not in this run). */
  lastOrphanRemovalMs: number;
  metadata: TableMetadata;
}

export interface TargetState extends SinkTarget, LakeTableState {
  changelog: LakeTableState | null;
}

function columnsOf(m: TableMetadata): TargetColumn[] {
  const s = currentSchema(m);
  return s.fields.map((f) => ({ name: f.name, type: typeof f.type === 'string' ? f.type : 'string', required: f.required }));
}

function keyOf(m: TableMetadata): string[] {
  const s = currentSchema(m);
  return s.identifierFieldIds.map((id) => s.fields.find((f) => f.id === id)!.name);
}

/**
 * Opens a lake table, creating it when absent (with the offset it starts from and the creating
 * `pipeline` as table properties). `committed` is `pipeline`'s own offset in the table: another
 * pipeline writing the same table (merged shards) does not move it.
 */
export async function openLakeTable(
  id: string,
  root: string,
  create: { columns: TargetColumn[]; key: string[]; partitionBy: { column: string; transform: string }[]; properties: Record<string, string> },
  startOffset: SourceOffset | null,
  env: WriteEnv,
  pipeline?: string,
): Promise<{ state: LakeTableState; created: boolean }> {
  let created = false;
  const options = {
    columns: create.columns,
    identifierColumns: create.key,
    partitionBy: create.partitionBy,
    properties: { ...create.properties, ...(startOffset ? { [PROPERTY_START_OFFSET]: encodeOffset(startOffset), ...(pipeline ? { [PROPERTY_START_PIPELINE]: pipeline } : {}) } : {}) },
    env,
  };
  if (env.catalog) {
    // A REST catalog names the table and says where it lives (its location is the root).
    const dot = id.indexOf('.');
    const opened = await env.catalog.openTable(id.slice(0, dot), id.slice(dot + 1), () => newTableMetadata('', options));
    root = opened.root;
    created = opened.created;
  } else if (!(await hasPublishedVersion(root, writeStorage(env)))) {
    // No published version yet (not even a folder, or a creator stopped before v1): create. Two
    // pipelines may race here; publishing v1 is exclusive and the loser opens the winner's table.
    try {
      await createTable(root, options);
      created = true;
    } catch (e) {
      // Another pipeline created the same target between the check and the create: use it.
      if (!(e instanceof TidemarkError && e.code === 'CommitConflict')) throw e;
    }
  }
  let metadata = (await loadWritableTable(root, env)).metadata;
  if (!created && create.partitionBy.length > 0 && !specMatches(metadata, create.partitionBy)) {
    // partition.key changed since the table was created: new files use the new spec (spec
    // "Partition Evolution"); files written under the old one keep it. Metadata only, no snapshot.
    metadata = (await evolvePartitionSpec(root, create.partitionBy, env)).metadata;
  }
  return { state: { id, root, columns: columnsOf(metadata), key: keyOf(metadata), committed: readTableOffset(metadata, pipeline), commitsSinceCompaction: 0, lastOrphanRemovalMs: 0, metadata }, created };
}

/** Whether the table's default partition spec is `partitionBy` (source columns and transforms, in order). */
function specMatches(m: TableMetadata, partitionBy: { column: string; transform: string }[]): boolean {
  const spec = m.partitionSpecs.find((s) => s.specId === m.defaultSpecId);
  const schema = m.schemas.find((s) => s.schemaId === m.currentSchemaId);
  if (!spec || !schema) return false;
  const fields = spec.fields.filter((f) => f.transform !== 'void');
  return (
    fields.length === partitionBy.length &&
    fields.every((f, i) => schema.fields.find((c) => c.id === f.sourceId)?.name === partitionBy[i]!.column && f.transform === partitionBy[i]!.transform)
  );
}

/**
 * Whether `root` (on `storage`) holds a published table version (a folder without one — a
 * creator killed before v1 — is not a table yet).
 */
export function hasPublishedVersion(root: string, storage: WritableStorage): Promise<boolean> {
  return hasMetadataFile(storage, root);
}

/**
 * Table property: the target may hold rows whose keys the source no longer has (a TRUNCATE or
 * DROP TABLE that was not applied, skipped deletes or updates), so an insert may meet a live row
 * with its key and every insert is written as an upsert (with an equality delete). Persisted so a
 * restart keeps upserting; never cleared (the stale rows stay).
 */
export const PROPERTY_INSERTS_MAY_COLLIDE = 'tidemark.inserts-may-collide';

export function changelogRoot(warehouse: string, db: string, table: string): string {
  return childPath(warehouse, db, `${table}${CHANGELOG_SUFFIX}`);
}

export async function openTarget(
  config: PipelineConfig,
  design: TargetDesign,
  shardColumns: string[],
  insertsMayCollide: boolean,
  startOffset: SourceOffset | null,
  env: WriteEnv,
): Promise<{ target: TargetState; created: boolean }> {
  const [db, table] = design.id.split('.') as [string, string];
  const root = childPath(config.sink.warehouse, db, table);
  // A transform rule's table-options win over the sink's table.properties.* (the rule is the more specific).
  const properties = { ...config.sink.tableProperties, ...design.properties };
  const { state, created } = await openLakeTable(design.id, root, { columns: design.columns, key: design.key, partitionBy: design.partitionBy, properties }, startOffset, env, config.pipeline.name);
  let changelog: LakeTableState | null = null;
  if (config.pipeline.tidemark.changelogEnabled) {
    changelog = (await openLakeTable(`${design.id}${CHANGELOG_SUFFIX}`, changelogRoot(config.sink.warehouse, db, table), { columns: CHANGELOG_COLUMNS, key: [], partitionBy: [], properties: {} }, startOffset, env, config.pipeline.name)).state;
  }
  const target: TargetState = { ...state, design, shardColumns, insertsMayCollide: insertsMayCollide || state.metadata.properties[PROPERTY_INSERTS_MAY_COLLIDE] === 'true', buffer: newBuffer(design.id, state.key, state.columns), changelog, pendingChangelog: [], newestOpTsMs: null };
  updateStreaming(target);
  return { target, created };
}

/** An empty buffer of a target with `columns` (the target's current columns; rebuilt when they change). */
function newBuffer(id: string, key: string[], columns: TargetColumn[]): TableBuffer {
  return new TableBuffer(id, key, columns);
}

/**
 * Lets the target's snapshot-like rounds (inserts of increasing keys) go to rolling data files as
 * they come (SealedChanges.stream) when each of its rows is its own net change: a one-column key,
 * inserts that cannot collide, an unpartitioned table (one open file). Else rounds are held whole.
 */
export function updateStreaming(t: TargetState): void {
  const spec = t.metadata.partitionSpecs.find((s) => s.specId === t.metadata.defaultSpecId);
  t.buffer.streamRoot = t.key.length === 1 && !t.insertsMayCollide && spec !== undefined && spec.fields.length === 0 ? t.root : null;
}

/**
 * Completes one target's part of a round: takes in the snapshot the sink committed for its sealed
 * changes (`result`, null when it had none; the snapshot holds the source offset in its summary,
 * atomically), then commits its changelog rows with that snapshot's id.
 */
export async function finishTarget(s: SealedTarget<TargetState>, result: SinkCommitResult | null, pipeline: string, offset: SourceOffset, now: number, env: WriteEnv): Promise<CommitOutcome | null> {
  const t = s.target;
  let outcome: CommitOutcome | null = null;
  if (result) {
    t.metadata = result.metadata;
    t.committed = offset;
    t.commitsSinceCompaction++;
    const snapshotId = result.metadata.currentSnapshotId!;
    outcome = { table: t.id, snapshotId, rows: result.rows, lagMs: s.newestOpTsMs === null ? null : Math.max(0, now - s.newestOpTsMs) };
  }
  if (t.changelog && s.changelog.length > 0) {
    const rows = s.changelog.map((p, i) =>
      // A change replayed after a crash may be in the target already: name the snapshot that has it.
      toChangelogRow(p, BigInt(i), p.buffered && outcome ? outcome.snapshotId : findSnapshotCovering(t.metadata, p.offset, pipeline)),
    );
    const appended = await appendRows(t.changelog.root, rows, { summary: offsetSummary(pipeline, offset), env });
    t.changelog.metadata = appended.metadata;
    t.changelog.committed = offset;
  }
  return outcome;
}

/** Whether a round may need main-thread work after its target commits besides changelogs (compaction, snapshot expiry). */
export function maintenanceEnabled(config: PipelineConfig): boolean {
  return config.sink.compactionEnabled || config.sink.tidemark.expireSnapshotsMaxAgeMs !== null || config.sink.tidemark.removeOrphansOlderThanMs !== null;
}

/** Orphan removal lists every file of a table: at most once an hour per table and run. */
export const ORPHAN_REMOVAL_INTERVAL_MS = 3600_000;

/** Compaction every `sink.compaction.commit.interval` commits; the summary keeps the offset. */
export async function maintainTarget(t: TargetState, config: PipelineConfig, pipeline: string, now: number, env: WriteEnv): Promise<string[]> {
  const done: string[] = [];
  if (config.sink.compactionEnabled && t.commitsSinceCompaction >= config.sink.compactionCommitInterval && t.committed) {
    try {
      // A data file at a time (memory follows a file, not the table), deletes applied and dropped.
      await compactDataFiles(t.root, { scope: { kind: 'all' }, summary: offsetSummary(pipeline, t.committed), env });
      t.metadata = (await loadWritableTable(t.root, env)).metadata;
      t.commitsSinceCompaction = 0;
      done.push(`compacted ${t.id}`);
    } catch (e) {
      // Compaction reads the whole table, so a table other writers commit to often (another
      // pipeline, a user's compaction) can win every race against it. It changes no row: skip it
      // this round, say so, and try again next round instead of failing the sync.
      if (!(e instanceof TidemarkError && e.code === 'CommitConflict')) throw e;
      done.push(`compaction of ${t.id} skipped this round: ${e.message}`);
    }
  }
  const maxAge = config.sink.tidemark.expireSnapshotsMaxAgeMs;
  if (maxAge !== null) {
    for (const table of [t, t.changelog].filter((x): x is LakeTableState => x !== null)) {
      const r = await expireSnapshots(table.root, { olderThanMs: now - maxAge, retainLast: Math.max(1, config.sink.tidemark.expireSnapshotsRetainLast), env });
      if (r.expiredSnapshotIds.length > 0) {
        table.metadata = (await loadWritableTable(table.root, env)).metadata;
        done.push(`expired ${r.expiredSnapshotIds.length} snapshots of ${table.id}`);
      }
    }
  }
  const orphanAge = config.sink.tidemark.removeOrphansOlderThanMs;
  if (orphanAge !== null) {
    for (const table of [t, t.changelog].filter((x): x is LakeTableState => x !== null)) {
      if (table.lastOrphanRemovalMs !== 0 && now - table.lastOrphanRemovalMs < ORPHAN_REMOVAL_INTERVAL_MS) continue;
      table.lastOrphanRemovalMs = now;
      // Files of a commit in flight are younger than the threshold (a sane one is hours or days).
      const r = await removeOrphanFiles(table.root, { olderThanMs: now - orphanAge, env });
      if (r.orphans.length > 0) done.push(`removed ${r.orphans.length} orphan files of ${table.id}`);
    }
  }
  return done;
}

/** Makes every later insert into `t` an upsert, persisted as a table property (no-op when set already). */
export async function markInsertsMayCollide(t: TargetState, env: WriteEnv): Promise<void> {
  if (t.metadata.properties[PROPERTY_INSERTS_MAY_COLLIDE] === 'true') {
    t.insertsMayCollide = true;
    updateStreaming(t);
    return;
  }
  const result = await commitTable(
    t.root,
    async (base) => ({ ...base.metadata, lastUpdatedMs: Math.max(env.now(), base.metadata.lastUpdatedMs), properties: { ...base.metadata.properties, [PROPERTY_INSERTS_MAY_COLLIDE]: 'true' } }),
    env,
  );
  t.metadata = result.metadata;
  t.insertsMayCollide = true;
  updateStreaming(t);
}

/** Applies lake schema changes to a target, refreshing its known columns. */
export async function evolveTarget(t: TargetState, changes: Parameters<typeof evolveSchema>[1], env: WriteEnv): Promise<void> {
  if (changes.length === 0) return;
  const result = await evolveSchema(t.root, changes, env);
  t.metadata = result.metadata;
  t.columns = columnsOf(result.metadata);
  // Buffered rows were committed before the schema moved on (the runner's commitRound): the
  // buffer starts over with the new columns.
  if (!t.buffer.empty) throw new TidemarkError('Internal', `${t.id}: schema change with ${t.buffer.changes} changes still buffered`, { table: t.id });
  t.buffer = newBuffer(t.id, t.key, t.columns);
  updateStreaming(t);
}

/**
 * TRUNCATE of one source table: delete the target rows that came from it. With shard columns
 * the rows are told apart by them; a target fed by one source loses all its rows.
 */
export async function truncateKeys(t: TargetState, source: { db: string; table: string }, singleSource: boolean, env: WriteEnv): Promise<Record<string, unknown>[]> {
  if (t.key.length === 0) throw new TidemarkError('Unsupported', `${t.id} has no primary key: TRUNCATE of ${source.db}.${source.table} cannot be applied`, { table: t.id });
  if (!singleSource && t.shardColumns.length === 0) {
    throw new TidemarkError('Unsupported', `${t.id} merges several source tables without shard columns: TRUNCATE of ${source.db}.${source.table} cannot tell its rows apart (add tidemark.key.shard-columns)`, { table: t.id });
  }
  const { rows } = await scanRows(writeStorage(env), await loadWritableTable(t.root, env));
  return rows
    .filter((r) => (!t.shardColumns.includes('__table_name__') || r.__table_name__ === source.table) && (!t.shardColumns.includes('__schema_name__') || r.__schema_name__ === source.db))
    .map((r) => Object.fromEntries(t.key.map((k) => [k, r[k] ?? null])));
}

export type { ChangeEvent };

/**
 * Moves a table back to the state it had at `offset`: main points again at the newest snapshot
 * committed at or before it, or (when its first commit is later) at an empty snapshot recording
 * `offset`. Used on a restart inside the snapshot phase, where a replay cannot skip per table:
 * re-read chunks get new watermarks, so the tables must all resume from the same point.
 */
export async function rollbackTable(root: string, pipeline: string, offset: SourceOffset, env: WriteEnv): Promise<boolean> {
  const m = (await loadWritableTable(root, env)).metadata;
  const current = readTableOffset(m, pipeline);
  if (current === null || compareOffsets(current, offset) <= 0) return false;
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  let s = m.currentSnapshotId === null ? undefined : byId.get(m.currentSnapshotId);
  // Going back (or emptying the table) would also drop what other pipelines committed since.
  const refuseShared = (other: string) => {
    throw new TidemarkError(
      'Unsupported',
      `${root}: pipeline "${pipeline}" restarted inside its snapshot phase and must take this table back to its resume point, but pipeline "${other}" has committed to the table since; a table shared by several pipelines cannot be rolled back (let the snapshot phase finish in one run, or give each pipeline its own target)`,
      { path: root, pipeline, other },
    );
  };
  while (s) {
    const text = s.summary[SUMMARY_OFFSET];
    const by = s.summary[SUMMARY_PIPELINE];
    if (text !== undefined && by === pipeline && compareOffsets(decodeOffset(text), offset) <= 0) {
      await setRef(root, 'main', { snapshotId: s.snapshotId, type: 'branch' }, env);
      return true;
    }
    if (by !== undefined && by !== pipeline) refuseShared(by);
    s = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId);
  }
  await overwriteRows(root, [], { summary: offsetSummary(pipeline, offset), env });
  return true;
}
