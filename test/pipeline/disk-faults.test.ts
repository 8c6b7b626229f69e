import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTable, scanRows } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node/index';
import { runCli } from '../../cli/main';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { recordFigure } from '../support/record';
import { mountSmallDisk, type SmallDisk } from '../support/small-disk';
import { changelogRows, checksum, createShards, lakeRows, pipelineYaml, SHARDS, sourceRows } from './run-helpers';

// `tidemark sync` (the CLI entry point, run in-process) committing into a warehouse on a small tmpfs
// that is full (ENOSPC) or read-only (EROFS) when the commit comes: the sync stops with an Io error
// naming the file, each table stays at a complete snapshot (the failed one at its previous one),
// and the next sync after the disk is fixed brings the lake to the source with no row lost or
// doubled and every change once in the changelog.
const probe = await mountSmallDisk(16);
const unavailable = 'unavailable' in probe ? probe.unavailable : null;
if (unavailable) console.warn(`disk-fault sync tests skipped: ${unavailable}`);

const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];
const storage = createLocalStorage();

/**
 * `tidemark sync <yaml> --until-caught-up`. `fault` runs synchronously at the first progress line:
 * the runner has then taken its lock and read the source schema but committed nothing, so the
 * fault meets the commit (not the lock file), whatever the timing.
 */
async function runSync(yamlPath: string, password: string, fault?: () => void): Promise<{ code: number; stderr: string }> {
  process.env.DB_PASS = password;
  let stderr = '';
  let pending = fault;
  const code = await runCli(['sync', yamlPath, '--until-caught-up'], {
    out: () => undefined,
    err: (text) => {
      stderr += `${text}\n`;
      if (pending && /^\[orders\] (snapshot|streaming)/.test(text)) {
        pending();
        pending = undefined;
      }
    },
  });
  return { code, stderr };
}

async function snapshotOf(root: string): Promise<string | null> {
  return (await loadTable(storage, root)).metadata.currentSnapshotId?.toString() ?? null;
}

/** No temp file left anywhere in the warehouse; every snapshot of both tables reads. */
async function checkWarehouse(warehouse: string): Promise<void> {
  const files = (await readdir(warehouse, { recursive: true })).map(String);
  expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
  for (const root of [join(warehouse, 'ods', 'orders'), join(warehouse, 'ods', 'orders__changelog')]) {
    const t = await loadTable(storage, root);
    for (const s of t.metadata.snapshots) await scanRows(storage, t, { snapshotId: s.snapshotId });
  }
}

/** Source changes of one round: inserts, updates and deletes in every shard. */
async function changeSource(conn: mysql.Connection, round: number): Promise<void> {
  for (const s of SHARDS) {
    const values = Array.from({ length: 60 }, (_, i) => `('r${round}-${s}-${i}-${(round * 7919 + i * 104729) % 1000003}', ${(i * 0.37 + round).toFixed(2)}, NOW(3))`);
    await conn.query(`INSERT INTO app.order_${s} (customer, amount, created) VALUES ${values.join(',')}`);
    await conn.query(`UPDATE app.order_${s} SET amount = amount + 1, customer = CONCAT('u${round}-', id) WHERE id % 5 = ?`, [round % 5]);
    await conn.query(`DELETE FROM app.order_${s} WHERE id % 13 = ?`, [round % 13]);
  }
}

describe.skipIf(unavailable !== null)('disk faults during `tidemark sync` (real ENOSPC / EROFS, private MariaDB)', () => {
  const disk = probe as SmallDisk;
  const warehouse = join(disk.dir ?? '', 'wh');
  const orders = join(warehouse, 'ods', 'orders');
  const changelog = join(warehouse, 'ods', 'orders__changelog');
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let work: string;
  let yamlPath: string;
  const figures = { mechanism: disk.mechanism, trials: 0, failedSyncs: 0, failedAt: {} as Record<string, number>, recoveredSyncs: 0, lakeRows: 0, checksumsEqual: true, duplicateKeys: 0, changelogDuplicates: 0 };

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 80);
    work = await mkdtemp(join(tmpdir(), 'tidemark-disk-sync-'));
    yamlPath = join(work, 'orders.yaml');
    // The status file lives off the small disk, so the first write that meets the fault is a commit.
    await writeFile(yamlPath, pipelineYaml(db, { warehouse, name: 'orders', extraPipeline: `  tidemark.status-file: ${join(work, 'orders.status.json')}\n` }));
  });
  afterAll(async () => {
    recordFigure('disk faults: tidemark sync (ENOSPC, EROFS)', figures);
    await conn?.end();
    await db?.stop();
    await disk.unmount?.();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Lake == source row for row, no key twice, every changelog entry once. */
  async function expectCaughtUp(): Promise<void> {
    const lake = await lakeRows(warehouse, COLUMNS);
    const source = await sourceRows(conn, COLUMNS);
    const keys = lake.map((r) => `${r.__table_name__}|${r.id}`);
    const duplicates = keys.length - new Set(keys).size;
    const log = await changelogRows(warehouse);
    const ids = log.map((r) => `${r.binlog_file}|${r.binlog_pos}|${r.source_table}|${r.op}|${r.before}|${r.after}`);
    figures.lakeRows = lake.length;
    figures.duplicateKeys += duplicates;
    figures.changelogDuplicates += ids.length - new Set(ids).size;
    figures.checksumsEqual &&= checksum(lake) === checksum(source);
    expect(duplicates).toBe(0);
    expect(ids.length - new Set(ids).size).toBe(0);
    expect(checksum(lake)).toBe(checksum(source));
    expect(lake).toEqual(source);
  }

  it('a full disk at the commit: sync fails with Io naming the file, tables stay at complete snapshots, the next sync catches up exactly', async () => {
    const first = await runSync(yamlPath, db.password);
    expect(first.stderr).not.toMatch(/error\[/);
    expect(first.code).toBe(0);
    await expectCaughtUp();
    // 0 bytes: the first data file fails; more room lets the commit fail further in (manifest,
    // metadata, the changelog table after the target, the checkpoint file).
    for (const [round, leave] of [0, 8192, 20_480, 36_864, 53_248].entries()) {
      figures.trials++;
      await changeSource(conn, round + 1);
      const before = { orders: await snapshotOf(orders), changelog: await snapshotOf(changelog) };
      const failed = await runSync(yamlPath, db.password, () => disk.fillSync(leave));
      await disk.free();
      if (failed.code === 0) {
        await expectCaughtUp();
        continue;
      }
      figures.failedSyncs++;
      expect(failed.code).toBe(1);
      const line = failed.stderr.split('\n').find((l) => l.startsWith('error['));
      expect(line).toMatch(new RegExp(`^error\\[Io\\]: cannot write ${warehouse}/\\S+: no space left on device \\(ENOSPC\\)$`));
      const path = /cannot write (\S+):/.exec(line!)![1]!;
      const where = relative(warehouse, path).startsWith('ods/orders__changelog/') ? 'changelog table' : relative(warehouse, path).startsWith('ods/orders/') ? 'target table' : relative(warehouse, path).split('/')[0]!;
      figures.failedAt[where] = (figures.failedAt[where] ?? 0) + 1;
      // The table whose commit failed is still at its previous snapshot; everything reads.
      if (where === 'target table') expect(await snapshotOf(orders)).toBe(before.orders);
      if (where === 'changelog table') expect(await snapshotOf(changelog)).toBe(before.changelog);
      await checkWarehouse(warehouse);
      const again = await runSync(yamlPath, db.password);
      expect(again.stderr).not.toMatch(/error\[/);
      expect(again.code).toBe(0);
      figures.recoveredSyncs++;
      await checkWarehouse(warehouse);
      await expectCaughtUp();
    }
    expect(figures.failedSyncs).toBeGreaterThan(0);
  });

  it('a read-only warehouse at the commit: sync fails with Io "read-only file system", nothing changes, the next sync catches up', async () => {
    figures.trials++;
    await changeSource(conn, 40);
    const before = { orders: await snapshotOf(orders), changelog: await snapshotOf(changelog) };
    let failed: Awaited<ReturnType<typeof runSync>>;
    try {
      failed = await runSync(yamlPath, db.password, () => disk.setReadOnly(true));
    } finally {
      disk.setReadOnly(false);
    }
    expect(failed.code).toBe(1);
    expect(failed.stderr.split('\n').find((l) => l.startsWith('error['))).toMatch(new RegExp(`^error\\[Io\\]: cannot write ${orders}/data/\\S+\\.parquet: read-only file system \\(EROFS\\)$`));
    figures.failedSyncs++;
    figures.failedAt['read-only'] = (figures.failedAt['read-only'] ?? 0) + 1;
    expect({ orders: await snapshotOf(orders), changelog: await snapshotOf(changelog) }).toEqual(before);
    await checkWarehouse(warehouse);
    const again = await runSync(yamlPath, db.password);
    expect(again.code).toBe(0);
    figures.recoveredSyncs++;
    await expectCaughtUp();
  });
});
