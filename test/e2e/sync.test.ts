import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser';
import { REPO_ROOT } from '../support/fixtures';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { startServe, type ServeProcess } from '../support/serve';

const SHOTS = join(REPO_ROOT, 'test-results');
let db: PrivateMariaDb;
let browser: Browser;
let serve: ServeProcess;
let dir: string;
let page: Page;

const pipeline = (warehouse: string, hostKey = 'hostname') => `source:
  type: mariadb
  ${hostKey}: 127.0.0.1
  port: ${db.port}
  username: ${db.user}
  password: \${env:SHOP_DB_PASSWORD}
  tables: shop.\\.*
  server-id: 6301
  heartbeat.interval: 200ms
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
pipeline:
  name: shop
  execution.checkpointing.interval: 300ms
  tidemark.changelog.enabled: true
`;

/** The pipeline's phase and committed rows as the server reports them: `phase rows`. */
const status = () =>
  page.evaluate(async () => {
    const r = await fetch('/api/call/sync.status', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'shop' }) });
    const reply = (await r.json()) as { ok: boolean; value: { phase: string; tables: { rowsCommitted: number }[] } | null };
    return reply.ok && reply.value ? `${reply.value.phase} ${reply.value.tables.reduce((n, t) => n + t.rowsCommitted, 0)}` : 'none';
  });

async function setEditorText(text: string) {
  await page.locator('.yaml-editor .cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
}

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  db = await startPrivateMariaDb();
  const root = await mysql.createConnection(db.rootConfig());
  await root.query('CREATE DATABASE shop');
  await root.query('CREATE TABLE shop.items (id INT PRIMARY KEY, name VARCHAR(20), price DECIMAL(8,2))');
  await root.query("INSERT INTO shop.items VALUES (1, 'apple', 1.20), (2, 'pear', 0.80), (3, 'plum', 2.50), (4, 'fig', 3.10)");
  await root.end();
  dir = await mkdtemp(join(tmpdir(), 'tidemark-e2e-sync-'));
  await mkdir(join(dir, 'lake'), { recursive: true });
  serve = await startServe([join(dir, 'lake'), '--no-demo'], 'serve', { TIDEMARK_HOME: join(dir, 'home'), SHOP_DB_PASSWORD: db.password });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(serve.url);
  await page.getByRole('tab', { name: 'Sync' }).click();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await db?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('sync manager (browser mode, private MariaDB)', () => {
  it('creates a pipeline; a typo is marked on its line', async () => {
    await page.getByLabel('New pipeline name').fill('shop');
    await page.getByRole('button', { name: 'New' }).click();
    await setEditorText(pipeline(join(dir, 'lake'), 'hostnme'));
    const errors = page.getByRole('list', { name: 'Validation errors' });
    await expect.poll(() => errors.textContent(), { timeout: 10_000 }).toMatch(/line 3: source\.hostnme: .*hostname/);
    await expect.poll(() => page.locator('.cm-lintRange-error').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'sync-typo.png') });
  });

  it('fixes it, tests the connection and plans the target table', async () => {
    await setEditorText(pipeline(join(dir, 'lake')));
    await expect.poll(() => page.getByTestId('validation-summary').textContent(), { timeout: 10_000 }).toMatch(/^valid/);
    // The form view edits the same YAML.
    await page.getByRole('button', { name: 'Form view' }).click();
    expect(await page.getByLabel('host', { exact: true }).inputValue()).toBe('127.0.0.1');
    await page.getByLabel('commit interval').fill('250ms');
    await expect.poll(() => page.locator('.yaml-editor .cm-content').textContent()).toContain('execution.checkpointing.interval: 250ms');
    await page.screenshot({ path: join(SHOTS, 'sync-form.png') });
    await page.getByRole('button', { name: 'Test connection' }).click();
    const checks = page.getByRole('region', { name: 'Connection checks' });
    await expect.poll(() => checks.locator('li.added').count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(5);
    expect(await checks.locator('li.removed').count()).toBe(0);
    // The private server offers no TLS; a pipeline without TLS keys is PREFERRED (Connector/J's default).
    expect(await checks.getByLabel('Session encryption').textContent()).toBe(' · not encrypted');
    expect(await checks.locator('li').first().textContent()).toBe('✓ tls: not encrypted: the server offers no TLS (jdbc.properties.sslMode PREFERRED)');
    await page.getByRole('button', { name: 'Plan' }).click();
    const plan = page.getByRole('region', { name: 'Plan' });
    await expect.poll(() => plan.textContent(), { timeout: 20_000 }).toMatch(/shop\.items/);
    // Before the first sync every source table is captured by an initial snapshot.
    const sources = plan.getByRole('table', { name: 'Source tables' });
    expect(await sources.locator('tbody tr').first().textContent()).toMatch(/^shop\.items.*initial: initial snapshot, then streamed$/);
    await page.screenshot({ path: join(SHOTS, 'sync-plan.png') });
  });

  it('runs until caught up, shows progress, and the new table opens in the explorer', async () => {
    await page.getByRole('button', { name: 'Run until caught up' }).click();
    // The whole run happens while the Explorer screen is shown (the Sync screen unmounted): its
    // events and progress must still reach the Sync screen.
    await page.getByRole('tab', { name: 'Explorer' }).click();
    await expect.poll(status, { timeout: 60_000 }).toBe('stopped 4');
    await page.getByRole('tab', { name: 'Sync' }).click();
    await expect.poll(() => page.getByTestId('sync-phase').textContent(), { timeout: 60_000 }).toBe('stopped');
    const events = page.getByRole('region', { name: 'Events' });
    await expect.poll(() => events.textContent()).toMatch(/stopped/);
    const tables = page.getByRole('table', { name: 'Tables in sync' });
    await expect.poll(() => tables.textContent()).toMatch(/shop\.items/);
    await page.screenshot({ path: join(SHOTS, 'sync-progress.png') });
    await tables.getByRole('button', { name: 'shop.items' }).click();
    await expect.poll(() => page.locator('.grid-status').first().textContent(), { timeout: 20_000 }).toMatch(/^4 rows/);
    await page.screenshot({ path: join(SHOTS, 'sync-explorer.png') });
  });

  it('fails while the Explorer is shown; the Sync screen shows the failure on return', async () => {
    await page.getByRole('tab', { name: 'Sync' }).click();
    // Schema changes stop this pipeline: a column added at the source while it streams fails it.
    await page.getByRole('button', { name: 'Form view' }).click();
    await page.getByLabel('schema changes').selectOption('exception');
    await expect.poll(() => page.locator('.yaml-editor .cm-content').textContent()).toContain('schema.change.behavior: exception');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(status, { timeout: 60_000 }).toMatch(/^streaming /);
    await page.getByRole('tab', { name: 'Explorer' }).click();
    const root = await mysql.createConnection(db.rootConfig());
    await root.query('ALTER TABLE shop.items ADD COLUMN origin VARCHAR(20)');
    await root.end();
    await expect.poll(status, { timeout: 60_000 }).toMatch(/^failed /);
    await page.getByRole('tab', { name: 'Sync' }).click();
    await expect.poll(() => page.getByTestId('sync-phase').textContent(), { timeout: 20_000 }).toBe('failed');
    const failed = page.getByRole('region', { name: 'Events' }).locator('li.removed');
    await expect.poll(() => failed.count()).toBe(1);
    expect(await failed.textContent()).toMatch(/^\d\d:\d\d:\d\d shop\.items: schema change add-column by "ALTER TABLE shop\.items ADD COLUMN origin VARCHAR\(20\)" at .*: schema\.change\.behavior is exception$/);
    expect(await page.locator('.sync-progress p.error').textContent()).toMatch(/^Unsupported: shop\.items: schema change add-column .*schema\.change\.behavior is exception$/);
    // Not running any more: Start is offered again.
    await expect.poll(() => page.getByRole('button', { name: 'Start', exact: true }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, 'sync-failed.png') });
  });
});
