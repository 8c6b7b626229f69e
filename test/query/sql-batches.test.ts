import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendRows, applyRowDelta, createTable } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { planBatchedAggregate } from '../../core/query/sql-batches';
import { findTableRefs } from '../../core/query/sql-rewrite';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { createLocalStorage } from '../../core/storage/node/index';

const shapeOf = (sql: string) => planBatchedAggregate(sql, findTableRefs(sql)[0]!);

describe('which console queries run in batches', () => {
  it('takes aggregations whose aggregates combine from partial results', () => {
    for (const sql of [
      'SELECT count(*) FROM ns.t',
      'SELECT qty, count(*) AS n, sum(id), min(note), max(amount), avg(amount) FROM ns.t GROUP BY qty',
      'SELECT l1 % 10 AS a, l2 % 10 AS b, count(*) AS n, sum(d0) AS s FROM ns.t GROUP BY 1, 2',
      'SELECT o.qty AS q, count(*) FROM ns.t AS o WHERE o.id > 5 GROUP BY q ORDER BY 2 DESC LIMIT 3;',
      'SELECT qty + 1, sum(amount * 2) FROM ns.t FOR VERSION AS OF 12 GROUP BY qty + 1',
    ]) {
      expect(shapeOf(sql), sql).not.toBeNull();
    }
  });

  it('leaves every other query to one pass', () => {
    for (const sql of [
      'SELECT * FROM ns.t',
      'SELECT qty FROM ns.t GROUP BY qty',
      'SELECT qty, count(DISTINCT id) FROM ns.t GROUP BY qty',
      'SELECT qty, median(amount) FROM ns.t GROUP BY qty',
      'SELECT qty, note, count(*) FROM ns.t GROUP BY qty',
      'SELECT qty, count(*) FROM ns.t GROUP BY qty HAVING count(*) > 2',
      'SELECT qty, sum(amount) + 1 FROM ns.t GROUP BY qty',
      'SELECT qty, sum(amount) OVER () FROM ns.t',
      'SELECT count(*) FROM ns.t JOIN ns.u ON t.id = u.id',
      'SELECT count(*) FROM ns.t WHERE id IN (SELECT id FROM ns.u)',
      'SELECT count(*) FROM ns.t, ns.u',
      'WITH x AS (SELECT 1) SELECT count(*) FROM ns.t',
      'SELECT count(*) FROM ns.t UNION ALL SELECT count(*) FROM ns.t',
      'SELECT qty, count(*) FILTER (WHERE id > 2) FROM ns.t GROUP BY qty',
      'SELECT count(*) FROM ns.t; SELECT 1',
    ]) {
      expect(shapeOf(sql), sql).toBeNull();
    }
  });
});

describe('console aggregations in batches of data files', () => {
  let dir: string;
  let whole: QueryEngine;
  let batched: QueryEngine;
  const storage = createLocalStorage();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-sqlbatch-'));
    const root = join(dir, 'ns', 'orders');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'note', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'amount', type: 'double' }], identifierColumns: ['id'] });
    // Amounts in halves: sums of doubles are exact in any order, so batches must equal one pass.
    for (let f = 0; f < 5; f++) await appendRows(root, Array.from({ length: 1000 }, (_x, i) => ({ id: BigInt(f * 1000 + i), note: `n${(f * 1000 + i) % 13}`, qty: i % 7, amount: i % 3 === 0 ? null : ((f * 1000 + i) % 101) / 2 })));
    // Equality deletes (upserts and deletes of keys across files): batches apply them as one pass does.
    await applyRowDelta(root, {
      deleteKeys: Array.from({ length: 300 }, (_x, i) => ({ id: BigInt(i * 16 + 3) })),
      upserts: Array.from({ length: 50 }, (_x, i) => ({ id: BigInt(i * 97), note: 'upserted', qty: 100 + (i % 2), amount: 0.5 })),
    });
    whole = await createNodeQueryEngine(storage);
    // Every data file a batch of its own; a budget that one file fits and the whole table does not.
    batched = await createNodeQueryEngine(storage, { aggregateBatchBytes: 1, memoryBudgetBytes: 60_000 });
  });
  afterAll(async () => {
    await whole?.close();
    await batched?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers as one pass does, over a table the budget could not hold at once', async () => {
    for (const sql of [
      'SELECT qty, count(*) AS n, sum(id) AS s, min(note), max(amount), avg(amount), count(amount) FROM ns.orders GROUP BY qty ORDER BY qty',
      'SELECT count(*), sum(amount), avg(id) FROM ns.orders WHERE id >= 1500',
      'SELECT qty % 3 AS k, count(*) FROM ns.orders GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 2',
      'SELECT o.note, max(o.id) AS top FROM ns.orders AS o WHERE o.qty < 100 GROUP BY o.note ORDER BY top',
      'SELECT count(*) FROM ns.orders WHERE id < 0',
      'SELECT qty, count(*) FROM ns.orders WHERE id < 0 GROUP BY qty',
    ]) {
      const want = await queryWarehouse(whole, dir, sql);
      const got = await queryWarehouse(batched, dir, sql);
      expect(got, sql).toEqual(want);
    }
    const total = await queryWarehouse(batched, dir, 'SELECT count(*) AS n, sum(qty) AS q FROM ns.orders');
    // 5000 rows, 300 keys deleted, 50 keys upserted (live again, whether deleted in the same commit or not).
    const deleted = new Set(Array.from({ length: 300 }, (_x, i) => i * 16 + 3));
    const upserted = Array.from({ length: 50 }, (_x, i) => i * 97);
    const live = 5000 - new Set([...deleted, ...upserted]).size + 50;
    expect(live).toBe(4703);
    expect(total.rows).toEqual((await queryWarehouse(whole, dir, 'SELECT count(*) AS n, sum(qty) AS q FROM ns.orders')).rows);
    expect(total.rows[0]![0]).toBe(BigInt(live));
    expect(total.columns.map((c) => c.name)).toEqual(['n', 'q']);
  });

  it('still stops a query it cannot split when the table is over the budget', async () => {
    await expect(queryWarehouse(batched, dir, 'SELECT qty, median(amount) FROM ns.orders GROUP BY qty')).rejects.toMatchObject({
      code: 'Unsupported',
      message: expect.stringMatching(/^query needs about \d+\.\d MiB of memory for ns\.orders \(5,050 rows × 2 columns\), over the engine's budget of 0\.1 MiB/),
    });
  });

  it('reports DuckDB\'s own error for a query DuckDB refuses', async () => {
    await expect(queryWarehouse(batched, dir, 'SELECT qty, sum(nope) FROM ns.orders GROUP BY qty')).rejects.toMatchObject({ message: expect.stringContaining('nope') });
  });
});
