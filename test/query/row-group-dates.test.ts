/**
 * Row groups pruned by a console query's comparisons on a date column (issue 24: min/max pruning
 * from the WHERE clause): a date's Parquet statistics are exact INT32 day numbers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable } from '../../core/lake/table';
import { createTable } from '../../core/lake/write';
import { fieldPredicates, type QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { queryWarehouse } from '../../core/query/warehouse-sql';
import { createLocalStorage } from '../../core/storage/node/index';
import { appendInRowGroups } from '../support/row-groups';

const storage = createLocalStorage();
let dir: string;
let root: string;
let engine: QueryEngine;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-dates-'));
  root = join(dir, 'ns', 't');
  await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'day', type: 'date' }], identifierColumns: ['id'] });
  // Ten row groups of 100 rows, one day each: 2024-01-01 … 2024-01-10.
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: BigInt(i), day: `2024-01-${String(Math.floor(i / 100) + 1).padStart(2, '0')}` }));
  await appendInRowGroups(root, rows, 100, null, 'days');
  engine = await createNodeQueryEngine(storage);
}, 60_000);

afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('row-group pruning on dates', () => {
  it('turns date comparisons into day numbers, and skips what is not a date', async () => {
    const schema = (await loadTable(storage, root)).metadata.schemas[0]!;
    expect(fieldPredicates(schema, [{ column: 'day', op: '=', value: '2024-01-03' }, { column: 'day', op: '<', value: '2024-13-45' }, { column: 'id', op: '>', value: 5n }])).toEqual([
      { fieldId: 2, op: '=', value: 19725 },
      { fieldId: 1, op: '>', value: 5n },
    ]);
  });

  it('loads only the row groups whose day range admits the comparison, with the same answer', async () => {
    const table = await loadTable(storage, root);
    const schema = table.metadata.schemas[0]!;
    const plan = await engine.plan(table);
    const file = plan.files[0]!;
    const loaded = await engine.files.load(file.path, file.fileSizeInBytes, [2], 'data file', undefined, fieldPredicates(schema, [{ column: 'day', op: '>=', value: '2024-01-08' }]));
    expect(loaded.rowGroups?.indexes).toEqual([7, 8, 9]);
    const eq = await queryWarehouse(engine, dir, "SELECT count(*), min(id), max(id) FROM ns.t WHERE day = '2024-01-03'");
    expect(eq.rows).toEqual([[100n, 200n, 299n]]);
    const ge = await queryWarehouse(engine, dir, "SELECT count(*) FROM ns.t WHERE day >= '2024-01-08' AND id % 2 = 0");
    expect(ge.rows).toEqual([[150n]]);
  });
});
