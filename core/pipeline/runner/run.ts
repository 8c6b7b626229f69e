import { join } from 'node:path';
import { comparePositions, createMySqlSource, formatPosition, type ChangeEvent, type MySqlSource, type MySqlSourceConfig, type SchemaChangeEvent, type SnapshotColumns, type SourceOffset, type SourceRecord, type TableSchema, type TransactionBatch } from '../../cdc';
import { TidemarkError, toTidemarkError } from '../../errors';
import { defaultWriteEnv, type WriteEnv } from '../../lake/write';
import type { PipelineConfig } from '../config/types';
import { planRoutes, type RoutePlan, type SourceTablePlan } from '../config/route';
import { acquirePipelineLock } from './lock';
import { checkpointText, compareOffsets, maxOffset, readCheckpoint, resolveResumePoint, writeCheckpoint, type Checkpoint } from './offsets';
import { planStartOffset, readBinlogEnd, toSourceConfig } from './source';
import { appliedBehavior, planEvolution } from '../sink/evolution';
import { designTarget, indexSourcePlans, passedSourceTypes } from '../sink/schema';
import { createSink, sealTarget, type SinkPort, type SinkTable, type SinkTarget, type SealedTarget, type SinkRoundResult } from '../sink';
import type { SinkThread } from '../thread/sink-thread';
import { SyncStatus, writeStatusFile, type SyncEvent, type SyncProgress } from './status';
import { compileTransform, transformColumnTypes, type CompiledTransform } from '../transform';
import type { RowMeta } from '../transform/evaluator';

/**
 * The sync pipeline runner: CDC source → routes and transforms → a lake sink (sink/port.ts), exactly once.
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

/** The runner's local files (SinkConfig.stateDir: `<warehouse>/.tidemark`, or beside the YAML for an s3:// warehouse). */
const statusDir = (config: PipelineConfig) => config.sink.stateDir;
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

const toInfo = (s: TableSchema) => ({ db: s.table.db, table: s.table.table, primaryKeys: s.primaryKey, columns: s.columns.map((c) => c.name) });

export function runPipeline(options: RunPipelineOptions): Promise<RunPipelineResult> {
  return new PipelineRun(options).run();
}

type Routed = { sp: SourceTablePlan; ts: SinkTarget[] };

/** One run of a pipeline: its source, its sink, and what it has read, buffered and committed so far. */
class PipelineRun {
  private readonly config: PipelineConfig;
  private readonly now: () => number;
  private readonly env: WriteEnv;
  private readonly name: string;
  private readonly status: SyncStatus;
  private readonly interval: number;
  private readonly skipped: Set<string>;
  private readonly behavior: ReturnType<typeof appliedBehavior>;
  private readonly sourceConfig: MySqlSourceConfig;
  private readonly source: MySqlSource;
  private readonly sink: SinkPort;
  private readonly transforms: CompiledTransform[];

  private readonly schemas = new Map<string, TableSchema>();
  private plan: RoutePlan;
  private sourcePlans = new Map<string, SourceTablePlan>();
  private readonly targets = new Map<string, SinkTarget>();
  private readonly warnedKeys = new Set<string>();
  /** Source tables (`db.table`) being snapshotted as newly added on this run (scan.newly-added-table.enabled). */
  private readonly newlyAdded = new Set<string>();

  /** Offset of the last complete source record handed to the targets. */
  private lastOffset: SourceOffset | null = null;
  /** Offset of the last committed round. */
  private roundOffset: SourceOffset | null = null;
  private lastRoundAt: number;
  private commits = 0;
  /**
   * targetsOf and `db.table` of the last routed event's table object: the events of one source
   * rows event share it, and two arrays and two strings per change were a visible share of routing.
   * Reset by replan (routes and targets change only there).
   */
  private routeCache: { table: ChangeEvent['table']; routed: Routed | null; sourceId: string } | null = null;
  /** Status file writes, serialized (one temp file per path). */
  private publishing: Promise<void> = Promise.resolve();

  /**
   * Commit rounds are pipelined: at a round's end every target's buffer is sealed and the round is
   * handed to the sink (by default a worker thread: dedup, Arrow, Parquet, manifests, metadata)
   * while the next round is read. One round is in flight at most: the next one is sealed only once
   * it is complete (checkpoint written), so snapshots and checkpoints follow each other in offset
   * order exactly as with in-line commits, and a crash at any moment leaves the same states. A
   * failed round fails the run at the next round's end (within one interval) or at the stop.
   */
  private inflight: Promise<void> | null = null;
  private roundFailure: TidemarkError | null = null;
  /** Offset of the last sealed round (a round with nothing new is skipped). */
  private sealedOffset: SourceOffset | null = null;

  private stopRequested = false;
  /** Inside a transaction handed out in parts: its last part has not come yet. */
  private midTransaction = false;
  private iterator: AsyncGenerator<SourceRecord, void, undefined> | null = null;
  private pending: Promise<IteratorResult<SourceRecord, void>> | null = null;

  constructor(private readonly options: RunPipelineOptions) {
    const config = (this.config = options.config);
    this.now = options.now ?? Date.now;
    this.env = options.env ?? defaultWriteEnv;
    this.name = config.pipeline.name;
    this.status = new SyncStatus(this.name, this.now);
    this.interval = config.pipeline.checkpointIntervalMs;
    this.skipped = new Set(config.source.skippedOperations);
    this.behavior = appliedBehavior(config);
    const heartbeat = options.untilCaughtUp ? Math.min(config.source.heartbeatIntervalMs, 1000) : config.source.heartbeatIntervalMs;
    this.sourceConfig = toSourceConfig(config, { heartbeatIntervalMs: heartbeat, ...options.source });
    this.source = createMySqlSource(this.sourceConfig);
    this.transforms = config.transforms.map((t) => compileTransform(t.projection, t.filter, config.pipeline));
    this.plan = planRoutes(config, []);
    this.lastRoundAt = this.now();
    // Started before the lock is taken: the sink's worker loads its modules meanwhile.
    this.sink = createSink(config, this.env, options.sinkThread);
  }

  private emit(e: SyncEvent): void {
    this.options.onEvent?.(e);
  }

  private fail = (e: unknown): void => {
    this.roundFailure ??= toTidemarkError(e);
  };

  async run(): Promise<RunPipelineResult> {
    // One runner per pipeline and warehouse (lock.ts), taken before anything is read or written:
    // a second runner of the same pipeline would commit every change twice.
    let lock: Awaited<ReturnType<typeof acquirePipelineLock>>;
    try {
      lock = await acquirePipelineLock(lockFilePath(this.config), this.name, this.now);
    } catch (e) {
      await this.sink.close();
      throw e;
    }
    const onAbort = () => {
      this.stopRequested = true;
    };
    this.options.signal?.addEventListener('abort', onAbort);
    try {
      const { resume, checkpoint } = await this.resolveStart();
      this.admitUnknownTables(resume);
      await this.openTargets(resume, checkpoint);
      const caughtUpAt = this.options.untilCaughtUp ? await readBinlogEnd(this.sourceConfig) : null;
      const snapshotting = resume?.snapshot || this.newlyAdded.size > 0 || (resume === null && ['initial', 'snapshot'].includes(this.config.source.startup.mode));
      this.status.phase = snapshotting ? 'snapshot' : 'streaming';
      await this.publish();
      this.iterator = this.source.start(resume);
      await this.loop(caughtUpAt);
      this.status.phase = 'stopping';
      await this.commitRound();
      this.status.phase = 'stopped';
      await this.publish();
      if (this.roundFailure) throw this.roundFailure;
      return { offset: this.roundOffset, commits: this.commits, progress: this.status.snapshotOf() };
    } catch (e) {
      const err = toTidemarkError(e);
      // A round still in flight ends first (committed or failed): the status written last is the failure.
      if (this.inflight) await this.inflight;
      this.status.phase = 'failed';
      this.status.lastError = `${err.code}: ${err.message}`;
      await this.publish().catch(() => {});
      throw err;
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      await this.source.stop().catch(() => {});
      if (this.pending) await Promise.race([this.pending.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      await this.iterator?.return(undefined).catch(() => undefined);
      // No commit may outlive the lock: another runner could start writing the same tables.
      if (this.inflight) await this.inflight;
      await this.sink.close();
      await lock.release();
    }
  }

  /**
   * Where the run starts: the source's schemas, then the offsets the existing tables and the
   * checkpoint hold. A fresh run stores its start point with every table it creates (table
   * property), before any record is read.
   */
  private async resolveStart(): Promise<{ resume: SourceOffset | null; checkpoint: Checkpoint | null }> {
    for (const s of await this.source.describeTables()) this.schemas.set(`${s.table.db}.${s.table.table}`, s);
    const checkpoint = await readCheckpoint(checkpointFilePath(this.config));
    this.plan = planRoutes(this.config, [...this.schemas.values()].map(toInfo));
    const existing = await this.sink.storedOffsets(this.plan);
    // A table another pipeline created and this one never committed to holds no offset of this
    // pipeline (null): with no checkpoint either, this pipeline starts fresh.
    const stored = resolveResumePoint(existing.map((e) => e.offset), checkpoint?.offset ?? null);
    if (!stored.fresh) {
      await this.rollBackForReplay(stored.resume, existing);
      return { resume: stored.resume, checkpoint };
    }
    const resume = await planStartOffset(this.config, this.sourceConfig, [...this.schemas.values()]);
    // The start point is kept with every table this run creates, but a shared table created by
    // another pipeline cannot hold it: the checkpoint does, so a crash before the first round
    // resumes from here for that table too (every table trivially holds everything before it).
    if (resume !== null) await writeCheckpoint(checkpointFilePath(this.config), { pipeline: this.name, offset: resume, committedAtMs: this.now() });
    return { resume, checkpoint };
  }

  /**
   * Inside the snapshot phase (or from the very beginning) a replay re-reads chunks with new
   * watermarks, so per-table skipping cannot be exact: every table goes back to the resume point.
   * (A null resume point only arises for startup modes that replay the binlog deterministically.)
   * The same holds when a table is ahead of the resume point inside a snapshot phase or a later
   * newly-added-table round (a crash before the checkpoint caught up).
   */
  private async rollBackForReplay(resume: SourceOffset | null, existing: { location: string; offset: SourceOffset | null }[]): Promise<void> {
    if (resume === null) return;
    const inexact = (o: SourceOffset | null) => o !== null && compareOffsets(o, resume) > 0 && (o.snapshot !== null || (o.round ?? 0) > (resume.round ?? 0));
    // A newly-added-table round replays the binlog from the resume point: a table already ahead
    // of it (a crash before the checkpoint caught up) would hold positions beyond the round's
    // start, and its later commits in the round positions before them. Rolled back too, every
    // table's offsets then grow along its history.
    const ahead = (o: SourceOffset | null) => o !== null && compareOffsets(o, resume) > 0;
    const newRound = this.config.source.newlyAddedTableEnabled && resume.snapshot === null && this.unknownTables(resume).length > 0;
    if (!(resume.snapshot !== null || existing.some((e) => inexact(e.offset)) || (newRound && existing.some((e) => ahead(e.offset))))) return;
    const why = newRound && resume.snapshot === null ? 'newly added tables start a snapshot round there' : 'restart inside the snapshot phase';
    for (const e of existing) {
      if (await this.sink.rollback(e.location, resume)) {
        this.emit({ type: 'sync.warning', payload: { message: `${e.location}: rolled back to the resume point ${formatPosition(resume)} (${why})` } });
      }
    }
  }

  /**
   * Tables the pipeline matches now but that the resume point's schema history does not know
   * were not captured before (the pattern changed, or they were created while the pipeline was
   * stopped). Flink CDC semantics: snapshotted then streamed with scan.newly-added-table.enabled;
   * else streamed from the resume point only when scan.binlog.newly-added-table.enabled; else
   * not captured. Either way it is said, never silent.
   */
  private admitUnknownTables(resume: SourceOffset | null): void {
    if (!resume?.schemas) return;
    const at = formatPosition(resume);
    for (const key of this.unknownTables(resume)) {
      let message: string;
      if (this.config.source.newlyAddedTableEnabled) {
        this.newlyAdded.add(key);
        message = `${key}: newly added table, snapshotted from ${at} then streamed (scan.newly-added-table.enabled)`;
      } else if (this.config.source.binlogNewlyAddedTableEnabled) {
        message = `${key}: newly matched table, streamed from ${at}: changes before that point are not read (scan.newly-added-table.enabled would snapshot it instead)`;
      } else {
        this.schemas.delete(key);
        message = `${key}: matches source.tables but was not captured before ${at}: not captured (enable scan.newly-added-table.enabled to snapshot and capture it)`;
      }
      this.emit({ type: 'sync.warning', payload: { message } });
    }
  }

  /** Matched source tables (`db.table`) that the offset's schema history does not know (none when it has no history). */
  private unknownTables(offset: SourceOffset): string[] {
    if (!offset.schemas) return [];
    const known = new Set([...offset.schemas.map((s) => `${s.table.db}.${s.table.table}`), ...(offset.snapshot?.tables ?? []).map((t) => `${t.db}.${t.table}`)]);
    return [...this.schemas.keys()].filter((k) => !known.has(k));
  }

  /** Opens the targets; every table holds at least what the checkpoint says all tables hold. */
  private async openTargets(resume: SourceOffset | null, checkpoint: Checkpoint | null): Promise<void> {
    await this.replan(resume);
    for (const t of this.targets.values()) {
      t.committed = maxOffset(t.committed, checkpoint?.offset ?? null);
      if (t.changelog) t.changelog.committed = maxOffset(t.changelog.committed, checkpoint?.offset ?? null);
    }
  }

  /** Reads the source until a stop, its end, or (untilCaughtUp) the binlog end read at start. */
  private async loop(caughtUpAt: Awaited<ReturnType<typeof readBinlogEnd>> | null): Promise<void> {
    for (;;) {
      if (this.stopRequested && !this.midTransaction) return;
      const r = await this.nextRecord();
      if (r === 'abort') return;
      if (r === 'tick') {
        await this.startRound();
        continue;
      }
      if (r.done) {
        if (this.midTransaction) throw new TidemarkError('Internal', `the source ended inside a transaction (the last complete one ends at ${this.lastOffset ? formatPosition(this.lastOffset) : 'the start'})`, {});
        return;
      }
      await this.handle(r.value);
      // A sink that writes handed-over parts ahead of the commit (streamed parts, Paimon's write
      // buffer) holds the reader back while it is behind, inside a transaction too: its memory
      // stays a few parts whatever the source's speed and the transaction's size.
      const wait = this.sink.backlog();
      if (wait) await wait;
      if (this.midTransaction) continue;
      const at = this.lastOffset;
      if (caughtUpAt && at && at.snapshot === null && comparePositions(at, caughtUpAt) >= 0) return;
      // While the source has records queued, `pending` settles in a microtask and always wins the
      // race against the timer (a macrotask): without this check a backlog was buffered whole
      // and committed only when it ran dry.
      if (this.now() - this.lastRoundAt >= this.interval) await this.startRound();
    }
  }

  /** The next source record, or 'tick' when the round's interval ends first, or 'abort' on a stop. */
  private async nextRecord(): Promise<IteratorResult<SourceRecord, void> | 'tick' | 'abort'> {
    this.pending ??= this.iterator!.next();
    if (this.midTransaction) {
      // The rest of a transaction handed out in parts (TransactionBatch.partial): no round starts
      // inside it and a stop waits for its last part, so that no commit holds half of it (they
      // follow at once: the source converts each part as it is taken).
      const r = await this.pending;
      this.pending = null;
      return r;
    }
    const wait = Math.max(0, this.lastRoundAt + this.interval - this.now());
    const signal = this.options.signal;
    let timer: NodeJS.Timeout | undefined;
    let abortWait: (() => void) | undefined;
    const raced = await Promise.race([
      this.pending,
      new Promise<'tick'>((res) => {
        timer = setTimeout(() => res('tick'), wait);
      }),
      new Promise<'abort'>((res) => {
        abortWait = () => res('abort');
        signal?.addEventListener('abort', abortWait);
      }),
    ]);
    clearTimeout(timer);
    if (abortWait) signal?.removeEventListener('abort', abortWait);
    if (raced !== 'tick' && raced !== 'abort') this.pending = null;
    return raced;
  }

  private async handle(rec: SourceRecord): Promise<void> {
    switch (rec.kind) {
      case 'transaction': {
        const b = rec.batch;
        const routed = b.snapshotColumns
          ? this.routeSnapshotRows(b.snapshotColumns, b.endOffset, b.commitTsMs)
          : b.snapshotRows !== undefined && this.routeSnapshotRows(b.snapshotRows, b.endOffset, b.commitTsMs);
        if (!routed) {
          for (const e of b.events) this.routeEvent(e, b.endOffset, b.gtid ?? null);
        }
        this.midTransaction = b.partial === true;
        if (this.midTransaction) return;
        this.lastOffset = b.endOffset;
        this.status.bufferedTransactions++;
        return;
      }
      case 'schema-change':
        await this.onSchemaChange(rec.event);
        this.lastOffset = rec.event.offset;
        return;
      case 'heartbeat':
        this.lastOffset = rec.offset;
        return;
      case 'snapshot-complete':
        this.lastOffset = rec.offset;
        this.status.phase = 'streaming';
        for (const t of this.status.tables.values()) if (t.snapshot) t.snapshot.done = true;
        return;
      case 'snapshot-progress': {
        const p = rec.progress;
        for (const t of this.targetsOf(p.table.db, p.table.table)?.ts ?? []) {
          this.status.table(t.id).snapshot = { rowsDone: p.rowsDone, rowsEstimated: p.rowsEstimated, etaMs: p.etaMs, done: p.done };
        }
        return;
      }
    }
  }

  /** Emits the progress and writes the status file; a round does not wait for its own (see finishRound). */
  private publish(): Promise<void> {
    const p = this.status.snapshotOf();
    this.emit({ type: 'sync.progress', payload: p });
    const file = statusFilePath(this.config);
    this.publishing = this.publishing.catch(() => undefined).then(() => writeStatusFile(file, p));
    return this.publishing;
  }

  /**
   * Whether the record at `offset` of `source` is already in `t`. A newly added table's records
   * were never written before their round began, whatever the target's position (a merged target
   * may already be ahead of the resume point with its other sources' rows). A binlog record (a
   * transaction or DDL) is identified by its position alone: replayed in a later round, or at
   * another point of a snapshot phase, the transaction ending at P is in every state taken at P or
   * after. Snapshot reads compare in full (position, round, chunk progress).
   */
  private committedIn(t: SinkTable, offset: SourceOffset, source: string, snapshotRead: boolean): boolean {
    if (this.newlyAdded.has(source) && (t.committed?.round ?? 0) < (offset.round ?? 0)) return false;
    if (t.committed === null) return false;
    if (snapshotRead) return compareOffsets(offset, t.committed) <= 0;
    return comparePositions(offset, t.committed) <= 0;
  }

  /** Routes and designs targets for the known source schemas; opens (creating) new targets. */
  private async replan(startOffset: SourceOffset | null): Promise<void> {
    const config = this.config;
    this.routeCache = null;
    this.plan = planRoutes(config, [...this.schemas.values()].map(toInfo));
    this.sourcePlans = indexSourcePlans(this.plan);
    for (const w of this.plan.warnings) {
      const key = `${w.kind}|${w.target}|${w.message}`;
      if (!this.warnedKeys.has(key)) this.emit({ type: 'sync.warning', payload: { message: w.message } });
      this.warnedKeys.add(key);
    }
    const typesBySource = new Map<string, Map<string, string>>();
    const sourceTypes = new Map<string, Map<string, string>>();
    for (const sp of this.plan.tables) {
      const schema = this.schemas.get(`${sp.source.db}.${sp.source.table}`)!;
      const transform = sp.transformIndex === null ? null : this.transforms[sp.transformIndex]!;
      typesBySource.set(`${sp.source.db}.${sp.source.table}`, transformColumnTypes(schema, sp, transform));
      sourceTypes.set(`${sp.source.db}.${sp.source.table}`, passedSourceTypes(schema, transform));
    }
    // Skipped deletes or updates leave keys in the lake that the source has freed: inserts may meet them.
    const stale = this.skipped.has('d') || this.skipped.has('u');
    for (const tp of this.plan.targets) {
      const id = `${tp.target.db}.${tp.target.table}`;
      if (this.targets.has(id)) continue;
      const feeds = (s: SourceTablePlan) => s.targets.some((t) => t.target.db === tp.target.db && t.target.table === tp.target.table);
      const firstSource = this.plan.tables.find(feeds);
      const rule = firstSource?.transformIndex == null ? null : config.transforms[firstSource.transformIndex]!;
      const design = designTarget(config, tp, typesBySource, rule?.partitionKeys ?? null, rule?.tableOptions, sourceTypes);
      const collide = this.plan.warnings.some((w) => w.kind === 'key-collision' && w.target === id) || this.plan.tables.some((s) => s.transformIndex !== null && config.transforms[s.transformIndex]!.primaryKeys !== null && feeds(s));
      this.targets.set(id, await this.sink.openTarget(design, tp.shardColumns, collide || stale, startOffset));
      this.status.table(id);
    }
  }

  private targetsOf(db: string, table: string): Routed | null {
    const sp = this.sourcePlans.get(`${db}.${table}`);
    if (!sp) return null;
    return { sp, ts: sp.targets.map((t) => this.targets.get(`${t.target.db}.${t.target.table}`)!).filter(Boolean) };
  }

  /** The row a target buffers for a source row image (the buffer converts it to lake values), or null when filtered out. */
  private project(sp: SourceTablePlan, t: SinkTarget, row: Record<string, unknown> | null, e: ChangeEvent, kind: RowMeta['dataEventType']): Record<string, unknown> | null {
    if (row === null) return null;
    const transform = sp.transformIndex === null ? null : this.transforms[sp.transformIndex]!;
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

  private routeEvent(e: ChangeEvent, offset: SourceOffset, gtid: string | null): void {
    if (e.op !== 'r' && this.skipped.has(e.op)) return;
    if (this.routeCache?.table !== e.table) this.routeCache = { table: e.table, routed: this.targetsOf(e.table.db, e.table.table), sourceId: `${e.table.db}.${e.table.table}` };
    const { routed, sourceId } = this.routeCache;
    if (!routed) throw new TidemarkError('NotFound', `change for ${sourceId} at ${formatPosition(offset)}, which the pipeline has no schema for`, { table: sourceId });
    for (const t of routed.ts) {
      const inTarget = this.committedIn(t, offset, sourceId, e.op === 'r');
      if (t.changelog && !this.committedIn(t.changelog, offset, sourceId, e.op === 'r')) t.pendingChangelog.push({ event: e, offset, gtid, buffered: !inTarget });
      if (inTarget) continue;
      this.status.table(t.id).rowsIn++;
      this.bufferChange(routed.sp, t, e);
      t.newestOpTsMs = Math.max(t.newestOpTsMs ?? 0, e.opTsMs);
      if (t.buffer.pending >= SPILL_CHANGES) this.spill(t);
    }
  }

  /**
   * Hands a target's buffered changes to the sink as a part of its round: streamed (written into
   * data files at once) while the round allows it, else held for the round's commit. Anywhere in
   * the source, inside a transaction too: the round's commit publishes its parts atomically.
   */
  private spill(t: SinkTarget): void {
    this.sink.append(t.buffer.streaming ? t.buffer.takeStreamed() : t.buffer.take());
  }

  /**
   * A snapshot chunk's rows (`r` changes of `table` at `offset`; row objects or columns) put into
   * their targets' buffers a column at a time, when every target takes them as they are (no transform, no shard columns, no
   * changelog): the same changes, parts and streaming as routeEvent row by row, without an event
   * object a row. False (nothing done) otherwise: the caller routes the events.
   */
  private routeSnapshotRows(chunk: NonNullable<TransactionBatch['snapshotRows']> | SnapshotColumns, offset: SourceOffset, opTsMs: number): boolean {
    const table = chunk.table;
    if (this.routeCache?.table !== table) this.routeCache = { table, routed: this.targetsOf(table.db, table.table), sourceId: `${table.db}.${table.table}` };
    const { routed, sourceId } = this.routeCache;
    if (!routed || routed.sp.transformIndex !== null || routed.ts.some((t) => t.changelog !== null || t.shardColumns.length > 0)) return false;
    const count = 'rows' in chunk ? chunk.rows.length : chunk.count;
    for (const t of routed.ts) {
      if (this.committedIn(t, offset, sourceId, true)) continue;
      this.status.table(t.id).rowsIn += count;
      t.newestOpTsMs = Math.max(t.newestOpTsMs ?? 0, opTsMs);
      // In slices that end where routeEvent would hand a part over.
      for (let i = 0; i < count; ) {
        const n = Math.min(count - i, Math.max(1, SPILL_CHANGES - t.buffer.pending));
        if ('rows' in chunk) t.buffer.putRows(chunk.rows, i, i + n, t.insertsMayCollide, chunk.int64Numbers);
        else t.buffer.putColumns(chunk, i, i + n, t.insertsMayCollide);
        i += n;
        if (t.buffer.pending >= SPILL_CHANGES) this.spill(t);
      }
    }
    return true;
  }

  /** Puts one change into a target's buffer: inserts as puts, updates as a delete and a put, deletes as deletes. */
  private bufferChange(sp: SourceTablePlan, t: SinkTarget, e: ChangeEvent): void {
    if (e.op === 'c' || e.op === 'r') {
      const after = this.project(sp, t, e.after, e, '+I');
      if (after) t.buffer.put(after, t.insertsMayCollide);
    } else if (e.op === 'u') {
      const before = this.project(sp, t, e.before, e, '-U');
      const after = this.project(sp, t, e.after, e, '+U');
      if (before) t.buffer.delete(before);
      if (after) t.buffer.put(after, true);
    } else {
      const before = this.project(sp, t, e.before, e, '-D');
      if (before) t.buffer.delete(before);
    }
  }

  /** Waits for the round in flight; throws its failure. */
  private async settleRound(): Promise<void> {
    if (this.inflight) await this.inflight;
    this.inflight = null;
    if (this.roundFailure) throw this.roundFailure;
  }

  /** Ends the round at `lastOffset` (once the previous one is complete) and starts committing it. */
  private async startRound(): Promise<void> {
    await this.settleRound();
    this.lastRoundAt = this.now();
    const offset = this.lastOffset;
    if (offset === null || (this.sealedOffset !== null && compareOffsets(offset, this.sealedOffset) === 0)) return;
    this.sealedOffset = offset;
    const nowMs = this.now();
    const sealed = [...this.targets.values()].map((t) => sealTarget(t));
    const checkpoint = { path: checkpointFilePath(this.config), text: checkpointText({ pipeline: this.name, offset, committedAtMs: nowMs }) };
    const committing = this.sink.commitRound({ sealed, offset, checkpoint, nowMs });
    this.inflight = this.finishRound(offset, nowMs, sealed, committing, this.status.bufferedTransactions).catch(this.fail);
  }

  /** One commit round, to its end: commits everything buffered up to `lastOffset`. */
  private async commitRound(): Promise<void> {
    await this.startRound();
    await this.settleRound();
  }

  /** Completes a sealed round once the sink has committed it: metrics, events, offsets, status. */
  private async finishRound(offset: SourceOffset, nowMs: number, sealed: SealedTarget[], committing: Promise<SinkRoundResult>, transactions: number): Promise<void> {
    const { outcomes, notes } = await committing;
    sealed.forEach((s, i) => {
      const outcome = outcomes[i];
      if (!outcome) return;
      this.commits++;
      const stats = this.status.table(s.target.id);
      stats.commits++;
      stats.rowsCommitted += outcome.rows;
      stats.lastSnapshotId = outcome.snapshotId.toString();
      stats.lastCommitAtMs = nowMs;
      stats.lagMs = outcome.lagMs;
      this.emit({ type: 'sync.commit', payload: { table: s.target.id, snapshotId: outcome.snapshotId.toString(), rows: outcome.rows, lagMs: outcome.lagMs, position: formatPosition(offset) } });
    });
    for (const note of notes) this.emit({ type: 'sync.warning', payload: { message: note } });
    // Every table now holds everything up to `offset` (unchanged tables had nothing to add).
    for (const t of this.targets.values()) {
      t.committed = maxOffset(t.committed, offset);
      if (t.changelog) t.changelog.committed = maxOffset(t.changelog.committed, offset);
    }
    this.roundOffset = offset;
    this.status.committedPosition = formatPosition(offset);
    this.status.committedGtid = offset.gtidSet;
    this.status.bufferedTransactions -= transactions;
    // Not awaited (the round is complete without it); a failed write fails the run like a failed round.
    this.publish().catch(this.fail);
  }

  /** A DDL record: applied to the targets it routes to; on failure, what came before it is committed and the table says why. */
  private async onSchemaChange(ev: SchemaChangeEvent): Promise<void> {
    try {
      await this.applySchemaChange(ev);
    } catch (e) {
      // Commit what came before the offending DDL so a restart resumes exactly at it.
      const err = toTidemarkError(e);
      for (const t of this.targetsOf(ev.table.db, ev.table.table)?.ts ?? []) this.status.table(t.id).lastError = err.message;
      throw err;
    }
  }

  private async applySchemaChange(ev: SchemaChangeEvent): Promise<void> {
    const id = `${ev.table.db}.${ev.table.table}`;
    if (ev.schemaAfter) this.schemas.set(`${ev.schemaAfter.table.db}.${ev.schemaAfter.table.table}`, ev.schemaAfter);
    if (ev.changes.some((c) => c.kind === 'drop-table' || c.kind === 'rename-table')) this.schemas.delete(id);
    if (ev.changes.some((c) => c.kind === 'create-table')) {
      if (!this.config.source.binlogNewlyAddedTableEnabled && !this.config.sink.schemaChanges.includes('create.table')) return;
      // A table created now has no rows before this point: it starts at the last offset handed out.
      await this.replan(this.lastOffset);
      return;
    }
    const routed = this.targetsOf(ev.table.db, ev.table.table);
    if (!routed) return;
    // Rows buffered so far are in the old schema: commit them before the schema moves on.
    await this.commitRound();
    for (const t of routed.ts) await this.evolveTarget(t, routed, ev);
    await this.replan(this.lastOffset);
  }

  /** One target's part of a DDL: schema evolution, a TRUNCATE's deletes, upserts from then on where keys may return. */
  private async evolveTarget(t: SinkTarget, routed: Routed, ev: SchemaChangeEvent): Promise<void> {
    const config = this.config;
    const keyFromTransform = routed.sp.transformIndex !== null && config.transforms[routed.sp.transformIndex]!.primaryKeys !== null;
    const evo = planEvolution(this.behavior, config.sink.schemaChanges, ev, { ...t, keyFromTransform });
    if (!config.source.schemaChangeEnabled) evo.notes = evo.notes.map((n) => n.replace('(schema.change.behavior ignore)', '(source schema-change.enabled: false)'));
    if (evo.changes.length > 0) await this.sink.evolve(t, evo.changes);
    const truncated = ev.changes.some((c) => c.kind === 'truncate-table');
    const truncate = truncated && !this.skipped.has('t') && config.sink.schemaChanges.includes('truncate.table') && !['ignore', 'exception'].includes(this.behavior);
    if (truncate && !this.committedIn(t, ev.offset, `${ev.table.db}.${ev.table.table}`, false)) {
      const singleSource = this.plan.targets.find((x) => `${x.target.db}.${x.target.table}` === t.id)!.sources.length === 1;
      for (const key of await this.sink.truncateKeys(t, ev.table, singleSource)) t.buffer.delete(key);
    }
    // A TRUNCATE or DROP TABLE left unapplied keeps rows whose keys the source may insert again:
    // from here on inserts must replace them, not sit beside them.
    if ((truncated && !truncate) || ev.changes.some((c) => c.kind === 'drop-table')) await this.sink.markInsertsMayCollide(t);
    this.emit({ type: 'sync.schema-change', payload: { table: t.id, ddl: ev.ddl, notes: evo.notes, position: formatPosition(ev.offset) } });
  }
}
