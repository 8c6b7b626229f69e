import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPaimonFiles, readPaimonChangelog, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, createPaimonTable, type PaimonChange } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { readAvroFile } from '../../core/lake/serde/avro';
import { createLocalStorage } from '../../core/storage/node';

/**
 * changelog-producer lookup: the compaction after each commit takes every level-0 file up and
 * writes, for each key those files held, the change against the key's value in the levels below
 * (what readers saw before): +I, -U / +U pairs, -D with the old row, named by the COMPACT
 * snapshot's changelog manifest list. Checked against a model of the source's change history.
 */

const storage = createLocalStorage();
type Row = { k: number; v: string };
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const newRoot = () => join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-lookup-')), 't');

/** The changelog of one commit as the model says: per touched key, its value before against after. */
function expectedChangelog(before: Map<number, string>, after: Map<number, string>, touched: Set<number>): string[] {
  const out: string[] = [];
  for (const k of [...touched].sort((a, b) => a - b)) {
    const b = before.get(k);
    const a = after.get(k);
    if (b === undefined && a !== undefined) out.push(`+I ${k}=${a}`);
    else if (b !== undefined && a === undefined) out.push(`-D ${k}=${b}`);
    else if (b !== undefined && a !== undefined) out.push(`-U ${k}=${b}`, `+U ${k}=${a}`);
  }
  return out;
}

/** A snapshot's changelog as `kind k=v`, by key (the reader gives bucket by bucket). */
async function changelogOf(root: string, snapshotId: bigint): Promise<string[]> {
  const { rows, rowKinds } = await readPaimonChangelog(storage, root, { snapshotId });
  const lines = rows.map((r, i) => ({ k: r.k as number, line: `${rowKinds[i]} ${String(r.k)}=${String(r.v)}` }));
  return lines.sort((a, b) => a.k - b.k).map((l) => l.line);
}

describe('Paimon writer: changelog-producer lookup', () => {
  it.each(['2', '-1'])('each commit’s COMPACT snapshot carries the changes against the previous state (bucket %s)', async (bucket) => {
    const root = newRoot();
    const env = seededWriteEnv(71);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket, 'changelog-producer': 'lookup', 'dynamic-bucket.target-row-num': '7' } }, env);
    const model = new Map<number, string>();
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let commit = 1; commit <= 8; commit++) {
      const before = new Map(model);
      const touched = new Set<number>();
      const changes: PaimonChange[] = [];
      // Several changes to the same key within a commit merge (only before and after count).
      for (let i = 0; i < 12; i++) {
        const k = rand(20);
        touched.add(k);
        const old = model.get(k);
        if (old !== undefined && rand(3) === 0) {
          changes.push({ kind: '-D', row: { k, v: old } });
          model.delete(k);
        } else if (old !== undefined) {
          const v = `c${commit}-${i}`;
          changes.push({ kind: '-U', row: { k, v: old } }, { kind: '+U', row: { k, v } });
          model.set(k, v);
        } else {
          const v = `c${commit}-${i}`;
          changes.push({ kind: '+I', row: { k, v } });
          model.set(k, v);
        }
      }
      const result = await commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: BigInt(commit), env });
      const append = json(join(root, 'snapshot', `snapshot-${result!.snapshotId}`));
      expect(append.changelogManifestList).toBeNull();
      const compact = result!.compaction!;
      expect(compact.commitKind).toBe('COMPACT');
      const expected = expectedChangelog(before, model, touched);
      expect(await changelogOf(root, compact.snapshotId), `commit ${commit}`).toEqual(expected);
      expect(json(join(root, 'snapshot', `snapshot-${compact.snapshotId}`)).changelogRecordCount).toBe(expected.length);
      // Every level-0 file went up (ForceUpLevel0); the table reads as the model.
      expect((await listPaimonFiles(storage, root)).filter((f) => f.level === 0)).toEqual([]);
      const rows = (await scanPaimonRows(storage, root)).rows as Row[];
      expect(new Map(rows.map((r) => [r.k, r.v]))).toEqual(model);
    }
  });

  it('writes changelog files at the output level named by the COMPACT snapshot, and row-deduplicate drops equal updates', async () => {
    const root = newRoot();
    const env = seededWriteEnv(72);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '1', 'changelog-producer': 'lookup', 'changelog-producer.row-deduplicate': 'true' } }, env);
    await commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, v: 'a' } }, { kind: '+I', row: { k: 2, v: 'b' } }], { commitUser: 'u', commitIdentifier: 1n, env });
    // Two commits without compaction: the next compaction sees both level-0 files against the state below.
    await commitPaimonChanges(root, [{ kind: '-U', row: { k: 1, v: 'a' } }, { kind: '+U', row: { k: 1, v: 'x' } }], { commitUser: 'u', commitIdentifier: 2n, env, compaction: 'none' });
    const r = await commitPaimonChanges(root, [{ kind: '-U', row: { k: 1, v: 'x' } }, { kind: '+U', row: { k: 1, v: 'a' } }, { kind: '-U', row: { k: 2, v: 'b' } }, { kind: '+U', row: { k: 2, v: 'b2' } }], { commitUser: 'u', commitIdentifier: 3n, env });
    // k=1 went a → x → a: equal to what was below, so deduplicated away; k=2 changed.
    expect(await changelogOf(root, r!.compaction!.snapshotId)).toEqual(['-U 2=b', '+U 2=b2']);
    const snap = json(join(root, 'snapshot', `snapshot-${r!.compaction!.snapshotId}`));
    const list = await readAvroFile(readFileSync(join(root, 'manifest', snap.changelogManifestList as string)), 'list');
    const manifest = await readAvroFile(readFileSync(join(root, 'manifest', list.records[0]!._FILE_NAME as string)), 'manifest');
    const file = manifest.records[0]!._FILE as Record<string, unknown>;
    expect(file._FILE_NAME).toMatch(/^changelog-[0-9a-f-]{36}-0\.parquet$/);
    const dataLevels = new Set((await listPaimonFiles(storage, root)).map((f) => f.level));
    expect(dataLevels).toEqual(new Set([file._LEVEL]));
    expect(file._FILE_SOURCE).toBe(1);
    // The APPEND snapshots carry no changelog; the first COMPACT one inserted both keys.
    expect(await changelogOf(root, 2n)).toEqual(['+I 1=a', '+I 2=b']);
    expect(await changelogOf(root, 3n)).toEqual([]);
  });
});
