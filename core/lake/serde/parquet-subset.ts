/**
 * A Parquet file cut down to one read's needs: the projected top-level columns of the selected row
 * groups, as a small self-contained Parquet file (their column chunks copied back to back, the
 * footer rewritten to match). Why: parquet-wasm's synchronous reader decodes every column chunk of
 * a row group whatever the projection (measured: a file whose other columns are zeroed fails), and
 * its async reader, which does fetch by column, turns any decode error into a wasm panic that kills
 * the thread (fuzzing found it at once). With the subset, the bytes of other columns and row groups
 * are never fetched nor copied into wasm memory, and the safe synchronous reader does the decoding.
 *
 * Field ids below are parquet.thrift's (FileMetaData, SchemaElement, RowGroup, ColumnChunk,
 * ColumnMetaData, Statistics, KeyValue).
 */
import { TidemarkError } from '../../errors';
import { concatBytes } from '../values';
import { decodeStruct, decodeStructPrefix, encodeStruct, field, removeField, setField, T, type TList, type TStruct, type TValue } from './thrift-compact';

/** Parquet physical types (parquet.thrift `Type`). */
export const PHYSICAL = { INT32: 1, INT64: 2 } as const;

export interface ChunkRange {
  /** Byte offset of the column chunk in the file (its dictionary page, else its first data page). */
  start: number;
  length: number;
}

export interface ParquetFooter {
  path: string;
  /** The decoded FileMetaData. */
  meta: TStruct;
  /**
   * Top-level columns in file order, with the leaf columns they span; a timestamp column's unit
   * (its logical type, or its converted type), null for any other.
   */
  columns: { name: string; firstLeaf: number; leaves: number; physicalType: number | null; timeUnit: TimeUnit | null }[];
  rowGroups: { numRows: number; chunks: TStruct[]; ranges: ChunkRange[] }[];
}

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** Whether `tail` (a file's last bytes) ends with Parquet's magic. */
export function endsWithParquetMagic(tail: Uint8Array): boolean {
  if (tail.length < 12) return false;
  return new DataView(tail.buffer, tail.byteOffset, tail.byteLength).getUint32(tail.length - 4, true) === 0x31524150;
}

/**
 * The length of the footer metadata that `tail` (the last bytes of a file of `fileSize` bytes) ends
 * with; DataInvalid naming the file when there is no Parquet footer or its length exceeds the file.
 * `what` names the file's role ("file", "data file").
 */
export function readFooterLength(tail: Uint8Array, fileSize: number, path: string, what: string): number {
  if (!endsWithParquetMagic(tail)) throw new TidemarkError('DataInvalid', `${path}: expected a Parquet ${what} (ending with PAR1), found ${fileSize} bytes without that footer`, { path });
  const length = new DataView(tail.buffer, tail.byteOffset, tail.byteLength).getUint32(tail.length - 8, true);
  if (length + 12 > fileSize) throw new TidemarkError('DataInvalid', `${path}: Parquet footer length ${length} exceeds the file (${fileSize} bytes)`, { path });
  return length;
}
const text = new TextDecoder();

function bad(path: string, what: string): never {
  throw new TidemarkError('DataInvalid', `${path}: corrupt Parquet footer: ${what}`, { path });
}

function asStruct(v: TValue | undefined): TStruct | undefined {
  return v && typeof v === 'object' && 'fields' in v ? v : undefined;
}
function asList(v: TValue | undefined): TList | undefined {
  return v && typeof v === 'object' && 'items' in v ? v : undefined;
}
function asInt(v: TValue | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}

/**
 * Decodes a footer's FileMetaData (`metadata`: the bytes before the length and magic) of a file of
 * `fileSize` bytes, and checks what a read relies on: the schema tree, one chunk per leaf column in
 * each row group, and chunk ranges inside the file.
 */
export function parseFooter(metadata: Uint8Array, fileSize: number, path: string): ParquetFooter {
  const meta = decodeStruct(metadata, path);
  if (field(meta, 8) !== undefined) throw new TidemarkError('Unsupported', `${path}: encrypted Parquet files are not supported`, { path });
  const schema = asList(field(meta, 2))?.items.map(asStruct) ?? [];
  if (schema.length === 0 || schema.some((e) => !e)) bad(path, 'no schema');
  const elements = schema as TStruct[];
  // The schema is a depth-first flattening: each group says how many children follow.
  let next = 1;
  const walk = (depth: number): number => {
    if (depth > 64) bad(path, 'schema nested too deep');
    const el = elements[next++];
    if (!el) bad(path, 'schema shorter than its groups say');
    const children = asInt(field(el, 5)) ?? 0;
    if (children < 0) bad(path, `negative child count ${children}`);
    if (children === 0) return 1;
    let leaves = 0;
    for (let i = 0; i < children; i++) leaves += walk(depth + 1);
    return leaves;
  };
  const topCount = asInt(field(elements[0]!, 5)) ?? 0;
  const columns: ParquetFooter['columns'] = [];
  let leaf = 0;
  for (let i = 0; i < topCount; i++) {
    const el = elements[next];
    if (!el) bad(path, 'schema shorter than its root says');
    const name = field(el, 4);
    const leaves = walk(0);
    const isLeaf = (asInt(field(el, 5)) ?? 0) === 0;
    columns.push({ name: name instanceof Uint8Array ? text.decode(name) : '', firstLeaf: leaf, leaves, physicalType: isLeaf ? (asInt(field(el, 1)) ?? null) : null, timeUnit: isLeaf ? timestampUnit(el) : null });
    leaf += leaves;
  }
  if (next !== elements.length) bad(path, `${elements.length - next} schema elements outside the tree`);
  const dataEnd = fileSize - metadata.length - 8;
  const rowGroups = (asList(field(meta, 4))?.items ?? []).map((v, i) => {
    const rg = asStruct(v) ?? bad(path, `row group ${i} is not a struct`);
    const chunks = (asList(field(rg, 1))?.items ?? []).map((c) => asStruct(c) ?? bad(path, `row group ${i}: a column chunk is not a struct`));
    if (chunks.length !== leaf) bad(path, `row group ${i} has ${chunks.length} column chunks for ${leaf} columns`);
    const ranges = chunks.map((c, j) => {
      if (field(c, 1) !== undefined) throw new TidemarkError('Unsupported', `${path}: column chunks stored in other files (file_path) are not supported`, { path });
      const cm = asStruct(field(c, 3)) ?? bad(path, `row group ${i}, column ${j}: no column metadata`);
      // As the Rust reader does (ColumnChunkMetaData::byte_range): from the dictionary page when
      // there is one, else the first data page, for total_compressed_size bytes.
      const start = asInt(field(cm, 11)) ?? asInt(field(cm, 9));
      const length = asInt(field(cm, 7));
      if (start === undefined || length === undefined || start < 0 || length < 0 || start + length > dataEnd) {
        bad(path, `row group ${i}, column ${j}: chunk range ${start}+${length} outside the data (${dataEnd} bytes)`);
      }
      return { start, length };
    });
    const numRows = asInt(field(rg, 3));
    if (numRows === undefined || numRows < 0) bad(path, `row group ${i}: bad row count`);
    return { numRows, chunks, ranges };
  });
  return { path, meta, columns, rowGroups };
}

export type TimeUnit = 'millis' | 'micros' | 'nanos';

/**
 * The unit of a timestamp column's values (Parquet format: SchemaElement.logicalType (10) TIMESTAMP
 * (8) with its TimeUnit (2: MILLIS 1, MICROS 2, NANOS 3); else converted_type (6) TIMESTAMP_MILLIS
 * 9 or TIMESTAMP_MICROS 10), or null when the column is no timestamp.
 */
function timestampUnit(el: TStruct): TimeUnit | null {
  const logical = asStruct(field(el, 10));
  const ts = logical && asStruct(field(logical, 8));
  const unit = ts && asStruct(field(ts, 2));
  if (unit) return field(unit, 1) !== undefined ? 'millis' : field(unit, 2) !== undefined ? 'micros' : field(unit, 3) !== undefined ? 'nanos' : null;
  if (logical) return null;
  const converted = asInt(field(el, 6));
  return converted === 9 ? 'millis' : converted === 10 ? 'micros' : null;
}

/** Min, max (integers of INT32/INT64 columns only) and null count of one top-level column in a row group. */
export function chunkStatistics(footer: ParquetFooter, rowGroup: number, column: string): { min?: number | bigint; max?: number | bigint; nullCount?: number } | null {
  const col = footer.columns.find((c) => c.name === column);
  const rg = footer.rowGroups[rowGroup];
  if (!col || !rg || col.leaves !== 1) return null;
  const cm = asStruct(field(rg.chunks[col.firstLeaf]!, 3));
  const stats = cm && asStruct(field(cm, 12));
  if (!stats) return null;
  const decode = (v: TValue | undefined): number | bigint | undefined => {
    if (!(v instanceof Uint8Array)) return undefined;
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    if (col.physicalType === PHYSICAL.INT32 && v.length === 4) return view.getInt32(0, true);
    if (col.physicalType === PHYSICAL.INT64 && v.length === 8) return view.getBigInt64(0, true);
    return undefined;
  };
  // min_value/max_value (6, 5) are current; min/max (2, 1) deprecated but signed for integers.
  return { min: decode(field(stats, 6) ?? field(stats, 2)), max: decode(field(stats, 5) ?? field(stats, 1)), nullCount: asInt(field(stats, 3)) };
}

export interface SubsetPlan {
  /** Byte ranges of the file to fetch (sorted, one per kept column chunk). */
  ranges: ChunkRange[];
  /** Assembles the subset file from the fetched bytes of each range (same order). */
  build(chunks: Uint8Array[]): Uint8Array;
}

/**
 * Plans the subset holding the top-level columns named in `keep` (file order kept) and the row
 * groups `rowGroups` (default all).
 */
export function planSubset(footer: ParquetFooter, keep: Set<string>, rowGroups?: number[]): SubsetPlan {
  const path = footer.path;
  const kept = footer.columns.filter((c) => keep.has(c.name));
  const leafIndexes = kept.flatMap((c) => Array.from({ length: c.leaves }, (_, i) => c.firstLeaf + i));
  const groupIndexes = rowGroups ?? footer.rowGroups.map((_, i) => i);
  const groups = groupIndexes.map((i) => footer.rowGroups[i] ?? bad(path, `no row group ${i}`));
  const ranges = groups.flatMap((g) => leafIndexes.map((l) => g.ranges[l]!));

  return {
    ranges,
    build(chunks) {
      if (chunks.length !== ranges.length) throw new TidemarkError('Internal', `${path}: ${chunks.length} chunks fetched for ${ranges.length} ranges`, { path });
      const parts: Uint8Array[] = [MAGIC];
      let offset = MAGIC.length;
      let k = 0;
      const newGroups = groups.map((g) => {
        const newChunks = leafIndexes.map((l) => {
          const range = g.ranges[l]!;
          const bytes = chunks[k++]!;
          if (bytes.length !== range.length) throw new TidemarkError('DataInvalid', `${path}: expected ${range.length} bytes at offset ${range.start}, read ${bytes.length} (file shorter than its footer says)`, { path, offset: range.start });
          const shift = BigInt(offset - range.start);
          parts.push(bytes);
          offset += bytes.length;
          return relocateChunk(g.chunks[l]!, shift);
        });
        return newChunks;
      });
      const meta = rewriteMeta(footer, kept, leafIndexes, groupIndexes, newGroups);
      const encoded = encodeStruct(meta);
      const tail = new Uint8Array(8);
      new DataView(tail.buffer).setUint32(0, encoded.length, true);
      tail.set(MAGIC, 4);
      parts.push(encoded, tail);
      return concatBytes(parts);
    },
  };
}

/** A column chunk moved by `shift` bytes; page-index and bloom-filter references dropped (not copied). */
function relocateChunk(chunk: TStruct, shift: bigint): TStruct {
  const out: TStruct = { fields: chunk.fields.filter((f) => f.id < 4 || f.id > 7).map((f) => ({ ...f })) };
  const offset = field(out, 2);
  if (typeof offset === 'bigint') setField(out, 2, T.I64, offset + shift);
  const cm = asStruct(field(chunk, 3))!;
  const meta: TStruct = { fields: cm.fields.filter((f) => f.id !== 14 && f.id !== 15).map((f) => ({ ...f })) };
  for (const id of [9, 10, 11]) {
    const v = field(meta, id);
    if (typeof v === 'bigint') setField(meta, id, T.I64, v + shift);
  }
  setField(out, 3, T.STRUCT, meta);
  return out;
}

function rewriteMeta(footer: ParquetFooter, kept: ParquetFooter['columns'], leafIndexes: number[], groupIndexes: number[], newChunks: TStruct[][]): TStruct {
  const groups = groupIndexes.map((i) => footer.rowGroups[i]!);
  const meta: TStruct = { fields: footer.meta.fields.map((f) => ({ ...f })) };
  // Schema: the root with the kept top-level subtrees.
  const elements = asList(field(footer.meta, 2))!.items as TStruct[];
  const keptElements: TValue[] = [];
  const root: TStruct = { fields: elements[0]!.fields.map((f) => ({ ...f })) };
  setField(root, 5, T.I32, kept.length);
  keptElements.push(root);
  let next = 1;
  const subtree = (): TStruct[] => {
    const el = elements[next++]!;
    const out = [el];
    const children = asInt(field(el, 5)) ?? 0;
    for (let i = 0; i < children; i++) out.push(...subtree());
    return out;
  };
  const keepNames = new Set(kept.map((c) => c.name));
  for (const c of footer.columns) {
    const tree = subtree();
    if (keepNames.has(c.name)) keptElements.push(...tree);
  }
  setField(meta, 2, T.LIST, { elemType: T.STRUCT, items: keptElements });
  setField(meta, 3, T.I64, BigInt(groups.reduce((n, g) => n + g.numRows, 0)));
  // Row groups: their kept chunks; sorting columns name leaf indexes that no longer hold.
  const oldGroups = asList(field(footer.meta, 4))!.items as TStruct[];
  const rgItems: TValue[] = groupIndexes.map((index, gi) => {
    const original = oldGroups[index]!;
    const rg: TStruct = { fields: original.fields.filter((f) => f.id !== 4).map((f) => ({ ...f })) };
    setField(rg, 1, T.LIST, { elemType: T.STRUCT, items: newChunks[gi]! });
    const size = leafIndexes.reduce((n, l) => n + groups[gi]!.ranges[l]!.length, 0);
    if (field(rg, 6) !== undefined) setField(rg, 6, T.I64, BigInt(size));
    if (field(rg, 5) !== undefined) {
      const first = newChunks[gi]![0];
      const cm = first && asStruct(field(first, 3));
      const start = cm && (field(cm, 11) ?? field(cm, 9));
      if (typeof start === 'bigint') setField(rg, 5, T.I64, start);
      else removeField(rg, 5);
    }
    return rg;
  });
  setField(meta, 4, T.LIST, { elemType: T.STRUCT, items: rgItems });
  // The embedded Arrow schema lists every column: the Rust reader rejects it for a subset. Without
  // it, Arrow types come from the Parquet types alone (the view casts every column to its field type).
  const kv = asList(field(meta, 5));
  if (kv) {
    const items = kv.items.filter((item) => {
      const key = asStruct(item) && field(item as TStruct, 1);
      return !(key instanceof Uint8Array && text.decode(key) === 'ARROW:schema');
    });
    setField(meta, 5, T.LIST, { elemType: kv.elemType, items });
  }
  const orders = asList(field(meta, 7));
  if (orders) setField(meta, 7, T.LIST, { elemType: orders.elemType, items: leafIndexes.map((l) => orders.items[l]).filter((o): o is TValue => o !== undefined) });
  return meta;
}

/**
 * Pages larger than this (uncompressed) are taken for corruption. Writers cut pages near 1 MiB
 * (parquet-mr, arrow-rs, Spark); dictionary pages are bounded alike.
 */
const MAX_PAGE_BYTES = 256 * 1024 * 1024;
const PAGE_TYPES = new Set([0, 1, 2, 3]); // DATA_PAGE, INDEX_PAGE, DICTIONARY_PAGE, DATA_PAGE_V2

/**
 * Checks the page headers of one column chunk's bytes: each decodes, has a known type, and its
 * sizes fit the chunk (compressed) and a sane bound (uncompressed). Why: the Rust reader allocates
 * a header's sizes before it reads them, so a corrupt header (a shifted offset, a flipped byte)
 * cost seconds and hundreds of MiB before failing (fuzzing found a 565-byte file taking 6.7 s).
 */
export function checkChunkPages(chunk: Uint8Array, path: string, where: string): void {
  let at = 0;
  while (at < chunk.length) {
    const fail = (what: string): never => {
      throw new TidemarkError('DataInvalid', `${path}: corrupt Parquet page header in ${where} at chunk byte ${at}: ${what}`, { path });
    };
    let header: { value: TStruct; length: number };
    try {
      header = decodeStructPrefix(chunk.subarray(at), path);
    } catch (e) {
      const reason = e instanceof TidemarkError ? e.context.reason : undefined;
      return fail(typeof reason === 'string' ? `unreadable (${reason} of the header)` : String(e));
    }
    const type = field(header.value, 1);
    const uncompressed = field(header.value, 2);
    const compressed = field(header.value, 3);
    if (typeof type !== 'number' || !PAGE_TYPES.has(type)) fail(`page type ${String(type)}`);
    if (typeof compressed !== 'number' || compressed < 0 || at + header.length + compressed > chunk.length) fail(`compressed size ${String(compressed)} past the chunk's ${chunk.length} bytes`);
    if (typeof uncompressed !== 'number' || uncompressed < 0 || uncompressed > MAX_PAGE_BYTES) fail(`uncompressed size ${String(uncompressed)}`);
    at += header.length + (compressed as number);
  }
}

/** Checks every column chunk's page headers in a whole file's bytes (see checkChunkPages). */
export function checkFilePages(footer: ParquetFooter, file: Uint8Array): void {
  footer.rowGroups.forEach((rg, i) =>
    rg.ranges.forEach((r, j) => checkChunkPages(file.subarray(r.start, r.start + r.length), footer.path, `row group ${i}, column ${j}`)),
  );
}

/** A column's pages that cover some rows of a row group: where they are and which rows they hold. */
export interface PageSpan {
  /** The top-level column (a flat, non-repeated leaf). */
  column: string;
  /** The dictionary page's bytes (null without one), then the data pages' bytes, in the file. */
  dictionary: ChunkRange | null;
  pages: ChunkRange;
  /** Rows [rowStart, rowEnd) of the row group that the pages hold. */
  rowStart: number;
  rowEnd: number;
}

/**
 * Where the offset index (page locations) of each named column of a row group is, or null for a
 * column that has none or is not a flat leaf (then it is read by whole chunk). Spec: parquet-format
 * PageIndex.md — ColumnChunk.offset_index_offset (4) and offset_index_length (5).
 */
export function offsetIndexRanges(footer: ParquetFooter, rowGroup: number, columns: string[]): (ChunkRange | null)[] {
  const rg = footer.rowGroups[rowGroup] ?? bad(footer.path, `no row group ${rowGroup}`);
  const elements = asList(field(footer.meta, 2))!.items as TStruct[];
  return columns.map((name) => {
    const col = footer.columns.find((c) => c.name === name);
    if (!col || col.leaves !== 1 || col.physicalType === null) return null;
    // A top-level REPEATED leaf (legacy lists) holds several values per row: its pages count values.
    const element = elements.find((e) => { const n = field(e, 4); return n instanceof Uint8Array && text.decode(n) === name; });
    if (!element || field(element, 3) === 2) return null;
    const chunk = rg.chunks[col.firstLeaf]!;
    const start = asInt(field(chunk, 4));
    const length = asInt(field(chunk, 5));
    return start === undefined || length === undefined ? null : { start, length };
  });
}

/**
 * Where the column index (page min/max) of a column of a row group is, or null when it has none
 * or is not a flat INT32/INT64 leaf. Spec: parquet-format PageIndex.md —
 * ColumnChunk.column_index_offset (6) and column_index_length (7).
 */
export function columnIndexRange(footer: ParquetFooter, rowGroup: number, column: string): ChunkRange | null {
  const col = footer.columns.find((c) => c.name === column);
  if (!col || col.leaves !== 1 || (col.physicalType !== PHYSICAL.INT32 && col.physicalType !== PHYSICAL.INT64)) return null;
  if (offsetIndexRanges(footer, rowGroup, [column])[0] === null) return null;
  const chunk = footer.rowGroups[rowGroup]!.chunks[col.firstLeaf]!;
  const start = asInt(field(chunk, 6));
  const length = asInt(field(chunk, 7));
  return start === undefined || length === undefined ? null : { start, length };
}

/**
 * Rows [rowStart, rowEnd) of a row group whose pages of an INT32/INT64 column may hold a value in
 * [lo, hi] (integers), from its column index (ColumnIndex: 1 null_pages, 2 min_values, 3
 * max_values, plain little-endian) and offset index; neighbouring pages merged. Null when a page
 * holds only nulls or the index is malformed: the caller then reads the whole column.
 */
export function pagesInRange(footer: ParquetFooter, rowGroup: number, column: string, columnIndex: Uint8Array, offsetIndex: Uint8Array, lo: number, hi: number): { rowStart: number; rowEnd: number }[] | null {
  const path = footer.path;
  const col = footer.columns.find((c) => c.name === column)!;
  const width = col.physicalType === PHYSICAL.INT64 ? 8 : 4;
  const index = decodeStruct(columnIndex, path);
  const nullPages = asList(field(index, 1))?.items ?? [];
  const mins = asList(field(index, 2))?.items ?? [];
  const maxs = asList(field(index, 3))?.items ?? [];
  const firstRows = (asList(field(decodeStruct(offsetIndex, path), 1))?.items ?? []).map((v) => asInt(field(asStruct(v) ?? bad(path, `offset index of ${column}: a page location is not a struct`), 3)));
  const pages = firstRows.length;
  if (pages === 0 || nullPages.length !== pages || mins.length !== pages || maxs.length !== pages || firstRows.some((r) => r === undefined)) return null;
  const value = (v: TValue): bigint | null => {
    if (!(v instanceof Uint8Array) || v.length !== width) return null;
    const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
    return width === 8 ? view.getBigInt64(0, true) : BigInt(view.getInt32(0, true));
  };
  const low = BigInt(lo);
  const high = BigInt(hi);
  const numRows = footer.rowGroups[rowGroup]!.numRows;
  const out: { rowStart: number; rowEnd: number }[] = [];
  for (let i = 0; i < pages; i++) {
    if (nullPages[i] === true) return null;
    const min = value(mins[i]!);
    const max = value(maxs[i]!);
    if (min === null || max === null) return null;
    if (max < low || min > high) continue;
    const rowStart = firstRows[i]!;
    const rowEnd = i + 1 < pages ? firstRows[i + 1]! : numRows;
    const last = out[out.length - 1];
    if (last && last.rowEnd === rowStart) last.rowEnd = rowEnd;
    else out.push({ rowStart, rowEnd });
  }
  return out;
}

/**
 * The pages of a column chunk covering rows [from, to) of its row group, from its offset index
 * bytes (OffsetIndex: 1 = list<PageLocation{1 offset, 2 compressed_page_size, 3 first_row_index}>).
 */
export function pageSpan(footer: ParquetFooter, rowGroup: number, column: string, offsetIndex: Uint8Array, from: number, to: number): PageSpan {
  const path = footer.path;
  const rg = footer.rowGroups[rowGroup]!;
  const col = footer.columns.find((c) => c.name === column)!;
  const range = rg.ranges[col.firstLeaf]!;
  const locations = (asList(field(decodeStruct(offsetIndex, path), 1))?.items ?? []).map((v) => {
    const s = asStruct(v) ?? bad(path, `offset index of ${column}: a page location is not a struct`);
    const offset = asInt(field(s, 1));
    const size = asInt(field(s, 2));
    const firstRow = asInt(field(s, 3));
    if (offset === undefined || size === undefined || firstRow === undefined || offset < range.start || offset + size > range.start + range.length) {
      bad(path, `offset index of ${column}: page at ${offset}+${size} outside its column chunk`);
    }
    return { offset, size, firstRow };
  });
  if (locations.length === 0) bad(path, `offset index of ${column}: no pages`);
  let first = 0;
  while (first + 1 < locations.length && locations[first + 1]!.firstRow <= from) first++;
  let last = first;
  while (last + 1 < locations.length && locations[last + 1]!.firstRow < to) last++;
  const start = locations[first]!.offset;
  const end = locations[last]!.offset + locations[last]!.size;
  // Bytes before the first data page are the dictionary page (when the chunk has one).
  const dictionary = locations[0]!.offset > range.start ? { start: range.start, length: locations[0]!.offset - range.start } : null;
  return {
    column,
    dictionary,
    pages: { start, length: end - start },
    rowStart: locations[first]!.firstRow,
    rowEnd: last + 1 < locations.length ? locations[last + 1]!.firstRow : rg.numRows,
  };
}

/**
 * A Parquet file of one row group holding only the given pages of columns that span the same rows
 * (`spans` share rowStart and rowEnd): each chunk is its dictionary page followed by its pages, its
 * metadata says so (offsets, sizes, value count = rows: flat columns only), statistics dropped.
 * `bytes[i]` are the dictionary bytes (or empty) and page bytes of `spans[i]`, concatenated.
 */
export function buildPageSubset(footer: ParquetFooter, rowGroup: number, spans: PageSpan[], bytes: Uint8Array[]): Uint8Array {
  const rg = footer.rowGroups[rowGroup]!;
  const rows = spans[0]!.rowEnd - spans[0]!.rowStart;
  const chunks = rg.chunks.map((c) => ({ fields: c.fields.map((f) => ({ ...f })) }) as TStruct);
  const ranges = rg.ranges.map((r) => ({ ...r }));
  spans.forEach((s, i) => {
    const col = footer.columns.find((c) => c.name === s.column)!;
    const chunk = chunks[col.firstLeaf]!;
    const meta: TStruct = { fields: asStruct(field(chunk, 3))!.fields.filter((f) => f.id !== 12 && f.id !== 13).map((f) => ({ ...f })) };
    // Virtual layout: the chunk starts where the original one did; relocation in planSubset moves it.
    const start = ranges[col.firstLeaf]!.start;
    const dictLength = s.dictionary?.length ?? 0;
    if (bytes[i]!.length !== dictLength + s.pages.length) bad(footer.path, `page subset of ${s.column}: ${bytes[i]!.length} bytes for ${dictLength + s.pages.length}`);
    setField(meta, 5, T.I64, BigInt(rows)); // num_values: one per row in a flat column
    setField(meta, 7, T.I64, BigInt(bytes[i]!.length)); // total_compressed_size
    setField(meta, 9, T.I64, BigInt(start + dictLength)); // data_page_offset
    if (s.dictionary) setField(meta, 11, T.I64, BigInt(start));
    else removeField(meta, 11);
    setField(chunk, 3, T.STRUCT, meta);
    ranges[col.firstLeaf] = { start, length: bytes[i]!.length };
  });
  const rgStruct: TStruct = { fields: (asList(field(footer.meta, 4))!.items[rowGroup] as TStruct).fields.map((f) => ({ ...f })) };
  setField(rgStruct, 3, T.I64, BigInt(rows));
  setField(rgStruct, 1, T.LIST, { elemType: T.STRUCT, items: chunks });
  const meta: TStruct = { fields: footer.meta.fields.map((f) => ({ ...f })) };
  setField(meta, 4, T.LIST, { elemType: T.STRUCT, items: [rgStruct] });
  const virtual: ParquetFooter = { path: footer.path, meta, columns: footer.columns, rowGroups: [{ numRows: rows, chunks, ranges }] };
  const plan = planSubset(virtual, new Set(spans.map((s) => s.column)), [0]);
  // planSubset asks for the kept chunks in file (leaf) order.
  const byStart = new Map(spans.map((s, i) => [ranges[footer.columns.find((c) => c.name === s.column)!.firstLeaf]!.start, bytes[i]!]));
  return plan.build(plan.ranges.map((r) => byStart.get(r.start)!));
}
