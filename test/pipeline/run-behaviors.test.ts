import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { runPipeline } from '../../core/pipeline';
import { currentSchema } from '../../core/lake/write';
import { loadTable } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node/index';
import { runCli } from '../../cli/main';
import { createShards, lakeRows, loadConfig, pipelineYaml, sourceRows } from './run-helpers';

/**
 * The same DDL sequence under each schema.change.behavior: add a column, rename one, drop one,
 * widen a type. Each run starts on a fresh source database and warehouse.
 */
const DDL = [
  'ALTER TABLE app.order_0 ADD COLUMN note VARCHAR(20)',
  "UPDATE app.order_0 SET note = 'n' WHERE id = 1",
  'ALTER TABLE app.order_0 RENAME COLUMN customer TO buyer',
  "UPDATE app.order_0 SET buyer = 'b2' WHERE id = 2",
  'ALTER TABLE app.order_0 DROP COLUMN created',
  "INSERT INTO app.order_0 (id, buyer, amount) VALUES (100, 'late', 3.00)",
  'ALTER TABLE app.order_0 MODIFY amount DECIMAL(14,2)',
  "UPDATE app.order_0 SET amount = 123456789.00 WHERE id = 3",
];

async function runBehavior(db: PrivateMariaDb, behavior: string) {
  const conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
  const warehouse = await mkdtemp(join(tmpdir(), `tidemark-${behavior}-`));
  try {
    await conn.query('DROP DATABASE IF EXISTS app');
    await createShards(conn, 5);
    const config = loadConfig(db, { warehouse, behavior, changelog: false });
    await runPipeline({ config, untilCaughtUp: true });
    for (const sql of DDL) await conn.query(sql);
    let error: string | null = null;
    try {
      await runPipeline({ config, untilCaughtUp: true });
    } catch (e) {
      error = (e as Error).message;
    }
    const table = await loadTable(createLocalStorage(), join(warehouse, 'ods', 'orders'));
    const schema = currentSchema(table.metadata);
    const columns = schema.fields.map((f) => `${f.name}:${f.type}${f.required ? '!' : ''}`);
    const rows = await lakeRows(warehouse, schema.fields.map((f) => f.name));
    return { error, columns, rows: rows.filter((r) => r.__table_name__ === 'order_0'), conn, warehouse };
  } finally {
    await conn.end();
    await rm(warehouse, { recursive: true, force: true });
  }
}

describe('schema.change.behavior on one DDL sequence', () => {
  let db: PrivateMariaDb;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('lenient: adds, keeps dropped and renamed columns, widens decimal', async () => {
    const r = await runBehavior(db, 'lenient');
    expect(r.error).toBeNull();
    expect(r.columns).toEqual(['id:int!', 'customer:string', 'amount:decimal(14, 2)', 'created:timestamp', '__table_name__:string!', 'note:string', 'buyer:string']);
    const byId = new Map(r.rows.map((x) => [x.id, x]));
    expect(byId.get('1')).toMatchObject({ note: 'n', customer: 'c0-0', buyer: null });
    expect(byId.get('2')).toMatchObject({ buyer: 'b2', customer: null });
    expect(byId.get('100')).toMatchObject({ buyer: 'late', created: null, amount: '3.00' });
    expect(byId.get('3')!.amount).toBe('123456789.00');
  });

  it('evolve and try_evolve: rename keeps the field, drop removes it', async () => {
    for (const behavior of ['evolve', 'try_evolve']) {
      const r = await runBehavior(db, behavior);
      expect(r.error).toBeNull();
      expect(r.columns).toEqual(['id:int!', 'buyer:string', 'amount:decimal(14, 2)', '__table_name__:string!', 'note:string']);
      const byId = new Map(r.rows.map((x) => [x.id, x]));
      // Renamed in place: the old values read under the new name (same field id).
      expect(byId.get('1')).toMatchObject({ buyer: 'c0-0', note: 'n' });
      expect(byId.get('2')!.buyer).toBe('b2');
      expect(byId.get('100')).toMatchObject({ buyer: 'late', amount: '3.00' });
    }
  });

  it('ignore: the target schema stays as it was; rows keep flowing', async () => {
    const r = await runBehavior(db, 'ignore');
    expect(r.error).toBeNull();
    expect(r.columns).toEqual(['id:int!', 'customer:string', 'amount:decimal(10, 2)', 'created:timestamp', '__table_name__:string!']);
    const byId = new Map(r.rows.map((x) => [x.id, x]));
    expect(byId.get('100')).toMatchObject({ customer: null, amount: '3.00' });
    expect(byId.get('3')!.amount).toBe('123456789.00');
  });

  it('exception: stops at the first DDL, having committed everything before it', async () => {
    const r = await runBehavior(db, 'exception');
    expect(r.error).toMatch(/^ods\.orders: schema change add-column by "ALTER TABLE app\.order_0 ADD COLUMN note VARCHAR\(20\)" at binlog\.\d+:\d+: schema\.change\.behavior is exception$/);
    expect(r.columns).toEqual(['id:int!', 'customer:string', 'amount:decimal(10, 2)', 'created:timestamp', '__table_name__:string!']);
    expect(r.rows).toHaveLength(5);
  });
});

describe('CLI plan and sync', () => {
  let db: PrivateMariaDb;
  let warehouse: string;
  let conn: mysql.Connection;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 30);
    warehouse = await mkdtemp(join(tmpdir(), 'tidemark-cli-sync-'));
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    if (warehouse) await rm(warehouse, { recursive: true, force: true });
  });

  it('plan shows routes, the target schema and behaviors, and writes nothing; sync --until-caught-up fills the lake', async () => {
    const yaml = join(warehouse, 'p.yaml');
    await writeFile(yaml, pipelineYaml(db, { warehouse, name: 'cli' }).replace('tidemark.key.shard-columns: __table_name__', 'description: no shard key'));
    process.env.DB_PASS = db.password;
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => err.push(t) };
    expect(await runCli(['plan', yaml, '--json'], io)).toBe(0);
    const plan = JSON.parse(out.join(''));
    expect(plan.sourceTables.map((t: { table: string }) => t.table)).toEqual(['app.order_0', 'app.order_1', 'app.order_2', 'app.order_3']);
    expect(plan.targets[0]).toMatchObject({ table: 'ods.orders', exists: false, key: ['id'] });
    expect(plan.targets[0].columns.map((c: { name: string; type: string }) => `${c.name}:${c.type}`)).toEqual(['id:int', 'customer:string', 'amount:decimal(10,2)', 'created:timestamp']);
    expect(plan.warnings.map((w: { kind: string }) => w.kind)).toEqual(['key-collision']);
    expect(plan.schemaChanges['drop.column']).toBe('keeps the column, made nullable; new rows hold NULL');
    out.length = 0;
    expect(await runCli(['plan', yaml], io)).toBe(0);
    expect(out.join('\n')).toContain('ods.orders (will be created)');

    expect(await runCli(['sync', yaml, '--until-caught-up'], io)).toBe(0);
    expect(err.some((l) => l.startsWith('[cli] stopped at binlog.'))).toBe(true);
    // Without a shard key the four shards collide on id: the lake holds one row per id (last write wins).
    const rows = await lakeRows(warehouse, ['id', 'customer']);
    expect(rows.map((r) => r.id).sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)));
    const src = await sourceRows(conn, ['__table_name__', 'id', 'customer']);
    expect(src).toHaveLength(120);
  });
});
