import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendRows, createTable, seededWriteEnv } from '../../core/lake/write';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonBigint, scanRows } from '../../core/lake';
import { valueKey } from '../../core/lake/values';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { readKeyHistory } from '../../core/query/key-history';
import { diffRows } from '../../core/query/row-diff';
import { openTableSource } from '../../core/query/table-source';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectCode, plain } from '../lake/helpers';
import { FIXTURES } from '../support/fixtures';

/**
 * The query engine on every Iceberg v3 fixture (test/fixtures/iceberg-v3/expected.json): DuckDB-wasm
 * merge-on-read (deletion vectors as position deletes, row-lineage columns, variants as JSON) and
 * the lazy grid pages agree with expected.json and with the reference row reader.
 */
const root = join(FIXTURES, 'iceberg-v3');
const expected = parseJsonBigint(readFileSync(join(root, 'expected.json'), 'utf8')) as {
  tables: Record<string, { rows?: Record<string, number>; current?: { orderBy?: string; values?: Record<string, unknown[]>; error?: string } }>;
};
const storage = createLocalStorage();
let engine: QueryEngine;

beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
});
afterAll(async () => {
  await engine?.close();
});

const sortedKeys = (rows: unknown[][]) => rows.map((r) => valueKey(r)).sort();

describe('query engine on Iceberg v3 fixtures', () => {
  for (const [name, t] of Object.entries(expected.tables)) {
    const table = join(root, name);
    for (const [snapshot, count] of Object.entries(t.rows ?? {})) {
      it(`${name} @ ${snapshot}: ${count} rows by count, SQL scan and grid windows`, async () => {
        const snapshotId = BigInt(snapshot);
        expect(await engine.count(table, { snapshotId })).toBe(Number(count));
        const reference = await scanRows(storage, table, { snapshotId });
        const rows = reference.rows.map((r) => reference.columns.map((c) => r[c.name]));
        const page = await engine.scan(table, { snapshotId });
        expect(page.rows).toHaveLength(Number(count));
        expect(sortedKeys(page.rows)).toEqual(sortedKeys(rows));
        expect((await engine.window(table, { snapshotId }, 0, Number(count) + 5)).rows).toEqual(rows);
      });
    }
    const cur = t.current;
    if (cur?.values) {
      it(`${name}: current values by ${cur.orderBy} through SQL`, async () => {
        const columns = Object.keys(cur.values!);
        const page = await engine.scan(table, { columns });
        const k = columns.indexOf(cur.orderBy!);
        const rows = [...page.rows].sort((a, b) => (Number(a[k]) < Number(b[k]) ? -1 : 1));
        columns.forEach((c, i) => expect(rows.map((r) => plain(r[i])), c).toEqual(plain(cur.values![c])));
      });
    }
    if (cur?.error) {
      it(`${name}: ${cur.error}`, async () => {
        const puffin = /legacy-bare-deletion-vector\.puffin: expected a Puffin file/;
        await expectCode(engine.scan(table), 'DataInvalid', puffin);
        await expectCode(engine.count(table), 'DataInvalid', puffin);
        await expectCode(engine.window(table, {}, 0, 10), 'DataInvalid', puffin);
      });
    }
  }
});

describe('row diff and key history over deletion vectors', () => {
  it('the rows two DVs delete are the diff between the snapshots, and a key shows its deletion', async () => {
    const source = await openTableSource(engine, join(root, 'impala/iceberg_v3_deletion_vectors'));
    const diff = await diffRows(engine, source, 2700858159721908397n, 3685752423136077685n, { key: ['i'] });
    expect(diff).toMatchObject({ addedCount: 0, removedCount: 2, changedCount: 0 });
    expect(plain(diff.removed)).toEqual([{ i: 2 }, { i: 4 }]);
    const history = await readKeyHistory(engine, source, { i: '4' });
    expect(history.map((v) => [v.snapshotId, v.status])).toEqual([
      [2700858159721908397n, 'inserted'],
      [3685752423136077685n, 'deleted'],
    ]);
  });
});

describe('a struct column added with a non-null default', () => {
  it('reads as a struct of its fields own initial-defaults, in the lake reader and in SQL (spec "Default values")', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tm-v3-default-')), 't');
    const env = seededWriteEnv(3);
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }], env });
    await appendRows(root, [{ id: 1n }], { env });
    // Add the column the way a v3 writer records it: `{}` on the struct, the values on its fields.
    const dir = join(root, 'metadata');
    const file = join(dir, readdirSync(dir).filter((n) => n.endsWith('.metadata.json')).sort().at(-1)!);
    const json = JSON.parse(readFileSync(file, 'utf8')) as { schemas: { fields: unknown[] }[] };
    json.schemas[0]!.fields.push({
      id: 2, name: 'point', required: false, 'initial-default': {},
      type: { type: 'struct', fields: [{ id: 3, name: 'x', required: false, type: 'int', 'initial-default': 7 }, { id: 4, name: 'y', required: false, type: 'string' }] },
    });
    writeFileSync(file, JSON.stringify(json));
    expect((await scanRows(storage, root)).rows).toEqual([{ id: 1n, point: { x: 7, y: null } }]);
    const page = await engine.scan(root);
    expect(page.rows).toEqual([[1n, { x: 7, y: null }]]);
  });
});
