// @vitest-environment happy-dom
import { act, createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { expect, it } from 'vitest';
import { DataGrid, GRID_PAGE_ROWS, type GridSource } from '../../renderer/src/components/DataGrid';

Object.assign(globalThis, { IS_REACT_ACT_ENVIRONMENT: true });

/** A source whose pages answer when told to, as a slow engine does. */
function heldSource(key: string, rows: unknown[][]) {
  const waiting: (() => void)[] = [];
  const source: GridSource = {
    key,
    columns: [{ name: 'name', type: 'Utf8' }] as GridSource['columns'],
    totalRows: rows.length,
    fetch: (offset, limit) => new Promise((resolve) => waiting.push(() => resolve(rows.slice(offset, offset + limit)))),
  };
  return { source, answer: () => act(async () => waiting.shift()!()) };
}

it('a page of the previous sort that answers late never shows in the grid', async () => {
  document.body.innerHTML = '<div id="root"></div>';
  const root = createRoot(document.getElementById('root')!);
  const byId = heldSource('[by id]', [['apple'], ['pear']]);
  const byName = heldSource('[by name desc]', [['pear'], ['apple']]);
  await act(async () => root.render(createElement(DataGrid, { source: byId.source })));
  // Sorted again before the first page arrived.
  await act(async () => root.render(createElement(DataGrid, { source: byName.source })));
  const cells = () => [...document.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent);
  expect(cells()).toEqual(['…', '…']);
  await byName.answer();
  expect(cells()).toEqual(['pear', 'apple']);
  await byId.answer();
  expect(cells()).toEqual(['pear', 'apple']);
  act(() => root.unmount());
});

it('shows the rows the header call brought at once and never fetches that page again', async () => {
  document.body.innerHTML = '<div id="root"></div>';
  const root = createRoot(document.getElementById('root')!);
  const rows = Array.from({ length: 250 }, (_x, i) => [`row ${i}`]);
  const asked: [number, number][] = [];
  const source: GridSource = {
    key: '[seeded]',
    columns: [{ name: 'name', type: 'Utf8' }] as GridSource['columns'],
    totalRows: rows.length,
    firstRows: rows.slice(0, GRID_PAGE_ROWS),
    fetch: (offset, limit) => {
      asked.push([offset, limit]);
      return Promise.resolve(rows.slice(offset, offset + limit));
    },
  };
  await act(async () => root.render(createElement(DataGrid, { source })));
  const cells = () => [...document.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent);
  expect(cells().slice(0, 3)).toEqual(['row 0', 'row 1', 'row 2']);
  expect(asked).toEqual([]);
  // The same rows under a new key without a seed (a new sort before its header arrived) are fetched.
  await act(async () => root.render(createElement(DataGrid, { source: { ...source, key: '[other]', firstRows: undefined } })));
  expect(asked).toEqual([[0, GRID_PAGE_ROWS]]);
  expect(cells().slice(0, 2)).toEqual(['row 0', 'row 1']);
  act(() => root.unmount());
});

it('paints the seeded first rows in its first render, never placeholders first', async () => {
  document.body.innerHTML = '<div id="root"></div>';
  const host = document.getElementById('root')!;
  const root = createRoot(host);
  const rows = Array.from({ length: 50 }, (_x, i) => [`row ${i}`]);
  const source: GridSource = { key: '[seeded]', columns: [{ name: 'name', type: 'Utf8' }] as GridSource['columns'], totalRows: 50, firstRows: rows, fetch: () => new Promise(() => undefined) };
  // Every text the grid's cells ever held, across all its commits.
  const texts = new Set<string>();
  const collect = (records: MutationRecord[]) => {
    for (const record of records) {
      // Records arrive after both commits: a text replaced since is in removedNodes or oldValue.
      if (record.oldValue !== null) texts.add(record.oldValue);
      for (const node of [record.target, ...record.addedNodes, ...record.removedNodes]) {
        if (node instanceof Element) for (const cell of node.querySelectorAll('[role="gridcell"]')) texts.add(cell.textContent ?? '');
        else texts.add(node.textContent ?? '');
      }
    }
  };
  const observer = new MutationObserver(collect);
  observer.observe(host, { subtree: true, childList: true, characterData: true, characterDataOldValue: true });
  await act(async () => root.render(createElement(DataGrid, { source })));
  collect(observer.takeRecords());
  observer.disconnect();
  expect(texts.has('row 0')).toBe(true);
  expect(texts.has('…')).toBe(false);
  act(() => root.unmount());
});

it('renders in each row only the columns in view, and the others as the grid scrolls sideways', async () => {
  document.body.innerHTML = '<div id="root"></div>';
  const root = createRoot(document.getElementById('root')!);
  const columns = Array.from({ length: 30 }, (_x, c) => ({ name: `c${c}`, type: 'Int64' })) as GridSource['columns'];
  const rows = Array.from({ length: 40 }, (_x, r) => columns.map((_c, c) => `${r}:${c}`));
  const source: GridSource = { key: '[wide]', columns, totalRows: 40, firstRows: rows, fetch: () => new Promise(() => undefined) };
  await act(async () => root.render(createElement(DataGrid, { source })));
  const firstRow = () => [...document.querySelector('.grid-row')!.querySelectorAll('[role="gridcell"]')].map((c) => [c.getAttribute('aria-colindex'), c.textContent]);
  // The window is 1024 px wide (happy-dom), overscan 320 px: columns starting before 1344 px.
  const shown = firstRow();
  expect(shown.length).toBeLessThan(12);
  expect(shown).toEqual(Array.from({ length: shown.length }, (_x, c) => [String(c + 1), `0:${c}`]));
  // Every header stays (one row): names, sorting and filters for every column.
  expect(document.querySelectorAll('.grid-colname')).toHaveLength(30);
  const scroller = document.querySelector('.grid-scroller')!;
  await act(async () => {
    scroller.scrollLeft = 3000;
    scroller.dispatchEvent(new Event('scroll', { bubbles: true }));
  });
  const moved = firstRow();
  expect(moved[0]).toEqual([String(moved[0]![0]), `0:${Number(moved[0]![0]) - 1}`]);
  expect(Number(moved[0]![0])).toBeGreaterThan(10);
  expect(moved.map(([, text]) => text)).toContain('0:20');
  // The cells sit under their headers: a gap as wide as the columns before them.
  expect((document.querySelector('.grid-row .grid-gap') as HTMLElement).style.width).toBe(`${(Number(moved[0]![0]) - 1) * 160}px`);
  act(() => root.unmount());
});

it('shows seeded rows of the lead columns at once, then fetches the page whole', async () => {
  document.body.innerHTML = '<div id="root"></div>';
  const root = createRoot(document.getElementById('root')!);
  const columns = [{ name: 'id', type: 'Int64' }, { name: 'name', type: 'Utf8' }, { name: 'city', type: 'Utf8' }] as GridSource['columns'];
  const rows = Array.from({ length: 30 }, (_x, i) => [String(i), `n${i}`, `c${i}`]);
  const asked: [number, number][] = [];
  let answer: () => void = () => undefined;
  const source: GridSource = {
    key: '[lead]',
    columns,
    totalRows: 30,
    firstRows: rows.map((r) => r.slice(0, 2)),
    fetch: (offset, limit) => {
      asked.push([offset, limit]);
      return new Promise((resolve) => (answer = () => resolve(rows.slice(offset, offset + limit))));
    },
  };
  await act(async () => root.render(createElement(DataGrid, { source })));
  const firstRow = () => [...document.querySelector('.grid-row')!.querySelectorAll('[role="gridcell"]')].map((c) => c.textContent);
  expect(firstRow()).toEqual(['0', 'n0', '…']);
  expect(asked).toEqual([[0, GRID_PAGE_ROWS]]);
  await act(async () => answer());
  expect(firstRow()).toEqual(['0', 'n0', 'c0']);
  act(() => root.unmount());
});
