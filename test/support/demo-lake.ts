/**
 * The e2e set-up shared by the tests that drive the app on the demo lake: a fresh demo warehouse in
 * a temporary folder, `tidemark serve` on it, Debian's Chromium with one page open on the `orders`
 * table, and screenshots under test-results/. `close()` undoes it all (safe after a failed open).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createDemoWarehouse } from '../../core/lake/write';
import { launchChromium } from './browser';
import { REPO_ROOT } from './fixtures';
import { startServe, type ServeProcess } from './serve';

/** Where the e2e tests save their screenshots. */
export const SHOTS = join(REPO_ROOT, 'test-results');

export interface DemoLakePage {
  /** The warehouse folder (the demo tables are under `demo/`). */
  lake: string;
  page: Page;
  /** The browser, for another page on the same server. */
  browser: Browser;
  /** The server's URL with its token (`page` was opened on it). */
  url: string;
  close(): Promise<void>;
}

export interface DemoLakeOptions {
  /** Names the temporary folder: `tidemark-e2e-<name>-…`. */
  name: string;
  viewport: { width: number; height: number };
  /** Runs on the new page before it loads the app (e.g. to record its requests). */
  onPage?: (page: Page) => void;
}

/** Opens the app in browser mode on a new demo lake, with `orders` selected. */
export async function openDemoLake(options: DemoLakeOptions): Promise<DemoLakePage> {
  await mkdir(SHOTS, { recursive: true });
  const lake = await mkdtemp(join(tmpdir(), `tidemark-e2e-${options.name}-`));
  let serve: ServeProcess | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await serve?.stop();
    await rm(lake, { recursive: true, force: true });
  };
  try {
    await createDemoWarehouse(lake, 1);
    serve = await startServe([lake]);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: options.viewport });
    options.onPage?.(page);
    await page.goto(serve.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByText('orders').click();
    return { lake, page, browser, url: serve.url, close };
  } catch (e) {
    await close();
    throw e;
  }
}
