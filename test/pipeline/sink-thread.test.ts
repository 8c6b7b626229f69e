import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { loadTable, scanRows } from '../../core/lake';
import { createTable, defaultWriteEnv } from '../../core/lake/write';
import { TableBuffer, type SealedChanges } from '../../core/pipeline/sink/buffer';
import { columnValues } from '../../core/pipeline/sink/columns';
import type { SinkRoundJob } from '../../core/pipeline/sink/iceberg/commit';
import { createInThreadCommitter, createWorkerCommitter, type SinkCommitter } from '../../core/pipeline/thread/sink-thread';
import { createLocalStorage } from '../../core/storage/node/index';
import { runPipeline } from '../../core/pipeline';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { createShards, lakeRows, loadConfig, SHARDS, sourceRows } from './run-helpers';

// The sink's commits run in a worker thread by default (sink-thread.ts). The same round committed
// through the worker and in-thread gives the same table; a worker that dies or cannot start fails
// the commit with a typed error naming the table, never a hang.
const storage = createLocalStorage();
const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
  { name: 'amount', type: 'decimal(12,2)' },
  { name: 'at', type: 'timestamp' },
  { name: 'score', type: 'double' },
];
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tidemark-sink-thread-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function newTable(name: string): Promise<string> {
  const root = join(work, name);
  await createTable(root, { columns: COLUMNS, identifierColumns: ['id'] });
  return root;
}

/** Round 1 inserts 1..n; round 2 updates, deletes and re-inserts some of them, with source values as the CDC reader gives them. */
function rounds(n: number): SealedChanges[] {
  const b = new TableBuffer('app.orders', ['id'], COLUMNS);
  const row = (id: number, v: number) => ({ id, name: `order-${id}-${v}`, amount: `${id}.${v % 100}`, at: BigInt(1_700_000_000_000_000 + id * 1_000_000 + v), score: id / 7 });
  for (let id = 1; id <= n; id++) b.put(row(id, 0), false);
  const first = b.seal();
  for (let id = 1; id <= n; id += 3) b.put(row(id, 1), true);
  for (let id = 2; id <= n; id += 5) b.delete({ id });
  for (let id = 2; id <= n; id += 10) b.put(row(id, 2), false); // deleted then inserted again: an upsert
  b.put(row(n + 1, 3), false);
  b.delete({ id: n + 1 }); // inserted and deleted in one round: nothing
  return [first, b.seal()];
}

/** Splits a round into parts of `size` changes: all but the last handed over ahead (append), as the runner spills them. */
function splitRound(changes: SealedChanges, size: number): SealedChanges[] {
  const parts: SealedChanges[] = [];
  for (let at = 0; at < changes.count; at += size) {
    const end = Math.min(changes.count, at + size);
    parts.push({ ...changes, count: end - at, ops: changes.ops.slice(at, end), values: changes.values.map((v) => columnValues(v, changes.count).slice(at, end)) });
  }
  return parts.length ? parts : [changes];
}

async function commitRounds(committer: SinkCommitter, root: string, n: number, partSize = Infinity): Promise<number[]> {
  const rows: number[] = [];
  for (const [i, whole] of rounds(n).entries()) {
    const parts = splitRound(whole, partSize);
    for (const part of parts.slice(0, -1)) committer.append(part);
    const changes = parts[parts.length - 1]!;
    const job: SinkRoundJob = { commits: [{ root, changes, summary: { 'tidemark.offset': `round-${i}` } }], checkpoint: null };
    const [result] = await committer.commit(job);
    rows.push(result!.rows);
    expect(result!.metadata.snapshots.at(-1)!.summary['tidemark.offset']).toBe(`round-${i}`);
  }
  return rows;
}

const sorted = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

describe('sink worker', () => {
  it('commits the same snapshots as the in-thread path (the round handed over in parts): rows, equality deletes, summaries', async () => {
    const viaWorker = await newTable('worker');
    const inThread = await newTable('main');
    const worker = createWorkerCommitter();
    try {
      const workerRows = await commitRounds(worker, viaWorker, 5000, 777);
      const mainRows = await commitRounds(createInThreadCommitter(defaultWriteEnv), inThread, 5000);
      expect(workerRows).toEqual(mainRows);
      // Round 2: 1667 updated keys and 1000 deleted ones, 333 of them both (updated, then deleted).
      expect(workerRows).toEqual([5000, 1667 + 1000 - 333]);
    } finally {
      await worker.close();
    }
    const a = await scanRows(storage, viaWorker);
    const b = await scanRows(storage, inThread);
    expect(a.rows.length).toBe(5000 - 1000 + 500);
    expect(sorted(a.rows)).toEqual(sorted(b.rows));
    expect(sorted(a.rows).find((r) => r.id === 2n)).toEqual({ id: 2n, name: 'order-2-2', amount: '2.20', at: '2023-11-14T22:13:22.000002', score: 2 / 7 });
    expect(a.plan.files.length).toBe(b.plan.files.length);
  });

  it('timestamps stay bigint µs up to the Arrow build, and partition by their day like their text', async () => {
    const root = join(work, 'by-day');
    await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], partitionBy: [{ column: 'at', transform: 'day' }] });
    const b = new TableBuffer('app.orders', ['id'], COLUMNS);
    const day = 86_400_000_000n;
    b.put({ id: 1, at: 19_000n * day + 1n }, false);
    b.put({ id: 2, at: 19_001n * day }, false);
    b.put({ id: 3, at: '2022-01-08T12:00:00' }, false); // day 19000 as text
    const [r] = await createInThreadCommitter(defaultWriteEnv).commit({ commits: [{ root, changes: b.seal(), summary: {} }], checkpoint: null });
    expect(r!.rows).toBe(3);
    const scan = await scanRows(storage, root);
    expect(sorted(scan.rows).map((x) => x.at)).toEqual(['2022-01-08T00:00:00.000001', '2022-01-09T00:00:00.000000', '2022-01-08T12:00:00.000000']);
    expect(scan.plan.files.map((f) => f.partition).sort()).toEqual([['2022-01-08'], ['2022-01-09']]);
  });

  it('an error in a commit crosses the thread with its code and message, naming the table in its context', async () => {
    const worker = createWorkerCommitter();
    const changes = rounds(3)[0]!;
    const missing = join(work, 'no-such-table');
    try {
      const viaWorker = await worker.commit({ commits: [{ root: missing, changes, summary: {} }], checkpoint: null }).catch((e: unknown) => e);
      const inThread = await createInThreadCommitter(defaultWriteEnv).commit({ commits: [{ root: missing, changes, summary: {} }], checkpoint: null }).catch((e: unknown) => e);
      expect(viaWorker).toBeInstanceOf(TidemarkError);
      expect(inThread).toBeInstanceOf(TidemarkError);
      const [w, m] = [viaWorker as TidemarkError, inThread as TidemarkError];
      expect({ code: w.code, message: w.message, context: w.context }).toEqual({ code: m.code, message: m.message, context: m.context });
      expect(w.code).toBe('NotFound');
      expect(w.context.table).toBe('app.orders');
      // The worker is still up: the next round commits.
      const ok = await newTable('after-error');
      const [r] = await worker.commit({ commits: [{ root: ok, changes, summary: {} }], checkpoint: null });
      expect(r!.rows).toBe(3);
    } finally {
      await worker.close();
    }
  });

  it('a worker that exits or throws fails the pending commit and every later one with an Internal error naming the table', async () => {
    const root = await newTable('dying');
    const changes = rounds(3)[0]!;
    const job: SinkRoundJob = { commits: [{ root, changes, summary: {} }], checkpoint: null };
    const exits = join(work, 'exits.mjs');
    await writeFile(exits, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => process.exit(7));\n");
    const throws = join(work, 'throws.mjs');
    await writeFile(throws, "import { parentPort } from 'node:worker_threads';\nparentPort.on('message', () => { throw new Error('encoder crashed'); });\n");
    const missing = join(work, 'missing-entry.mjs');
    for (const [entry, why] of [
      [exits, /^sink worker stopped with exit code 7 while committing app\.orders$/],
      [throws, /^sink worker failed \(encoder crashed\) while committing app\.orders$/],
      [missing, /^sink worker failed \(.*missing-entry\.mjs.*\) (while|before) committing app\.orders$/],
    ] as const) {
      const worker = createWorkerCommitter(pathToFileURL(entry));
      try {
        const err = (await worker.commit(job).catch((e: unknown) => e)) as TidemarkError;
        expect(err).toBeInstanceOf(TidemarkError);
        expect(err.code).toBe('Internal');
        expect(err.message).toMatch(why);
        expect(err.context).toEqual({ table: 'app.orders' });
        const again = (await worker.commit(job).catch((e: unknown) => e)) as TidemarkError;
        expect(again.code).toBe('Internal');
        expect(again.message).toMatch(/^sink worker .* before committing app\.orders$/);
      } finally {
        await worker.close();
      }
    }
  });

  it('the worker as the desktop app ships it (electron/build.mjs: its own bundle beside main.mjs, packages external, all of them production dependencies) commits the same rounds', async () => {
    // Built inside node_modules so that the bundle's external packages resolve as they do from
    // electron/dist (the Electron binary itself cannot be run here).
    const out = await mkdtemp(join(process.cwd(), 'node_modules', '.tidemark-electron-build-'));
    try {
      await promisify(execFile)(process.execPath, ['electron/build.mjs'], { env: { ...process.env, TIDEMARK_ELECTRON_OUT: out } });
      // The bundled main starts the sync thread from the file beside it, and the sync thread the
      // sink worker, not through tsx (test/pipeline/pipeline-thread.test.ts runs a sync in it).
      const main = await readFile(join(out, 'main.mjs'), 'utf8');
      expect(main).toMatch(/return true \? new URL\("\.\/pipeline-worker\.mjs", import\.meta\.url\)/);
      const syncThread = await readFile(join(out, 'pipeline-worker.mjs'), 'utf8');
      expect(syncThread).toMatch(/return true \? new URL\("\.\/sink-worker\.mjs", import\.meta\.url\)/);
      const bundled = await readFile(join(out, 'sink-worker.mjs'), 'utf8');
      for (const code of [main, syncThread, bundled]) expect(code).not.toMatch(/from "tsx|import\("tsx/);
      // What the bundles leave external must be in the packaged app: a production dependency
      // (electron-builder ships those), a Node builtin, or electron itself.
      const { dependencies } = JSON.parse(await readFile('package.json', 'utf8')) as { dependencies: Record<string, string> };
      for (const code of [main, syncThread, bundled]) {
        const packages = new Set([...code.matchAll(/(?:from|import)\s*\(?\s*"([^"./][^"]*)"/g)].map((m) => m[1]!.match(/^(@[^/]+\/[^/]+|[^/]+)/)![1]!));
        expect(packages.size).toBeGreaterThan(3);
        expect([...packages].filter((p) => !p.startsWith('node:') && p !== 'electron' && !(p in dependencies))).toEqual([]);
      }
      const viaBundle = await newTable('bundle');
      const inThread = await newTable('bundle-main');
      const worker = createWorkerCommitter(pathToFileURL(join(out, 'sink-worker.mjs')));
      try {
        const rows = await commitRounds(worker, viaBundle, 2000, 500);
        expect(rows).toEqual(await commitRounds(createInThreadCommitter(defaultWriteEnv), inThread, 2000));
      } finally {
        await worker.close();
      }
      expect(sorted((await scanRows(storage, viaBundle)).rows)).toEqual(sorted((await scanRows(storage, inThread)).rows));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('a value that cannot be copied to the worker fails the commit naming the table', async () => {
    const worker = createWorkerCommitter();
    try {
      const b = new TableBuffer('app.fn', ['id'], [{ name: 'id', type: 'int' }, { name: 'v', type: 'string' }]);
      b.put({ id: 1, v: (() => 'x') as unknown as string }, false);
      const err = (await worker.commit({ commits: [{ root: join(work, 'fn'), changes: b.seal(), summary: {} }], checkpoint: null }).catch((e: unknown) => e)) as TidemarkError;
      expect(err.code).toBe('Internal');
      expect(err.message).toMatch(/^cannot pass the changes of app\.fn to the sink worker: /);
    } finally {
      await worker.close();
    }
  });
});

describe('sink worker in a sync', () => {
  let db: PrivateMariaDb;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('a round of 30k changes, handed over in parts while read (inserts, updates and deletes of the same keys across parts), is one snapshot equal to the source', async () => {
    const conn = await mysql.createConnection(db.rootConfig());
    const warehouse = await mkdtemp(join(tmpdir(), 'tidemark-sink-parts-'));
    try {
      await createShards(conn, 0);
      // One round for the whole binlog stream: a long interval, stopped by --until-caught-up.
      const config = loadConfig(db, { warehouse, changelog: false, intervalMs: 600_000 });
      await runPipeline({ config, untilCaughtUp: true });
      const root = join(warehouse, 'ods', 'orders');
      const before = (await loadTable(storage, root)).metadata.snapshots.length;
      for (const s of SHARDS) {
        const rows = Array.from({ length: 6000 }, (_, i) => `(${i + 1}, 'c${s}-${i}', ${i}.25, '2024-01-02 03:04:05.${String(i % 1000).padStart(3, '0')}')`);
        await conn.query(`INSERT INTO app.order_${s} (id, customer, amount, created) VALUES ${rows.join(',')}`);
        await conn.query(`UPDATE app.order_${s} SET amount = amount + 1, customer = CONCAT(customer, '-u') WHERE id % 3 = 0`);
        await conn.query(`DELETE FROM app.order_${s} WHERE id % 5 = 0`);
        await conn.query(`INSERT INTO app.order_${s} (id, customer, amount, created) VALUES (10, 'again', 1.00, NULL), (6001, 'new', 2.00, NULL)`);
        await conn.query(`UPDATE app.order_${s} SET customer = 'last' WHERE id IN (1, 10, 6000)`);
      }
      const result = await runPipeline({ config, untilCaughtUp: true });
      expect(result.progress.tables.find((t) => t.table === 'ods.orders')?.rowsIn).toBe(4 * (6000 + 2000 + 1200 + 2 + 2));
      const columns = ['__table_name__', 'id', 'customer', 'amount', 'created'];
      const lake = await lakeRows(warehouse, columns);
      expect(lake.length).toBe(4 * (6000 - 1200 + 2));
      expect(lake).toEqual(await sourceRows(conn, columns));
      // One round: one snapshot for the table.
      expect((await loadTable(storage, root)).metadata.snapshots.length).toBe(before + 1);
    } finally {
      await conn.end();
      await rm(warehouse, { recursive: true, force: true });
    }
  });

  it('a transaction handed out in parts (TransactionBatch.partial) is committed whole: a 1 ms interval never splits it', async () => {
    const conn = await mysql.createConnection(db.rootConfig());
    const warehouse = await mkdtemp(join(tmpdir(), 'tidemark-sink-parts-'));
    try {
      await conn.query('DROP DATABASE IF EXISTS app');
      await createShards(conn, 10);
      const config = loadConfig(db, { warehouse, changelog: true, intervalMs: 1 });
      await runPipeline({ config, untilCaughtUp: true });
      // ~1 MB of rows events in one transaction (parts of 16 KiB), with small transactions around it.
      const rows = Array.from({ length: 30_000 }, (_, i) => `('big-${i}', ${i}.50, NULL)`);
      await conn.query(`INSERT INTO app.order_1 (customer, amount, created) VALUES ('before', 1.00, NULL)`);
      await conn.beginTransaction();
      await conn.query(`INSERT INTO app.order_0 (customer, amount, created) VALUES ${rows.join(',')}`);
      await conn.query(`UPDATE app.order_0 SET customer = 'first' WHERE id = 1`);
      await conn.commit();
      await conn.query(`INSERT INTO app.order_1 (customer, amount, created) VALUES ('after', 1.00, NULL)`);
      const commits: { rows: number; position: string }[] = [];
      await runPipeline({ config, untilCaughtUp: true, onEvent: (e) => (e.type === 'sync.commit' && e.payload.table === 'ods.orders' ? commits.push(e.payload) : undefined) });
      const [st] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
      expect(commits.length).toBeGreaterThan(0);
      // Every change of the big transaction is in one commit: no commit holds a part of it.
      expect(commits.some((c) => c.rows >= 30_001)).toBe(true);
      expect(commits.filter((c) => c.rows > 2 && c.rows < 30_001)).toEqual([]);
      expect(commits.at(-1)!.position.split(':')[0]).toBe(String(st[0]!.File));
      const columns = ['__table_name__', 'id', 'customer', 'amount', 'created'];
      expect(await lakeRows(warehouse, columns)).toEqual(await sourceRows(conn, columns));
    } finally {
      await conn.end();
      await rm(warehouse, { recursive: true, force: true });
    }
  });
});
