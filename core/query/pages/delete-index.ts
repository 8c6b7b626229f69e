/**
 * The deletes of one table version in memory, projected to what matching needs (spec "Row-level
 * Deletes"): each position delete file as data file path → deleted positions; each group of
 * equality delete files (same equality field ids) as key → the highest data sequence number that
 * deletes it, globally (unpartitioned delete spec) and per partition. A row of a data file with
 * data sequence number s is then deleted when its key maps to a number > s (spec: equality deletes
 * apply to strictly older data) — one lookup per row, however many delete files the version has.
 * Browser-safe.
 */
import type { Data } from 'apache-arrow';
import { TidemarkError } from '../../errors';
import { convertArrowData } from '../../lake';
import { DeletionVectorReader, deleteFileKey, isDeletionVector } from '../../lake';
import { FILE_CONTENT, type NestedField, type TableMetadata } from '../../lake';
import type { LoadedTable, PlannedFile } from '../../lake';
import { valueKey } from '../../lake';
import { loadDeletionVectorPositions } from '../deletion-vectors';
import { sliceChunks, type ColumnChunks, type RowGroupCache } from './row-group-cache';

const POS_FILE_PATH = 2147483546;
const POS_POS = 2147483545;
const TWO_32 = 4294967296;

/**
 * A value as an equality key: integers (int and long, whatever width the file stored) as numbers —
 * bigint only beyond 2^53 — so that promoted columns match and lookups avoid bigint hashing; bytes
 * as hex text; other primitives as they are (a Map compares them by value; NULL matches NULL).
 */
export function normalizeKey(v: unknown): unknown {
  if (typeof v === 'bigint') return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  if (v === undefined) return null;
  if (v !== null && typeof v === 'object') return valueKey(v);
  return v;
}

/**
 * The equality keys of `rows` rows of one column (Arrow chunks in row order). int/long are read
 * from the raw 32-bit words: a BigInt per row would dominate a count over millions of rows.
 */
export function columnKeys(chunks: Data[], field: NestedField, where: string): unknown[] {
  const out: unknown[] = [];
  for (const data of chunks) {
    const values = data.values as unknown;
    const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
    if ((field.type === 'long' || field.type === 'int') && values instanceof BigInt64Array) {
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      for (let i = 0; i < data.length; i++) {
        if (!valid(i)) {
          out.push(null);
          continue;
        }
        const hi = words[2 * i + 1]!;
        // |value| < 2^53 exactly when the high word is within ±2^21.
        out.push(hi >= -2097152 && hi < 2097152 ? hi * TWO_32 + (words[2 * i]! >>> 0) : normalizeKey(values[i]));
      }
    } else if ((field.type === 'long' || field.type === 'int') && values instanceof Int32Array) {
      for (let i = 0; i < data.length; i++) out.push(valid(i) ? values[i] : null);
    } else {
      for (const v of convertArrowData(data, field.type, where)) out.push(normalizeKey(v));
    }
  }
  return out;
}

/**
 * The keys of one int/long column as numbers, or null when a value is null or beyond 2^53 (then
 * the generic keys apply). A typed array: no per-row allocation for the hot loop of a count.
 */
export function integerKeys(chunks: Data[], field: NestedField): Float64Array | null {
  if (field.type !== 'long' && field.type !== 'int') return null;
  const rows = chunks.reduce((n, d) => n + d.length, 0);
  const out = new Float64Array(rows);
  let at = 0;
  for (const data of chunks) {
    if (data.nullCount > 0) return null;
    const values = data.values as unknown;
    if (values instanceof BigInt64Array) {
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      for (let i = 0; i < data.length; i++) {
        const hi = words[2 * i + 1]!;
        if (hi < -2097152 || hi >= 2097152) return null;
        out[at++] = hi * TWO_32 + (words[2 * i]! >>> 0);
      }
    } else if (values instanceof Int32Array) {
      out.set(values.subarray(0, data.length), at);
      at += data.length;
    } else return null;
  }
  return out;
}

/** Key → highest sequence number deleting it. */
export interface KeyIndex {
  readonly size: number;
  get(key: unknown): number | undefined;
  /**
   * The same index restricted to integer keys in [lo, hi] (a data file's key range), for lookups of
   * that file's keys; absent where keys are not integers.
   */
  within?(lo: number, hi: number): KeyIndex;
  /**
   * Clears `mask[i]` where `keys[i]` (ascending) is deleted at a sequence number above `seq`, by
   * one merge walk instead of a search per row; false (nothing done) where keys are not integers.
   */
  maskAscending?(keys: Float64Array, mask: Uint8Array, seq: number): boolean;
}

/**
 * Integer keys sorted, with their highest sequence numbers: a binary search per row is several
 * times faster than a Map of 500k number keys (and a fraction of its memory).
 */
class SortedKeys implements KeyIndex {
  constructor(
    private readonly keys: Float64Array,
    private readonly seqs: Float64Array,
  ) {}
  get size() {
    return this.keys.length;
  }
  within(lo: number, hi: number): KeyIndex {
    const from = lowerBound(this.keys, lo);
    const to = lowerBound(this.keys, hi, true);
    return new SortedKeys(this.keys.subarray(from, to), this.seqs.subarray(from, to));
  }
  maskAscending(rows: Float64Array, mask: Uint8Array, seq: number): boolean {
    const keys = this.keys;
    let j = 0;
    for (let i = 0; i < rows.length && j < keys.length; i++) {
      const k = rows[i]!;
      while (j < keys.length && keys[j]! < k) j++;
      if (j < keys.length && keys[j] === k && this.seqs[j]! > seq) mask[i] = 0;
    }
    return true;
  }
  get(key: unknown): number | undefined {
    if (typeof key !== 'number') return undefined;
    const keys = this.keys;
    let lo = 0;
    let hi = keys.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = keys[mid]!;
      if (k < key) lo = mid + 1;
      else if (k > key) hi = mid - 1;
      else return this.seqs[mid];
    }
    return undefined;
  }
}

/** First index whose key is >= x (with `after`: > x) in sorted keys. */
function lowerBound(keys: Float64Array, x: number, after = false): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < x || (after && keys[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Restricted lookups before the index of all keys is sorted (then it is sorted once and sliced). */
const SCANS_BEFORE_SORT = 1;

/**
 * A version's integer delete keys, sorted only when needed: a data file's rows are looked up in
 * the keys within the file's key range, found by a linear scan and sorted (a few thousand keys for
 * one file of a large version), so the first page never waits for a sort of every deleted key
 * (docs/perf-notes.md). From the second file on (a count, a deep page)
 * the whole index is sorted once and sliced by binary search instead.
 */
class IntegerKeys implements KeyIndex {
  private sorted: SortedKeys | null = null;
  private scans = 0;
  readonly size: number;
  constructor(private readonly parts: { keys: Float64Array; seq: number }[]) {
    // Keys may repeat across files: the size is an upper bound until sorted; only zero matters.
    this.size = parts.reduce((n, p) => n + p.keys.length, 0);
  }
  private all(): SortedKeys {
    return (this.sorted ??= sortKeys(this.parts));
  }
  get(key: unknown): number | undefined {
    return this.all().get(key);
  }
  maskAscending(rows: Float64Array, mask: Uint8Array, seq: number): boolean {
    return this.all().maskAscending(rows, mask, seq);
  }
  within(lo: number, hi: number): KeyIndex {
    if (this.sorted || ++this.scans > SCANS_BEFORE_SORT) return this.all().within(lo, hi);
    const parts = this.parts.map(({ keys, seq }) => {
      let n = 0;
      for (let i = 0; i < keys.length; i++) if (keys[i]! >= lo && keys[i]! <= hi) n++;
      const mine = new Float64Array(n);
      let at = 0;
      for (let i = 0; i < keys.length && at < n; i++) if (keys[i]! >= lo && keys[i]! <= hi) mine[at++] = keys[i]!;
      return { keys: mine, seq };
    });
    return sortKeys(parts);
  }
}

/** Sorts (key, seq) pairs by key and keeps each key once with its highest seq. */
function sortKeys(parts: { keys: Float64Array; seq: number }[]): SortedKeys {
  const n = parts.reduce((a, p) => a + p.keys.length, 0);
  const keys = new Float64Array(n);
  const seqs = new Float64Array(n);
  let at = 0;
  for (const p of parts) {
    keys.set(p.keys, at);
    seqs.fill(p.seq, at, at + p.keys.length);
    at += p.keys.length;
  }
  let sortedKeys: Float64Array;
  let sortedSeqs: Float64Array;
  if (parts.every((p) => p.seq === parts[0]!.seq)) {
    // One sequence number: a native numeric sort.
    sortedKeys = keys.sort();
    sortedSeqs = seqs;
  } else {
    const order = new Uint32Array(n).map((_, i) => i).sort((a, b) => keys[a]! - keys[b]!);
    sortedKeys = new Float64Array(n);
    sortedSeqs = new Float64Array(n);
    order.forEach((i, k) => {
      sortedKeys[k] = keys[i]!;
      sortedSeqs[k] = seqs[i]!;
    });
  }
  let w = 0;
  for (let r = 0; r < n; r++) {
    if (w > 0 && sortedKeys[w - 1] === sortedKeys[r]) sortedSeqs[w - 1] = Math.max(sortedSeqs[w - 1]!, sortedSeqs[r]!);
    else {
      sortedKeys[w] = sortedKeys[r]!;
      sortedSeqs[w] = sortedSeqs[r]!;
      w++;
    }
  }
  return new SortedKeys(sortedKeys.slice(0, w), sortedSeqs.slice(0, w));
}

class MapKeys implements KeyIndex {
  readonly map = new Map<unknown, number>();
  get size() {
    return this.map.size;
  }
  get(key: unknown): number | undefined {
    return this.map.get(key);
  }
}

/** Keys of tuples: one column's keys as they are; several columns' as one text per row. */
export function tupleKeys(columns: unknown[][], rows: number): unknown[] {
  if (columns.length === 1) return columns[0]!;
  const out = new Array<unknown>(rows);
  for (let i = 0; i < rows; i++) out[i] = valueKey(columns.map((c) => c[i]));
  return out;
}

export interface EqualityGroup {
  /** Equality field ids (a delete file's `equality_ids`, in its order). */
  ids: number[];
  fields: NestedField[];
  /** Key → highest sequence number of an unpartitioned delete file holding it. */
  global: KeyIndex;
  /** Partition key (spec id | partition tuple) → key → highest sequence number. */
  byPartition: Map<string, KeyIndex>;
  /** True when every key is an integer below 2^53 (data files' keys may then be read as integerKeys). */
  integer: boolean;
}

export interface VersionDeletes {
  /**
   * A position delete file's (or deletion vector's) positions: data file path (rebased onto the
   * table root) → positions. Read on first use, then kept: a page reads only the position deletes
   * of the data files it shows.
   */
  positionsOf(d: PlannedFile): Promise<Map<string, number[]>>;
  equality: EqualityGroup[];
  /** Rows read from delete files so far (positions and keys), for the bench's figures. */
  readonly deleteRows: number;
}

export function partitionKeyOf(f: PlannedFile): string {
  return `${f.specId}|${valueKey(f.partition)}`;
}

/** Spec (and planScan): an equality delete written with an unpartitioned spec applies to every partition. */
export function isUnpartitioned(metadata: TableMetadata, specId: number): boolean {
  const spec = metadata.partitionSpecs.find((s) => s.specId === specId);
  return !!spec && spec.fields.length === 0;
}

/** All fields of all schemas by id, newest last (equality ids may name a column since dropped). */
export function fieldsById(metadata: TableMetadata): Map<number, NestedField> {
  const out = new Map<number, NestedField>();
  const index = (fields: NestedField[]) => {
    for (const f of fields) {
      out.set(f.id, f);
      if (typeof f.type === 'object' && f.type.type === 'struct') index(f.type.fields);
    }
  };
  for (const s of metadata.schemas) index(s.fields);
  const current = metadata.schemas.find((s) => s.schemaId === metadata.currentSchemaId);
  if (current) index(current.fields);
  return out;
}

/** Every row group of one column set of a file, in order (delete files are read whole). */
export async function readWhole(cache: RowGroupCache, f: PlannedFile, what: string, want: { id: number; fallback: string }[]): Promise<{ rows: number; columns: (ColumnChunks | null)[] }> {
  const file = await cache.open(f.path, f.fileSizeInBytes, what);
  // Files from writers that omit field ids (some delete files) are matched by name.
  const names = want.map((w) => file.columns.byFieldId.get(w.id) ?? (file.columns.names.includes(w.fallback) ? w.fallback : null));
  const present = [...new Set(names.filter((n): n is string => n !== null))];
  const columns = want.map(() => ({ chunks: [] as Data[], bytes: 0, rowStart: 0 }));
  let rows = 0;
  for (let g = 0; g < file.footer.rowGroups.length; g++) {
    rows += file.footer.rowGroups[g]!.numRows;
    if (present.length === 0) continue;
    const read = await cache.read(file, g, present);
    names.forEach((n, k) => {
      if (n !== null) columns[k]!.chunks.push(...read.get(n)!.chunks);
    });
  }
  return { rows, columns: names.map((n, k) => (n === null ? null : columns[k]!)) };
}

async function loadPositions(cache: RowGroupCache, plan: { table: LoadedTable }, f: PlannedFile): Promise<{ byFile: Map<string, number[]>; rows: number }> {
  const { rows, columns } = await readWhole(cache, f, 'position delete file', [
    { id: POS_FILE_PATH, fallback: 'file_path' },
    { id: POS_POS, fallback: 'pos' },
  ]);
  const [paths, pos] = columns;
  if (!paths || !pos) throw new TidemarkError('DataInvalid', `${f.path}: expected position delete columns file_path (2147483546) and pos (2147483545)`, { path: f.path });
  const pathValues = paths.chunks.flatMap((d) => convertArrowData(d, 'string', `${f.path}: file_path`));
  const posValues = columnKeys(pos.chunks, { id: POS_POS, name: 'pos', required: true, type: 'long' }, `${f.path}: pos`);
  const byFile = new Map<string, number[]>();
  const resolved = new Map<string, string>();
  for (let i = 0; i < pathValues.length; i++) {
    const written = String(pathValues[i]);
    let local = resolved.get(written);
    if (local === undefined) resolved.set(written, (local = plan.table.resolve(written)));
    let list = byFile.get(local);
    if (!list) byFile.set(local, (list = []));
    list.push(Number(posValues[i]));
  }
  return { byFile, rows };
}

/** Position delete files and deletion vectors of a version, each read when first asked for. */
export interface PositionLoader {
  /** A position delete file's (or DV's) positions: data file path (rebased) → positions. */
  positionsOf(d: PlannedFile): Promise<Map<string, number[]>>;
  /** Positions read so far. */
  readonly rows: number;
}

export function createPositionLoader(cache: RowGroupCache, table: LoadedTable): PositionLoader {
  const vectors = new DeletionVectorReader(cache.storage);
  const positions = new Map<string, Promise<Map<string, number[]>>>();
  let rows = 0;
  return {
    positionsOf(d) {
      const key = deleteFileKey(d);
      let p = positions.get(key);
      if (!p) {
        p = (isDeletionVector(d) ? loadDeletionVectorPositions(vectors, { table }, d) : loadPositions(cache, { table }, d)).then((r) => {
          rows += r.rows;
          return r.byFile;
        });
        positions.set(key, p);
        p.catch(() => positions.delete(key));
      }
      return p;
    },
    get rows() {
      return rows;
    },
  };
}

/** One equality delete file's keys: integers (a single int/long key without nulls) or generic keys. */
interface EqualityFileKeys {
  scope: string | null;
  seq: number;
  ints: Float64Array | null;
  keys: unknown[] | null;
}

type LoadedGroups = Map<string, { ids: number[]; fields: NestedField[]; files: EqualityFileKeys[] }>;

/** Builds the lookup groups (by equality ids; global and per partition) from each file's keys. */
function buildGroups(loaded: LoadedGroups): EqualityGroup[] {
  return [...loaded.values()].map(({ ids, fields, files }) => {
    const integer = files.every((f) => f.ints !== null);
    const build = (scope: string | null): KeyIndex => {
      const mine = files.filter((f) => f.scope === scope);
      if (integer) return new IntegerKeys(mine.map((f) => ({ keys: f.ints!, seq: f.seq })));
      const index = new MapKeys();
      for (const f of mine) {
        const keys: ArrayLike<unknown> = f.keys ?? f.ints!;
        for (let i = 0; i < keys.length; i++) if ((index.map.get(keys[i]) ?? -1) < f.seq) index.map.set(keys[i], f.seq);
      }
      return index;
    };
    const scopes = new Set(files.map((f) => f.scope).filter((s): s is string => s !== null));
    return { ids, fields, global: build(null), byPartition: new Map([...scopes].map((s) => [s, build(s)])), integer };
  });
}

/** Adds one file's keys to its group (by equality ids). */
function addKeys(loaded: LoadedGroups, fields: NestedField[], keys: EqualityFileKeys) {
  const ids = fields.map((field) => field.id);
  const groupKey = ids.join(',');
  let group = loaded.get(groupKey);
  if (!group) loaded.set(groupKey, (group = { ids, fields, files: [] }));
  group.files.push(keys);
}

/**
 * The deletes of a version: the equality delete files given (`equalityFiles`: those that may apply
 * to a data file of the version) are read now as their key columns only; position delete files
 * and deletion vectors are read when a data file they apply to is first masked (`positions`).
 * Each delete file is read through the row-group cache.
 */
export async function loadVersionDeletes(cache: RowGroupCache, table: LoadedTable, equalityFiles: PlannedFile[], positions: PositionLoader = createPositionLoader(cache, table)): Promise<VersionDeletes> {
  const metadata = table.metadata;
  const allFields = fieldsById(metadata);
  const used = new Map<string, PlannedFile>();
  for (const d of equalityFiles) if (d.content === FILE_CONTENT.equalityDeletes) used.set(deleteFileKey(d), d);
  // Per group of equality ids: each delete file's keys, its scope and its sequence number.
  const loaded: LoadedGroups = new Map();
  let keyRows = 0;
  for (const d of used.values()) {
    const fields = equalityFieldsOf(d, allFields);
    const { rows, columns } = await readWhole(cache, d, 'equality delete file', fields.map((f) => ({ id: f.id, fallback: f.name })));
    columns.forEach((c, k) => {
      if (!c) throw new TidemarkError('DataInvalid', `${d.path}: equality delete file lacks column with field id ${fields[k]!.id}`, { path: d.path, fieldId: fields[k]!.id });
    });
    const ints = fields.length === 1 ? integerKeys(columns[0]!.chunks, fields[0]!) : null;
    const keys = ints ? null : tupleKeys(columns.map((c, k) => columnKeys(c!.chunks, fields[k]!, `${d.path}: ${fields[k]!.name}`)), rows);
    addKeys(loaded, fields, { scope: isUnpartitioned(metadata, d.specId) ? null : partitionKeyOf(d), seq: Number(d.sequenceNumber), ints, keys });
    keyRows += rows;
  }
  return {
    positionsOf: (d) => positions.positionsOf(d),
    equality: buildGroups(loaded),
    get deleteRows() {
      return keyRows + positions.rows;
    },
  };
}

/**
 * The equality deletes of a version restricted to integer keys in [lo, hi] (the keys of the first
 * rows of a data file): from each delete file, only the pages whose column index says they may
 * hold such keys are read, so a version's deleted keys are not all decoded before its first page.
 * Lookups in the result are exact for keys in [lo, hi] only. Null when a file's key is not one
 * int/long column without nulls, or it has no page index: then the whole index is needed.
 */
export async function loadEqualityWithin(cache: RowGroupCache, table: LoadedTable, equalityFiles: PlannedFile[], lo: number, hi: number): Promise<EqualityGroup[] | null> {
  const metadata = table.metadata;
  const allFields = fieldsById(metadata);
  const used = new Map<string, PlannedFile>();
  for (const d of equalityFiles) if (d.content === FILE_CONTENT.equalityDeletes) used.set(deleteFileKey(d), d);
  const files = await Promise.all(
    [...used.values()].map(async (d) => {
      const fields = equalityFieldsOf(d, allFields);
      const field = fields[0]!;
      if (fields.length !== 1 || (field.type !== 'long' && field.type !== 'int')) return null;
      const file = await cache.open(d.path, d.fileSizeInBytes, 'equality delete file');
      const name = file.columns.byFieldId.get(field.id) ?? (file.columns.names.includes(field.name) ? field.name : null);
      if (name === null) throw new TidemarkError('DataInvalid', `${d.path}: equality delete file lacks column with field id ${field.id}`, { path: d.path, fieldId: field.id });
      const parts: Float64Array[] = [];
      for (let g = 0; g < file.footer.rowGroups.length; g++) {
        const pages = await file.pagesInRange(g, name, lo, hi);
        if (pages === null) return null;
        for (const { rowStart, rowEnd } of pages) {
          const column = (await cache.readRows(file, g, [name], rowStart, rowEnd)).get(name)!;
          const ints = integerKeys(sliceColumn(column, rowStart, rowEnd), field);
          if (ints === null) return null;
          parts.push(ints.filter((k) => k >= lo && k <= hi));
        }
      }
      const ints = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        ints.set(p, at);
        at += p.length;
      }
      return { fields, keys: { scope: isUnpartitioned(metadata, d.specId) ? null : partitionKeyOf(d), seq: Number(d.sequenceNumber), ints, keys: null } };
    }),
  );
  const loaded: LoadedGroups = new Map();
  for (const f of files) {
    if (f === null) return null;
    addKeys(loaded, f.fields, f.keys);
  }
  return buildGroups(loaded);
}

/** Arrow chunks of rows [from, to) of a row group from a column read (from its row `rowStart`) that covers them. */
function sliceColumn(column: ColumnChunks, from: number, to: number): Data[] {
  return sliceChunks(column, from - column.rowStart, to - column.rowStart);
}

/** The fields an equality delete file matches on (its equality_ids), by field id in any schema; DataInvalid naming the file otherwise. */
export function equalityFieldsOf(d: PlannedFile, allFields: ReadonlyMap<number, NestedField>): NestedField[] {
  const ids = d.dataFile.equalityIds ?? [];
  if (ids.length === 0) throw new TidemarkError('DataInvalid', `${d.path}: equality delete file without equality_ids (field 135)`, { path: d.path });
  return ids.map((id) => {
    const field = allFields.get(id);
    if (!field) throw new TidemarkError('DataInvalid', `${d.path}: equality field id ${id} is not in any table schema`, { path: d.path, fieldId: id });
    return field;
  });
}
