import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3_WAREHOUSE, startRemoteLake, type RemoteLake } from '../catalog/remote-lake';
import { launchChromium } from '../support/browser';
import { REPO_ROOT } from '../support/fixtures';
import { startServe, type ServeProcess } from '../support/serve';

// The explorer (browser mode, real renderer in Chromium) opens the demo lake in s3rver through a
// saved profile whose secret is an environment reference, and diffs two snapshots. The page only
// ever asks the server for /~remote/<id> paths: no endpoint and no secret reach it.
const SHOTS = join(REPO_ROOT, 'test-results');
const SECRET = 'e2e-s3-secret-0b5d93';
const SESSION = 'e2e-session-token-77c1';
const OAUTH_SECRET = 'e2e-oauth-secret-4e2a';
let lake: RemoteLake;
let home: string;
let serve: ServeProcess;
let browser: Browser;
let page: Page;
const requests: string[] = [];

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  lake = await startRemoteLake({ oauthClients: { 'e2e-client': OAUTH_SECRET } });
  home = await mkdtemp(join(tmpdir(), 'tidemark-e2e-remote-'));
  serve = await startServe(['--no-demo'], 'serve', { TIDEMARK_HOME: home, TIDEMARK_E2E_S3_SECRET: SECRET, TIDEMARK_E2E_CATALOG_TOKEN: lake.catalog.token, TIDEMARK_E2E_S3_SESSION: SESSION, TIDEMARK_E2E_OAUTH: `e2e-client:${OAUTH_SECRET}` });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.context().on('request', (r) => {
    const u = new URL(r.url());
    requests.push(decodeURIComponent(u.pathname + u.search));
  });
  await page.goto(serve.url);
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  await lake?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('explorer on a remote lake (browser mode)', () => {
  it('saves a profile whose secret is env:NAME, and refuses a literal secret', async () => {
    await page.getByText('Connection profiles').click();
    const form = page.getByRole('form', { name: 'Save a profile' });
    await form.getByLabel('Name').fill('lake');
    await form.getByLabel('S3 endpoint').fill(lake.proxy.endpoint);
    await form.getByLabel('Region').fill('us-east-1');
    await form.getByLabel('Path-style addressing').check();
    await form.getByLabel('Access key id').fill('S3RVER');
    await form.getByLabel('Secret access key').fill(SECRET);
    await form.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => page.locator('.profiles .error').textContent()).toContain('browser mode keeps no secrets');
    expect(await form.getByLabel('Secret access key').inputValue()).toBe('');
    await form.getByLabel('Secret access key').fill('env:TIDEMARK_E2E_S3_SECRET');
    await form.getByRole('button', { name: 'Save profile' }).click();
    const saved = page.getByRole('list', { name: 'Saved profiles' });
    await expect.poll(() => saved.textContent()).toContain('secret: env:TIDEMARK_E2E_S3_SECRET');
    expect(await readFile(join(home, 'profiles.json'), 'utf8')).not.toContain(SECRET);
  });

  it('opens s3://lake/wh with the profile, shows the timeline and diffs two snapshots', async () => {
    await page.locator('#warehouse-path').fill(S3_WAREHOUSE);
    await page.getByLabel('Connection profile').selectOption('lake');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('navigation', { name: 'Tables' }).getByText('orders').click();
    await expect.poll(() => page.locator('.grid-status').first().textContent()).toMatch(/^\d+ rows/);
    expect(await page.locator('.timeline-list tbody tr').count()).toBe(6);
    await page.screenshot({ path: join(SHOTS, 'remote-lake-data.png') });
    await page.getByRole('tab', { name: 'Changes' }).click();
    const options = page.getByLabel('Diff from').locator('option');
    await page.getByLabel('Diff from').selectOption((await options.nth(0).getAttribute('value'))!);
    await page.getByLabel('Diff to').selectOption((await options.nth(1).getAttribute('value'))!);
    await expect.poll(() => page.getByTestId('diff-counts').textContent()).toMatch(/\+\d+ added · −\d+ removed · ~\d+ changed/);
    await page.screenshot({ path: join(SHOTS, 'remote-lake-changes.png') });
    // The page read the lake through the file route by lake id; the signed requests went to S3 from the server.
    expect(requests.some((r) => r.startsWith('/fs/read?path=/~remote/1/demo/orders/data/'))).toBe(true);
    expect(lake.proxy.requests.some((r) => r.url.includes('/lake/wh/demo/orders/data/'))).toBe(true);
    for (const r of requests) {
      expect(r).not.toContain(SECRET);
      expect(r).not.toContain(lake.proxy.endpoint);
    }
    expect(serve.output).not.toContain(SECRET);
  });

  it('opens the REST catalog with a token profile and time-travels', async () => {
    const form = page.getByRole('form', { name: 'Save a profile' });
    await form.getByLabel('Name').fill('catalog');
    await form.getByLabel('Catalog token').fill('env:TIDEMARK_E2E_CATALOG_TOKEN');
    await form.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => page.getByRole('list', { name: 'Saved profiles' }).textContent()).toContain('catalog token: env:TIDEMARK_E2E_CATALOG_TOKEN');
    await page.locator('#warehouse-path').fill(`rest+${lake.catalog.uri}wh`);
    await page.getByLabel('Connection profile').selectOption('catalog');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    // The header names what was opened, not the lake's internal path.
    await expect.poll(() => page.locator('.warehouse-path').textContent()).toBe(`rest+${lake.catalog.uri}wh`);
    await page.getByRole('navigation', { name: 'Tables' }).getByText('orders').click();
    await expect.poll(() => page.locator('.timeline-list tbody tr').count()).toBe(6);
    await page.getByRole('tab', { name: 'Data' }).click();
    const status = () => page.locator('.grid-status').first().textContent();
    await expect.poll(status).toMatch(/^\d+ rows/);
    const current = await status();
    await page.locator('.timeline-list tbody tr').first().click();
    await expect.poll(status).not.toBe(current);
    expect(await page.getByTestId('version-label').textContent()).toMatch(/^snapshot \d+$/);
    await page.screenshot({ path: join(SHOTS, 'remote-catalog-data.png') });
    expect(requests.some((r) => r.startsWith('/fs/read?path=/~remote/2/demo/orders/'))).toBe(true);
    for (const r of requests) expect(r).not.toContain(lake.catalog.token);
  });

  it('saves an AWS session token and OAuth2 client credentials as env:NAME only; S3 gets the token, the catalog a client-credentials login', async () => {
    const form = page.getByRole('form', { name: 'Save a profile' });
    await form.getByLabel('Name').fill('session');
    await form.getByLabel('S3 endpoint').fill(lake.proxy.endpoint);
    await form.getByLabel('Region').fill('us-east-1');
    await form.getByLabel('Path-style addressing').check();
    await form.getByLabel('Access key id').fill('S3RVER');
    await form.getByLabel('Secret access key').fill('env:TIDEMARK_E2E_S3_SECRET');
    await form.getByLabel('AWS session token').fill(SESSION);
    await form.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => page.locator('.profiles .error').textContent()).toContain('browser mode keeps no secrets');
    expect(await form.getByLabel('AWS session token').inputValue()).toBe('');
    await form.getByLabel('Secret access key').fill('env:TIDEMARK_E2E_S3_SECRET');
    await form.getByLabel('AWS session token').fill('env:TIDEMARK_E2E_S3_SESSION');
    await form.getByRole('button', { name: 'Save profile' }).click();
    const saved = page.getByRole('list', { name: 'Saved profiles' });
    await expect.poll(() => saved.textContent()).toContain('session token: env:TIDEMARK_E2E_S3_SESSION');

    await form.getByLabel('Name').fill('oauth');
    await form.getByLabel('OAuth2 client credentials').fill(`e2e-client:${OAUTH_SECRET}`);
    await form.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => page.locator('.profiles .error').textContent()).toContain('browser mode keeps no secrets');
    expect(await form.getByLabel('OAuth2 client credentials').inputValue()).toBe('');
    await form.getByLabel('OAuth2 client credentials').fill('env:TIDEMARK_E2E_OAUTH');
    await form.getByRole('button', { name: 'Save profile' }).click();
    await expect.poll(() => saved.textContent()).toContain('OAuth2 client: env:TIDEMARK_E2E_OAUTH');
    const file = await readFile(join(home, 'profiles.json'), 'utf8');
    for (const secret of [SESSION, OAUTH_SECRET, SECRET]) expect(file).not.toContain(secret);

    // The session profile: every S3 request from here on is the new lake's and carries the session
    // token. The catalog lake's table shown before is closed when the new lake's listing arrives,
    // and its tables are not offered while the new lake opens (a click there would open a table
    // read with the catalog's vended keys: what this test once saw as a data read without token).
    const from = lake.proxy.requests.length;
    await page.locator('#warehouse-path').fill(S3_WAREHOUSE);
    await page.getByLabel('Connection profile').selectOption('session');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('navigation', { name: 'Tables' }).getByText('orders').click();
    await expect.poll(() => page.locator('.grid-status').first().textContent()).toMatch(/^\d+ rows/);
    expect(page.url()).toContain(`table=${encodeURIComponent('/~remote/3/demo/orders').replace(/~/g, '%7E')}`);
    const sessionReads = () => lake.proxy.requests.slice(from).filter((r) => r.url.startsWith('/lake/wh/demo/orders/') && r.headers['x-amz-security-token'] === SESSION);
    await expect.poll(() => sessionReads().length, { timeout: 15_000 }).toBeGreaterThan(0);
    const withoutToken = (since: number) => lake.proxy.requests.slice(since).filter((r) => r.headers['x-amz-security-token'] !== SESSION).map((r) => `${r.method} ${r.url}`);
    expect(withoutToken(from)).toEqual([]);
    // A reload restores the same view from the address, read with the same profile's lake.
    const reloaded = lake.proxy.requests.length;
    await page.reload();
    await expect.poll(() => page.locator('.grid-status').first().textContent()).toMatch(/^\d+ rows/);
    await expect.poll(() => lake.proxy.requests.length - reloaded).toBeGreaterThan(0);
    expect(withoutToken(reloaded)).toEqual([]);

    // The OAuth2 profile: the catalog opens with a token issued for the client credentials.
    await page.locator('#warehouse-path').fill(`rest+${lake.catalog.uri}wh`);
    await page.getByLabel('Connection profile').selectOption('oauth');
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByRole('navigation', { name: 'Tables' }).getByText('orders').click();
    await expect.poll(() => page.locator('.timeline-list tbody tr').count()).toBe(6);
    await page.screenshot({ path: join(SHOTS, 'remote-profiles.png') });
    for (const r of requests) for (const secret of [SESSION, OAUTH_SECRET, 'e2e-client:']) expect(r).not.toContain(secret);
    for (const secret of [SESSION, OAUTH_SECRET]) expect(serve.output).not.toContain(secret);
  });
});
