import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, rollbackPaimonTable, type PaimonChange } from '../../core/lake/paimon/write';
import { readWriteState } from '../../core/lake/paimon/write/state-cache';
import { readPaimonTableState, type PaimonTableState } from '../../core/lake/paimon/write/table-state';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';

/**
 * The table state a commit keeps for the next one (state-cache.ts) must be the state a fresh read
 * of the table gives, after appends and compactions alike, and must not be used once the table
 * changed under it (a rollback here).
 */

const storage = createLocalStorage();
const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function newTable(bucket = '2'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tidemark-paimon-cache-'));
  dirs.push(dir);
  const root = join(dir, 'db.db', 't');
  await createPaimonTable(root, { columns: [{ name: 'id', type: 'INT NOT NULL' }, { name: 'v', type: 'STRING' }], primaryKeys: ['id'], partitionKeys: [], options: { bucket, 'num-sorted-run.compaction-trigger': '3', 'dynamic-bucket.target-row-num': '40' } }, seededWriteEnv(1));
  return root;
}

const upserts = (from: number, to: number, tag: string): PaimonChange[] => Array.from({ length: to - from }, (_, i) => ({ kind: '+I' as const, row: { id: from + i, v: `${tag}${from + i}` } }));

/** What a commit builds on, without the object identities. */
function comparable(s: PaimonTableState) {
  return {
    schemaId: s.schema.schemaId,
    snapshotId: s.snapshot?.id ?? null,
    files: s.files.map((f) => `${f.path}|${f.level}|${f.recordCount}|${f.minSequenceNumber}-${f.maxSequenceNumber}`).sort(),
    manifests: s.manifests.map((m) => m._FILE_NAME),
    maxSequenceNumber: s.maxSequenceNumber,
    totalRecordCount: s.totalRecordCount,
    index: s.indexEntries.map((e) => `${e._INDEX_TYPE}|${e._BUCKET}|${e._FILE_NAME}|${e._ROW_COUNT}`).sort(),
  };
}

describe('the Paimon writer reuses the state it published', () => {
  // bucket -1: each commit that places new keys replaces HASH index files (dynamic-bucket.ts).
  it.each(['2', '-1'])('equals a fresh read after each append and compaction (bucket %s)', async (bucket) => {
    const root = await newTable(bucket);
    const env = seededWriteEnv(2);
    for (let k = 1; k <= 7; k++) {
      const r = await commitPaimonChanges(root, [...upserts(k * 10, k * 10 + 30, `r${k}-`), { kind: '-D', row: { id: k, v: null } }], { commitUser: 'u', commitIdentifier: BigInt(k), env });
      expect(r).not.toBeNull();
      expect(comparable(await readWriteState(storage, root))).toEqual(comparable(await readPaimonTableState(storage, root)));
    }
    const full = await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    expect(full?.commitKind).toBe('COMPACT');
    const state = await readWriteState(storage, root);
    expect(comparable(state)).toEqual(comparable(await readPaimonTableState(storage, root)));
    expect(state.files.every((f) => f.level === 3)).toBe(true);
    const { rows } = await scanPaimonRows(storage, root);
    expect(rows.length).toBe(90);
  });

  it('reads the table again after a rollback under it', async () => {
    const root = await newTable();
    const env = seededWriteEnv(3);
    await commitPaimonChanges(root, upserts(0, 5, 'a'), { commitUser: 'u', commitIdentifier: 1n, compaction: 'none', env });
    await commitPaimonChanges(root, upserts(5, 10, 'b'), { commitUser: 'u', commitIdentifier: 2n, compaction: 'none', env });
    await rollbackPaimonTable(root, 1n, { env });
    // Snapshot 2 again, written on top of snapshot 1: the rows of the rolled-back commit are gone.
    await commitPaimonChanges(root, upserts(20, 22, 'c'), { commitUser: 'u', commitIdentifier: 2n, compaction: 'none', env });
    expect(comparable(await readWriteState(storage, root))).toEqual(comparable(await readPaimonTableState(storage, root)));
    const { rows } = await scanPaimonRows(storage, root);
    expect(rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual([0, 1, 2, 3, 4, 20, 21]);
  });
});
