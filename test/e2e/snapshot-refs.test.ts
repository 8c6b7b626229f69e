/**
 * Snapshot management from the timeline (browser mode, demo lake): tag a snapshot, roll main back,
 * cherry-pick (refused for a compaction, a fast-forward for the next commit), delete the tag; each
 * shown at once in the timeline, with screenshots of the menu and the result.
 */
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
  demo = await openDemoLake({ name: 'refs', viewport: { width: 1400, height: 1000 } });
  ({ lake, page } = demo);
});

afterAll(async () => {
  await demo?.close();
});

const rows = () => page.locator('.timeline-list tbody tr');
const ids = async () => (await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-snapshot')))) as string[];
const notice = () => page.locator('p.notice').textContent();
const menuFor = async (id: string) => {
  await page.getByRole('button', { name: `Actions for snapshot ${id}` }).click();
  return page.getByRole('menu', { name: `Snapshot ${id}` });
};
const main = async () => (await loadTable(createLocalStorage(), join(lake, 'demo', 'orders'))).metadata;

describe('timeline snapshot menu (browser mode)', () => {
  it('tags a snapshot, rolls main back, cherry-picks, deletes the tag', async () => {
    await expect.poll(async () => rows().count(), { timeout: 30_000 }).toBe(6);
    const s = await ids();

    // Tag the second commit: the badge appears beside it.
    const menu = await menuFor(s[1]!);
    await menu.getByRole('menuitem', { name: 'Tag this snapshot…' }).click();
    await menu.getByLabel('tag name').fill('q4-close');
    await page.screenshot({ path: join(SHOTS, 'timeline-tag-menu.png') });
    await menu.getByRole('button', { name: 'Tag' }).click();
    await expect.poll(notice, { timeout: 30_000 }).toBe(`tag q4-close → ${s[1]}`);
    expect(await page.locator(`tr[data-snapshot="${s[1]}"] .ref.tag`).textContent()).toBe('q4-close');
    expect((await main()).refs['q4-close']).toEqual({ snapshotId: BigInt(s[1]!), type: 'tag' });

    // Roll main back to the third commit (the delete).
    await (await menuFor(s[2]!)).getByRole('menuitem', { name: 'Roll back main to here' }).click();
    await expect.poll(notice, { timeout: 30_000 }).toBe(`main rolled back to ${s[2]} (was ${s[5]})`);
    expect(await page.locator(`tr[data-snapshot="${s[2]}"] .ref.branch`).textContent()).toBe('main');
    expect((await main()).currentSnapshotId).toBe(BigInt(s[2]!));
    // The grid reads the new current version (its live rows, as the reference reader counts them).
    const live = async () => `${await countRows(createLocalStorage(), join(lake, 'demo', 'orders'))} rows`;
    expect(await live()).not.toBe(await countRows(createLocalStorage(), join(lake, 'demo', 'orders'), { snapshotId: BigInt(s[5]!) }).then((n) => `${n} rows`));
    await expect.poll(async () => (await page.locator('.grid-status').first().textContent())?.split(' · ')[0], { timeout: 30_000 }).toBe(await live());

    // The compaction (6th) is not an append and main is not at its parent: refused, said why.
    await (await menuFor(s[5]!)).getByRole('menuitem', { name: 'Cherry-pick onto main' }).click();
    await expect.poll(async () => page.getByRole('menu').getByRole('alert').textContent(), { timeout: 30_000 }).toMatch(/^Unsupported: cherry-pick: snapshot \d+ of .* is a replace snapshot, and branch main is not at its parent/);
    await page.keyboard.press('Escape');
    // The 4th commit's parent is main's head: a fast-forward.
    await (await menuFor(s[3]!)).getByRole('menuitem', { name: 'Cherry-pick onto main' }).click();
    await expect.poll(notice, { timeout: 30_000 }).toBe(`cherry-picked onto main: main → ${s[3]} (fast-forward)`);
    expect((await main()).currentSnapshotId).toBe(BigInt(s[3]!));

    // Delete the tag from its snapshot's menu.
    await (await menuFor(s[1]!)).getByRole('menuitem', { name: 'Delete tag q4-close' }).click();
    await expect.poll(notice, { timeout: 30_000 }).toBe('tag q4-close removed');
    expect(await page.locator('.ref.tag').count()).toBe(0);
    await expect.poll(async () => (await page.locator('.grid-status').first().textContent())?.split(' · ')[0], { timeout: 30_000 }).toBe(await live());
    await page.screenshot({ path: join(SHOTS, 'timeline-after-refs.png') });
  });
});
