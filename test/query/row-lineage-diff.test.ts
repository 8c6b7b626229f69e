import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, makeData, RecordBatch, Struct, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanRows } from '../../core/lake';
import type { QueryEngine } from '../../core/query/engine';
import { readKeyHistory } from '../../core/query/key-history';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { diffRows } from '../../core/query/row-diff';
import { openTableSource } from '../../core/query/table-source';
import { createLocalStorage } from '../../core/storage/node/index';
import { plain } from '../lake/helpers';
import { FIXTURES } from '../support/fixtures';

/**
 * Row diff by `_row_id` on a v3 table with row lineage: impala/iceberg_v3_row_lineage (three
 * appends of i = 1, 2, 3, then a Spark compaction that materialized `_row_id` 0, 1, 2), copied, with
 * the compacted file rewritten so that the row with `_row_id` 1 now has i = 20 — what an engine that
 * updates a row (key column included) in place writes. The same row, though its key changed.
 */
const storage = createLocalStorage();
const APPENDS = 2872597867664652808n; // i = 1, 2, 3 in three files, _row_id inherited
const COMPACTED = 5398841822738664432n; // one file, _row_id materialized
const COMPACTED_FILE = 'data/00000-1-9e4c5793-eb01-410d-a963-807e22437794-0-00001.parquet';
let engine: QueryEngine;
let work: string;
let root: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tm-lineage-'));
  root = join(work, 't');
  cpSync(join(FIXTURES, 'iceberg-v3/impala/iceberg_v3_row_lineage'), root, { recursive: true });
  const path = join(root, COMPACTED_FILE);
  const t = tableFromIPC(parquet.readParquet(readFileSync(path)).intoIPCStream());
  const iIndex = t.schema.fields.findIndex((f) => f.name === 'i');
  const ids = t.getChild('_row_id')!.toArray() as BigInt64Array;
  const i = Int32Array.from(t.getChildAt(iIndex)!.toArray() as Int32Array, (v, k) => (ids[k] === 1n ? 20 : v));
  // Same schema (field ids kept), the i column replaced.
  const children = t.schema.fields.map((_f, k) => (k === iIndex ? makeData({ type: new Int32(), length: i.length, data: i }) : t.getChildAt(k)!.data[0]!));
  const batch = new RecordBatch(t.schema, makeData({ type: new Struct(t.schema.fields), length: i.length, nullCount: 0, children }));
  const written = parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(new Table([batch]), 'stream')));
  writeFileSync(path, written);
  engine = await createNodeQueryEngine(storage);
});
afterAll(async () => {
  await engine?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('row diff by _row_id (Iceberg v3 row lineage)', () => {
  it('the rewritten file reads i = 1, 20, 3 with _row_id 0, 1, 2', async () => {
    const { rows } = await scanRows(storage, root, { snapshotId: COMPACTED, columns: ['i', '_row_id'] });
    expect(plain(rows.sort((x, y) => Number(x._row_id) - Number(y._row_id)))).toEqual(plain([{ i: 1, _row_id: 0n }, { i: 20, _row_id: 1n }, { i: 3, _row_id: 2n }]));
  });

  it('without a key: the row with _row_id 1 changed; rows only moved by the compaction are not listed', async () => {
    const source = await openTableSource(engine, root);
    const diff = await diffRows(engine, source, APPENDS, COMPACTED);
    expect(diff).toMatchObject({ addedCount: 0, removedCount: 0, changedCount: 1, added: [], removed: [] });
    expect(plain(diff.changed)).toEqual(plain([{ key: { _row_id: 1n }, before: { i: 2 }, after: { i: 20 }, changedColumns: ['i'] }]));
  });

  it('with the key i: still one changed row (its key changed from 2 to 20), not a removal and an addition', async () => {
    const source = await openTableSource(engine, root);
    const diff = await diffRows(engine, source, APPENDS, COMPACTED, { key: ['i'] });
    expect(diff).toMatchObject({ addedCount: 0, removedCount: 0, changedCount: 1 });
    expect(plain(diff.changed)).toEqual(plain([{ key: { i: 20 }, before: { i: 2 }, after: { i: 20 }, changedColumns: ['i'] }]));
    // The other direction reads the same row the other way round.
    const back = await diffRows(engine, source, COMPACTED, APPENDS, { key: ['i'] });
    expect(plain(back.changed)).toEqual(plain([{ key: { i: 2 }, before: { i: 20 }, after: { i: 2 }, changedColumns: ['i'] }]));
    expect(await diffRows(engine, source, COMPACTED, COMPACTED, { key: ['i'] })).toMatchObject({ addedCount: 0, removedCount: 0, changedCount: 0 });
  });

  it('a v2 table (no lineage) diffs the same change as a removal and an addition', async () => {
    const source = await openTableSource(engine, join(FIXTURES, 'iceberg-v3/impala/iceberg_v3_deletion_vectors'));
    const diff = await diffRows(engine, source, 2700858159721908397n, 3685752423136077685n, { key: ['i'] });
    expect(diff).toMatchObject({ addedCount: 0, removedCount: 2, changedCount: 0 });
  });

  it('key history follows the row by _row_id when its key changes', async () => {
    const source = await openTableSource(engine, root);
    const history = await readKeyHistory(engine, source, { i: '2' });
    expect(history.map((v) => [v.snapshotId, v.status])).toEqual([
      [7384452996480084466n, 'inserted'],
      [APPENDS, 'unchanged'],
      [COMPACTED, 'updated'],
    ]);
    expect(plain(history.at(-1)!.rows)).toEqual(plain([{ i: 20 }]));
  });
});
