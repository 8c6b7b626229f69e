import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { loadTable, planScan, scanRows } from '../../core/lake';
import { loadPipelineConfig, runPipeline } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { sourceYaml } from './run-helpers';

const storage = createLocalStorage();

/**
 * A plain snapshot (no transform, no shard columns, no changelog) goes from the snapshot rows into
 * the part columns without change events, with long and timestamp values as numbers (runner
 * routeSnapshotRows, TableBuffer.putRows): every column type must land exactly as through the
 * change events (the same sync with a changelog, which takes them) and as the source holds it.
 */
describe('snapshot rows straight into part columns', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let work: string;
  const ROWS = 20_000;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection(db.rootConfig());
    await conn.query('CREATE DATABASE app');
    await conn.query('USE app');
    await conn.query(`CREATE TABLE app.t (
      id BIGINT PRIMARY KEY, i INT, u INT UNSIGNED, big BIGINT, s SMALLINT, flag TINYINT(1), price DECIMAL(12,2), d DOUBLE, f FLOAT,
      name VARCHAR(64), txt TEXT, bin VARBINARY(16), day DATE, tod TIME(6), at DATETIME(6), at0 DATETIME NOT NULL, ts TIMESTAMP(3) NULL, yr YEAR, doc JSON, e ENUM('a','b')) DEFAULT CHARSET=utf8mb4`);
    await conn.query(`INSERT INTO app.t SELECT CAST(seq AS SIGNED) * 3 - 40000, CAST(seq AS SIGNED) - 10000, seq * 214748, (CAST(seq AS SIGNED) - 10000) * 922337203685477, seq % 32767, seq % 2, seq / 7, seq / 3, seq / 8,
      IF(seq % 5 = 0, NULL, CONCAT('name-', seq)), IF(seq % 7 = 0, CONCAT('ü ✓ ', seq), CONCAT('t', seq)), UNHEX(MD5(seq)),
      DATE'1969-12-25' + INTERVAL seq DAY, SEC_TO_TIME(seq) + INTERVAL seq MICROSECOND,
      IF(seq % 11 = 0, NULL, TIMESTAMP'1969-12-31 23:00:00' + INTERVAL seq * 997 SECOND + INTERVAL seq MICROSECOND),
      TIMESTAMP'2024-02-29 12:00:00' + INTERVAL seq MINUTE, IF(seq % 13 = 0, NULL, TIMESTAMP'2001-01-01 00:00:00' + INTERVAL seq SECOND),
      1901 + seq % 255, JSON_OBJECT('n', seq), ELT(1 + seq % 2, 'a', 'b') FROM seq_1_to_${ROWS - 3}`);
    // Edges: int64 extremes, far-future and zero date-times (NOT NULL: the epoch), every nullable column null.
    await conn.query(`INSERT INTO app.t (id, i, u, big, at, at0, ts) VALUES
      (9223372036854775807, 2147483647, 4294967295, 9223372036854775807, '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999'),
      (-9223372036854775808, -2147483648, 0, -9223372036854775808, '1000-01-01 00:00:00.000001', '1000-01-01 00:00:00', '1970-01-01 00:00:01.000')`);
    await conn.query(`SET SESSION sql_mode = ''`);
    await conn.query(`INSERT INTO app.t (id, at0) VALUES (1, '0000-00-00 00:00:00')`);
    work = await mkdtemp(join(tmpdir(), 'tidemark-snapshot-columns-'));
  });
  afterAll(async () => {
    await conn?.end();
    await db?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const yaml = (warehouse: string, changelog: boolean) => `${sourceYaml(db, 'app.t', '  scan.startup.mode: initial\n  scan.incremental.snapshot.chunk.size: 1500\n')}sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
pipeline:
  name: columns
  execution.checkpointing.interval: 10min
  tidemark.changelog.enabled: ${changelog}
`;

  async function sync(name: string, changelog: boolean): Promise<string> {
    const warehouse = join(work, name);
    const config = loadPipelineConfig(yaml(warehouse, changelog), { fileName: `${name}.yaml`, env: { DB_PASS: db.password } }).config;
    await runPipeline({ config, untilCaughtUp: true });
    return join(warehouse, 'app', 't');
  }

  /** Every row of every data file through hyparquet (the reference reader), by id. */
  async function readReference(root: string): Promise<Record<string, unknown>[]> {
    const plan = await planScan(storage, await loadTable(storage, root));
    const rows: Record<string, unknown>[] = [];
    expect(plan.deleteFiles).toEqual([]);
    for (const file of plan.files) {
      const bytes = await readFile(file.path);
      rows.push(...(await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), compressors })));
    }
    return rows.sort((a, b) => (BigInt(a.id as bigint) < BigInt(b.id as bigint) ? -1 : 1));
  }

  it('every column type lands as through change events, and the int64 columns as the source holds them', async () => {
    const direct = await sync('direct', false);
    const viaEvents = await sync('events', true);
    const a = await readReference(direct);
    const b = await readReference(viaEvents);
    expect(a.length).toBe(ROWS);
    expect(a).toEqual(b);
    // The int64 columns against the source's own text: ids and BIGINTs exact (hyparquet), date-times to
    // the µs (our reader: hyparquet gives timestamps as millisecond Dates).
    const [source] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT CAST(t.id AS CHAR) AS id, CAST(t.u AS CHAR) AS u, CAST(t.big AS CHAR) AS big,
        DATE_FORMAT(t.at, '%Y-%m-%dT%H:%i:%s.%f') AS at, DATE_FORMAT(t.at0, '%Y-%m-%dT%H:%i:%s.%f') AS at0 FROM app.t ORDER BY t.id`,
    );
    const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
    expect(a.map((r) => ({ id: text(r.id), u: text(r.u), big: text(r.big) }))).toEqual(source.map((r) => ({ id: r.id, u: r.u, big: r.big })));
    const scanned = (await scanRows(storage, direct)).rows.sort((x, y) => (BigInt(x.id as bigint) < BigInt(y.id as bigint) ? -1 : 1));
    expect(scanned.length).toBe(ROWS);
    expect(scanned.map((r) => ({ at: r.at, at0: r.at0 }))).toEqual(source.map((r) => ({ at: r.at, at0: r.id === '1' ? '1970-01-01T00:00:00.000000' : r.at0 })));
  }, 120_000);
});
