import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPaimonFiles, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, type PaimonChange } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';

/**
 * Compaction streams its merge: each input run is read a file at a time and the output rolls to a
 * new file every `maxFileRows` rows (COMPACTION_FILE_ROWS by default), so a run can be several
 * files; their key ranges do not overlap and later merges read them in key order.
 */

const storage = createLocalStorage();

describe('Paimon compaction: streamed merge, rolled output', () => {
  it('rolls the output into non-overlapping files and merges multi-file runs as a model says', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-stream-')), 't');
    const env = seededWriteEnv(81);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '1', 'num-sorted-run.compaction-trigger': '3' } }, env);
    const model = new Map<number, string>();
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let commit = 1; commit <= 9; commit++) {
      const changes: PaimonChange[] = [];
      for (let i = 0; i < 30; i++) {
        const k = rand(60);
        const old = model.get(k);
        if (old !== undefined && rand(4) === 0) {
          changes.push({ kind: '-D', row: { k, v: old } });
          model.delete(k);
        } else {
          const v = `c${commit}-${i}`;
          changes.push({ kind: old === undefined ? '+I' : '+U', row: { k, v } });
          model.set(k, v);
        }
      }
      await commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: BigInt(commit), env, compaction: 'none' });
      // Universal compaction where due, or full every third commit; outputs of at most 7 rows.
      await compactPaimonTable(root, { commitUser: 'u', full: commit % 3 === 0, maxFileRows: 7, env });
      const rows = (await scanPaimonRows(storage, root)).rows;
      expect(new Map(rows.map((r) => [r.k as number, r.v as string])), `commit ${commit}`).toEqual(model);
      const files = await listPaimonFiles(storage, root);
      const compacted = files.filter((f) => f.level > 0);
      expect(compacted.every((f) => f.recordCount <= 7)).toBe(true);
      // Files of one level hold disjoint, ascending key ranges.
      for (const level of new Set(compacted.map((f) => f.level))) {
        const ranges = compacted.filter((f) => f.level === level).map((f) => [f.minKey!.k as number, f.maxKey!.k as number]).sort((a, b) => a[0]! - b[0]!);
        ranges.forEach((r, i) => i > 0 && expect(r[0]!).toBeGreaterThan(ranges[i - 1]![1]!));
      }
      if (commit % 3 === 0) {
        // Full compaction: one run at the max level, ceil(live / 7) files, no retraction left.
        expect(new Set(files.map((f) => f.level))).toEqual(new Set([3]));
        expect(files).toHaveLength(Math.ceil(model.size / 7));
        expect(files.reduce((n, f) => n + f.recordCount, 0)).toBe(model.size);
      }
    }
  });
});
