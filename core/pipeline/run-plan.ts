import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createMySqlSource, type MySqlSourceConfig } from '../cdc';
import type { PipelineConfig, SchemaChangeType } from './config-types';
import { planRoutes, type PlanWarning } from './route';
import { toSourceConfig } from './run-source';
import { describeBehavior } from './sink-evolution';
import { designTarget, outputColumnTypes, type TargetColumn } from './sink-schema';
import { compileTransform } from './transform';

/**
 * `tidemark plan`: what a sync would do, without writing anything. Connects to the source
 * read-only (the table listing and INFORMATION_SCHEMA), then routes, target schemas, warnings and
 * what the configured schema.change.behavior does with each kind of change.
 */
export interface PipelinePlan {
  pipeline: string;
  source: string;
  sourceTables: { table: string; primaryKey: string[]; targets: string[]; transform: number | null }[];
  targets: {
    table: string;
    path: string;
    exists: boolean;
    sources: string[];
    key: string[];
    columns: TargetColumn[];
    partitionBy: { column: string; transform: string }[];
    changelog: string | null;
  }[];
  notCaptured: string[];
  excluded: string[];
  warnings: PlanWarning[];
  schemaChangeBehavior: string;
  schemaChanges: Record<SchemaChangeType, string>;
  commitIntervalMs: number;
}

export async function planPipeline(config: PipelineConfig, overrides: Partial<MySqlSourceConfig> = {}): Promise<PipelinePlan> {
  const sourceConfig = toSourceConfig(config, overrides);
  const schemas = await createMySqlSource(sourceConfig).describeTables();
  const plan = planRoutes(config, schemas.map((s) => ({ db: s.table.db, table: s.table.table, primaryKeys: s.primaryKey, columns: s.columns.map((c) => c.name) })));
  const transforms = config.transforms.map((t) => compileTransform(t.projection, t.filter));
  const typesBySource = new Map<string, Map<string, string>>();
  for (const sp of plan.tables) {
    const id = `${sp.source.db}.${sp.source.table}`;
    const schema = schemas.find((s) => `${s.table.db}.${s.table.table}` === id)!;
    typesBySource.set(id, outputColumnTypes(schema, sp, sp.transformIndex === null ? null : transforms[sp.transformIndex]!));
  }
  return {
    pipeline: config.pipeline.name,
    source: `${config.source.type} ${config.source.hostname}:${config.source.port}`,
    sourceTables: plan.tables.map((t) => ({
      table: `${t.source.db}.${t.source.table}`,
      primaryKey: schemas.find((s) => s.table.db === t.source.db && s.table.table === t.source.table)?.primaryKey ?? [],
      targets: t.targets.map((x) => `${x.target.db}.${x.target.table}`),
      transform: t.transformIndex,
    })),
    targets: plan.targets.map((tp) => {
      const firstSource = plan.tables.find((s) => s.targets.some((t) => t.target.db === tp.target.db && t.target.table === tp.target.table));
      const rule = firstSource?.transformIndex == null ? null : config.transforms[firstSource.transformIndex]!;
      const design = designTarget(config, tp, typesBySource, rule?.partitionKeys ?? null);
      const path = join(config.sink.warehouse, tp.target.db, tp.target.table);
      return {
        table: design.id,
        path,
        exists: existsSync(join(path, 'metadata')),
        sources: tp.sources.map((s) => `${s.db}.${s.table}`),
        key: design.key,
        columns: design.columns,
        partitionBy: design.partitionBy,
        changelog: config.pipeline.tidemark.changelogEnabled ? `${design.id}__changelog` : null,
      };
    }),
    notCaptured: plan.notCaptured,
    excluded: plan.excluded,
    warnings: plan.warnings,
    schemaChangeBehavior: config.pipeline.schemaChangeBehavior,
    schemaChanges: describeBehavior(config.pipeline.schemaChangeBehavior, config.sink.schemaChanges),
    commitIntervalMs: config.pipeline.checkpointIntervalMs,
  };
}

/** Human-readable form of a plan, one fact per line. */
export function formatPlan(p: PipelinePlan): string {
  const lines = [`pipeline ${JSON.stringify(p.pipeline)}: ${p.source} → iceberg, commit every ${p.commitIntervalMs / 1000}s`, '', 'source tables:'];
  for (const t of p.sourceTables) lines.push(`  ${t.table} (key ${t.primaryKey.join(', ') || 'none'}) → ${t.targets.join(', ')}${t.transform !== null ? ` via transform[${t.transform}]` : ''}`);
  if (p.excluded.length) lines.push(`  excluded: ${p.excluded.join(', ')}`);
  lines.push('', 'target tables:');
  for (const t of p.targets) {
    lines.push(`  ${t.table} ${t.exists ? '(exists)' : '(will be created)'} at ${t.path}`);
    lines.push(`    from ${t.sources.join(', ')}; key (${t.key.join(', ')})${t.partitionBy.length ? `; partitioned by ${t.partitionBy.map((x) => `${x.transform}(${x.column})`).join(', ')}` : ''}`);
    lines.push(`    columns: ${t.columns.map((c) => `${c.name} ${c.type}${c.required ? ' required' : ''}`).join(', ')}`);
    if (t.changelog) lines.push(`    changelog: ${t.changelog}`);
  }
  if (p.warnings.length) {
    lines.push('', 'warnings:');
    for (const w of p.warnings) lines.push(`  ${w.kind}: ${w.message}`);
  }
  lines.push('', `schema changes (schema.change.behavior ${p.schemaChangeBehavior}):`);
  for (const [k, v] of Object.entries(p.schemaChanges)) lines.push(`  ${k}: ${v}`);
  return lines.join('\n');
}
