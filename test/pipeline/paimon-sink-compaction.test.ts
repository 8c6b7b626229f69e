import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../../core/pipeline';
import { createPaimonSink, type PaimonTargetState } from '../../core/pipeline/sink/paimon';
import { sealTarget } from '../../core/pipeline/sink';
import { offsetSummary } from '../../core/pipeline/runner/offsets';
import { listPaimonSnapshots, scanPaimonRows } from '../../core/lake/paimon';
import { defaultWriteEnv, seededWriteEnv, type WriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import type { SourceOffset } from '../../core/cdc';
import type { SinkThread } from '../../core/pipeline/thread/sink-thread';

/**
 * Compaction off the commit path: each round's APPEND snapshot is published by the round's
 * commit; compaction follows in the background as its own COMPACT snapshot of the same commit
 * user, and closing the sink waits for it. In the sink worker and in-thread alike.
 */

const YAML = (warehouse: string) => `source:
  type: mysql
  hostname: h
  username: u
  password: p
  tables: app.t
sink:
  type: paimon
  catalog.properties.warehouse: ${warehouse}
  commit.user: bg-user
  table.properties.bucket: 2
  table.properties.num-sorted-run.compaction-trigger: 2
pipeline:
  name: compaction-test
`;

const offset = (pos: number): SourceOffset => ({ file: 'binlog.000001', pos: BigInt(pos), gtids: null, snapshot: null, round: 0 }) as unknown as SourceOffset;

describe('Paimon sink compaction in the background', () => {
  let warehouse: string;
  beforeEach(async () => {
    warehouse = await mkdtemp(join(tmpdir(), 'tidemark-paimon-bg-'));
  });
  afterEach(async () => {
    await rm(warehouse, { recursive: true, force: true });
  });

  const cases: [SinkThread, WriteEnv][] = [
    ['main', seededWriteEnv(11)],
    ['worker', defaultWriteEnv],
  ];
  for (const [thread, env] of cases) {
    it(`commits every round as APPEND, compaction as its own COMPACT snapshots (${thread} thread)`, async () => {
      const config = loadPipelineConfig(YAML(warehouse), { fileName: 'p.yaml' }).config;
      const sink = createPaimonSink(config, env, thread);
      const t: PaimonTargetState = await sink.openTarget(
        { id: 'ods.t', columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string', required: false }], key: ['id'], partitionBy: [], properties: {} },
        [],
        false,
        null,
      );
      const rounds = 8;
      for (let r = 0; r < rounds; r++) {
        // Each round inserts 50 new keys and rewrites the 20 keys of the round before.
        for (let i = 0; i < 50; i++) t.buffer.put({ id: BigInt(r * 50 + i), v: `r${r}` }, false);
        if (r > 0) for (let i = 0; i < 20; i++) t.buffer.put({ id: BigInt((r - 1) * 50 + i), v: `u${r}` }, true);
        const at = offset(1000 + r);
        const result = await sink.commitRound({ sealed: [sealTarget(t, offsetSummary('compaction-test', at))], offset: at, checkpoint: { path: join(warehouse, 'cp.json'), text: '{}' }, nowMs: Date.now() });
        expect(result.outcomes[0]!.rows).toBe(r > 0 ? 70 : 50);
        expect(t.commitIdentifier).toBe(BigInt(r + 1));
      }
      await sink.close();
      const snaps = await listPaimonSnapshots(createLocalStorage(), t.root);
      const appends = snaps.filter((s) => s.operation === 'append');
      const compacts = snaps.filter((s) => s.operation === 'compact');
      expect(appends.length).toBe(rounds);
      expect(compacts.length).toBeGreaterThan(0);
      // A COMPACT snapshot never comes before the first APPEND it compacts.
      expect(compacts.every((c) => c.snapshotId > appends[0]!.snapshotId)).toBe(true);
      const { rows } = await scanPaimonRows(createLocalStorage(), t.root);
      expect(rows.length).toBe(rounds * 50);
      const byId = new Map(rows.map((row) => [Number(row.id), row.v]));
      expect(byId.get(0)).toBe('u1');
      expect(byId.get(30)).toBe('r0');
      expect(byId.get((rounds - 1) * 50)).toBe(`r${rounds - 1}`);
    }, 120_000);
  }
});
