/**
 * Source keys of a pipeline end to end, through runPipeline against a private MariaDB and read
 * back from the lake: debezium.skipped.operations (c, u, d), scan.startup.mode specific-offset
 * from a file and position given in the YAML (with skip-events / skip-rows), and
 * schema-change.enabled.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { loadPipelineConfig, runPipeline, type SyncEvent } from '../../core/pipeline';
import { loadTable, scanRows } from '../../core/lake';
import { currentSchema } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { tablesPipelineYaml } from './run-helpers';

const storage = createLocalStorage();

/** A pipeline over one table (no route: the target keeps the source's name), `source` lines (one option a line) added. */
function yamlFor(db: PrivateMariaDb, warehouse: string, table: string, name: string, source: string): string {
  return tablesPipelineYaml(db, { warehouse, tables: table, name, source: source.split('\n').filter(Boolean).map((l) => `  ${l}\n`).join('') });
}

/** The lake table's rows as `id:v` strings, sorted by id. */
async function lakeRows(warehouse: string, db: string, table: string): Promise<string[]> {
  const { rows } = await scanRows(storage, join(warehouse, db, table));
  return rows.map((r) => [Number(r.id), `${String(r.id)}:${String(r.v)}`] as const).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
}

async function binlogEnd(conn: mysql.Connection): Promise<{ file: string; pos: number }> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  return { file: String(rows[0]!.File), pos: Number(rows[0]!.Position) };
}

describe('source keys end to end (private MariaDB)', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  const dirs: string[] = [];
  const newWarehouse = async (tag: string) => {
    const d = await mkdtemp(join(tmpdir(), `tidemark-${tag}-`));
    dirs.push(d);
    return d;
  };
  const configOf = (yaml: string) => loadPipelineConfig(yaml, { fileName: 'p.yaml', env: { DB_PASS: db.password } }).config;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('debezium.skipped.operations: skipped inserts, updates or deletes never reach the lake, the others do', async () => {
    await conn.query("CREATE DATABASE so; CREATE TABLE so.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO so.t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    const pipelines = await Promise.all(
      (['c', 'u', 'd', 'none'] as const).map(async (op) => {
        const warehouse = await newWarehouse(`skip-${op}`);
        return { op, warehouse, config: configOf(yamlFor(db, warehouse, 'so.t', `skip-${op}`, `debezium.skipped.operations: ${op}`)) };
      }),
    );
    expect(pipelines.map((p) => p.config.source.skippedOperations)).toEqual([['c'], ['u'], ['d'], []]);
    // The snapshot: reads, which no skipped operation touches.
    for (const p of pipelines) await runPipeline({ config: p.config, untilCaughtUp: true });
    for (const p of pipelines) expect(await lakeRows(p.warehouse, 'so', 't'), p.op).toEqual(['1:a', '2:b', '3:c']);

    await conn.query("INSERT INTO so.t VALUES (4, 'd'); UPDATE so.t SET v = 'a2' WHERE id = 1; DELETE FROM so.t WHERE id = 2; INSERT INTO so.t VALUES (5, 'e')");
    for (const p of pipelines) await runPipeline({ config: p.config, untilCaughtUp: true });
    const lake = Object.fromEntries(await Promise.all(pipelines.map(async (p) => [p.op, await lakeRows(p.warehouse, 'so', 't')] as const)));
    expect(lake).toEqual({
      c: ['1:a2', '3:c'],
      u: ['1:a', '3:c', '4:d', '5:e'],
      d: ['1:a2', '2:b', '3:c', '4:d', '5:e'],
      none: ['1:a2', '3:c', '4:d', '5:e'],
    });
  });

  it('scan.startup.mode specific-offset from a given file and position: rows before it are absent, rows after it present', async () => {
    await conn.query("CREATE DATABASE sp; CREATE TABLE sp.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO sp.t VALUES (1, 'before'); INSERT INTO sp.t VALUES (2, 'before')");
    const at = await binlogEnd(conn);
    await conn.query("INSERT INTO sp.t VALUES (3, 'after'); INSERT INTO sp.t VALUES (4, 'after'), (5, 'after'); DELETE FROM sp.t WHERE id = 4; UPDATE sp.t SET v = 'after2' WHERE id = 2");
    const warehouse = await newWarehouse('specific');
    const config = configOf(
      yamlFor(db, warehouse, 'sp.t', 'specific', `scan.startup.mode: specific-offset\nscan.startup.specific-offset.file: ${at.file}\nscan.startup.specific-offset.pos: ${at.pos}`),
    );
    expect(config.source.startup).toMatchObject({ mode: 'specific-offset', file: at.file, pos: at.pos });
    await runPipeline({ config, untilCaughtUp: true });
    // Row 1 was written before the position and never changed after it: absent. Row 2's update
    // comes after the position: present with its new value (an upsert, as Flink's Iceberg sink).
    expect(await lakeRows(warehouse, 'sp', 't')).toEqual(['2:after2', '3:after', '5:after']);

    // A restart continues from the committed offset, not from the configured position again.
    await conn.query("INSERT INTO sp.t VALUES (6, 'later')");
    await runPipeline({ config, untilCaughtUp: true });
    expect(await lakeRows(warehouse, 'sp', 't')).toEqual(['2:after2', '3:after', '5:after', '6:later']);
  });

  it('specific-offset with skip-events and skip-rows: the skipped rows never reach the lake', async () => {
    await conn.query('CREATE DATABASE sk; CREATE TABLE sk.t (id INT PRIMARY KEY, v VARCHAR(20))');
    const at = await binlogEnd(conn);
    // One transaction: GTID, table map, rows (1,2,3), table map, rows (4,5), XID (test/cdc/skip-after-offset.test.ts).
    await conn.query("BEGIN; INSERT INTO sk.t VALUES (1, 'a'), (2, 'b'), (3, 'c'); INSERT INTO sk.t VALUES (4, 'd'), (5, 'e'); COMMIT");
    const warehouse = await newWarehouse('skip-events');
    const config = configOf(
      yamlFor(db, warehouse, 'sk.t', 'skip-events', `scan.startup.mode: specific-offset\nscan.startup.specific-offset.file: ${at.file}\nscan.startup.specific-offset.pos: ${at.pos}\nscan.startup.specific-offset.skip-events: 3\nscan.startup.specific-offset.skip-rows: 1`),
    );
    await runPipeline({ config, untilCaughtUp: true });
    expect(await lakeRows(warehouse, 'sk', 't')).toEqual(['5:e']);
  });

  it('schema-change.enabled: false keeps the target schema (rows flow on in it); true applies the change', async () => {
    await conn.query("CREATE DATABASE sc; CREATE TABLE sc.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO sc.t VALUES (1, 'a')");
    const off = await newWarehouse('schema-off');
    const on = await newWarehouse('schema-on');
    const offConfig = configOf(yamlFor(db, off, 'sc.t', 'schema-off', 'schema-change.enabled: false'));
    const onConfig = configOf(yamlFor(db, on, 'sc.t', 'schema-on', ''));
    expect([offConfig.source.schemaChangeEnabled, onConfig.source.schemaChangeEnabled]).toEqual([false, true]);
    await runPipeline({ config: offConfig, untilCaughtUp: true });
    await runPipeline({ config: onConfig, untilCaughtUp: true });

    await conn.query("ALTER TABLE sc.t ADD COLUMN w INT; INSERT INTO sc.t VALUES (2, 'b', 20); UPDATE sc.t SET w = 10 WHERE id = 1");
    const events: SyncEvent[] = [];
    await runPipeline({ config: offConfig, untilCaughtUp: true, onEvent: (e) => events.push(e) });
    await runPipeline({ config: onConfig, untilCaughtUp: true });
    const columns = async (w: string) => currentSchema((await loadTable(storage, join(w, 'sc', 't'))).metadata).fields.map((f) => f.name);
    expect(await columns(off)).toEqual(['id', 'v']);
    expect(await columns(on)).toEqual(['id', 'v', 'w']);
    expect(await lakeRows(off, 'sc', 't')).toEqual(['1:a', '2:b']);
    const { rows } = await scanRows(storage, join(on, 'sc', 't'));
    expect(rows.map((r) => `${String(r.id)}:${String(r.v)}:${String(r.w)}`).sort()).toEqual(['1:a:10', '2:b:20']);
    const change = events.find((e) => e.type === 'sync.schema-change');
    expect(change?.type === 'sync.schema-change' && change.payload.notes).toEqual(['sc.t: add-column ignored (source schema-change.enabled: false)']);
  });
});
