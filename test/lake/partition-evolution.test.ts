import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countRows, loadTable, planScan, readAvroFile, scanRows, type Row } from '../../core/lake';
import { appendRows, applyPartitionSpec, applyRowDelta, createTable, evolvePartitionSpec, rewriteDataFiles, seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectCode, plainRows } from './helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-spec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'cat', type: 'string' },
  { name: 'ts', type: 'timestamp' },
];
const row = (id: number, cat: string, day: number): Row => ({ id: BigInt(id), cat, ts: `2024-05-0${day}T12:00:00.000000` });
const byId = (rows: Row[]) => plainRows(rows).sort((a, b) => Number(a.id) - Number(b.id));

describe('partition spec evolution', () => {
  it('adds specs with continuing field ids; appends use the default spec; reads span every spec', async () => {
    const root = join(work, 'evolve');
    const env = seededWriteEnv(21);
    await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], env });
    await appendRows(root, [row(1, 'a', 1), row(2, 'b', 2)], { env });

    await evolvePartitionSpec(root, [{ column: 'cat', transform: 'identity' }], env);
    let m = (await loadTable(storage, root)).metadata;
    expect(m.partitionSpecs.map((s) => s.specId)).toEqual([0, 1]);
    expect(m.partitionSpecs[1]!.fields).toEqual([{ sourceId: 2, fieldId: 1000, name: 'cat', transform: 'identity' }]);
    expect([m.defaultSpecId, m.lastPartitionId]).toEqual([1, 1000]);
    await appendRows(root, [row(3, 'a', 1), row(4, 'b', 3)], { env });

    await evolvePartitionSpec(root, [{ column: 'cat', transform: 'identity' }, { column: 'ts', transform: 'day' }], env);
    await appendRows(root, [row(5, 'a', 4)], { env });
    // Dropping cat keeps ts_day's id (1001): partition field ids name the tuple fields in manifests.
    await evolvePartitionSpec(root, [{ column: 'ts', transform: 'day' }], env);
    await appendRows(root, [row(6, 'c', 5), row(7, 'c', 6)], { env });
    m = (await loadTable(storage, root)).metadata;
    expect(m.partitionSpecs.map((s) => s.fields.map((f) => [f.fieldId, f.name]))).toEqual([[], [[1000, 'cat']], [[1000, 'cat'], [1001, 'ts_day']], [[1001, 'ts_day']]]);
    expect([m.defaultSpecId, m.lastPartitionId]).toEqual([3, 1001]);

    // Going back to an earlier layout reuses that spec instead of adding a duplicate.
    await evolvePartitionSpec(root, [{ column: 'cat', transform: 'identity' }], env);
    m = (await loadTable(storage, root)).metadata;
    expect([m.partitionSpecs.length, m.defaultSpecId, m.lastPartitionId]).toEqual([4, 1, 1001]);
    await appendRows(root, [row(8, 'd', 7)], { env });

    const plan = await planScan(storage, root);
    const layout = plan.files.map((f) => [Number(f.sequenceNumber), f.specId, JSON.stringify(f.partition)]).sort((a, b) => Number(a[0]) - Number(b[0]) || String(a[2]).localeCompare(String(b[2])));
    expect(layout).toEqual([
      [1, 0, '[]'],
      [2, 1, '["a"]'],
      [2, 1, '["b"]'],
      [3, 2, '["a","2024-05-04"]'],
      [4, 3, '["2024-05-05"]'],
      [4, 3, '["2024-05-06"]'],
      [5, 1, '["d"]'],
    ]);
    // Manifests record the spec they were written with (Avro header and manifest list).
    const list = await readAvroFile(readFileSync(plan.snapshot!.manifestList), plan.snapshot!.manifestList);
    expect(list.records.map((r) => r.partition_spec_id).sort()).toEqual([0, 1, 1, 2, 3]);

    const all = [row(1, 'a', 1), row(2, 'b', 2), row(3, 'a', 1), row(4, 'b', 3), row(5, 'a', 4), row(6, 'c', 5), row(7, 'c', 6), row(8, 'd', 7)];
    expect(byId((await scanRows(storage, root)).rows)).toEqual(byId(all));
    // Pruning uses each file's own spec: cat = 'a' keeps the unpartitioned file and the 'a' files.
    const pruned = await planScan(storage, root, { filter: [{ column: 'cat', op: '=', value: 'a' }] });
    expect(pruned.files.map((f) => [f.specId, JSON.stringify(f.partition)]).sort()).toEqual([[0, '[]'], [1, '["a"]'], [2, '["a","2024-05-04"]'], [3, '["2024-05-05"]'], [3, '["2024-05-06"]']].sort());
    expect(byId((await scanRows(storage, root, { filter: [{ column: 'cat', op: '=', value: 'a' }] })).rows)).toEqual(byId([all[0]!, all[2]!, all[4]!]));
    // Time travel to before the first evolution reads spec 0 only.
    const first = m.snapshots[0]!.snapshotId;
    expect(await countRows(storage, root, { snapshotId: first })).toBe(2);

    // Row-level deletes across specs: equality deletes (global) and a position delete in a spec-3 file.
    await applyRowDelta(root, { deleteKeys: [{ id: 1n }, { id: 4n }, { id: 5n }] }, { env });
    const target = (await planScan(storage, root)).files.find((f) => f.specId === 3 && JSON.stringify(f.partition) === '["2024-05-06"]')!;
    await applyRowDelta(root, { positionDeletes: [{ filePath: target.originalPath, pos: 0 }] }, { env });
    const live = byId([all[1]!, all[2]!, all[5]!, all[7]!]);
    expect(byId((await scanRows(storage, root)).rows)).toEqual(live);
    expect(await countRows(storage, root)).toBe(4);

    // Compaction rewrites everything under the default spec (1: identity cat).
    await rewriteDataFiles(root, { env });
    const compacted = await planScan(storage, root);
    expect(compacted.files.map((f) => [f.specId, JSON.stringify(f.partition)]).sort()).toEqual([[1, '["a"]'], [1, '["b"]'], [1, '["c"]'], [1, '["d"]']]);
    expect(byId((await scanRows(storage, root)).rows)).toEqual(live);
  });

  it('rejects unknown columns, bad transforms and duplicate names with InvalidInput', async () => {
    const root = join(work, 'bad');
    const env = seededWriteEnv(22);
    await createTable(root, { columns: COLUMNS, env });
    await expectCode(evolvePartitionSpec(root, [{ column: 'nope', transform: 'identity' }], env), 'InvalidInput', /no column "nope"/);
    await expectCode(evolvePartitionSpec(root, [{ column: 'cat', transform: 'day' }], env), 'InvalidInput', /transform day does not apply to column cat of type string/);
    await expectCode(evolvePartitionSpec(root, [{ column: 'cat', transform: 'bucket[0]' }], env), 'InvalidInput', /unknown transform "bucket\[0\]"/);
    await expectCode(evolvePartitionSpec(root, [{ column: 'cat', transform: 'identity' }, { column: 'id', transform: 'identity', name: 'cat' }], env), 'InvalidInput', /"cat" used twice/);
    await expectCode(evolvePartitionSpec(root, [{ column: 'ts', transform: 'day', name: 'id' }], env), 'InvalidInput', /"id" conflicts with a column/);
    const m = (await loadTable(storage, root)).metadata;
    expect(m.partitionSpecs.length).toBe(1);
    expect(() => applyPartitionSpec({ ...m, formatVersion: 1 }, [{ column: 'id', transform: 'identity' }])).toThrow(/partition spec evolution of a format v1 table is not supported \(v2 and v3 only\)/);
    await evolvePartitionSpec(root, [{ column: 'id', transform: 'bucket[8]' }, { column: 'cat', transform: 'truncate[2]' }], env);
    const spec = (await loadTable(storage, root)).metadata.partitionSpecs[1]!;
    expect(spec.fields.map((f) => [f.fieldId, f.name, f.transform])).toEqual([[1000, 'id_bucket', 'bucket[8]'], [1001, 'cat_truncate', 'truncate[2]']]);
  });
});
