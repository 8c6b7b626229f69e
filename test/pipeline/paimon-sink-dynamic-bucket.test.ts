import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import mysql from 'mysql2/promise';
import { readParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { formatPlan, planPipeline, runPipeline, type PipelineConfig } from '../../core/pipeline';
import { listPaimonFiles, readPaimonSchema } from '../../core/lake/paimon';
import { encodeBinaryRow, hashBinaryRow, toPhysical } from '../../core/lake/paimon/write';
import { forgetDynamicBucketIndex } from '../../core/lake/paimon/write/dynamic-bucket';
import { forgetPublished } from '../../core/lake/paimon/write/state-cache';
import { readAvroFile } from '../../core/lake/serde/avro';
import { runCli } from '../../cli/main';
import { createLocalStorage } from '../../core/storage/node/index';
import { applyBinlogChanges, checksum, createShards, loadConfig, paimonLakeRows, sourceRows, SHARDS } from './run-helpers';

/**
 * The sharded sync into a Paimon table with no `bucket` (Paimon's default, dynamic bucket) and a
 * small dynamic-bucket.target-row-num: the lake equals the source row for row after a snapshot and
 * a binlog phase in two runs (the second after a simulated restart), no key sits in two buckets,
 * and the HASH index holds every key ever written, buckets filled one after the other.
 */

const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created', 'note'];
const TARGET = 100;
const ROWS_PER_SHARD = 120;
const storage = createLocalStorage();

function config(db: PrivateMariaDb, warehouse: string): PipelineConfig {
  return loadConfig(db, { warehouse, name: 'orders-dyn', paimonBucket: null, extraSink: `  table.properties.dynamic-bucket.target-row-num: ${TARGET}\n` }, 'paimon');
}

describe('sync into a dynamic bucket Paimon table', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let warehouse: string;
  let root: string;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, ROWS_PER_SHARD);
    warehouse = await mkdtemp(join(tmpdir(), 'tidemark-paimon-dyn-'));
    root = join(warehouse, 'ods.db', 'orders');
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    if (warehouse) await rm(warehouse, { recursive: true, force: true });
  });

  it('lands snapshot and binlog changes row for row across a restart, each key in one bucket, the HASH index whole', async () => {
    await conn.query('ANALYZE TABLE app.order_0, app.order_1, app.order_2, app.order_3');
    const plan = await planPipeline(config(db, warehouse));
    const t = plan.targets[0]!;
    expect(t.buckets).toMatchObject({ dynamic: { targetRowNum: TARGET }, key: ['id', '__table_name__'] });
    expect(t.buckets!.count).toBe(Math.max(1, Math.ceil(t.buckets!.rowsEstimated / TARGET)));
    expect(formatPlan(plan)).toMatch(new RegExp(`buckets: dynamic \\(a new bucket every ${TARGET} keys: ~\\d+\\) by \\(id, __table_name__\\)`));

    await runPipeline({ config: config(db, warehouse), untilCaughtUp: true });
    const schema = await readPaimonSchema(storage, root);
    expect(schema.options.bucket).toBeUndefined();
    expect(schema.bucketCount).toBe(-1);
    const columns0 = COLUMNS.filter((c) => c !== 'note');
    expect(await paimonLakeRows(warehouse, columns0)).toEqual(await sourceRows(conn, columns0));

    // A restart: nothing of the table kept in this process; the index is read back from its files.
    forgetPublished(root);
    forgetDynamicBucketIndex(root);
    await applyBinlogChanges(conn, false);
    await runPipeline({ config: config(db, warehouse), untilCaughtUp: true });
    const lake = await paimonLakeRows(warehouse, COLUMNS);
    const src = await sourceRows(conn, COLUMNS);
    expect(lake).toEqual(src);
    expect(checksum(lake)).toBe(checksum(src));

    // Every key of every live data file (all levels), with its bucket: never in two buckets.
    const keyTypes = schema.primaryKeys.map((k) => schema.paimonFields.find((f) => f.name === k)!.type);
    const hashOf = (id: number, table: string) => hashBinaryRow(encodeBinaryRow(keyTypes, [toPhysical(keyTypes[0]!, id, 'id'), toPhysical(keyTypes[1]!, table, '__table_name__')]).row);
    const bucketOfKey = new Map<string, number>();
    for (const f of await listPaimonFiles(storage, root)) {
      const rows = tableFromIPC(readParquet(await readFile(f.path)).intoIPCStream()).toArray().map((r) => r.toJSON() as Record<string, unknown>);
      for (const r of rows) {
        const key = `${String(r._KEY___table_name__)}|${String(r._KEY_id)}`;
        const seen = bucketOfKey.get(key);
        expect(seen === undefined || seen === f.bucket, `key ${key} in buckets ${seen} and ${f.bucket}`).toBe(true);
        bucketOfKey.set(key, f.bucket);
      }
    }
    for (const r of src) expect(bucketOfKey.has(`${r.__table_name__}|${r.id}`)).toBe(true);

    // The HASH index: one file per bucket of big-endian int32 hashes, as many as its entry says,
    // holding the hash of each key in the bucket's files.
    const names = (await readdir(join(root, 'snapshot'))).filter((n) => n.startsWith('snapshot-')).map((n) => Number(n.slice(9)));
    const snap = JSON.parse(await readFile(join(root, 'snapshot', `snapshot-${Math.max(...names)}`), 'utf8')) as { indexManifest: string };
    const manifest = await readAvroFile(await readFile(join(root, 'manifest', snap.indexManifest)), 'index manifest');
    const hashesOfBucket = new Map<number, Set<number>>();
    for (const e of manifest.records) {
      expect(e._INDEX_TYPE).toBe('HASH');
      const bytes = await readFile(join(root, 'index', e._FILE_NAME as string));
      expect(bytes.length).toBe(4 * Number(e._ROW_COUNT));
      expect(BigInt(bytes.length)).toBe(e._FILE_SIZE);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      expect(hashesOfBucket.has(e._BUCKET as number)).toBe(false);
      hashesOfBucket.set(e._BUCKET as number, new Set(Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(i * 4, false))));
    }
    for (const [key, bucket] of bucketOfKey) {
      const [table, id] = key.split('|') as [string, string];
      expect(hashesOfBucket.get(bucket)!.has(hashOf(Number(id), table)), `hash of ${key} in bucket ${bucket}'s index`).toBe(true);
    }
    // Every key ever written (deleted ones too) is in the index, and buckets were filled in order:
    // each but the last holds target-row-num hashes.
    const ever = new Set<number>();
    for (const s of SHARDS) for (let id = 1; id <= ROWS_PER_SHARD; id++) ever.add(hashOf(id, `order_${s}`));
    for (const s of SHARDS) ever.add(hashOf(1000, `order_${s}`));
    ever.add(hashOf(5000, 'order_2'));
    ever.add(hashOf(2000, 'order_0'));
    const buckets = [...hashesOfBucket.keys()].sort((a, b) => a - b);
    const full = Math.ceil(ever.size / TARGET);
    expect(buckets).toEqual(Array.from({ length: full }, (_, i) => i));
    expect(buckets.map((b) => hashesOfBucket.get(b)!.size)).toEqual(buckets.map((b) => (b < full - 1 ? TARGET : ever.size - TARGET * (full - 1))));
    expect(new Set([...hashesOfBucket.values()].flatMap((h) => [...h]))).toEqual(ever);

    // The explorer reads it: the file list by bucket and the count.
    const out: string[] = [];
    expect(await runCli(['count', root], { out: (x: string) => out.push(x), err: () => undefined })).toBe(0);
    expect(out.join('').trim()).toBe(String(src.length));
    const filesOut: string[] = [];
    expect(await runCli(['files', root, '--json'], { out: (x: string) => filesOut.push(x), err: () => undefined })).toBe(0);
    const files = JSON.parse(filesOut.join('\n')) as { bucket?: number; partition?: unknown }[];
    expect(files.length).toBeGreaterThanOrEqual(buckets.length);
  }, 180_000);
});
