import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { loadPipelineConfig, runPipeline, type PipelinePlan } from '../../core/pipeline';
import { runCli } from '../../cli/main';
import { tablesPipelineYaml } from './run-helpers';

/** A pipeline over `tables` (no route: targets keep the source names) with the given source options. */
function yamlFor(db: PrivateMariaDb, warehouse: string, name: string, tables: string, sourceOptions: Record<string, boolean | number>): string {
  return tablesPipelineYaml(db, { warehouse, tables, name, source: Object.entries(sourceOptions).map(([k, v]) => `  ${k}: ${v}\n`).join('') });
}

/** Every file under `dir` with its size and modification time: equal listings mean nothing was written. */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const s = await stat(path);
    out.push(`${path} ${s.size} ${s.mtimeMs}`);
  }
  return out.sort();
}

const captures = (p: PipelinePlan) => Object.fromEntries(p.sourceTables.map((t) => [t.table, t.capture]));
/** The capture line printed under each source table in the text form. */
const captureLines = (text: string) => text.split('\n').filter((l) => /^ {4}(first sync|captured|snapshot in progress|newly added): /.test(l));

describe('plan: capture state of each source table (private MariaDB)', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  const dirs: string[] = [];
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    process.env.DB_PASS = db.password;
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('after a sync of two tables, a third matching table is newly added: what the next sync does under each option; plan writes nothing', async () => {
    await conn.query('CREATE DATABASE cap; CREATE TABLE cap.a (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE cap.b (id INT PRIMARY KEY, n INT)');
    await conn.query(`INSERT INTO cap.a VALUES ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'a${i + 1}')`).join(',')}`);
    await conn.query(`INSERT INTO cap.b VALUES ${Array.from({ length: 30 }, (_, i) => `(${i + 1}, ${i})`).join(',')}`);
    const warehouse = await mkdtemp(join(tmpdir(), 'tidemark-plan-capture-'));
    dirs.push(warehouse);
    const yaml = join(warehouse, 'p.yaml');
    const plan = async (options: Record<string, boolean>, json: boolean) => {
      await writeFile(yaml, yamlFor(db, warehouse, 'cap', 'cap.\\.*', options));
      const out: string[] = [];
      const before = await listFiles(warehouse);
      expect(await runCli(['plan', yaml, ...(json ? ['--json'] : [])], { out: (t) => out.push(t), err: () => undefined })).toBe(0);
      expect(await listFiles(warehouse)).toEqual(before);
      return out.join('\n');
    };
    const off = { 'scan.newly-added-table.enabled': false, 'scan.binlog.newly-added-table.enabled': false };

    // Before any commit: every table is an initial snapshot.
    const first = JSON.parse(await plan(off, true)) as PipelinePlan;
    expect(first.resumeFrom).toBeNull();
    expect(captures(first)).toEqual({
      'cap.a': { state: 'initial', action: 'initial snapshot, then streamed' },
      'cap.b': { state: 'initial', action: 'initial snapshot, then streamed' },
    });
    expect(captureLines(await plan(off, false))).toEqual(['    first sync: initial snapshot, then streamed', '    first sync: initial snapshot, then streamed']);

    await writeFile(yaml, yamlFor(db, warehouse, 'cap', 'cap.\\.*', off));
    expect(await runCli(['sync', yaml, '--until-caught-up'], { out: () => undefined, err: () => undefined })).toBe(0);
    await conn.query(`CREATE TABLE cap.c (id INT PRIMARY KEY, w VARCHAR(10)); INSERT INTO cap.c VALUES (1, 'x'), (2, 'y'), (3, 'z')`);

    // scan.newly-added-table.enabled: snapshotted on start, then streamed.
    const snap = JSON.parse(await plan({ ...off, 'scan.newly-added-table.enabled': true }, true)) as PipelinePlan;
    expect(snap.resumeFrom).toMatch(/^[\w.-]+\.\d+:\d+$/);
    const at = snap.resumeFrom!;
    expect(captures(snap)).toEqual({
      'cap.a': { state: 'captured', action: 'streamed on' },
      'cap.b': { state: 'captured', action: 'streamed on' },
      'cap.c': { state: 'newly-added', handling: 'snapshot', action: 'snapshotted, then streamed (scan.newly-added-table.enabled)' },
    });
    expect(snap.targets.map((t) => `${t.table} ${t.exists}`)).toEqual(['cap.a true', 'cap.b true', 'cap.c false']);

    // scan.binlog.newly-added-table.enabled only: streamed from the resume point, no snapshot.
    const binlog = JSON.parse(await plan({ ...off, 'scan.binlog.newly-added-table.enabled': true }, true)) as PipelinePlan;
    expect(binlog.resumeFrom).toBe(at);
    expect(captures(binlog)['cap.c']).toEqual({
      state: 'newly-added',
      handling: 'binlog',
      action: `streamed from ${at} only, changes before it are not read (scan.binlog.newly-added-table.enabled); set scan.newly-added-table.enabled: true to snapshot it`,
    });

    // Neither option: not captured, and no target is planned for it.
    const none = JSON.parse(await plan(off, true)) as PipelinePlan;
    expect(captures(none)).toEqual({
      'cap.a': { state: 'captured', action: 'streamed on' },
      'cap.b': { state: 'captured', action: 'streamed on' },
      'cap.c': { state: 'newly-added', handling: 'not-captured', action: 'not captured; set scan.newly-added-table.enabled: true to snapshot and stream it' },
    });
    expect(none.targets.map((t) => t.table)).toEqual(['cap.a', 'cap.b']);

    // The text form: the resume point in the header, one capture line under each table.
    const text = await plan(off, false);
    expect(text.split('\n').slice(2, 9)).toEqual([
      `source tables (the next sync resumes at ${at}):`,
      '  cap.a (key id) → cap.a',
      '    captured: streamed on',
      '  cap.b (key id) → cap.b',
      '    captured: streamed on',
      '  cap.c (key id) → cap.c',
      '    newly added: not captured; set scan.newly-added-table.enabled: true to snapshot and stream it',
    ]);
    expect(captureLines(await plan({ ...off, 'scan.newly-added-table.enabled': true }, false))).toEqual([
      '    captured: streamed on',
      '    captured: streamed on',
      '    newly added: snapshotted, then streamed (scan.newly-added-table.enabled)',
    ]);
    expect(captureLines(await plan({ ...off, 'scan.binlog.newly-added-table.enabled': true }, false))[2]).toBe(
      `    newly added: streamed from ${at} only, changes before it are not read (scan.binlog.newly-added-table.enabled); set scan.newly-added-table.enabled: true to snapshot it`,
    );

    // The plan matches what the next sync does: with the option, cap.c arrives whole.
    await writeFile(yaml, yamlFor(db, warehouse, 'cap', 'cap.\\.*', { ...off, 'scan.newly-added-table.enabled': true }));
    const err: string[] = [];
    expect(await runCli(['sync', yaml, '--until-caught-up'], { out: () => undefined, err: (t) => err.push(t) })).toBe(0);
    expect(err.join('\n')).toContain(`cap.c: newly added table, snapshotted from ${at} then streamed`);
    const after = JSON.parse(await plan(off, true)) as PipelinePlan;
    expect(Object.values(captures(after)).map((c) => c.state)).toEqual(['captured', 'captured', 'captured']);
  });

  it('a run stopped inside its snapshot phase: done, in progress (with its chunk key) and not started tables', async () => {
    await conn.query('CREATE DATABASE sp; CREATE TABLE sp.a (id INT PRIMARY KEY); CREATE TABLE sp.b (id INT PRIMARY KEY); CREATE TABLE sp.c (id INT PRIMARY KEY)');
    await conn.query(`INSERT INTO sp.a VALUES ${Array.from({ length: 10 }, (_, i) => `(${i + 1})`).join(',')}`);
    await conn.query(`INSERT INTO sp.b VALUES ${Array.from({ length: 100 }, (_, i) => `(${i + 1})`).join(',')}`);
    await conn.query(`INSERT INTO sp.c VALUES ${Array.from({ length: 10 }, (_, i) => `(${i + 1})`).join(',')}`);
    const warehouse = await mkdtemp(join(tmpdir(), 'tidemark-plan-snapshot-'));
    dirs.push(warehouse);
    const yaml = yamlFor(db, warehouse, 'sp', 'sp.\\.*', { 'scan.incremental.snapshot.chunk.size': 16 });
    const config = loadPipelineConfig(yaml, { fileName: 'p.yaml', env: { DB_PASS: db.password } }).config;
    // Stop once sp.b has a first commit: its third chunk waits for that commit, so the snapshot phase is unfinished.
    const abort = new AbortController();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let chunks = 0;
    await runPipeline({
      config,
      signal: abort.signal,
      source: { afterChunkSelect: async (t) => (t.table === 'b' && ++chunks === 3 ? await released : undefined) },
      onEvent: (e) => {
        if (e.type === 'sync.commit' && e.payload.table === 'sp.b') {
          abort.abort();
          release();
        }
      },
    });

    await writeFile(join(warehouse, 'p.yaml'), yaml);
    const before = await listFiles(warehouse);
    const out: string[] = [];
    expect(await runCli(['plan', join(warehouse, 'p.yaml'), '--json'], { out: (t) => out.push(t), err: () => undefined })).toBe(0);
    const p = JSON.parse(out.join('')) as PipelinePlan;
    const c = captures(p);
    expect(c['sp.a']).toEqual({ state: 'captured', action: 'snapshot done; streamed on' });
    expect(c['sp.b']!.state).toBe('snapshotting');
    const key = Number(/^snapshot resumes after key (\d+), then streamed$/.exec(c['sp.b']!.action)?.[1]);
    expect(key).toBeGreaterThanOrEqual(16);
    expect(key).toBeLessThan(100);
    expect(c['sp.c']).toEqual({ state: 'snapshotting', action: 'snapshot not started yet, then streamed' });
    out.length = 0;
    expect(await runCli(['plan', join(warehouse, 'p.yaml')], { out: (t) => out.push(t), err: () => undefined })).toBe(0);
    expect(captureLines(out.join('\n'))).toEqual([
      '    captured: snapshot done; streamed on',
      `    snapshot in progress: snapshot resumes after key ${key}, then streamed`,
      '    snapshot in progress: snapshot not started yet, then streamed',
    ]);
    expect(await listFiles(warehouse)).toEqual(before);
  });
  it('no one-chunk warning for ENUM, spatial, INET4, INET6, TIMESTAMP, UUID and TEXT keys: every key type of MariaDB 10.11 is chunked', async () => {
    await conn.query(
      "CREATE DATABASE one; CREATE TABLE one.e (k ENUM('a','b') NOT NULL, id INT NOT NULL, PRIMARY KEY (k, id)); CREATE TABLE one.g (k POINT NOT NULL, id INT NOT NULL, PRIMARY KEY (k(25), id)); CREATE TABLE one.i (k INET6 NOT NULL PRIMARY KEY); CREATE TABLE one.i4 (k INET4 NOT NULL PRIMARY KEY); CREATE TABLE one.t (k TIMESTAMP(3) NOT NULL PRIMARY KEY); CREATE TABLE one.u (k UUID NOT NULL, id INT NOT NULL, PRIMARY KEY (k, id)); CREATE TABLE one.x (k TEXT NOT NULL, PRIMARY KEY (k(10)))",
    );
    const warehouse = await mkdtemp(join(tmpdir(), 'tidemark-plan-one-chunk-'));
    dirs.push(warehouse);
    const yaml = join(warehouse, 'p.yaml');
    await writeFile(yaml, yamlFor(db, warehouse, 'one', 'one.\\.*', {}));
    const out: string[] = [];
    expect(await runCli(['plan', yaml, '--json'], { out: (t) => out.push(t), err: () => undefined })).toBe(0);
    const plan = JSON.parse(out.join('\n')) as PipelinePlan;
    expect(plan.warnings.filter((w) => w.kind === 'one-chunk').map((w) => w.message)).toEqual([]);
    // The tables were all seen (a regex matching none would give no warning either).
    expect(plan.sourceTables.map((t) => t.table).sort()).toEqual(['one.e', 'one.g', 'one.i', 'one.i4', 'one.t', 'one.u', 'one.x']);
  });
});
