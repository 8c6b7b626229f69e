/**
 * Column statistics of a table version computed one column at a time over full-pass versions (live
 * masks for the deletes) equal the statistics over the merge-on-read SQL view of the whole version,
 * on a table with upserts, key deletes and position deletes; the columns' files are dropped after
 * each column.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planScan } from '../../core/lake/scan-plan';
import { loadTable } from '../../core/lake/table';
import { appendRows, applyRowDelta, createTable } from '../../core/lake/write';
import { readColumnStats, readVersionStats } from '../../core/query/column-stats';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { icebergSource } from '../../core/query/table-source';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
let engine: QueryEngine;
let dir: string;
beforeAll(async () => {
  engine = await createNodeQueryEngine(storage);
  dir = await mkdtemp(join(tmpdir(), 'tidemark-vstats-'));
});
afterAll(async () => {
  await engine?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('version statistics', () => {
  it('equal the statistics of the merged version, column by column, at every snapshot', async () => {
    const root = join(dir, 't');
    await createTable(root, {
      columns: [{ name: 'id', type: 'long', required: true }, { name: 'name', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'price', type: 'double' }, { name: 'at', type: 'timestamp' }],
      identifierColumns: ['id'],
    });
    const row = (id: number, tag: string) => ({ id: BigInt(id), name: id % 5 === 0 ? null : `${tag}${id % 7}`, qty: id % 4 === 0 ? null : id % 11, price: id / 8, at: `2026-0${1 + (id % 9)}-1${id % 10}T0${id % 10}:00:00` });
    await appendRows(root, Array.from({ length: 60 }, (_x, i) => row(i, 'a')));
    await appendRows(root, Array.from({ length: 40 }, (_x, i) => row(60 + i, 'b')));
    await applyRowDelta(root, { upserts: [row(3, 'u'), row(70, 'u')], deleteKeys: [{ id: 10n }, { id: 65n }] });
    const plan = await planScan(storage, root);
    await applyRowDelta(root, { positionDeletes: [{ filePath: plan.files[0]!.originalPath, pos: 1 }, { filePath: plan.files[1]!.originalPath, pos: 2 }] });
    const table = await loadTable(storage, root);
    const source = icebergSource(engine, table);
    for (const s of source.snapshots) {
      const got = await readVersionStats(engine, table, { snapshotId: s.snapshotId });
      const relation = await source.relation(s.snapshotId, { lazy: true });
      const want = await readColumnStats(engine, { relation, columns: (await engine.plan(table, { snapshotId: s.snapshotId })).schema.fields });
      expect(got).toEqual(want);
      expect(got.map((c) => c.count)).toEqual(Array(5).fill(await engine.count(table, { snapshotId: s.snapshotId })));
    }
    // Each column's files were dropped after use: none of the version's columns stays loaded.
    const tables = await engine.query(`SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE 'tm_dead%'`);
    expect(tables.rows[0]![0]).toBe(0n);
  });
});
