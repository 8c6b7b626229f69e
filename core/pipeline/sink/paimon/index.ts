import type { SourceOffset } from '../../../cdc';
import { TidemarkError, toTidemarkError } from '../../../errors';
import { scanPaimonRows } from '../../../lake/paimon';
import { commitPaimonChanges, evolvePaimonSchema, expirePaimonSnapshots, preparePaimonChanges, type PaimonChange, type PaimonSchemaChange, type PreparedPaimonFiles } from '../../../lake/paimon/write';
import type { SchemaChange as LakeChange, WriteEnv } from '../../../lake/write';
import { createLocalStorage } from '../../../storage/node/index';
import type { PipelineConfig } from '../../config/types';
import type { RoutePlan } from '../../config/route';
import { writeFileAtomic } from '../../runner/file-atomic';
import { offsetSummary } from '../../runner/offsets';
import { concatChanges, OP_DELETE, OP_UPSERT, toLakeValues, type SealedChanges } from '../buffer';
import type { CommitOutcome, SinkPort, SinkRound, SinkRoundResult, StoredOffset } from '../port';
import { readPaimonOffset } from './offsets';
import { rollbackPaimonTarget } from './rollback';
import { fromIceberg, hasPaimonSchema, openPaimonTarget, paimonTableRoot, refreshSchema, type PaimonTargetState } from './table';

/**
 * Changes of a table held before they are written into level-0 files ahead of the round's commit
 * (Java's `write-buffer-size`, 256 MB, flushes a sorted run the same way): memory follows this,
 * not the round or the table.
 */
export const WRITE_BUFFER_CHANGES = 65_536;

export { hasPaimonSchema, paimonTableOptions, paimonTableRoot, type PaimonTargetState } from './table';
export { paimonTypeOf } from './types';

const storage = createLocalStorage();

/**
 * The Paimon sink: targets are primary-key tables of a Paimon filesystem catalog under
 * `catalog.properties.warehouse` (`<db>.db/<table>`). Each round commits one APPEND snapshot per
 * changed table, Paimon's way of exactly once: the snapshot names the sink's `commit.user` and
 * the next commit identifier, and holds the source offset in its `properties`; after a crash the
 * sync reads that offset back (storedOffsets) and neither loses nor repeats a round. Changes go
 * in source order: Paimon merges them by key (the last one wins) in level-0 files per bucket.
 * After each commit, as Java's writer does unless `write-only`: compaction where due (in
 * commitPaimonChanges) and snapshot expiry by the table's `snapshot.*` options.
 */
export function createPaimonSink(config: PipelineConfig, env: WriteEnv): SinkPort<PaimonTargetState> {
  const name = config.pipeline.name;
  const user = config.sink.paimon!.commitUser;
  /** Parts of the current round handed over ahead of its commit and not yet flushed, by table. */
  const held = new Map<string, { parts: SealedChanges[]; changes: number }>();
  /** Level-0 files of the current round flushed ahead of its commit (a full write buffer), by table, and their change count. */
  const prepared = new Map<string, { files: PreparedPaimonFiles; changes: number }>();
  /** The write-buffer flush in flight (one at a time, in order); its failure fails the round. */
  let flushing: Promise<void> | null = null;
  let flushFailure: unknown = null;
  const roots = new Map<string, string>();

  /** Writes a table's held parts into level-0 files now (Java's writer flushes a full write buffer the same way). */
  async function flush(table: string): Promise<void> {
    const h = held.get(table);
    const root = roots.get(table);
    if (!h || h.parts.length === 0 || root === undefined) return;
    held.delete(table);
    const changes = h.parts.length > 1 ? concatChanges(h.parts) : h.parts[0]!;
    const before = prepared.get(table);
    const files = await preparePaimonChanges(root, toPaimonChanges(changes), before?.files ?? null, env);
    prepared.set(table, { files, changes: (before?.changes ?? 0) + changes.count });
  }

  function startFlush(table: string): void {
    // One flush at a time, in order; a failure is kept for the round's commit.
    const run = (flushing ?? Promise.resolve()).then(() => flush(table)).catch((e: unknown) => {
      flushFailure ??= e;
    });
    const tracked: Promise<void> = run.then(() => {
      if (flushing === tracked) flushing = null;
    });
    flushing = tracked;
  }

  async function settleFlushes(): Promise<void> {
    while (flushing) await flushing;
    if (flushFailure) {
      const e = flushFailure;
      flushFailure = null;
      throw e;
    }
  }

  async function commitTarget(t: PaimonTargetState, last: SealedChanges, summary: Record<string, string>): Promise<{ snapshotId: bigint; rows: number; notes: string[] }> {
    const parts = held.get(last.table)?.parts ?? [];
    held.delete(last.table);
    const changes = parts.length > 0 ? concatChanges([...parts, last]) : last;
    const early = prepared.get(last.table) ?? null;
    prepared.delete(last.table);
    const identifier = t.commitIdentifier + 1n;
    try {
      const result = await commitPaimonChanges(t.root, toPaimonChanges(changes), { commitUser: user, commitIdentifier: identifier, properties: summary, allowEmpty: true, prepared: early?.files ?? null, env });
      t.commitIdentifier = identifier;
      const notes = result!.compaction ? [`compacted ${t.id} (snapshot ${result!.compaction.snapshotId})`] : [];
      return { snapshotId: result!.snapshotId, rows: changes.count + (early?.changes ?? 0), notes };
    } catch (e) {
      const err = toTidemarkError(e);
      throw 'table' in err.context ? err : new TidemarkError(err.code, err.message, { ...err.context, table: t.id }, err);
    }
  }

  async function commitRound(round: SinkRound<PaimonTargetState>): Promise<SinkRoundResult> {
    await settleFlushes();
    const summary = offsetSummary(name, round.offset);
    const outcomes: (CommitOutcome | null)[] = [];
    const notes: string[] = [];
    for (const s of round.sealed) {
      if (!s.changes) {
        outcomes.push(null);
        continue;
      }
      const t = s.target;
      const done = await commitTarget(t, s.changes, summary);
      t.committed = round.offset;
      outcomes.push({ table: t.id, snapshotId: done.snapshotId, rows: done.rows, lagMs: s.newestOpTsMs === null ? null : Math.max(0, round.nowMs - s.newestOpTsMs) });
      notes.push(...done.notes, ...(await maintainPaimonTarget(t, env)));
    }
    await writeFileAtomic(round.checkpoint.path, round.checkpoint.text);
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
    append: (part) => {
      let h = held.get(part.table);
      if (!h) held.set(part.table, (h = { parts: [], changes: 0 }));
      h.parts.push(part);
      h.changes += part.count;
      if (h.changes >= WRITE_BUFFER_CHANGES) startFlush(part.table);
    },
    // While a flush runs the reader waits: held changes stay within about two write buffers.
    backlog: () => flushing,
    commitRound,
    evolve: (t, changes) => evolvePaimonTarget(t, changes, env),
    truncateKeys: (t, source, singleSource) => truncateKeys(t, source, singleSource),
    // Paimon merges every write by key: an insert meeting a live row replaces it already.
    markInsertsMayCollide: async (t) => {
      t.insertsMayCollide = true;
    },
    close: async () => {
      await settleFlushes().catch(() => undefined);
    },
  };
}

/**
 * A round's changes as Paimon row changes, in source order, as Flink CDC's Paimon sink writes
 * them: inserts +I, an update -U (before image) then +U (after image) — -D then +U when it changes
 * the key —, a delete -D (before image), a colliding insert +U. The runner buffers an update as a delete and an upsert next to each other.
 */
export function toPaimonChanges(s: SealedChanges): PaimonChange[] {
  toLakeValues(s);
  const columns = s.values as unknown[][];
  const keyIdx = s.key.map((k) => s.columns.indexOf(k));
  const out: PaimonChange[] = new Array(s.count);
  for (let i = 0; i < s.count; i++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < s.columns.length; c++) row[s.columns[c]!] = columns[c]![i] ?? null;
    const op = s.ops[i];
    out[i] = { kind: op === OP_DELETE ? (s.ops[i + 1] === OP_UPSERT && sameKey(columns, keyIdx, i, i + 1) ? '-U' : '-D') : op === OP_UPSERT ? '+U' : '+I', row };
  }
  return out;
}

/** Whether changes `a` and `b` have the same key values (lake values: bytes compared by content). */
function sameKey(columns: unknown[][], keyIdx: number[], a: number, b: number): boolean {
  return keyIdx.every((c) => {
    const x = columns[c]![a];
    const y = columns[c]![b];
    if (x instanceof Uint8Array && y instanceof Uint8Array) return x.length === y.length && x.every((v, i) => v === y[i]);
    return x === y;
  });
}

/** Snapshot expiry after a commit, by the table's `snapshot.num-retained.*` / `snapshot.time-retained` (Java's defaults: at least 10, 1 h); none with `write-only`. */
export async function maintainPaimonTarget(t: PaimonTargetState, env: WriteEnv): Promise<string[]> {
  if (t.schema.options['write-only'] === 'true') return [];
  const r = await expirePaimonSnapshots(t.root, { env });
  return r.expiredSnapshotIds.length > 0 ? [`expired ${r.expiredSnapshotIds.length} snapshots of ${t.id}`] : [];
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
