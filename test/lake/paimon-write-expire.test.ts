import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPaimonFiles, listPaimonSnapshots, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, expirePaimonSnapshots, parsePaimonDuration } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { expectError } from '../paimon/helpers';

const storage = createLocalStorage();

/** Every file under the table root except schema/ and snapshot/, relative. */
function filesOnDisk(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p));
    }
  };
  walk(root);
  return out.filter((p) => !p.startsWith('schema/') && !p.startsWith('snapshot/')).sort();
}

describe('Paimon writer: snapshot expiry', () => {
  it('keeps num-retained.min, expires beyond num-retained.max, and deletes only unreachable files', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-exp-')), 't');
    const env = seededWriteEnv(61);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'INT' }], primaryKeys: ['k'], options: { bucket: '2', 'snapshot.num-retained.min': '2', 'snapshot.num-retained.max': '4' } }, env);
    for (let i = 1; i <= 6; i++) {
      await commitPaimonChanges(root, [{ kind: '+I', row: { k: i, v: i } }, { kind: '+U', row: { k: 1, v: 100 + i } }], { commitUser: 'u', commitIdentifier: BigInt(i), compaction: 'none', env });
    }
    await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    const rowsAt = async (id: bigint) => (await scanPaimonRows(storage, root, { snapshotId: id })).rows;
    const before = new Map<bigint, unknown>();
    for (let id = 1n; id <= 7n; id++) before.set(id, await rowsAt(id));

    // Defaults of the call: retain at most 4 (snapshots 1-3 go whatever their age); 4 is younger than 1 h.
    const first = await expirePaimonSnapshots(root, { env });
    expect(first.expiredSnapshotIds).toEqual([1n, 2n, 3n]);
    // Only their manifest lists were theirs alone: every manifest and data file is still named by 4-7.
    expect(first.deletedFiles.map((f) => relative(root, f)).every((f) => /^manifest\/manifest-list-/.test(f))).toBe(true);
    expect(first.deletedFiles).toHaveLength(6);
    expect((await listPaimonSnapshots(storage, root)).map((s) => s.snapshotId)).toEqual([4n, 5n, 6n, 7n]);
    expect(readFileSync(join(root, 'snapshot', 'EARLIEST'), 'utf8')).toBe('4');
    for (let id = 4n; id <= 7n; id++) expect(await rowsAt(id)).toEqual(before.get(id));

    // Keep just the latest: the pre-compaction data files and manifests go; the disk holds exactly snapshot 7's files.
    const second = await expirePaimonSnapshots(root, { retainMin: 1, retainMax: 1, env });
    expect(second.expiredSnapshotIds).toEqual([4n, 5n, 6n]);
    expect(second.deletedFiles.some((f) => f.endsWith('.parquet'))).toBe(true);
    const live = (await listPaimonFiles(storage, root)).map((f) => relative(root, f.path));
    const snap = JSON.parse(readFileSync(join(root, 'snapshot', 'snapshot-7'), 'utf8')) as Record<string, string>;
    const onDisk = filesOnDisk(root);
    expect(onDisk.filter((f) => f.endsWith('.parquet'))).toEqual([...live].sort());
    expect(onDisk).toContain(`manifest/${snap.baseManifestList}`);
    expect(onDisk).toContain(`manifest/${snap.deltaManifestList}`);
    expect(onDisk.filter((f) => f.startsWith('manifest/manifest-list-'))).toHaveLength(2);
    expect(await rowsAt(7n)).toEqual(before.get(7n));
    expect((await scanPaimonRows(storage, root)).rows.sort((a, b) => (a.k as number) - (b.k as number))).toEqual([1, 2, 3, 4, 5, 6].map((k) => ({ k, v: k === 1 ? 106 : k })));

    // The newest snapshot always stays; with nothing older nothing happens.
    expect(await expirePaimonSnapshots(root, { retainMin: 1, retainMax: 1, env })).toEqual({ expiredSnapshotIds: [], deletedFiles: [] });
  });

  it('expires by age only past snapshot.time-retained, and parses Paimon durations', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-exp-')), 't');
    const env = seededWriteEnv(62);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }], primaryKeys: ['k'], options: { bucket: '1', 'snapshot.num-retained.min': '1', 'snapshot.time-retained': '5 s' } }, env);
    for (let i = 1; i <= 4; i++) await commitPaimonChanges(root, [{ kind: '+I', row: { k: i } }], { commitUser: 'u', commitIdentifier: BigInt(i), compaction: 'none', env });
    const times = (await listPaimonSnapshots(storage, root)).map((s) => s.timestampMs);
    // The seeded clock ticks 1 s per reading; expiry reads it once: snapshots older than now - 5 s go.
    const now = times[3]! + 2000;
    const result = await expirePaimonSnapshots(root, { env: { ...env, now: () => now } });
    expect(result.expiredSnapshotIds).toEqual([1n, 2n, 3n, 4n].filter((_, i) => times[i]! < now - 5000));
    expect(result.expiredSnapshotIds.length).toBeGreaterThan(0);
    expect(result.expiredSnapshotIds).not.toContain(4n);
    expect((await scanPaimonRows(storage, root)).rows).toEqual([{ k: 1 }, { k: 2 }, { k: 3 }, { k: 4 }]);
    expect(parsePaimonDuration('1 h', 'x')).toBe(3_600_000);
    expect(parsePaimonDuration('30min', 'x')).toBe(1_800_000);
    expect(parsePaimonDuration('250 ms', 'x')).toBe(250);
    expect(parsePaimonDuration('2 d', 'x')).toBe(172_800_000);
    await expectError(Promise.resolve().then(() => parsePaimonDuration('soon', 'snapshot.time-retained')), 'InvalidInput', 'snapshot.time-retained', '"soon"');
  });
});
