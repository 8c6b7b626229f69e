import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listPaimonFiles, readPaimonSchema, scanPaimonRows } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, evolvePaimonSchema } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { copyTable, expectError } from '../paimon/helpers';

const storage = createLocalStorage();
type Row = Record<string, unknown>;
const byId = (rows: Row[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

describe('Paimon writer: schema evolution', () => {
  it('add, rename, widen and drop write new schema files; old files read by field id, before and after compaction', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-evo-')), 't');
    const env = seededWriteEnv(71);
    await createPaimonTable(
      root,
      { columns: [{ name: 'id', type: 'INT' }, { name: 'p', type: 'STRING' }, { name: 'qty', type: 'INT' }, { name: 'note', type: 'STRING' }, { name: 'old', type: 'STRING' }], primaryKeys: ['id', 'p'], partitionKeys: ['p'], options: { bucket: '2' } },
      env,
    );
    await commitPaimonChanges(root, [1, 2, 3].map((id) => ({ kind: '+I' as const, row: { id, p: 'x', qty: id * 10, note: `n${id}`, old: 'gone' } })), { commitUser: 'u', commitIdentifier: 1n, env });

    const s1 = await evolvePaimonSchema(
      root,
      [
        { op: 'addColumn', name: 'price', type: 'DECIMAL(10, 2)', comment: 'unit price', after: 'qty' },
        { op: 'renameColumn', from: 'note', to: 'remark' },
        { op: 'updateColumnType', name: 'qty', type: 'BIGINT' },
        { op: 'dropColumn', name: 'old' },
        { op: 'setOption', key: 'snapshot.num-retained.min', value: '3' },
      ],
      env,
    );
    expect(s1.schemaId).toBe(1);
    const raw = JSON.parse(readFileSync(join(root, 'schema', 'schema-1'), 'utf8')) as { fields: unknown[]; highestFieldId: number; options: Record<string, string> };
    expect(raw.fields).toEqual([
      { id: 0, name: 'id', type: 'INT NOT NULL' },
      { id: 1, name: 'p', type: 'STRING NOT NULL' },
      { id: 2, name: 'qty', type: 'BIGINT' },
      { id: 5, name: 'price', type: 'DECIMAL(10, 2)', description: 'unit price' },
      { id: 3, name: 'remark', type: 'STRING' },
    ]);
    expect(raw.highestFieldId).toBe(5);
    expect(raw.options['snapshot.num-retained.min']).toBe('3');

    await commitPaimonChanges(root, [{ kind: '+U', row: { id: 2, p: 'x', qty: 5_000_000_000n, price: '9.99', remark: 'new' } }, { kind: '+I', row: { id: 4, p: 'x', qty: 4n, price: null, remark: null } }], { commitUser: 'u', commitIdentifier: 2n, env });
    const expected = [
      { id: 1, p: 'x', qty: 10n, price: null, remark: 'n1' },
      { id: 2, p: 'x', qty: 5_000_000_000n, price: '9.99', remark: 'new' },
      { id: 3, p: 'x', qty: 30n, price: null, remark: 'n3' },
      { id: 4, p: 'x', qty: 4n, price: null, remark: null },
    ];
    expect(byId((await scanPaimonRows(storage, root)).rows)).toEqual(expected);
    expect(new Set((await listPaimonFiles(storage, root)).map((f) => f.schemaId))).toEqual(new Set([0, 1]));
    // The first snapshot still reads in its own schema.
    expect(byId((await scanPaimonRows(storage, root, { snapshotId: 1n })).rows)).toEqual([1, 2, 3].map((id) => ({ id, p: 'x', qty: id * 10, note: `n${id}`, old: 'gone' })));

    await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    expect((await listPaimonFiles(storage, root)).every((f) => f.schemaId === 1)).toBe(true);
    expect(byId((await scanPaimonRows(storage, root)).rows)).toEqual(expected);
    expect((await readPaimonSchema(storage, root)).fields.map((f) => f.name)).toEqual(['id', 'p', 'qty', 'price', 'remark']);
  });

  it('refuses what Paimon refuses, naming the column or option', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-evo-')), 't');
    const env = seededWriteEnv(72);
    await createPaimonTable(root, { columns: [{ name: 'id', type: 'INT' }, { name: 'p', type: 'STRING' }, { name: 'v', type: 'BIGINT' }], primaryKeys: ['id', 'p'], partitionKeys: ['p'], options: { bucket: '2' } }, env);
    await expectError(evolvePaimonSchema(root, [{ op: 'renameColumn', from: 'p', to: 'q' }], env), 'Unsupported', 'cannot rename partition column p');
    await expectError(evolvePaimonSchema(root, [{ op: 'dropColumn', name: 'id' }], env), 'Unsupported', 'cannot drop primary-key column id');
    await expectError(evolvePaimonSchema(root, [{ op: 'updateColumnType', name: 'v', type: 'INT' }], env), 'Unsupported', 'v BIGINT -> INT is not a widening');
    await expectError(evolvePaimonSchema(root, [{ op: 'updateColumnType', name: 'id', type: 'BIGINT' }], env), 'Unsupported', 'primary-key column id');
    await expectError(evolvePaimonSchema(root, [{ op: 'addColumn', name: 'n', type: 'INT NOT NULL' }], env), 'Unsupported', 'column n cannot be added as NOT NULL');
    await expectError(evolvePaimonSchema(root, [{ op: 'setOption', key: 'bucket', value: '4' }], env), 'Unsupported', 'option bucket cannot be changed');
    await expectError(evolvePaimonSchema(root, [{ op: 'dropColumn', name: 'nope' }], env), 'InvalidInput', 'no column nope');
    await expectError(evolvePaimonSchema(root, [{ op: 'addColumn', name: 't', type: 'MAP<INT, INT>' }], env), 'Unsupported', 'column t', 'MAP');
    // Nothing was published by the refused changes.
    expect((await readPaimonSchema(storage, root)).schemaId).toBe(0);
  });

  it('writes into a copy of Java’s altered table (schema-1: renamed key, reordered and added columns)', async () => {
    const root = copyTable('pk_table_with_alter_table');
    const before = (await scanPaimonRows(storage, root)).rows;
    const schema = await readPaimonSchema(storage, root);
    expect(schema.schemaId).toBe(1);
    const existing = before[0]!;
    const updated = { ...existing, e: 777 };
    const fresh = { key1: 1, k: 'tidemark', key_2: 99, c: 3, d: 4, a: 1, key0: 0, e: 5 };
    const result = await commitPaimonChanges(root, [{ kind: '+U', row: updated }, { kind: '+I', row: fresh }], { commitUser: 'tidemark', commitIdentifier: 1n, env: seededWriteEnv(73) });
    expect(result!.compaction).not.toBeNull();
    const key = (r: Row) => `${r.key0}|${r.key1}|${r.key_2}`;
    const expected = new Map(before.map((r) => [key(r), r]));
    expected.set(key(updated), updated);
    expected.set(key(fresh), fresh);
    const after = (await scanPaimonRows(storage, root)).rows;
    const sort = (rows: Row[]) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));
    expect(sort(after)).toEqual(sort([...expected.values()]));
  });
});
