import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestCatalogClient, startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { scanRows, type LoadedTable } from '../../core/lake';
import { loadPipelineConfig, planPipeline, runPipeline, type PipelineConfig } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { createShards, pipelineYaml, sourceRows, type Flat } from './run-helpers';

const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];
const TOKEN = 'rest-sync-token-0123456789';

/**
 * A sync into an Iceberg REST catalog: Tidemark's own `tidemark catalog` server on loopback over a
 * local warehouse. Tables are created and committed through core/catalog's client (requirements;
 * a 409 is retried as a lost race), data files written to the table locations the catalog reports;
 * the tables read back through the REST client equal the source.
 */
describe('sync into a REST catalog', () => {
  let db: PrivateMariaDb;
  let conn: mysql.Connection;
  let work: string;
  let catalog: RestCatalogServer;

  beforeAll(async () => {
    db = await startPrivateMariaDb();
    conn = await mysql.createConnection({ ...db.rootConfig(), multipleStatements: true });
    await createShards(conn, 50);
    work = await mkdtemp(join(tmpdir(), 'tidemark-rest-sync-'));
    await mkdir(join(work, 'lake'));
    catalog = await startRestCatalogServer({ warehouse: join(work, 'lake'), token: TOKEN, oauthClients: { 'sync-client': 'sync-secret' } });
  });
  afterAll(async () => {
    await catalog?.close();
    await conn?.end();
    await db?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const configFor = (auth: string, name: string): PipelineConfig => {
    const yaml = pipelineYaml(db, { warehouse: 'lake', name }).replace('  catalog.properties.type: hadoop\n', `  catalog.properties.type: rest\n  catalog.properties.uri: ${catalog.uri}\n${auth}`);
    return loadPipelineConfig(yaml, { fileName: `${name}.yaml`, env: { DB_PASS: db.password, CATALOG_TOKEN: TOKEN, CATALOG_CREDENTIAL: 'sync-client:sync-secret' }, baseDir: work }).config;
  };

  /** The table as the catalog has it, read through the REST client (rows flattened as run-helpers does). */
  async function catalogRows(name: string): Promise<{ rows: Record<string, unknown>[]; table: LoadedTable }> {
    const client = new RestCatalogClient({ uri: catalog.uri, warehouse: 'lake', token: TOKEN });
    const r = await client.loadTable(['ods'], name);
    const root = r.metadata.location;
    const table: LoadedTable = { root, metadataFile: r.metadataLocation!, metadata: r.metadata, resolve: (p) => p };
    return { rows: (await scanRows(createLocalStorage(), table)).rows, table };
  }

  const flat = (rows: Record<string, unknown>[]): Flat[] =>
    rows
      .map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c] === null || r[c] === undefined ? null : c === 'created' ? String(r[c]).replace(/Z$/, '').padEnd(26, '0') : String(r[c])])) as Flat)
      .sort((a, b) => (`${a.__table_name__}|${String(a.id).padStart(10, '0')}` < `${b.__table_name__}|${String(b.id).padStart(10, '0')}` ? -1 : 1));

  it('creates and commits the tables through the catalog; the catalog table equals the source; a second sync resumes exactly once', async () => {
    const config = configFor('  catalog.properties.token: env:CATALOG_TOKEN\n', 'to-rest');
    expect(config.sink.catalogType).toBe('rest');
    expect((await planPipeline(config)).targets.map((t) => [t.path, t.exists])).toEqual([[`${catalog.uri}#ods.orders`, false]]);
    const first = await runPipeline({ config, untilCaughtUp: true });
    expect(first.commits).toBeGreaterThan(0);
    const afterFirst = await catalogRows('orders');
    expect(afterFirst.table.metadata.location).toBe(join(work, 'lake', 'ods', 'orders'));
    expect(afterFirst.rows).toHaveLength(200);
    expect(flat(afterFirst.rows)).toEqual(await sourceRows(conn, COLUMNS));
    const plan = await planPipeline(config);
    expect(plan.targets.map((t) => [t.path, t.exists])).toEqual([[`${catalog.uri}#ods.orders`, true]]);
    expect(plan.resumeFrom).not.toBeNull();

    for (const s of [0, 1, 2, 3]) {
      await conn.query(`INSERT INTO app.order_${s} (id, customer, amount, created) VALUES (1000, 'x${s}', 1.00, '2024-02-01 00:00:00.000')`);
      await conn.query(`UPDATE app.order_${s} SET amount = amount + 10 WHERE id % 7 = 0`);
      await conn.query(`DELETE FROM app.order_${s} WHERE id % 11 = 0`);
    }
    const second = await runPipeline({ config, untilCaughtUp: true });
    expect(second.commits).toBeGreaterThan(0);
    expect(flat((await catalogRows('orders')).rows)).toEqual(await sourceRows(conn, COLUMNS));
    const [counted] = await conn.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM app.order_0 WHERE id % 7 = 0');
    expect((await catalogRows('orders__changelog')).rows).toHaveLength(200 + 4 + 4 * Number(counted[0]!.n) + 4 * 4);
  }, 180_000);

  it('authenticates with OAuth2 client credentials and commits on top of what the catalog holds', async () => {
    await conn.query("INSERT INTO app.order_1 (id, customer, amount, created) VALUES (2000, 'oauth', 3.00, '2024-03-01 00:00:00.000')");
    const config = configFor('  catalog.properties.credential: env:CATALOG_CREDENTIAL\n', 'to-rest');
    const run = await runPipeline({ config, untilCaughtUp: true });
    expect(run.commits).toBeGreaterThan(0);
    expect(flat((await catalogRows('orders')).rows)).toEqual(await sourceRows(conn, COLUMNS));
  }, 120_000);
});
