/**
 * Snapshot management of a Paimon table from the timeline (browser mode, a copy of a table Java
 * Paimon wrote): tag a snapshot and see the tag beside it at once, then roll main back (Paimon's
 * rollback deletes the later snapshots, so they leave the timeline); screenshots of both.
 */
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPaimonRows } from '../../core/lake/paimon';
import { createLocalStorage } from '../../core/storage/node/index';
import { launchChromium } from '../support/browser';
import { FIXTURES, REPO_ROOT } from '../support/fixtures';
import { startServe, type ServeProcess } from '../support/serve';

const SHOTS = join(REPO_ROOT, 'test-results');
let browser: Browser;
let serve: ServeProcess;
let lake: string;
let table: string;
let page: Page;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  lake = await mkdtemp(join(tmpdir(), 'tidemark-e2e-paimon-refs-'));
  table = join(lake, 'fin', 'ledger');
  await cp(join(FIXTURES, 'paimon/paimon-cpp/pk_table_scan_and_read_mor'), table, { recursive: true });
  serve = await startServe([lake]);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(serve.url);
  await page.getByRole('navigation', { name: 'Tables' }).getByText('ledger').click();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await rm(lake, { recursive: true, force: true });
});

const rows = () => page.locator('.timeline-list tbody tr');
const ids = async () => (await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-snapshot')))) as string[];
const notice = () => page.locator('p.notice').textContent();
const menuFor = async (id: string) => {
  await page.getByRole('button', { name: `Actions for snapshot ${id}` }).click();
  return page.getByRole('menu', { name: `Snapshot ${id}` });
};

describe('timeline snapshot menu on a Paimon table (browser mode)', () => {
  it('tags a snapshot, then rolls main back', async () => {
    await expect.poll(async () => rows().count(), { timeout: 30_000 }).toBe(5);
    expect(await ids()).toEqual(['1', '2', '3', '4', '5']);
    // The grid shows the latest version's live rows (the renderer's engine loads the Paimon view).
    await expect.poll(async () => (await page.locator('.grid-status').first().textContent())?.split(' · ')[0], { timeout: 60_000 }).toBe('11 rows');

    const menu = await menuFor('2');
    expect(await menu.getByRole('menuitem').allTextContents()).toEqual(['Tag this snapshot…', 'Create a branch here…', 'Roll back main to here (deletes later snapshots)']);
    await menu.getByRole('menuitem', { name: 'Tag this snapshot…' }).click();
    await menu.getByLabel('tag name').fill('q4-close');
    await menu.getByRole('button', { name: 'Tag' }).click();
    await expect.poll(notice, { timeout: 30_000 }).toBe('tag q4-close → 2');
    expect(await page.locator('tr[data-snapshot="2"] .ref.tag').textContent()).toBe('q4-close');
    expect(await page.locator('tr[data-snapshot="5"] .ref.branch').textContent()).toBe('main');
    expect(await readdir(join(table, 'tag'))).toEqual(['tag-q4-close']);
    await page.screenshot({ path: join(SHOTS, 'paimon-timeline-tag.png') });

    await (await menuFor('4')).getByRole('menuitem', { name: 'Roll back main to here (deletes later snapshots)' }).click();
    await expect.poll(notice, { timeout: 30_000 }).toBe('main rolled back to 4 (was 5; later snapshots deleted)');
    await expect.poll(async () => ids(), { timeout: 30_000 }).toEqual(['1', '2', '3', '4']);
    expect(await page.locator('tr[data-snapshot="4"] .ref.branch').textContent()).toBe('main');
    expect(await page.locator('tr[data-snapshot="2"] .ref.tag').textContent()).toBe('q4-close');
    await page.screenshot({ path: join(SHOTS, 'paimon-timeline-rollback.png') });
    // The grid reads the rolled-back table's live rows, as the reader counts them.
    const live = `${await countPaimonRows(createLocalStorage(), table)} rows`;
    await expect.poll(async () => (await page.locator('.grid-status').first().textContent())?.split(' · ')[0], { timeout: 30_000 }).toBe(live);
  });
});
