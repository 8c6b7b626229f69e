import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiEvents, HandlerContext } from '../../core/api';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { createSyncService, secretEnvName, type SecretStore } from '../../core/app/sync-service';
import { countRows } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node/index';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';

let db: PrivateMariaDb;
let dir: string;
const events: { event: string; payload: unknown }[] = [];
const ctx: HandlerContext = { emit: (event, payload) => events.push({ event, payload }) };

/** A stand-in keychain: values kept encrypted-ish in memory, so the test can see what is stored where. */
const vault = new Map<string, string>();
const secrets: SecretStore = {
  save: async (k, v) => void vault.set(k, Buffer.from(v).toString('base64')),
  load: async (k) => (vault.has(k) ? Buffer.from(vault.get(k)!, 'base64').toString() : null),
  remove: async (k) => void vault.delete(k),
};

function yaml(warehouse: string, password: string, extra = '') {
  return `source:
  type: mariadb
  hostname: 127.0.0.1
  port: ${db.port}
  username: ${db.user}
  password: ${password}
  tables: shop.\\.*
  server-id: 6201
  heartbeat.interval: 200ms
${extra}sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
pipeline:
  name: shop
  execution.checkpointing.interval: 200ms
`;
}

beforeAll(async () => {
  db = await startPrivateMariaDb();
  dir = await mkdtemp(join(tmpdir(), 'tidemark-sync-'));
  const root = await mysql.createConnection(db.rootConfig());
  await root.query('CREATE DATABASE shop');
  await root.query('CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20))');
  await root.query("INSERT INTO shop.items VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  await root.end();
});
afterAll(async () => {
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function call(handlers: ReturnType<typeof createHandlers>, name: string, input: unknown) {
  const r = await dispatchCall(handlers, name, input, ctx);
  if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code });
  return r.value as never;
}

describe('sync manager through the contract', () => {
  it('keeps a literal password out of the pipeline file (keychain), validates with line numbers, checks, plans, runs and reports', async () => {
    const warehouse = join(dir, 'lake');
    const sync = createSyncService({ dataDir: join(dir, 'app'), secrets, env: {} });
    const handlers = createHandlers({ storage: createLocalStorage(), mode: 'electron', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null, sync });

    // A typo: the error names the line and suggests the key.
    const typo = (await call(handlers, 'sync.validate', { yaml: yaml(warehouse, 'x').replace('hostname:', 'hostnme:'), name: 'shop' })) as { ok: boolean; errors: { line: number; path: string; message: string }[] };
    expect(typo.ok).toBe(false);
    const unknown = typo.errors.find((e) => e.path === 'source.hostnme')!;
    expect(unknown.line).toBe(3);
    expect(unknown.message).toMatch(/did you mean "?hostname/);

    const saved = (await call(handlers, 'sync.save', { name: 'shop', yaml: yaml(warehouse, db.password) })) as { file: string; validation: { ok: boolean } };
    expect(saved.validation.ok).toBe(true);
    const onDisk = await readFile(saved.file, 'utf8');
    expect(onDisk).not.toContain(db.password);
    expect(onDisk).toContain(`password: \${env:${secretEnvName('shop')}}`);
    expect(await secrets.load(secretEnvName('shop'))).toBe(db.password);

    const preflight = (await call(handlers, 'sync.testConnection', { name: 'shop' })) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(preflight.ok).toBe(true);
    expect(preflight.checks.map((c) => c.name)).toContain('binlog_row_metadata');

    const plan = (await call(handlers, 'sync.plan', { name: 'shop' })) as { targets: { table: string; key: string[]; exists: boolean }[] };
    expect(plan.targets).toEqual([expect.objectContaining({ table: 'shop.items', key: ['id'], exists: false })]);

    await call(handlers, 'sync.start', { name: 'shop', untilCaughtUp: true });
    await expect.poll(() => events.some((e) => e.event === 'sync.event' && (e.payload as ApiEvents['sync.event']).type === 'sync.stopped'), { timeout: 60_000 }).toBe(true);
    expect(events.some((e) => e.event === 'sync.progress')).toBe(true);
    expect(await countRows(createLocalStorage(), join(warehouse, 'shop', 'items'))).toBe(3);
    const list = (await call(handlers, 'sync.list', {})) as { name: string; running: boolean; status: { phase: string } | null }[];
    expect(list).toEqual([expect.objectContaining({ name: 'shop', running: false })]);
    expect(list[0]!.status?.phase).toBe('stopped');
  });

  it('browser mode (no keychain) refuses a plain-text password and names the alternative', async () => {
    const sync = createSyncService({ dataDir: join(dir, 'browser'), secrets: null, env: {} });
    const handlers = createHandlers({ storage: createLocalStorage(), mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null, sync });
    await expect(call(handlers, 'sync.save', { name: 'shop', yaml: yaml(join(dir, 'lake2'), 'hunter2') })).rejects.toMatchObject({
      code: 'InvalidInput',
      message: expect.stringContaining('${env:NAME}'),
    });
    expect(await readdir(join(dir, 'browser')).catch(() => [])).not.toContain('pipelines/shop.yaml');
  });

  it('a failing connection error never contains the password', async () => {
    const sync = createSyncService({ dataDir: join(dir, 'bad'), secrets, env: {} });
    const handlers = createHandlers({ storage: createLocalStorage(), mode: 'electron', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null, sync });
    await call(handlers, 'sync.save', { name: 'bad', yaml: yaml(join(dir, 'lake3'), 'wrong-Secret-123').replace('name: shop', 'name: bad') });
    const r = await dispatchCall(handlers, 'sync.testConnection', { name: 'bad' }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(JSON.stringify(r.error)).not.toContain('wrong-Secret-123');
      expect(r.error.message).toMatch(/cdc/);
    }
  });
});
