import type { SourceOffset } from '../../../cdc';
import { loadTable } from '../../../lake';
import { childPath, writeStorage, type WriteEnv } from '../../../lake/write';
import type { WritableStorage } from '../../../storage';
import type { PipelineConfig } from '../../config/types';
import type { RoutePlan } from '../../config/route';
import { writeFileAtomic } from '../../runner/file-atomic';
import { offsetSummary, readTableOffset } from '../../runner/offsets';
import { createSinkCommitter, type SinkThread } from '../../thread/sink-thread';
import type { CommitOutcome, SinkPort, SinkRound, SinkRoundResult, StoredOffset } from '../port';
import { catalogTableRoot } from '../../../catalog';
import { CHANGELOG_SUFFIX } from '../changelog';
import { catalogStorage, sinkCatalog, sinkRestClient, sinkRestSettings, sinkS3Config, sinkStorage, withStorage } from './storage';
import { changelogRoot, evolveTarget, hasPublishedVersion, finishTarget, maintainTarget, maintenanceEnabled, markInsertsMayCollide, openTarget, rollbackTable, truncateKeys, type TargetState } from './writer';

/**
 * The Iceberg sink: targets are Iceberg v2 tables under `catalog.properties.warehouse`
 * (`<db>/<table>`), each round's changes one snapshot per changed table with the source offset in
 * its summary; the encoding runs in the sink worker (thread/sink-thread.ts).
 */
export function createIcebergSink(config: PipelineConfig, injectedEnv: WriteEnv, thread?: SinkThread): SinkPort<TargetState> {
  const name = config.pipeline.name;
  // An s3:// warehouse: one storage for this thread (its conditional-PUT probe made once); the
  // sink worker builds its own from the same settings.
  const s3 = sinkS3Config(config);
  const rest = sinkRestSettings(config);
  const catalog = sinkCatalog(rest, s3);
  const storage = catalogStorage(s3 ? sinkStorage(config) : null, catalog);
  const env = withStorage(injectedEnv, storage, catalog);
  // Started first: the worker loads its modules while the runner takes its lock and connects.
  const committer = createSinkCommitter(injectedEnv, thread, s3 || rest ? { storage, catalog, s3, rest } : null);
  async function commitRound(round: SinkRound<TargetState>): Promise<SinkRoundResult> {
    const { sealed, offset, nowMs } = round;
    const summary = offsetSummary(name, offset);
    // The checkpoint comes after everything of the round: with changelog rows or maintenance to do
    // here, it is written here after them; else the sink worker writes it after the commits, and
    // the round needs the runner's event loop only for the one reply (a busy binlog reader delays
    // every turn of it).
    const mainWork = maintenanceEnabled(config) || sealed.some((s) => s.target.changelog !== null && s.changelog.length > 0);
    const results = await committer.commit({
      commits: sealed.filter((s) => s.changes !== null).map((s) => ({ root: s.target.root, changes: s.changes!, summary })),
      checkpoint: mainWork ? null : round.checkpoint,
    });
    const outcomes: (CommitOutcome | null)[] = [];
    const notes: string[] = [];
    let next = 0;
    for (const s of sealed) {
      outcomes.push(await finishTarget(s, s.changes ? results[next++]! : null, name, offset, nowMs, env));
      notes.push(...(await maintainTarget(s.target, config, name, nowMs, env)));
    }
    if (mainWork) await writeFileAtomic(round.checkpoint.path, round.checkpoint.text);
    return { outcomes, notes };
  }

  return {
    storedOffsets: (plan) => icebergStoredOffsets(config, plan, writeStorage(env)),
    rollback: (location: string, offset: SourceOffset) => rollbackTable(location, name, offset, env),
    openTarget: async (design, shardColumns, insertsMayCollide, startOffset) => (await openTarget(config, design, shardColumns, insertsMayCollide, startOffset, env)).target,
    append: (part) => committer.append(part),
    backlog: () => committer.backlog(),
    commitRound,
    evolve: (t, changes) => evolveTarget(t, changes, env),
    truncateKeys: (t, source, singleSource) => truncateKeys(t, source, singleSource, env),
    markInsertsMayCollide: (t) => markInsertsMayCollide(t, env),
    close: () => committer.close(),
  };
}

/**
 * This pipeline's offsets in the Iceberg target (and changelog) tables of `plan` that exist: each
 * table's last commit by the pipeline, or its start offset when it has none.
 */
export async function icebergStoredOffsets(config: PipelineConfig, plan: RoutePlan, storage: WritableStorage = sinkStorage(config)): Promise<StoredOffset[]> {
  const out: StoredOffset[] = [];
  const rest = sinkRestSettings(config);
  if (rest) {
    // A REST catalog: the tables it has, located where it says.
    const client = sinkRestClient(rest);
    for (const tp of plan.targets) {
      const names = [tp.target.table, ...(config.pipeline.tidemark.changelogEnabled ? [`${tp.target.table}${CHANGELOG_SUFFIX}`] : [])];
      for (const name of names) {
        if (!(await client.tableExists([tp.target.db], name))) continue;
        const { metadata } = await client.loadTable([tp.target.db], name);
        out.push({ location: catalogTableRoot(metadata.location), offset: readTableOffset(metadata, config.pipeline.name) });
      }
    }
    return out;
  }
  for (const tp of plan.targets) {
    const roots = [childPath(config.sink.warehouse, tp.target.db, tp.target.table)];
    if (config.pipeline.tidemark.changelogEnabled) roots.push(changelogRoot(config.sink.warehouse, tp.target.db, tp.target.table));
    for (const root of roots) {
      if (!(await hasPublishedVersion(root, storage))) continue;
      out.push({ location: root, offset: readTableOffset((await loadTable(storage, root)).metadata, config.pipeline.name) });
    }
  }
  return out;
}
