import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { loadTable, planScan, scanRows } from '../../core/lake';
import { loadPipelineConfig, runPipeline } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { checksum, sourceYaml, waitUntil } from './run-helpers';

const storage = createLocalStorage();
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tidemark');

/**
 * The snapshot path with rolling data files, end to end on a private MariaDB: a one-column-key
 * table's snapshot is streamed into Parquet files as it is read (sink-stream.ts), rolled at the
 * table's `write.target-file-size-bytes`, and published by the round's commit.
 */
describe('rolling data files in a sync', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let work: string;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection(db.rootConfig());
    await conn.query('CREATE DATABASE app');
    await conn.query('USE app'); // the seq_ tables of the Sequence engine resolve in the current database
    for (const [table, rows] of [['items', 150_000], ['big', 300_000]] as const) {
      await conn.query(`CREATE TABLE app.${table} (id BIGINT PRIMARY KEY, v VARCHAR(64), n INT)`);
      for (let lo = 1; lo <= rows; lo += 100_000) {
        await conn.query(`INSERT INTO app.${table} SELECT seq, CONCAT('value-', seq, '-', MD5(seq)), seq % 1000 FROM seq_${lo}_to_${Math.min(rows, lo + 99_999)}`);
      }
    }
    work = await mkdtemp(join(tmpdir(), 'tidemark-rolling-sync-'));
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const yaml = (table: string, warehouse: string, interval: string, targetBytes: number) => `${sourceYaml(db, `app.${table}`, '  scan.startup.mode: initial\n')}sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
  table.properties.write.target-file-size-bytes: "${targetBytes}"
pipeline:
  name: rolling-${table}
  execution.checkpointing.interval: ${interval}
`;

  async function sourceChecksum(table: string): Promise<{ rows: number; sum: string }> {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT CAST(id AS CHAR) AS id, v, CAST(n AS CHAR) AS n FROM app.${table}`);
    const flat = rows.map((r) => ({ id: String(r.id), v: String(r.v), n: String(r.n) })).sort((a, b) => Number(a.id) - Number(b.id));
    return { rows: rows.length, sum: checksum(flat) };
  }

  async function lakeChecksum(root: string): Promise<{ rows: number; distinct: number; sum: string }> {
    const { rows } = await scanRows(storage, root);
    const flat = rows.map((r) => ({ id: String(r.id), v: String(r.v), n: String(r.n) })).sort((a, b) => Number(a.id) - Number(b.id));
    return { rows: rows.length, distinct: new Set(flat.map((r) => r.id)).size, sum: checksum(flat) };
  }

  it('a snapshot read in one round is written as files of the target size, every row once', async () => {
    const warehouse = join(work, 'one-round');
    const target = 300_000;
    const config = loadPipelineConfig(yaml('items', warehouse, '10min', target), { fileName: 'rolling.yaml', env: { DB_PASS: db.password } }).config;
    const result = await runPipeline({ config, untilCaughtUp: true });
    expect(result.commits).toBe(1);
    const root = join(warehouse, 'app', 'items');
    const loaded = await loadTable(storage, root);
    expect(loaded.metadata.snapshots).toHaveLength(1);
    const files = (await planScan(storage, loaded)).files;
    expect(files.length).toBeGreaterThan(2);
    const sizes = files.map((f) => Number(f.fileSizeInBytes));
    // Every file but the last one rolled near the target: the first once its written bytes reached
    // it (it passes it by the rows the encoder had not handed out yet, ~1 MB here), the next ones
    // at the first's bytes per row.
    expect(sizes[0]).toBeGreaterThanOrEqual(target);
    for (const size of sizes.slice(1, -1)) expect(size).toBeGreaterThanOrEqual(0.9 * target);
    for (const size of sizes.slice(1)) expect(size).toBeLessThan(2 * target);
    expect(files.reduce((n, f) => n + Number(f.recordCount), 0)).toBe(150_000);
    // No file left beside the committed ones.
    expect((await readdir(join(root, 'data'))).filter((f) => f.endsWith('.parquet')).sort()).toEqual(files.map((f) => basename(f.originalPath)).sort());
    const lake = await lakeChecksum(root);
    const source = await sourceChecksum('items');
    expect(lake).toEqual({ rows: source.rows, distinct: source.rows, sum: source.sum });
  }, 180_000);

  it('a bulk insert transaction in the binlog is streamed into rolled files as it is read; changes after it in the transaction commit with it', async () => {
    await conn.query('CREATE TABLE app.bulk (id BIGINT PRIMARY KEY, v VARCHAR(64), n INT)');
    const [status] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const start = `  scan.startup.mode: specific-offset\n  scan.startup.specific-offset.file: ${String(status[0]!.File)}\n  scan.startup.specific-offset.pos: ${String(status[0]!.Position)}\n`;
    // One transaction: 150k inserts of increasing keys (a backfill), then an update and a delete of keys it inserted.
    await conn.query('START TRANSACTION');
    for (const lo of [1, 100_001]) await conn.query(`INSERT INTO app.bulk SELECT seq, CONCAT('value-', seq, '-', MD5(seq)), seq % 1000 FROM seq_${lo}_to_${Math.min(150_000, lo + 99_999)}`);
    await conn.query("UPDATE app.bulk SET v = 'updated' WHERE id = 5");
    await conn.query('DELETE FROM app.bulk WHERE id = 7');
    await conn.query('COMMIT');
    const warehouse = join(work, 'bulk');
    const text = yaml('bulk', warehouse, '300ms', 300_000).replace('  scan.startup.mode: initial\n', start);
    const config = loadPipelineConfig(text, { fileName: 'bulk.yaml', env: { DB_PASS: db.password } }).config;
    await runPipeline({ config, untilCaughtUp: true });
    const root = join(warehouse, 'app', 'bulk');
    const loaded = await loadTable(storage, root);
    // Streamed inside the transaction: rolled at the target size (a held round is one file).
    const files = (await planScan(storage, loaded)).files.filter((f) => f.content === 0);
    expect(files.length).toBeGreaterThan(2);
    // The inserts' files and the update and delete after them: two snapshots of one metadata version.
    const [append, overwrite] = loaded.metadata.snapshots.slice(-2);
    expect(append!.summary.operation).toBe('append');
    // The parts streamed before the update (8192 changes each); the rest of the transaction is held.
    expect(Number(append!.summary['added-records'])).toBeGreaterThan(140_000);
    expect(overwrite!.parentSnapshotId).toBe(append!.snapshotId);
    const previous = await loadTable(storage, root, loaded.metadata.metadataLog.at(-1)!.metadataFile);
    expect(previous.metadata.snapshots.some((s) => s.snapshotId === append!.snapshotId)).toBe(false);
    const lake = await lakeChecksum(root);
    const source = await sourceChecksum('bulk');
    expect(source.rows).toBe(149_999);
    expect(lake).toEqual({ rows: source.rows, distinct: source.rows, sum: source.sum });
  }, 180_000);

  it('after kill -9 with a file written and not committed, that file is never visible and the resumed sync holds every row once', async () => {
    const warehouse = join(work, 'killed');
    const yamlPath = join(work, 'killed.yaml');
    await writeFile(yamlPath, yaml('big', warehouse, '300ms', 400_000));
    const root = join(warehouse, 'app', 'big');
    const child = spawn(process.execPath, [BIN, 'sync', yamlPath], { env: { ...process.env, DB_PASS: db.password }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // The moment: at least one commit, and a data file on disk that no snapshot references yet.
    let orphans: string[] = [];
    let committedRows = 0;
    try {
      await waitUntil(
        async () => {
          if (!existsSync(join(root, 'metadata')) || !existsSync(join(root, 'data'))) return false;
          const loaded = await loadTable(storage, root).catch(() => null);
          if (!loaded || loaded.metadata.currentSnapshotId === null) return false;
          const referenced = new Set((await planScan(storage, loaded)).files.map((f) => basename(f.originalPath)));
          const onDisk = (await readdir(join(root, 'data'))).filter((f) => f.endsWith('.parquet'));
          orphans = onDisk.filter((f) => !referenced.has(f));
          if (orphans.length === 0) return false;
          child.kill('SIGKILL');
          committedRows = Number(loaded.metadata.snapshots.find((s) => s.snapshotId === loaded.metadata.currentSnapshotId)!.summary['total-records']);
          return true;
        },
        'a commit and an uncommitted data file',
        120_000,
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(stderr).not.toMatch(/error/i);
    expect(committedRows).toBeGreaterThan(0);
    expect(committedRows).toBeLessThan(300_000);
    // Killed: the uncommitted file is there, and nothing reads it.
    const afterKill = await loadTable(storage, root);
    const visible = (await planScan(storage, afterKill)).files.map((f) => basename(f.originalPath));
    for (const f of orphans) expect(existsSync(join(root, 'data', f))).toBe(true);
    expect(visible.filter((f) => orphans.includes(f))).toEqual([]);
    const seen = await lakeChecksum(root);
    expect(seen.rows).toBe(seen.distinct);

    // The resumed sync (in-process, to its end) completes the table: every row exactly once, and
    // the killed run's files stay unreferenced.
    const config = loadPipelineConfig(yaml('big', warehouse, '300ms', 400_000), { fileName: 'killed.yaml', env: { DB_PASS: db.password } }).config;
    await runPipeline({ config, untilCaughtUp: true });
    const final = await loadTable(storage, root);
    const finalFiles = (await planScan(storage, final)).files.map((f) => basename(f.originalPath));
    expect(finalFiles.filter((f) => orphans.includes(f))).toEqual([]);
    const lake = await lakeChecksum(root);
    const source = await sourceChecksum('big');
    expect(lake).toEqual({ rows: source.rows, distinct: source.rows, sum: source.sum });
  }, 300_000);
});
