import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDemoLake, SHOTS, type DemoLakePage } from '../support/demo-lake';

let demo: DemoLakePage | undefined;
let page: Page;
/** Every request the page and its workers made (path + query), to see where queries ran. */
const requests: string[] = [];
/** Parquet files the worker read through /fs, with the Range header of each request. */
const parquetReads: { path: string; range: string | undefined }[] = [];

beforeAll(async () => {
  const onPage = (p: Page) =>
    p.context().on('request', (r) => {
      const u = new URL(r.url());
      requests.push(u.pathname + u.search);
      const path = u.searchParams.get('path') ?? '';
      if (u.pathname === '/fs/read' && path.endsWith('.parquet')) parquetReads.push({ path, range: r.headers()['range'] });
    });
  demo = await openDemoLake({ name: 'explorer', viewport: { width: 1400, height: 1000 }, onPage });
  ({ page } = demo);
});

afterAll(async () => {
  await demo?.close();
});

const gridStatus = () => page.locator('.grid-status').first().textContent();

describe('explorer (browser mode, demo lake)', () => {
  it('opens a table: timeline of 6 commits and the current rows in the grid', async () => {
    await expect.poll(gridStatus).toMatch(/^31 rows/);
    expect(await page.locator('.timeline-list tbody tr').count()).toBe(6);
    expect(await page.locator('.timeline-list tbody tr .op').allTextContents()).toEqual(['append', 'overwrite', 'delete', 'overwrite', 'overwrite', 'replace']);
    expect(await page.getByTestId('version-label').textContent()).toBe('current');
    const headers = await page.locator('.grid-colname').allTextContents();
    expect(headers).toContain('order_status');
    await page.screenshot({ path: join(SHOTS, 'explorer-data.png') });
  });

  it('answers queries in the renderer: DuckDB-wasm in a worker reads lake files by ranged requests', async () => {
    // The grid's rows came from the renderer's engine: no query.* call reached the server, while the
    // worker fetched the table's metadata, manifests and data files through /fs.
    expect(requests.filter((r) => r.startsWith('/api/call/query.'))).toEqual([]);
    const fsReads = requests.filter((r) => r.startsWith('/fs/read?'));
    expect(fsReads.some((r) => decodeURIComponent(r).includes('/demo/orders/metadata/'))).toBe(true);
    expect(fsReads.some((r) => decodeURIComponent(r).includes('/demo/orders/data/'))).toBe(true);
    // Parquet files are read by range (footer, then column chunks), never whole.
    expect(parquetReads.length).toBeGreaterThan(0);
    expect(parquetReads.filter((r) => !r.range?.startsWith('bytes='))).toEqual([]);
  });

  it('time-travels to the first commit: grid, label and URL follow', async () => {
    await page.locator('.timeline-list tbody tr').first().click();
    await expect.poll(gridStatus).toMatch(/^30 rows/);
    const label = await page.getByTestId('version-label').textContent();
    expect(label).toMatch(/^snapshot \d+$/);
    expect(page.url()).toContain(`snapshot=${label!.replace('snapshot ', '')}`);
    // The column renamed later has its old name at this version.
    expect(await page.locator('.grid-colname').allTextContents()).not.toContain('order_status');
    await page.getByLabel('Snapshot', { exact: true }).selectOption('');
    await expect.poll(gridStatus).toMatch(/^31 rows/);
  });

  it('sorts and filters in the grid', async () => {
    const amountHeader = page.getByRole('columnheader', { name: /amount/ });
    const amounts = async () => (await page.locator('.grid-row').evaluateAll((rows) => rows.map((r) => r.querySelectorAll('.grid-cell')[2]?.textContent ?? ''))).map(Number);
    const sorted = (xs: number[], dir: 1 | -1) => xs.length > 1 && xs.every((x, i) => !Number.isNaN(x) && (i === 0 || dir * (x - xs[i - 1]!) >= 0));
    // Click: ascending; again: descending; again: file order. Rows show '…' until their page
    // arrives, so wait for every shown value to be in order.
    await amountHeader.getByRole('button').click();
    await expect.poll(() => amountHeader.getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(async () => sorted(await amounts(), 1)).toBe(true);
    await amountHeader.getByRole('button').click();
    await expect.poll(() => amountHeader.getAttribute('aria-sort')).toBe('descending');
    await expect.poll(async () => sorted(await amounts(), -1)).toBe(true);
    const descending = await amounts();
    await page.screenshot({ path: join(SHOTS, 'explorer-sorted.png') });
    // The sorted rows came from the renderer's engine by ranged reads, as the unsorted ones.
    expect(requests.filter((r) => r.startsWith('/api/call/query.'))).toEqual([]);
    await amountHeader.getByRole('button').click();
    await expect.poll(() => amountHeader.getAttribute('aria-sort')).toBe('none');
    await expect.poll(async () => (await amounts()).join()).not.toBe(descending.join());
    // A range filter keeps the rows within it (ends included), still sorted when asked.
    // The shown rows are the largest amounts: every row of the range [7th, 3rd] is among them.
    expect(descending.length).toBeGreaterThan(7);
    const [hi, lo] = [descending[2]!, descending[6]!];
    const inRange = descending.filter((a) => a >= lo && a <= hi).length;
    await page.getByLabel('Filter amount').fill(`${lo}..${hi}`);
    await expect.poll(async () => (await amounts()).every((a) => a >= lo && a <= hi) && (await amounts()).length === inRange).toBe(true);
    await expect.poll(gridStatus).toMatch(new RegExp(`^${inRange} rows`));
    await page.getByLabel('Filter amount').fill('');
    await page.getByLabel('Filter order_status').fill('= shipped');
    const statuses = () => page.locator('.grid-row .grid-cell:nth-child(5)').allTextContents();
    await expect.poll(async () => [...new Set(await statuses())]).toEqual(['shipped']);
    const shown = Number((await gridStatus())!.split(' ')[0]);
    expect(shown).toBe((await statuses()).length);
    expect(shown).toBeLessThan(31);
    await page.getByLabel('Filter order_status').fill('');
    await expect.poll(gridStatus).toMatch(/^31 rows/);
  });

  it('shows the schema diff with the renamed and added columns', async () => {
    await page.getByRole('tab', { name: 'Schema' }).click();
    await page.getByLabel('Compare schema with').selectOption({ index: 1 });
    const diff = page.getByRole('list', { name: 'Schema diff' });
    await expect.poll(() => diff.textContent()).toMatch(/renamed/);
    expect(await diff.locator('li.added').count()).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: join(SHOTS, 'explorer-schema.png') });
  });

  it('shows the row changes of an update commit', async () => {
    await page.getByRole('tab', { name: 'Changes' }).click();
    const options = page.getByLabel('Diff from').locator('option');
    await page.getByLabel('Diff from').selectOption((await options.nth(0).getAttribute('value'))!);
    await page.getByLabel('Diff to').selectOption((await options.nth(1).getAttribute('value'))!);
    await expect.poll(() => page.getByTestId('diff-counts').textContent()).toMatch(/\+\d+ added · −\d+ removed · ~[1-9]\d* changed/);
    expect(await page.locator('td.cell-changed').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(SHOTS, 'explorer-changes.png') });
  });

  it('shows a key history', async () => {
    await page.getByRole('tab', { name: 'Key history' }).click();
    await page.locator('#history-key').fill('order_id=3');
    await page.getByRole('button', { name: 'Show history' }).click();
    const table = page.getByRole('table', { name: 'Key history' });
    await table.waitFor();
    // Compared by field id: the rename of status → order_status (snapshot 5) is not an update.
    expect(await table.locator('.status').allTextContents()).toEqual(['inserted', 'updated', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    // One column per field; the updated cell shows before → after.
    expect(await table.locator('thead th').allTextContents()).toContain('order_status');
    expect(await table.locator('td.cell-changed').allTextContents()).toContain('new → shipped');
    await page.screenshot({ path: join(SHOTS, 'explorer-history.png') });
  });

  it('runs SQL with time travel in the console', async () => {
    await page.getByRole('tab', { name: 'SQL' }).click();
    const editor = page.locator('.cm-content');
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT count(*) AS n FROM demo.orders FOR VERSION AS OF ');
    const first = await page.locator('.timeline-list tbody tr').first().getAttribute('data-snapshot');
    await page.keyboard.type(first!);
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect.poll(() => page.getByTestId('sql-status').textContent()).toMatch(/^1 rows/);
    expect(await page.locator('.sql-console .grid-cell').first().textContent()).toBe('30');
    await page.screenshot({ path: join(SHOTS, 'explorer-sql.png') });
  });

  it('pins the dark theme and back to the OS setting', async () => {
    await page.getByLabel('Theme').selectOption('dark');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    // The page background follows the palette: the dark --bg is #15181e.
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(21, 24, 30)');
    await page.screenshot({ path: join(SHOTS, 'explorer-dark.png') });
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await page.getByLabel('Theme').selectOption('light');
    expect(await page.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe('rgb(247, 248, 250)');
    await page.getByLabel('Theme').selectOption('system');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBeUndefined();
  });

  it('asks for the first rows with the columns and total in one call, and shows them from it', async () => {
    // `?engine=main`: the query calls go to the server as requests, so each one can be seen.
    const other = await demo!.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageCalls: { offset: number; limit: number }[] = [];
    other.on('request', (r: import('playwright-core').Request) => {
      if (new URL(r.url()).pathname === '/api/call/query.page') pageCalls.push(JSON.parse(r.postData() ?? '{}') as { offset: number; limit: number });
    });
    try {
      await other.goto(`${demo!.url}&engine=main`);
      await other.getByRole('navigation', { name: 'Tables' }).getByText('orders').click();
      await expect.poll(() => other.locator('.grid-status').first().textContent()).toMatch(/^31 rows/);
      await expect.poll(() => other.locator('[role="gridcell"]').count()).toBeGreaterThan(0);
      // The warm-up of the version (no rows) and the Data tab's one call for columns, total and
      // the first 200 rows; the grid fetched no page of its own.
      expect(pageCalls.map((c) => [c.offset, c.limit])).toEqual([
        [0, 0],
        [0, 200],
      ]);
    } finally {
      await other.close();
    }
  });
});
