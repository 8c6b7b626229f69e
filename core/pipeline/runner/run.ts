import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { comparePositions, createMySqlSource, formatPosition, type ChangeEvent, type MySqlSourceConfig, type SchemaChangeEvent, type SourceOffset, type SourceRecord, type TableSchema } from '../../cdc';
import { TidemarkError, toTidemarkError } from '../../errors';
import { defaultWriteEnv, type WriteEnv } from '../../lake/write';
import type { PipelineConfig } from '../config/types';
import { planRoutes, type RoutePlan, type SourceTablePlan } from '../config/route';
import { loadTable } from '../../lake';
import { createLocalStorage } from '../../storage/local';
import { acquirePipelineLock } from './lock';
import { checkpointText, compareOffsets, maxOffset, offsetSummary, readCheckpoint, readTableOffset, resolveResumePoint, writeCheckpoint } from './offsets';
import { planStartOffset, readBinlogEnd, toSourceConfig } from './source';
import { appliedBehavior, planEvolution } from '../sink/evolution';
import { designTarget, indexSourcePlans } from '../sink/schema';
import { changelogRoot, rollbackTable, evolveTarget, finishTarget, isCommitted, maintainTarget, maintenanceEnabled, markInsertsMayCollide, openTarget, sealTarget, truncateKeys, type LakeTableState, type SealedTarget, type TargetState } from '../sink/iceberg/writer';
import type { SinkCommitResult } from '../sink/iceberg/commit';
import { createSinkCommitter, type SinkThread } from '../thread/sink-thread';
import { SyncStatus, writeStatusFile, type SyncEvent, type SyncProgress } from './status';
import { compileTransform, transformColumnTypes, type CompiledTransform } from '../transform';
import type { RowMeta } from '../transform/evaluator';

/**
 * The sync pipeline runner: CDC source → routes and transforms → Iceberg targets, exactly once.
 *
 * Whole source transactions are buffered and every commit interval
 * (`execution.checkpointing.interval`) each changed target gets one snapshot holding its net
 * changes and the source offset (same atomic commit). A restart resumes from the smallest offset
 * any table has committed through and skips, per table, what that table already has. See
 * README.md "Runner" for what readers see across tables mid-round.
 */
export interface RunPipelineOptions {
  config: PipelineConfig;
  /** Stop once the source has reached the binlog end read at start and everything is committed. */
  untilCaughtUp?: boolean;
  /** Abort: commit what is buffered, then return (SIGINT/SIGTERM in the CLI). */
  signal?: AbortSignal;
  onEvent?: (event: SyncEvent) => void;
  /** Overrides of the derived source configuration (tests: server id, heartbeat interval). */
  source?: Partial<MySqlSourceConfig>;
  /** Clock (ms since the epoch) for metrics; default Date.now. */
  now?: () => number;
  env?: WriteEnv;
  /** Where commits are encoded (sink-thread.ts): default a worker thread, in-thread with an injected env. */
  sinkThread?: SinkThread;
}

export interface RunPipelineResult {
  /** Offset of the last commit round; null when nothing was committed. */
  offset: SourceOffset | null;
  commits: number;
  progress: SyncProgress;
}

const statusDir = (config: PipelineConfig) => join(config.sink.warehouse, '.tidemark');
const fileSafe = (name: string) => name.replace(/[^A-Za-z0-9._-]+/g, '_');
export const statusFilePath = (config: PipelineConfig) => config.pipeline.tidemark.statusFile ?? join(statusDir(config), `${fileSafe(config.pipeline.name)}.status.json`);
export const checkpointFilePath = (config: PipelineConfig) => join(statusDir(config), `${fileSafe(config.pipeline.name)}.checkpoint.json`);
export const lockFilePath = (config: PipelineConfig) => join(statusDir(config), `${fileSafe(config.pipeline.name)}.lock`);

/**
 * Changes of a table handed to the sink as one part of the round (TableBuffer.take): about a few
 * MB of values, small enough to be handed over while still in the young generation (buffered
 * whole, a round's values were promoted and copied by GC on the reading thread).
 */
const SPILL_CHANGES = 8192;
/** Changes a streaming target buffers inside one transaction before its round is held instead. */
const STREAM_HOLD_CHANGES = 8 * SPILL_CHANGES;

const toInfo = (s: TableSchema) => ({ db: s.table.db, table: s.table.table, primaryKeys: s.primaryKey, columns: s.columns.map((c) => c.name) });

export async function runPipeline(options: RunPipelineOptions): Promise<RunPipelineResult> {
  const { config } = options;
  const now = options.now ?? Date.now;
  const env = options.env ?? defaultWriteEnv;
  const name = config.pipeline.name;
  const emit = (e: SyncEvent) => options.onEvent?.(e);
  const status = new SyncStatus(name, now);
  const statusFile = statusFilePath(config);
  const interval = config.pipeline.checkpointIntervalMs;
  const skipped = new Set(config.source.skippedOperations);
  const behavior = appliedBehavior(config);

  const heartbeat = options.untilCaughtUp ? Math.min(config.source.heartbeatIntervalMs, 1000) : config.source.heartbeatIntervalMs;
  const sourceConfig = toSourceConfig(config, { heartbeatIntervalMs: heartbeat, ...options.source });
  const source = createMySqlSource(sourceConfig);

  const transforms: CompiledTransform[] = config.transforms.map((t) => compileTransform(t.projection, t.filter, config.pipeline));
  const schemas = new Map<string, TableSchema>();
  let plan: RoutePlan = planRoutes(config, []);
  let sourcePlans = new Map<string, SourceTablePlan>();
  const targets = new Map<string, TargetState>();

  let lastOffset: SourceOffset | null = null;
  let roundOffset: SourceOffset | null = null;
  let lastRoundAt = now();
  let commits = 0;
  const warnedKeys = new Set<string>();
  /** Source tables (`db.table`) being snapshotted as newly added on this run (scan.newly-added-table.enabled). */
  const newlyAdded = new Set<string>();

  /**
   * Whether the record at `offset` of `source` is already in `t`. A newly added table's records
   * were never written before their round began, whatever the target's position (a merged target
   * may already be ahead of the resume point with its other sources' rows). A binlog record (a
   * transaction or DDL) is identified by its position alone: replayed in a later round, or at
   * another point of a snapshot phase, the transaction ending at P is in every state taken at P or
   * after. Snapshot reads compare in full (position, round, chunk progress).
   */
  function committedIn(t: LakeTableState, offset: SourceOffset, source: string, snapshotRead: boolean): boolean {
    if (newlyAdded.has(source) && (t.committed?.round ?? 0) < (offset.round ?? 0)) return false;
    if (snapshotRead || t.committed === null) return isCommitted(t, offset);
    return comparePositions(offset, t.committed) <= 0;
  }

  /**
   * Emits the progress and writes the status file. Writes are serialized (one temp file per path);
   * a round does not wait for its own (see finishRound).
   */
  let publishing: Promise<void> = Promise.resolve();
  function publish(): Promise<void> {
    const p = status.snapshotOf();
    emit({ type: 'sync.progress', payload: p });
    publishing = publishing.catch(() => undefined).then(() => writeStatusFile(statusFile, p));
    return publishing;
  }

  /** Routes and designs targets for the known source schemas; opens (creating) new targets. */
  async function replan(startOffset: SourceOffset | null): Promise<void> {
    routeCache = null;
    plan = planRoutes(config, [...schemas.values()].map(toInfo));
    sourcePlans = indexSourcePlans(plan);
    for (const w of plan.warnings) {
      const key = `${w.kind}|${w.target}|${w.message}`;
      if (!warnedKeys.has(key)) emit({ type: 'sync.warning', payload: { message: w.message } });
      warnedKeys.add(key);
    }
    const typesBySource = new Map<string, Map<string, string>>();
    for (const sp of plan.tables) {
      const schema = schemas.get(`${sp.source.db}.${sp.source.table}`)!;
      typesBySource.set(`${sp.source.db}.${sp.source.table}`, transformColumnTypes(schema, sp, sp.transformIndex === null ? null : transforms[sp.transformIndex]!));
    }
    for (const tp of plan.targets) {
      const id = `${tp.target.db}.${tp.target.table}`;
      if (targets.has(id)) continue;
      const firstSource = plan.tables.find((s) => s.targets.some((t) => t.target.db === tp.target.db && t.target.table === tp.target.table));
      const rule = firstSource?.transformIndex == null ? null : config.transforms[firstSource.transformIndex]!;
      const design = designTarget(config, tp, typesBySource, rule?.partitionKeys ?? null, rule?.tableOptions);
      const collide = plan.warnings.some((w) => w.kind === 'key-collision' && w.target === id) || plan.tables.some((s) => s.transformIndex !== null && config.transforms[s.transformIndex]!.primaryKeys !== null && s.targets.some((t) => `${t.target.db}.${t.target.table}` === id));
      // Skipped deletes or updates leave keys in the lake that the source has freed: inserts may meet them.
      const stale = skipped.has('d') || skipped.has('u');
      const { target } = await openTarget(config, design, tp.shardColumns, collide || stale, startOffset, env);
      targets.set(id, target);
      status.table(id);
    }
  }

  /**
   * targetsOf and `db.table` of the last routed event's table object: the events of one source
   * rows event share it, and two arrays and two strings per change were a visible share of routing.
   * Reset by replan (routes and targets change only there).
   */
  let routeCache: { table: ChangeEvent['table']; routed: ReturnType<typeof targetsOf>; sourceId: string } | null = null;

  function targetsOf(db: string, table: string): { sp: SourceTablePlan; ts: TargetState[] } | null {
    const sp = sourcePlans.get(`${db}.${table}`);
    if (!sp) return null;
    return { sp, ts: sp.targets.map((t) => targets.get(`${t.target.db}.${t.target.table}`)!).filter(Boolean) };
  }

  /** The row a target buffers for a source row image (the buffer converts it to lake values), or null when filtered out. */
  function project(sp: SourceTablePlan, t: TargetState, row: Record<string, unknown> | null, e: ChangeEvent, kind: RowMeta['dataEventType']): Record<string, unknown> | null {
    if (row === null) return null;
    const transform = sp.transformIndex === null ? null : transforms[sp.transformIndex]!;
    // op_ts of a snapshot read is 0 (the epoch), as Flink CDC's MySQL source gives it: the row has no change time.
    const projected = transform ? transform.apply(row as never, { namespaceName: null, schemaName: e.table.db, tableName: e.table.table, dataEventType: kind, opTs: e.op === 'r' ? 0 : e.opTsMs }) : row;
    if (projected === null) return null;
    // The buffer only reads the row: without shard columns it needs no copy (one object less per change).
    if (t.shardColumns.length === 0) return projected;
    const withShards: Record<string, unknown> = { ...projected };
    if (t.shardColumns.includes('__table_name__')) withShards.__table_name__ = sp.source.table;
    if (t.shardColumns.includes('__schema_name__')) withShards.__schema_name__ = sp.source.db;
    return withShards;
  }

  function routeEvent(e: ChangeEvent, offset: SourceOffset, gtid: string | null): void {
    if (e.op !== 'r' && skipped.has(e.op)) return;
    if (routeCache?.table !== e.table) routeCache = { table: e.table, routed: targetsOf(e.table.db, e.table.table), sourceId: `${e.table.db}.${e.table.table}` };
    const { routed, sourceId } = routeCache;
    if (!routed) throw new TidemarkError('NotFound', `change for ${e.table.db}.${e.table.table} at ${formatPosition(offset)}, which the pipeline has no schema for`, { table: `${e.table.db}.${e.table.table}` });
    for (const t of routed.ts) {
      const stats = status.table(t.id);
      const inTarget = committedIn(t, offset, sourceId, e.op === 'r');
      if (t.changelog && !committedIn(t.changelog, offset, sourceId, e.op === 'r')) t.pendingChangelog.push({ event: e, offset, gtid, buffered: !inTarget });
      if (inTarget) continue;
      stats.rowsIn++;
      if (e.op === 'c' || e.op === 'r') {
        const after = project(routed.sp, t, e.after, e, '+I');
        if (after) t.buffer.put(after, t.insertsMayCollide);
      } else if (e.op === 'u') {
        const before = project(routed.sp, t, e.before, e, '-U');
        const after = project(routed.sp, t, e.after, e, '+U');
        if (before) t.buffer.delete(before);
        if (after) t.buffer.put(after, true);
      } else {
        const before = project(routed.sp, t, e.before, e, '-D');
        if (before) t.buffer.delete(before);
      }
      t.newestOpTsMs = Math.max(t.newestOpTsMs ?? 0, e.opTsMs);
      if (t.buffer.streaming) {
        // Streamed parts end at a record's end (spillStreamed); inside a transaction far larger
        // than a part the round is held from here on instead.
        if (t.buffer.pending >= STREAM_HOLD_CHANGES) committer.append(t.buffer.take());
        else streamTouched.add(t);
      } else if (t.buffer.pending >= SPILL_CHANGES) committer.append(t.buffer.take());
    }
  }

  /** Targets that buffered changes for streaming in the current record. */
  const streamTouched = new Set<TargetState>();

  /**
   * At the end of a source record outside a transaction (`at` its offset): hands over the parts of
   * streaming targets that reached SPILL_CHANGES, then waits while the sink is behind (its memory
   * stays a few parts whatever the source's speed).
   */
  async function spillStreamed(at: SourceOffset): Promise<void> {
    let summary: Record<string, string> | null = null;
    for (const t of streamTouched) if (t.buffer.streaming && t.buffer.pending >= SPILL_CHANGES) committer.append(t.buffer.takeStreamed((summary ??= offsetSummary(name, at))));
    streamTouched.clear();
    const wait = committer.backlog();
    if (wait) await wait;
  }

  /**
   * Commit rounds are pipelined: at a round's end every target's buffer is sealed and the round is
   * handed to the sink (by default a worker thread: dedup, Arrow, Parquet, manifests, metadata)
   * while the next round is read. One round is in flight at most: the next one is sealed only once
   * it is complete (checkpoint written), so snapshots and checkpoints follow each other in offset
   * order exactly as with in-line commits, and a crash at any moment leaves the same states. A
   * failed round fails the run at the next round's end (within one interval) or at the stop.
   */
  let inflight: Promise<void> | null = null;
  let roundFailure: TidemarkError | null = null;
  /** Offset of the last sealed round (a round with nothing new is skipped). */
  let sealedOffset: SourceOffset | null = null;
  const fail = (e: unknown) => {
    roundFailure ??= toTidemarkError(e);
  };

  /** Waits for the round in flight; throws its failure. */
  async function settleRound(): Promise<void> {
    if (inflight) await inflight;
    inflight = null;
    if (roundFailure) throw roundFailure;
  }

  /** Ends the round at `lastOffset` (once the previous one is complete) and starts committing it. */
  async function startRound(): Promise<void> {
    await settleRound();
    lastRoundAt = now();
    if (lastOffset === null || (sealedOffset !== null && compareOffsets(lastOffset, sealedOffset) === 0)) return;
    const offset = lastOffset;
    sealedOffset = offset;
    const commitNow = now();
    const summary = offsetSummary(name, offset);
    const sealed = [...targets.values()].map((t) => sealTarget(t, summary));
    // The checkpoint comes after everything of the round: with changelog rows or maintenance to do
    // here, it is written here after them; else the sink writes it after the commits, and the
    // round needs this thread's event loop only for the one reply (a busy binlog reader delays
    // every turn of it).
    const mainWork = maintenanceEnabled(config) || sealed.some((s) => s.target.changelog !== null && s.changelog.length > 0);
    const committing = committer.commit({
      commits: sealed.filter((s) => s.changes !== null).map((s) => ({ root: s.target.root, changes: s.changes!, summary })),
      checkpoint: mainWork ? null : { path: checkpointFilePath(config), text: checkpointText({ pipeline: name, offset, committedAtMs: commitNow }) },
    });
    inflight = finishRound(offset, commitNow, sealed, committing, !mainWork, status.bufferedTransactions).catch(fail);
  }

  /** One commit round, to its end: commits everything buffered up to `lastOffset`. */
  async function commitRound(): Promise<void> {
    await startRound();
    await settleRound();
  }

  /** Completes a sealed round: the targets take in their new snapshots, changelogs and maintenance, then the checkpoint. */
  async function finishRound(offset: SourceOffset, commitNow: number, sealed: SealedTarget[], committing: Promise<SinkCommitResult[]>, checkpointWritten: boolean, transactions: number): Promise<void> {
    const results = await committing;
    let next = 0;
    for (const s of sealed) {
      const t = s.target;
      const outcome = await finishTarget(s, s.changes ? results[next++]! : null, name, offset, commitNow, env);
      if (outcome) {
        commits++;
        const stats = status.table(t.id);
        stats.commits++;
        stats.rowsCommitted += outcome.rows;
        stats.lastSnapshotId = outcome.snapshotId.toString();
        stats.lastCommitAtMs = commitNow;
        stats.lagMs = outcome.lagMs;
        emit({ type: 'sync.commit', payload: { table: t.id, snapshotId: outcome.snapshotId.toString(), rows: outcome.rows, lagMs: outcome.lagMs, position: formatPosition(offset) } });
      }
      for (const note of await maintainTarget(t, config, name, commitNow, env)) emit({ type: 'sync.warning', payload: { message: note } });
    }
    // Every table now holds everything up to `offset` (unchanged tables had nothing to add).
    if (!checkpointWritten) await writeCheckpoint(checkpointFilePath(config), { pipeline: name, offset, committedAtMs: commitNow });
    for (const t of targets.values()) {
      t.committed = maxOffset(t.committed, offset);
      if (t.changelog) t.changelog.committed = maxOffset(t.changelog.committed, offset);
    }
    roundOffset = offset;
    status.committedPosition = formatPosition(offset);
    status.committedGtid = offset.gtidSet;
    status.bufferedTransactions -= transactions;
    // Not awaited (the round is complete without it); a failed write fails the run like a failed round.
    publish().catch(fail);
  }

  async function applySchemaChange(ev: SchemaChangeEvent): Promise<void> {
    const id = `${ev.table.db}.${ev.table.table}`;
    if (ev.schemaAfter) schemas.set(`${ev.schemaAfter.table.db}.${ev.schemaAfter.table.table}`, ev.schemaAfter);
    if (ev.changes.some((c) => c.kind === 'drop-table' || c.kind === 'rename-table')) schemas.delete(id);
    const created = ev.changes.some((c) => c.kind === 'create-table');
    if (created) {
      if (!config.source.binlogNewlyAddedTableEnabled && !config.sink.schemaChanges.includes('create.table')) return;
      // A table created now has no rows before this point: it starts at the last offset handed out.
      await replan(lastOffset);
      return;
    }
    const routed = targetsOf(ev.table.db, ev.table.table);
    if (!routed) return;
    // Rows buffered so far are in the old schema: commit them before the schema moves on.
    await commitRound();
    for (const t of routed.ts) {
      const keyFromTransform = routed.sp.transformIndex !== null && config.transforms[routed.sp.transformIndex]!.primaryKeys !== null;
      const evo = planEvolution(behavior, config.sink.schemaChanges, ev, { ...t, keyFromTransform });
      if (!config.source.schemaChangeEnabled) evo.notes = evo.notes.map((n) => n.replace('(schema.change.behavior ignore)', '(source schema-change.enabled: false)'));
      await evolveTarget(t, evo.changes, env);
      const truncate = ev.changes.some((c) => c.kind === 'truncate-table') && !skipped.has('t') && config.sink.schemaChanges.includes('truncate.table') && !['ignore', 'exception'].includes(behavior);
      if (truncate && !committedIn(t, ev.offset, id, false)) {
        for (const key of await truncateKeys(t, ev.table, plan.targets.find((x) => `${x.target.db}.${x.target.table}` === t.id)!.sources.length === 1)) t.buffer.delete(key);
      }
      // A TRUNCATE or DROP TABLE left unapplied keeps rows whose keys the source may insert again:
      // from here on inserts must replace them, not sit beside them.
      if ((ev.changes.some((c) => c.kind === 'truncate-table') && !truncate) || ev.changes.some((c) => c.kind === 'drop-table')) await markInsertsMayCollide(t, env);
      emit({ type: 'sync.schema-change', payload: { table: t.id, ddl: ev.ddl, notes: evo.notes, position: formatPosition(ev.offset) } });
    }
    await replan(lastOffset);
  }

  // One runner per pipeline and warehouse (run-lock.ts), taken before anything is read or written:
  // a second runner of the same pipeline would commit every change twice.
  // Started first: the worker loads its modules while the lock is taken and the source connects.
  const committer = createSinkCommitter(env, options.sinkThread);
  let lock: Awaited<ReturnType<typeof acquirePipelineLock>>;
  try {
    lock = await acquirePipelineLock(lockFilePath(config), name, now);
  } catch (e) {
    await committer.close();
    throw e;
  }
  let stopRequested = false;
  /** Inside a transaction handed out in parts: its last part has not come yet. */
  let midTransaction = false;
  const onAbort = () => {
    stopRequested = true;
  };
  options.signal?.addEventListener('abort', onAbort);
  let iterator: AsyncGenerator<SourceRecord, void, undefined> | null = null;
  let pending: Promise<IteratorResult<SourceRecord, void>> | null = null;
  try {
    for (const s of await source.describeTables()) schemas.set(`${s.table.db}.${s.table.table}`, s);
    // Offsets of existing tables decide where to resume; a fresh run stores its start point with
    // every table it creates (table property), before any record is read.
    const checkpoint = await readCheckpoint(checkpointFilePath(config));
    plan = planRoutes(config, [...schemas.values()].map(toInfo));
    const existing = await probeOffsets(config, plan);
    let resume: SourceOffset | null;
    // A table another pipeline created and this one never committed to holds no offset of this
    // pipeline (null): with no checkpoint either, this pipeline starts fresh.
    const stored = resolveResumePoint(existing.map((e) => e.offset), checkpoint?.offset ?? null);
    if (stored.fresh) {
      resume = await planStartOffset(config, sourceConfig, [...schemas.values()]);
      // The start point is kept with every table this run creates, but a shared table created by
      // another pipeline cannot hold it: the checkpoint does, so a crash before the first round
      // resumes from here for that table too (every table trivially holds everything before it).
      if (resume !== null) await writeCheckpoint(checkpointFilePath(config), { pipeline: name, offset: resume, committedAtMs: now() });
    } else {
      resume = stored.resume;
      // Inside the snapshot phase (or from the very beginning) a replay re-reads chunks with new
      // watermarks, so per-table skipping cannot be exact: every table goes back to the resume point.
      // (A null resume point only arises for startup modes that replay the binlog deterministically.)
      // The same holds when a table is ahead of the resume point inside a snapshot phase or a later
      // newly-added-table round (a crash before the checkpoint caught up).
      const inexact = (o: SourceOffset | null) => o !== null && resume !== null && compareOffsets(o, resume) > 0 && (o.snapshot !== null || (o.round ?? 0) > (resume.round ?? 0));
      // A newly-added-table round replays the binlog from the resume point: a table already ahead
      // of it (a crash before the checkpoint caught up) would hold positions beyond the round's
      // start, and its later commits in the round positions before them. Rolled back too, every
      // table's offsets then grow along its history.
      const ahead = (o: SourceOffset | null) => o !== null && resume !== null && compareOffsets(o, resume) > 0;
      const newRound = resume !== null && config.source.newlyAddedTableEnabled && resume.snapshot === null && unknownTables(resume).length > 0;
      if (resume !== null && (resume.snapshot !== null || existing.some((e) => inexact(e.offset)) || (newRound && existing.some((e) => ahead(e.offset))))) {
        const why = newRound && resume.snapshot === null ? 'newly added tables start a snapshot round there' : 'restart inside the snapshot phase';
        for (const e of existing) {
          if (await rollbackTable(e.root, name, resume, env)) {
            emit({ type: 'sync.warning', payload: { message: `${e.root}: rolled back to the resume point ${formatPosition(resume)} (${why})` } });
          }
        }
      }
    }
    // Tables the pipeline matches now but that the resume point's schema history does not know
    // were not captured before (the pattern changed, or they were created while the pipeline was
    // stopped). Flink CDC semantics: snapshotted then streamed with scan.newly-added-table.enabled;
    // else streamed from the resume point only when scan.binlog.newly-added-table.enabled; else
    // not captured. Either way it is said, never silent.
    if (resume?.schemas) {
      for (const key of unknownTables(resume)) {
        if (config.source.newlyAddedTableEnabled) {
          newlyAdded.add(key);
          emit({ type: 'sync.warning', payload: { message: `${key}: newly added table, snapshotted from ${formatPosition(resume)} then streamed (scan.newly-added-table.enabled)` } });
        } else if (config.source.binlogNewlyAddedTableEnabled) {
          emit({ type: 'sync.warning', payload: { message: `${key}: newly matched table, streamed from ${formatPosition(resume)}: changes before that point are not read (scan.newly-added-table.enabled would snapshot it instead)` } });
        } else {
          schemas.delete(key);
          emit({ type: 'sync.warning', payload: { message: `${key}: matches source.tables but was not captured before ${formatPosition(resume)}: not captured (enable scan.newly-added-table.enabled to snapshot and capture it)` } });
        }
      }
    }
    await replan(resume);
    for (const t of targets.values()) {
      t.committed = maxOffset(t.committed, checkpoint?.offset ?? null);
      if (t.changelog) t.changelog.committed = maxOffset(t.changelog.committed, checkpoint?.offset ?? null);
    }
    const caughtUpAt = options.untilCaughtUp ? await readBinlogEnd(sourceConfig) : null;
    status.phase = resume?.snapshot || newlyAdded.size > 0 || (resume === null && ['initial', 'snapshot'].includes(config.source.startup.mode)) ? 'snapshot' : 'streaming';
    await publish();

    iterator = source.start(resume);
    for (;;) {
      if (stopRequested && !midTransaction) break;
      pending ??= iterator.next();
      let r: IteratorResult<SourceRecord, void>;
      if (midTransaction) {
        // The rest of a transaction handed out in parts (TransactionBatch.partial): no round starts
        // inside it and a stop waits for its last part, so that no commit holds half of it (they
        // follow at once: the source converts each part as it is taken).
        r = await pending;
      } else {
        const wait = Math.max(0, lastRoundAt + interval - now());
        let timer: NodeJS.Timeout | undefined;
        let abortWait: (() => void) | undefined;
        const raced = await Promise.race([
          pending,
          new Promise<'tick'>((res) => {
            timer = setTimeout(() => res('tick'), wait);
          }),
          new Promise<'abort'>((res) => {
            abortWait = () => res('abort');
            options.signal?.addEventListener('abort', abortWait);
          }),
        ]);
        clearTimeout(timer);
        if (abortWait) options.signal?.removeEventListener('abort', abortWait);
        if (raced === 'abort') break;
        if (raced === 'tick') {
          await startRound();
          continue;
        }
        r = raced;
      }
      pending = null;
      if (r.done) {
        if (midTransaction) throw new TidemarkError('Internal', `the source ended inside a transaction (the last complete one ends at ${lastOffset ? formatPosition(lastOffset) : 'the start'})`, {});
        break;
      }
      await handle(r.value);
      if (midTransaction) continue;
      // lastOffset is assigned inside handle(): TypeScript's narrowing cannot see that.
      const at = lastOffset as SourceOffset | null;
      if (at && streamTouched.size > 0) await spillStreamed(at);
      if (caughtUpAt && at && at.snapshot === null && comparePositions(at, caughtUpAt) >= 0) break;
      // While the source has records queued, `pending` settles in a microtask and always wins the
      // race against the timer (a macrotask): without this check a backlog was buffered whole
      // (440k rows in one round, 27% of the time in GC) and committed only when it ran dry.
      if (now() - lastRoundAt >= interval) await startRound();
    }
    status.phase = 'stopping';
    await commitRound();
    status.phase = 'stopped';
    await publish();
    if (roundFailure) throw roundFailure;
    return { offset: roundOffset, commits, progress: status.snapshotOf() };
  } catch (e) {
    const err = toTidemarkError(e);
    // A round still in flight ends first (committed or failed): the status written last is the failure.
    if (inflight) await inflight;
    status.phase = 'failed';
    status.lastError = `${err.code}: ${err.message}`;
    await publish().catch(() => {});
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await source.stop().catch(() => {});
    if (pending) await Promise.race([pending.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    await iterator?.return(undefined).catch(() => undefined);
    // No commit may outlive the lock: another runner could start writing the same tables.
    if (inflight) await inflight;
    await committer.close();
    await lock.release();
  }

  /** Matched source tables (`db.table`) that the offset's schema history does not know (none when it has no history). */
  function unknownTables(offset: SourceOffset): string[] {
    if (!offset.schemas) return [];
    const known = new Set([...offset.schemas.map((s) => `${s.table.db}.${s.table.table}`), ...(offset.snapshot?.tables ?? []).map((t) => `${t.db}.${t.table}`)]);
    return [...schemas.keys()].filter((k) => !known.has(k));
  }

  async function handle(rec: SourceRecord): Promise<void> {
    switch (rec.kind) {
      case 'transaction': {
        const b = rec.batch;
        for (const e of b.events) routeEvent(e, b.endOffset, b.gtid ?? null);
        midTransaction = b.partial === true;
        if (midTransaction) return;
        lastOffset = b.endOffset;
        status.bufferedTransactions++;
        return;
      }
      case 'schema-change': {
        try {
          await applySchemaChange(rec.event);
        } catch (e) {
          // Commit what came before the offending DDL so a restart resumes exactly at it.
          const err = toTidemarkError(e);
          for (const t of targets.values()) if (t.id.length > 0 && targetsOf(rec.event.table.db, rec.event.table.table)?.ts.includes(t)) status.table(t.id).lastError = err.message;
          throw err;
        }
        lastOffset = rec.event.offset;
        return;
      }
      case 'heartbeat':
        lastOffset = rec.offset;
        return;
      case 'snapshot-complete':
        lastOffset = rec.offset;
        status.phase = 'streaming';
        for (const t of status.tables.values()) if (t.snapshot) t.snapshot.done = true;
        return;
      case 'snapshot-progress': {
        const p = rec.progress;
        for (const t of targetsOf(p.table.db, p.table.table)?.ts ?? []) {
          const s = status.table(t.id);
          s.snapshot = { rowsDone: p.rowsDone, rowsEstimated: p.rowsEstimated, etaMs: p.etaMs, done: p.done };
        }
        return;
      }
    }
  }
}

/**
 * Committed offsets of the target (and changelog) tables that exist already: each table's last
 * commit, or its start offset when it has none (null: it starts at the stream's beginning).
 */
export async function probeOffsets(config: PipelineConfig, plan: RoutePlan): Promise<{ root: string; offset: SourceOffset | null }[]> {
  const out: { root: string; offset: SourceOffset | null }[] = [];
  const storage = createLocalStorage();
  for (const tp of plan.targets) {
    const roots = [join(config.sink.warehouse, tp.target.db, tp.target.table)];
    if (config.pipeline.tidemark.changelogEnabled) roots.push(changelogRoot(config.sink.warehouse, tp.target.db, tp.target.table));
    for (const root of roots) {
      // A folder without a published version (a creator killed before v1) is not a table yet.
      const metadataDir = join(root, 'metadata');
      if (!existsSync(metadataDir) || !readdirSync(metadataDir).some((f) => f.endsWith('.metadata.json'))) continue;
      out.push({ root, offset: readTableOffset((await loadTable(storage, root)).metadata, config.pipeline.name) });
    }
  }
  return out;
}
