import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPaimonRows, listPaimonFiles, listPaimonSnapshots, scanPaimonRows } from '../../core/lake/paimon';
import { quoteIdent } from '../../core/query/duckdb';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { registerPaimonView } from '../../core/query/paimon-view';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const fixtures = join(FIXTURES, 'paimon', 'paimon-cpp');
const storage = createLocalStorage();
let engine: QueryEngine;

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
});
afterAll(async () => {
  await engine?.close();
});

const TABLES = ['pk_table_scan_and_read_mor', 'pk_table_scan_and_read_dv', 'pk_table_with_alter_table', 'append_complex_data', 'append_09', 'pk_table_nested_type'];

async function select(sql: string): Promise<Record<string, unknown>[]> {
  const r = await engine.query(sql);
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

describe('registerPaimonView', () => {
  for (const name of TABLES) {
    it(`${name}: SELECT count(*) equals countPaimonRows at every snapshot`, async () => {
      const root = join(fixtures, name);
      const snaps = await listPaimonSnapshots(storage, root);
      expect(snaps.length).toBeGreaterThan(0);
      for (const s of snaps) {
        const { view, snapshotId } = await registerPaimonView(engine, root, { snapshotId: s.snapshotId });
        expect(snapshotId).toBe(s.snapshotId);
        const [row] = await select(`SELECT count(*) AS n FROM ${quoteIdent(view)}`);
        expect(Number(row!.n), `snapshot ${s.snapshotId}`).toBe(await countPaimonRows(storage, root, { snapshotId: s.snapshotId }));
      }
    });
  }

  it('stops before reading a version over the memory budget, naming the table and the estimate', async () => {
    const root = join(fixtures, 'pk_table_scan_and_read_mor');
    const rows = (await listPaimonFiles(storage, root)).filter((f) => f.readByScan).reduce((n, f) => n + f.recordCount, 0);
    expect(rows).toBeGreaterThan(0);
    const budget = engine.memoryBudgetBytes;
    engine.setMemoryBudget(64);
    try {
      await expect(registerPaimonView(engine, root, {}, 'ns.mor')).rejects.toMatchObject({
        code: 'Unsupported',
        message: `loading Paimon table ns.mor needs about 0.1 MiB of memory (${rows} rows in its files × 4 columns), over the engine's budget of 0.1 MiB: Paimon versions are loaded whole, so choose an older snapshot with fewer rows, or raise the engine memory budget`,
        context: { table: 'ns.mor', budgetBytes: 64 },
      });
    } finally {
      engine.setMemoryBudget(budget);
    }
    expect((await registerPaimonView(engine, root, {}, 'ns.mor')).snapshotId).toBe(5n);
    expect(() => engine.setMemoryBudget(0)).toThrow('memory budget: expected a positive number of bytes, got 0');
  });

  it('pk_table_scan_and_read_mor: the latest Alice row and the column types', async () => {
    const { view, columns, snapshotId } = await registerPaimonView(engine, join(fixtures, 'pk_table_scan_and_read_mor'));
    expect(snapshotId).toBe(5n);
    expect(columns).toEqual([
      { name: 'f0', type: 'VARCHAR' },
      { name: 'f1', type: 'INTEGER' },
      { name: 'f2', type: 'INTEGER' },
      { name: 'f3', type: 'DOUBLE' },
    ]);
    expect(await select(`SELECT * FROM ${quoteIdent(view)} WHERE f0 = 'Alice'`)).toEqual([{ f0: 'Alice', f1: 10, f2: 1, f3: 19.1 }]);
    // Snapshot 2 still has Alex; the latest does not (deleted in snapshot 5).
    const s2 = await registerPaimonView(engine, join(fixtures, 'pk_table_scan_and_read_mor'), { snapshotId: 2n });
    expect(await select(`SELECT f3 FROM ${quoteIdent(s2.view)} WHERE f0 = 'Alex'`)).toEqual([{ f3: 16.1 }]);
    expect(await select(`SELECT f3 FROM ${quoteIdent(view)} WHERE f0 = 'Alex'`)).toEqual([]);
  });

  it('append_complex_data: DATE, TIMESTAMP(9), DECIMAL(23,5) and BYTES keep their values and SQL types', async () => {
    const root = join(fixtures, 'append_complex_data');
    const { view, columns } = await registerPaimonView(engine, root);
    expect(columns.map((c) => c.type)).toEqual(['INTEGER', 'INTEGER', 'DATE', 'TIMESTAMP', 'DECIMAL(23,5)', 'BLOB']);
    const rows = await select(`SELECT f3, f4, f5, f6 FROM ${quoteIdent(view)}`);
    const { rows: expected } = await scanPaimonRows(storage, root);
    // Rows as [f3, f4, f5, f6 as text] in code-point order: the view must hold exactly the scanned values.
    const tuples = (rs: Record<string, unknown>[]) =>
      rs.map((r) => JSON.stringify([r.f3, r.f4, r.f5, r.f6 ? new TextDecoder().decode(r.f6 as Uint8Array) : null])).sort();
    expect(tuples(rows)).toEqual(tuples(expected));
    expect(tuples(rows)).toHaveLength(8);
    // Values that exercise the conversions: a pre-1900 timestamp, a 23-digit negative decimal.
    expect(await select(`SELECT f4, f5 FROM ${quoteIdent(view)} WHERE f5 < 0 ORDER BY f5`)).toEqual([
      { f4: '1899-01-01T00:59:20.001001', f5: '-123456789987654321.45678' },
      { f4: '2008-12-28T00:00:00.000123', f5: '-123.45000' },
    ]);
    expect(await select(`SELECT count(*) AS n FROM ${quoteIdent(view)} WHERE f3 = DATE '2024-07-05' AND f5 = 12.3`)).toEqual([{ n: 1n }]);
  });

  it('pk_table_nested_type: ROW and MAP columns as JSON text', async () => {
    const { view, columns } = await registerPaimonView(engine, join(fixtures, 'pk_table_nested_type'));
    expect(columns.map((c) => `${c.name} ${c.type}`)).toEqual(['shopId INTEGER', 'dt VARCHAR', 'hr INTEGER', 'col0 INTEGER', 'col1 VARCHAR', 'col2 VARCHAR']);
    const [row] = await select(`SELECT col1, col2 FROM ${quoteIdent(view)} WHERE "shopId" = 1005`);
    expect(JSON.parse(String(row!.col1))).toEqual({ f0: 'str-5', f1: 500, f2: [5, null, 6] });
    expect(JSON.parse(String(row!.col2))).toEqual([{ key: 5, value: 5 }, { key: 105, value: 105 }]);
    expect(await select(`SELECT "shopId" FROM ${quoteIdent(view)} ORDER BY 1`)).toEqual([1001, 1004, 1005, 1006, 1007].map((shopId) => ({ shopId })));
  });

  it('an empty table version is an empty view with typed columns', async () => {
    // pk_table_scan_and_read_dv snapshot 1: every file is level 0, which a deletion-vector read skips.
    const { view, columns } = await registerPaimonView(engine, join(fixtures, 'pk_table_scan_and_read_dv'), { snapshotId: 1n });
    expect(columns.map((c) => c.type)).toEqual(['VARCHAR', 'INTEGER', 'INTEGER', 'DOUBLE']);
    expect(await select(`SELECT count(*) AS n FROM ${quoteIdent(view)}`)).toEqual([{ n: 0n }]);
  });

  it('view names are unique per call; time travel by timestamp goes through the selector', async () => {
    const root = join(fixtures, 'append_09');
    const a = await registerPaimonView(engine, root, { snapshotId: 1n });
    const b = await registerPaimonView(engine, root, { snapshotId: 1n });
    expect(a.view).not.toBe(b.view);
    const snaps = await listPaimonSnapshots(storage, root);
    const byTime = await registerPaimonView(engine, root, { asOfTimestampMs: snaps[2]!.timestampMs });
    expect(byTime.snapshotId).toBe(3n);
    expect(await select(`SELECT f0 FROM ${quoteIdent(byTime.view)} WHERE f0 = 'David'`)).toEqual([{ f0: 'David' }]);
  });
});
