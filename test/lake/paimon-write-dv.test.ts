import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPaimonFiles, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, type PaimonChange } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { readAvroFile } from '../../core/lake/serde/avro';
import { createLocalStorage } from '../../core/storage/node';
import { copyTable, tableRoot } from '../paimon/helpers';
import { listPaimonSnapshotIds } from '../../core/lake/paimon/snapshot';

/**
 * Deletion-vector tables: batch reads skip level 0 and do not merge, so each commit is followed by
 * Java's ForceUpLevel0 compaction, which marks the older version of every rewritten key in a
 * deletion vector (index/ files named by the snapshot's index manifest).
 */

const storage = createLocalStorage();
type Row = Record<string, unknown>;
const key = (r: Row) => `${r.f0}|${r.f1}|${r.f2}`;
const sorted = (rows: Row[]) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Row;

describe('Paimon writer: deletion vectors', () => {
  it('appending to a copy of Java’s DV table merges every pending level-0 file and marks old rows', async () => {
    const root = copyTable('pk_table_scan_and_read_dv');
    // The DV fixture got the same messages as the merge-on-read one; its last two commits are still
    // in level 0 (invisible to batch reads) until a compaction takes them up.
    const allMessages = (await scanPaimonRows(storage, tableRoot('pk_table_scan_and_read_mor'))).rows;
    expect((await scanPaimonRows(storage, root)).rows).toHaveLength(8);
    const env = seededWriteEnv(41);
    const changes: PaimonChange[] = [
      { kind: '+U', row: { f0: 'Bob', f1: 10, f2: 0, f3: 99.5 } },
      { kind: '-D', row: { f0: 'Paul', f1: 20, f2: 1 } },
      { kind: '+I', row: { f0: 'Zed', f1: 20, f2: 0, f3: 1 } },
      { kind: '+U', row: { f0: 'Alice', f1: 10, f2: 1, f3: 20.5 } },
    ];
    const result = await commitPaimonChanges(root, changes, { commitUser: 'tidemark-sync', commitIdentifier: 5n, env });
    expect(result!.snapshotId).toBe(7n);
    expect(result!.compaction!.snapshotId).toBe(8n);
    const expected = new Map(allMessages.map((r) => [key(r), r]));
    expected.set('Bob|10|0', { f0: 'Bob', f1: 10, f2: 0, f3: 99.5 });
    expected.delete('Paul|20|1');
    expected.set('Zed|20|0', { f0: 'Zed', f1: 20, f2: 0, f3: 1 });
    expected.set('Alice|10|1', { f0: 'Alice', f1: 10, f2: 1, f3: 20.5 });
    const rows = (await scanPaimonRows(storage, root)).rows;
    expect(sorted(rows)).toEqual(sorted([...expected.values()]));

    const files = await listPaimonFiles(storage, root);
    expect(files.filter((f) => f.level === 0)).toEqual([]);
    // Live rows = rows in files minus rows their vectors delete: no key is read twice.
    const live = files.reduce((n, f) => n + f.recordCount - (f.deletionVector?.deletedRows ?? 0), 0);
    expect(live).toBe(rows.length);
    // Each bucket's new level-0 file was small beside its lower runs, so size ratio took them all
    // into the max level (Java's pick): Java's vectors went with the files they marked.
    expect(new Set(files.map((f) => f.level))).toEqual(new Set([5]));
    expect(json(join(root, 'snapshot', 'snapshot-8'))).toMatchObject({ commitKind: 'COMPACT', commitUser: 'tidemark-sync', commitIdentifier: 5 });
    // The APPEND snapshot in between kept Java's index manifest.
    expect(json(join(root, 'snapshot', 'snapshot-7')).indexManifest).toBe(json(join(root, 'snapshot', 'snapshot-6')).indexManifest);
  });

  it('a table created with deletion vectors reads as its model after every commit', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-dv-')), 't');
    const env = seededWriteEnv(42);
    await createPaimonTable(
      root,
      { columns: [{ name: 'k', type: 'INT' }, { name: 'p', type: 'STRING' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k', 'p'], partitionKeys: ['p'], options: { bucket: '2', 'deletion-vectors.enabled': 'true' } },
      env,
    );
    const model = new Map<string, Row>();
    const apply = async (id: bigint, changes: PaimonChange[]) => {
      await commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: id, env });
      for (const c of changes) {
        const k = `${c.row.k}|${c.row.p}`;
        if (c.kind === '-D' || c.kind === '-U') model.delete(k);
        else model.set(k, { k: c.row.k, p: c.row.p, v: c.row.v });
      }
      const rows = (await scanPaimonRows(storage, root)).rows;
      const expected = [...model.values()];
      const order = (r: Row) => `${r.p}|${String(r.k).padStart(4, '0')}`;
      expect(rows.map(order).sort()).toEqual(expected.map(order).sort());
      expect([...rows].sort((a, b) => (order(a) < order(b) ? -1 : 1))).toEqual([...expected].sort((a, b) => (order(a) < order(b) ? -1 : 1)));
    };
    await apply(1n, Array.from({ length: 30 }, (_, i) => ({ kind: '+I' as const, row: { k: i, p: i % 2 ? 'a' : 'b', v: `v${i}` } })));
    await apply(2n, [
      { kind: '+U', row: { k: 1, p: 'a', v: 'one' } },
      { kind: '-D', row: { k: 2, p: 'b' } },
      { kind: '+U', row: { k: 29, p: 'a', v: 'last' } },
    ]);
    await apply(3n, [
      { kind: '+U', row: { k: 1, p: 'a', v: 'uno' } },
      { kind: '+I', row: { k: 2, p: 'b', v: 'back' } },
      { kind: '-D', row: { k: 3, p: 'a' } },
    ]);
    for (let i = 4n; i < 10n; i++) await apply(i, [{ kind: '+U', row: { k: Number(i), p: Number(i) % 2 ? 'a' : 'b', v: `round ${i}` } }]);
    const files = await listPaimonFiles(storage, root);
    expect(files.every((f) => f.level > 0)).toBe(true);
    // Small updates over the first commit's max-level files: they went to level 4 and the old
    // versions are marked in vectors of the level-5 files.
    const withDv = files.filter((f) => f.deletionVector !== null);
    expect(withDv.length).toBeGreaterThan(0);
    expect(withDv.every((f) => f.level === 5)).toBe(true);
    const live = files.reduce((n, f) => n + f.recordCount - (f.deletionVector?.deletedRows ?? 0), 0);
    expect(live).toBe(model.size);
    const snap = json(join(root, 'snapshot', `snapshot-${(await listPaimonSnapshotIds(storage, root)).pop()}`));
    expect(snap.indexManifest).toMatch(/^index-manifest-[0-9a-f-]{36}-0$/);
    // The index manifest's Avro schema is Java's.
    const ours = await readAvroFile(readFileSync(join(root, 'manifest', snap.indexManifest as string)), 'ours');
    const javaTable = tableRoot('pk_table_scan_and_read_dv');
    const java = await readAvroFile(readFileSync(join(javaTable, 'manifest', json(join(javaTable, 'snapshot', 'snapshot-6')).indexManifest as string)), 'java');
    expect(ours.schema).toEqual(java.schema);
    expect(ours.records.length).toBeGreaterThan(0);
    expect(ours.records.every((r) => r._VERSION === 1 && r._INDEX_TYPE === 'DELETION_VECTORS' && /^index-[0-9a-f-]{36}-\d+$/.test(r._FILE_NAME as string))).toBe(true);
    // A full compaction folds the vectors into rewritten files: none are left.
    await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    const after = await listPaimonFiles(storage, root);
    expect(after.every((f) => f.level === 5 && f.deletionVector === null)).toBe(true);
    expect((await scanPaimonRows(storage, root)).rows).toHaveLength(model.size);
  });
});
