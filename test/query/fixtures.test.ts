import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanRows } from '../../core/lake/row-reader';
import { valueKey } from '../../core/lake/values';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const root = join(FIXTURES, 'iceberg');
const expected = JSON.parse(readFileSync(join(root, 'expected.json'), 'utf8')) as {
  tables: Record<string, { rows?: Record<string, number>; missingFiles?: Record<string, string> }>;
};
const storage = createLocalStorage();
let engine: QueryEngine;

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
});
afterAll(async () => {
  await engine?.close();
});

function sortedKeys(rows: Record<string, unknown>[] | unknown[][]): string[] {
  return rows.map((r) => valueKey(Array.isArray(r) ? r : Object.values(r))).sort();
}

describe('DuckDB-wasm merge-on-read equals the reference reader on every fixture snapshot', () => {
  for (const [name, t] of Object.entries(expected.tables)) {
    for (const [snapshot, count] of Object.entries(t.rows ?? {})) {
      it(`${name} @ ${snapshot}: ${count} rows`, async () => {
        const table = join(root, name);
        const snapshotId = BigInt(snapshot);
        expect(await engine.count(table, { snapshotId })).toBe(count);
        const page = await engine.scan(table, { snapshotId });
        const reference = await scanRows(storage, table, { snapshotId });
        expect(page.rows).toHaveLength(count);
        expect(page.columns.map((c) => c.name)).toEqual(reference.columns.map((c) => c.name));
        expect(sortedKeys(page.rows)).toEqual(sortedKeys(reference.rows));
      });
    }
  }
});

describe('lazy grid pages and counts equal the reference reader on every fixture snapshot', () => {
  for (const [name, t] of Object.entries(expected.tables)) {
    for (const [snapshot, count] of Object.entries(t.rows ?? {})) {
      it(`${name} @ ${snapshot}: ${count} rows, in file order, by windows`, async () => {
        const table = join(root, name);
        const snapshotId = BigInt(snapshot);
        const reference = await scanRows(storage, table, { snapshotId });
        const rows = reference.rows.map((r) => reference.columns.map((c) => r[c.name]));
        const whole = await engine.window(table, { snapshotId }, 0, count + 10);
        expect(whole.columns.map((c) => c.name)).toEqual(reference.columns.map((c) => c.name));
        expect(whole.rows).toEqual(rows);
        // Windows that start and end anywhere, across files and row groups.
        for (const [offset, limit] of [[1, 2], [Math.floor(count / 2), 7], [Math.max(0, count - 3), 5], [count, 4]] as const) {
          expect((await engine.window(table, { snapshotId }, offset, limit)).rows, `${offset}+${limit}`).toEqual(rows.slice(offset, offset + limit));
        }
        expect(await engine.lazy.count(table, { snapshotId })).toBe(count);
        const after = await engine.window(table, { snapshotId }, 0, 1);
        expect(after).toMatchObject({ totalRows: count, totalPending: false });
      });
    }
  }
});
