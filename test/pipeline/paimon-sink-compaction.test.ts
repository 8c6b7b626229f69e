import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPaimonSink } from '../../core/pipeline/sink/paimon';
import { listPaimonSnapshots, scanPaimonRows } from '../../core/lake/paimon';
import { createPaimonTable } from '../../core/lake/paimon/write';
import { defaultWriteEnv, seededWriteEnv, type WriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import type { SinkThread } from '../../core/pipeline/thread/sink-thread';
import { commitTargetRound, openIdValueTarget, paimonSinkConfig, useTempWarehouse } from './paimon-sink-helpers';

/**
 * Compaction off the commit path: each round's APPEND snapshot is published by the round's
 * commit; compaction follows in the background as its own COMPACT snapshot of the same commit
 * user, and closing the sink waits for it. In the sink worker and in-thread alike.
 */

describe('Paimon sink compaction in the background', () => {
  const warehouseOf = useTempWarehouse('paimon-bg');
  const configOf = (warehouse: string) => paimonSinkConfig(warehouse, 'compaction-test', '  commit.user: bg-user\n  table.properties.num-sorted-run.compaction-trigger: 2\n');

  it('fails the next round naming the table when the background compaction fails', async () => {
    // The pipeline's settings are checked before a run; a table created elsewhere brings its own options.
    const warehouse = warehouseOf();
    const env = seededWriteEnv(12);
    await createPaimonTable(join(warehouse, 'ods.db', 't'), { columns: [{ name: 'id', type: 'BIGINT NOT NULL' }, { name: 'v', type: 'STRING' }], primaryKeys: ['id'], partitionKeys: [], options: { bucket: '2', 'compaction.size-ratio': '-1' } }, env);
    const sink = createPaimonSink(configOf(warehouse), env, 'main');
    const t = await openIdValueTarget(sink);
    const round = async (r: number) => {
      t.buffer.put({ id: BigInt(r), v: `r${r}` }, false);
      return commitTargetRound(sink, t, warehouse, 2000 + r, Date.now());
    };
    // The first round commits; its compaction (in the background) cannot read the table's options.
    expect((await round(0)).outcomes[0]!.rows).toBe(1);
    const err = await round(1).then(
      () => null,
      (e: unknown) => e as { code: string; message: string; context: Record<string, unknown> },
    );
    expect(err?.code).toBe('InvalidInput');
    expect(err?.message).toBe('the background compaction of ods.t failed: table option compaction.size-ratio must be an integer >= 0, found "-1"');
    expect(err?.context.table).toBe('ods.t');
    await sink.close();
    // Round 0 stays committed: the failure came after it, not instead of it.
    expect((await scanPaimonRows(createLocalStorage(), t.root)).rows.map((row) => Number(row.id))).toEqual([0]);
  });

  const cases: [SinkThread, WriteEnv][] = [
    ['main', seededWriteEnv(11)],
    ['worker', defaultWriteEnv],
  ];
  for (const [thread, env] of cases) {
    it(`commits every round as APPEND, compaction as its own COMPACT snapshots (${thread} thread)`, async () => {
      const sink = createPaimonSink(configOf(warehouseOf()), env, thread);
      const t = await openIdValueTarget(sink);
      const rounds = 8;
      for (let r = 0; r < rounds; r++) {
        // Each round inserts 50 new keys and rewrites the 20 keys of the round before.
        for (let i = 0; i < 50; i++) t.buffer.put({ id: BigInt(r * 50 + i), v: `r${r}` }, false);
        if (r > 0) for (let i = 0; i < 20; i++) t.buffer.put({ id: BigInt((r - 1) * 50 + i), v: `u${r}` }, true);
        const result = await commitTargetRound(sink, t, warehouseOf(), 1000 + r, Date.now());
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
