/**
 * Maintenance from the Files tab (browser mode, demo lake): each action previews what it will do,
 * then runs; the timeline and the files follow at once. Screenshot of the panel after the runs.
 */
import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, loadTable } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node/index';
import { openDemoLake, SHOTS, type DemoLakePage } from '../support/demo-lake';

let demo: DemoLakePage | undefined;
let lake: string;
let page: Page;

beforeAll(async () => {
  demo = await openDemoLake({ name: 'maint', viewport: { width: 1400, height: 1200 } });
  ({ lake, page } = demo);
  await page.getByRole('tab', { name: 'Files' }).click();
});

afterAll(async () => {
  await demo?.close();
});

const T = { timeout: 30_000 };
const table = () => join(lake, 'demo', 'orders');
/** A preview's text (in its section), and a run's (the notice above the timeline: the tab is read again). */
const result = (name: string) => page.getByTestId(`${name}-result`).textContent();
const notice = () => page.locator('p.notice').textContent();
const section = (name: string) => page.getByRole('region', { name });

describe('maintenance from the Files tab', () => {
  it('compacts, expires and removes orphans, each previewed first', async () => {
    const live = await countRows(createLocalStorage(), table());
    // Compact the whole table: preview, then run; a 7th snapshot appears.
    const compact = section('Compact');
    await compact.getByLabel('compaction scope').selectOption('all');
    expect(await compact.getByRole('button', { name: 'Run' }).isDisabled()).toBe(true);
    await compact.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => result('compact'), T).toMatch(/^will rewrite 3 data file\(s\), .* 31 records in 3 partition\(s\) into about 3 file\(s\)$/);
    await compact.getByRole('button', { name: 'Run' }).click();
    await expect.poll(notice, T).toMatch(/^rewrote 3 data file\(s\), .* into 3 file\(s\) \(31 rows\), snapshot \d+$/);
    await expect.poll(() => page.locator('.timeline-list tbody tr').count(), T).toBe(7);
    expect(await countRows(createLocalStorage(), table())).toBe(live);

    // Expire all but the last 2 snapshots.
    const expire = section('Expire snapshots');
    await expire.getByLabel('snapshots to keep').fill('2');
    await expire.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => result('expire-snapshots'), T).toMatch(/^will expire 5 snapshot\(s\), keeping 2; will delete \d+ file\(s\), /);
    expect((await loadTable(createLocalStorage(), table())).metadata.snapshots).toHaveLength(7);
    await expire.getByRole('button', { name: 'Run' }).click();
    await expect.poll(notice, T).toMatch(/^expired 5 snapshot\(s\), keeping 2; deleted \d+ file\(s\), /);
    await expect.poll(() => page.locator('.timeline-list tbody tr').count(), T).toBe(2);

    // A stray file from a crashed writer, a week old: previewed, then removed.
    const stray = join(table(), 'data', 'stray-from-a-crash.parquet');
    await writeFile(stray, 'not referenced');
    const weekAgo = new Date(Date.now() - 7 * 24 * 3600 * 1000);
    await utimes(stray, weekAgo, weekAgo);
    const orphans = section('Remove orphan files');
    await orphans.getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => result('remove-orphan-files'), T).toMatch(/^will delete 1 orphan file\(s\), 14 B; \d+ referenced file\(s\) kept$/);
    expect(existsSync(stray)).toBe(true);
    await orphans.getByRole('button', { name: 'Run' }).click();
    await expect.poll(notice, T).toMatch(/^deleted 1 orphan file\(s\)/);
    expect(existsSync(stray)).toBe(false);
    expect(await countRows(createLocalStorage(), table())).toBe(live);
    await page.getByRole('region', { name: 'Compact' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'files-maintenance.png'), fullPage: true });
  });
});
