import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPaimonFiles, listPaimonSnapshots, readPaimonSchema, scanPaimonRows } from '../../core/lake/paimon';
import { readSnapshotDataFiles } from '../../core/lake/paimon/manifest';
import { readPaimonSchemaFile } from '../../core/lake/paimon/schema';
import { resolvePaimonSnapshot } from '../../core/lake/paimon/snapshot';
import {
  bucketOf,
  commitPaimonChanges,
  compactPaimonTable,
  createPaimonTable,
  encodeBinaryRow,
  lastPaimonCommit,
  toPhysical,
  type PaimonChange,
  type PaimonTableDescription,
} from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { bytesToHex } from '../../core/lake/values';
import { readAvroFile } from '../../core/lake/serde/avro';
import type { QueryEngine } from '../../core/query/engine';
import { createNodeQueryEngine } from '../../core/query/node';
import { registerPaimonView } from '../../core/query/paimon-view';
import { quoteIdent } from '../../core/query/duckdb';
import { createLocalStorage } from '../../core/storage/node';
import { expectError, tableRoot } from '../paimon/helpers';

const storage = createLocalStorage();

function newRoot(): string {
  return join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-write-')), 'orders');
}

const ORDERS: PaimonTableDescription = {
  columns: [
    { name: 'id', type: 'BIGINT' },
    { name: 'region', type: 'STRING' },
    { name: 'name', type: 'STRING', comment: 'customer name' },
    { name: 'amount', type: 'DECIMAL(10, 2)' },
    { name: 'big', type: 'DECIMAL(30, 4)' },
    { name: 'qty', type: 'INT' },
    { name: 'small', type: 'SMALLINT' },
    { name: 'tiny', type: 'TINYINT' },
    { name: 'flag', type: 'BOOLEAN' },
    { name: 'ratio', type: 'DOUBLE' },
    { name: 'day', type: 'DATE' },
    { name: 'at', type: 'TIMESTAMP(6)' },
    { name: 'at_ms', type: 'TIMESTAMP(3)' },
    { name: 'at_ltz', type: 'TIMESTAMP_LTZ(6)' },
    { name: 'blob', type: 'BYTES' },
  ],
  primaryKeys: ['id', 'region'],
  partitionKeys: ['region'],
  options: { bucket: '3', 'num-sorted-run.compaction-trigger': '3' },
};

type Row = Record<string, unknown>;

/** A deterministic row for key (id, region) at version v. */
function orderRow(id: number, region: string, v: number): Row {
  return {
    id: BigInt(id),
    region,
    name: v % 4 === 3 ? null : `customer ${id} version ${v} with a name longer than sixteen characters`,
    amount: `${id}.${String(v % 100).padStart(2, '0')}`,
    big: v % 2 === 0 ? `12345678901234567890.${String(id % 10000).padStart(4, '0')}` : null,
    qty: id * 10 + v,
    small: (id % 300) - 150,
    tiny: (id % 200) - 100,
    flag: (id + v) % 2 === 0,
    ratio: id / 7 + v,
    day: `2024-0${(id % 9) + 1}-1${v % 10}`,
    at: `2024-03-0${(id % 9) + 1}T10:11:12.${String(123456 + v).slice(0, 6)}`,
    at_ms: `2023-12-31T23:59:${String(10 + (v % 50)).padStart(2, '0')}.${String(id % 1000).padStart(3, '0')}000`,
    at_ltz: `2024-05-06T07:08:09.${String(id % 1000000).padStart(6, '0')}+00:00`,
    blob: new Uint8Array([id & 0xff, v & 0xff, 7]),
  };
}

const keyOf = (r: Row) => `${r.region}|${r.id}`;

/** The rows a reader returns, in a stable order, with values made comparable. */
function normalize(rows: Row[]): Row[] {
  return rows
    .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Uint8Array ? bytesToHex(v) : typeof v === 'bigint' ? v.toString() : v])))
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

async function readRows(root: string, snapshotId?: bigint): Promise<Row[]> {
  return normalize((await scanPaimonRows(storage, root, snapshotId === undefined ? {} : { snapshotId })).rows);
}

/** Applies changes to a model map the way a deduplicate primary-key table must. */
function applyToModel(model: Map<string, Row>, changes: PaimonChange[]): void {
  for (const c of changes) {
    if (c.kind === '-D' || c.kind === '-U') model.delete(keyOf(c.row));
    else model.set(keyOf(c.row), c.row);
  }
}

/** Three rounds of inserts, updates (-U/+U) and deletes, reused by several tests. */
function rounds(): PaimonChange[][] {
  const r1: PaimonChange[] = [];
  for (let id = 1; id <= 40; id++) r1.push({ kind: '+I', row: orderRow(id, id % 3 === 0 ? 'us' : 'eu', 0) });
  const r2: PaimonChange[] = [];
  for (let id = 1; id <= 40; id += 4) {
    const region = id % 3 === 0 ? 'us' : 'eu';
    r2.push({ kind: '-U', row: orderRow(id, region, 0) }, { kind: '+U', row: orderRow(id, region, 1) });
  }
  for (let id = 2; id <= 40; id += 9) r2.push({ kind: '-D', row: { id: BigInt(id), region: id % 3 === 0 ? 'us' : 'eu' } });
  r2.push({ kind: '+I', row: orderRow(41, 'apac', 1) });
  const r3: PaimonChange[] = [
    // A key inserted and deleted in one batch, a key deleted then re-inserted, an update of an update.
    { kind: '+I', row: orderRow(50, 'eu', 2) },
    { kind: '-D', row: orderRow(50, 'eu', 2) },
    { kind: '-D', row: { id: 3n, region: 'us' } },
    { kind: '+I', row: orderRow(3, 'us', 2) },
    { kind: '+U', row: orderRow(5, 'eu', 2) },
    { kind: '+U', row: orderRow(5, 'eu', 3) },
    { kind: '+I', row: orderRow(42, 'apac', 2) },
  ];
  return [r1, r2, r3];
}

describe('Paimon writer: commits read back through the Paimon reader', () => {
  it('creates schema-0 as Paimon lays it out', async () => {
    const root = newRoot();
    const env = seededWriteEnv(1);
    await createPaimonTable(root, ORDERS, env);
    const json = JSON.parse(readFileSync(join(root, 'schema', 'schema-0'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(json)).toEqual(['version', 'id', 'fields', 'highestFieldId', 'partitionKeys', 'primaryKeys', 'options', 'timeMillis']);
    expect(json.version).toBe(3);
    expect(json.id).toBe(0);
    expect((json.fields as unknown[]).slice(0, 3)).toEqual([
      { id: 0, name: 'id', type: 'BIGINT NOT NULL' },
      { id: 1, name: 'region', type: 'STRING NOT NULL' },
      { id: 2, name: 'name', type: 'STRING', description: 'customer name' },
    ]);
    expect(json.highestFieldId).toBe(14);
    expect(json.primaryKeys).toEqual(['id', 'region']);
    expect(json.partitionKeys).toEqual(['region']);
    expect(json.options).toEqual({ bucket: '3', 'num-sorted-run.compaction-trigger': '3', 'file.format': 'parquet' });
    expect(json.timeMillis).toBe(Date.UTC(2024, 0, 1) + 1000);
    const schema = await readPaimonSchema(storage, root);
    expect(schema.bucketKeys).toEqual(['id']);
    expect(schema.bucketCount).toBe(3);
    expect((await scanPaimonRows(storage, root)).rows).toEqual([]);
    await expectError(createPaimonTable(root, ORDERS, env), 'CommitConflict', 'already exists', root);
  });

  it('rows match a model after every commit and at every snapshot (time travel)', async () => {
    const root = newRoot();
    const env = seededWriteEnv(2);
    await createPaimonTable(root, ORDERS, env);
    const model = new Map<string, Row>();
    const expectedBySnapshot: Row[][] = [];
    let identifier = 0n;
    for (const batch of rounds()) {
      const result = await commitPaimonChanges(root, batch, { commitUser: 'sync-a', commitIdentifier: ++identifier, compaction: 'none', env });
      applyToModel(model, batch);
      expectedBySnapshot.push(normalize([...model.values()]));
      expect(result!.snapshotId).toBe(identifier);
      expect(await readRows(root)).toEqual(expectedBySnapshot[expectedBySnapshot.length - 1]);
    }
    expect(model.size).toBe(40 - 5 + 2);
    for (let i = 0; i < expectedBySnapshot.length; i++) expect(await readRows(root, BigInt(i + 1))).toEqual(expectedBySnapshot[i]);

    // Every file is level 0, in the directory of its partition and bucket, and holds each key once.
    const files = await listPaimonFiles(storage, root);
    expect(files.every((f) => f.level === 0 && f.fileSource === 'append')).toBe(true);
    for (const f of files) {
      expect(relative(root, f.path)).toMatch(new RegExp(`^region=${f.partition.region}/bucket-${f.bucket}/data-[0-9a-f-]{36}-0\\.parquet$`));
      const bucket = bucketOf([{ root: 'BIGINT', nullable: false }], [f.minKey!.id as bigint], 3);
      expect(bucket).toBe(f.bucket);
    }
    const snaps = await listPaimonSnapshots(storage, root);
    expect(snaps.map((s) => [s.operation, s.summary.commitIdentifier, s.summary.totalRecordCount])).toEqual([
      ['append', '1', '40'],
      // Rows in files, merged per key within a batch: round 2 writes 10 updates + 5 deletes + 1
      // insert, less key 29 (updated and deleted in the batch); round 3 writes 4 keys.
      ['append', '2', '55'],
      ['append', '3', '59'],
    ]);
    expect(files.reduce((n, f) => n + f.recordCount, 0)).toBe(59);
    expect(readFileSync(join(root, 'snapshot', 'LATEST'), 'utf8')).toBe('3');
    expect(readFileSync(join(root, 'snapshot', 'EARLIEST'), 'utf8')).toBe('1');
  });

  it('sequence numbers continue per bucket and a retraction in the batch is kept as -D', async () => {
    const root = newRoot();
    const env = seededWriteEnv(3);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '1' } }, env);
    await commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, v: 'a' } }, { kind: '+I', row: { k: 2, v: 'b' } }, { kind: '+I', row: { k: 1, v: 'c' } }], { commitUser: 'u', commitIdentifier: 1n, env });
    await commitPaimonChanges(root, [{ kind: '-D', row: { k: 2 } }], { commitUser: 'u', commitIdentifier: 2n, env });
    const files = await listPaimonFiles(storage, root);
    expect(files.map((f) => [f.recordCount, f.minSequenceNumber, f.maxSequenceNumber, f.deleteRowCount, f.minKey, f.maxKey])).toEqual([
      [2, 1n, 2n, 0, { k: 1 }, { k: 2 }],
      [1, 3n, 3n, 1, { k: 2 }, { k: 2 }],
    ]);
    expect(relative(root, files[0]!.path)).toMatch(/^bucket-0\/data-[0-9a-f-]{36}-0\.parquet$/);
    // The file of the delete holds the -D row (RowKind byte 3) with its key.
    const t = tableFromIPC(readParquet(readFileSync(files[1]!.path)).intoIPCStream());
    expect(t.schema.fields.map((f) => f.name)).toEqual(['_KEY_k', '_SEQUENCE_NUMBER', '_VALUE_KIND', 'k', 'v']);
    expect(t.toArray().map((r) => r.toJSON())).toEqual([{ _KEY_k: 2, _SEQUENCE_NUMBER: 3n, _VALUE_KIND: 3, k: 2, v: null }]);
    expect((await scanPaimonRows(storage, root)).rows).toEqual([{ k: 1, v: 'c' }]);
  });

  it('universal compaction waits for the run-count trigger, then merges into the max level', async () => {
    const root = newRoot();
    const env = seededWriteEnv(4);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '1', 'num-sorted-run.compaction-trigger': '3' } }, env);
    const model = new Map<number, string>();
    const commit = async (id: bigint, changes: PaimonChange[]) => {
      await commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: id, compaction: 'none', env });
      for (const c of changes) {
        if (c.kind === '-D') model.delete(c.row.k as number);
        else model.set(c.row.k as number, c.row.v as string);
      }
    };
    const expected = () => [...model.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => ({ k, v }));
    await commit(1n, [1, 2, 3, 4].map((k) => ({ kind: '+I', row: { k, v: `a${k}` } })));
    await commit(2n, [{ kind: '+U', row: { k: 2, v: 'b2' } }, { kind: '-D', row: { k: 3 } }]);
    expect(await compactPaimonTable(root, { commitUser: 'u', env })).toBeNull(); // 2 runs < trigger 3
    await commit(3n, [{ kind: '+I', row: { k: 9, v: 'c9' } }, { kind: '-D', row: { k: 1 } }]);
    const result = await compactPaimonTable(root, { commitUser: 'u', env });
    expect(result!.commitKind).toBe('COMPACT');
    let files = await listPaimonFiles(storage, root);
    // num-levels defaults to trigger + 1 = 4: the max level is 3; deletes are dropped there.
    expect(files.map((f) => [f.level, f.recordCount, f.deleteRowCount, f.fileSource])).toEqual([[3, 3, 0, 'compact']]);
    expect((await scanPaimonRows(storage, root)).rows).toEqual(expected());
    const snaps = await listPaimonSnapshots(storage, root);
    expect(snaps[snaps.length - 1]!.summary).toMatchObject({ commitKind: 'COMPACT', commitIdentifier: '3', deltaRecordCount: String(3 - 8) });

    // New level-0 runs over a level-3 run: a delete of a key that lives below stays until it merges.
    await commit(4n, [{ kind: '-D', row: { k: 2 } }]);
    await commit(5n, [{ kind: '+I', row: { k: 5, v: 'd5' } }]);
    expect((await scanPaimonRows(storage, root)).rows).toEqual(expected());
    expect(await compactPaimonTable(root, { commitUser: 'u', full: true, env })).not.toBeNull();
    files = await listPaimonFiles(storage, root);
    expect(files.map((f) => [f.level, f.recordCount, f.deleteRowCount])).toEqual([[3, 3, 0]]);
    expect((await scanPaimonRows(storage, root)).rows).toEqual(expected());
    // Full compaction of a bucket already in one max-level run has nothing to do.
    expect(await compactPaimonTable(root, { commitUser: 'u', full: true, env })).toBeNull();
  });

  it('full compaction of a partitioned table keeps every row and time travel still reads the old snapshots', async () => {
    const root = newRoot();
    const env = seededWriteEnv(5);
    await createPaimonTable(root, ORDERS, env);
    const model = new Map<string, Row>();
    let id = 0n;
    const before: Row[][] = [];
    for (const batch of rounds()) {
      await commitPaimonChanges(root, batch, { commitUser: 'u', commitIdentifier: ++id, compaction: 'none', env });
      applyToModel(model, batch);
      before.push(await readRows(root));
    }
    const result = await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    expect(result!.snapshotId).toBe(4n);
    expect(await readRows(root)).toEqual(normalize([...model.values()]));
    const files = await listPaimonFiles(storage, root);
    expect(new Set(files.map((f) => f.level))).toEqual(new Set([3]));
    expect(files.every((f) => f.deleteRowCount === 0)).toBe(true);
    expect(result!.totalRecordCount).toBe(BigInt(model.size));
    for (let i = 0; i < before.length; i++) expect(await readRows(root, BigInt(i + 1))).toEqual(before[i]);
  });

  it('merges the manifests into one at manifest.merge-min-count, keeping every snapshot readable', async () => {
    const root = newRoot();
    const env = seededWriteEnv(12);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'INT' }], primaryKeys: ['k'], options: { bucket: '2', 'manifest.merge-min-count': '3' } }, env);
    const counts: number[] = [];
    const expected: Row[][] = [];
    const model = new Map<number, number>();
    for (let i = 1; i <= 7; i++) {
      const changes: PaimonChange[] = [{ kind: '+I', row: { k: i, v: i } }, { kind: '+U', row: { k: 1, v: i * 10 } }];
      if (i === 5) changes.push({ kind: '-D', row: { k: 2 } });
      const r = await commitPaimonChanges(root, changes, { commitUser: 'u', commitIdentifier: BigInt(i), compaction: 'none', env });
      for (const c of changes) {
        if (c.kind === '-D') model.delete(c.row.k as number);
        else model.set(c.row.k as number, c.row.v as number);
      }
      expected.push([...model].sort((a, b) => a[0] - b[0]).map(([k, v]) => ({ k, v })));
      const snap = JSON.parse(readFileSync(join(root, 'snapshot', `snapshot-${r!.snapshotId}`), 'utf8')) as { baseManifestList: string };
      counts.push((await readAvroFile(readFileSync(join(root, 'manifest', snap.baseManifestList)), 'base')).records.length);
    }
    // Base lists: 0, 1, 2 manifests, then the 3 earlier ones merged into 1, growing again from there.
    expect(counts).toEqual([0, 1, 2, 1, 2, 1, 2]);
    for (let i = 0; i < expected.length; i++) {
      const rows = (await scanPaimonRows(storage, root, { snapshotId: BigInt(i + 1) })).rows;
      expect([...rows].sort((a, b) => (a.k as number) - (b.k as number)), `snapshot ${i + 1}`).toEqual(expected[i]);
    }
  });

  it('two writers racing for the same snapshot id both commit (the loser rebuilds)', async () => {
    const root = newRoot();
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'INT' }], primaryKeys: ['k'], options: { bucket: '2' } }, seededWriteEnv(6));
    const results = await Promise.all(
      [0, 1, 2].map((w) =>
        commitPaimonChanges(root, [0, 1, 2, 3].map((i) => ({ kind: '+I' as const, row: { k: w * 10 + i, v: w } })), { commitUser: `w${w}`, commitIdentifier: 1n, compaction: 'none', env: seededWriteEnv(100 + w) }),
      ),
    );
    expect(results.map((r) => r!.snapshotId).sort()).toEqual([1n, 2n, 3n]);
    const rows = (await scanPaimonRows(storage, root)).rows;
    expect(rows.map((r) => r.k).sort((a, b) => (a as number) - (b as number))).toEqual([0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23]);
    // Nothing an attempt that lost the race wrote is left behind: every data file is live.
    const live = new Set((await listPaimonFiles(storage, root)).map((f) => f.path));
    const onDisk = ['bucket-0', 'bucket-1'].flatMap((b) => readdirSync(join(root, b)).map((n) => join(root, b, n)));
    expect(onDisk.sort()).toEqual([...live].sort());
  });
});

describe('Paimon writer: exactly once', () => {
  it('finds the last committed identifier and properties of each commit user', async () => {
    const root = newRoot();
    const env = seededWriteEnv(7);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '1' } }, env);
    expect(await lastPaimonCommit(storage, root, 'alpha')).toBeNull();
    const commit = (user: string, id: bigint, k: number) =>
      commitPaimonChanges(root, [{ kind: '+I', row: { k, v: user } }], {
        commitUser: user,
        commitIdentifier: id,
        properties: { 'source.offset': `binlog.000001:${k * 100}` },
        watermark: 1_700_000_000_000n + BigInt(k),
        compaction: 'none',
        env,
      });
    await commit('alpha', 1n, 1);
    await commit('beta', 7n, 2);
    await commit('alpha', 2n, 3);
    await commit('beta', 8n, 4);
    await commit('alpha', 3n, 5);
    // A compaction by alpha (Paimon's batch identifier) must not hide alpha's data commits.
    expect(await compactPaimonTable(root, { commitUser: 'alpha', full: true, commitIdentifier: 9_223_372_036_854_775_807n, env })).not.toBeNull();
    const a = await lastPaimonCommit(storage, root, 'alpha');
    const b = await lastPaimonCommit(storage, root, 'beta');
    expect(a).toMatchObject({ snapshotId: 5n, commitIdentifier: 3n, commitKind: 'APPEND', properties: { 'source.offset': 'binlog.000001:500' } });
    expect(b).toMatchObject({ snapshotId: 4n, commitIdentifier: 8n, commitKind: 'APPEND', properties: { 'source.offset': 'binlog.000001:400' } });
    expect(await lastPaimonCommit(storage, root, 'gamma')).toBeNull();
    const s5 = readFileSync(join(root, 'snapshot', 'snapshot-5'), 'utf8');
    expect(s5).toContain('"watermark" : 1700000000005,');
    expect(s5).toContain('"properties" : {\n    "source.offset" : "binlog.000001:500"\n  },');
    expect((await listPaimonSnapshots(storage, root))[4]!.summary.watermark).toBe('1700000000005');
    const raw = JSON.parse(readFileSync(join(root, 'snapshot', 'snapshot-6'), 'utf8')) as Record<string, unknown>;
    expect(raw).toMatchObject({ commitUser: 'alpha', commitKind: 'COMPACT' });
    // Long.MAX_VALUE keeps every digit in the JSON.
    expect(readFileSync(join(root, 'snapshot', 'snapshot-6'), 'utf8')).toContain('"commitIdentifier" : 9223372036854775807,');
  });
});

describe('Paimon writer: refusals name the input', () => {
  const cols = [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }];
  it('refuses what it cannot write', async () => {
    const env = seededWriteEnv(8);
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: ['k'], options: { bucket: '2', 'file.format': 'orc' } }, env), 'Unsupported', 'file.format = orc');
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: ['k'], options: { bucket: '-2' } }, env), 'Unsupported', 'bucket = -2');
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: ['k'], options: { bucket: 'two' } }, env), 'InvalidInput', 'bucket must be a fixed bucket count N >= 1 or -1');
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: [], options: { bucket: '1' } }, env), 'Unsupported', 'append tables');
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: ['k'], options: { bucket: '1', 'merge-engine': 'partial-update' } }, env), 'Unsupported', 'merge-engine = partial-update');
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: ['k'], options: { bucket: '1', 'changelog-producer': 'full-compaction' } }, env), 'Unsupported', 'changelog-producer = full-compaction');
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: ['k'], partitionKeys: ['v'], options: { bucket: '1' } }, env), 'InvalidInput', 'partition key v must be part of the primary key');
    await expectError(createPaimonTable(newRoot(), { columns: [...cols, { name: 't', type: 'ARRAY<INT>' }], primaryKeys: ['k'], options: { bucket: '1' } }, env), 'Unsupported', 'column t', 'ARRAY');
    await expectError(createPaimonTable(newRoot(), { columns: cols, primaryKeys: ['x'], options: { bucket: '1' } }, env), 'InvalidInput', 'key column x is not a column');
  });

  it('refuses bad changes without writing anything', async () => {
    const root = newRoot();
    const env = seededWriteEnv(9);
    await createPaimonTable(root, { columns: cols, primaryKeys: ['k'], options: { bucket: '1' } }, env);
    const opts = { commitUser: 'u', commitIdentifier: 1n, env };
    await expectError(commitPaimonChanges(root, [{ kind: '+X' as never, row: { k: 1 } }], opts), 'InvalidInput', 'change 0', 'kind must be one of');
    await expectError(commitPaimonChanges(root, [{ kind: '+I', row: { v: 'x' } }], opts), 'InvalidInput', 'change 0', 'column k is NOT NULL');
    await expectError(commitPaimonChanges(root, [{ kind: '-D', row: { v: 'x' } }], opts), 'InvalidInput', 'change 0', 'column k is NOT NULL', 'needs every NOT NULL column');
    await expectError(commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, nope: 2 } }], opts), 'InvalidInput', 'column nope is not in schema 0');
    await expectError(commitPaimonChanges(root, [{ kind: '+I', row: { k: 1 } }, { kind: '+I', row: { k: 'one' } }], opts), 'InvalidInput', 'change 1: column k', 'expected a INT value');
    expect(readdirSync(root).sort()).toEqual(['schema']);
    expect(await commitPaimonChanges(root, [], opts)).toBeNull();
    expect(readdirSync(root).sort()).toEqual(['schema']);
  });

  it('checks values against the column types, and cuts timestamps to their precision', async () => {
    const root = newRoot();
    const env = seededWriteEnv(11);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'd', type: 'DECIMAL(4, 2)' }, { name: 'day', type: 'DATE' }, { name: 'ts', type: 'TIMESTAMP(3)' }, { name: 't', type: 'TINYINT' }], primaryKeys: ['k'], options: { bucket: '1' } }, env);
    const opts = { commitUser: 'u', commitIdentifier: 1n, env };
    await expectError(commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, d: '123.45' } }], opts), 'InvalidInput', 'column d', 'DECIMAL');
    await expectError(commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, d: '1.234' } }], opts), 'InvalidInput', 'column d', '"1.234"');
    await expectError(commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, day: 19000 } }], opts), 'InvalidInput', 'column day', 'DATE');
    await expectError(commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, t: 200 } }], opts), 'InvalidInput', 'column t', 'TINYINT');
    await commitPaimonChanges(root, [{ kind: '+I', row: { k: 1, d: '-99.99', day: '1969-12-31', ts: '1969-12-31T23:59:59.999999', t: -128 } }], opts);
    expect((await scanPaimonRows(storage, root)).rows).toEqual([{ k: 1, d: '-99.99', day: '1969-12-31', ts: '1969-12-31T23:59:59.999000', t: -128 }]);
  });
});

describe('Paimon writer: BinaryRow and bucket agree with Java Paimon on the fixtures', () => {
  for (const name of ['pk_table_scan_and_read_mor', 'pk_table_scan_and_read_dv', 'pk_table_nested_type']) {
    it(`${name}: every row sits in the bucket our hash gives; partitions and keys encode byte for byte`, async () => {
      const root = tableRoot(name);
      const snapshot = (await resolvePaimonSnapshot(storage, root))!;
      const schema = await readPaimonSchemaFile(storage, root, snapshot.schemaId);
      const files = await readSnapshotDataFiles(storage, root, snapshot, schema);
      const type = (n: string) => schema.paimonFields.find((f) => f.name === n)!.type;
      const keyNames = schema.primaryKeys.filter((k) => !schema.partitionKeys.includes(k));
      let rows = 0;
      for (const f of files) {
        // Partition BinaryRow: re-encode the decoded values.
        const partValues = schema.partitionKeys.map((k) => toPhysical(type(k), f.partition[k], k));
        expect(bytesToHex(encodeBinaryRow(schema.partitionKeys.map(type), partValues).serialized)).toBe(f.partitionKey);
        const t = tableFromIPC(readParquet(readFileSync(f.path)).intoIPCStream());
        const records = t.toArray().map((r) => r.toJSON() as Row);
        for (const r of records) {
          const values = schema.bucketKeys.map((k) => toPhysical(type(k), r[k], k));
          expect(bucketOf(schema.bucketKeys.map(type), values, schema.bucketCount), `${f.fileName} ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`).toBe(f.bucket);
          rows++;
        }
        // Min / max key BinaryRows: the first and last record's trimmed key (files are sorted by key).
        const keyOfRecord = (r: Row) => encodeBinaryRow(keyNames.map(type), keyNames.map((k) => toPhysical(type(k), r[k], k))).serialized;
        expect(bytesToHex(keyOfRecord(records[0]!))).toBe(bytesToHex(f.minKey));
        expect(bytesToHex(keyOfRecord(records[records.length - 1]!))).toBe(bytesToHex(f.maxKey));
      }
      expect(rows).toBeGreaterThan(3);
    });
  }
});

describe('Paimon writer: the query engine reads what we write', () => {
  let engine: QueryEngine;
  beforeAll(async () => {
    engine = await createNodeQueryEngine(storage);
  });
  afterAll(async () => {
    await engine?.close();
  });

  it('registerPaimonView over a written, updated and compacted table returns the live rows', async () => {
    const root = newRoot();
    const env = seededWriteEnv(10);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'p', type: 'STRING' }, { name: 'v', type: 'DOUBLE' }], primaryKeys: ['k', 'p'], partitionKeys: ['p'], options: { bucket: '2' } }, env);
    await commitPaimonChanges(root, [1, 2, 3, 4, 5, 6].map((k) => ({ kind: '+I' as const, row: { k, p: k % 2 ? 'odd' : 'even', v: k * 1.5 } })), { commitUser: 'u', commitIdentifier: 1n, env });
    await commitPaimonChanges(root, [{ kind: '-D', row: { k: 3, p: 'odd' } }, { kind: '+U', row: { k: 4, p: 'even', v: 40 } }], { commitUser: 'u', commitIdentifier: 2n, env });
    const query = async () => {
      const { view } = await registerPaimonView(engine, root);
      const r = await engine.query(`SELECT k, p, v FROM ${quoteIdent(view)} ORDER BY k`);
      return r.rows.map((row) => ({ k: Number(row[0]), p: row[1], v: Number(row[2]) }));
    };
    const expected = [
      { k: 1, p: 'odd', v: 1.5 },
      { k: 2, p: 'even', v: 3 },
      { k: 4, p: 'even', v: 40 },
      { k: 5, p: 'odd', v: 7.5 },
      { k: 6, p: 'even', v: 9 },
    ];
    expect(await query()).toEqual(expected);
    await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    expect(await query()).toEqual(expected);
  });
});
