import avro from 'avsc';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { countRows, loadTable, planScan, readAvroFile, scanRows, decodeSingleValue, type Row } from '../../core/lake';
import { appendRows, applyRowDelta, commitTable, createTable, evolveSchema, overwriteRows, rewriteDataFiles, seededWriteEnv, setRef } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { applyModelOp, plainRows } from './helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-write-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
  { name: 'amount', type: 'decimal(10, 2)' },
  { name: 'day', type: 'date' },
];

async function newTable(name: string, partitionBy?: { column: string; transform: string }[]) {
  const root = join(work, name);
  const env = seededWriteEnv(7);
  await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], partitionBy, env });
  return { root, env };
}

describe('write path: tables we write, read back independently', () => {
  it('Parquet data files carry field ids and stats; manifests carry the spec field ids and metrics', async () => {
    const { root, env } = await newTable('readback', [{ column: 'day', transform: 'month' }]);
    await appendRows(root, [
      { id: 1n, name: 'b', amount: '1.50', day: '2024-03-01' },
      { id: 9n, name: 'a', amount: '-2.25', day: '2024-03-31' },
      { id: 5n, name: null, amount: null, day: '2024-03-15' },
    ], { env, summary: { 'tidemark.source-offset': 'binlog.000001:1234' } });
    const plan = await planScan(storage, root);
    expect(plan.files.length).toBe(1);
    const file = plan.files[0]!;
    expect(file.partition).toEqual([(2024 - 1970) * 12 + 2]);
    // hyparquet: schema field ids.
    const bytes = readFileSync(file.path);
    const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(md.schema.slice(1).map((s) => [s.name, s.field_id])).toEqual([['id', 1], ['name', 2], ['amount', 3], ['day', 4]]);
    expect(Number(md.num_rows)).toBe(3);
    // avsc, straight from the raw manifest file: field-id attributes and metrics.
    const snapshot = plan.snapshot!;
    expect(snapshot.summary).toMatchObject({ operation: 'append', 'added-records': '3', 'total-records': '3', 'added-data-files': '1', 'tidemark.source-offset': 'binlog.000001:1234' });
    const list = await readAvroFile(readFileSync(snapshot.manifestList), snapshot.manifestList);
    expect(JSON.stringify(list.schema)).toContain('"field-id":500');
    expect(list.metadata['snapshot-id']).toBe(snapshot.snapshotId.toString());
    const manifestPath = list.records[0]!.manifest_path as string;
    const raw = readFileSync(manifestPath);
    const decoded: Record<string, unknown>[] = [];
    await new Promise<void>((res, rej) => {
      const dec = new avro.streams.BlockDecoder({ parseHook: (s: avro.Schema) => avro.Type.forSchema(s, { wrapUnions: false, registry: { long: avro.types.LongType.__with({ fromBuffer: (b: Buffer) => b.readBigInt64LE(), toBuffer: () => Buffer.alloc(8), fromJSON: BigInt, toJSON: Number, isValid: (x: unknown) => typeof x === 'bigint', compare: () => 0 }) } }) } as never);
      let header: Record<string, Buffer> = {};
      dec.on('metadata', (_t: unknown, _c: unknown, h: { meta: Record<string, Buffer> }) => (header = h.meta));
      dec.on('data', (d: Record<string, unknown>) => decoded.push(d));
      dec.on('end', () => {
        expect(header['format-version']!.toString()).toBe('2');
        expect(header.content!.toString()).toBe('data');
        expect(JSON.parse(header['partition-spec']!.toString())).toEqual([{ name: 'day_month', transform: 'month', 'source-id': 4, 'field-id': 1000 }]);
        expect(JSON.parse(header['avro.schema']!.toString()).fields[4]['field-id']).toBe(2);
        res();
      });
      dec.on('error', rej);
      dec.end(raw);
    });
    const df = decoded[0]!.data_file as Record<string, unknown>;
    expect(df.record_count).toBe(3n);
    const map = (k: string) => new Map((df[k] as { key: number; value: unknown }[]).map((e) => [e.key, e.value]));
    expect(map('null_value_counts')).toEqual(new Map([[1, 0n], [2, 1n], [3, 1n], [4, 0n]]));
    expect(decodeSingleValue('long', map('lower_bounds').get(1) as Uint8Array)).toBe(1n);
    expect(decodeSingleValue('long', map('upper_bounds').get(1) as Uint8Array)).toBe(9n);
    expect(decodeSingleValue('string', map('lower_bounds').get(2) as Uint8Array)).toBe('a');
    expect(decodeSingleValue('decimal(10, 2)', map('lower_bounds').get(3) as Uint8Array)).toBe('-2.25');
    expect(decodeSingleValue('date', map('upper_bounds').get(4) as Uint8Array)).toBe('2024-03-31');
    // metadata v2 required fields.
    const meta = JSON.parse(readFileSync(join(root, 'metadata', 'v2.metadata.json'), 'utf8')) as Record<string, unknown>;
    for (const k of ['format-version', 'table-uuid', 'location', 'last-sequence-number', 'last-updated-ms', 'last-column-id', 'schemas', 'current-schema-id', 'partition-specs', 'default-spec-id', 'last-partition-id', 'sort-orders', 'default-sort-order-id']) {
      expect(meta).toHaveProperty(k);
    }
    expect(readFileSync(join(root, 'metadata', 'version-hint.text'), 'utf8')).toBe('2');
  });

  it('upserts, key deletes, position deletes, schema evolution, compaction and refs read back', async () => {
    const { root, env } = await newTable('ops', [{ column: 'id', transform: 'bucket[4]' }]);
    await appendRows(root, [1, 2, 3, 4].map((i) => ({ id: BigInt(i), name: `n${i}`, amount: `${i}.00`, day: '2024-01-01' })), { env });
    await applyRowDelta(root, { upserts: [{ id: 2n, name: 'two', amount: '2.50', day: '2024-01-02' }], deleteKeys: [{ id: 4n }] }, { env });
    const plan = await planScan(storage, root);
    const f1 = plan.files.find((f) => f.recordCount === 4 || f.dataFile.recordCount >= 1 && f.sequenceNumber === 1n)!;
    await applyRowDelta(root, { positionDeletes: [{ filePath: f1.originalPath, pos: 0 }] }, { env });
    await evolveSchema(root, [{ op: 'rename', name: 'name', newName: 'label' }, { op: 'add', name: 'flag', type: 'boolean', initialDefault: true }], env);
    const before = plainRows((await scanRows(storage, root)).rows).sort((a, b) => Number(a.id) - Number(b.id));
    await rewriteDataFiles(root, { env });
    const after = plainRows((await scanRows(storage, root)).rows).sort((a, b) => Number(a.id) - Number(b.id));
    expect(after).toEqual(before);
    expect(after.some((r) => r.id === 2 && r.label === 'two')).toBe(true);
    expect(after.some((r) => r.id === 4)).toBe(false);
    expect(after.every((r) => r.flag === true)).toBe(true);
    const t = await loadTable(storage, root);
    const ops = t.metadata.snapshots.map((s) => s.summary.operation);
    expect(ops).toEqual(['append', 'overwrite', 'delete', 'replace']);
    expect(t.metadata.snapshots.map((s) => s.sequenceNumber)).toEqual([1n, 2n, 3n, 4n]);
    const first = t.metadata.snapshots[0]!.snapshotId;
    await setRef(root, 'v1', { snapshotId: first, type: 'tag' }, env);
    expect(await countRows(storage, root, { ref: 'v1' })).toBe(4);
    await overwriteRows(root, [{ id: 10n, name: null, amount: null, day: null }], { env });
    expect(await countRows(storage, root)).toBe(1);
  });

  it('compacting a table without live rows writes a valid, empty manifest list', async () => {
    // Found by the property below: avsc wrote a record-less Avro file as 0 bytes (no header).
    const { root, env } = await newTable('empty-compact');
    await applyRowDelta(root, { deleteKeys: [{ id: 0n }] }, { env });
    await rewriteDataFiles(root, { env });
    await rewriteDataFiles(root, { env });
    const t = await loadTable(storage, root);
    for (const s of t.metadata.snapshots) expect(await countRows(storage, root, { snapshotId: s.snapshotId })).toBe(0);
    const list = await readAvroFile(readFileSync(t.metadata.snapshots[2]!.manifestList), 'empty list');
    expect(list.records).toEqual([]);
    expect(list.metadata['snapshot-id']).toBe(t.metadata.snapshots[2]!.snapshotId.toString());
  });

  it('two concurrent writers: exactly one wins each version, none is overwritten', async () => {
    const { root } = await newTable('race');
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((w) => appendRows(root, [{ id: BigInt(w), name: `w${w}`, amount: null, day: null }], { env: seededWriteEnv(100 + w) })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const conflicts = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'CommitConflict').length;
    expect(ok + conflicts).toBe(4);
    expect(ok).toBeGreaterThanOrEqual(1);
    const versions = readdirSync(join(root, 'metadata')).filter((f) => /^v\d+\.metadata\.json$/.test(f));
    expect(versions.length).toBe(1 + ok);
    expect(await countRows(storage, root)).toBe(ok);
    // A stale build never publishes over an existing version.
    const t = await loadTable(storage, root);
    await expect(commitTable(root, async () => t.metadata, { ...seededWriteEnv(1), now: () => 0 })).resolves.toBeTruthy();
  });
});

describe('property: scanning every snapshot equals the model after each commit', () => {
  it('random appends, upserts and key deletes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('append' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 5 }) }),
            fc.record({ kind: fc.constant('upsert' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 4 }) }),
            fc.record({ kind: fc.constant('delete' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 4 }) }),
            fc.record({ kind: fc.constant('compact' as const), ids: fc.constant([]) }),
          ),
          { minLength: 1, maxLength: 5 },
        ),
        async (ops) => {
          const root = join(work, `prop-${n++}`);
          const env = seededWriteEnv(n);
          await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], partitionBy: [{ column: 'id', transform: 'truncate[10]' }], env });
          const model = new Map<number, Row>();
          const states: Map<number, Row>[] = [];
          for (const [step, op] of ops.entries()) {
            const rows = op.ids.map((id) => ({ id: BigInt(id), name: `s${step}`, amount: `${step}.00`, day: null }));
            if (!(await applyModelOp(root, model, op, rows, env, states.length > 0))) continue;
            states.push(new Map(model));
          }
          const t = await loadTable(storage, root);
          expect(t.metadata.snapshots.length).toBe(states.length);
          for (const [i, s] of t.metadata.snapshots.entries()) {
            const { rows } = await scanRows(storage, t, { snapshotId: s.snapshotId });
            const got = plainRows(rows).sort((a, b) => Number(a.id) - Number(b.id));
            const want = plainRows([...states[i]!.values()]).sort((a, b) => Number(a.id) - Number(b.id));
            expect(got).toEqual(want);
          }
        },
      ),
      { numRuns: 15 },
    );
  });
});
