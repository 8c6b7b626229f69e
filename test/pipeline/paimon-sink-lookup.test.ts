import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { runPipeline, type PipelineConfig } from '../../core/pipeline';
import { readPaimonChangelog } from '../../core/lake/paimon';
import { createLocalStorage } from '../../core/storage/node/index';
import { applyBinlogChanges, createShards, flatten, loadConfig, paimonLakeRows, sortKey, sourceRows, type Flat } from './run-helpers';

/**
 * The sharded sync into a Paimon table with `changelog-producer: lookup`: each round's commit waits
 * for its compaction (lookup.wait), whose changelog holds the round's changes against the previous
 * state. Replaying every snapshot's changelog in order — each -U / -D naming exactly the row the
 * table held, each +I a key it did not hold — gives the source's rows, after the snapshot phase
 * and after a binlog phase with updates, deletes, a key change and a new column.
 */

const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created', 'note'];
const storage = createLocalStorage();

function config(db: PrivateMariaDb, warehouse: string): PipelineConfig {
  return loadConfig(db, { warehouse, name: 'orders-lookup', extraSink: '  table.properties.changelog-producer: lookup\n' }, 'paimon');
}

describe('sync into a Paimon table with changelog-producer lookup', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let warehouse: string;
  let root: string;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 60);
    warehouse = await mkdtemp(join(tmpdir(), 'tidemark-paimon-lookup-'));
    root = join(warehouse, 'ods.db', 'orders');
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    if (warehouse) await rm(warehouse, { recursive: true, force: true });
  });

  /** Replays the changelog of every snapshot after `from`, checking each record against the state it applies to. */
  async function replay(state: Map<string, Flat>, from: number): Promise<number> {
    const ids = (await readdir(join(root, 'snapshot'))).filter((n) => n.startsWith('snapshot-')).map((n) => Number(n.slice(9))).sort((a, b) => a - b);
    let last = from;
    for (const id of ids.filter((x) => x > from)) {
      const snap = JSON.parse(await readFile(join(root, 'snapshot', `snapshot-${id}`), 'utf8')) as { commitKind: string; changelogRecordCount: number };
      const { rows, rowKinds } = await readPaimonChangelog(storage, root, { snapshotId: BigInt(id) });
      expect(rows.length).toBe(snap.changelogRecordCount);
      if (rows.length > 0) expect(snap.commitKind, `snapshot ${id}`).toBe('COMPACT');
      rows.forEach((r, i) => {
        const row = flatten(r, COLUMNS);
        const key = sortKey(row);
        const kind = rowKinds[i]!;
        if (kind === '-U' || kind === '-D') {
          expect(state.get(key), `snapshot ${id}: ${kind} ${key}`).toEqual(row);
          state.delete(key);
          if (kind === '-U') expect([rowKinds[i + 1], sortKey(flatten(rows[i + 1]!, COLUMNS))]).toEqual(['+U', key]);
        } else {
          expect(state.has(key), `snapshot ${id}: ${kind} ${key}`).toBe(false);
          state.set(key, row);
        }
      });
      last = id;
    }
    return last;
  }

  it('the changelog replayed equals the source, snapshot phase and binlog phase', async () => {
    await runPipeline({ config: config(db, warehouse), untilCaughtUp: true });
    const state = new Map<string, Flat>();
    let at = await replay(state, 0);
    const columns0 = COLUMNS.filter((c) => c !== 'note');
    const src0 = await sourceRows(conn, columns0);
    const strip = (rows: Flat[]) => rows.map((r) => Object.fromEntries(columns0.map((c) => [c, r[c] ?? null])));
    expect(strip([...state.values()].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)))).toEqual(src0);

    await applyBinlogChanges(conn, false);
    await runPipeline({ config: config(db, warehouse), untilCaughtUp: true });
    at = await replay(state, at);
    const src = await sourceRows(conn, COLUMNS);
    expect([...state.values()].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1))).toEqual(src);
    expect(await paimonLakeRows(warehouse, COLUMNS)).toEqual(src);
    expect(at).toBeGreaterThan(0);
  }, 180_000);
});
