import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schema } from '../../core/lake/model';
import { appendRows, createTable } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { findTableRefs } from '../../core/query/sql-rewrite';
import { pushdownFilter, referencedColumns } from '../../core/query/sql-scope';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { createLocalStorage } from '../../core/storage/node/index';

const schema: Schema = {
  type: 'struct',
  schemaId: 0,
  identifierFieldIds: [1],
  fields: [
    { id: 1, name: 'id', type: 'long', required: true },
    { id: 2, name: 'customer_id', type: 'int', required: false },
    { id: 3, name: 'Status', type: 'string', required: false },
    { id: 4, name: 'day', type: 'date', required: false },
    { id: 5, name: 'amount', type: 'double', required: false },
  ],
};

const filterOf = (sql: string) => {
  const refs = findTableRefs(sql);
  return pushdownFilter(sql, refs[0]!, refs, schema);
};

describe('columns a query references', () => {
  it('reads only the words that name columns, in any case, quoted or not', () => {
    expect(referencedColumns('SELECT status, count(*) FROM ns.t GROUP BY 1', schema)).toEqual(['Status']);
    expect(referencedColumns('SELECT sum(amount) FROM ns.t t WHERE t."CUSTOMER_ID" = 3', schema)).toEqual(['customer_id', 'amount']);
    expect(referencedColumns('SELECT count(*) FROM ns.t', schema)).toEqual([]);
    expect(referencedColumns('SELECT amount * 2 FROM ns.t', schema)).toEqual(['amount']);
  });
  it('reads every column for *, t.* and COLUMNS(…)', () => {
    const all = schema.fields.map((f) => f.name);
    expect(referencedColumns('SELECT * FROM ns.t', schema)).toEqual(all);
    expect(referencedColumns('SELECT DISTINCT t.* FROM ns.t t', schema)).toEqual(all);
    expect(referencedColumns("SELECT max(COLUMNS('a.*')) FROM ns.t", schema)).toEqual(all);
  });
});

describe('WHERE predicates pushed to planning', () => {
  it('takes simple comparisons of one table at the top level, either side, qualified or not', () => {
    expect(filterOf('SELECT * FROM ns.t WHERE id = 42 AND 7 <= customer_id AND t.status <> \'x\' AND day >= \'2024-01-01\' GROUP BY 1')).toEqual([
      { column: 'id', op: '=', value: 42n },
      { column: 'customer_id', op: '>=', value: 7 },
      { column: 'Status', op: '!=', value: 'x' },
      { column: 'day', op: '>=', value: '2024-01-01' },
    ]);
  });
  it('skips what it cannot be sure of', () => {
    expect(filterOf('SELECT * FROM ns.t WHERE id = 1 OR id = 2')).toEqual([]);
    expect(filterOf('SELECT * FROM ns.t a JOIN other b ON a.id = b.id WHERE id = 1')).toEqual([]);
    expect(filterOf('SELECT * FROM ns.t, other WHERE id = 1')).toEqual([]);
    expect(filterOf('SELECT * FROM (SELECT id AS x, 5 AS id FROM ns.t) WHERE id = 1')).toEqual([]);
    expect(filterOf('SELECT * FROM ns.t WHERE id BETWEEN 1 AND 5 AND amount > 2 AND id = -1 AND day = 5')).toEqual([]);
    expect(filterOf('SELECT * FROM ns.t WHERE (id = 1 OR id = 3) AND customer_id = 3')).toEqual([{ column: 'customer_id', op: '=', value: 3 }]);
    expect(filterOf('SELECT * FROM ns.t WHERE id = 1 UNION ALL SELECT * FROM ns.t WHERE id = 2')).toEqual([]);
  });
});

describe('console SQL over a large table', () => {
  let dir: string;
  let engine: QueryEngine;
  const storage = createLocalStorage();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tidemark-sqlscope-'));
    const root = join(dir, 'ns', 'orders');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'note', type: 'string' }, { name: 'qty', type: 'int' }], identifierColumns: ['id'] });
    for (let f = 0; f < 4; f++) await appendRows(root, Array.from({ length: 1000 }, (_x, i) => ({ id: BigInt(f * 1000 + i), note: `note ${'x'.repeat(50)} ${i}`, qty: i % 7 })));
    engine = await createNodeQueryEngine(storage);
  });
  afterAll(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads only the referenced columns and the files the WHERE admits, with the same answer', async () => {
    const reads: string[] = [];
    const counting = { ...storage, readRange: (p: string, o: number, n: number) => (reads.push(p), storage.readRange(p, o, n)) };
    const own = await createNodeQueryEngine(counting);
    try {
      const r = await queryWarehouse(own, dir, 'SELECT qty, count(*) AS n FROM ns.orders WHERE id >= 2500 GROUP BY qty ORDER BY qty');
      const want = await queryWarehouse(engine, dir, 'SELECT qty, count(*) AS n FROM (SELECT * FROM ns.orders) WHERE id >= 2500 GROUP BY qty ORDER BY qty');
      expect(r.rows).toEqual(want.rows);
      expect(r.rows.reduce((n, row) => n + Number(row[1]), 0)).toBe(1500);
      // Files holding ids 0–999 and 1000–1999 are pruned by their bounds.
      expect(new Set(reads.filter((p) => p.includes('/data/'))).size).toBe(2);
    } finally {
      await own.close();
    }
  });

  it('stops a query over the memory budget with a sentence naming the table, the estimate and what to do', async () => {
    const small = await createNodeQueryEngine(storage, { memoryBudgetBytes: 100_000 });
    try {
      await expect(queryWarehouse(small, dir, 'SELECT * FROM ns.orders')).rejects.toMatchObject({
        code: 'Unsupported',
        message: expect.stringMatching(/^query needs about \d+\.\d MiB of memory for ns\.orders \(4,000 rows × 3 columns\), over the engine's budget of 0\.1 MiB: add a WHERE clause on a partition or key column .*; select fewer columns \(3 are read: id, note, qty\); or raise the engine memory budget$/),
      });
      // A count needs no column: it fits.
      expect((await queryWarehouse(small, dir, 'SELECT count(*) FROM ns.orders')).rows).toEqual([[4000n]]);
    } finally {
      await small.close();
    }
  });
});
