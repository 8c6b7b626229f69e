import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser';
import { REPO_ROOT, FIXTURES } from '../support/fixtures';
import { startServe, type ServeProcess } from '../support/serve';

const SHOTS = join(REPO_ROOT, 'test-results');
let browser: Browser;
let serve: ServeProcess;

beforeAll(async () => {
  await mkdir(SHOTS, { recursive: true });
  serve = await startServe([`${FIXTURES}/iceberg`]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
});

describe('browser mode', () => {
  it('renders the app with the warehouse given on the command line', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(serve.url);
    // The token was traded for a cookie and removed from the address bar.
    expect(page.url()).not.toContain('token=');
    await expect.poll(() => page.locator('[data-testid="version"]').textContent()).toBe('v0.1.0 · browser');
    const tree = page.getByRole('navigation', { name: 'Tables' });
    await tree.getByText('java_bunnies').waitFor();
    expect(await tree.locator('h3').allTextContents()).toEqual(['duckdb-iceberg', 'icebird']);
    expect(await tree.locator('li').count()).toBeGreaterThanOrEqual(18);
    expect(await page.locator('.content .hint').textContent()).toMatch(/^\d+ tables in this warehouse/);
    await page.screenshot({ path: join(SHOTS, 'browser-mode-warehouse.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows a typed error for a missing folder and the empty state without a warehouse', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(serve.url);
    await page.locator('#warehouse-path').fill('/nonexistent/lake');
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('NotFound: warehouse folder not found: /nonexistent/lake');
    await page.screenshot({ path: join(SHOTS, 'browser-mode-error.png') });
  });

  it('npm start without the Electron binary says so in one line and starts browser mode', async () => {
    const started = await startServe([`${FIXTURES}/iceberg`], 'start');
    try {
      const output = started.output;
      expect(output).toContain('Electron binary not installed (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1?): starting browser mode instead.\n');
      expect(output).toMatch(/Tidemark is running in browser mode: http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      const page = await browser.newPage();
      await page.goto(started.url);
      await expect.poll(() => page.locator('[data-testid="version"]').textContent()).toBe('v0.1.0 · browser');
      await page.close();
    } finally {
      await started.stop();
    }
  });

  it('refuses the page without the token', async () => {
    const page = await browser.newPage();
    const res = await page.goto(serve.url.replace(/\?token=.*$/, ''));
    expect(res?.status()).toBe(401);
  });
});
