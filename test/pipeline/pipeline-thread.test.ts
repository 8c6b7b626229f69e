import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { runPipeline, runPipelineInThread, type SyncEvent } from '../../core/pipeline';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { busyColumns } from '../../bench/sync-snapshot';
import { createShards, lakeRows, loadConfig, SHARDS, sourceRows, waitUntil } from './run-helpers';

// The desktop app and `tidemark sync` run a pipeline in the sync thread (pipeline-thread.ts): the
// same run as in-thread, its events and result crossing back, its errors with their codes, a stop
// that commits what is buffered, and a thread that dies rejecting with a typed error.
const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];
let db: PrivateMariaDb;
let conn: mysql.Connection;
const dirs: string[] = [];
const warehouse = async () => {
  const d = await mkdtemp(join(tmpdir(), 'tidemark-sync-thread-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  db = await startPrivateMariaDb();
  conn = await mysql.createConnection(db.rootConfig());
  await createShards(conn, 300);
});
afterAll(async () => {
  await conn?.end();
  await db?.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('sync thread', () => {
  it('a sync in the thread commits the same lake as in-thread, with its events and result; a streaming run stops on the signal', async () => {
    const inThread = await warehouse();
    const viaThread = await warehouse();
    await runPipeline({ config: loadConfig(db, { warehouse: inThread, name: 'a' }), untilCaughtUp: true });
    const events: SyncEvent[] = [];
    const result = await runPipelineInThread({ config: loadConfig(db, { warehouse: viaThread, name: 'b' }), untilCaughtUp: true, onEvent: (e) => events.push(e) });
    expect(await lakeRows(viaThread, COLUMNS)).toEqual(await lakeRows(inThread, COLUMNS));
    expect(await lakeRows(viaThread, COLUMNS)).toEqual(await sourceRows(conn, COLUMNS));
    expect(result.commits).toBeGreaterThan(0);
    expect(result.offset?.file).toMatch(/\.\d+$/);
    expect(typeof result.offset?.pos).toBe('bigint');
    expect(events.filter((e) => e.type === 'sync.commit').length).toBe(result.commits);
    expect(events.some((e) => e.type === 'sync.progress')).toBe(true);

    // A run without an end: changes made while it streams are committed before it stops.
    const abort = new AbortController();
    let committedRows = 0;
    const running = runPipelineInThread({
      config: loadConfig(db, { warehouse: viaThread, name: 'b' }),
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'sync.commit') committedRows += e.payload.rows;
      },
    });
    for (const s of SHARDS) await conn.query(`INSERT INTO app.order_${s} (customer, amount, created) VALUES ('late-${s}', 1.50, NULL)`);
    await conn.query(`UPDATE app.order_0 SET customer = 'streamed' WHERE id = 1`);
    await waitUntil(() => committedRows >= SHARDS.length + 1, 'the streamed changes committed');
    abort.abort();
    const stopped = await running;
    expect(stopped.commits).toBeGreaterThan(0);
    expect(stopped.progress.committedPosition).toBe(`${stopped.offset!.file}:${stopped.offset!.pos}`);
    expect(await lakeRows(viaThread, COLUMNS)).toEqual(await sourceRows(conn, COLUMNS));
  });

  it('with TIDEMARK_THREAD_STATS, the sync thread and the sink worker report how busy they were (the bench names the limit)', async () => {
    const stats = join(await warehouse(), 'threads');
    process.env.TIDEMARK_THREAD_STATS = stats;
    try {
      await runPipelineInThread({ config: loadConfig(db, { warehouse: await warehouse(), name: 'stats' }), untilCaughtUp: true });
    } finally {
      delete process.env.TIDEMARK_THREAD_STATS;
    }
    for (const thread of ['sync-thread', 'sink-worker']) {
      const busy = JSON.parse(await readFile(`${stats}.${thread}`, 'utf8')) as { thread: string; activeMs: number; idleMs: number };
      expect(busy.thread).toBe(thread);
      expect(busy.activeMs).toBeGreaterThan(0);
      expect(busy.idleMs).toBeGreaterThanOrEqual(0);
    }
    expect(busyColumns([{ ms: 1, cpuMs: 1, peakRssMb: 1, rows: 1, dataFiles: 1, dataMb: 1, threads: { sync: { activeMs: 90, idleMs: 10 }, sink: { activeMs: 40, idleMs: 60 } } }])).toEqual({
      syncThreadBusyPct: 90,
      sinkWorkerBusyPct: 40,
      limit: 'sync thread (decoding, buffering)',
    });
  });

  it('an error of the run crosses with its code and message', async () => {
    const config = loadConfig(db, { warehouse: await warehouse(), name: 'bad' });
    config.source.password = 'wrong';
    const inThread = (await runPipeline({ config, untilCaughtUp: true }).catch((e: unknown) => e)) as TidemarkError;
    const viaThread = (await runPipelineInThread({ config, untilCaughtUp: true }).catch((e: unknown) => e)) as TidemarkError;
    expect(viaThread).toBeInstanceOf(TidemarkError);
    expect(inThread.code).toBe('InvalidInput');
    expect(viaThread.code).toBe(inThread.code);
    expect(viaThread.message).toBe(inThread.message);
  });

  it('a thread that exits without a result rejects with Internal naming the pipeline', async () => {
    const config = loadConfig(db, { warehouse: await warehouse(), name: 'gone' });
    const err = (await runPipelineInThread({ config }, new URL('data:text/javascript,process.exit(3)')).catch((e: unknown) => e)) as TidemarkError;
    expect(err.code).toBe('Internal');
    expect(err.message).toBe('sync thread of pipeline gone stopped with exit code 3 before the run ended');
  });

  it('the sync thread as the desktop app ships it (electron/build.mjs) runs a sync and starts the bundled sink worker', async () => {
    // Built inside node_modules so that the bundles' external packages resolve as from electron/dist.
    const out = await mkdtemp(join(process.cwd(), 'node_modules', '.tidemark-electron-build-'));
    try {
      await promisify(execFile)(process.execPath, ['electron/build.mjs'], { env: { ...process.env, TIDEMARK_ELECTRON_OUT: out } });
      const where = await warehouse();
      const result = await runPipelineInThread({ config: loadConfig(db, { warehouse: where, name: 'bundled' }), untilCaughtUp: true }, pathToFileURL(join(out, 'pipeline-worker.mjs')));
      expect(result.commits).toBeGreaterThan(0);
      expect(await lakeRows(where, COLUMNS)).toEqual(await sourceRows(conn, COLUMNS));
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
