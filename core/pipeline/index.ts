/**
 * core/pipeline: Flink CDC 3.x pipeline YAML — parse + validate, routing, transforms, export — and
 * the runner (run.ts, in a worker thread: pipeline-thread.ts) that joins core/cdc and core/lake.
 */
export type * from './config/types';
export { validatePipeline, loadPipelineConfig, formatIssue, type ValidateOptions } from './config/validate';
export { planRoutes, type RoutePlan, type SourceTablePlan, type TargetTablePlan, type SourceTableInfo, type TableRef, type PlanWarning } from './config/route';
export { compileTransform, compileProjection, compileFilter, parseProjection, transformColumnTypes, type CompiledTransform, type CompiledProjection, type CompiledFilter } from './transform';
export { METADATA_COLUMNS, type Row, type RowMeta, type Value } from './transform';
export { matchTable, convertTableList, expandSinkTable } from './config/table-pattern';
export { exportFlinkYaml, ANY_ENV } from './config/export-flink';
export { runPipeline, statusFilePath, checkpointFilePath, type RunPipelineOptions, type RunPipelineResult } from './runner/run';
export { runPipelineInThread, SYNC_THREAD_LIMITS, type PipelineThreadOptions } from './thread/pipeline-thread';
export { formatProgressLine, type SyncEvent, type SyncProgress, type TableProgress, type SyncPhase } from './runner/status';
export { compareOffsets, readCommittedOffset, SUMMARY_OFFSET, SUMMARY_FILE, SUMMARY_POS, SUMMARY_GTID } from './runner/offsets';
export { planEvolution, describeBehavior, type EvolutionPlan } from './sink/evolution';
export { planPipeline, formatPlan, type PipelinePlan } from './runner/plan';
export { writeFileAtomic } from './runner/file-atomic';
export { toSourceConfig } from './runner/source';
