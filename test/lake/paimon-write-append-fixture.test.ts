import { describe, expect, it } from 'vitest';
import { listPaimonFiles, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, lastPaimonCommit } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { copyTable, tableRoot } from '../paimon/helpers';

/**
 * Appending to a copy of a table Java Paimon wrote (pk_table_scan_and_read_mor, 5 snapshots): the
 * old rows stay, the new changes merge with them by key and sequence number, before and after
 * compaction, and the Java snapshots still read as they did.
 */

const storage = createLocalStorage();
type Row = Record<string, unknown>;
const key = (r: Row) => `${r.f0}|${r.f1}|${r.f2}`;
const sorted = (rows: Row[]) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

describe('Paimon writer: appending to a Java-written primary-key table', () => {
  it('keeps the old rows and merges the new ones by key and sequence number', async () => {
    const original = tableRoot('pk_table_scan_and_read_mor');
    const root = copyTable('pk_table_scan_and_read_mor');
    const before = (await scanPaimonRows(storage, original)).rows;
    expect(before).toHaveLength(11);
    const javaFiles = await listPaimonFiles(storage, root);
    const maxSeq = new Map<string, bigint>();
    for (const f of javaFiles) {
      const id = `${f.partition.f1}|${f.bucket}`;
      if ((maxSeq.get(id) ?? -1n) < f.maxSequenceNumber) maxSeq.set(id, f.maxSequenceNumber);
    }

    const env = seededWriteEnv(31);
    const result = await commitPaimonChanges(
      root,
      [
        { kind: '-U', row: { f0: 'Bob', f1: 10, f2: 0, f3: 12.1 } },
        { kind: '+U', row: { f0: 'Bob', f1: 10, f2: 0, f3: 99.5 } },
        { kind: '+U', row: { f0: 'Marco', f1: 10, f2: 0, f3: 55 } },
        { kind: '-D', row: { f0: 'Lucy', f1: 20, f2: 1 } },
        { kind: '+I', row: { f0: 'Zed', f1: 20, f2: 0, f3: 1 } },
        { kind: '+I', row: { f0: 'Alice', f1: 10, f2: 1, f3: 20.5 } },
        // Alex was deleted by Java in snapshot 5: deleting it again changes nothing.
        { kind: '-D', row: { f0: 'Alex', f1: 10, f2: 0 } },
      ],
      { commitUser: 'tidemark-sync', commitIdentifier: 1n, properties: { 'source.offset': 'mysql-bin.000003:1234' }, compaction: 'none', env },
    );
    expect(result!.snapshotId).toBe(6n);

    const expected = new Map(before.map((r) => [key(r), r]));
    expected.set('Bob|10|0', { f0: 'Bob', f1: 10, f2: 0, f3: 99.5 });
    expected.set('Marco|10|0', { f0: 'Marco', f1: 10, f2: 0, f3: 55 });
    expected.delete('Lucy|20|1');
    expected.set('Zed|20|0', { f0: 'Zed', f1: 20, f2: 0, f3: 1 });
    expected.set('Alice|10|1', { f0: 'Alice', f1: 10, f2: 1, f3: 20.5 });
    const after = (await scanPaimonRows(storage, root)).rows;
    expect(sorted(after)).toEqual(sorted([...expected.values()]));
    expect(after).toHaveLength(11);

    // Java's files are all still live and untouched; ours continue each bucket's sequence numbers.
    const files = await listPaimonFiles(storage, root);
    for (const j of javaFiles) expect(files.find((f) => f.path === j.path)).toMatchObject({ recordCount: j.recordCount, level: j.level });
    const added = files.filter((f) => !javaFiles.some((j) => j.path === f.path));
    expect(added.map((f) => [f.partition.f1, f.bucket, f.level, f.recordCount]).sort()).toEqual([
      [10, 0, 0, 1],
      [10, 1, 0, 3],
      [20, 0, 0, 1],
      [20, 1, 0, 1],
    ]);
    // Changes per bucket: f1=10/bucket-1 got four (Bob -U and +U, merged to +U; Marco; Alex), the others one.
    const changes: Record<string, bigint> = { '10|1': 4n, '10|0': 1n, '20|0': 1n, '20|1': 1n };
    for (const f of added) {
      const id = `${f.partition.f1}|${f.bucket}`;
      const prev = maxSeq.get(id) ?? -1n;
      expect(f.minSequenceNumber, f.path).toBe(prev + 1n + (id === '10|1' ? 1n : 0n));
      expect(f.maxSequenceNumber, f.path).toBe(prev + changes[id]!);
    }
    expect(maxSeq.get('10|1')).toBe(11n);

    // The Java snapshots read as before; the Java writers' last commits are still found.
    expect(sorted((await scanPaimonRows(storage, root, { snapshotId: 5n })).rows)).toEqual(sorted(before));
    expect(await lastPaimonCommit(storage, root, '18479097-2854-4748-982f-d277e140b4b4')).toMatchObject({ snapshotId: 5n, commitIdentifier: 4n, properties: {} });
    expect(await lastPaimonCommit(storage, root, 'tidemark-sync')).toMatchObject({ snapshotId: 6n, commitIdentifier: 1n, properties: { 'source.offset': 'mysql-bin.000003:1234' } });

    // Full compaction merges Java's runs and ours into the max level with the same rows.
    const compacted = await compactPaimonTable(root, { commitUser: 'tidemark-sync', full: true, env });
    expect(compacted!.snapshotId).toBe(7n);
    expect(sorted((await scanPaimonRows(storage, root)).rows)).toEqual(sorted([...expected.values()]));
    const final = await listPaimonFiles(storage, root);
    expect(new Set(final.map((f) => f.level))).toEqual(new Set([5]));
    expect(final.reduce((n, f) => n + f.recordCount, 0)).toBe(11);
    expect(final.every((f) => f.deleteRowCount === 0)).toBe(true);
  });
});
