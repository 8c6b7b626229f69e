import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { AllowedRoots, serveFileRequest } from '../../core/app/file-server';
import { createHandlers } from '../../core/app/handlers';
import { startBrowserServer } from '../../core/app/http-server';
import { createMySqlSource, type MySqlSourceConfig } from '../../core/cdc';
import { appendRows, createTable, seededWriteEnv } from '../../core/lake/write';
import { loadPipelineConfig, planRoutes } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { mountSmallDisk, type SmallDisk } from '../support/small-disk';
import { BAD_INPUT_ROWS, renderDoc } from './rows';

const fixtures = FIXTURES;
// The disk rows need a small file system to fill or make read-only (root: tmpfs); where mounting
// is refused they are skipped with the reason.
const diskProbe = await mountSmallDisk(4);
const diskUnavailable = 'unavailable' in diskProbe ? diskProbe.unavailable : null;
if (diskUnavailable) console.warn(`bad-input disk rows skipped: ${diskUnavailable}`);
const DISK_ROWS = new Set(['a full disk during a commit', 'a read-only warehouse during a commit']);
let tmp: string;
let db: PrivateMariaDb;
let noBinlog: PrivateMariaDb;

/** What the CLI prints on stderr for argv, as `Code: message`. */
async function cli(...argv: string[]): Promise<string> {
  const err: string[] = [];
  await runCli(argv, { out: () => undefined, err: (t) => err.push(t) });
  const m = /^error\[(\w+)\]: (.*)$/s.exec(err[0] ?? '');
  return m ? `${m[1]}: ${m[2]}` : `no error (${err.join(' ')})`;
}

function expected(input: string): string {
  const row = BAD_INPUT_ROWS.find((r) => r.input === input);
  if (!row) throw new Error(`no row ${input}`);
  const disk = diskUnavailable ? '{disk}' : (diskProbe as SmallDisk).dir;
  const msg = row.message.replaceAll('{fixtures}', fixtures).replaceAll('{tmp}', tmp).replaceAll('{port}', String(db.port)).replaceAll('{host}', hostname()).replaceAll('{disk}', disk);
  return row.code === 'check' || row.code === 'warning' ? msg : `${row.code.split(' ')[0]}: ${msg}`;
}

const PIPELINE = `source:
  type: mysql
  hostname: h
  hostnme: h
  username: u
  password: p
  tables: app.order_\\.*
  server-id: 1
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: /tmp/w
route:
  - source-table: app.order_\\.*
    sink-table: ods.orders
pipeline:
  name: p
`;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tidemark-bad-'));
  await mkdir(join(tmp, 'ns/t/metadata'), { recursive: true });
  await writeFile(join(tmp, 'ns/t/metadata/v1.metadata.json'), '{"format-version": 2, "table-uuid": ');
  // The Spark-written ORC table with one data file's PostScript saying SNAPPY (compression = 2).
  await cp(join(fixtures, 'iceberg-v3/impala/iceberg_v3_default_value_orc'), join(tmp, 'orc'), { recursive: true });
  const orcFile = join(tmp, 'orc/data/00000-1-01c07679-b344-4993-aaa7-1c0aa90555ed-0-00001.orc');
  const orc = await readFile(orcFile);
  const postscript = orc.length - 1 - orc[orc.length - 1]!;
  orc[orc.indexOf(Buffer.of(0x10, 0x01), postscript) + 1] = 2;
  await writeFile(orcFile, orc);
  db = await startPrivateMariaDb();
  noBinlog = await startPrivateMariaDb({ binlog: false });
  const root = await mysql.createConnection(db.rootConfig());
  await root.query('CREATE DATABASE app');
  await root.query('CREATE TABLE app.nokey (a INT, b INT)');
  await root.query('CREATE TABLE app.order_0 (id INT PRIMARY KEY)');
  await root.query('CREATE TABLE app.ck (id INT PRIMARY KEY, g VARCHAR(9) NOT NULL)');
  await root.query('CREATE TABLE app.ekey (id INT NOT NULL, k POINT NOT NULL, SPATIAL INDEX (k))');
  await root.query("CREATE USER 'weak'@'127.0.0.1' IDENTIFIED BY 'weakpw'");
  await root.query("GRANT SELECT ON *.* TO 'weak'@'127.0.0.1'");
  await root.end();
});
afterAll(async () => {
  await db?.stop();
  await noBinlog?.stop();
  await rm(tmp, { recursive: true, force: true });
  if (!diskUnavailable) await (diskProbe as SmallDisk).unmount();
});

/** One append on the small disk made full or read-only; the data file's random name reads DATA. */
async function commitOnFaultyDisk(fault: 'full' | 'read-only'): Promise<string> {
  const disk = diskProbe as SmallDisk;
  const root = join(disk.dir, 't');
  await rm(root, { recursive: true, force: true });
  const env = seededWriteEnv(1);
  await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }], env });
  if (fault === 'full') await disk.fill(0);
  else disk.setReadOnly(true);
  try {
    await appendRows(root, [{ id: 1n }], { env });
    return 'no error';
  } catch (e) {
    const err = e as { code: string; message: string };
    return `${err.code}: ${err.message.replace(/\/data\/[0-9a-f-]+\.parquet:/, '/data/DATA.parquet:')}`;
  } finally {
    if (fault === 'full') await disk.free();
    else disk.setReadOnly(false);
  }
}

function sourceOf(tables: string[]): MySqlSourceConfig {
  return { hostname: '127.0.0.1', port: db.port, username: db.user, password: db.password, serverId: 999, tables };
}

async function preflight(over: Partial<MySqlSourceConfig>, check?: string): Promise<string> {
  const config: MySqlSourceConfig = { ...sourceOf(['app\\.order_.*']), ...over };
  try {
    const report = await createMySqlSource(config).preflight();
    return report.checks.find((c) => c.name === check)?.message ?? `no failing ${check} check`;
  } catch (e) {
    const err = e as { code: string; message: string };
    return `${err.code}: ${err.message}`;
  }
}

describe('docs/bad-input.md is generated from the checked rows', () => {
  it('is current', () => {
    expect(readFileSync(resolve(import.meta.dirname, '../../docs/bad-input.md'), 'utf8')).toBe(renderDoc());
  });
});

describe('every bad-input path gives its documented message', () => {
  const bunnies = join(fixtures, 'iceberg/icebird/spark_bunnies');
  const cases: [string, () => Promise<string>][] = [
    ['tidemark nonsense', () => cli('nonsense')],
    ['tidemark count <table> --snapshot abc', () => cli('count', bunnies, '--snapshot', 'abc')],
    ['tidemark tables (no folder)', () => cli('tables')],
    ['a warehouse folder that does not exist', () => cli('tables', '/nonexistent/warehouse')],
    ['a folder that is not a table', () => cli('count', '/nonexistent')],
    ['unknown snapshot id', () => cli('count', bunnies, '--snapshot', '1234')],
    ['a snapshot whose manifest list is missing', () => cli('count', join(fixtures, 'iceberg/duckdb-iceberg/equality_deletes_mytable'), '--snapshot', '7342794868382145167')],
    ['truncated metadata JSON', () => cli('count', join(tmp, 'ns/t'))],
    ['an Iceberg v3 deletion vector whose .puffin file is a bare blob, not a Puffin file', () => cli('count', join(fixtures, 'iceberg-v3/duckdb-iceberg/legacy_bare_deletion_vector'))],
    ['an Iceberg ORC data file compressed with SNAPPY (scan)', () => cli('scan', join(tmp, 'orc'))],
    // Refused before anything is written: the fixture itself is safe to name.
    ['cherry-pick on a Paimon table', () => cli('cherry-pick', join(fixtures, 'paimon/paimon-cpp/pk_table_scan_and_read_mor'), '1')],
    ['rollback of a Paimon table to a snapshot it does not have', () => cli('rollback', join(fixtures, 'paimon/paimon-cpp/pk_table_scan_and_read_mor'), '99')],
    ['a Paimon branch named main', () => cli('branch', join(fixtures, 'paimon/paimon-cpp/pk_table_scan_and_read_mor'), 'main', '--tag', 'x')],
    ['compacting only the small files of a Paimon table', () => cli('compact', join(fixtures, 'paimon/paimon-cpp/pk_table_scan_and_read_mor'), '--small')],
    ['SQL syntax error', () => cli('query', join(fixtures, 'paimon'), 'SELEC 1')],
    ['SQL naming an unknown table', () => cli('query', join(fixtures, 'paimon'), 'SELECT * FROM demo.nope')],
    ['time travel before the first snapshot', () => cli('query', join(fixtures, 'iceberg'), "SELECT * FROM icebird.spark_bunnies FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00'")],
    ['a Paimon system table Tidemark does not answer', () => cli('query', join(fixtures, 'paimon'), 'SELECT * FROM "paimon-cpp".append_09$binlog')],
    ['a Paimon system table on an Iceberg table', () => cli('query', join(fixtures, 'iceberg'), 'SELECT * FROM icebird.spark_bunnies$snapshots')],
    ["read_parquet('x.parquet') in SQL", () => cli('query', join(fixtures, 'paimon'), "SELECT * FROM read_parquet('x.parquet')")],
    [
      'unknown YAML key (typo)',
      async () => {
        try {
          loadPipelineConfig(PIPELINE, { fileName: 'p.yaml' });
          return 'no error';
        } catch (e) {
          const err = e as { code: string; message: string };
          return `${err.code}: ${err.message.split('\n').find((l) => l.includes('hostnme'))}`;
        }
      },
    ],
    [
      'a sink other than Iceberg or Paimon',
      async () => {
        try {
          loadPipelineConfig(PIPELINE.replace('  hostnme: h\n', '').replace('type: iceberg', 'type: doris'), { fileName: 'p.yaml' });
          return 'no error';
        } catch (e) {
          const err = e as { code: string; message: string };
          return `${err.code}: ${err.message}`;
        }
      },
    ],
    [
      'sharded tables merged on a colliding key',
      async () => {
        const { config } = loadPipelineConfig(PIPELINE.replace('  hostnme: h\n', ''), { fileName: 'p.yaml' });
        const shards = [0, 1].map((i) => ({ db: 'app', table: `order_${i}`, primaryKeys: ['id'], columns: ['id'] }));
        return planRoutes(config, shards).warnings[0]?.message ?? 'no warning';
      },
    ],
    [
      'the same pipeline started twice on one warehouse',
      async () => {
        const warehouse = join(tmp, 'w');
        await mkdir(join(warehouse, '.tidemark'), { recursive: true });
        // Held by pid 1 (init), which runs on every Linux machine: a live holder on this host.
        await writeFile(join(warehouse, '.tidemark', 'p.lock'), JSON.stringify({ pipeline: 'p', pid: 1, host: hostname(), startedAtMs: 0, procStart: null, token: 'another-run' }));
        const yaml = join(tmp, 'p.yaml');
        await writeFile(yaml, PIPELINE.replace('  hostnme: h\n', '').replace('/tmp/w', warehouse));
        return cli('sync', yaml);
      },
    ],
    ['a full disk during a commit', () => commitOnFaultyDisk('full')],
    ['a read-only warehouse during a commit', () => commitOnFaultyDisk('read-only')],
    ['wrong password', () => preflight({ password: 'nope' })],
    ['unreachable server', () => preflight({ port: 1 })],
    ['missing privilege', () => preflight({ username: 'weak', password: 'weakpw' }, 'privileges')],
    ['table without a primary key', () => preflight({ tables: ['app\\.nokey'] }, 'primary_keys')],
    ['table regex matching nothing', () => preflight({ tables: ['zzz\\..*'] }, 'tables')],
    ['TLS required, server without TLS', () => preflight({ sslMode: 'required' })],
    [
      'a chunk key column outside the primary key',
      async () => {
        const source = createMySqlSource({ ...sourceOf(['app\\.ck']), chunkKeyColumns: { 'app.ck': 'g' } });
        try {
          await source.start().next();
          return 'no error';
        } catch (e) {
          // The line under the preflight's header (`preflight failed on <server version> at host:port:`).
          const err = e as { code: string; message: string };
          return `${err.code}: ${err.message.split('\n').at(-1)!.trim()}`;
        } finally {
          await source.stop();
        }
      },
    ],
    [
      'a keyless table chunked by a spatial column only a SPATIAL index covers',
      async () => {
        const source = createMySqlSource({ ...sourceOf(['app\\.ekey']), chunkKeyColumns: { 'app.ekey': 'k' } });
        try {
          await source.start().next();
          return 'no error';
        } catch (e) {
          const err = e as { code: string; message: string };
          return `${err.code}: ${err.message}`;
        } finally {
          await source.stop();
        }
      },
    ],
    ['binlog off', () => preflight({ port: noBinlog.port, username: noBinlog.user, password: noBinlog.password }, 'binlog')],
    // MariaDB's default binlog_row_metadata is NO_LOG (the server without binlog keeps the default).
    ['binlog without column names (binlog_row_metadata MINIMAL or NO_LOG)', () => preflight({ port: noBinlog.port, username: noBinlog.user, password: noBinlog.password }, 'binlog_row_metadata')],
    [
      'a lake file outside the opened folders (.., absolute, encoded)',
      async () => {
        const roots = new AllowedRoots();
        roots.add(fixtures);
        const r = await serveFileRequest(createLocalStorage(), roots, { op: 'read', path: `${fixtures}/${'../'.repeat(30)}etc/passwd`, range: null });
        const body = JSON.parse(String(r.body)) as { error: { code: string; message: string } };
        return `${body.error.code}: ${body.error.message}`;
      },
    ],
    [
      'a request without the token',
      async () => {
        const storage = createLocalStorage();
        const roots = new AllowedRoots();
        const handlers = createHandlers({ storage, mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null });
        const server = await startBrowserServer({ handlers, storage, roots, rendererDir: tmp });
        try {
          const res = await fetch(`http://127.0.0.1:${server.port}/api/call/app.version`, { method: 'POST', body: '{}' });
          const body = (await res.json()) as { error: { code: string; message: string } };
          return `${body.error.code}: ${body.error.message}`;
        } finally {
          await server.close();
        }
      },
    ],
  ];

  it('covers every documented row', () => {
    expect(cases.map(([input]) => input).sort()).toEqual(BAD_INPUT_ROWS.map((r) => r.input).sort());
  });

  for (const [input, run] of cases) {
    it.skipIf(diskUnavailable !== null && DISK_ROWS.has(input))(input, async () => {
      expect(await run()).toBe(expected(input));
    });
  }
});
