import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent as ReactMouseEvent } from 'react';
import type { ColumnInfo, Wire } from '../../../core/api';
import { formatValue } from '../lib/format';
import { parseFilterText, type GridFilter } from '../lib/grid-filter';
import { computeColumnWindow, computeRowWindow, GRID_COLUMN_OVERSCAN_PX, GRID_DEFAULT_COLUMN_WIDTH, GRID_ROWNUM_WIDTH, scrollTopFor, type WindowInput } from '../lib/row-window';

export { parseFilterText, type FilterOp, type GridFilter } from '../lib/grid-filter';

export interface GridSort {
  column: string;
  desc: boolean;
}

/** Where the grid's rows come from: a window of rows by offset (sort and filter are the source's). */
export interface GridSource {
  /** Changes whenever the rows behind the grid change (version, sort, filters). */
  key: string;
  columns: Wire<ColumnInfo>[];
  /** While `totalPending`, an upper bound (records before deletes) until the exact count arrives. */
  totalRows: number;
  /** True while the exact count is still being computed: the status line says "counting…". */
  totalPending?: boolean;
  /**
   * Rows [0, GRID_PAGE_ROWS) (fewer at the end of the rows) when the call that gave the columns and
   * total asked for them too: the grid's first page is seeded with them instead of fetched. Rows
   * shorter than `columns` hold the first columns only (lib/row-window's leadColumnsInView): they show at once, and
   * the page is fetched whole after them.
   */
  firstRows?: unknown[][];
  fetch(offset: number, limit: number): Promise<unknown[][]>;
}

/** Rows per fetched page of the grid (a source's `firstRows` is its first page). */
export const GRID_PAGE_ROWS = 200;

const PAGE = GRID_PAGE_ROWS;
const ROW_HEIGHT = 26;
const DEFAULT_WIDTH = GRID_DEFAULT_COLUMN_WIDTH;
const ROWNUM_WIDTH = GRID_ROWNUM_WIDTH;
const COLUMN_OVERSCAN_PX = GRID_COLUMN_OVERSCAN_PX;

/**
 * A virtualized grid over millions of rows: only visible rows are rendered and only their pages
 * are fetched. Click a header to sort, type in the filter row to filter, drag a header edge to
 * resize, click a cell and press Ctrl/Cmd+C to copy it (arrows move the selection).
 */
export function DataGrid({
  source,
  sort,
  onSortChange,
  onFilterChange,
  onCellActivate,
  height = 480,
}: {
  source: GridSource;
  sort?: GridSort[];
  onSortChange?(sort: GridSort[]): void;
  onFilterChange?(filters: GridFilter[]): void;
  onCellActivate?(row: unknown[], column: number): void;
  height?: number;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const pages = useRef(new Map<number, unknown[][] | 'loading'>());
  const [, setTick] = useState(0);
  const [widths, setWidths] = useState<Record<string, number>>({});
  const [selected, setSelected] = useState<{ row: number; col: number } | null>(null);
  const [filterText, setFilterText] = useState<Record<string, string>>({});
  const [copied, setCopied] = useState<string | null>(null);

  useEffect(() => {
    pages.current = new Map();
    setTick((t) => t + 1);
  }, [source.key]);

  const rowsBox = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [scrollLeft, setScrollLeft] = useState(0);
  // The scroller's width; until it is laid out, the window's (the grid spans most of it), so that
  // the first render already windows the columns.
  const [viewportWidth, setViewportWidth] = useState(() => (typeof window === 'undefined' ? 0 : window.innerWidth));
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const measure = () => {
      if (el.clientWidth > 0) setViewportWidth(el.clientWidth);
    };
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const [headerPx, setHeaderPx] = useState(0);
  // The sticky header rows sit above the first data row: their height enters the window math.
  useEffect(() => setHeaderPx(rowsBox.current?.offsetTop ?? 0), [source.columns, onFilterChange]);
  useEffect(() => {
    if (scroller.current) scroller.current.scrollTop = 0;
    setScrollTop(0);
  }, [source.key]);
  const windowInput: WindowInput = { totalRows: source.totalRows, rowHeight: ROW_HEIGHT, viewportPx: height, headerPx, scrollTop, overscan: 20 };
  const rowWindow = computeRowWindow(windowInput);
  const { first, last } = rowWindow;

  // Fetch the pages that the visible rows fall in.
  useEffect(() => {
    // The page map of this source: a new key starts a new map, and a late reply for the rows of a
    // previous sort, filter or version lands in the old one, never on screen.
    const map = pages.current;
    if (source.firstRows && !Array.isArray(map.get(0))) {
      map.set(0, source.firstRows);
      setTick((t) => t + 1);
      if (source.firstRows.some((r) => r.length < source.columns.length)) {
        // Seeded with the columns in view only: the whole rows follow (after the first paint).
        source.fetch(0, PAGE).then(
          (rows) => {
            if (pages.current !== map) return;
            map.set(0, rows);
            setTick((t) => t + 1);
          },
          () => undefined, // the narrow rows stay; scrolling sideways shows placeholders
        );
      }
    }
    for (let p = Math.floor(first / PAGE); p <= Math.floor(last / PAGE); p++) {
      if (map.has(p)) continue;
      map.set(p, 'loading');
      source.fetch(p * PAGE, PAGE).then(
        (rows) => {
          if (pages.current !== map) return;
          map.set(p, rows);
          setTick((t) => t + 1);
        },
        () => map.delete(p),
      );
    }
  }, [first, last, source]);

  const rowAt = useCallback(
    (i: number): unknown[] | null => {
      const p = Math.floor(i / PAGE);
      const page = pages.current.get(p);
      if (Array.isArray(page)) return page[i % PAGE] ?? null;
      // The seeded first page shows from the first render, before the effect above files it (a
      // render of placeholders first would cost the first rows a second paint).
      if (p === 0 && source.firstRows && pages.current.get(0) === undefined) return source.firstRows[i] ?? null;
      return null;
    },
    [source],
  );

  const width = (name: string) => widths[name] ?? DEFAULT_WIDTH;
  const totalWidth = useMemo(() => source.columns.reduce((n, c) => n + (widths[c.name] ?? DEFAULT_WIDTH), ROWNUM_WIDTH), [source.columns, widths]);
  const columnWindow = useMemo(
    () => computeColumnWindow(source.columns.map((c) => widths[c.name] ?? DEFAULT_WIDTH), scrollLeft, viewportWidth, ROWNUM_WIDTH, COLUMN_OVERSCAN_PX),
    [source.columns, widths, scrollLeft, viewportWidth],
  );
  const shownColumns = source.columns.slice(columnWindow.first, columnWindow.last + 1);

  function startResize(e: ReactMouseEvent, name: string) {
    e.preventDefault();
    e.stopPropagation();
    const x0 = e.clientX;
    const w0 = width(name);
    const move = (ev: MouseEvent) => setWidths((w) => ({ ...w, [name]: Math.max(48, w0 + ev.clientX - x0) }));
    const up = () => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  }

  function toggleSort(name: string) {
    if (!onSortChange) return;
    const cur = sort?.find((s) => s.column === name);
    onSortChange(!cur ? [{ column: name, desc: false }] : !cur.desc ? [{ column: name, desc: true }] : []);
  }

  // The latest callback, so that typing (not a new callback each render) restarts the debounce.
  const filterChanged = useRef(onFilterChange);
  useEffect(() => {
    filterChanged.current = onFilterChange;
  });
  useEffect(() => {
    if (!filterChanged.current) return;
    const timer = setTimeout(() => {
      filterChanged.current?.(Object.entries(filterText).flatMap(([c, t]) => parseFilterText(c, t)));
    }, 250);
    return () => clearTimeout(timer);
  }, [filterText]);

  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // Clipboard API refused (no permission): fall back to a hidden textarea.
      const ta = document.createElement('textarea');
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setCopied(text);
    setTimeout(() => setCopied(null), 1200);
  }

  function onKeyDown(e: KeyboardEvent) {
    if (!selected) return;
    const move = (row: number, col: number) => {
      const r = Math.max(0, Math.min(source.totalRows - 1, row));
      const c = Math.max(0, Math.min(source.columns.length - 1, col));
      setSelected({ row: r, col: c });
      const el = scroller.current;
      if (el) {
        el.scrollTop = scrollTopFor(windowInput, r);
        setScrollTop(el.scrollTop);
      }
      e.preventDefault();
    };
    if ((e.ctrlKey || e.metaKey) && e.key === 'c') {
      const row = rowAt(selected.row);
      if (row) void copy(formatValue(row[selected.col]));
      e.preventDefault();
    } else if (e.key === 'ArrowDown') move(selected.row + 1, selected.col);
    else if (e.key === 'ArrowUp') move(selected.row - 1, selected.col);
    else if (e.key === 'ArrowLeft') move(selected.row, selected.col - 1);
    else if (e.key === 'ArrowRight') move(selected.row, selected.col + 1);
    else if (e.key === 'Enter' && onCellActivate) {
      const row = rowAt(selected.row);
      if (row) onCellActivate(row, selected.col);
    }
  }

  return (
    <div className="grid" role="grid" aria-rowcount={source.totalRows} aria-colcount={source.columns.length}>
      <div className="grid-scroller" ref={scroller} style={{ height }} tabIndex={0} onKeyDown={onKeyDown} onScroll={(e) => {
          setScrollTop(e.currentTarget.scrollTop);
          setScrollLeft(e.currentTarget.scrollLeft);
        }}>
        <div style={{ width: totalWidth }}>
          <div className="grid-header" role="row">
            <div className="grid-rownum">#</div>
            {source.columns.map((c) => {
              const s = sort?.find((x) => x.column === c.name);
              return (
                <div key={c.name} className="grid-hcell" style={{ width: width(c.name) }} role="columnheader" aria-sort={s ? (s.desc ? 'descending' : 'ascending') : 'none'}>
                  <button className="grid-sort" onClick={() => toggleSort(c.name)} title={`${c.name}: ${c.type} — click to sort`}>
                    <span className="grid-colname">{c.name}</span>
                    <span className="grid-coltype">{c.type}</span>
                    {s && <span className="grid-sortmark">{s.desc ? '▼' : '▲'}</span>}
                  </button>
                  <span className="grid-resize" onMouseDown={(e) => startResize(e, c.name)} aria-hidden />
                </div>
              );
            })}
          </div>
          {onFilterChange && (
            <div className="grid-filters" role="row">
              <div className="grid-rownum" />
              {source.columns.map((c) => (
                <div key={c.name} className="grid-fcell" style={{ width: width(c.name) }}>
                  <input
                    aria-label={`Filter ${c.name}`}
                    placeholder="filter: text, >= 10, 1..9, null"
                    value={filterText[c.name] ?? ''}
                    onChange={(e) => setFilterText((f) => ({ ...f, [c.name]: e.target.value }))}
                  />
                </div>
              ))}
            </div>
          )}
          <div ref={rowsBox} style={{ height: rowWindow.spacerPx, position: 'relative' }}>
            {Array.from({ length: Math.max(0, last - first + 1) }, (_, k) => first + k).map((index) => {
              const row = rowAt(index);
              return (
                <div key={index} className={`grid-row${index % 2 ? ' even' : ''}`} role="row" aria-rowindex={index + 1} style={{ transform: `translateY(${rowWindow.topOf(index)}px)`, height: ROW_HEIGHT }}>
                  <div className="grid-rownum">{index + 1}</div>
                  {columnWindow.leftPx > 0 && <div className="grid-gap" style={{ width: columnWindow.leftPx }} aria-hidden />}
                  {shownColumns.map((c, k) => {
                    const ci = columnWindow.first + k;
                    // A seeded row may hold the first columns only until its page arrives whole.
                    const has = row !== null && ci < row.length;
                    const v = has ? row[ci] : undefined;
                    const isSel = selected?.row === index && selected.col === ci;
                    return (
                      <div
                        key={c.name}
                        role="gridcell"
                        aria-colindex={ci + 1}
                        className={`grid-cell${v === null ? ' null' : ''}${isSel ? ' selected' : ''}`}
                        style={{ width: width(c.name) }}
                        onClick={() => setSelected({ row: index, col: ci })}
                        onDoubleClick={() => row && onCellActivate?.(row, ci)}
                        title={has ? formatValue(v) : ''}
                      >
                        {has ? formatValue(v) : '…'}
                      </div>
                    );
                  })}
                </div>
              );
            })}
          </div>
        </div>
      </div>
      <div className="grid-status">
        {source.totalPending ? <span data-testid="grid-counting">counting…</span> : `${source.totalRows.toLocaleString('en-US')} rows`}
        {selected && ` · row ${selected.row + 1}, ${source.columns[selected.col]?.name ?? ''}`}
        {copied !== null && <span className="copied"> · copied</span>}
      </div>
    </div>
  );
}
