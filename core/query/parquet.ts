/**
 * Loading Parquet files into DuckDB-wasm without DuckDB's parquet extension: parquet-wasm decodes
 * only the needed columns (and row groups) into Arrow IPC, which DuckDB ingests. The parquet-wasm
 * module is injected (the Node build in Node, `parquet-wasm/esm` after `init()` in the renderer).
 *
 * Bytes are fetched by range through the storage port: one read for the file's tail (footer), then
 * the projected column chunks of the row groups read, assembled into a small Parquet file of their
 * own (core/lake/serde/parquet-subset.ts) — in the renderer a large file is never fetched whole.
 */
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { TidemarkError } from '../errors';
import { arrowFieldId, decodeOrcDataFile, endsWithOrcPostscript } from '../lake';
import type { StoragePort } from '../storage';
import {
  buildPageSubset,
  checkChunkPages,
  columnIndexRange,
  endsWithParquetMagic,
  offsetIndexRanges,
  pageSpan,
  pagesInRange,
  parseFooter,
  planSubset,
  readFooterLength,
  type ChunkRange,
  type PageSpan,
  type ParquetFooter,
} from '../lake';

export interface ParquetApi {
  readParquet(bytes: Uint8Array, options?: { columns?: string[]; rowGroups?: number[]; batchSize?: number } | null): { intoIPCStream(): Uint8Array };
  readSchema(bytes: Uint8Array): { intoIPCStream(): Uint8Array };
  /** Present in both parquet-wasm builds; used to re-encode ORC data files (see openOrc). */
  writeParquet?(table: unknown): Uint8Array;
  Table?: { fromIPCStream(buf: Uint8Array): unknown };
}

export interface ParquetColumn {
  name: string;
  fieldId: number | null;
  /** Struct children (empty for other types). */
  children: ParquetColumn[];
}

export interface ParquetColumns {
  /** Top-level field id → column name in the file (files written elsewhere name columns freely). */
  byFieldId: Map<number, string>;
  /** Every top-level column name, in file order. */
  names: string[];
  /** The top-level columns with their struct children, for nested projection by field id. */
  tree: ParquetColumn[];
}

type ArrowFieldLike = { name: string; metadata: Map<string, string>; type: { typeId: number; children?: ArrowFieldLike[] } };

function toColumn(f: ArrowFieldLike): ParquetColumn {
  const raw = f.metadata.get('PARQUET:field_id');
  // Only struct children are walked: list and map columns are taken whole.
  const children = f.type.typeId === 13 ? (f.type.children ?? []).map(toColumn) : [];
  return { name: f.name, fieldId: raw === undefined ? null : Number(raw), children };
}

/**
 * Bytes read from the end of a file in the first request. Footers of lake files are a few KiB
 * (a 1M-row, 4-column file: 3.4 KiB), so one read usually holds the whole footer; a small file is
 * read whole by it.
 */
const TAIL_BYTES = 64 * 1024;
/** Chunks closer than this are fetched in one request (fewer round trips for a few wasted bytes). */
const COALESCE_GAP = 16 * 1024;
/** Range requests in flight per file. */
const FETCH_CONCURRENCY = 4;

function wrapNotFound(e: unknown, path: string, what: string): unknown {
  if (e instanceof TidemarkError && e.code === 'NotFound') return new TidemarkError('NotFound', `${what} not found: ${path}`, { path }, e);
  return e;
}

/** A storage port holding one file in memory (an ORC file re-encoded as Parquet). */
function memoryStorage(path: string, bytes: Uint8Array): StoragePort {
  const check = (p: string) => {
    if (p !== path) throw new TidemarkError('NotFound', `not found: ${p}`, { path: p });
  };
  return {
    readFile: async (p) => (check(p), bytes),
    readRange: async (p, offset, length) => (check(p), bytes.subarray(offset, offset + length)),
    stat: async (p) => (p === path ? { size: bytes.length, mtimeMs: 0 } : null),
    list: async (p) => {
      throw new TidemarkError('NotFound', `not a directory: ${p}`, { path: p });
    },
  };
}

/**
 * Iceberg ORC data files (core/lake/orc-read.ts) are decoded whole and re-encoded as an in-memory
 * Parquet file, so row groups, projection, statistics and pages work as for Parquet everywhere in
 * the engine. Callers cache opened files, so this happens once per file and view.
 */
async function openOrc(parquet: ParquetApi, storage: StoragePort, path: string, size: number, tail: Uint8Array, what: string): Promise<RangedParquetFile> {
  const bytes = tail.length >= size ? tail : await storage.readRange(path, 0, size);
  const table = await decodeOrcDataFile(bytes, path);
  if (!parquet.writeParquet || !parquet.Table) throw new TidemarkError('Unsupported', `${path}: reading ORC files needs a Parquet writer in this engine`, { path, feature: 'orc' });
  let encoded: Uint8Array;
  try {
    encoded = parquet.writeParquet(parquet.Table.fromIPCStream(tableToIPC(table, 'stream')));
  } catch (e) {
    throw new TidemarkError('Internal', `${path}: cannot re-encode ORC values as Parquet: ${errorText(e)}`, { path }, e);
  }
  return RangedParquetFile.open(parquet, memoryStorage(path, encoded), path, encoded.length, what);
}

/** One Parquet file opened for ranged reads: its footer is read, nothing else yet. */
export class RangedParquetFile {
  private constructor(
    private readonly parquet: ParquetApi,
    private readonly storage: StoragePort,
    private readonly what: string,
    readonly path: string,
    readonly size: number,
    /** The file's last bytes (ending with the footer); chunks inside it are not fetched again. */
    private readonly tail: Uint8Array,
    readonly footer: ParquetFooter,
    readonly columns: ParquetColumns,
  ) {}

  /**
   * Opens `path` (`size` bytes, as the manifest records it; the file is stat'ed when the footer is
   * not where that size says). NotFound names the file and `what` it is; DataInvalid says what is
   * wrong with it.
   */
  static async open(parquet: ParquetApi, storage: StoragePort, path: string, size: number, what: string): Promise<RangedParquetFile> {
    let fileSize = size;
    let tail: Uint8Array;
    let footerBytes: Uint8Array;
    try {
      const readTail = async (n: number) => storage.readRange(path, Math.max(0, n - TAIL_BYTES), Math.min(n, TAIL_BYTES));
      tail = fileSize > 0 ? await readTail(fileSize) : new Uint8Array(0);
      if (!endsWithParquetMagic(tail)) {
        // A size from elsewhere may be wrong (or the file rewritten): ask the file itself.
        const info = await storage.stat(path);
        if (!info) throw new TidemarkError('NotFound', `${what} not found: ${path}`, { path });
        if (info.size !== fileSize) {
          fileSize = info.size;
          tail = await readTail(fileSize);
        }
      }
      if (!endsWithParquetMagic(tail) && endsWithOrcPostscript(tail)) return await openOrc(parquet, storage, path, fileSize, tail, what);
      const metadataLength = readFooterLength(tail, fileSize, path, 'file');
      footerBytes = metadataLength + 8 <= tail.length ? tail.subarray(tail.length - metadataLength - 8) : await storage.readRange(path, fileSize - metadataLength - 8, metadataLength + 8);
    } catch (e) {
      throw wrapNotFound(e, path, what);
    }
    const footer = parseFooter(footerBytes.subarray(0, footerBytes.length - 8), fileSize, path);
    let fields;
    try {
      // The Arrow schema as the reader will produce it: names, struct children, field ids.
      fields = tableFromIPC(parquet.readSchema(footerBytes).intoIPCStream()).schema.fields;
    } catch (e) {
      throw new TidemarkError('DataInvalid', `${path}: cannot read the Parquet schema: ${errorText(e)}`, { path }, e);
    }
    const byFieldId = new Map<number, string>();
    for (const f of fields) {
      const id = arrowFieldId(f);
      if (id !== null) byFieldId.set(id, f.name);
    }
    const columns = { byFieldId, names: fields.map((f) => f.name), tree: fields.map((f) => toColumn(f as unknown as ArrowFieldLike)) };
    return new RangedParquetFile(parquet, storage, what, path, fileSize, tail, footer, columns);
  }

  /**
   * Decodes the given top-level columns (and row groups, default all) to Arrow IPC, in record
   * batches of `batchSize` rows (parquet-wasm's default 1024 makes a 200k-row column 196 batches,
   * which cost more to convert than to decode).
   */
  async readIpc(columns: string[], rowGroups?: number[], batchSize?: number): Promise<Uint8Array> {
    const plan = planSubset(this.footer, new Set(columns), rowGroups);
    const chunks = await this.fetch(plan.ranges);
    chunks.forEach((c, i) => checkChunkPages(c, this.path, `the column chunk at byte ${plan.ranges[i]!.start}`));
    const subset = plan.build(chunks);
    try {
      return this.parquet.readParquet(subset, batchSize ? { columns, batchSize } : { columns }).intoIPCStream();
    } catch (e) {
      throw new TidemarkError('DataInvalid', `${this.path}: cannot decode Parquet columns ${columns.join(', ')}: ${errorText(e)}`, { path: this.path }, e);
    }
  }

  /**
   * Decodes rows [from, to) of row group `rowGroup` for the given top-level columns, reading only
   * the pages that hold them where the file has an offset index (a 100-row window of a 200k-row
   * group reads one page per column, not the whole chunk). Columns whose pages span the same rows
   * decode together; each part says which rows of the group it holds (a superset of [from, to)).
   * Columns without an offset index, and nested ones, come back in `whole` for a chunk read.
   */
  async readPageIpc(columns: string[], rowGroup: number, from: number, to: number): Promise<{ parts: { columns: string[]; rowStart: number; ipc: Uint8Array }[]; whole: string[] }> {
    const indexRanges = offsetIndexRanges(this.footer, rowGroup, columns);
    const paged = columns.filter((_, i) => indexRanges[i] !== null);
    const whole = columns.filter((_, i) => indexRanges[i] === null);
    const indexes = await this.fetch(indexRanges.filter((r): r is ChunkRange => r !== null));
    const spans = paged.map((c, i) => pageSpan(this.footer, rowGroup, c, indexes[i]!, from, to));
    const groups = new Map<string, PageSpan[]>();
    for (const span of spans) {
      const key = `${span.rowStart}-${span.rowEnd}`;
      groups.set(key, [...(groups.get(key) ?? []), span]);
    }
    // One batch of requests for every group's dictionary and data pages.
    const wanted = spans.flatMap((sp) => [...(sp.dictionary ? [sp.dictionary] : []), sp.pages]);
    const fetched = await this.fetch(wanted);
    const bytesOf = new Map<PageSpan, Uint8Array>();
    let k = 0;
    for (const sp of spans) {
      const dict = sp.dictionary ? fetched[k++]! : new Uint8Array(0);
      const pages = fetched[k++]!;
      const joined = new Uint8Array(dict.length + pages.length);
      joined.set(dict, 0);
      joined.set(pages, dict.length);
      checkChunkPages(joined, this.path, `the pages of column ${sp.column} at byte ${sp.pages.start}`);
      bytesOf.set(sp, joined);
    }
    const parts = [...groups.values()].map((group) => {
      const names = group.map((g) => g.column);
      const subset = buildPageSubset(this.footer, rowGroup, group, group.map((g) => bytesOf.get(g)!));
      try {
        return { columns: names, rowStart: group[0]!.rowStart, ipc: this.parquet.readParquet(subset, { columns: names }).intoIPCStream() };
      } catch (e) {
        throw new TidemarkError('DataInvalid', `${this.path}: cannot decode the pages of Parquet columns ${names.join(', ')}: ${errorText(e)}`, { path: this.path }, e);
      }
    });
    return { parts, whole };
  }

  /**
   * Rows [rowStart, rowEnd) of row group `rowGroup` whose pages of an integer column may hold a
   * value in [lo, hi], by the file's page index (usually inside the tail already read); null when
   * the column has no page index (read it whole).
   */
  async pagesInRange(rowGroup: number, column: string, lo: number, hi: number): Promise<{ rowStart: number; rowEnd: number }[] | null> {
    const ci = columnIndexRange(this.footer, rowGroup, column);
    const oi = offsetIndexRanges(this.footer, rowGroup, [column])[0] ?? null;
    if (!ci || !oi) return null;
    const [columnIndex, offsetIndex] = await this.fetch([ci, oi]);
    return pagesInRange(this.footer, rowGroup, column, columnIndex!, offsetIndex!, lo, hi);
  }

  /** The bytes of each range (same order), in as few requests as nearby ranges allow. */
  private async fetch(ranges: ChunkRange[]): Promise<Uint8Array[]> {
    const tailStart = this.size - this.tail.length;
    const out: Uint8Array[] = new Array<Uint8Array>(ranges.length);
    const order = ranges.map((r, i) => ({ ...r, i })).sort((a, b) => a.start - b.start);
    const spans: { start: number; end: number; members: typeof order }[] = [];
    for (const r of order) {
      if (r.start >= tailStart) {
        out[r.i] = this.tail.subarray(r.start - tailStart, r.start - tailStart + r.length);
        continue;
      }
      const last = spans[spans.length - 1];
      if (last && r.start - last.end <= COALESCE_GAP) {
        last.end = Math.max(last.end, r.start + r.length);
        last.members.push(r);
      } else spans.push({ start: r.start, end: r.start + r.length, members: [r] });
    }
    if (spans.length > 1 && this.storage.readRanges) {
      // Remote storage: every span in one request (a page of 30 columns is 30 spans, far apart).
      let parts: Uint8Array[];
      try {
        parts = await this.storage.readRanges(this.path, spans.map((sp) => ({ offset: sp.start, length: sp.end - sp.start })));
      } catch (e) {
        throw wrapNotFound(e, this.path, this.what);
      }
      spans.forEach((span, k) => {
        for (const m of span.members) out[m.i] = parts[k]!.subarray(m.start - span.start, m.start - span.start + m.length);
      });
      return out;
    }
    let nextSpan = 0;
    const worker = async () => {
      while (nextSpan < spans.length) {
        const span = spans[nextSpan++]!;
        let bytes: Uint8Array;
        try {
          bytes = await this.storage.readRange(this.path, span.start, span.end - span.start);
        } catch (e) {
          throw wrapNotFound(e, this.path, this.what);
        }
        for (const m of span.members) out[m.i] = bytes.subarray(m.start - span.start, m.start - span.start + m.length);
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, spans.length) }, worker));
    return out;
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
