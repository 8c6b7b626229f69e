/**
 * Shared helpers of the pipeline runner tests: a sharded `app.order_0..3` source on a private
 * MariaDB, pipeline YAML for it, and row-for-row comparison of the lake with the source.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { PrivateMariaDb } from '../support/mariadb';
import { loadPipelineConfig, type PipelineConfig } from '../../core/pipeline';
import { scanRows } from '../../core/lake';
import { scanPaimonRows } from '../../core/lake/paimon';
import type { StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';

export const SHARDS = [0, 1, 2, 3];

let nextServerId = 7100 + (process.pid % 500) * 3;

export interface YamlOptions {
  warehouse: string;
  behavior?: string;
  changelog?: boolean;
  intervalMs?: number;
  name?: string;
  extraPipeline?: string;
  extraSink?: string;
  chunkSize?: number;
  /** Paimon sink: table.properties.bucket (default 2; null leaves it out: dynamic bucket). */
  paimonBucket?: string | null;
}

/** A server id no other pipeline of this test file has used: for runs that must share one (a pipeline started again). */
export function takeServerId(): number {
  return nextServerId++;
}

/** The `source:` block for the private MariaDB (password from DB_PASS, a fresh server id unless one is given), with `extra` lines. */
export function sourceYaml(db: PrivateMariaDb, tables: string, extra = '', serverId = takeServerId()): string {
  return `source:
  type: mariadb
  hostname: 127.0.0.1
  port: "${db.port}"
  username: ${db.user}
  password: \${env:DB_PASS}
  tables: ${tables}
  server-id: "${serverId}"
  heartbeat.interval: 200ms
${extra}`;
}

/**
 * A pipeline over `tables` with no route (targets keep the source names) into a hadoop Iceberg
 * warehouse; `source` and `sink` are lines added to those blocks, `extra` blocks before
 * `pipeline:` (a route, a transform), all indented as given.
 */
export function tablesPipelineYaml(db: PrivateMariaDb, o: { warehouse: string; tables: string; name: string; source?: string; sink?: string; extra?: string; behavior?: string; serverId?: number }): string {
  return `${sourceYaml(db, o.tables, o.source ?? '', o.serverId)}sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${o.warehouse}
${o.sink ?? ''}${o.extra ?? ''}pipeline:
  name: ${o.name}
${o.behavior === undefined ? '' : `  schema.change.behavior: ${o.behavior}\n`}  execution.checkpointing.interval: 200ms
`;
}

/** The sharded pipeline: `sink` is its sink block, `pipeline` lines added to its pipeline block. */
function shardedPipelineYaml(db: PrivateMariaDb, o: YamlOptions, sink: string, name: string, pipeline: string): string {
  return `${sourceYaml(db, 'app.order_\\.*', `  scan.incremental.snapshot.chunk.size: ${o.chunkSize ?? 40}\n`)}${sink}${o.extraSink ?? ''}route:
  - source-table: app.order_\\.*
    sink-table: ods.orders
    tidemark.key.shard-columns: __table_name__
pipeline:
  name: ${o.name ?? name}
  schema.change.behavior: ${o.behavior ?? 'lenient'}
  execution.checkpointing.interval: ${o.intervalMs ?? 200}ms
${pipeline}${o.extraPipeline ?? ''}`;
}

/** The sharded `app.order_0..3` into the Iceberg table `ods.orders` (compaction every 4 commits, a changelog table unless `changelog` is false). */
export function pipelineYaml(db: PrivateMariaDb, o: YamlOptions): string {
  const sink = `sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${o.warehouse}
  sink.compaction.enabled: true
  sink.compaction.commit.interval: 4
`;
  return shardedPipelineYaml(db, o, sink, 'orders', `  tidemark.changelog.enabled: ${o.changelog ?? true}\n`);
}

/** The same sharded pipeline into a Paimon primary-key table `ods.orders` (2 buckets; no changelog table: Paimon keeps its own). */
export function paimonPipelineYaml(db: PrivateMariaDb, o: YamlOptions): string {
  const sink = `sink:
  type: paimon
  catalog.properties.metastore: filesystem
  catalog.properties.warehouse: ${o.warehouse}
  commit.user: finance-sync
${o.paimonBucket === null ? '' : `  table.properties.bucket: ${o.paimonBucket ?? '2'}\n`}`;
  return shardedPipelineYaml(db, o, sink, 'orders-paimon', '');
}

export function loadConfig(db: PrivateMariaDb, o: YamlOptions, sink: 'iceberg' | 'paimon' = 'iceberg'): PipelineConfig {
  const text = sink === 'paimon' ? paimonPipelineYaml(db, o) : pipelineYaml(db, o);
  return loadPipelineConfig(text, { fileName: 'test.yaml', env: { DB_PASS: db.password } }).config;
}

/**
 * A primary key of the shards other than `id`: a column `k` of `type`, alone or first of (k, id);
 * `id` stays AUTO_INCREMENT and unique. `value` is the SQL of a new key (evaluated per row).
 */
export interface ShardKey {
  name: string;
  type: string;
  primaryKey: 'k' | 'k, id';
  value: string;
  /** SQL rendering `k` as the lake's value prints (flatten): for a spatial key, its WKB in hex. */
  render?: string;
}

export async function createShards(conn: mysql.Connection, rowsPerShard: number, key?: ShardKey): Promise<void> {
  await conn.query('CREATE DATABASE IF NOT EXISTS app');
  for (const s of SHARDS) {
    const keyed = key ? `id INT NOT NULL AUTO_INCREMENT, k ${key.type} NOT NULL, ` : 'id INT PRIMARY KEY AUTO_INCREMENT, ';
    const keys = key ? `, PRIMARY KEY (${key.primaryKey}), UNIQUE KEY (id)` : '';
    await conn.query(`CREATE TABLE app.order_${s} (${keyed}customer VARCHAR(40) NOT NULL, amount DECIMAL(10,2), created DATETIME(3)${keys})`);
    if (rowsPerShard > 0) {
      const values = Array.from({ length: rowsPerShard }, (_, i) => `(${key ? `${key.value}, ` : ''}'c${s}-${i}', ${(i * 1.25 + s).toFixed(2)}, '2024-01-0${1 + (i % 9)} 10:00:00.${String(i % 1000).padStart(3, '0')}')`);
      await conn.query(`INSERT INTO app.order_${s} (${key ? 'k, ' : ''}customer, amount, created) VALUES ${values.join(',')}`);
    }
  }
}

export type Flat = Record<string, string | null>;

/** A comparable text form of a row: every value as text (timestamps ISO, decimals canonical). */
export function flatten(row: Record<string, unknown>, columns: string[]): Flat {
  const out: Flat = {};
  for (const c of columns) {
    const v = row[c];
    out[c] = v === null || v === undefined ? null : typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v);
  }
  return out;
}

export const sortKey = (r: Flat) => `${r.__table_name__}|${String(r.id).padStart(10, '0')}`;

/** Source rows of every shard with `__table_name__`, ordered by (shard, id). */
export async function sourceRows(conn: mysql.Connection, columns: string[], render: Record<string, string> = {}): Promise<Flat[]> {
  const out: Flat[] = [];
  for (const s of SHARDS) {
    const [cols] = await conn.query<mysql.RowDataPacket[]>(`SELECT COLUMN_NAME AS c FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA='app' AND TABLE_NAME='order_${s}'`);
    const have = new Set(cols.map((r) => String(r.c)));
    const select = columns.filter((c) => c !== '__table_name__').map((c) => {
      if (!have.has(c)) return `NULL AS \`${c}\``;
      if (c === 'created') return `DATE_FORMAT(created, '%Y-%m-%dT%H:%i:%s.%f') AS created`;
      if (render[c]) return `${render[c]} AS \`${c}\``;
      return `CAST(\`${c}\` AS CHAR) AS \`${c}\``;
    });
    const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT ${select.join(', ')} FROM app.order_${s}`);
    for (const r of rows) out.push(flatten({ ...r, __table_name__: `order_${s}` }, columns));
  }
  return out.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
}

/** The lake's rows of `ods.<table>` (an s3:// warehouse read through `storage`). */
export async function lakeRows(warehouse: string, columns: string[], table = 'orders', storage: StoragePort = createLocalStorage()): Promise<Flat[]> {
  const { rows } = await scanRows(storage, warehouse.startsWith('s3://') ? `${warehouse}/ods/${table}` : join(warehouse, 'ods', table));
  return rows.map((r) => flatten(r, columns)).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
}

/** The rows of the Paimon table `ods.<table>` (its LSM merged by the Tidemark reader), in the same order as sourceRows. */
export async function paimonLakeRows(warehouse: string, columns: string[], table = 'orders'): Promise<Flat[]> {
  const { rows } = await scanPaimonRows(createLocalStorage(), join(warehouse, 'ods.db', table));
  return rows.map((r) => flatten(r, columns)).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
}

export async function changelogRows(warehouse: string, storage: StoragePort = createLocalStorage()): Promise<Record<string, unknown>[]> {
  const { rows } = await scanRows(storage, warehouse.startsWith('s3://') ? `${warehouse}/ods/orders__changelog` : join(warehouse, 'ods', 'orders__changelog'));
  return rows;
}

/**
 * The binlog phase of the sharded end-to-end tests: inserts (the same id in every shard), updates,
 * deletes, a key update, ADD COLUMN note with updates of it, and a transaction that inserts,
 * updates and deletes; `dropCreated` also drops order_3.created and inserts a row after it.
 */
export async function applyBinlogChanges(conn: mysql.Connection, dropCreated: boolean): Promise<void> {
  for (const s of SHARDS) {
    await conn.query(`INSERT INTO app.order_${s} (id, customer, amount, created) VALUES (1000, 'x${s}', 1.00, '2024-02-01 00:00:00.000')`);
    await conn.query(`UPDATE app.order_${s} SET amount = amount + 10 WHERE id % 7 = 0`);
    await conn.query(`DELETE FROM app.order_${s} WHERE id % 11 = 0`);
  }
  await conn.query('UPDATE app.order_2 SET id = 5000 WHERE id = 3');
  await conn.query('ALTER TABLE app.order_1 ADD COLUMN note VARCHAR(20)');
  await conn.query("UPDATE app.order_1 SET note = 'hello' WHERE id < 5");
  if (dropCreated) {
    await conn.query('ALTER TABLE app.order_3 DROP COLUMN created');
    await conn.query("INSERT INTO app.order_3 (customer, amount) VALUES ('after-drop', 2.50)");
  }
  await conn.query("BEGIN; INSERT INTO app.order_0 (id, customer) VALUES (2000, 'tx'); UPDATE app.order_0 SET customer = 'tx2' WHERE id = 2000; DELETE FROM app.order_0 WHERE id = 1; COMMIT");
}

/** SHA-256 of the rows in order: equal checksums mean equal tables row for row. */
export function checksum(rows: Flat[]): string {
  return createHash('sha256').update(JSON.stringify(rows)).digest('hex');
}

/** Polls `check` until true, failing after the deadline (never a fixed sleep). */
export async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
