/**
 * The explorer on a large table in headless Chromium (issue 24), as a user meets it: `tidemark
 * serve` on the table folder, the page loaded, the table clicked; then the exact count, a jump to
 * 60% of the rows, and a sort by the key (descending). Shared by the end-to-end test (3M rows,
 * test/e2e/explorer-scale.test.ts) and the `explorer-browser` bench (10M rows by default).
 *
 * Figures: page load to the table list, click to the first rows painted (goal < 1 s), click to the
 * exact count, the deep page and the sort; the page's and its workers' JS heaps (Chromium's own
 * accounting) and the RSS of every Chromium process of this browser at the end; whether a page or
 * worker crashed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/support/browser';
import { REPO_ROOT } from '../test/support/fixtures';
import { startServe } from '../test/support/serve';

export interface ExplorerBrowserFigures {
  rows: number;
  columns: number;
  pageLoadMs: number;
  firstRowsMs: number;
  /**
   * CPU time of all Chromium threads from the click to the first rows (ms; 10 ms ticks): the work
   * the first rows cost, a figure other load on the machine does not inflate as it does wall time.
   */
  firstRowsCpuMs: number;
  exactCountMs: number;
  deepPageMs: number;
  /** Filter `id >= 60% of the rows` typed in the id column's box: until its first row shows. */
  filterMs: number;
  /** The grid's status line under the filter (9 rows: one of the ten ids is deleted). */
  filteredStatus: string;
  /** Two clicks on the id header (ascending, then descending): until the largest id shows. */
  sortMs: number;
  /** JS heap used by the page and its workers (DuckDB's wasm memory is in its worker's heap). */
  jsHeapMiB: number;
  /** RSS of all Chromium processes of the browser (shared pages counted in each). */
  chromiumRssMiB: number;
  crashed: boolean;
  firstRowText: string;
  sortedFirstId: string;
  deepFirstRow: number;
}

const log = (step: string) => {
  if (process.env.TIDEMARK_E2E_VERBOSE) console.log(`explorer in browser: ${step}`);
};

/** Descendant processes of `pid` whose name is Chromium's (Linux /proc). */
function chromiumProcesses(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'))?.[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // The process ended while listed.
    }
  }
  const out: number[] = [];
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      if (/^Name:\s+(chrom|headless)/m.test(readFileSync(`/proc/${p}/status`, 'utf8'))) out.push(p);
    } catch {
      continue;
    }
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * CPU time (ms, user + system) of every thread of Chromium's processes, by "process/thread name"
 * (Linux /proc; clock ticks of 10 ms). Unlike wall time, it does not grow with the other work on a
 * shared machine: the work from a click to the first rows, wherever it runs (page, query worker,
 * DuckDB's worker, compiler threads).
 */
function chromiumThreadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of chromiumProcesses(pid)) {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        const stat = readFileSync(`/proc/${p}/task/${t}/stat`, 'utf8');
        // Fields after the parenthesized name: state is field 3, utime 14, stime 15.
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close);
        const fields = stat.slice(close + 2).split(' ');
        const ms = (Number(fields[11]) + Number(fields[12])) * 10;
        const key = `${p}/${t} ${name}`;
        out.set(key, (out.get(key) ?? 0) + ms);
      } catch {
        // The thread ended while listed.
      }
    }
  }
  return out;
}

/** CPU ms spent between two chromiumThreadCpuMs readings: the total and the busiest threads. */
function cpuBetween(before: Map<string, number>, after: Map<string, number>): { totalMs: number; top: string } {
  const delta = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0);
  delta.sort((a, b) => b[1] - a[1]);
  return { totalMs: delta.reduce((n, [, v]) => n + v, 0), top: delta.slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ') };
}

/** RSS in MiB of Chromium's processes below `pid` (Linux /proc). */
function treeRssMiB(pid: number): number {
  let kib = 0;
  for (const p of chromiumProcesses(pid)) {
    try {
      kib += Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // The process ended while listed.
    }
  }
  return Math.round(kib / 1024);
}

/** Builds the renderer when its bundle is missing (the bench runs outside `npm run test:e2e`). */
export function ensureRendererBuilt(): void {
  if (existsSync(join(REPO_ROOT, 'renderer', 'dist', 'index.html'))) return;
  const r = spawnSync('npm', ['run', 'build:renderer'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`npm run build:renderer failed (exit ${r.status})`);
}

async function firstCell(page: Page, timeout: number): Promise<string> {
  const cell = page.locator('.grid-row').first().locator('.grid-cell').first();
  await cell.waitFor({ timeout });
  const t0 = Date.now();
  for (;;) {
    const text = (await cell.textContent()) ?? '';
    if (text !== '…') return text;
    if (Date.now() - t0 > timeout) throw new Error(`the grid showed no rows within ${timeout} ms`);
    await page.waitForTimeout(5);
  }
}

async function heapMiB(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    return (metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 2 ** 20;
  } finally {
    await cdp.detach();
  }
}

/**
 * Opens the table at `root` (`rows` live rows expected, `largestId` the largest live id) in a fresh
 * Chromium and measures. `shot`: where to save a screenshot of the first rows (optional).
 */
export async function measureExplorerInBrowser(root: string, rows: number, largestId: number, shot?: string): Promise<ExplorerBrowserFigures> {
  const serve = await startServe([root, '--no-demo']);
  let browser: Browser | null = null;
  try {
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    let crashed = false;
    page.on('crash', () => (crashed = true));
    const workerHeaps: (() => Promise<number>)[] = [];
    page.on('worker', (w) => workerHeaps.push(async () => ((await w.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0).catch(() => 0)) as number) / 2 ** 20));
    if (process.env.TIDEMARK_E2E_VERBOSE) {
      // Each request's URL and time, relative to page load: where the first rows' time goes.
      const started = new Map<unknown, number>();
      page.context().on('request', (r) => started.set(r, Date.now()));
      page.context().on('requestfinished', (r) => {
        const u = new URL(r.url());
        if (u.pathname.startsWith('/api/') || u.pathname.startsWith('/fs/')) log(`${u.pathname}${u.pathname.startsWith('/fs/') ? ` ${(u.searchParams.get('path') ?? '').split('/').slice(-2).join('/')} ${r.headers()['range'] ?? ''}` : ''}: at ${(started.get(r) ?? 0) - t0} ms, took ${Date.now() - (started.get(r) ?? 0)} ms`);
      });
    }
    const t0 = Date.now();
    await page.goto(serve.url);
    const link = page.getByRole('navigation', { name: 'Tables' }).getByText(basename(root), { exact: true });
    await link.waitFor();
    const pageLoadMs = Date.now() - t0;
    // A user reads the table list before clicking: the query worker has started meanwhile.
    await page.waitForTimeout(Number(process.env.TIDEMARK_E2E_SETTLE_MS ?? 1000));
    log(`open the table at ${Date.now() - t0} ms`);
    const cpuBefore = chromiumThreadCpuMs(process.pid);
    const t1 = Date.now();
    await link.click();
    const firstRowText = await firstCell(page, 120_000);
    const firstRowsMs = Date.now() - t1;
    const firstRowsCpu = cpuBetween(cpuBefore, chromiumThreadCpuMs(process.pid));
    log(`first rows at ${Date.now() - t0} ms; CPU ${firstRowsCpu.totalMs} ms: ${firstRowsCpu.top}`);
    if (shot) await page.screenshot({ path: shot });
    const status = page.locator('.grid-status').first();
    const exact = `${rows.toLocaleString('en-US')} rows`;
    for (;;) {
      const text = (await status.textContent()) ?? '';
      if (text.startsWith(exact)) break;
      if (!text.includes('counting') && /^\d/.test(text)) throw new Error(`the grid counted ${text}, expected ${exact}`);
      if (Date.now() - t1 > 300_000) throw new Error(`no exact count within 300 s: ${text}`);
      await page.waitForTimeout(10);
    }
    const exactCountMs = Date.now() - t1;
    log('deep page');
    const columns = await page.locator('.grid-colname').count();
    // 60% down: the scroller's height is scaled above Chromium's element height cap.
    const grid = page.locator('.grid-scroller').first();
    const t2 = Date.now();
    await grid.evaluate((el) => {
      el.scrollTop = (el.scrollHeight - el.clientHeight) * 0.6;
      el.dispatchEvent(new Event('scroll'));
    });
    await firstCell(page, 120_000);
    const deepPageMs = Date.now() - t2;
    const deepFirstRow = Number((await page.locator('.grid-row').first().locator('.grid-rownum').textContent()) ?? '0');
    await grid.evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    // Ten ids from 60% of the key range: their rows are in one file, found by its statistics.
    const from = Math.floor(rows * 0.6) - (Math.floor(rows * 0.6) % 20);
    log('filter');
    const t4 = Date.now();
    await page.getByLabel('Filter id').fill(`${from}..${from + 9}`);
    for (;;) {
      const text = (await page.locator('.grid-row').first().locator('.grid-cell').first().textContent()) ?? '';
      if (text === String(from) || text === String(from + 1)) break;
      if (Date.now() - t4 > 300_000) throw new Error(`the filtered rows did not show within 300 s (first row: ${text})`);
      await page.waitForTimeout(10);
    }
    const filterMs = Date.now() - t4;
    const filteredStatus = (await status.textContent()) ?? '';
    await page.getByLabel('Filter id').fill('');
    const idHeader = page.getByRole('columnheader', { name: /^id/ });
    log('sort');
    const t3 = Date.now();
    await idHeader.getByRole('button').click();
    await idHeader.getByRole('button').click();
    // Descending by id: the first row is the largest live id.
    let sortedFirstId = '';
    for (;;) {
      sortedFirstId = (await page.locator('.grid-row').first().locator('.grid-cell').first().textContent()) ?? '';
      if (sortedFirstId === String(largestId)) break;
      if (Date.now() - t3 > 300_000) throw new Error(`the sorted rows did not show within 300 s (first row: ${sortedFirstId})`);
      await page.waitForTimeout(10);
    }
    const sortMs = Date.now() - t3;
    const heaps = [await heapMiB(page), ...(await Promise.all(workerHeaps.map((h) => h())))];
    const chromiumRssMiB = treeRssMiB(process.pid);
    return {
      rows,
      columns,
      pageLoadMs,
      firstRowsMs,
      firstRowsCpuMs: firstRowsCpu.totalMs,
      exactCountMs,
      deepPageMs,
      filterMs,
      filteredStatus,
      sortMs,
      jsHeapMiB: Math.round(heaps.reduce((a, b) => a + b, 0)),
      chromiumRssMiB,
      crashed,
      firstRowText,
      sortedFirstId,
      deepFirstRow,
    };
  } finally {
    await browser?.close();
    await serve.stop();
  }
}

/**
 * The `explorer-browser` bench: the same steps as the end-to-end test on the table of
 * TIDEMARK_BENCH_EXPLORER_ROWS rows (default 10M; the explorer-scale bench's lake when present).
 */
export async function runExplorerBrowserBench(): Promise<Record<string, number | string>[]> {
  const { ensureExplorerTable, liveRowsOf } = await import('./explorer-scale');
  const n = Number(process.env.TIDEMARK_BENCH_EXPLORER_ROWS ?? 10_000_000);
  ensureRendererBuilt();
  const table = ensureExplorerTable(n);
  let largest = n - 1;
  while (largest % 20 === 7) largest--;
  const f = await measureExplorerInBrowser(table.root, liveRowsOf(n), largest);
  return [
    {
      table: `${n / 1e6}M rows × ${f.columns} columns, 5% equality deletes (Chromium)`,
      'first rows ms (goal < 1000)': f.firstRowsMs,
      'first rows, Chromium CPU ms': f.firstRowsCpuMs,
      'exact count ms': f.exactCountMs,
      'page at 60% ms': f.deepPageMs,
      'filter 10 ids ms': f.filterMs,
      'sort by id, asc then desc ms': f.sortMs,
      'Chromium RSS MiB': f.chromiumRssMiB,
      'JS heap MiB': f.jsHeapMiB,
      crashed: String(f.crashed),
      'page load ms': f.pageLoadMs,
      ...(table.generatedS !== null ? { 'table generated s': table.generatedS } : {}),
    },
  ];
}
