import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { formatPlan, planPipeline, runPipeline, type PipelineConfig } from '../../core/pipeline';
import { readPaimonSchema } from '../../core/lake/paimon';
import { runCli } from '../../cli/main';
import { createLocalStorage } from '../../core/storage/node/index';
import { applyBinlogChanges, checksum, createShards, loadConfig, paimonLakeRows, sourceRows } from './run-helpers';

const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created', 'note'];
const storage = createLocalStorage();

function config(db: PrivateMariaDb, warehouse: string): PipelineConfig {
  return loadConfig(db, { warehouse, name: 'orders-paimon' }, 'paimon');
}

const paimonRows = (root: string, columns: string[]) => paimonLakeRows(join(root, '..', '..'), columns);

async function snapshotJson(root: string): Promise<Record<string, unknown>[]> {
  const names = (await readdir(join(root, 'snapshot'))).filter((n) => n.startsWith('snapshot-'));
  const out = await Promise.all(names.map(async (n) => JSON.parse(await readFile(join(root, 'snapshot', n), 'utf8')) as Record<string, unknown>));
  return out.sort((a, b) => Number(a.id) - Number(b.id));
}

async function runCountCli(root: string): Promise<string> {
  const out: string[] = [];
  await runCli(['count', root], { out: (t: string) => out.push(t), err: () => undefined });
  return out.join('').trim();
}

describe('sync into Paimon primary-key tables (sharded source, DDL, updates, deletes)', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let warehouse: string;
  let root: string;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 120);
    warehouse = await mkdtemp(join(tmpdir(), 'tidemark-paimon-sync-'));
    root = join(warehouse, 'ods.db', 'orders');
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    if (warehouse) await rm(warehouse, { recursive: true, force: true });
  });

  it('plans the Paimon target: its path, Paimon types, bucket count and rows per bucket, with a small-file warning', async () => {
    await conn.query('ANALYZE TABLE app.order_0, app.order_1, app.order_2, app.order_3');
    const plan = await planPipeline(config(db, warehouse));
    expect(plan.sink).toBe('paimon');
    const t = plan.targets[0]!;
    expect(t).toMatchObject({ table: 'ods.orders', path: root, exists: false, key: ['id', '__table_name__'] });
    expect(t.columns.map((c) => `${c.name} ${c.type}`)).toEqual(['id INT', 'customer VARCHAR(40)', 'amount DECIMAL(10, 2)', 'created TIMESTAMP(3)', '__table_name__ STRING']);
    expect(t.buckets).toMatchObject({ count: 2, key: ['id', '__table_name__'] });
    expect(t.buckets!.rowsEstimated).toBeGreaterThan(0);
    expect(t.buckets!.rowsPerBucket).toBe(Math.ceil(t.buckets!.rowsEstimated / 2));
    expect(plan.warnings.filter((w) => w.kind === 'bucket-size').map((w) => w.message)).toEqual([expect.stringMatching(/^ods\.orders: 2 buckets for ~\d+ rows .* makes small files; bucket: 1 would do/)]);
    expect(formatPlan(plan)).toContain('→ paimon, commit every 0.2s');
    expect(formatPlan(plan)).toMatch(/buckets: 2 by \(id, __table_name__\); ~\d+ rows, ~\d+ rows \([\d.]+ MiB\) a bucket/);
  });

  it('creates the table as Flink CDC would and lands snapshot + binlog changes row for row, twice', async () => {
    const first = await runPipeline({ config: config(db, warehouse), untilCaughtUp: true });
    expect(first.commits).toBeGreaterThan(0);
    const schema = await readPaimonSchema(storage, root);
    expect(schema.primaryKeys).toEqual(['id', '__table_name__']);
    expect(schema.options.bucket).toBe('2');
    // Flink CDC's type mapping: INT, VARCHAR(40) NOT NULL stays VARCHAR(40) (nullable: not a key), DECIMAL, DATETIME(3) → TIMESTAMP(3).
    const schema0 = JSON.parse(await readFile(join(root, 'schema', 'schema-0'), 'utf8')) as { fields: { name: string; type: string }[] };
    expect(Object.fromEntries(schema0.fields.map((f) => [f.name, f.type]))).toEqual({ id: 'INT NOT NULL', customer: 'VARCHAR(40)', amount: 'DECIMAL(10, 2)', created: 'TIMESTAMP(3)', __table_name__: 'STRING NOT NULL' });
    const columns0 = COLUMNS.filter((c) => c !== 'note');
    expect(await paimonRows(root, columns0)).toEqual(await sourceRows(conn, columns0));

    await applyBinlogChanges(conn, false);

    const second = await runPipeline({ config: config(db, warehouse), untilCaughtUp: true });
    expect(second.commits).toBeGreaterThan(0);
    const lake = await paimonRows(root, COLUMNS);
    const src = await sourceRows(conn, COLUMNS);
    expect(lake).toEqual(src);
    expect(checksum(lake)).toBe(checksum(src));
    expect(lake.filter((r) => r.note === 'hello').map((r) => r.id)).toEqual(['1', '2', '3', '4']);
    expect((await readPaimonSchema(storage, root)).paimonFields.map((f) => f.name)).toContain('note');

    // Paimon's exactly once: every data snapshot names the commit user, identifiers grow, the offset rides along.
    const snaps = await snapshotJson(root);
    const appends = snaps.filter((s) => s.commitKind === 'APPEND');
    expect(appends.length).toBeGreaterThan(1);
    expect(appends.every((s) => s.commitUser === 'finance-sync')).toBe(true);
    const ids = appends.map((s) => BigInt(String(s.commitIdentifier)));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
    expect(appends.every((s) => typeof (s.properties as Record<string, string>)['tidemark.source-offset'] === 'string')).toBe(true);

    // The explorer's views of the synced table (through the CLI, over the same core calls as the app).
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(args, { out: (t: string) => out.push(t), err: (t: string) => err.push(t) });
      expect(err, args.join(' ')).toEqual([]);
      expect(code).toBe(0);
      return JSON.parse(out.join('\n')) as unknown;
    };
    const listed = (await cli('snapshots', root, '--json')) as { snapshotId: string; operation: string }[];
    expect(listed.filter((x) => x.operation === 'append').length).toBe(appends.length);
    const tables = (await cli('tables', warehouse, '--json')) as { namespace: string; name: string; format: string }[];
    expect(tables).toEqual([expect.objectContaining({ namespace: 'ods', name: 'orders', format: 'paimon' })]);
    const history = (await cli('history', root, '--key', 'id=5000,__table_name__=order_2', '--json')) as unknown[];
    expect(history.length).toBeGreaterThan(0);
    // From the first sync's last commit to the second's: the rows of the binlog phase, by key (id, __table_name__).
    const firstSyncEnd = String(appends.find((x) => BigInt(String(x.commitIdentifier)) === ids[first.commits - 1])?.id ?? appends[0]!.id);
    const diff = (await cli('diff', root, firstSyncEnd, String(appends[appends.length - 1]!.id), '--json')) as { addedCount: number; removedCount: number; changedCount: number; added: Record<string, unknown>[] };
    expect(diff.added.some((r) => String(r.id) === '5000' && r.__table_name__ === 'order_2')).toBe(true);
    expect(diff.removedCount).toBeGreaterThanOrEqual(40);
    expect(diff.changedCount).toBeGreaterThan(0);
    // Paimon's $audit_log: the live rows with their row kinds (+I / +U), retractions not yet compacted away as -U / -D.
    const audit = (await cli('query', warehouse, 'SELECT rowkind, id, __table_name__ FROM ods.orders$audit_log', '--format', 'json')) as { rowkind: string; id: number; __table_name__: string }[];
    expect(new Set(audit.map((r) => r.rowkind)).size).toBeGreaterThan(1);
    expect(audit.every((r) => ['+I', '+U', '-U', '-D'].includes(r.rowkind))).toBe(true);
    const liveInAudit = audit.filter((r) => r.rowkind === '+I' || r.rowkind === '+U').map((r) => `${r.__table_name__}|${r.id}`).sort();
    expect(liveInAudit).toEqual(src.map((r) => `${r.__table_name__}|${r.id}`).sort());
    expect(audit.find((r) => r.__table_name__ === 'order_0' && String(r.id) === '7')?.rowkind).toBe('+U');
    const count = await runCountCli(root);
    expect(count).toBe(String(src.length));

    // A third run with nothing new commits nothing and changes nothing.
    const before = snaps.length;
    await runPipeline({ config: config(db, warehouse), untilCaughtUp: true });
    expect(await paimonRows(root, COLUMNS)).toEqual(src);
    expect((await snapshotJson(root)).filter((s) => s.commitKind === 'APPEND').length).toBeLessThanOrEqual(before + 1);
  }, 120_000);
});
