import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countPaimonRows, listPaimonSnapshots, listPaimonTagNames, readPaimonSchema, scanPaimonRows } from '../../core/lake/paimon';
import { createLocalStorage } from '../../core/storage/node/index';
import { copyTable, expectError, tableRoot } from './helpers';

const storage = createLocalStorage();
const mor = tableRoot('pk_table_scan_and_read_mor');

describe('paimon time travel', () => {
  it('by timestamp: the latest snapshot committed at or before it', async () => {
    const snaps = await listPaimonSnapshots(storage, mor);
    const t2 = snaps[1]!.timestampMs;
    const t3 = snaps[2]!.timestampMs;
    expect((await scanPaimonRows(storage, mor, { asOfTimestampMs: t2 })).snapshotId).toBe(2n);
    expect((await scanPaimonRows(storage, mor, { asOfTimestampMs: t3 - 1 })).snapshotId).toBe(2n);
    expect(await countPaimonRows(storage, mor, { asOfTimestampMs: t2 })).toBe(8);
    expect((await scanPaimonRows(storage, mor, { asOfTimestampMs: Date.now() })).snapshotId).toBe(5n);
    expect((await readPaimonSchema(storage, mor, { asOfTimestampMs: t2 })).schemaId).toBe(0);
    await expectError(countPaimonRows(storage, mor, { asOfTimestampMs: snaps[0]!.timestampMs - 1 }), 'NotFound', 'no snapshot at or before');
    await expectError(countPaimonRows(storage, mor, { asOfTimestampMs: Number.NaN }), 'InvalidInput', 'asOfTimestampMs');
  });

  it('by tag: the tag file carries its snapshot', async () => {
    const root = copyTable('pk_table_scan_and_read_mor');
    mkdirSync(join(root, 'tag'));
    const snap2 = JSON.parse(readFileSync(join(root, 'snapshot', 'snapshot-2'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(root, 'tag', 'tag-release'), JSON.stringify({ ...snap2, tagCreateTime: [2025, 8, 27, 10, 0, 0, 0], tagTimeRetained: null }, null, 2));
    expect(await listPaimonTagNames(storage, root)).toEqual(['release']);
    const { rows, snapshotId } = await scanPaimonRows(storage, root, { tag: 'release' });
    expect(snapshotId).toBe(2n);
    expect(rows).toHaveLength(8);
    expect(rows.find((r) => r.f0 === 'Alice')).toEqual({ f0: 'Alice', f1: 10, f2: 1, f3: 19.1 });
    expect(rows.find((r) => r.f0 === 'Tony')).toBeUndefined();
    await expectError(scanPaimonRows(storage, root, { tag: 'nope' }), 'NotFound', 'tag "nope" not found', 'tags: release');
  });

  it('only one selector at a time', async () => {
    await expectError(scanPaimonRows(storage, mor, { snapshotId: 1n, tag: 'x' }), 'InvalidInput', 'at most one');
  });

  it('EARLIEST / LATEST hints are not trusted: the folder listing is', async () => {
    const root = copyTable('pk_table_scan_and_read_mor');
    writeFileSync(join(root, 'snapshot', 'LATEST'), '3');
    writeFileSync(join(root, 'snapshot', 'EARLIEST'), '4');
    expect((await listPaimonSnapshots(storage, root)).map((s) => s.snapshotId)).toEqual([1n, 2n, 3n, 4n, 5n]);
    const { snapshotId, rows } = await scanPaimonRows(storage, root);
    expect(snapshotId).toBe(5n);
    expect(rows).toHaveLength(11);
  });

  it('a table with a schema but no snapshot yet is empty', async () => {
    const root = copyTable('pk_table_scan_and_read_mor');
    const { rmSync } = await import('node:fs');
    rmSync(join(root, 'snapshot'), { recursive: true });
    expect(await listPaimonSnapshots(storage, root)).toEqual([]);
    const res = await scanPaimonRows(storage, root);
    expect(res.snapshotId).toBeNull();
    expect(res.rows).toEqual([]);
    expect(res.columns.map((c) => c.name)).toEqual(['f0', 'f1', 'f2', 'f3']);
    expect(await countPaimonRows(storage, root)).toBe(0);
  });
});
