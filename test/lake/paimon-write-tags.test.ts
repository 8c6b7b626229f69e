import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPaimonTagNames, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, createPaimonTag, deletePaimonTag, expirePaimonSnapshots } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { expectError } from '../paimon/helpers';

const storage = createLocalStorage();

describe('Paimon writer: tags', () => {
  it('a tag keeps its snapshot readable through expiry; deleting it deletes the files only it named', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-tag-')), 't');
    const env = seededWriteEnv(81);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '1' } }, env);
    await commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, v: 'a' } }, { kind: '+I', row: { k: 2, v: 'b' } }], { commitUser: 'u', commitIdentifier: 1n, compaction: 'none', env });
    expect(await createPaimonTag(root, 'release-1', { timeRetainedMs: 86_400_000, env })).toBe(1n);
    await commitPaimonChanges(root, [{ kind: '+U', row: { k: 1, v: 'a2' } }, { kind: '-D', row: { k: 2 } }], { commitUser: 'u', commitIdentifier: 2n, compaction: 'none', env });
    await compactPaimonTable(root, { commitUser: 'u', full: true, env });

    const tag = JSON.parse(readFileSync(join(root, 'tag', 'tag-release-1'), 'utf8')) as Record<string, unknown>;
    const snap1 = JSON.parse(readFileSync(join(root, 'snapshot', 'snapshot-1'), 'utf8')) as Record<string, unknown>;
    expect(tag).toMatchObject({ ...snap1, tagTimeRetained: 86400 });
    expect(tag.tagCreateTime).toHaveLength(7);
    expect(await listPaimonTagNames(storage, root)).toEqual(['release-1']);

    const expired = await expirePaimonSnapshots(root, { retainMin: 1, retainMax: 1, env });
    expect(expired.expiredSnapshotIds).toEqual([1n, 2n]);
    expect(expired.deletedFiles.some((f) => f.endsWith('.parquet'))).toBe(true); // snapshot 2's level-0 file
    const tagged = (await scanPaimonRows(storage, root, { tag: 'release-1' })).rows;
    expect(tagged).toEqual([{ k: 1, v: 'a' }, { k: 2, v: 'b' }]);
    const taggedFile = join(root, 'manifest', tag.baseManifestList as string);
    expect(existsSync(taggedFile)).toBe(true);

    await expectError(createPaimonTag(root, 'release-1', { env }), 'InvalidInput', 'tag "release-1" already exists');
    await expectError(createPaimonTag(root, '42', { env }), 'InvalidInput', 'cannot be a number');
    await expectError(createPaimonTag(root, 'a/b', { env }), 'InvalidInput', 'without /');
    await expectError(createPaimonTag(root, 'x', { snapshotId: 1n, env }), 'NotFound', 'snapshot 1 not found');

    const deleted = await deletePaimonTag(root, 'release-1');
    expect(deleted.some((f) => f.endsWith('.parquet'))).toBe(true);
    expect(existsSync(taggedFile)).toBe(false);
    await expectError(scanPaimonRows(storage, root, { tag: 'release-1' }), 'NotFound', 'tag "release-1" not found');
    expect((await scanPaimonRows(storage, root)).rows).toEqual([{ k: 1, v: 'a2' }]);
    await expectError(deletePaimonTag(root, 'release-1'), 'NotFound', 'tag "release-1" not found');
  });
});
