import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listWarehouseTables, scanRows } from '../../core/lake';
import { loadPipelineConfig, runPipeline } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';

// Identifiers with quotes, backticks, semicolons and non-ASCII letters must survive the snapshot
// SELECTs, the binlog, DDL parsing and the lake, quoted by the one helper each layer uses.
const DB = 'sh;op';
const TABLE = 'we"ird`tab;ü';
const COL = 'co`l "ümn";';
const q = (s: string) => `\`${s.replace(/`/g, '``')}\``;

let db: PrivateMariaDb;
let root: mysql.Connection;
let dir: string;

beforeAll(async () => {
  db = await startPrivateMariaDb();
  dir = await mkdtemp(join(tmpdir(), 'tidemark-hostile-'));
  root = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: false });
  await root.query(`CREATE DATABASE ${q(DB)}`);
  await root.query(`CREATE TABLE ${q(DB)}.${q(TABLE)} (id INT PRIMARY KEY, ${q(COL)} VARCHAR(40)) DEFAULT CHARSET=utf8mb4`);
  await root.query(`INSERT INTO ${q(DB)}.${q(TABLE)} VALUES (1, 'a''; DROP TABLE x; --'), (2, '🙂')`);
});
afterAll(async () => {
  await root?.end();
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

function config(warehouse: string) {
  return loadPipelineConfig(
    `source:
  type: mariadb
  hostname: 127.0.0.1
  port: ${db.port}
  username: ${db.user}
  password: \${env:PW}
  tables: sh;op\\.\\.*
  server-id: 6401
  heartbeat.interval: 200ms
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
pipeline:
  name: hostile
  execution.checkpointing.interval: 200ms
`,
    { fileName: 'hostile.yaml', env: { PW: db.password } },
  ).config;
}

describe('hostile identifiers through snapshot, binlog and DDL', () => {
  it('land in the lake with their values intact', async () => {
    const warehouse = join(dir, 'lake');
    await runPipeline({ config: config(warehouse), untilCaughtUp: true });
    await root.query(`INSERT INTO ${q(DB)}.${q(TABLE)} VALUES (3, 'x')`);
    await root.query(`UPDATE ${q(DB)}.${q(TABLE)} SET ${q(COL)} = 'y"z' WHERE id = 2`);
    await root.query(`ALTER TABLE ${q(DB)}.${q(TABLE)} ADD COLUMN ${q('ä;`b')} INT`);
    await root.query(`INSERT INTO ${q(DB)}.${q(TABLE)} VALUES (4, 'w', 7)`);
    await runPipeline({ config: config(warehouse), untilCaughtUp: true });
    const tables = await listWarehouseTables(createLocalStorage(), warehouse);
    const target = tables.find((t) => !t.name.endsWith('__changelog'))!;
    expect(target).toBeDefined();
    const { rows } = await scanRows(createLocalStorage(), target.path);
    const byId = Object.fromEntries(rows.map((r) => [String(r.id), r]));
    expect(Object.keys(byId).sort()).toEqual(['1', '2', '3', '4']);
    expect(byId['1']![COL]).toBe("a'; DROP TABLE x; --");
    expect(byId['2']![COL]).toBe('y"z');
    expect(byId['4']!['ä;`b']).toBe(7);
  }, 120_000);
});
