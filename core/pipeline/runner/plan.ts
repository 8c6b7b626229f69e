import { createMySqlSource, describeOneChunk, formatPosition, resolveConfig, type MySqlSourceConfig } from '../../cdc';
import type { PipelineConfig, StartupOptions } from '../config/types';
import { planRoutes, type PlanWarning, type RoutePlan } from '../config/route';
import { checkpointFilePath } from './run';
import { readStoredOffsets } from '../sink';
import { childPath, hasMetadataFile } from '../../lake/write';
import { sinkRestClient, sinkRestSettings, sinkStorage } from '../sink/iceberg/storage';
import { listKnownTables, readCheckpoint, resolveResumePoint } from './offsets';
import { toSourceConfig } from './source';
import { appliedBehavior, describeBehavior } from '../sink/evolution';
import { designTarget, passedSourceTypes, type TargetDesign } from '../sink/schema';
import { hasPaimonSchema, paimonTableOptions, paimonTableRoot, paimonTypeOf } from '../sink/paimon';
import { compileTransform, transformColumnTypes } from '../transform';
import type { BucketPlan, PipelinePlan, TableCapture } from '../../api';
import type { MatchedTable } from '../../cdc';
export type { PipelinePlan, TableCapture };

export async function planPipeline(config: PipelineConfig, overrides: Partial<MySqlSourceConfig> = {}): Promise<PipelinePlan> {
  const sourceConfig = toSourceConfig(config, overrides);
  const source = createMySqlSource(sourceConfig);
  const schemas = await source.describeTables();
  const sizes = config.sink.type === 'paimon' ? await source.estimateTables() : [];
  const infos = schemas.map((s) => ({ db: s.table.db, table: s.table.table, primaryKeys: s.primaryKey, columns: s.columns.map((c) => c.name) }));
  const plan = planRoutes(config, infos);
  const stored = await readResumePoint(config, plan);
  const captures = new Map(plan.tables.map((t) => [`${t.source.db}.${t.source.table}`, planCapture(config, stored, `${t.source.db}.${t.source.table}`)]));
  // The runner drops a newly added table it does not capture before it routes: no target is
  // created or fed for it, and the warnings are those of the tables it does capture.
  const skipped = new Set([...captures].filter(([, c]) => c.state === 'newly-added' && c.handling === 'not-captured').map(([k]) => k));
  const captured = skipped.size === 0 ? plan : planRoutes(config, infos.filter((i) => !skipped.has(`${i.db}.${i.table}`)));
  const transforms = config.transforms.map((t) => compileTransform(t.projection, t.filter, config.pipeline));
  const typesBySource = new Map<string, Map<string, string>>();
  const sourceTypes = new Map<string, Map<string, string>>();
  for (const sp of plan.tables) {
    const id = `${sp.source.db}.${sp.source.table}`;
    const schema = schemas.find((s) => `${s.table.db}.${s.table.table}` === id)!;
    const transform = sp.transformIndex === null ? null : transforms[sp.transformIndex]!;
    typesBySource.set(id, transformColumnTypes(schema, sp, transform));
    sourceTypes.set(id, passedSourceTypes(schema, transform));
  }
  const paimon = config.sink.type === 'paimon';
  const bucketWarnings: PlanWarning[] = [];
  // Which targets hold a published table already (on the warehouse's storage: a folder or s3://).
  const storage = sinkStorage(config);
  const rest = sinkRestSettings(config);
  const client = rest ? sinkRestClient(rest) : null;
  // A REST catalog's table is shown as `<uri>#<namespace>.<table>`; a Paimon table is `<db>.db/<table>`.
  const targetPath = (db: string, table: string) => (rest ? `${rest.uri ?? ''}#${db}.${table}` : paimon ? paimonTableRoot(config.sink.warehouse, db, table) : childPath(config.sink.warehouse, db, table));
  const existing = new Set<string>();
  for (const tp of captured.targets) {
    const path = targetPath(tp.target.db, tp.target.table);
    const exists = paimon ? hasPaimonSchema(path) : client ? await client.tableExists([tp.target.db], tp.target.table) : await hasMetadataFile(storage, path);
    if (exists) existing.add(path);
  }
  return {
    pipeline: config.pipeline.name,
    sink: config.sink.type,
    source: `${config.source.type} ${config.source.hostname}:${config.source.port}`,
    resumeFrom: !stored.fresh && stored.resume ? formatPosition(stored.resume) : null,
    sourceTables: plan.tables.map((t) => ({
      table: `${t.source.db}.${t.source.table}`,
      primaryKey: schemas.find((s) => s.table.db === t.source.db && s.table.table === t.source.table)?.primaryKey ?? [],
      targets: t.targets.map((x) => `${x.target.db}.${x.target.table}`),
      transform: t.transformIndex,
      capture: captures.get(`${t.source.db}.${t.source.table}`)!,
    })),
    targets: captured.targets.map((tp) => {
      const firstSource = captured.tables.find((s) => s.targets.some((t) => t.target.db === tp.target.db && t.target.table === tp.target.table));
      const rule = firstSource?.transformIndex == null ? null : config.transforms[firstSource.transformIndex]!;
      const design = designTarget(config, tp, typesBySource, rule?.partitionKeys ?? null, rule?.tableOptions, sourceTypes);
      const path = targetPath(tp.target.db, tp.target.table);
      const sourceIds = tp.sources.map((s) => `${s.db}.${s.table}`);
      const buckets = paimon ? planBuckets(config, design, sizes.filter((z) => sourceIds.includes(`${z.id.db}.${z.id.table}`))) : null;
      if (buckets) bucketWarnings.push(...bucketSizeWarnings(design.id, buckets));
      return {
        table: design.id,
        path,
        exists: existing.has(path),
        sources: sourceIds,
        key: design.key,
        columns: paimon ? design.columns.map((c) => ({ ...c, type: paimonTypeOf({ ...c, required: false }, design.id) })) : design.columns,
        partitionBy: design.partitionBy,
        changelog: config.pipeline.tidemark.changelogEnabled ? `${design.id}__changelog` : null,
        buckets,
      };
    }),
    notCaptured: plan.notCaptured,
    excluded: plan.excluded,
    warnings: [...captured.warnings, ...oneChunkWarnings(sourceConfig, schemas, captured), ...bucketWarnings],
    schemaChangeBehavior: config.source.schemaChangeEnabled ? config.pipeline.schemaChangeBehavior : 'ignore (source schema-change.enabled: false)',
    schemaChanges: describeBehavior(appliedBehavior(config), config.sink.schemaChanges),
    commitIntervalMs: config.pipeline.checkpointIntervalMs,
  };
}

/**
 * A Paimon target's bucket layout and the source rows it will hold (INFORMATION_SCHEMA estimates:
 * TABLE_ROWS and DATA_LENGTH of its sources, summed).
 */
function planBuckets(config: PipelineConfig, design: TargetDesign, sources: MatchedTable[]): BucketPlan {
  const options = paimonTableOptions(config, design);
  const partition = new Set(design.partitionBy.map((p) => p.column));
  const key = options['bucket-key'] ? options['bucket-key'].split(',').map((k) => k.trim()) : design.key.filter((k) => !partition.has(k));
  const rowsEstimated = sources.reduce((n, s) => n + s.rowsEstimated, 0);
  const bytesEstimated = sources.reduce((n, s) => n + s.bytesEstimated, 0);
  const bucket = Number(options.bucket ?? -1);
  // Dynamic bucket (Paimon's default): buckets fill up to dynamic-bucket.target-row-num keys each (per partition).
  const targetRowNum = Number(options['dynamic-bucket.target-row-num'] ?? 2_000_000);
  const dynamic = bucket === -1 ? { targetRowNum } : null;
  const count = dynamic ? Math.max(1, Math.ceil(rowsEstimated / targetRowNum)) : Math.max(1, bucket);
  return { count, dynamic, key, rowsEstimated, bytesEstimated, rowsPerBucket: Math.ceil(rowsEstimated / count), bytesPerBucket: Math.ceil(bytesEstimated / count) };
}

/** Paimon's guidance: a bucket of about 200 MB – 1 GB; many nearly empty buckets make small files, one huge bucket a slow writer and compaction. */
const BUCKET_MIN_BYTES = 16 * 1024 * 1024;
const BUCKET_MAX_BYTES = 2 * 1024 * 1024 * 1024;

function bucketSizeWarnings(table: string, b: BucketPlan): PlanWarning[] {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MiB`;
  const suggest = Math.max(1, Math.ceil(b.bytesEstimated / (512 * 1024 * 1024)));
  if (b.dynamic) {
    // Rows of ~512 MiB at the sources' average row size: the target-row-num that makes such buckets.
    const rowsPer512 = b.bytesEstimated > 0 ? Math.max(1, Math.round((512 * 1024 * 1024 * b.rowsEstimated) / b.bytesEstimated)) : b.dynamic.targetRowNum;
    if (b.count > 1 && b.bytesPerBucket < BUCKET_MIN_BYTES) {
      return [{ kind: 'bucket-size', target: table, message: `${table}: dynamic bucket with dynamic-bucket.target-row-num ${b.dynamic.targetRowNum} makes ${b.count} buckets for ~${b.rowsEstimated} rows (${mib(b.bytesEstimated)}): ~${mib(b.bytesPerBucket)} a bucket makes small files; dynamic-bucket.target-row-num: ${rowsPer512} would do (Paimon suggests 200 MB – 1 GB a bucket)` }];
    }
    if (b.bytesPerBucket > BUCKET_MAX_BYTES) {
      return [{ kind: 'bucket-size', target: table, message: `${table}: dynamic bucket with dynamic-bucket.target-row-num ${b.dynamic.targetRowNum} puts ~${b.rowsPerBucket} rows (${mib(b.bytesPerBucket)}) in a bucket: writes and compaction of a bucket are serial; dynamic-bucket.target-row-num: ${rowsPer512} keeps them near 512 MiB` }];
    }
    return [];
  }
  if (b.count > 1 && b.bytesPerBucket < BUCKET_MIN_BYTES) {
    return [{ kind: 'bucket-size', target: table, message: `${table}: ${b.count} buckets for ~${b.rowsEstimated} rows (${mib(b.bytesEstimated)}): ~${b.rowsPerBucket} rows (${mib(b.bytesPerBucket)}) a bucket makes small files; bucket: ${suggest} would do (Paimon suggests 200 MB – 1 GB a bucket)` }];
  }
  if (b.bytesPerBucket > BUCKET_MAX_BYTES) {
    return [{ kind: 'bucket-size', target: table, message: `${table}: ~${b.rowsPerBucket} rows (${mib(b.bytesPerBucket)}) in each of ${b.count} buckets: writes and compaction of a bucket are serial; bucket: ${suggest} keeps them near 512 MiB` }];
  }
  return [];
}

/** Tables whose snapshot would be read as one chunk (chunk-plan.ts says why). */
function oneChunkWarnings(sourceConfig: MySqlSourceConfig, schemas: Awaited<ReturnType<ReturnType<typeof createMySqlSource>['describeTables']>>, plan: RoutePlan): PlanWarning[] {
  const resolved = resolveConfig(sourceConfig);
  const captured = new Set(plan.tables.map((t) => `${t.source.db}.${t.source.table}`));
  return schemas
    .filter((s) => captured.has(`${s.table.db}.${s.table.table}`))
    .flatMap((s) => {
      const why = describeOneChunk(s, resolved);
      return why === null ? [] : [{ kind: 'one-chunk' as const, message: why, target: null }];
    });
}

type StoredState = ReturnType<typeof resolveResumePoint>;

/**
 * The resume point the runner would take, read (never written) from the same places: the offset
 * of every existing target and changelog table of the routes, and the pipeline checkpoint file.
 */
async function readResumePoint(config: PipelineConfig, plan: RoutePlan): Promise<StoredState> {
  const existing = await readStoredOffsets(config, plan);
  const checkpoint = await readCheckpoint(checkpointFilePath(config));
  return resolveResumePoint(existing.map((e) => e.offset), checkpoint?.offset ?? null);
}

/** What the next sync does with source table `table` (`db.table`), given what is stored. */
function planCapture(config: PipelineConfig, stored: StoredState, table: string): TableCapture {
  if (stored.fresh) return { state: 'initial', action: describeStartup(config.source.startup) };
  const resume = stored.resume;
  if (resume === null) {
    return { state: 'captured', action: `streamed again from scan.startup.mode ${config.source.startup.mode}; what the lake has is skipped` };
  }
  const known = listKnownTables(resume);
  if (known && !known.has(table)) {
    const at = formatPosition(resume);
    // Both options set: the runner snapshots (scan.newly-added-table.enabled wins).
    if (config.source.newlyAddedTableEnabled) {
      return { state: 'newly-added', handling: 'snapshot', action: 'snapshotted, then streamed (scan.newly-added-table.enabled)' };
    }
    if (config.source.binlogNewlyAddedTableEnabled) {
      return { state: 'newly-added', handling: 'binlog', action: `streamed from ${at} only, changes before it are not read (scan.binlog.newly-added-table.enabled); set scan.newly-added-table.enabled: true to snapshot it` };
    }
    return { state: 'newly-added', handling: 'not-captured', action: 'not captured; set scan.newly-added-table.enabled: true to snapshot and stream it' };
  }
  const snapshot = resume.snapshot;
  const index = snapshot ? snapshot.tables.findIndex((t) => `${t.db}.${t.table}` === table) : -1;
  if (snapshot && index >= snapshot.tableIndex) {
    if (index > snapshot.tableIndex) return { state: 'snapshotting', action: 'snapshot not started yet, then streamed' };
    return { state: 'snapshotting', action: `snapshot resumes ${snapshot.lastKey === null ? 'at its first chunk' : `after key ${snapshot.lastKey}`}, then streamed` };
  }
  return { state: 'captured', action: index >= 0 ? 'snapshot done; streamed on' : 'streamed on' };
}

/** What a first sync does with every table under scan.startup.mode. */
function describeStartup(s: StartupOptions): string {
  switch (s.mode) {
    case 'initial':
      return 'initial snapshot, then streamed';
    case 'snapshot':
      return 'initial snapshot only (scan.startup.mode snapshot)';
    case 'latest-offset':
      return 'streamed from the binlog end, no snapshot (scan.startup.mode latest-offset)';
    case 'earliest-offset':
      return 'streamed from the earliest binlog, no snapshot (scan.startup.mode earliest-offset)';
    case 'specific-offset':
      return `streamed from ${s.gtidSet !== null ? `GTID set ${s.gtidSet}` : `${s.file}:${s.pos ?? 4}`}, no snapshot (scan.startup.mode specific-offset)`;
    case 'timestamp':
      return `streamed from ${new Date(s.timestampMillis).toISOString()}, no snapshot (scan.startup.mode timestamp)`;
  }
}

/** The label of a capture state in the text form. */
const CAPTURE_LABEL: Record<TableCapture['state'], string> = { initial: 'first sync', captured: 'captured', snapshotting: 'snapshot in progress', 'newly-added': 'newly added' };

/** Human-readable form of a plan, one fact per line. */
export function formatPlan(p: PipelinePlan): string {
  const lines = [`pipeline ${JSON.stringify(p.pipeline)}: ${p.source} → ${p.sink}, commit every ${p.commitIntervalMs / 1000}s`, '', p.resumeFrom ? `source tables (the next sync resumes at ${p.resumeFrom}):` : 'source tables:'];
  for (const t of p.sourceTables) {
    lines.push(`  ${t.table} (key ${t.primaryKey.join(', ') || 'none'}) → ${t.targets.join(', ')}${t.transform !== null ? ` via transform[${t.transform}]` : ''}`);
    lines.push(`    ${CAPTURE_LABEL[t.capture.state]}: ${t.capture.action}`);
  }
  if (p.excluded.length) lines.push(`  excluded: ${p.excluded.join(', ')}`);
  lines.push('', 'target tables:');
  for (const t of p.targets) {
    lines.push(`  ${t.table} ${t.exists ? '(exists)' : '(will be created)'} at ${t.path}`);
    lines.push(`    from ${t.sources.join(', ')}; key (${t.key.join(', ')})${t.partitionBy.length ? `; partitioned by ${t.partitionBy.map((x) => `${x.transform}(${x.column})`).join(', ')}` : ''}`);
    lines.push(`    columns: ${t.columns.map((c) => `${c.name} ${c.type}${c.required ? ' required' : ''}`).join(', ')}`);
    if (t.changelog) lines.push(`    changelog: ${t.changelog}`);
    if (t.buckets) {
      const b = t.buckets;
      const count = b.dynamic ? `dynamic (a new bucket every ${b.dynamic.targetRowNum} keys: ~${b.count})` : String(b.count);
      lines.push(`    buckets: ${count} by (${b.key.join(', ')}); ~${b.rowsEstimated} rows, ~${b.rowsPerBucket} rows (${(b.bytesPerBucket / 1024 / 1024).toFixed(1)} MiB) a bucket`);
    }
  }
  if (p.warnings.length) {
    lines.push('', 'warnings:');
    for (const w of p.warnings) lines.push(`  ${w.kind}: ${w.message}`);
  }
  lines.push('', `schema changes (schema.change.behavior ${p.schemaChangeBehavior}):`);
  for (const [k, v] of Object.entries(p.schemaChanges)) lines.push(`  ${k}: ${v}`);
  return lines.join('\n');
}
