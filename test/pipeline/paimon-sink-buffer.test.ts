import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPaimonSink, WRITE_BUFFER_CHANGES } from '../../core/pipeline/sink/paimon';
import { listPaimonSnapshots, scanPaimonRows } from '../../core/lake/paimon';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { commitTargetRound, ID_VALUE_TARGET, openIdValueTarget, paimonSinkConfig, useTempWarehouse } from './paimon-sink-helpers';

describe('Paimon sink write buffer', () => {
  const warehouseOf = useTempWarehouse('paimon-buffer');

  it('flushes full write buffers into level-0 files ahead of the commit; one snapshot holds the round, merged by key in order', async () => {
    const warehouse = warehouseOf();
    const env = seededWriteEnv(7);
    const sink = createPaimonSink(paimonSinkConfig(warehouse, 'buffer-test'), env);
    const t = await openIdValueTarget(sink);
    const n = Math.floor(WRITE_BUFFER_CHANGES * 2.5);
    // Inserts of every key, then (after the first flush) updates and deletes of early keys.
    for (let i = 0; i < n; i++) {
      t.buffer.put({ id: BigInt(i), v: `a${i}` }, false);
      if (t.buffer.pending >= 8192) {
        sink.append(t.buffer.take());
        const wait = sink.backlog();
        if (wait) await wait;
      }
    }
    for (let i = 0; i < 1000; i++) t.buffer.put({ id: BigInt(i), v: `b${i}` }, true);
    for (let i = 1000; i < 1500; i++) t.buffer.delete({ id: BigInt(i) });
    const result = await commitTargetRound(sink, t, warehouse, 4242, env.now());
    expect(result.outcomes[0]!.rows).toBe(n + 1500);
    const storage = createLocalStorage();
    const snaps = await listPaimonSnapshots(storage, t.root);
    expect(snaps.filter((s) => s.operation === 'append').length).toBe(1);
    // Two flushes and the round's rest: three level-0 files in each bucket (before any compaction).
    const files = (await readdir(join(t.root, 'bucket-0'))).filter((f) => f.startsWith('data-'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const { rows } = await scanPaimonRows(storage, t.root);
    expect(rows.length).toBe(n - 500);
    const byId = new Map(rows.map((r) => [Number(r.id), r.v]));
    expect(byId.get(5)).toBe('b5');
    expect(byId.has(1200)).toBe(false);
    expect(byId.get(n - 1)).toBe(`a${n - 1}`);
    await sink.close();
  }, 60_000);
});

describe('Paimon row kinds of a round', () => {
  it('writes +I, -U/+U for an update (whole before image), -D with the whole row, +U for a colliding insert', async () => {
    const { TableBuffer } = await import('../../core/pipeline/sink/buffer');
    const { toPaimonChanges } = await import('../../core/pipeline/sink/paimon');
    const b = new TableBuffer('ods.t', ['id'], [{ name: 'id', type: 'long' }, { name: 'v', type: 'string' }]);
    b.wholeDeletes = true;
    b.put({ id: 1n, v: 'a' }, false);
    b.delete({ id: 1n, v: 'a' });
    b.put({ id: 1n, v: 'b' }, true);
    b.delete({ id: 2n, v: 'old' });
    b.put({ id: 3n, v: 'c' }, true);
    expect(toPaimonChanges(b.take())).toEqual([
      { kind: '+I', row: { id: 1n, v: 'a' } },
      { kind: '-U', row: { id: 1n, v: 'a' } },
      { kind: '+U', row: { id: 1n, v: 'b' } },
      { kind: '-D', row: { id: 2n, v: 'old' } },
      { kind: '+U', row: { id: 3n, v: 'c' } },
    ]);
  });
});

describe('Paimon sink targets', () => {
  const warehouseOf = useTempWarehouse('paimon-targets');

  it('a target whose partition key is outside its primary key is refused naming the target', async () => {
    const sink = createPaimonSink(paimonSinkConfig(warehouseOf(), 'refused'), seededWriteEnv(9));
    const open = sink.openTarget({ ...ID_VALUE_TARGET, partitionBy: [{ column: 'v', transform: 'identity' }] }, [], false, null);
    await expect(open).rejects.toMatchObject({ code: 'InvalidInput', context: { table: 'ods.t' }, message: expect.stringMatching(/^ods\.t: .*partition key v must be part of the primary key \(id\), as Paimon requires$/) });
  });
});
