import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { measureExplorerInBrowser } from '../../bench/explorer-browser';
import { ensureExplorerTable, liveRowsOf } from '../../bench/explorer-scale';
import { REPO_ROOT } from '../support/fixtures';

/**
 * Issue 24's table in the real renderer: 3M rows × 30 columns (10 long, 10 string, 5 double, 5
 * timestamp; 30 appends of 100k rows, then 150k keys deleted by equality deletes), opened in
 * headless Chromium: no page crash, the exact count, a deep page, a filter and a sort, all with
 * their values asserted; the timings (the issue's goal: first rows < 1 s) are printed and saved to
 * test-results/explorer-scale.json. The goal itself is met, or not, in the bench (`explorer-browser`
 * and `explorer-scale`), beside its limit: a timed assertion here would measure the CI machine.
 *
 * The table is written once (a child process, ~80 s of CPU) into .tidemark-tmp/ and reused by
 * later runs; the explorer-scale bench's lake of the same size is used instead when present.
 * TIDEMARK_E2E_SCALE_ROWS changes the size; the 10M-row run is the `explorer-browser` bench.
 */
const ROWS = Number(process.env.TIDEMARK_E2E_SCALE_ROWS ?? 3_000_000);
let table: { root: string; generatedS: number | null };

beforeAll(() => {
  table = ensureExplorerTable(ROWS);
}, 1_800_000);

describe(`explorer at ${ROWS.toLocaleString('en-US')} rows × 30 columns in Chromium`, () => {
  it('shows the first rows, counts exactly, pages deep, filters and sorts without a crash (timings printed)', async () => {
    await mkdir(join(REPO_ROOT, 'test-results'), { recursive: true });
    const live = liveRowsOf(ROWS);
    let largest = ROWS - 1;
    while (largest % 20 === 7) largest--;
    const f = await measureExplorerInBrowser(table.root, live, largest, join(REPO_ROOT, 'test-results', 'explorer-scale.png'));
    console.log(`explorer at scale: ${JSON.stringify({ ...f, tableGeneratedS: table.generatedS, goal: 'first rows < 1000 ms, no crash' })}`);
    await writeFile(join(REPO_ROOT, 'test-results', 'explorer-scale.json'), `${JSON.stringify({ ...f, tableGeneratedS: table.generatedS }, null, 2)}\n`);
    expect(f.crashed).toBe(false);
    expect(f.columns).toBe(30);
    // A first row (the newest file's first live id) and, sorted descending, the largest live id.
    expect(f.firstRowText).toMatch(/^\d+$/);
    // Ten ids filtered, one of them (…7) deleted.
    expect(f.filteredStatus).toMatch(/^9 rows/);
    expect(f.sortedFirstId).toBe(String(largest));
    expect(f.deepFirstRow).toBeGreaterThan(live * 0.5);
    expect(f.firstRowsMs).toBeGreaterThan(0);
  }, 900_000);
});
