import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import { readPaimonChangelog, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, createPaimonTable } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { readAvroFile } from '../../core/lake/serde/avro';
import { createLocalStorage } from '../../core/storage/node';

const storage = createLocalStorage();
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('Paimon writer: changelog-producer input', () => {
  it('writes every input change, unmerged, as changelog files named by the changelog manifest list', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-cl-')), 't');
    const env = seededWriteEnv(51);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '1', 'changelog-producer': 'input' } }, env);
    await commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, v: 'a' } }, { kind: '+I', row: { k: 2, v: 'b' } }], { commitUser: 'u', commitIdentifier: 1n, env });
    await commitPaimonChanges(
      root,
      [
        { kind: '-U', row: { k: 1, v: 'a' } },
        { kind: '+U', row: { k: 1, v: 'a2' } },
        { kind: '-D', row: { k: 2, v: 'b' } },
        { kind: '+I', row: { k: 0, v: 'z' } },
      ],
      { commitUser: 'u', commitIdentifier: 2n, env },
    );
    expect((await scanPaimonRows(storage, root)).rows).toEqual([{ k: 0, v: 'z' }, { k: 1, v: 'a2' }]);

    const snap = json(join(root, 'snapshot', 'snapshot-2'));
    expect(snap).toMatchObject({ deltaRecordCount: 3, changelogRecordCount: 4 });
    expect(Object.keys(snap).slice(7, 10)).toEqual(['changelogManifestList', 'changelogManifestListSize', 'commitUser']);
    const list = await readAvroFile(readFileSync(join(root, 'manifest', snap.changelogManifestList as string)), 'list');
    expect(snap.changelogManifestListSize).toBe(readFileSync(join(root, 'manifest', snap.changelogManifestList as string)).length);
    const manifest = await readAvroFile(readFileSync(join(root, 'manifest', list.records[0]!._FILE_NAME as string)), 'manifest');
    expect(manifest.records).toHaveLength(1);
    const file = manifest.records[0]!._FILE as Record<string, unknown>;
    expect(file._FILE_NAME).toMatch(/^changelog-[0-9a-f-]{36}-0\.parquet$/);
    expect(file._ROW_COUNT).toBe(4n);
    const path = join(root, 'bucket-0', file._FILE_NAME as string);
    expect(relative(root, path)).toMatch(/^bucket-0\/changelog-/);
    // Sorted by key, then sequence number (the order of the input for one key); kinds as given.
    const rows = tableFromIPC(readParquet(readFileSync(path)).intoIPCStream()).toArray().map((r) => r.toJSON());
    expect(rows).toEqual([
      { _KEY_k: 0, _SEQUENCE_NUMBER: 5n, _VALUE_KIND: 0, k: 0, v: 'z' },
      { _KEY_k: 1, _SEQUENCE_NUMBER: 2n, _VALUE_KIND: 1, k: 1, v: 'a' },
      { _KEY_k: 1, _SEQUENCE_NUMBER: 3n, _VALUE_KIND: 2, k: 1, v: 'a2' },
      { _KEY_k: 2, _SEQUENCE_NUMBER: 4n, _VALUE_KIND: 3, k: 2, v: 'b' },
    ]);
    // The first commit's changelog is its two inserts.
    expect(json(join(root, 'snapshot', 'snapshot-1'))).toMatchObject({ changelogRecordCount: 2 });
    // The changelog read gives the same records with their kinds.
    const read = await readPaimonChangelog(storage, root, { snapshotId: 2n });
    expect(read.rows.map((r, i) => `${read.rowKinds[i]} ${String(r.k)}=${String(r.v)}`)).toEqual(['+I 0=z', '-U 1=a', '+U 1=a2', '-D 2=b']);
    expect((await readPaimonChangelog(storage, root, { snapshotId: 1n })).rowKinds).toEqual(['+I', '+I']);
  });
});
