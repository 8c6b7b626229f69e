/**
 * When the renderer's engine starts DuckDB-wasm: not with the first grid page (its instantiation
 * competed with that page's decoding and paint), but once the worker is idle after a page of rows,
 * or with the first call that needs it; grid pages, counts and refreshes never need it for Iceberg tables.
 */
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { describe, expect, it, vi } from 'vitest';
import type { HandlerContext } from '../../core/api/contract';
import { scanRows } from '../../core/lake/row-reader';
import { loadTable } from '../../core/lake/table';
import { createQueryCalls, startWhenIdleAfterFirstPage, type QueryCalls } from '../../core/query/calls';
import type { QueryEngine } from '../../core/query/engine';
import { createLazyReader } from '../../core/query/pages/reader';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const ctx: HandlerContext = { emit: () => undefined };
const table = join(FIXTURES, 'iceberg/icebird/java_bunnies');

function noEngine(): { calls: QueryCalls; engineAsked: () => number; forgotten: string[] } {
  const storage = createLocalStorage();
  const reader = createLazyReader({ parquet, storage });
  const forgotten: string[] = [];
  const forget = reader.forget.bind(reader);
  reader.forget = (root) => {
    forgotten.push(root);
    forget(root);
  };
  let asked = 0;
  const calls = createQueryCalls({
    storage,
    engine: () => {
      asked++;
      return Promise.reject(new Error('DuckDB is not started in this test'));
    },
    pages: async () => reader,
  });
  return { calls, engineAsked: () => asked, forgotten };
}

describe('starting DuckDB after the first page', () => {
  it('Iceberg pages, counts and refreshes are answered without the engine', async () => {
    const { calls, engineAsked, forgotten } = noEngine();
    const page = await calls['query.page']({ path: table, offset: 0, limit: 3, sort: [], filters: [] }, ctx);
    expect(page.rows).toHaveLength(3);
    const count = await calls['query.count']({ path: table }, ctx);
    const storage = createLocalStorage();
    expect(count.rows).toBe((await scanRows(storage, await loadTable(storage, table), {})).rows.length);
    expect(await calls['query.refresh']({ path: table }, ctx)).toEqual({ path: table });
    expect(forgotten).toEqual([table]);
    expect(engineAsked()).toBe(0);
  });

  it('starts once the worker is idle after the first page with rows (answered or failed), not after a columns-only page', async () => {
    vi.useFakeTimers();
    try {
      const starts: string[] = [];
      const held: (() => void)[] = [];
      const fake = {
        'query.page': async (input: { path: string; limit: number }) => {
          if (input.path === 'held') await new Promise<void>((r) => held.push(r));
          if (input.path === 'bad') throw new Error('no such table');
          return { columns: [], rows: [], totalRows: 0, totalPending: false, offset: 0, snapshotId: null };
        },
        'query.count': async () => {
          await new Promise<void>((r) => held.push(r));
          return { rows: 7 };
        },
      } as unknown as QueryCalls;
      const calls = startWhenIdleAfterFirstPage(fake, () => starts.push(`start at ${Date.now()}`), 500);
      const req = (path: string, limit: number) => ({ path, offset: 0, limit, sort: [], filters: [] });
      const t0 = Date.now();
      await calls['query.page'](req('t', 0), ctx);
      await vi.advanceTimersByTimeAsync(2000);
      expect(starts).toEqual([]);
      // The first page of rows, answered late; the count asked 100 ms after it runs for a second.
      const page = calls['query.page'](req('held', 200), ctx);
      await vi.advanceTimersByTimeAsync(1000);
      held.shift()!();
      await page;
      await vi.advanceTimersByTimeAsync(100);
      const count = calls['query.count']({ path: 't' }, ctx);
      await vi.advanceTimersByTimeAsync(1000);
      expect(starts).toEqual([]);
      held.shift()!();
      expect(await count).toEqual({ rows: 7 });
      await vi.advanceTimersByTimeAsync(499);
      expect(starts).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(starts).toEqual([`start at ${t0 + 2000 + 1000 + 100 + 1000 + 500}`]);
      await calls['query.page'](req('t', 200), ctx);
      await vi.advanceTimersByTimeAsync(5000);
      expect(starts).toHaveLength(1);

      const failing = startWhenIdleAfterFirstPage(fake, () => starts.push('after a failure'), 500);
      await expect(failing['query.page'](req('bad', 200), ctx)).rejects.toThrow('no such table');
      await vi.advanceTimersByTimeAsync(500);
      expect(starts.at(-1)).toBe('after a failure');
    } finally {
      vi.useRealTimers();
    }
  });

  it('a call that needs the engine before any page starts it itself', async () => {
    let asked = 0;
    const storage = createLocalStorage();
    const calls = startWhenIdleAfterFirstPage(
      createQueryCalls({
        storage,
        engine: async () => {
          asked++;
          return { query: async () => ({ columns: [], rows: [] }) } as unknown as QueryEngine;
        },
      }),
      () => undefined,
      500,
    );
    await calls['query.sql']({ warehouse: join(FIXTURES, 'iceberg/icebird'), sql: 'SELECT 1', limit: 10 }, ctx).catch(() => undefined);
    expect(asked).toBe(1);
  });

  it('a first page with leadColumns carries only those columns of each row, and lists every column', async () => {
    const { calls } = noEngine();
    const full = await calls['query.page']({ path: table, offset: 0, limit: 5, sort: [], filters: [] }, ctx);
    const lead = await calls['query.page']({ path: table, offset: 0, limit: 5, sort: [], filters: [], leadColumns: 2 }, ctx);
    expect(full.columns.length).toBeGreaterThan(2);
    expect(lead.columns).toEqual(full.columns);
    expect(lead.rows).toEqual(full.rows.map((r) => r.slice(0, 2)));
    expect(lead.totalRows).toBe(full.totalRows);
    // Sorted pages carry whole rows.
    const sorted = await calls['query.page']({ path: table, offset: 0, limit: 5, sort: [{ column: full.columns[0]!.name, desc: false }], filters: [], leadColumns: 2 }, ctx);
    expect(sorted.rows.every((r) => r.length === full.columns.length)).toBe(true);
  });
});
