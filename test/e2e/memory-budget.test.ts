/**
 * The query engine's memory budget as a setting, in the real renderer (browser mode, Chromium): set
 * in the Settings panel, saved by the server in its data folder, applied to the renderer's own
 * DuckDB-wasm engine, kept across a reload; a console query over it stops with a sentence naming
 * the table, the estimate and what to do, and runs once the budget is raised.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, COLUMNS, idsOf } from '../../bench/explorer-scale';
import { appendArrow, createTable } from '../../core/lake/write';
import { launchChromium } from '../support/browser';
import { SHOTS } from '../support/demo-lake';
import { startServe, type ServeProcess } from '../support/serve';

let dir: string;
let serve: ServeProcess | undefined;
let browser: Browser | undefined;
let page: Page;
/** Console queries that reached the server (none should: the renderer answers them). */
const serverQueries: string[] = [];

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  dir = await mkdtemp(join(tmpdir(), 'tidemark-e2e-budget-'));
  const table = join(dir, 'lake', 'ns', 'wide');
  // 100k rows × 30 columns: ~40 MiB of table data by the engine's estimate.
  await createTable(table, { columns: COLUMNS, identifierColumns: ['id'] });
  await appendArrow(table, batchOf(idsOf(0, 100_000, () => true)));
  serve = await startServe([join(dir, 'lake')], 'serve', { TIDEMARK_HOME: join(dir, 'home') });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.context().on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path === '/api/call/query.sql') serverQueries.push(path);
  });
  await page.goto(serve.url);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await rm(dir, { recursive: true, force: true });
});

const T = { timeout: 60_000 };
const savedFile = async () => JSON.parse(await readFile(join(dir, 'home', 'settings.json'), 'utf8')) as unknown;

async function saveBudget(mib: string) {
  if ((await page.getByRole('dialog', { name: 'Settings' }).count()) === 0) await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Query memory budget (MiB)').fill(mib);
  await page.getByRole('dialog', { name: 'Settings' }).getByRole('button', { name: 'Save' }).click();
}

async function runSql(sql: string) {
  await page.getByRole('tab', { name: 'SQL' }).click();
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(sql);
  await page.getByRole('button', { name: /^Run/ }).click();
}

const SQL = 'SELECT * FROM ns.wide ORDER BY id LIMIT 3';
const OVER = /^Unsupported: query needs about \d+\.\d MiB of memory for ns\.wide \(100,000 rows × 30 columns\), over the engine's budget of 16\.0 MiB: add a WHERE clause on a partition or key column .*; select fewer columns \(30 are read: id, l1, l2, l3, l4, l5, …\); or raise the engine memory budget$/;

describe('query memory budget setting (browser mode)', () => {
  it('shows the default, refuses a value out of range with a sentence, saves 16 MiB in the data folder', async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const input = page.getByLabel('Query memory budget (MiB)');
    await expect.poll(() => input.inputValue(), T).toBe('1536');
    await saveBudget('8');
    await expect.poll(() => page.getByRole('dialog', { name: 'Settings' }).getByRole('alert').textContent(), T).toBe('The settings were not saved: settings.save: queryMemoryBudgetMiB: expected at least 16 MiB');
    await saveBudget('16');
    await expect.poll(() => page.getByRole('dialog', { name: 'Settings' }).getByRole('status').textContent(), T).toBe('Saved: console queries may load up to 16 MiB of table data.');
    expect(await savedFile()).toEqual({ queryMemoryBudgetMiB: 16 });
    await page.screenshot({ path: join(SHOTS, 'settings-memory-budget.png') });
  });

  it('stops a console query over the budget in the renderer engine, with a sentence', async () => {
    await page.getByRole('navigation', { name: 'Tables' }).getByText('wide').click();
    await runSql(SQL);
    await expect.poll(() => page.locator('.sql-console [role="alert"]').textContent(), T).toMatch(OVER);
    // Fewer columns fit.
    await runSql('SELECT id FROM ns.wide ORDER BY id DESC LIMIT 1');
    await expect.poll(() => page.getByTestId('sql-status').textContent(), T).toMatch(/^1 rows/);
    expect(await page.locator('.sql-console .grid-cell').first().textContent()).toBe('99999');
    await runSql(SQL);
    await expect.poll(() => page.locator('.sql-console [role="alert"]').textContent(), T).toMatch(OVER);
    await page.screenshot({ path: join(SHOTS, 'settings-budget-error.png') });
    expect(serverQueries).toEqual([]);
  });

  it('keeps the budget across a reload, and runs the query once it is raised', async () => {
    await page.reload();
    await page.getByRole('navigation', { name: 'Tables' }).getByText('wide').click();
    await runSql(SQL);
    await expect.poll(() => page.locator('.sql-console [role="alert"]').textContent(), T).toMatch(OVER);
    await page.getByRole('button', { name: 'Settings' }).click();
    await expect.poll(() => page.getByLabel('Query memory budget (MiB)').inputValue(), T).toBe('16');
    await saveBudget('1024');
    await expect.poll(() => page.getByRole('dialog', { name: 'Settings' }).getByRole('status').textContent(), T).toBe('Saved: console queries may load up to 1024 MiB of table data.');
    expect(await savedFile()).toEqual({ queryMemoryBudgetMiB: 1024 });
    await runSql(SQL);
    await expect.poll(() => page.getByTestId('sql-status').textContent(), T).toMatch(/^3 rows/);
    expect(await page.locator('.sql-console [role="alert"]').count()).toBe(0);
    expect(serverQueries).toEqual([]);
  });
});
