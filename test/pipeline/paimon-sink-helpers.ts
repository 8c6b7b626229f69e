/**
 * Shared set-up of the Paimon sink tests that drive the sink port directly (no source): a
 * pipeline over `app.t` into a 2-bucket Paimon warehouse, the target `ods.t (id BIGINT key, v
 * STRING)`, and one round's commit at a binlog position.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { loadPipelineConfig, type PipelineConfig } from '../../core/pipeline';
import { sealTarget, type SinkPort, type SinkRoundResult } from '../../core/pipeline/sink';
import type { TargetDesign } from '../../core/pipeline/sink/schema';
import type { PaimonTargetState } from '../../core/pipeline/sink/paimon';
import type { SourceOffset } from '../../core/cdc';

/** The pipeline `name` over `app.t` into a Paimon warehouse with 2 buckets, `sink` lines (indented) added. */
export function paimonSinkConfig(warehouse: string, name: string, sink = ''): PipelineConfig {
  const yaml = `source:
  type: mysql
  hostname: h
  username: u
  password: p
  tables: app.t
sink:
  type: paimon
  catalog.properties.warehouse: ${warehouse}
  table.properties.bucket: 2
${sink}pipeline:
  name: ${name}
`;
  return loadPipelineConfig(yaml, { fileName: 'p.yaml' }).config;
}

/** A binlog offset at `pos` of binlog.000001 (no GTIDs, no snapshot). */
export const binlogOffset = (pos: number): SourceOffset => ({ file: 'binlog.000001', pos: BigInt(pos), gtids: null, snapshot: null, round: 0 }) as unknown as SourceOffset;

/** The target design `ods.t`: `id` (long, the key) and `v` (string). */
export const ID_VALUE_TARGET: TargetDesign = { id: 'ods.t', columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string', required: false }], key: ['id'], partitionBy: [], properties: {} };

/** Opens (creates) `ods.t` in `sink`. */
export function openIdValueTarget(sink: SinkPort<PaimonTargetState>): Promise<PaimonTargetState> {
  return sink.openTarget(ID_VALUE_TARGET, [], false, null);
}

/** Commits what `t` buffers as one round at binlog position `pos` (its checkpoint in the warehouse). */
export function commitTargetRound(sink: SinkPort<PaimonTargetState>, t: PaimonTargetState, warehouse: string, pos: number, nowMs: number): Promise<SinkRoundResult> {
  const at = binlogOffset(pos);
  return sink.commitRound({ sealed: [sealTarget(t)], offset: at, checkpoint: { path: join(warehouse, 'cp.json'), text: '{}' }, nowMs });
}

/** A fresh warehouse folder (`tidemark-<tag>-…`) for each test, removed after it: call in a describe, read the returned getter in tests. */
export function useTempWarehouse(tag: string): () => string {
  let warehouse = '';
  beforeEach(async () => {
    warehouse = await mkdtemp(join(tmpdir(), `tidemark-${tag}-`));
  });
  afterEach(async () => {
    await rm(warehouse, { recursive: true, force: true });
  });
  return () => warehouse;
}
