import { describe, expect, it } from 'vitest';
import { computeColumnWindow, computeRowWindow, leadColumnsInView, MAX_SPACER_PX, scrollTopFor, type WindowInput } from '../../renderer/src/lib/row-window';

const base: WindowInput = { totalRows: 1000, rowHeight: 26, viewportPx: 480, headerPx: 64, scrollTop: 0, overscan: 20 };

describe('grid row window', () => {
  it('small tables: rows at i × height, the window follows the scroll position', () => {
    const w = computeRowWindow(base);
    expect(w.spacerPx).toBe(26_000);
    expect([w.first, w.last]).toEqual([0, 16 + 20]); // (480 − 64) / 26 = 16 rows visible
    expect(w.topOf(10)).toBe(260);
    const s = computeRowWindow({ ...base, scrollTop: 26 * 500 });
    expect([s.first, s.last]).toEqual([480, 536]);
  });

  it('10M rows: the spacer is capped, the whole range stays reachable, the top row sits below the header', () => {
    const big = { ...base, totalRows: 10_000_000 };
    const top = computeRowWindow(big);
    expect(top.spacerPx).toBe(MAX_SPACER_PX);
    expect(top.first).toBe(0);
    const maxScroll = MAX_SPACER_PX + big.headerPx - big.viewportPx;
    const end = computeRowWindow({ ...big, scrollTop: maxScroll });
    expect(end.last).toBe(9_999_999);
    // The last row ends exactly at the bottom of the spacer (the bottom of the viewport).
    expect(end.topOf(9_999_999) + 26).toBeCloseTo(MAX_SPACER_PX, 6);
    const mid = computeRowWindow({ ...big, scrollTop: maxScroll / 2 });
    const midTop = Math.floor((10_000_000 - 16) / 2);
    expect(mid.first).toBe(midTop - 20);
    expect(mid.topOf(midTop)).toBeCloseTo(maxScroll / 2, 6);
  });

  it('scrolls a row into view only when it is outside the window', () => {
    expect(scrollTopFor(base, 5)).toBe(0);
    expect(scrollTopFor(base, 100)).toBe((100 + 1 - 16) * 26);
    expect(scrollTopFor({ ...base, scrollTop: 26 * 50 }, 10)).toBe(260);
    const big = { ...base, totalRows: 10_000_000 };
    const at = scrollTopFor(big, 9_999_999);
    expect(computeRowWindow({ ...big, scrollTop: at }).last).toBe(9_999_999);
  });
});

describe('grid column window', () => {
  const widths = Array.from({ length: 30 }, () => 160);
  it('renders the columns the viewport shows plus the overscan, with the width of those before', () => {
    // Row numbers 48 px, then 160 px columns: x in [48 + 160 i, 48 + 160 (i + 1)).
    expect(computeColumnWindow(widths, 0, 1000, 48, 0)).toEqual({ first: 0, last: 5, leftPx: 0 });
    expect(computeColumnWindow(widths, 0, 1000, 48, 320)).toEqual({ first: 0, last: 7, leftPx: 0 });
    // Scrolled by 1000 px: [1000, 2000) shows columns 5 (ends at 1008) to 12 (starts at 1968).
    expect(computeColumnWindow(widths, 1000, 1000, 48, 0)).toEqual({ first: 5, last: 12, leftPx: 800 });
    expect(computeColumnWindow(widths, 1000, 1000, 48, 320)).toEqual({ first: 3, last: 14, leftPx: 480 });
    // The right end: the last column is in.
    expect(computeColumnWindow(widths, 48 + 30 * 160 - 1000, 1000, 48, 0).last).toBe(29);
  });

  it('the first page asks for the columns the first render shows', () => {
    // 1400 px window: columns starting before 1400 + 320 px (48 + 160 i < 1720: i ≤ 10).
    expect(leadColumnsInView(1400)).toBe(11);
    expect(computeColumnWindow(widths, 0, 1400, 48, 320).last + 1).toBeLessThanOrEqual(leadColumnsInView(1400));
    expect(leadColumnsInView(0)).toBe(2);
  });

  it('follows resized columns, and renders everything when the viewport is unknown', () => {
    const mixed = [100, 500, 60, 60, 400];
    // Columns at [48, 148), [148, 648), [648, 708), [708, 768), [768, 1168).
    expect(computeColumnWindow(mixed, 700, 100, 48, 0)).toEqual({ first: 2, last: 4, leftPx: 600 });
    expect(computeColumnWindow(mixed, 600, 100, 48, 0)).toEqual({ first: 1, last: 2, leftPx: 100 });
    expect(computeColumnWindow(mixed, 770, 100, 48, 0)).toEqual({ first: 4, last: 4, leftPx: 720 });
    expect(computeColumnWindow(widths, 500, 0, 48, 0)).toEqual({ first: 0, last: 29, leftPx: 0 });
    expect(computeColumnWindow([], 0, 1000, 48, 0)).toEqual({ first: 0, last: -1, leftPx: 0 });
  });
});
