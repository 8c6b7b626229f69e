import type { SourceOffset } from '../../../cdc';
import { TidemarkError } from '../../../errors';
import { scanPaimonRows } from '../../../lake/paimon';
import { evolvePaimonSchema, type PaimonSchemaChange } from '../../../lake/paimon/write';
import type { SchemaChange as LakeChange, WriteEnv } from '../../../lake/write';
import { createLocalStorage } from '../../../storage/node/index';
import type { PipelineConfig } from '../../config/types';
import type { RoutePlan } from '../../config/route';
import { offsetSummary } from '../../runner/offsets';
import type { CommitOutcome, SinkPort, SinkRound, SinkRoundResult, StoredOffset } from '../port';
import type { SinkThread } from '../../thread/sink-thread';
import { createPaimonCommitter } from './committer';
import { readPaimonOffset } from './offsets';
import { rollbackPaimonTarget } from './rollback';
import { fromIceberg, hasPaimonSchema, openPaimonTarget, paimonTableRoot, refreshSchema, type PaimonTargetState } from './table';

export { hasPaimonSchema, paimonTableOptions, paimonTableRoot, type PaimonTargetState } from './table';
export { paimonTypeOf } from './types';
export { toPaimonChanges } from './changes';
export { WRITE_BUFFER_CHANGES } from './writer';
export { servePaimonWorker } from './committer';

const storage = createLocalStorage();

/**
 * The Paimon sink: targets are primary-key tables of a Paimon filesystem catalog under
 * `catalog.properties.warehouse` (`<db>.db/<table>`). Each round commits one APPEND snapshot per
 * changed table, Paimon's way of exactly once: the snapshot names the sink's `commit.user` and
 * the next commit identifier, and holds the source offset in its `properties`; after a crash the
 * sync reads that offset back (storedOffsets) and neither loses nor repeats a round. Changes go
 * in source order: Paimon merges them by key (the last one wins) in level-0 files per bucket.
 * The writing runs in-thread or in the sink worker (committer.ts, writer.ts); after each commit, as Java's
 * writer does unless `write-only`: compaction where due, in the background as its own COMPACT
 * snapshot, and snapshot expiry by the table's `snapshot.*` options.
 */
export function createPaimonSink(config: PipelineConfig, env: WriteEnv, thread?: SinkThread): SinkPort<PaimonTargetState> {
  const name = config.pipeline.name;
  const user = config.sink.paimon!.commitUser;
  const roots = new Map<string, string>();
  // Started first: the worker loads its modules while the runner takes its lock and connects.
  const committer = createPaimonCommitter(env, thread);

  async function commitRound(round: SinkRound<PaimonTargetState>): Promise<SinkRoundResult> {
    const summary = offsetSummary(name, round.offset);
    const jobs = round.sealed.filter((s) => s.changes !== null).map((s) => {
      const t = s.target;
      const maintain = t.schema.options['write-only'] !== 'true';
      return { table: t.id, root: t.root, last: s.changes!, commitUser: user, identifier: t.commitIdentifier + 1n, properties: summary, expire: maintain, compact: maintain };
    });
    const done = await committer.commit({ commits: jobs, checkpoint: round.checkpoint });
    const outcomes: (CommitOutcome | null)[] = [];
    const notes: string[] = [];
    let next = 0;
    for (const s of round.sealed) {
      if (!s.changes) {
        outcomes.push(null);
        continue;
      }
      const t = s.target;
      const d = done[next]!;
      t.commitIdentifier = jobs[next++]!.identifier;
      t.committed = round.offset;
      outcomes.push({ table: t.id, snapshotId: d.snapshotId, rows: d.rows, lagMs: s.newestOpTsMs === null ? null : Math.max(0, round.nowMs - s.newestOpTsMs) });
      notes.push(...d.notes);
    }
    return { outcomes, notes };
  }

  return {
    storedOffsets: (plan) => paimonStoredOffsets(config, plan),
    rollback: (location: string, offset: SourceOffset) => rollbackPaimonTarget(location, name, offset),
    openTarget: async (design, shardColumns, insertsMayCollide, startOffset) => {
      const t = await openPaimonTarget(config, design, shardColumns, insertsMayCollide, startOffset, env);
      roots.set(t.id, t.root);
      return t;
    },
    append: (part) => committer.append(part, roots.get(part.table)!),
    // While the writer is behind (a write-buffer flush runs) the reader waits.
    backlog: () => committer.backlog(),
    commitRound,
    evolve: async (t, changes) => {
      // A compaction written under the old schema is committed first.
      await committer.settle();
      await evolvePaimonTarget(t, changes, env);
    },
    truncateKeys: (t, source, singleSource) => truncateKeys(t, source, singleSource),
    // Paimon merges every write by key: an insert meeting a live row replaces it already.
    markInsertsMayCollide: async (t) => {
      t.insertsMayCollide = true;
    },
    close: () => committer.close(),
  };
}

/**
 * The runner's schema changes (Iceberg-shaped: sink/evolution.ts) as Paimon schema changes: a new
 * schema file. `make-optional` changes nothing (non-key columns are nullable already); `move`
 * changes nothing either (Flink CDC does not reorder existing Paimon columns).
 */
async function evolvePaimonTarget(t: PaimonTargetState, changes: LakeChange[], env: WriteEnv): Promise<void> {
  const out: PaimonSchemaChange[] = [];
  for (const c of changes) {
    if (c.op === 'add') out.push({ op: 'addColumn', name: c.name, type: fromIceberg(c.type, `${t.id}.${c.name}`), ...(c.doc ? { comment: c.doc } : {}) });
    else if (c.op === 'rename') out.push({ op: 'renameColumn', from: c.name, to: c.newName });
    else if (c.op === 'drop') out.push({ op: 'dropColumn', name: c.name });
    else if (c.op === 'widen') out.push({ op: 'updateColumnType', name: c.name, type: fromIceberg(c.type, `${t.id}.${c.name}`) });
  }
  if (out.length === 0) return;
  await evolvePaimonSchema(t.root, out, env);
  await refreshSchema(t);
}

/** TRUNCATE of one source table: the keys of the target rows that came from it (told apart by shard columns where several sources merge). */
async function truncateKeys(t: PaimonTargetState, source: { db: string; table: string }, singleSource: boolean): Promise<Record<string, unknown>[]> {
  if (!singleSource && t.shardColumns.length === 0) {
    throw new TidemarkError('Unsupported', `${t.id} merges several source tables without shard columns: TRUNCATE of ${source.db}.${source.table} cannot tell its rows apart (add tidemark.key.shard-columns)`, { table: t.id });
  }
  const { rows } = await scanPaimonRows(storage, t.root, { columns: [...new Set([...t.key, ...t.shardColumns])] });
  return rows
    .filter((r) => (!t.shardColumns.includes('__table_name__') || r.__table_name__ === source.table) && (!t.shardColumns.includes('__schema_name__') || r.__schema_name__ === source.db))
    .map((r) => Object.fromEntries(t.key.map((k) => [k, r[k] ?? null])));
}

/** This pipeline's offsets in the Paimon targets of `plan` that exist. */
export async function paimonStoredOffsets(config: PipelineConfig, plan: RoutePlan): Promise<StoredOffset[]> {
  const out: StoredOffset[] = [];
  for (const tp of plan.targets) {
    const root = paimonTableRoot(config.sink.warehouse, tp.target.db, tp.target.table);
    if (!hasPaimonSchema(root)) continue;
    out.push({ location: root, offset: (await readPaimonOffset(storage, root, config.pipeline.name)).offset });
  }
  return out;
}
