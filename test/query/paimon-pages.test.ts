/**
 * Paimon grid pages read bucket by bucket (core/query/pages/paimon-pages.ts) equal the
 * whole-version reader: every page of every snapshot of the Java-written fixtures and of
 * Tidemark-written tables with updates, deletes, level-0 runs, compactions and deletion vectors is
 * the same slice of scanPaimonRows' rows, and of the page the grid showed before (the version
 * loaded whole into DuckDB); counts come from the manifests where they can, exact either way; a
 * page reads only the groups holding it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPaimonRows, listPaimonSnapshots, openPaimonVersion, paimonReadGroups, readPaimonRows, scanPaimonRows } from '../../core/lake/paimon';
import { estimatePaimonBytes } from '../../core/query/memory-budget';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, type PaimonChange } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { quoteIdent } from '../../core/query/duckdb';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { readPage } from '../../core/query/page';
import { openPaimonPages, paimonColumnType, paimonGridRows } from '../../core/query/pages/paimon-pages';
import { registerPaimonView } from '../../core/query/paimon-view';
import type { StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const storage = createLocalStorage();
const fixtures = join(FIXTURES, 'paimon', 'paimon-cpp');
const TABLES = ['pk_table_scan_and_read_mor', 'pk_table_scan_and_read_dv', 'pk_table_with_alter_table', 'append_complex_data', 'append_09', 'pk_table_nested_type'];
const BUDGET = 1.5 * 2 ** 30;
let engine: QueryEngine;

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
});
afterAll(async () => {
  await engine?.close();
});

/** Storage that counts data file reads. */
function counting(): { port: StoragePort; dataReads: string[] } {
  const dataReads: string[] = [];
  const note = (p: string) => {
    if (/\/bucket-[^/]+\/data-[^/]+$/.test(p)) dataReads.push(p);
  };
  const port: StoragePort = {
    ...storage,
    readFile: (p) => (note(p), storage.readFile(p)),
    readRange: (p, o, l) => (note(p), storage.readRange(p, o, l)),
  };
  return { port, dataReads };
}

/** Every page (of `size` rows) of a version equals the slice of the whole-version read; the count too. */
async function checkVersion(root: string, snapshotId: bigint | undefined, size: number): Promise<number> {
  const sel = snapshotId === undefined ? {} : { snapshotId };
  const whole = await scanPaimonRows(storage, root, sel);
  const expected = whole.rows.map((r) => whole.columns.map((c) => r[c.name]));
  const pages = await openPaimonPages(storage, root, sel, root, () => BUDGET);
  const got: unknown[][] = [];
  for (let offset = 0; ; offset += size) {
    const w = await pages.window(offset, size);
    expect(w.columns.map((c) => c.name)).toEqual(whole.columns.map((c) => c.name));
    expect(w.snapshotId).toBe(whole.snapshotId);
    if (w.totalPending) expect(w.totalRows).toBeGreaterThanOrEqual(expected.length);
    else expect(w.totalRows).toBe(expected.length);
    got.push(...w.rows);
    if (w.rows.length < size) break;
  }
  expect(got).toEqual(expected);
  expect(await pages.count()).toBe(expected.length);
  // The CLI's count takes the manifests' counts the same way.
  expect(await countPaimonRows(storage, root, sel)).toBe(expected.length);
  // Fresh, a deep page first (groups before it counted, not kept).
  const fresh = await openPaimonPages(storage, root, sel, root, () => BUDGET);
  const deep = Math.floor(expected.length / 2);
  expect((await fresh.window(deep, size)).rows).toEqual(expected.slice(deep, deep + size));
  expect(await fresh.count()).toBe(expected.length);
  return expected.length;
}

describe('Paimon pages bucket by bucket', () => {
  for (const name of TABLES) {
    it(`${name}: every page of every snapshot is the whole-version read's slice, and the grid's page before`, async () => {
      const root = join(fixtures, name);
      for (const s of await listPaimonSnapshots(storage, root)) {
        for (const size of [1, 3, 200]) await checkVersion(root, s.snapshotId, size);
        // The page the grid showed before: the version loaded whole into DuckDB.
        const v = await registerPaimonView(engine, root, { snapshotId: s.snapshotId });
        const before = await readPage(engine, { relation: quoteIdent(v.view), columns: v.columns.map((c) => ({ ...c, sqlType: c.type })), snapshotId: v.snapshotId }, { offset: 0, limit: 200, sort: [], filters: [] });
        const pages = await openPaimonPages(storage, root, { snapshotId: s.snapshotId }, root, () => BUDGET);
        const now = await pages.window(0, 200);
        expect(now.columns.map((c) => ({ name: c.name, type: paimonColumnType(c) }))).toEqual(before.columns);
        expect(paimonGridRows(now.columns, now.rows)).toEqual(before.rows);
        expect(await pages.count()).toBe(before.totalRows);
      }
    });
  }

  it('reads only the buckets a page needs, and counts from the manifests where they say', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-pages-')), 't');
    const env = seededWriteEnv(7);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '8' } }, env);
    const rows = (from: number, to: number, tag: string): PaimonChange[] => Array.from({ length: to - from }, (_, i) => ({ kind: '+I', row: { k: from + i, v: `${tag}${from + i}` } }));
    await commitPaimonChanges(root, rows(0, 400, 'a'), { commitUser: 'u', commitIdentifier: 1n, env, compaction: 'none' });
    // One file per bucket, no retraction: every count is in the manifests.
    const { port, dataReads } = counting();
    const first = await openPaimonPages(port, root, {}, 'ns.t', () => BUDGET);
    const w = await first.window(0, 10);
    expect(w.totalPending).toBe(false);
    expect(w.totalRows).toBe(400);
    expect(new Set(dataReads).size).toBe(1);
    expect(await first.count()).toBe(400);
    expect(new Set(dataReads).size).toBe(1);
    // Updates and deletes in a second run of each bucket: counts need the merge.
    await commitPaimonChanges(root, [...rows(0, 50, 'b'), ...Array.from({ length: 30 }, (_, i): PaimonChange => ({ kind: '-D', row: { k: 100 + i, v: null } }))], { commitUser: 'u', commitIdentifier: 2n, env, compaction: 'none' });
    dataReads.length = 0;
    const second = await openPaimonPages(port, root, {}, 'ns.t', () => BUDGET);
    const p = await second.window(0, 10);
    expect(p.totalPending).toBe(true);
    expect(p.totalRows).toBeGreaterThanOrEqual(370);
    // Bucket 0's two runs only.
    expect(new Set(dataReads.map((f) => f.split('/').at(-2))).size).toBe(1);
    expect(await second.count()).toBe(370);
    const whole = await scanPaimonRows(storage, root);
    expect(p.rows).toEqual(whole.rows.slice(0, 10).map((r) => [r.k, r.v]));
    // Groups kept for the next pages stay within the budget: with room for about one, paging back
    // to bucket 0 reads it again; with room for all, it does not.
    const version = await openPaimonVersion(storage, root);
    const groups = paimonReadGroups(version.schema, version.files);
    const one = Math.max(...groups.map((g) => estimatePaimonBytes(g, version.schema.fields))) * 1.5;
    const rereads = async (budget: number) => {
      const pages = await openPaimonPages(port, root, {}, 'ns.t', () => budget);
      const live0 = (await readPaimonRows(storage, version.schema, groups[0]!, { fields: [], fileSchemas: version.fileSchemas })).length;
      await pages.window(0, 1);
      await pages.count();
      dataReads.length = 0;
      await pages.window(live0 - 1, 2); // the end of bucket 0 and the start of bucket 1
      await pages.window(0, 1);
      const again = dataReads.filter((f) => f.includes('/bucket-0/')).length;
      expect(dataReads.some((f) => f.includes('/bucket-1/'))).toBe(true);
      return again;
    };
    expect(await rereads(one)).toBeGreaterThan(0);
    expect(await rereads(BUDGET)).toBe(0);
    // The memory budget applies to the one group a page holds, named.
    const tiny = await openPaimonPages(storage, root, {}, 'ns.t', () => 64);
    await expect(tiny.window(0, 10)).rejects.toMatchObject({ code: 'Unsupported', context: { table: 'ns.t', budgetBytes: 64 } });
    await expect(tiny.window(0, 10)).rejects.toThrow(/^reading bucket 0 of Paimon table ns\.t needs about 0\.\d MiB of memory \(\d+ rows in its files × 2 columns\), over the engine's budget of 0\.1 MiB: a page reads its bucket whole/);
  });

  it('property: Tidemark-written tables with updates, deletes and compactions page as the whole-version reader', async () => {
    type Op = { kind: 'commit'; changes: { k: number; p: number; del: boolean; v: number }[] } | { kind: 'compact'; full: boolean };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('commit' as const), changes: fc.array(fc.record({ k: fc.integer({ min: 0, max: 40 }), p: fc.integer({ min: 0, max: 1 }), del: fc.boolean(), v: fc.integer({ min: -1000, max: 1000 }) }), { minLength: 1, maxLength: 25 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), full: fc.boolean() }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 6 }), fc.boolean(), fc.integer({ min: 1, max: 9 }), fc.integer(), async (ops, dv, size, seed) => {
        const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-pages-prop-')), 't');
        const env = seededWriteEnv(seed);
        await createPaimonTable(
          root,
          {
            columns: [{ name: 'k', type: 'INT' }, { name: 'p', type: 'INT' }, { name: 'v', type: 'INT' }],
            primaryKeys: ['k', 'p'],
            partitionKeys: ['p'],
            options: { bucket: '3', 'num-sorted-run.compaction-trigger': '3', ...(dv ? { 'deletion-vectors.enabled': 'true' } : {}) },
          },
          env,
        );
        let id = 0n;
        for (const op of ops) {
          if (op.kind === 'commit') {
            const changes: PaimonChange[] = op.changes.map((c) => (c.del ? { kind: '-D', row: { k: c.k, p: c.p } } : { kind: '+U', row: { k: c.k, p: c.p, v: c.v } }));
            await commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: ++id, env });
          } else await compactPaimonTable(root, { commitUser: 'u', full: op.full, env });
        }
        for (const s of await listPaimonSnapshots(storage, root)) await checkVersion(root, s.snapshotId, size);
      }),
      { numRuns: 25 },
    );
  }, 240_000);
});

describe('the grid calls on a Paimon table', () => {
  it('answer pages and counts bucket by bucket without starting the engine; sorted pages still use it', async () => {
    const { createQueryCalls } = await import('../../core/query/calls');
    const { createLazyReader } = await import('../../core/query/pages/reader');
    const parquet = await import('parquet-wasm');
    const ctx = { emit: () => undefined };
    let asked = 0;
    // As in the renderer: a lazy reader of its own for Iceberg pages (the first page of a table is
    // tried as Iceberg before its format is known).
    const reader = createLazyReader({ parquet, storage });
    const calls = createQueryCalls({
      storage,
      pages: async () => reader,
      engine: async () => {
        asked++;
        return engine;
      },
    });
    const root = join(fixtures, 'pk_table_scan_and_read_mor');
    const page = await calls['query.page']({ path: root, offset: 1, limit: 3, sort: [], filters: [] }, ctx);
    const whole = await scanPaimonRows(storage, root);
    expect(page.rows).toEqual(whole.rows.slice(1, 4).map((r) => whole.columns.map((c) => r[c.name])));
    expect(page.offset).toBe(1);
    expect(page.snapshotId).toBe(whole.snapshotId);
    expect((await calls['query.count']({ path: root }, ctx)).rows).toBe(whole.rows.length);
    expect(asked).toBe(0);
    const first = whole.columns[0]!.name;
    const sorted = await calls['query.page']({ path: root, offset: 0, limit: 2, sort: [{ column: first, desc: true }], filters: [] }, ctx);
    expect(asked).toBeGreaterThan(0);
    expect(sorted.totalRows).toBe(whole.rows.length);
  });
});
