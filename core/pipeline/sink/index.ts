/**
 * core/pipeline/sink: what the runner hands its rows to. Format-neutral: the buffer of a target's
 * round (buffer.ts, columns.ts), target design from the source schema (schema.ts), schema-change
 * plans (evolution.ts), the changelog table's rows (changelog.ts) and the sink port (port.ts).
 * Each lake format implements the port in a folder of its own: iceberg/, paimon/.
 */
import type { WriteEnv } from '../../lake/write';
import type { PipelineConfig } from '../config/types';
import type { RoutePlan } from '../config/route';
import type { SinkThread } from '../thread/sink-thread';
import { createIcebergSink, icebergStoredOffsets } from './iceberg';
import { createPaimonSink, paimonStoredOffsets } from './paimon';
import type { SinkPort, StoredOffset } from './port';

export type { SinkPort, SinkTarget, SinkTable, SealedTarget, CommitOutcome, SinkRound, SinkRoundResult, StoredOffset } from './port';
export { sealTarget } from './port';

/** The sink of the pipeline's `sink.type`. */
export function createSink(config: PipelineConfig, env: WriteEnv, thread?: SinkThread): SinkPort {
  if (config.sink.type === 'paimon') return createPaimonSink(config, env, thread);
  return createIcebergSink(config, env, thread);
}

/** The pipeline's offsets in its existing targets, read without opening a sink (plan, status). */
export function readStoredOffsets(config: PipelineConfig, plan: RoutePlan): Promise<StoredOffset[]> {
  return config.sink.type === 'paimon' ? paimonStoredOffsets(config, plan) : icebergStoredOffsets(config, plan);
}
