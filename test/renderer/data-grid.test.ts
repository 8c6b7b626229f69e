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
