import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { loadTable, type TableMetadata } from '../../core/lake';
import { rewriteDataFiles } from '../../core/lake/write';
import { loadPipelineConfig, runPipeline } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { recordFigure } from '../support/record';
import { changelogRows, checksum, createShards, lakeRows, loadConfig, pipelineYaml, SHARDS, sourceRows, waitUntil } from './run-helpers';

// Concurrency on one warehouse, with real processes (`tidemark sync` children) and the private
// MariaDB: (a) the same pipeline started twice is refused with the holder named, and a kill -9'd
// holder's lock is taken over; (b) two pipelines merging shards into one target table commit
// concurrently, lost races are rebuilt and retried; (c) compaction runs again and again while a
// sync commits. In every case the lake ends equal to the source, no key twice, no commit lost.
const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tidemark');
const storage = createLocalStorage();

interface Child {
  pid: number;
  readonly stderr: string;
  readonly running: boolean;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

function startSync(yamlPath: string, password: string, untilCaughtUp = false): Child {
  const child = spawn(process.execPath, [BIN, 'sync', yamlPath, ...(untilCaughtUp ? ['--until-caught-up'] : [])], { env: { ...process.env, DB_PASS: password }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    pid: child.pid!,
    get stderr() {
      return stderr;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    exited,
    async kill(signal) {
      child.kill(signal);
      return exited;
    },
  };
}

/** Random inserts, updates and deletes on the shards until stopped (load, not synchronisation). */
function startWriter(conn: mysql.Connection, seed: number, shards = SHARDS) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const writes = { inserts: 0, updates: 0, deletes: 0 };
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const t = `app.order_${shards[Math.floor(rnd() * shards.length)]}`;
      const kind = rnd();
      if (kind < 0.4) {
        const [r] = await conn.query<mysql.ResultSetHeader>(`INSERT INTO ${t} (customer, amount, created) VALUES (?, ?, NOW(3)), (?, ?, NOW(3))`, [`w${Math.floor(rnd() * 1e6)}`, (rnd() * 100).toFixed(2), `w${Math.floor(rnd() * 1e6)}`, (rnd() * 100).toFixed(2)]);
        writes.inserts += r.affectedRows;
      } else if (kind < 0.75) {
        const [r] = await conn.query<mysql.ResultSetHeader>(`UPDATE ${t} SET amount = amount + 1 WHERE id % 31 = ?`, [Math.floor(rnd() * 31)]);
        writes.updates += r.affectedRows;
      } else {
        const [r] = await conn.query<mysql.ResultSetHeader>(`DELETE FROM ${t} WHERE id % 41 = ? LIMIT 2`, [Math.floor(rnd() * 41)]);
        writes.deletes += r.affectedRows;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    writes,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

/** Every snapshot is on main's lineage: no commit was published and then left behind. */
function lineage(m: TableMetadata): { onMain: number; total: number } {
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  let n = 0;
  for (let s = m.currentSnapshotId === null ? undefined : byId.get(m.currentSnapshotId); s; s = s.parentSnapshotId === null ? undefined : byId.get(s.parentSnapshotId)) n++;
  return { onMain: n, total: m.snapshots.length };
}

/** Manifest lists written but referenced by no snapshot: each is a commit attempt that lost the publish race and was rebuilt. */
async function lostRaces(root: string, m: TableMetadata): Promise<number> {
  const lists = (await readdir(join(root, 'metadata'))).filter((f) => /^snap-.*\.avro$/.test(f));
  const used = new Set(m.snapshots.map((s) => s.manifestList.split('/').pop()));
  return lists.filter((f) => !used.has(f)).length;
}

describe('concurrency on one warehouse (private MariaDB, real processes)', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let work: string;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 150);
    work = await mkdtemp(join(tmpdir(), 'tidemark-concurrency-'));
  });
  // A failed test must not leave children or a writer running into the next test or the shutdown.
  const cleanups: (() => Promise<unknown>)[] = [];
  const track = <T extends Child>(c: T): T => {
    cleanups.push(() => (c.running ? c.kill('SIGKILL') : Promise.resolve()));
    return c;
  };
  afterEach(async () => {
    for (const f of cleanups.splice(0)) await f().catch(() => undefined);
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function expectLakeEqualsSource(warehouse: string, table = 'orders'): Promise<{ rows: number; duplicateKeys: number; changelogDuplicates: number }> {
    const lake = await lakeRows(warehouse, COLUMNS, table);
    const source = await sourceRows(conn, COLUMNS);
    const keys = lake.map((r) => `${r.__table_name__}|${r.id}`);
    const duplicateKeys = keys.length - new Set(keys).size;
    expect(duplicateKeys).toBe(0);
    expect(checksum(lake)).toBe(checksum(source));
    expect(lake).toEqual(source);
    let changelogDuplicates = 0;
    if (existsSync(join(warehouse, 'ods', `${table}__changelog`))) {
      const log = await changelogRows(warehouse);
      const ids = log.map((r) => `${r.binlog_file}|${r.binlog_pos}|${r.source_table}|${r.op}|${r.before}|${r.after}`);
      changelogDuplicates = ids.length - new Set(ids).size;
      expect(changelogDuplicates).toBe(0);
    }
    return { rows: lake.length, duplicateKeys, changelogDuplicates };
  }

  it('(a) the same pipeline twice: the second is refused naming the pipeline and the holder pid; after kill -9 the lock is taken over and the sync catches up', async () => {
    const warehouse = join(work, 'a');
    const yamlPath = join(work, 'a.yaml');
    await writeFile(yamlPath, pipelineYaml(db, { warehouse, name: 'orders', intervalMs: 200 }));
    const lockPath = join(warehouse, '.tidemark', 'orders.lock');
    // A creator killed between the metadata folder and v1 left an empty folder: not a table yet,
    // so the run creates it rather than failing on it.
    await mkdir(join(warehouse, 'ods', 'orders', 'metadata'), { recursive: true });
    const first = track(startSync(yamlPath, db.password));
    await waitUntil(() => /\] (snapshot|streaming)/.test(first.stderr) || !first.running, 'first progress line', 60_000);
    expect(first.running).toBe(true);
    const holder = JSON.parse(await readFile(lockPath, 'utf8')) as { pid: number; pipeline: string };
    expect(holder).toMatchObject({ pid: first.pid, pipeline: 'orders' });

    const expected = new RegExp(`pipeline "orders" is already running on this warehouse \\(pid ${first.pid} on ${hostname()}, started \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z; lock ${lockPath}\\)`);
    // A second process: refused before it reads or writes anything.
    const second = track(startSync(yamlPath, db.password, true));
    expect(await second.exited).toBe(1);
    expect(second.stderr).toMatch(new RegExp(`^error\\[CommitConflict\\]: ${expected.source}`, 'm'));
    // The same in-process (e.g. the app starting a pipeline the CLI runs).
    const inProcess = await runPipeline({ config: loadConfig(db, { warehouse, name: 'orders' }), untilCaughtUp: true }).catch((e: unknown) => e);
    expect(inProcess).toBeInstanceOf(TidemarkError);
    expect((inProcess as TidemarkError).code).toBe('CommitConflict');
    expect((inProcess as TidemarkError).message).toMatch(expected);

    // kill -9 leaves the lock behind; changes keep coming; the next run takes the stale lock over.
    await conn.query("UPDATE app.order_1 SET amount = amount + 5 WHERE id < 20; DELETE FROM app.order_2 WHERE id < 10; INSERT INTO app.order_3 (customer) VALUES ('after-kill')");
    expect(await first.kill('SIGKILL')).toBe(null);
    expect(JSON.parse(await readFile(lockPath, 'utf8'))).toMatchObject({ pid: first.pid });
    const third = track(startSync(yamlPath, db.password, true));
    expect(await third.exited).toBe(0);
    expect(third.stderr).not.toMatch(/error\[/);
    expect(existsSync(lockPath)).toBe(false);

    // Several started at once: each either runs or is refused with CommitConflict; never both running.
    await conn.query("INSERT INTO app.order_0 (customer) VALUES ('burst-1'), ('burst-2'); UPDATE app.order_2 SET customer = 'burst' WHERE id % 9 = 0");
    const burst = [0, 1, 2].map(() => track(startSync(yamlPath, db.password, true)));
    const codes = await Promise.all(burst.map((c) => c.exited));
    for (const [i, c] of burst.entries()) {
      if (codes[i] !== 0) expect(c.stderr).toMatch(/^error\[CommitConflict\]: pipeline "orders" is already running on this warehouse/m);
    }
    expect(codes.filter((c) => c === 0).length).toBeGreaterThan(0);
    expect(codes.every((c) => c === 0 || c === 1)).toBe(true);
    const equal = await expectLakeEqualsSource(warehouse);
    recordFigure('concurrency: same pipeline twice', { refusedWhileRunning: 2, staleLockTakenOver: 1, burstStarted: 3, burstRan: codes.filter((c) => c === 0).length, burstRefused: codes.filter((c) => c === 1).length, ...equal });
  });

  it('(b) two pipelines merging shards into one target table, committing concurrently: conflicts retried, lake equals source, no commit lost', async () => {
    const warehouse = join(work, 'b');
    const yamlOf = (name: string, shards: string) =>
      pipelineYaml(db, { warehouse, name, intervalMs: 100 })
        .replace('tables: app.order_\\.*', `tables: app.order_[${shards}]`)
        .replace('- source-table: app.order_\\.*', `- source-table: app.order_[${shards}]`);
    const paths = { a: join(work, 'b-a.yaml'), b: join(work, 'b-b.yaml') };
    await writeFile(paths.a, yamlOf('shard-a', '01'));
    await writeFile(paths.b, yamlOf('shard-b', '23'));
    expect(await readFile(paths.a, 'utf8')).toContain('tables: app.order_[01]');
    const root = join(warehouse, 'ods', 'orders');
    // Both start at once: both snapshot phases and then both streams commit into ods.orders.
    const children = [track(startSync(paths.a, db.password)), track(startSync(paths.b, db.password))];
    await waitUntil(() => children.every((c) => /\] streaming/.test(c.stderr) || !c.running), 'both streaming', 90_000);
    expect(children.map((c) => (c.running ? 'running' : c.stderr))).toEqual(['running', 'running']);
    const writerConn = await mysql.createConnection(db.rootConfig());
    const writer = startWriter(writerConn, 91);
    cleanups.push(() => writer.stop().finally(() => writerConn.end()));
    // Load runs while both commit every 100 ms (not a synchronisation: any duration must be safe).
    await new Promise((r) => setTimeout(r, 3000));
    // shard-a dies (kill -9) and restarts while shard-b keeps committing: it must resume from its
    // own offset, not from shard-b's newer one in the same table.
    expect(await children[0]!.kill('SIGKILL')).toBe(null);
    children[0] = track(startSync(paths.a, db.password));
    await waitUntil(() => /\] streaming/.test(children[0]!.stderr) || !children[0]!.running, 'shard-a streaming again', 60_000);
    await new Promise((r) => setTimeout(r, 3000));
    await writer.stop();
    await writerConn.end();
    const codes = await Promise.all(children.map((c) => c.kill('SIGTERM')));
    expect(children.map((c, i) => (codes[i] === 0 ? 0 : c.stderr.split('\n').filter((l) => /error/.test(l)).join('\n') || codes[i]))).toEqual([0, 0]);
    const childCommits = children.map((c) => Number(/stopped after (\d+) commits/.exec(c.stderr)?.[1]));
    const config = (p: string) => readFile(p, 'utf8').then((text) => loadPipelineConfig(text, { fileName: p, env: { DB_PASS: db.password } }).config);
    const finals = await Promise.all([runPipeline({ config: await config(paths.a), untilCaughtUp: true }), runPipeline({ config: await config(paths.b), untilCaughtUp: true })]);
    const m = (await loadTable(storage, root)).metadata;
    const commitsOf = (name: string) => m.snapshots.filter((s) => s.summary.operation !== 'replace' && s.summary['tidemark.pipeline'] === name).length;
    // shard-b's commits are all there; shard-a's include those of its killed first run (uncounted).
    expect(commitsOf('shard-b')).toBe(childCommits[1]! + finals[1].commits);
    expect(commitsOf('shard-a')).toBeGreaterThanOrEqual(childCommits[0]! + finals[0].commits);
    expect(lineage(m)).toEqual({ onMain: m.snapshots.length, total: m.snapshots.length });
    const equal = await expectLakeEqualsSource(warehouse);
    recordFigure('concurrency: two pipelines, one target table', {
      seconds: 6,
      killedAndRestarted: 'shard-a',
      commits: { 'shard-a': commitsOf('shard-a'), 'shard-b': commitsOf('shard-b') },
      lostRacesRetried: await lostRaces(root, m),
      writes: writer.writes,
      ...equal,
    });
  });

  it('(c) compaction again and again while a sync commits: no commit lost, lake equals source', async () => {
    const warehouse = join(work, 'c');
    const yamlPath = join(work, 'c.yaml');
    await writeFile(yamlPath, pipelineYaml(db, { warehouse, name: 'race', intervalMs: 100 }));
    const root = join(warehouse, 'ods', 'orders');
    const child = track(startSync(yamlPath, db.password));
    await waitUntil(() => /\] streaming/.test(child.stderr) || !child.running, 'streaming phase', 60_000);
    expect(child.running).toBe(true);
    const writerConn = await mysql.createConnection(db.rootConfig());
    const writer = startWriter(writerConn, 77);
    cleanups.push(() => writer.stop().finally(() => writerConn.end()));
    const compactions = { ok: 0, conflicts: 0 };
    const until = Date.now() + 8000;
    let i = 0;
    while (Date.now() < until) {
      // Alternate the target and its changelog table: both are committed by the sync.
      const target = i % 3 === 2 ? join(warehouse, 'ods', 'orders__changelog') : root;
      try {
        await rewriteDataFiles(target, { summary: { 'test.compaction': String(i) } });
        compactions.ok++;
      } catch (e) {
        // Losing the publish race COMMIT_RETRIES + 1 times is the documented outcome, never a lost commit.
        expect(e).toBeInstanceOf(TidemarkError);
        expect((e as TidemarkError).code).toBe('CommitConflict');
        compactions.conflicts++;
      }
      i++;
    }
    await writer.stop();
    await writerConn.end();
    // SIGTERM: the child commits what it buffered and reports its commit count.
    expect(await child.kill('SIGTERM')).toBe(0);
    const childCommits = Number(/stopped after (\d+) commits/.exec(child.stderr)?.[1]);
    expect(childCommits).toBeGreaterThan(0);
    const final = await runPipeline({ config: loadPipelineConfig(await readFile(yamlPath, 'utf8'), { fileName: yamlPath, env: { DB_PASS: db.password } }).config, untilCaughtUp: true });
    const m = (await loadTable(storage, root)).metadata;
    // Every sync commit of the target is there, as is every compaction that succeeded.
    const syncCommits = m.snapshots.filter((s) => s.summary.operation !== 'replace' && s.summary['tidemark.pipeline'] === 'race').length;
    expect(syncCommits).toBe(childCommits + final.commits);
    const compacted = m.snapshots.filter((s) => s.summary['test.compaction'] !== undefined).length;
    const changelogMeta = (await loadTable(storage, join(warehouse, 'ods', 'orders__changelog'))).metadata;
    const compactedChangelog = changelogMeta.snapshots.filter((s) => s.summary['test.compaction'] !== undefined).length;
    expect(compacted + compactedChangelog).toBe(compactions.ok);
    expect(compacted).toBeGreaterThan(0);
    expect(lineage(m)).toEqual({ onMain: m.snapshots.length, total: m.snapshots.length });
    expect(lineage(changelogMeta)).toEqual({ onMain: changelogMeta.snapshots.length, total: changelogMeta.snapshots.length });
    const equal = await expectLakeEqualsSource(warehouse);
    recordFigure('concurrency: compaction racing a sync', {
      seconds: 8,
      compactions: compactions.ok,
      compactionConflicts: compactions.conflicts,
      syncCommits,
      lostRacesRetried: (await lostRaces(root, m)) + (await lostRaces(join(warehouse, 'ods', 'orders__changelog'), changelogMeta)),
      writes: writer.writes,
      ...equal,
    });
  });
});
