import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import { listPaimonFiles, readPaimonSchema, scanPaimonRows } from '../../core/lake/paimon';
import { assertWritableSchema, commitPaimonChanges, compactPaimonTable, createPaimonTable, encodeBinaryRow, expirePaimonSnapshots, hashBinaryRow, preparePaimonChanges, type PaimonChange } from '../../core/lake/paimon/write';
import { forgetDynamicBucketIndex } from '../../core/lake/paimon/write/dynamic-bucket';
import { forgetPublished } from '../../core/lake/paimon/write/state-cache';
import { parsePaimonSchema } from '../../core/lake/paimon/schema';
import { seededWriteEnv } from '../../core/lake/write';
import { readAvroFile } from '../../core/lake/serde/avro';
import { createLocalStorage } from '../../core/storage/node';
import { INDEX_MANIFEST_ENTRY_SCHEMA } from '../../core/lake/paimon/write';

/**
 * Dynamic bucket (`bucket: -1`): keys go to buckets through the HASH index (index manifest entries
 * of type HASH, index files of big-endian int32 key hashes per bucket), a new bucket once one holds
 * dynamic-bucket.target-row-num keys, and a key stays in its bucket across commits, restarts and
 * compaction.
 */

const storage = createLocalStorage();
type Row = Record<string, unknown>;
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Row;
const newRoot = () => join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-dyn-')), 't');
const ins = (k: number, v: string, p?: string): PaimonChange => ({ kind: '+I', row: { k, v, ...(p === undefined ? {} : { p }) } });

/** A restart: nothing this process kept of the table. */
function restart(root: string) {
  forgetPublished(root);
  forgetDynamicBucketIndex(root);
}

/** Every key of every live data file with the bucket (and partition) it sits in. */
async function keyBuckets(root: string): Promise<{ key: string; bucket: number }[]> {
  const out: { key: string; bucket: number }[] = [];
  for (const f of await listPaimonFiles(storage, root)) {
    const rows = tableFromIPC(readParquet(readFileSync(f.path)).intoIPCStream()).toArray().map((r) => r.toJSON() as Row);
    for (const r of rows) out.push({ key: `${JSON.stringify(f.partition)}|${String(r._KEY_k)}`, bucket: f.bucket });
  }
  return out;
}

/** The key → bucket map, failing when a key sits in two buckets. */
async function bucketOfKeys(root: string): Promise<Map<string, number>> {
  const map = new Map<string, number>();
  for (const { key, bucket } of await keyBuckets(root)) {
    const seen = map.get(key);
    expect(seen === undefined || seen === bucket, `key ${key} in buckets ${seen} and ${bucket}`).toBe(true);
    map.set(key, bucket);
  }
  return map;
}

/** The HASH entries of the latest snapshot's index manifest, each with the hashes its file holds. */
async function hashIndex(root: string) {
  const ids = readdirSync(join(root, 'snapshot')).filter((n) => n.startsWith('snapshot-')).map((n) => Number(n.slice(9)));
  const snap = json(join(root, 'snapshot', `snapshot-${Math.max(...ids)}`));
  const manifest = await readAvroFile(readFileSync(join(root, 'manifest', snap.indexManifest as string)), 'index manifest');
  return {
    manifest,
    entries: manifest.records.map((r) => {
      const bytes = readFileSync(join(root, 'index', r._FILE_NAME as string));
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const hashes = Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(i * 4, false));
      return { record: r, bytes, hashes };
    }),
  };
}

const intHash = (k: number) => hashBinaryRow(encodeBinaryRow([{ root: 'INT', nullable: false } as never], [k]).row);

describe('Paimon writer: dynamic bucket (bucket -1)', () => {
  it('fills buckets up to target-row-num in key arrival order, keeps keys in their bucket across restarts and compaction', async () => {
    const root = newRoot();
    const env = seededWriteEnv(61);
    await createPaimonTable(root, { columns: [{ name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['k'], options: { bucket: '-1', 'dynamic-bucket.target-row-num': '3' } }, env);
    await commitPaimonChanges(root, [7, 3, 9, 1, 4, 8, 2].map((k) => ins(k, `a${k}`)), { commitUser: 'u', commitIdentifier: 1n, env });
    // Three keys a bucket, in the order they came: 7 3 9 → 0, 1 4 8 → 1, 2 → 2.
    const first = new Map([[7, 0], [3, 0], [9, 0], [1, 1], [4, 1], [8, 1], [2, 2]]);
    expect(await bucketOfKeys(root)).toEqual(new Map([...first].map(([k, b]) => [`{}|${k}`, b])));

    const idx = await hashIndex(root);
    expect(idx.entries.map((e) => e.record._INDEX_TYPE)).toEqual(['HASH', 'HASH', 'HASH']);
    for (const e of idx.entries) {
      const keys = [...first].filter(([, b]) => b === e.record._BUCKET).map(([k]) => k);
      // The file: the keys' hashes as big-endian int32s; the entry: its size and hash count.
      expect(new Set(e.hashes)).toEqual(new Set(keys.map(intHash)));
      expect(e.record).toMatchObject({ _VERSION: 1, _KIND: 0, _FILE_SIZE: BigInt(e.bytes.length), _ROW_COUNT: BigInt(keys.length), _DELETIONS_VECTORS_RANGES: null });
      expect(e.record._FILE_NAME).toMatch(/^index-[0-9a-f-]{36}-0$/);
    }
    expect(idx.manifest.schema).toEqual(expect.objectContaining({ name: INDEX_MANIFEST_ENTRY_SCHEMA.name }));
    const entries = (await listPaimonFiles(storage, root)).map((f) => f.bucket).sort();
    expect(entries).toEqual([0, 1, 2]);

    restart(root);
    // Updates and deletes keep their key's bucket; new keys fill bucket 2, then open bucket 3.
    await commitPaimonChanges(
      root,
      [
        { kind: '-U', row: { k: 1, v: 'a1' } },
        { kind: '+U', row: { k: 1, v: 'b1' } },
        { kind: '-D', row: { k: 9, v: 'a9' } },
        ins(5, 'a5'),
        ins(6, 'a6'),
        ins(10, 'a10'),
      ],
      { commitUser: 'u', commitIdentifier: 2n, env, compaction: 'none' },
    );
    const second = new Map([...first, [5, 2], [6, 2], [10, 3]]);
    expect(await bucketOfKeys(root)).toEqual(new Map([...second].map(([k, b]) => [`{}|${k}`, b])));
    // Bucket 0 took no new hash: its index file is the first commit's; 2 and 3 got new ones.
    const idx2 = await hashIndex(root);
    const byBucket = new Map(idx2.entries.map((e) => [e.record._BUCKET as number, e]));
    expect([...byBucket.keys()].sort()).toEqual([0, 1, 2, 3]);
    expect(byBucket.get(0)!.record._FILE_NAME).toBe(idx.entries.find((e) => e.record._BUCKET === 0)!.record._FILE_NAME);
    expect(new Set(byBucket.get(2)!.hashes)).toEqual(new Set([2, 5, 6].map(intHash)));
    expect(byBucket.get(2)!.record._ROW_COUNT).toBe(3n);

    // Full compaction keeps the index manifest; the deleted key 9 keeps its hash (Java never removes one).
    const compacted = await compactPaimonTable(root, { commitUser: 'u', full: true, env });
    expect(compacted).not.toBeNull();
    expect(json(join(root, 'snapshot', `snapshot-${compacted!.snapshotId}`)).indexManifest).toBe(json(join(root, 'snapshot', 'snapshot-2')).indexManifest);
    expect(new Set(byBucket.get(0)!.hashes)).toEqual(new Set([7, 3, 9].map(intHash)));

    restart(root);
    // 9 comes back into bucket 0 (its hash is there), 11 into bucket 3.
    await commitPaimonChanges(root, [ins(9, 'c9'), ins(11, 'a11'), { kind: '+U', row: { k: 3, v: 'c3' } }], { commitUser: 'u', commitIdentifier: 3n, env });
    const third = new Map([...second, [11, 3]]);
    expect(await bucketOfKeys(root)).toEqual(new Map([...third].map(([k, b]) => [`{}|${k}`, b])));
    const rows = (await scanPaimonRows(storage, root)).rows;
    const expected: Row[] = [
      { k: 1, v: 'b1' },
      { k: 2, v: 'a2' },
      { k: 3, v: 'c3' },
      { k: 4, v: 'a4' },
      { k: 5, v: 'a5' },
      { k: 6, v: 'a6' },
      { k: 7, v: 'a7' },
      { k: 8, v: 'a8' },
      { k: 9, v: 'c9' },
      { k: 10, v: 'a10' },
      { k: 11, v: 'a11' },
    ];
    expect([...rows].sort((a, b) => (a.k as number) - (b.k as number))).toEqual(expected);
    // Manifest entries of a dynamic bucket table say -1 total buckets, as Java's.
    const snap = json(join(root, 'snapshot', 'snapshot-4'));
    const list = await readAvroFile(readFileSync(join(root, 'manifest', snap.deltaManifestList as string)), 'list');
    const manifest = await readAvroFile(readFileSync(join(root, 'manifest', list.records[0]!._FILE_NAME as string)), 'manifest');
    expect(new Set(manifest.records.map((r) => r._TOTAL_BUCKETS))).toEqual(new Set([-1]));
    // Expiry keeps every index file the retained snapshot names.
    await expirePaimonSnapshots(root, { retainMin: 1, retainMax: 1, timeRetainedMs: 0, env });
    restart(root);
    expect((await hashIndex(root)).entries).toHaveLength(4);
    expect((await scanPaimonRows(storage, root)).rows).toHaveLength(expected.length);
  });

  it('numbers buckets per partition, and keys flushed ahead of a commit keep their buckets in it', async () => {
    const root = newRoot();
    const env = seededWriteEnv(62);
    await createPaimonTable(
      root,
      { columns: [{ name: 'p', type: 'STRING' }, { name: 'k', type: 'INT' }, { name: 'v', type: 'STRING' }], primaryKeys: ['p', 'k'], partitionKeys: ['p'], options: { 'dynamic-bucket.target-row-num': '2' } },
      env,
    );
    // No bucket option: Paimon's default for a primary-key table, dynamic bucket.
    expect((await readPaimonSchema(storage, root)).bucketCount).toBe(-1);
    const prepared = await preparePaimonChanges(root, [ins(1, 'x', 'a'), ins(2, 'x', 'a'), ins(3, 'x', 'a'), ins(1, 'x', 'b')], null, env);
    await commitPaimonChanges(root, [ins(4, 'x', 'b'), ins(5, 'x', 'b'), { kind: '+U', row: { p: 'a', k: 3, v: 'y' } }], { commitUser: 'u', commitIdentifier: 1n, prepared, env });
    expect(await bucketOfKeys(root)).toEqual(
      new Map([
        ['{"p":"a"}|1', 0],
        ['{"p":"a"}|2', 0],
        ['{"p":"a"}|3', 1],
        ['{"p":"b"}|1', 0],
        ['{"p":"b"}|4', 0],
        ['{"p":"b"}|5', 1],
      ]),
    );
    const idx = await hashIndex(root);
    expect(idx.entries.map((e) => [e.record._BUCKET, Number(e.record._ROW_COUNT)]).sort()).toEqual([[0, 2], [0, 2], [1, 1], [1, 1]]);
    const rows = (await scanPaimonRows(storage, root)).rows;
    expect(rows.find((r) => r.p === 'a' && r.k === 3)).toEqual({ p: 'a', k: 3, v: 'y' });
    expect(rows).toHaveLength(6);
  });

  it('refuses bucket-key with dynamic bucket and the cross-partition mode, naming the table', async () => {
    const env = seededWriteEnv(63);
    const cols = [{ name: 'p', type: 'STRING' }, { name: 'k', type: 'INT' }];
    const root = newRoot();
    await expect(createPaimonTable(root, { columns: cols, primaryKeys: ['p', 'k'], options: { bucket: '-1', 'bucket-key': 'k' } }, env)).rejects.toThrow(/bucket-key \(k\) cannot be set with bucket = -1/);
    await expect(createPaimonTable(root, { columns: cols, primaryKeys: ['k'], options: { bucket: '-1', 'dynamic-bucket.target-row-num': '0' } }, env)).rejects.toThrow(/dynamic-bucket.target-row-num must be an integer >= 1/);
    // A table whose partition key is outside its primary key (made elsewhere): Java's cross-partition upsert.
    const text = JSON.stringify({ version: 3, id: 0, fields: [{ id: 0, name: 'p', type: 'STRING' }, { id: 1, name: 'k', type: 'INT NOT NULL' }], highestFieldId: 1, partitionKeys: ['p'], primaryKeys: ['k'], options: { bucket: '-1' } });
    const where = '/lake/db.db/orders/schema/schema-0';
    expect(() => assertWritableSchema(parsePaimonSchema(text, where), where)).toThrow(/db\.db\/orders\/schema\/schema-0: bucket = -1 with partition keys outside the primary key \(p\) is Paimon's cross-partition upsert mode/);
  });
});
