/**
 * Decoded row groups, one column at a time, shared by every version of every table an engine
 * reads: a data file that two snapshots share is fetched and decoded once, and the key columns a
 * count reads serve the grid's pages too. Bytes come by ranged reads (RangedParquetFile: the
 * footer, then only the chunks of the asked columns and row group); parquet-wasm decodes them.
 * Browser-safe.
 */
import { tableFromIPC, type Data } from 'apache-arrow';
import { RangedParquetFile, type ParquetApi } from '../parquet';
import type { StoragePort } from '../../storage';

/** Default bound on the bytes of decoded columns kept (Arrow buffers). */
export const DEFAULT_ROW_GROUP_CACHE_BYTES = 256 * 1024 * 1024;
/** Rows per decoded Arrow batch: few batches per row group, so per-batch costs vanish. */
const BATCH_ROWS = 1 << 20;
/** Opened files (footers) kept; a footer is a few KiB. */
const MAX_OPEN_FILES = 4096;

/** One decoded column of (part of) one row group: Arrow chunks in row order from row `rowStart`. */
export interface ColumnChunks {
  chunks: Data[];
  bytes: number;
  /** The row of the row group that the first chunk starts at (0 for a whole chunk read). */
  rowStart: number;
}

export interface RowGroupCacheStats {
  /** Column chunks decoded (each a ranged read + decode). */
  decoded: number;
  /** Column chunks served from memory. */
  hits: number;
  /** Bytes of decoded columns held now. */
  bytes: number;
}

export class RowGroupCache {
  private readonly files = new Map<string, Promise<RangedParquetFile>>();
  private readonly columns = new Map<string, Promise<ColumnChunks>>();
  /** Settled entries' sizes, by key (in-flight reads are not counted and never evicted). */
  private readonly sizes = new Map<string, number>();
  private held = 0;
  /** Page reads by file, row group and column: the rows each covers (asked, then as read). */
  private readonly pageReads = new Map<string, { key: string; from: number; to: number }[]>();
  readonly stats: RowGroupCacheStats = { decoded: 0, hits: 0, bytes: 0 };

  constructor(
    private readonly parquet: ParquetApi,
    readonly storage: StoragePort,
    private readonly maxBytes = DEFAULT_ROW_GROUP_CACHE_BYTES,
  ) {}

  /** The file with its footer read (cached per path and size). `what` names it in errors. */
  open(path: string, size: number, what: string): Promise<RangedParquetFile> {
    const key = `${path}\u0000${size}`;
    let p = this.files.get(key);
    if (p) {
      this.files.delete(key);
      this.files.set(key, p);
      return p;
    }
    p = RangedParquetFile.open(this.parquet, this.storage, path, size, what);
    this.files.set(key, p);
    p.catch(() => this.files.delete(key));
    if (this.files.size > MAX_OPEN_FILES) this.files.delete(this.files.keys().next().value!);
    return p;
  }

  /**
   * The named top-level columns (names in the file) of row group `rowGroup`, decoded; the ones not
   * held yet are read together in one ranged read and decode.
   */
  async read(file: RangedParquetFile, rowGroup: number, names: string[]): Promise<Map<string, ColumnChunks>> {
    const keyOf = (name: string) => `${file.path}\u0000${file.size}\u0000${rowGroup}\u0000${name}`;
    const missing = names.filter((n) => !this.columns.has(keyOf(n)));
    if (missing.length > 0) {
      const batch = (async () => {
        const table = tableFromIPC(await file.readIpc(missing, [rowGroup], BATCH_ROWS));
        this.stats.decoded += missing.length;
        return new Map(
          missing.map((name) => {
            const chunks: Data[] = [...(table.getChild(name)?.data ?? [])];
            return [name, { chunks, bytes: chunks.reduce((n, d) => n + d.byteLength, 0), rowStart: 0 }] as const;
          }),
        );
      })();
      for (const name of missing) {
        const key = keyOf(name);
        const p = batch.then((m) => m.get(name)!);
        this.columns.set(key, p);
        p.then(
          (c) => this.settle(key, c.bytes),
          () => this.columns.delete(key),
        );
      }
    }
    this.stats.hits += names.length - missing.length;
    // Take every promise before the first await: settling one read may evict another entry.
    const pending = names.map((name) => {
      const key = keyOf(name);
      const p = this.columns.get(key)!;
      // Most recently used last: Map order is the eviction order.
      this.columns.delete(key);
      this.columns.set(key, p);
      return [name, p] as const;
    });
    const out = new Map<string, ColumnChunks>();
    for (const [name, p] of pending) out.set(name, await p);
    return out;
  }

  /**
   * Rows [from, to) (at least) of the named columns of row group `rowGroup`: a column held whole is
   * served from memory; the others are read page by page where the file allows (readPageIpc), else
   * whole. Page reads are cached by the rows asked for (a page shown again costs nothing).
   */
  async readRows(file: RangedParquetFile, rowGroup: number, names: string[], from: number, to: number): Promise<Map<string, ColumnChunks>> {
    const base = `${file.path}\u0000${file.size}\u0000${rowGroup}\u0000`;
    const pageKey = (name: string) => `${base}${name}\u0000${from}-${to}`;
    // A page read of other rows that covers these serves too (a page is read once whatever rows
    // of it are asked: the first page's key column, then the same page for the window's rows).
    const covering = (name: string) => {
      const reads = this.pageReads.get(`${base}${name}`);
      if (!reads) return undefined;
      const live = reads.filter((r) => this.columns.has(r.key));
      if (live.length < reads.length) this.pageReads.set(`${base}${name}`, live);
      const hit = live.find((r) => r.from <= from && to <= r.to);
      return hit && this.columns.get(hit.key);
    };
    const held = (name: string) => this.columns.get(`${base}${name}`) ?? this.columns.get(pageKey(name)) ?? covering(name);
    const missing = names.filter((n) => !held(n));
    if (missing.length > 0) {
      const batch = (async () => {
        const { parts, whole } = await file.readPageIpc(missing, rowGroup, from, to);
        const out = new Map<string, ColumnChunks>();
        for (const part of parts) {
          const table = tableFromIPC(part.ipc);
          for (const name of part.columns) {
            const chunks: Data[] = [...(table.getChild(name)?.data ?? [])];
            out.set(name, { chunks, bytes: chunks.reduce((n, d) => n + d.byteLength, 0), rowStart: part.rowStart });
          }
        }
        this.stats.decoded += parts.reduce((n, p) => n + p.columns.length, 0);
        if (whole.length > 0) for (const [name, c] of await this.read(file, rowGroup, whole)) out.set(name, c);
        return out;
      })();
      for (const name of missing) {
        const key = pageKey(name);
        const p = batch.then((m) => m.get(name)!);
        this.columns.set(key, p);
        const read = { key, from, to };
        const reads = this.pageReads.get(`${base}${name}`) ?? [];
        reads.push(read);
        this.pageReads.set(`${base}${name}`, reads);
        p.then(
          (c) => {
            // Settled: it covers the rows of the pages read, a superset of those asked.
            read.from = c.rowStart;
            read.to = c.rowStart + c.chunks.reduce((n, d) => n + d.length, 0);
            this.settle(key, c.bytes);
          },
          () => this.columns.delete(key),
        );
      }
    }
    this.stats.hits += names.length - missing.length;
    // Take every promise before the first await: settling one read may evict another entry.
    const pending = names.map((name) => [name, held(name)!] as const);
    const out = new Map<string, ColumnChunks>();
    for (const [name, p] of pending) out.set(name, await p);
    return out;
  }

  private settle(key: string, bytes: number) {
    if (!this.columns.has(key) || this.sizes.has(key)) return;
    this.sizes.set(key, bytes);
    this.held += bytes;
    // Evict the least recently used settled columns beyond the bound (a page being built holds
    // its own references, so dropping an entry here never breaks a read in progress).
    for (const k of this.columns.keys()) {
      if (this.held <= this.maxBytes) break;
      const size = this.sizes.get(k);
      if (size === undefined || k === key) continue;
      this.columns.delete(k);
      this.sizes.delete(k);
      this.held -= size;
    }
    this.stats.bytes = this.held;
  }
}

/** Arrow chunks covering rows [from, to) of a column chunk list, counted from its first chunk (callers subtract `rowStart` for row-group rows). */
export function sliceChunks(column: ColumnChunks, from: number, to: number): Data[] {
  const out: Data[] = [];
  let at = 0;
  for (const d of column.chunks) {
    const end = at + d.length;
    if (end > from && at < to) {
      const a = Math.max(from, at) - at;
      const b = Math.min(to, end) - at;
      out.push(a === 0 && b === d.length ? d : d.slice(a, b - a));
    }
    at = end;
    if (at >= to) break;
  }
  return out;
}
