/**
 * Windowing for the data grid, written here rather than taken from a virtualizer library: with
 * 10M rows @tanstack/react-virtual builds a measurement object per row (an 800 ms main-thread task
 * on every new table, measured), and no library we found handles the browser's cap on element
 * height (~33.5M px in Chromium, ~17.9M in Firefox): at 26 px a row, rows past ~1.3M could not be
 * scrolled to. Rows have one fixed height, so the visible window is arithmetic; past MAX_SPACER_PX
 * the scroll range is scaled, so the scrollbar spans the whole table at any size.
 */

/** A spacer height every browser renders. */
export const MAX_SPACER_PX = 8_000_000;

export interface WindowInput {
  totalRows: number;
  rowHeight: number;
  /** Height of the scrolling element (header rows included). */
  viewportPx: number;
  /** Height of the sticky header rows above the first data row. */
  headerPx: number;
  scrollTop: number;
  overscan: number;
}

export interface RowWindow {
  /** Height of the rows' container (the scrolled content below the header). */
  spacerPx: number;
  /** First and last row index to render (inclusive; last < first when there are no rows). */
  first: number;
  last: number;
  /** Top of row `i` inside the rows' container. */
  topOf(i: number): number;
}

function visibleRowsOf(input: WindowInput): number {
  return Math.max(1, (input.viewportPx - input.headerPx) / input.rowHeight);
}

/** The row shown right below the header for a scroll position (fractional). */
function topRowAt(input: WindowInput, scrollTop: number): number {
  const real = input.totalRows * input.rowHeight;
  if (real <= MAX_SPACER_PX) return scrollTop / input.rowHeight;
  const maxScroll = Math.max(1, MAX_SPACER_PX + input.headerPx - input.viewportPx);
  return (Math.min(scrollTop, maxScroll) / maxScroll) * Math.max(0, input.totalRows - visibleRowsOf(input));
}

export function computeRowWindow(input: WindowInput): RowWindow {
  const { totalRows, rowHeight, scrollTop, overscan } = input;
  const real = totalRows * rowHeight;
  const scaled = real > MAX_SPACER_PX;
  const top = topRowAt(input, scrollTop);
  const first = Math.max(0, Math.floor(top) - overscan);
  const last = Math.min(totalRows - 1, Math.ceil(top + visibleRowsOf(input)) + overscan);
  return {
    spacerPx: scaled ? MAX_SPACER_PX : real,
    first,
    last,
    // Scaled: rows are laid out around the scroll position, so the one at `top` sits right below
    // the header; unscaled this is simply i × rowHeight.
    topOf: scaled ? (i) => scrollTop + (i - top) * rowHeight : (i) => i * rowHeight,
  };
}

/** The scroll position that brings row `row` into view (unchanged when it is visible already). */
export function scrollTopFor(input: WindowInput, row: number): number {
  const top = topRowAt(input, input.scrollTop);
  const visible = Math.floor(visibleRowsOf(input));
  let wantTop: number;
  if (row < top) wantTop = row;
  else if (row + 1 > top + visible) wantTop = row + 1 - visible;
  else return input.scrollTop;
  const real = input.totalRows * input.rowHeight;
  if (real <= MAX_SPACER_PX) return wantTop * input.rowHeight;
  const maxScroll = Math.max(1, MAX_SPACER_PX + input.headerPx - input.viewportPx);
  return (wantTop / Math.max(1, input.totalRows - visibleRowsOf(input))) * maxScroll;
}

/** A grid column's width until resized. */
export const GRID_DEFAULT_COLUMN_WIDTH = 160;
/** Width of the grid's row number column (.grid-rownum). */
export const GRID_ROWNUM_WIDTH = 48;
/** Columns rendered beyond either edge of the grid's viewport, in pixels (a quick horizontal scroll shows no gap). */
export const GRID_COLUMN_OVERSCAN_PX = 320;

/**
 * How many leading columns the grid's first render shows in a window `widthPx` wide (the browser
 * window's width bounds the grid's): those starting within the width plus the column overscan, at
 * the default width. The first page asks for these only (query.page's leadColumns).
 */
export function leadColumnsInView(widthPx: number): number {
  return Math.max(1, Math.ceil((widthPx + GRID_COLUMN_OVERSCAN_PX - GRID_ROWNUM_WIDTH) / GRID_DEFAULT_COLUMN_WIDTH));
}

export interface ColumnWindow {
  /** First and last column index to render (inclusive; last < first when there are no columns). */
  first: number;
  last: number;
  /** Width of the columns before `first` (a gap kept so the rendered cells sit under their headers). */
  leftPx: number;
}

/**
 * The columns of a row to render for a horizontal scroll position: those overlapping the viewport
 * (`viewportPx` wide, the row number column `fixedPx` included) plus `overscanPx` either side. A wide
 * table's rows then cost a few cells each, not one per column (30 columns × 40 rows was most of the
 * grid's first paint). Headers are not windowed: they are one row. An unknown viewport
 * (`viewportPx` ≤ 0) renders every column.
 */
export function computeColumnWindow(widths: number[], scrollLeft: number, viewportPx: number, fixedPx: number, overscanPx: number): ColumnWindow {
  if (viewportPx <= 0) return { first: 0, last: widths.length - 1, leftPx: 0 };
  const from = scrollLeft - overscanPx;
  const to = scrollLeft + viewportPx + overscanPx;
  let x = fixedPx;
  let first = -1;
  let last = -1;
  let leftPx = 0;
  for (let i = 0; i < widths.length; i++) {
    const end = x + widths[i]!;
    if (end > from && x < to) {
      if (first < 0) {
        first = i;
        leftPx = x - fixedPx;
      }
      last = i;
    } else if (x >= to) break;
    x = end;
  }
  return first < 0 ? { first: 0, last: -1, leftPx: 0 } : { first, last, leftPx };
}
