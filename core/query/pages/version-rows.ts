/**
 * The live rows of one Iceberg table version, read lazily: the grid's window [offset, offset +
 * limit) in file order reads only the row groups that hold it and only the asked columns; the
 * deletes that apply to those rows come from the version's delete index (delete-index.ts). Which
 * row of a file is live is known per row group from positions and equality key columns alone, so
 * reaching a deep offset or counting never decodes the other columns.
 *
 * Why not DuckDB: merging a version in DuckDB-wasm needs every row of it in wasm memory (a
 * 10M-row × 30-column version does not fit in its 4 GiB); a window needs a few row groups.
 * Browser-safe.
 */
import { convertArrowData, decodeSingleValue } from '../../lake';
import { checkDataFileFormat, wholePlan } from '../../lake';
import { FILE_CONTENT, type NestedField } from '../../lake';
import type { IncrementalScanPlan, PlannedDataFile, PlannedFile, ScanPlan } from '../../lake';
import { TidemarkError } from '../../errors';
import type { RangedParquetFile } from '../parquet';
import { columnKeys, createPositionLoader, equalityFieldsOf, fieldsById, integerKeys, loadEqualityWithin, loadVersionDeletes, normalizeKey, partitionKeyOf, tupleKeys, type EqualityGroup, type PositionLoader, type VersionDeletes } from './delete-index';
import type { FileLive, LiveMaskCache, RowGroupLive } from './live-masks';
import { sliceChunks, type ColumnChunks, type RowGroupCache } from './row-group-cache';

export { sliceChunks };
export type { FileLive };

/**
 * A window that starts fewer live rows than this into a data file with deletes masks only the
 * first rows of its row groups; beyond it (a deep page), the whole file is masked once and kept.
 */
const PREFIX_MAX_SKIP = 4096;
/** Prefix masks a version keeps (a few KiB each: the first pages of the files a window started in). */
const MAX_PREFIXES = 64;

/** Data files whose live counts are computed at once (I/O of one overlaps decoding of another). */
const COUNT_CONCURRENCY = 3;

/**
 * A data file whose key range covers at most this share of a delete file's is masked from the
 * delete file's pages in that range (files appended in key order: a fiftieth each); beyond it, the
 * version's whole delete index is loaded once instead.
 */
export const EQUALITY_WITHIN_FRACTION = 0.25;

/** Data manifests read ahead of a window that passes the first one (each a small Avro file). */
const MANIFESTS_AHEAD = 4;

/** Data files before a deep window whose live masks are computed ahead of the one awaited. */
const MASKS_AHEAD = 2;

export class VersionRows {
  private deletes: Promise<VersionDeletes> | null = null;
  private exactCount: Promise<number> | null = null;
  private counted: number | null = null;
  private full: ScanPlan | null = null;
  private planning: Promise<ScanPlan> | null = null;
  private readonly positions: PositionLoader;
  /** The longest prefix mask computed per data file (mask key) and row group: the grid asks the first rows again. */
  private readonly prefixes = new Map<string, { mask: Uint8Array; live: number; covered: number; whole: boolean }>();
  private readonly maskKeys = new WeakMap<PlannedDataFile, string>();

  constructor(
    private readonly cache: RowGroupCache,
    private readonly masks: LiveMaskCache,
    /** The version's plan, read as pages need it (a complete plan is wrapped by wholePlan). */
    readonly source: IncrementalScanPlan,
    /**
     * Largest share of a delete file's key range a data file's range may cover for the file to be
     * masked from that range's pages only (equalityFor); default EQUALITY_WITHIN_FRACTION.
     */
    private readonly withinFraction = EQUALITY_WITHIN_FRACTION,
  ) {
    this.positions = createPositionLoader(cache, source.table);
  }

  /** Lazy rows of a plan already made (its files and deletes as planned, e.g. with a filter). */
  static ofPlan(cache: RowGroupCache, masks: LiveMaskCache, plan: ScanPlan, withinFraction?: number): VersionRows {
    const v = new VersionRows(cache, masks, wholePlan(plan), withinFraction);
    v.full = plan;
    return v;
  }

  /** The version's complete plan; Internal before complete() has settled (reader.version() awaits it). */
  get plan(): ScanPlan {
    if (!this.full) throw new TidemarkError('Internal', `the plan of ${this.source.table.root} is not complete yet`, { path: this.source.table.root });
    return this.full;
  }

  /** Reads every data manifest of the version (once) and returns the complete plan. */
  complete(): Promise<ScanPlan> {
    if (this.full) return Promise.resolve(this.full);
    if (!this.planning) {
      this.planning = this.source.complete().then((p) => (this.full = p));
      this.planning.catch(() => (this.planning = null));
    }
    return this.planning;
  }

  /**
   * The exact live count when known without reading data files: the version has no delete file
   * (the manifest list's record counts, or the complete plan's), no delete applies to any of its
   * data files, it was counted, or every data file with deletes was counted before (by any
   * version sharing the file and its deletes); else null.
   */
  knownCount(): number | null {
    if (!this.full) return this.source.deleteFiles.length === 0 ? this.source.listedRecords : null;
    if (!this.full.files.some((f) => f.deletes.length > 0)) return recordsOf(this.full);
    this.counted ??= this.sumKnown(this.full);
    return this.counted;
  }

  /** The plan's live rows when every data file's live count is known, else null. */
  private sumKnown(plan: ScanPlan): number | null {
    let total = 0;
    for (const f of plan.files) {
      const live = this.liveKnown(f);
      if (live === undefined) return null;
      total += live;
    }
    return total;
  }

  /**
   * A data file's live rows when known without reading it: its record count without deletes, else
   * the count kept from an earlier mask of the file under the same deletes (any version's).
   */
  private liveKnown(f: PlannedDataFile): number | undefined {
    return f.deletes.length === 0 ? f.recordCount : this.masks.liveOf(this.maskKey(f));
  }

  /** Rows in the data files before deletes (an upper bound of the count), or null before it is known. */
  recordTotal(): number | null {
    return this.full ? recordsOf(this.full) : this.source.listedRecords;
  }

  /**
   * Live rows of the version: the manifests' record counts for files without deletes; the others
   * from their positions and equality key columns (computed once, then cached).
   */
  count(): Promise<number> {
    if (!this.exactCount) {
      this.exactCount = (async () => {
        const plan = await this.complete();
        if (!plan.files.some((f) => f.deletes.length > 0)) return recordsOf(plan);
        const files = plan.files;
        let next = 0;
        let total = 0;
        const worker = async () => {
          while (next < files.length) {
            const f = files[next++]!;
            // Not `total += await …`: that reads `total` before the await, losing other workers' sums.
            const live = this.liveKnown(f) ?? (await this.fileLive(f)).live;
            total += live;
          }
        };
        await Promise.all(Array.from({ length: Math.min(COUNT_CONCURRENCY, files.length) }, worker));
        this.counted = total;
        return total;
      })();
      this.exactCount.catch(() => (this.exactCount = null));
    }
    return this.exactCount;
  }

  /**
   * The equality delete files to index. Complete: those some data file uses; else every one of the
   * version (the lookups check sequence numbers and partitions as planning does, so a file that
   * applies to no data file changes nothing).
   */
  private equalityFiles(): PlannedFile[] {
    const files = this.full ? [...new Map(this.full.files.flatMap((f) => f.deletes).map((d) => [d.path, d])).values()] : this.source.deleteFiles;
    return files.filter((d) => d.content === FILE_CONTENT.equalityDeletes);
  }

  private versionDeletes(): Promise<VersionDeletes> {
    if (!this.deletes) {
      this.deletes = loadVersionDeletes(this.cache, this.source.table, this.equalityFiles(), this.positions);
      this.deletes.catch(() => (this.deletes = null));
    }
    return this.deletes;
  }

  /**
   * The equality deletes to mask data file `f` with. While the version's whole index is not loaded
   * and `f`'s equality deletes match on one integer key: only their deleted keys within `f`'s key
   * range (its manifest bounds), from the delete files' pages that may hold them (a page deep in
   * the table masks the files before it without decoding every deleted key of the version). Else,
   * or when that range spans much of a delete file's (overlapping files would each read it all),
   * the whole index, loaded once.
   */
  private async equalityFor(f: PlannedDataFile): Promise<EqualityGroup[]> {
    if (this.deletes === null) {
      const range = this.keyRange(f);
      if (range) {
        const equality = f.deletes.filter((d) => d.content === FILE_CONTENT.equalityDeletes);
        const within = await loadEqualityWithin(this.cache, this.source.table, equality, range.lo, range.hi);
        if (within) return within;
      }
    }
    return (await this.versionDeletes()).equality;
  }

  /**
   * `f`'s bounds of the one integer key of its equality deletes (from its manifest entry), when
   * each of those delete files' key ranges overlaps it by at most `withinFraction` of its width;
   * else null.
   */
  private keyRange(f: PlannedDataFile): { lo: number; hi: number } | null {
    const equality = f.deletes.filter((d) => d.content === FILE_CONTENT.equalityDeletes);
    const ids = new Set(equality.flatMap((d) => d.dataFile.equalityIds ?? []));
    if (ids.size !== 1) return null;
    const id = [...ids][0]!;
    const field = fieldsById(this.source.table.metadata).get(id);
    if (!field || (field.type !== 'long' && field.type !== 'int')) return null;
    const bounds = (d: { lowerBounds: Map<number, Uint8Array> | null; upperBounds: Map<number, Uint8Array> | null }) => {
      const lo = d.lowerBounds?.get(id);
      const hi = d.upperBounds?.get(id);
      if (!lo || !hi) return null;
      try {
        const l = Number(decodeSingleValue(field.type, lo) as number | bigint);
        const h = Number(decodeSingleValue(field.type, hi) as number | bigint);
        return Number.isSafeInteger(l) && Number.isSafeInteger(h) && l <= h ? { lo: l, hi: h } : null;
      } catch {
        return null; // a bound we cannot decode: the whole index is always correct
      }
    };
    const range = bounds(f.dataFile);
    if (!range) return null;
    for (const d of equality) {
      const b = bounds(d.dataFile);
      if (!b) return null;
      const overlap = Math.min(range.hi, b.hi) - Math.max(range.lo, b.lo) + 1;
      if (overlap > this.withinFraction * (b.hi - b.lo + 1)) return null;
    }
    return range;
  }

  /** The data file with its footer read (through the row-group cache). */
  open(f: PlannedDataFile): Promise<RangedParquetFile> {
    checkDataFileFormat(f);
    return this.cache.open(f.path, f.fileSizeInBytes, 'data file');
  }

  /** The cache key of a data file's live mask: the file and the deletes applying to it. */
  private maskKey(f: PlannedDataFile): string {
    // Asked for every file on each page and count of a version: made once per planned file.
    let key = this.maskKeys.get(f);
    if (key === undefined) {
      key = JSON.stringify([f.path, f.fileSizeInBytes, f.sequenceNumber.toString(), partitionKeyOf(f), f.deletes.map((d) => d.path).sort()]);
      this.maskKeys.set(f, key);
    }
    return key;
  }

  /** Row groups of a data file with their live rows (masks from positions and key columns). */
  fileLive(f: PlannedDataFile): Promise<FileLive> {
    return this.masks.get(this.maskKey(f), async () => {
      const file = await this.open(f);
      const groups = file.footer.rowGroups;
      if (f.deletes.length === 0) return { rowGroups: groups.map((g) => ({ rows: g.numRows, live: g.numRows, mask: null })), live: groups.reduce((n, g) => n + g.numRows, 0) };
      const equality = f.deletes.some((d) => d.content === FILE_CONTENT.equalityDeletes) ? await this.equalityFor(f) : [];
      const fileRows = groups.reduce((n, g) => n + g.numRows, 0);
      // One mask over the file; each row group's mask is a view of it.
      const fileMask = new Uint8Array(fileRows).fill(1);
      for (const d of f.deletes) {
        if (d.content !== FILE_CONTENT.positionDeletes) continue;
        for (const p of (await this.positions.positionsOf(d)).get(f.path) ?? []) if (p >= 0 && p < fileRows) fileMask[p] = 0;
      }
      const rowGroups: RowGroupLive[] = [];
      let first = 0;
      for (const [g, rg] of groups.entries()) {
        const mask = fileMask.subarray(first, first + rg.numRows);
        await this.maskEquality(f, file, equality, mask, (names) => this.cache.read(file, g, names));
        let live = 0;
        for (let i = 0; i < mask.length; i++) live += mask[i]!;
        rowGroups.push({ rows: rg.numRows, live, mask });
        first += rg.numRows;
      }
      return { rowGroups, live: rowGroups.reduce((n, g) => n + g.live, 0) };
    });
  }

  /**
   * Clears in `mask` (rows [0, mask.length) of a run of a row group's rows) the rows that the
   * version's equality deletes remove. `read` gives the key columns (names in the file) with their
   * chunks starting at the run's first row.
   */
  private async maskEquality(f: PlannedDataFile, file: RangedParquetFile, equality: EqualityGroup[], mask: Uint8Array, read: (names: string[]) => Promise<Map<string, ColumnChunks>>): Promise<void> {
    if (!f.deletes.some((d) => d.content === FILE_CONTENT.equalityDeletes)) return;
    const rows = mask.length;
    const seq = Number(f.sequenceNumber);
    const part = partitionKeyOf(f);
    const spec = this.source.table.metadata.partitionSpecs.find((s) => s.specId === f.specId);
    for (const group of equality) {
      const scoped = group.byPartition.get(part);
      if (group.global.size === 0 && !scoped) continue;
      const names = group.fields.map((field) => file.columns.byFieldId.get(field.id) ?? null);
      const columns = await read(names.filter((n): n is string => n !== null));
      // One integer key column: a typed array and a binary search per row, no boxing.
      const ints = group.integer && names[0] !== null && names.length === 1 ? integerKeys(columns.get(names[0]!)!.chunks, group.fields[0]!) : null;
      const keys: ArrayLike<unknown> =
        ints ??
        tupleKeys(
          group.fields.map((field, k) => {
            const n = names[k] ?? null;
            if (n !== null) return columnKeys(columns.get(n)!.chunks, field, `${f.path}: ${field.name}`);
            // A key column the file lacks reads as its identity partition value or initial-default.
            const pi = spec?.fields.findIndex((pf) => pf.sourceId === field.id && pf.transform === 'identity') ?? -1;
            return new Array<unknown>(rows).fill(normalizeKey(pi >= 0 ? f.partition[pi] : (field.initialDefault ?? null)));
          }),
          rows,
        );
      let global = group.global.size > 0 ? group.global : null;
      let scopedHere = scoped ?? null;
      if (ints) {
        // Only the deleted keys within this run's key range can match its rows.
        let lo = Infinity;
        let hi = -Infinity;
        let ascending = true;
        for (let i = 0; i < rows; i++) {
          const k = ints[i]!;
          if (k < lo) lo = k;
          if (k > hi) hi = k;
          if (i > 0 && k < ints[i - 1]!) ascending = false;
        }
        global = global?.within?.(lo, hi) ?? global;
        scopedHere = scopedHere?.within?.(lo, hi) ?? scopedHere;
        // Keys in order (files written in key order, as a CDC snapshot or an append of ids): one
        // merge walk against the sorted deleted keys instead of a search per row.
        if (ascending && (!global || global.maskAscending?.(ints, mask, seq)) && (!scopedHere || scopedHere.maskAscending?.(ints, mask, seq))) continue;
      }
      for (let i = 0; i < rows; i++) {
        if (!mask[i]) continue;
        const k = keys[i];
        if ((global && (global.get(k) ?? -1) > seq) || (scopedHere && (scopedHere.get(k) ?? -1) > seq)) mask[i] = 0;
      }
    }
  }

  /**
   * The live mask of the first rows of row group `g` of a data file with deletes, covering at
   * least `live` live rows or the whole group: the key columns are read page by page from the
   * group's start (through the offset index), so the first page of a large file masks a few
   * thousand rows, not the whole file. `covered` rows are masked.
   */
  private async prefixLive(f: PlannedDataFile, g: number, live: number): Promise<{ mask: Uint8Array; live: number; covered: number; whole: boolean }> {
    const key = `${this.maskKey(f)}#${g}`;
    const known = this.prefixes.get(key);
    if (known && (known.live >= live || known.whole)) return known;
    const prefix = await this.computePrefixLive(f, g, live);
    if (!known || prefix.covered > known.covered) {
      this.prefixes.delete(key);
      this.prefixes.set(key, prefix);
      if (this.prefixes.size > MAX_PREFIXES) this.prefixes.delete(this.prefixes.keys().next().value!);
    }
    return prefix;
  }

  private async computePrefixLive(f: PlannedDataFile, g: number, live: number): Promise<{ mask: Uint8Array; live: number; covered: number; whole: boolean }> {
    const file = await this.open(f);
    const groupRows = file.footer.rowGroups[g]!.numRows;
    const first = file.footer.rowGroups.slice(0, g).reduce((n, rg) => n + rg.numRows, 0);
    const positions: number[][] = [];
    for (const d of f.deletes) if (d.content === FILE_CONTENT.positionDeletes) positions.push((await this.positions.positionsOf(d)).get(f.path) ?? []);
    const equality = f.deletes.some((d) => d.content === FILE_CONTENT.equalityDeletes);
    const keyFields = equality ? this.keyFieldsOf(f) : [];
    let want = firstRowsWanted(groupRows, live);
    for (;;) {
      let covered = equality ? groupRows : want;
      let read: Map<string, ColumnChunks> | null = null;
      if (equality) {
        // Every key column, read together from the group's first row; the pages read may hold
        // more rows than asked: mask all of them (the shortest column bounds it).
        const names = this.keyColumnNames(file, keyFields);
        read = await this.cache.readRows(file, g, names, 0, want);
        // Pages of a read from row 0 start at row 0 (a column read whole does too).
        for (const c of read.values()) covered = Math.min(covered, c.rowStart + c.chunks.reduce((n, d) => n + d.length, 0));
      }
      const mask = new Uint8Array(covered).fill(1);
      for (const list of positions) for (const p of list) if (p >= first && p < first + covered) mask[p - first] = 0;
      if (read) {
        const sliced = new Map([...read].map(([n, c]) => [n, { chunks: sliceChunks(c, -c.rowStart, covered - c.rowStart), bytes: c.bytes, rowStart: 0 }] as const));
        const groups = await this.prefixEquality(file, keyFields, sliced);
        await this.maskEquality(f, file, groups, mask, async (names) => new Map(names.map((n) => [n, sliced.get(n)!] as const)));
      }
      let n = 0;
      for (let i = 0; i < covered; i++) n += mask[i]!;
      if (n >= live || covered >= groupRows) return { mask, live: n, covered, whole: covered >= groupRows };
      want = Math.min(groupRows, Math.max(covered * 4, want * 4));
    }
  }

  /** The fields of the version's equality deletes (any group), each once. */
  private keyFieldsOf(f: PlannedDataFile): NestedField[] {
    const all = fieldsById(this.source.table.metadata);
    const out = new Map<number, NestedField>();
    for (const d of [...f.deletes, ...this.equalityFiles()]) if (d.content === FILE_CONTENT.equalityDeletes) for (const field of equalityFieldsOf(d, all)) out.set(field.id, field);
    return [...out.values()];
  }

  /**
   * The equality deletes to mask the first rows of a file with (their key columns given): while
   * the version's whole index is not loaded and every delete file has one integer key, only the
   * deleted keys within those rows' key range, from the delete files' pages that may hold them
   * (loadEqualityWithin); else the whole index.
   */
  private async prefixEquality(file: RangedParquetFile, keyFields: NestedField[], columns: Map<string, ColumnChunks>): Promise<EqualityGroup[]> {
    if (this.deletes === null && keyFields.length === 1) {
      const name = file.columns.byFieldId.get(keyFields[0]!.id);
      const ints = name !== undefined ? integerKeys(columns.get(name)!.chunks, keyFields[0]!) : null;
      if (ints && ints.length > 0) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = 0; i < ints.length; i++) {
          if (ints[i]! < lo) lo = ints[i]!;
          if (ints[i]! > hi) hi = ints[i]!;
        }
        const within = await loadEqualityWithin(this.cache, this.source.table, this.equalityFiles(), lo, hi);
        if (within) return within;
      }
    }
    return (await this.versionDeletes()).equality;
  }

  /** Names in `file` of the given fields (those it has), each once. */
  private keyColumnNames(file: RangedParquetFile, fields: NestedField[]): string[] {
    return [...new Set(fields.map((field) => file.columns.byFieldId.get(field.id) ?? null).filter((n): n is string => n !== null))];
  }

  /**
   * Starts reading rows [0, rows) of row group 0 of a data file for the window's columns and the
   * version's equality key columns, as one read of their pages (in one request where the storage
   * reads several ranges at once); prefixLive and readColumns then find them in the cache.
   */
  private prefetchFirstRows(f: PlannedDataFile, file: RangedParquetFile, fields: NestedField[], rows: number): void {
    if (rows <= 0) return;
    const equality = f.deletes.filter((d) => d.content === FILE_CONTENT.equalityDeletes);
    const allFields = equality.length > 0 ? fieldsById(this.source.table.metadata) : null;
    const keyFields = allFields ? equality.flatMap((d) => (d.dataFile.equalityIds ?? []).map((id) => allFields.get(id)).filter((x): x is NestedField => !!x)) : [];
    const names = this.keyColumnNames(file, [...keyFields, ...fields]);
    if (names.length > 0) this.cache.readRows(file, 0, names, 0, rows).catch(() => undefined); // a failure surfaces in the reads that follow
  }

  /**
   * Live rows [offset, offset + limit) in file order (the order of the version's unsorted pages),
   * as canonical values of `fields` (top-level fields of the plan's schema), one array per row.
   * Data manifests are read as the window reaches them; a file with deletes whose live rows are
   * wanted from near its start is masked only as far as the window needs (prefixLive).
   */
  async window(fields: NestedField[], offset: number, limit: number): Promise<unknown[][]> {
    const out: unknown[][] = [];
    let before = 0; // live rows in the files before the current one
    for (let group = 0; group < this.source.groupCount && out.length < limit; group++) {
      // Past the first data manifest (a deep page): the next few are read meanwhile, not all of
      // them (a page at 60% needs 60% of them).
      if (group > 0) for (let k = group + 1; k <= group + MANIFESTS_AHEAD && k < this.source.groupCount; k++) this.source.dataFiles(k).catch(() => undefined); // errors surface when awaited
      const files = await this.source.dataFiles(group);
      for (const [i, f] of files.entries()) {
        if (out.length >= limit) break;
        // A file whose live count is known is skipped without opening it: without deletes by its
        // record count, else by the count kept from an earlier mask (this version's count, or
        // another version's sharing the file and its deletes).
        const known = this.liveKnown(f);
        if (known !== undefined && before + known <= offset) {
          before += known;
          continue;
        }
        const skip = offset + out.length - before; // live rows of this file to skip
        if (f.deletes.length > 0 && skip < PREFIX_MAX_SKIP && !this.masks.has(this.maskKey(f))) {
          // Near the file's start and not masked yet: mask only the first rows of its row groups.
          // The delete files' footers are read with the data file's; then the pages of the first
          // rows of every wanted column (and the key columns) are read at once.
          for (const d of this.equalityFiles()) this.cache.open(d.path, d.fileSizeInBytes, 'equality delete file').catch(() => undefined); // footers meanwhile; errors surface when read
          const file = await this.open(f);
          this.prefetchFirstRows(f, file, fields, firstRowsWanted(file.footer.rowGroups[0]?.numRows ?? 0, skip + limit - out.length));
          let liveBefore = 0; // live rows of the file's row groups before g (those masked whole)
          let taken = 0; // rows of this file put in the window
          for (let g = 0; g < file.footer.rowGroups.length && out.length < limit; g++) {
            const start = skip + taken - liveBefore; // live rows of this group to skip
            const prefix = await this.prefixLive(f, g, start + limit - out.length);
            if (start < prefix.live) {
              // Fills the window unless the group is masked whole (prefixLive covers enough rows).
              const want = Math.min(limit - out.length, prefix.live - start);
              const [from, to] = livePositions(prefix.mask, start, want);
              const columns = await this.readColumns(f, g, fields, from, to);
              for (let r = 0; r < to - from; r++) if (prefix.mask[from + r]) out.push(columns.map((c) => c[r]));
              taken += want;
            }
            liveBefore += prefix.live;
          }
          if (out.length >= limit) break;
          // Every row group was masked whole: the file's live rows are known (and kept).
          this.masks.recordLive(this.maskKey(f), liveBefore);
          before += liveBefore;
          continue;
        }
        if (f.deletes.length > 0 && before + f.recordCount < offset) {
          // Likely skipped whole: the next files with deletes are masked meanwhile.
          for (const next of files.slice(i + 1).filter((x) => this.liveKnown(x) === undefined).slice(0, MASKS_AHEAD)) this.fileLive(next).catch(() => undefined); // errors surface when awaited
        }
        const fileLive = known ?? (await this.fileLive(f)).live;
        if (before + fileLive <= offset) {
          before += fileLive;
          continue;
        }
        const live = await this.fileLive(f);
        for (const [g, rg] of live.rowGroups.entries()) {
          if (out.length >= limit) break;
          const start = Math.max(0, offset + out.length - before); // live rows of this group to skip
          if (start >= rg.live) {
            before += rg.live;
            continue;
          }
          const want = Math.min(limit - out.length, rg.live - start);
          // Positions in the group of the wanted live rows: [from, to).
          const [from, to] = rg.mask ? livePositions(rg.mask, start, want) : [start, start + want];
          const columns = await this.readColumns(f, g, fields, from, to);
          for (let r = 0; r < to - from; r++) if (!rg.mask || rg.mask[from + r]) out.push(columns.map((c) => c[r]));
          before += rg.live;
        }
      }
    }
    return out;
  }

  /** Rows [from, to) of row group `g` of a data file, as canonical values per field. */
  async readColumns(f: PlannedDataFile, g: number, fields: NestedField[], from: number, to: number): Promise<unknown[][]> {
    const file = await this.open(f);
    const names = fields.map((field) => file.columns.byFieldId.get(field.id) ?? null);
    const read = await this.cache.readRows(file, g, [...new Set(names.filter((n): n is string => n !== null))], from, to);
    const spec = this.source.table.metadata.partitionSpecs.find((s) => s.specId === f.specId);
    return fields.map((field, k) => {
      const n = names[k] ?? null;
      if (n === null) {
        // Spec: a column missing from a file is its identity partition value, else its initial-default.
        const pi = spec?.fields.findIndex((pf) => pf.sourceId === field.id && pf.transform === 'identity') ?? -1;
        return new Array<unknown>(to - from).fill(pi >= 0 ? f.partition[pi] : (field.initialDefault ?? null));
      }
      const column = read.get(n)!;
      return sliceChunks(column, from - column.rowStart, to - column.rowStart).flatMap((d) => convertArrowData(d, field.type, `${f.path}: ${field.name}`));
    });
  }
}

/** Rows of a row group of `groupRows` rows masked first to find `live` live rows (5% deleted needs ~1.05×). */
function firstRowsWanted(groupRows: number, live: number): number {
  return Math.min(groupRows, Math.ceil(live * 1.25) + 64);
}

/** Rows in a plan's data files before deletes (the manifests' record counts). */
export function recordsOf(plan: ScanPlan): number {
  return plan.files.reduce((n, f) => n + f.recordCount, 0);
}

/** Positions [from, to) in a row group spanning its live rows number start .. start + want - 1. */
function livePositions(mask: Uint8Array, start: number, want: number): [number, number] {
  let seen = 0;
  let i = 0;
  for (; i < mask.length; i++) {
    if (!mask[i]) continue;
    if (seen === start) break;
    seen++;
  }
  const from = i;
  let taken = 0;
  for (; i < mask.length && taken < want; i++) if (mask[i]) taken++;
  return [from, i];
}

