import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { loadPipelineConfig, runPipeline, type SyncEvent } from '../../core/pipeline';
import { applyTransform, loadTable, planScan, readDataFileRows, scanRows } from '../../core/lake';
import { currentSchema } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { runCli } from '../../cli/main';
import { createShards, lakeRows, pipelineYaml, sourceRows, tablesPipelineYaml, takeServerId, waitUntil } from './run-helpers';

const storage = createLocalStorage();

/** A pipeline over `tables` with no route (targets keep the source names), as a YAML text: this file's defaults (chunks of 16 rows, lenient). */
function yamlFor(db: PrivateMariaDb, warehouse: string, tables: string, o: { source?: string; sink?: string; extra?: string; behavior?: string; name?: string; serverId?: number } = {}): string {
  return tablesPipelineYaml(db, { ...o, warehouse, tables, name: o.name ?? 'features', behavior: o.behavior ?? 'lenient', source: `  scan.incremental.snapshot.chunk.size: 16\n${o.source ?? ''}` });
}

const configOf = (db: PrivateMariaDb, yaml: string) => loadPipelineConfig(yaml, { fileName: 'p.yaml', env: { DB_PASS: db.password } }).config;

/** Lake rows of `<warehouse>/<ns>/<table>` as `id → row` with every value as text, sorted by id. */
async function lakeById(warehouse: string, ns: string, table: string): Promise<Record<string, string | null>[]> {
  const { rows } = await scanRows(storage, join(warehouse, ns, table));
  return rows
    .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])))
    .sort((a, b) => Number(a.id) - Number(b.id));
}

async function sourceById(conn: mysql.Connection, sql: string): Promise<Record<string, string | null>[]> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(sql);
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)]))).sort((a, b) => Number(a.id) - Number(b.id));
}

describe('runner features end to end (private MariaDB)', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  const dirs: string[] = [];
  const newWarehouse = async (tag: string) => {
    const d = await mkdtemp(join(tmpdir(), `tidemark-${tag}-`));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('TRUNCATE: skipped by default (debezium.skipped.operations t); with t not skipped and truncate.table applied, one commit empties the target', async () => {
    await conn.query('CREATE DATABASE tr; CREATE TABLE tr.t (id INT PRIMARY KEY, v VARCHAR(20))');
    await conn.query("INSERT INTO tr.t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const wDefault = await newWarehouse('trunc-default');
    const wApplied = await newWarehouse('trunc-applied');
    const skipDefault = configOf(db, yamlFor(db, wDefault, 'tr.t', { name: 'tdefault' }));
    // evolve applies truncate.table (lenient leaves it out, as Flink CDC does); t is not skipped.
    const applied = configOf(db, yamlFor(db, wApplied, 'tr.t', { name: 'tapplied', behavior: 'evolve', source: '  debezium.skipped.operations: none\n' }));
    expect(skipDefault.source.skippedOperations).toEqual(['t']);
    await runPipeline({ config: skipDefault, untilCaughtUp: true });
    await runPipeline({ config: applied, untilCaughtUp: true });
    const before = (await loadTable(storage, join(wApplied, 'tr', 't'))).metadata.snapshots.length;

    await conn.query('TRUNCATE TABLE tr.t');
    const events: SyncEvent[] = [];
    await runPipeline({ config: skipDefault, untilCaughtUp: true });
    await runPipeline({ config: applied, untilCaughtUp: true, onEvent: (e) => events.push(e) });
    // Skipped: the lake keeps every row. Applied: empty, in exactly one new snapshot.
    expect((await lakeById(wDefault, 'tr', 't')).map((r) => r.id)).toEqual(['1', '2', '3']);
    expect(await lakeById(wApplied, 'tr', 't')).toEqual([]);
    const m = (await loadTable(storage, join(wApplied, 'tr', 't'))).metadata;
    expect(m.snapshots.length).toBe(before + 1);
    const last = m.snapshots.find((s) => s.snapshotId === m.currentSnapshotId)!;
    expect(last.summary['tidemark.source-offset']).toBeDefined();
    expect(events.some((e) => e.type === 'sync.schema-change' && e.payload.ddl === 'TRUNCATE TABLE tr.t')).toBe(true);

    // Rows after the truncate flow on; ids that existed before come back as new rows.
    await conn.query("INSERT INTO tr.t VALUES (2, 'again'), (4, 'd')");
    await runPipeline({ config: skipDefault, untilCaughtUp: true });
    await runPipeline({ config: applied, untilCaughtUp: true });
    expect(await lakeById(wApplied, 'tr', 't')).toEqual(await sourceById(conn, 'SELECT * FROM tr.t'));
    expect(await lakeById(wDefault, 'tr', 't')).toEqual([
      { id: '1', v: 'a' },
      { id: '2', v: 'again' },
      { id: '3', v: 'c' },
      { id: '4', v: 'd' },
    ]);
  });

  it('TRUNCATE of one merged shard deletes only that shard\'s rows (told apart by __table_name__)', async () => {
    await createShards(conn, 12);
    const warehouse = await newWarehouse('trunc-shard');
    const yaml = pipelineYaml(db, { warehouse, behavior: 'evolve', changelog: false, name: 'shards' }).replace('heartbeat.interval: 200ms', 'heartbeat.interval: 200ms\n  debezium.skipped.operations: none');
    const config = configOf(db, yaml);
    await runPipeline({ config, untilCaughtUp: true });
    await conn.query('TRUNCATE TABLE app.order_1');
    await conn.query("INSERT INTO app.order_1 (customer, amount) VALUES ('fresh', 1.00)");
    await conn.query("UPDATE app.order_2 SET customer = 'kept' WHERE id = 1");
    await runPipeline({ config, untilCaughtUp: true });
    const columns = ['__table_name__', 'id', 'customer', 'amount'];
    const lake = await lakeRows(warehouse, columns);
    expect(lake).toEqual(await sourceRows(conn, columns));
    expect(lake.filter((r) => r.__table_name__ === 'order_1').map((r) => r.customer)).toEqual(['fresh']);
    expect(lake).toHaveLength(12 * 3 + 1);
  });

  it('newly added table on restart through `tidemark sync` (scan.newly-added-table.enabled): snapshotted, then streamed; the other table neither misses nor repeats', async () => {
    await conn.query('CREATE DATABASE na; CREATE TABLE na.a (id INT PRIMARY KEY, v VARCHAR(20)); CREATE TABLE na.b (id INT PRIMARY KEY, v VARCHAR(20), n BIGINT)');
    await conn.query(`INSERT INTO na.a VALUES ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, 'a${i + 1}')`).join(',')}`);
    await conn.query(`INSERT INTO na.b VALUES ${Array.from({ length: 70 }, (_, i) => `(${i + 1}, 'b${i + 1}', ${i * 1000})`).join(',')}`);
    const warehouse = await newWarehouse('newly-added');
    const yaml = join(warehouse, 'p.yaml');
    const serverId = takeServerId();
    const io = { out: () => undefined, err: () => undefined };
    process.env.DB_PASS = db.password;
    // First run: only na.a.
    await writeFile(yaml, yamlFor(db, warehouse, 'na.a', { name: 'na', source: '  scan.newly-added-table.enabled: true\n', serverId }));
    expect(await runCli(['sync', yaml, '--until-caught-up'], io)).toBe(0);
    expect((await lakeById(warehouse, 'na', 'a')).length).toBe(20);
    expect(existsSync(join(warehouse, 'na', 'b'))).toBe(false);
    // While stopped: changes to both tables.
    await conn.query("UPDATE na.a SET v = 'down' WHERE id = 1; INSERT INTO na.a VALUES (21, 'a21'); DELETE FROM na.b WHERE id = 70; UPDATE na.b SET n = -1 WHERE id = 2");
    // Second run: the pattern now also matches na.b.
    await writeFile(yaml, yamlFor(db, warehouse, 'na.a,na.b', { name: 'na', source: '  scan.newly-added-table.enabled: true\n', serverId }));
    const err: string[] = [];
    expect(await runCli(['sync', yaml, '--until-caught-up'], { out: () => undefined, err: (t: string) => err.push(t) })).toBe(0);
    expect(await lakeById(warehouse, 'na', 'a')).toEqual(await sourceById(conn, 'SELECT * FROM na.a'));
    expect(await lakeById(warehouse, 'na', 'b')).toEqual(await sourceById(conn, 'SELECT * FROM na.b'));
    expect(err.join('\n')).toContain('na.b: newly added table, snapshotted from binlog.');
    // Then streaming as usual for both.
    await conn.query("INSERT INTO na.b VALUES (500, 'x', 5); UPDATE na.a SET v = 'later' WHERE id = 2");
    expect(await runCli(['sync', yaml, '--until-caught-up'], io)).toBe(0);
    expect(await lakeById(warehouse, 'na', 'a')).toEqual(await sourceById(conn, 'SELECT * FROM na.a'));
    expect(await lakeById(warehouse, 'na', 'b')).toEqual(await sourceById(conn, 'SELECT * FROM na.b'));
    const keys = (await lakeById(warehouse, 'na', 'b')).map((r) => r.id);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('newly added shard into a merged target that is ahead of the resume point (crash before the checkpoint): all its rows arrive, the other shards do not repeat', async () => {
    await conn.query('CREATE DATABASE mg; CREATE TABLE mg.other (id INT PRIMARY KEY); INSERT INTO mg.other VALUES (1)');
    for (const s of [0, 1, 2]) {
      await conn.query(`CREATE TABLE mg.s${s} (id INT PRIMARY KEY, v VARCHAR(20))`);
      await conn.query(`INSERT INTO mg.s${s} VALUES ${Array.from({ length: 25 }, (_, i) => `(${i + 1}, 's${s}-${i + 1}')`).join(',')}`);
    }
    const warehouse = await newWarehouse('merged-added');
    const serverId = takeServerId();
    const route = `route:
  - source-table: mg.s\\.*
    sink-table: ods.m
    tidemark.key.shard-columns: __table_name__
`;
    const mk = (tables: string) => configOf(db, yamlFor(db, warehouse, tables, { name: 'mg', extra: route, source: '  scan.newly-added-table.enabled: true\n', serverId }));
    await runPipeline({ config: mk('mg.s0,mg.s1,mg.other'), untilCaughtUp: true });
    await conn.query("UPDATE mg.s0 SET v = 'moved' WHERE id <= 5; INSERT INTO mg.s1 VALUES (100, 'x'); UPDATE mg.s2 SET v = 'unseen' WHERE id = 1");
    await runPipeline({ config: mk('mg.s0,mg.s1,mg.other'), untilCaughtUp: true });
    // A crash after ods.m's commit and before the round's checkpoint: mg.other (unchanged, never
    // committed since the snapshot) is then behind ods.m, and the restart resumes from mg.other.
    await rm(join(warehouse, '.tidemark', 'mg.checkpoint.json'));
    await conn.query("INSERT INTO mg.s2 VALUES (200, 'late'); DELETE FROM mg.s0 WHERE id = 25; INSERT INTO mg.other VALUES (2)");
    const events: SyncEvent[] = [];
    await runPipeline({ config: mk('mg.s\\.*,mg.other'), untilCaughtUp: true, onEvent: (e) => events.push(e) });
    expect(events.some((e) => e.type === 'sync.warning' && e.payload.message.startsWith('mg.s2: newly added table, snapshotted from'))).toBe(true);
    // ods.m was ahead of the resume point: rolled back to it, so the new round starts from one point.
    expect(events.some((e) => e.type === 'sync.warning' && e.payload.message.startsWith(`${join(warehouse, 'ods', 'm')}: rolled back to the resume point`) && e.payload.message.endsWith('(newly added tables start a snapshot round there)'))).toBe(true);
    const lake = (await scanRows(storage, join(warehouse, 'ods', 'm'))).rows.map((r) => `${r.__table_name__}|${r.id}|${r.v}`).sort();
    const src: string[] = [];
    for (const s of [0, 1, 2]) {
      const [rows] = await conn.query<mysql.RowDataPacket[]>(`SELECT id, v FROM mg.s${s}`);
      for (const r of rows) src.push(`s${s}|${r.id}|${r.v}`);
    }
    expect(lake).toEqual(src.sort());
    expect(lake.filter((r) => r.startsWith('s2|'))).toHaveLength(26);
    expect((await lakeById(warehouse, 'mg', 'other')).map((r) => r.id)).toEqual(['1', '2']);
  });

  it('an XA transaction prepared when a run stops and committed before the next one reaches the lake once', async () => {
    await conn.query('CREATE DATABASE xa; CREATE TABLE xa.t (id INT PRIMARY KEY, v INT); INSERT INTO xa.t VALUES (1, 1)');
    const warehouse = await newWarehouse('xa');
    const config = configOf(db, yamlFor(db, warehouse, 'xa.t', { name: 'xa' }));
    await runPipeline({ config, untilCaughtUp: true });
    const xa = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    try {
      await xa.query("XA START 'p1'; INSERT INTO xa.t VALUES (2, 2); UPDATE xa.t SET v = 10 WHERE id = 1; XA END 'p1'; XA PREPARE 'p1'");
      await conn.query('INSERT INTO xa.t VALUES (3, 3)');
      // The run ends past the PREPARE: its committed offset lists p1 as prepared.
      await runPipeline({ config, untilCaughtUp: true });
      expect((await lakeById(warehouse, 'xa', 't')).map((r) => `${r.id}:${r.v}`)).toEqual(['1:1', '3:3']);
      const m = (await loadTable(storage, join(warehouse, 'xa', 't'))).metadata;
      const summary = m.snapshots.find((s) => s.snapshotId === m.currentSnapshotId)!.summary;
      expect(JSON.parse(summary['tidemark.source-offset']!).preparedXa.map((x: { xid: string }) => x.xid)).toEqual(['1:7031:']);
      await xa.query("XA COMMIT 'p1'");
    } finally {
      await xa.end();
    }
    await runPipeline({ config, untilCaughtUp: true });
    expect(await lakeById(warehouse, 'xa', 't')).toEqual(await sourceById(conn, 'SELECT * FROM xa.t'));
    expect((await lakeById(warehouse, 'xa', 't')).map((r) => `${r.id}:${r.v}`)).toEqual(['1:10', '2:2', '3:3']);
  });

  it('a stop in the middle of a newly-added round, then a lost checkpoint: the round restarts cleanly, lake equals source', async () => {
    await conn.query('CREATE DATABASE nr; CREATE TABLE nr.a (id INT PRIMARY KEY, v INT); CREATE TABLE nr.b (id INT PRIMARY KEY, v INT)');
    await conn.query(`INSERT INTO nr.a VALUES ${Array.from({ length: 20 }, (_, i) => `(${i + 1}, ${i})`).join(',')}`);
    await conn.query(`INSERT INTO nr.b VALUES ${Array.from({ length: 300 }, (_, i) => `(${i + 1}, ${i})`).join(',')}`);
    const warehouse = await newWarehouse('newly-round');
    const serverId = takeServerId();
    const mk = (tables: string) => configOf(db, yamlFor(db, warehouse, tables, { name: 'nr', source: '  scan.newly-added-table.enabled: true\n', serverId }));
    await runPipeline({ config: mk('nr.a'), untilCaughtUp: true });
    await conn.query('UPDATE nr.a SET v = -1 WHERE id = 1; UPDATE nr.b SET v = -1 WHERE id = 250');
    // Stop once nr.b has a first commit of its snapshot: its third chunk waits for that commit,
    // so the round is unfinished when the run stops.
    const abort = new AbortController();
    let partial = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let chunks = 0;
    await runPipeline({
      config: mk('nr.a,nr.b'),
      signal: abort.signal,
      source: { afterChunkSelect: async (t) => (t.table === 'b' && ++chunks === 3 ? await released : undefined) },
      onEvent: (e) => {
        if (e.type === 'sync.commit' && e.payload.table === 'nr.b') {
          partial += e.payload.rows;
          abort.abort();
          release();
        }
      },
    });
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(300);
    // As after a crash before the checkpoint caught up with nr.b's commit.
    await rm(join(warehouse, '.tidemark', 'nr.checkpoint.json'));
    await conn.query('INSERT INTO nr.b VALUES (1000, 1); DELETE FROM nr.b WHERE id = 2; UPDATE nr.a SET v = -2 WHERE id = 2');
    await runPipeline({ config: mk('nr.a,nr.b'), untilCaughtUp: true });
    expect(await lakeById(warehouse, 'nr', 'a')).toEqual(await sourceById(conn, 'SELECT * FROM nr.a'));
    expect(await lakeById(warehouse, 'nr', 'b')).toEqual(await sourceById(conn, 'SELECT * FROM nr.b'));
  });

  it('newly added table on restart without the option: not captured, and said so', async () => {
    await conn.query("CREATE DATABASE nb; CREATE TABLE nb.a (id INT PRIMARY KEY); INSERT INTO nb.a VALUES (1)");
    const warehouse = await newWarehouse('newly-off');
    const serverId = takeServerId();
    const mk = (tables: string) => configOf(db, yamlFor(db, warehouse, tables, { name: 'nb', serverId }));
    await runPipeline({ config: mk('nb.a'), untilCaughtUp: true });
    await conn.query('CREATE TABLE nb.b (id INT PRIMARY KEY); INSERT INTO nb.b VALUES (1), (2); INSERT INTO nb.a VALUES (2)');
    const events: SyncEvent[] = [];
    await runPipeline({ config: mk('nb.a,nb.b'), untilCaughtUp: true, onEvent: (e) => events.push(e) });
    expect((await lakeById(warehouse, 'nb', 'a')).map((r) => r.id)).toEqual(['1', '2']);
    expect(existsSync(join(warehouse, 'nb', 'b'))).toBe(false);
    expect(events.some((e) => e.type === 'sync.warning' && e.payload.message.startsWith('nb.b: matches source.tables but was not captured before binlog.'))).toBe(true);
  });

  it('table created while streaming (scan.binlog.newly-added-table.enabled): captured from its CREATE; without the option it is not', async () => {
    for (const enabled of [true, false]) {
      const ns = enabled ? 'nc_on' : 'nc_off';
      await conn.query(`CREATE DATABASE ${ns}; CREATE TABLE ${ns}.a (id INT PRIMARY KEY, v INT); INSERT INTO ${ns}.a VALUES (1, 1)`);
      const warehouse = await newWarehouse(`binlog-added-${enabled}`);
      const config = configOf(db, yamlFor(db, warehouse, `${ns}.\\.*`, { name: ns, source: `  scan.binlog.newly-added-table.enabled: ${enabled}\n` }));
      const abort = new AbortController();
      let phase = '';
      const lakeIds = async (t: string) => (existsSync(join(warehouse, ns, t, 'metadata')) ? (await lakeById(warehouse, ns, t)).map((r) => r.id) : []);
      const run = runPipeline({ config, signal: abort.signal, onEvent: (e) => (e.type === 'sync.progress' ? (phase = e.payload.phase) : undefined) });
      try {
        await waitUntil(async () => phase === 'streaming' && (await lakeIds('a')).length === 1, `the snapshot of ${ns}.a`);
        await conn.query(`CREATE TABLE ${ns}.n (id INT PRIMARY KEY, w VARCHAR(10)); INSERT INTO ${ns}.n VALUES (1, 'x'), (2, 'y'); UPDATE ${ns}.n SET w = 'z' WHERE id = 2; INSERT INTO ${ns}.a VALUES (2, 2)`);
        await waitUntil(async () => (await lakeIds('a')).length === 2, `the row of ${ns}.a after the CREATE`);
        if (enabled) {
          await waitUntil(async () => (await lakeIds('n')).length === 2, `rows of ${ns}.n`);
          expect(await lakeById(warehouse, ns, 'n')).toEqual([
            { id: '1', w: 'x' },
            { id: '2', w: 'z' },
          ]);
        } else {
          expect(existsSync(join(warehouse, ns, 'n'))).toBe(false);
        }
      } finally {
        abort.abort();
        await run;
      }
    }
  });

  it('table created after the last offset, through `tidemark sync` (scan.binlog.newly-added-table.enabled): the stream replays its CREATE and every row; off: not captured', async () => {
    process.env.DB_PASS = db.password;
    for (const enabled of [true, false]) {
      const ns = enabled ? 'nd_on' : 'nd_off';
      await conn.query(`CREATE DATABASE ${ns}; CREATE TABLE ${ns}.a (id INT PRIMARY KEY); INSERT INTO ${ns}.a VALUES (1)`);
      const warehouse = await newWarehouse(ns);
      const yaml = join(warehouse, 'p.yaml');
      await writeFile(yaml, yamlFor(db, warehouse, `${ns}.\\.*`, { name: ns, source: `  scan.binlog.newly-added-table.enabled: ${enabled}\n` }));
      const err: string[] = [];
      const io = { out: () => undefined, err: (t: string) => err.push(t) };
      expect(await runCli(['sync', yaml, '--until-caught-up'], io)).toBe(0);
      await conn.query(`CREATE TABLE ${ns}.n (id INT PRIMARY KEY, w VARCHAR(10)); INSERT INTO ${ns}.n VALUES (1, 'x'), (2, 'y'); DELETE FROM ${ns}.n WHERE id = 1; INSERT INTO ${ns}.a VALUES (2)`);
      expect(await runCli(['sync', yaml, '--until-caught-up'], io)).toBe(0);
      expect((await lakeById(warehouse, ns, 'a')).map((r) => r.id)).toEqual(['1', '2']);
      if (enabled) {
        expect(await lakeById(warehouse, ns, 'n')).toEqual(await sourceById(conn, `SELECT * FROM ${ns}.n`));
        expect(err.join('\n')).toContain(`${ns}.n: newly matched table, streamed from binlog.`);
      } else {
        expect(existsSync(join(warehouse, ns, 'n'))).toBe(false);
        expect(err.join('\n')).toContain(`${ns}.n: matches source.tables but was not captured before binlog.`);
      }
    }
  });

  it('primary-key change: a narrower key keeps the identifier fields and rows flow; a wider one stops with Unsupported after committing everything before it', async () => {
    await conn.query('CREATE DATABASE pk; CREATE TABLE pk.t (id INT NOT NULL, k INT NOT NULL, v VARCHAR(20), PRIMARY KEY (id, k))');
    await conn.query("INSERT INTO pk.t VALUES (1, 1, 'a'), (2, 1, 'b'), (3, 2, 'c')");
    const warehouse = await newWarehouse('pk');
    const config = configOf(db, yamlFor(db, warehouse, 'pk.t', { name: 'pk', behavior: 'evolve' }));
    await runPipeline({ config, untilCaughtUp: true });
    await conn.query("ALTER TABLE pk.t DROP PRIMARY KEY, ADD PRIMARY KEY (id); UPDATE pk.t SET v = 'b2' WHERE id = 2; INSERT INTO pk.t VALUES (4, 9, 'd'); DELETE FROM pk.t WHERE id = 1");
    const events: SyncEvent[] = [];
    await runPipeline({ config, untilCaughtUp: true, onEvent: (e) => events.push(e) });
    expect(await lakeById(warehouse, 'pk', 't')).toEqual(await sourceById(conn, 'SELECT * FROM pk.t'));
    const note = events.flatMap((e) => (e.type === 'sync.schema-change' ? e.payload.notes : []));
    expect(note).toEqual(['pk.t: primary key now (id): identifier fields (id, k) kept (every row stays unique under them)']);
    const fieldsOf = async () => {
      const m = (await loadTable(storage, join(warehouse, 'pk', 't'))).metadata;
      const s = currentSchema(m);
      return s.identifierFieldIds.map((id) => s.fields.find((f) => f.id === id)!.name);
    };
    expect(await fieldsOf()).toEqual(['id', 'k']);

    // A key the lake's identifier fields cannot represent: (id, v) lets two rows share (id, k).
    await conn.query("INSERT INTO pk.t VALUES (5, 5, 'e')");
    await conn.query('ALTER TABLE pk.t DROP PRIMARY KEY, ADD PRIMARY KEY (id, v)');
    await conn.query("INSERT INTO pk.t VALUES (5, 5, 'e2')");
    await expect(runPipeline({ config, untilCaughtUp: true })).rejects.toThrowError(
      expect.objectContaining({
        code: 'Unsupported',
        message: expect.stringMatching(/^pk\.t: primary key of pk\.t changed to \(id, v\) by "ALTER TABLE pk\.t DROP PRIMARY KEY, ADD PRIMARY KEY \(id, v\)" at binlog\.\d+:\d+; the target's identifier fields \(id, k\) cannot follow/),
      }),
    );
    // Everything before the DDL is committed; nothing after it.
    expect((await lakeById(warehouse, 'pk', 't')).map((r) => `${r.id}:${r.v}`)).toEqual(['2:b2', '3:c', '4:d', '5:e']);
    expect(await fieldsOf()).toEqual(['id', 'k']);

    // Dropping the key column removes the key implicitly; the lake key cannot lose its column.
    await conn.query('CREATE TABLE pk.u (id INT NOT NULL PRIMARY KEY, k INT NOT NULL); INSERT INTO pk.u VALUES (1, 1)');
    const w2 = await newWarehouse('pk-drop');
    const c2 = configOf(db, yamlFor(db, w2, 'pk.u', { name: 'pku' }));
    await runPipeline({ config: c2, untilCaughtUp: true });
    await conn.query('ALTER TABLE pk.u DROP COLUMN id');
    // The restart streams from the last offset: the now keyless table passes the preflight.
    await expect(runPipeline({ config: c2, untilCaughtUp: true })).rejects.toThrowError(
      expect.objectContaining({
        code: 'Unsupported',
        message: expect.stringContaining('pk.u: primary key of pk.u changed to none by "ALTER TABLE pk.u DROP COLUMN id" at binlog.'),
      }),
    );
    await expect(runPipeline({ config: c2, untilCaughtUp: true })).rejects.toThrowError(expect.objectContaining({ message: expect.stringContaining('(id is no longer a source column, so new rows could not fill the key)') }));
  });

  it('transform projection (renames, metadata columns, expressions) and filter, partition.key bucket[4](id) and day(ts): lake equals the expected rows, spec and files agree', async () => {
    await conn.query('CREATE DATABASE tf; CREATE TABLE tf.items (id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), qty INT, ts DATETIME(3))');
    const values = Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'item ${i + 1}', ${(i * 1.5 + 0.25).toFixed(2)}, ${i % 7}, '2024-03-0${1 + (i % 4)} 0${i % 10}:15:00.${String(i).padStart(3, '0')}')`);
    await conn.query(`INSERT INTO tf.items VALUES ${values.join(',')}`);
    const warehouse = await newWarehouse('transform');
    const extra = `route:
  - source-table: tf.items
    sink-table: ods.items
transform:
  - source-table: tf.items
    projection: id, UPPER(name) AS name_up, qty * 2 AS qty2, CONCAT(name, '#', qty) AS label, __table_name__ AS src, __data_event_type__ AS ev, ts, op_ts AS changed
    filter: qty > 2 AND name NOT LIKE '9$'
`;
    const config = configOf(db, yamlFor(db, warehouse, 'tf.items', { name: 'tf', source: '  metadata.list: op_ts\n', sink: '  partition.key: ods.items:bucket[4](id),day(ts)\n', extra }));
    await runPipeline({ config, untilCaughtUp: true });
    const changedFrom = Date.now() - 1000;
    // Binlog phase: rows move in and out of the filter, one is deleted, one inserted.
    await conn.query("UPDATE tf.items SET qty = 5 WHERE id IN (1, 2); UPDATE tf.items SET qty = 0 WHERE id IN (4, 5); DELETE FROM tf.items WHERE id = 6; INSERT INTO tf.items VALUES (100, 'late', 1.00, 3, '2024-03-09 12:00:00.000')");
    await runPipeline({ config, untilCaughtUp: true });
    const changedTo = Date.now() + 1000;

    const [src] = await conn.query<mysql.RowDataPacket[]>("SELECT id, name, qty, DATE_FORMAT(ts, '%Y-%m-%dT%H:%i:%s.%f') AS ts FROM tf.items");
    const lastOp = new Map<number, string>([[1, '+U'], [2, '+U'], [100, '+I']]);
    const expected = src
      .filter((r) => Number(r.qty) > 2 && !String(r.name).endsWith('9'))
      .map((r) => ({
        id: String(r.id),
        name_up: String(r.name).toUpperCase(),
        qty2: String(Number(r.qty) * 2),
        label: `${r.name}#${r.qty}`,
        src: 'items',
        ev: lastOp.get(Number(r.id)) ?? '+I',
        ts: String(r.ts),
      }))
      .sort((a, b) => Number(a.id) - Number(b.id));
    expect(expected.length).toBeGreaterThan(15);
    const table = await loadTable(storage, join(warehouse, 'ods', 'items'));
    const schema = currentSchema(table.metadata);
    // Flink CDC's result types: INT * INT is INT; op_ts is BIGINT milliseconds (the MySQL source's metadata column).
    expect(schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:int', 'name_up:string', 'qty2:int', 'label:string', 'src:string', 'ev:string', 'ts:timestamp', 'changed:long']);
    const withTime = await lakeById(warehouse, 'ods', 'items');
    // op_ts: 0 for snapshot reads (as in Flink CDC), the source commit time for binlog changes.
    for (const r of withTime) {
      const ms = Number(r.changed!);
      if (r.ev === '+I' && r.id !== '100') expect(ms).toBe(0);
      else expect(ms >= changedFrom && ms <= changedTo).toBe(true);
    }
    const lake = withTime.map(({ changed: _changed, ...rest }) => rest);
    // Timestamps compare as the wall clock text with microseconds (the lake's canonical form).
    expect(lake).toEqual(expected);

    // Partition spec: bucket[4] of id and day of ts, on the right source fields.
    const spec = table.metadata.partitionSpecs.find((s) => s.specId === table.metadata.defaultSpecId)!;
    const idOf = (n: string) => schema.fields.find((f) => f.name === n)!.id;
    expect(spec.fields.map((f) => [f.sourceId, f.transform])).toEqual([
      [idOf('id'), 'bucket[4]'],
      [idOf('ts'), 'day'],
    ]);
    // Every data file holds one partition, and its rows' transformed values equal its tuple.
    const plan = await planScan(storage, table);
    expect(plan.files.length).toBeGreaterThan(1);
    for (const file of plan.files) {
      for (const row of await readDataFileRows(storage, plan, file)) {
        expect([applyTransform('bucket[4]', 'int', row.id), applyTransform('day', 'timestamp', row.ts)]).toEqual(file.partition);
      }
    }
    const buckets = new Set(plan.files.map((f) => f.partition[0]));
    expect(buckets.size).toBe(4);
  });
});
