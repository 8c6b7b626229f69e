/**
 * Sorted and filtered grid pages read lazily (core/query/pages/ordered-rows.ts) equal the reference
 * reader (core/lake scanRows: the whole version) sorted and filtered here by the grid's rules, on
 * generated tables with tiny row groups and pages, equality deletes, upserts and position deletes;
 * and equal the SQL path the grid used before (DuckDB over the merged version) on the demo lake.
 */
import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendInRowGroups } from '../support/row-groups';
import { scanRows } from '../../core/lake/row-reader';
import { planScan } from '../../core/lake/scan-plan';
import { loadTable } from '../../core/lake/table';
import { applyRowDelta, createDemoWarehouse, createTable, seededWriteEnv } from '../../core/lake/write';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { icebergPageSource, readIcebergWindow, readPage } from '../../core/query/page';
import type { GridFilter, GridSort } from '../../core/query/pages/grid-keys';
import type { OrderedStats } from '../../core/query/pages/ordered-rows';
import { createLazyReader } from '../../core/query/pages/reader';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-lazy-sort-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---- The grid's rules, written plainly over canonical values (the expectation) ----

type Row = Record<string, unknown>;
const TYPES: Record<string, string> = { id: 'long', v: 'string', n: 'int', d: 'double' };

function cmp(type: string, a: unknown, b: unknown): number {
  if (type === 'long') return (a as bigint) < (b as bigint) ? -1 : (a as bigint) > (b as bigint) ? 1 : 0;
  if (type === 'string') return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0;
  const x = a as number;
  const y = b as number;
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y) ? 0 : Number.isNaN(x) ? 1 : -1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function parse(type: string, text: string): unknown {
  if (type === 'long') return /^-?\d+$/.test(text) ? BigInt(text) : undefined;
  if (type === 'int') return /^-?\d+$/.test(text) ? Number(text) : undefined;
  if (type === 'double') return /^nan$/i.test(text) ? NaN : /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : undefined;
  return text;
}

function matches(row: Row, f: GridFilter): boolean {
  const v = row[f.column];
  const type = TYPES[f.column]!;
  if (f.op === 'is null') return v === null;
  if (f.op === 'is not null') return v !== null;
  if (v === null) return false;
  if (f.op === 'contains') return String(v).toLowerCase().includes(f.value!.toLowerCase());
  const x = parse(type, f.value!);
  if (x === undefined) return false;
  const c = cmp(type, v, x);
  return { '=': c === 0, '!=': c !== 0, '<': c < 0, '<=': c <= 0, '>': c > 0, '>=': c >= 0 }[f.op];
}

function expected(rows: Row[], sort: GridSort[], filters: GridFilter[]): Row[] {
  const kept = rows.filter((r) => filters.every((f) => matches(r, f)));
  // Array.prototype.sort is stable: ties stay in file order.
  return kept.sort((a, b) => {
    for (const s of sort) {
      const x = a[s.column];
      const y = b[s.column];
      if (x === null || y === null) {
        if (x === null && y === null) continue;
        return x === null ? 1 : -1;
      }
      const c = cmp(TYPES[s.column]!, x, y);
      if (c !== 0) return s.desc ? -c : c;
    }
    return 0;
  });
}

// ---- Generated tables ----

type Op =
  | { kind: 'append'; ids: number[]; groupRows: number; pageRows: number }
  | { kind: 'upsert'; ids: number[] }
  | { kind: 'delete'; ids: number[] }
  | { kind: 'position'; picks: number[] };

const ids = fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 14 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), ids, groupRows: fc.integer({ min: 1, max: 12 }), pageRows: fc.integer({ min: 1, max: 3 }) }) },
  fc.record({ kind: fc.constant('upsert' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('position' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }) }),
);
const column = fc.constantFrom('id', 'v', 'n', 'd');
const sortArb = fc.array(fc.record({ column, desc: fc.boolean() }), { maxLength: 2 });
const filterArb: fc.Arbitrary<GridFilter> = fc.oneof(
  fc.record({ column, op: fc.constantFrom('is null' as const, 'is not null' as const) }),
  fc.record({ column: fc.constantFrom('id', 'n', 'd'), op: fc.constantFrom('=' as const, '!=' as const, '<' as const, '<=' as const, '>' as const, '>=' as const), value: fc.oneof(fc.integer({ min: -5, max: 45 }).map(String), fc.constantFrom('2.5', 'x', 'nan')) }),
  fc.record({ column: fc.constant('v'), op: fc.constantFrom('=' as const, '<' as const, '>=' as const, 'contains' as const), value: fc.constantFrom('a1', 'U1', 'a2.3', 'u', '.1', 'zz') }),
);
const queries = fc.array(fc.record({ sort: sortArb, filters: fc.array(filterArb, { maxLength: 2 }), offset: fc.nat({ max: 40 }), limit: fc.integer({ min: 1, max: 30 }) }), { minLength: 2, maxLength: 5 });

describe('lazy sort and filter (property)', () => {
  it('pages of every snapshot equal the reference reader sorted and filtered', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 6 }), queries, async (ops, qs) => {
        const root = join(dir, `t${run++}`);
        const env = seededWriteEnv(run);
        await createTable(root, {
          columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }, { name: 'n', type: 'int' }, { name: 'd', type: 'double' }],
          identifierColumns: ['id'],
          env,
        });
        let file = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            const rows = o.ids.map((id, i) => ({ id: BigInt(id), v: i % 3 === 0 ? null : `a${file}.${i}`, n: (id * 7) % 11, d: i % 4 === 1 ? null : i % 5 === 2 ? NaN : (id % 9) / 2 }));
            await appendInRowGroups(root, rows, o.groupRows, o.pageRows, `f${file++}`);
          } else if (o.kind === 'upsert') {
            await applyRowDelta(root, { upserts: o.ids.map((id) => ({ id: BigInt(id), v: `U${id}`, n: -id, d: id / 4 })) }, { env });
          } else if (o.kind === 'delete') {
            await applyRowDelta(root, { deleteKeys: o.ids.map((id) => ({ id: BigInt(id) })) }, { env });
          } else {
            const plan = await planScan(storage, root);
            if (plan.files.length === 0) continue;
            const target = plan.files[o.picks[0]! % plan.files.length]!;
            const positions = [...new Set(o.picks.map((p) => p % target.recordCount))];
            await applyRowDelta(root, { positionDeletes: positions.map((pos) => ({ filePath: target.originalPath, pos })) }, { env });
          }
        }
        const table = await loadTable(storage, root);
        const roomy = createLazyReader({ parquet, storage });
        const tiny = createLazyReader({ parquet, storage, cacheBytes: 64 });
        for (const s of table.metadata.snapshots) {
          const sel = { snapshotId: s.snapshotId };
          const ref = await scanRows(storage, table, sel);
          const names = ref.columns.map((c) => c.name);
          for (const q of qs) {
            // Columns added later are absent from older snapshots' schemas: skip queries naming them.
            if (![...q.sort, ...q.filters].every((x) => names.includes(x.column))) continue;
            const want = expected(ref.rows, q.sort, q.filters).map((r) => names.map((c) => r[c]));
            for (const reader of [roomy, tiny]) {
              const w = await reader.orderedWindow(table, sel, q, q.offset, q.limit);
              const label = `snapshot ${s.sequenceNumber} ${JSON.stringify(q)}`;
              expect(w.totalRows, label).toBe(want.length);
              expect(w.totalPending).toBe(false);
              expect(w.rows, label).toEqual(want.slice(q.offset, q.offset + q.limit));
              if (q.sort.length === 1) {
                // The other direction right after: derived from this order (reversed by runs).
                const other = { ...q, sort: [{ ...q.sort[0]!, desc: !q.sort[0]!.desc }] };
                const wantOther = expected(ref.rows, other.sort, q.filters).map((r) => names.map((c) => r[c]));
                const o = await reader.orderedWindow(table, sel, other, 0, 1000);
                expect(o.rows, `reversed ${label}`).toEqual(wantOther);
              }
            }
          }
        }
      }),
      { numRuns: 20, seed: 2024, endOnFailure: true },
    );
  }, 300_000);
});

describe('lazy sort and filter', () => {
  let engine: QueryEngine;
  let lake: string;
  beforeAll(async () => {
    lake = join(dir, 'demo');
    await createDemoWarehouse(lake, 1);
    engine = await createNodeQueryEngine(storage);
  }, 120_000);
  afterAll(async () => engine?.close());

  it('equals the merged-version SQL path on the demo tables, every snapshot', async () => {
    const cases: { sort: GridSort[]; filters: GridFilter[] }[] = [
      { sort: [{ column: 'amount', desc: true }, { column: 'order_id', desc: false }], filters: [] },
      { sort: [{ column: 'order_id', desc: true }], filters: [{ column: 'amount', op: '>=', value: '100' }] },
      { sort: [{ column: 'order_id', desc: false }], filters: [{ column: 'order_id', op: '<', value: '12' }, { column: 'customer_id', op: 'is not null' }] },
      { sort: [{ column: 'order_id', desc: false }], filters: [{ column: 'order_id', op: '=', value: 'not a number' }] },
    ];
    const root = join(lake, 'demo', 'orders');
    const table = await loadTable(storage, root);
    for (const s of table.metadata.snapshots) {
      const version = { snapshotId: s.snapshotId };
      for (const c of cases) {
        const req = { offset: 0, limit: 100, ...c };
        const lazy = await readIcebergWindow(engine.lazy, root, version, req);
        const sql = await readPage(engine, await icebergPageSource(engine, root, version), req);
        expect(lazy.totalRows, JSON.stringify(c)).toBe(sql.totalRows);
        expect(lazy.rows, JSON.stringify(c)).toEqual(sql.rows);
      }
    }
  });

  it('filters every column type of the demo tables as the SQL path does', async () => {
    for (const name of ['orders', 'customers']) {
      const root = join(lake, 'demo', name);
      const table = await loadTable(storage, root);
      for (const s of table.metadata.snapshots) {
        const version = { snapshotId: s.snapshotId };
        const all = await readIcebergWindow(engine.lazy, root, version, { offset: 0, limit: 1000, sort: [], filters: [] });
        // Thresholds taken from the rows themselves (their canonical text), plus text that does not parse.
        const cases: GridFilter[] = [];
        all.columns.forEach((c, k) => {
          const values = all.rows.map((r) => r[k]).filter((v) => v !== null);
          const mid = values[Math.floor(values.length / 2)];
          cases.push({ column: c.name, op: 'is null' }, { column: c.name, op: 'is not null' });
          if (mid === undefined) return;
          const text = String(mid);
          for (const op of ['=', '!=', '<', '<=', '>', '>='] as const) cases.push({ column: c.name, op, value: text });
          cases.push({ column: c.name, op: 'contains', value: text.slice(1, 3) });
          if (c.type !== 'string') cases.push({ column: c.name, op: '>', value: 'not a value' });
        });
        for (const f of cases) {
          // Only the comparison's semantics are compared here: contains on non-strings formats values differently in SQL.
          if (f.op === 'contains' && all.columns.find((c) => c.name === f.column)!.type !== 'string') continue;
          const req = { offset: 0, limit: 1000, sort: [{ column: all.columns[0]!.name, desc: false }], filters: [f] };
          const lazy = await readIcebergWindow(engine.lazy, root, version, req);
          const sql = await readPage(engine, await icebergPageSource(engine, root, version), req);
          expect(lazy.rows, `${name} @ ${s.snapshotId}: ${JSON.stringify(f)}`).toEqual(sql.rows);
        }
      }
    }
  });

  it('names an unknown column and a comparison without a value', async () => {
    const root = join(lake, 'demo', 'orders');
    await expect(readIcebergWindow(engine.lazy, root, {}, { offset: 0, limit: 10, sort: [{ column: 'nope', desc: false }], filters: [] })).rejects.toThrow(/sort\[0\]: unknown column "nope"; columns: order_id/);
    await expect(readIcebergWindow(engine.lazy, root, {}, { offset: 0, limit: 10, sort: [], filters: [{ column: 'amount', op: '>' }] })).rejects.toThrow(/filters\[0\]: > needs a value/);
  });

  it('prunes files and row groups by statistics and reads only the sort and filter columns', async () => {
    // 8 appends of 1000 ids each, row groups of 250 rows: a range of ids lies in one file, one group.
    const root = join(dir, 'pruned');
    const env = seededWriteEnv(7);
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }, { name: 'w', type: 'string' }], identifierColumns: ['id'], env });
    for (let f = 0; f < 8; f++) {
      const rows = Array.from({ length: 1000 }, (_, i) => ({ id: BigInt(f * 1000 + i), v: `v${f * 1000 + i}`, w: 'x'.repeat(50) }));
      await appendInRowGroups(root, rows, 250, 50, `p${f}`);
    }
    await applyRowDelta(root, { deleteKeys: [{ id: 3100n }, { id: 3150n }] }, { env });
    const stats: OrderedStats = { filesRead: 0, filesPruned: 0, rowGroupsRead: 0, rowGroupsPruned: 0 };
    const reader = createLazyReader({ parquet, storage, orderStats: stats });
    const w = await reader.orderedWindow(root, {}, { sort: [{ column: 'id', desc: true }], filters: [{ column: 'id', op: '>=', value: '3050' }, { column: 'id', op: '<', value: '3200' }] }, 0, 3);
    expect(w.totalRows).toBe(148);
    expect(w.rows).toEqual([
      [3199n, 'v3199', 'x'.repeat(50)],
      [3198n, 'v3198', 'x'.repeat(50)],
      [3197n, 'v3197', 'x'.repeat(50)],
    ]);
    expect(stats).toEqual({ filesRead: 1, filesPruned: 7, rowGroupsRead: 1, rowGroupsPruned: 3 });
    // The ascending order of the same column is derived from this one: nothing is read again.
    const asc = await reader.orderedWindow(root, {}, { sort: [{ column: 'id', desc: false }], filters: [{ column: 'id', op: '>=', value: '3050' }, { column: 'id', op: '<', value: '3200' }] }, 0, 2);
    expect(asc.rows.map((r) => r[0])).toEqual([3050n, 3051n]);
    expect(stats).toEqual({ filesRead: 1, filesPruned: 7, rowGroupsRead: 1, rowGroupsPruned: 3 });
    // Columns decoded: id of one row group for the order (plus the delete file's keys and the data
    // file's key column for its live mask: also id), then one page of each column for the 3 rows.
    const before = reader.stats.decoded;
    await reader.orderedWindow(root, {}, { sort: [{ column: 'id', desc: true }], filters: [{ column: 'id', op: '>=', value: '3050' }, { column: 'id', op: '<', value: '3200' }] }, 3, 3);
    expect(reader.stats.decoded - before).toBeLessThanOrEqual(3);
  });
});

describe('lazy reader metadata reuse', () => {
  it('reads a table metadata once for calls within 3 s, and again after', async () => {
    const root = join(dir, 'reuse');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }], env: seededWriteEnv(3) });
    await appendInRowGroups(root, [{ id: 1n }, { id: 2n }], 10, 10, 'r0');
    let lists = 0;
    const counting = { ...storage, list: (p: string) => (lists++, storage.list(p)) };
    let clock = 0;
    const reader = createLazyReader({ parquet, storage: counting, metadataReuseMs: 3000, now: () => clock });
    await reader.window(root, {}, 0, 10);
    const once = lists;
    expect(once).toBeGreaterThan(0);
    clock = 2999;
    await reader.count(root);
    await reader.orderedWindow(root, {}, { sort: [{ column: 'id', desc: true }], filters: [] }, 0, 1);
    expect(lists).toBe(once);
    // A commit after the window is seen once it has passed.
    await appendInRowGroups(root, [{ id: 3n }], 10, 10, 'r1');
    clock = 3000;
    const rows = (await reader.window(root, {}, 0, 10)).rows.map((r) => r[0] as bigint);
    expect(rows.sort()).toEqual([1n, 2n, 3n]);
    expect(lists).toBeGreaterThan(once);
    expect(await reader.count(root)).toBe(3);
    // forget(root) (query.refresh, after a change made in the app): read again inside the window.
    await appendInRowGroups(root, [{ id: 4n }], 10, 10, 'r2');
    clock = 3001;
    expect(await reader.count(root)).toBe(3);
    reader.forget(root);
    expect(await reader.count(root)).toBe(4);
    // Without the option (Node, the CLI) every call reads the metadata.
    const plain = createLazyReader({ parquet, storage: counting });
    const before = lists;
    await plain.window(root, {}, 0, 1);
    await plain.window(root, {}, 0, 1);
    expect(lists).toBeGreaterThan(before + 1);
  });
});
