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
import type { Data } from 'apache-arrow';
import { convertArrowData } from '../../lake';
import { checkDataFileFormat } from '../../lake';
import { FILE_CONTENT, type NestedField } from '../../lake';
import type { PlannedDataFile, ScanPlan } from '../../lake';
import type { RangedParquetFile } from '../parquet';
import { columnKeys, integerKeys, loadVersionDeletes, normalizeKey, partitionKeyOf, tupleKeys, type VersionDeletes } from './delete-index';
import type { ColumnChunks, RowGroupCache } from './row-group-cache';

/** One row group of a data file: its rows, and which are live (null: all of them). */
export interface RowGroupLive {
  rows: number;
  live: number;
  /** 1 = live, per row of the group; null when no delete applies to the file. */
  mask: Uint8Array | null;
}

export interface FileLive {
  rowGroups: RowGroupLive[];
  live: number;
}

/** Live-row masks of data files, shared across versions: key = data file + the deletes applying to it. */
export class LiveMaskCache {
  private readonly entries = new Map<string, Promise<FileLive>>();
  private readonly sizes = new Map<string, number>();
  private held = 0;
  constructor(private readonly maxBytes = 128 * 1024 * 1024) {}

  get(key: string, compute: () => Promise<FileLive>): Promise<FileLive> {
    let p = this.entries.get(key);
    if (p) {
      this.entries.delete(key);
      this.entries.set(key, p);
      return p;
    }
    p = compute();
    this.entries.set(key, p);
    p.then(
      (v) => {
        if (this.entries.get(key) !== p || this.sizes.has(key)) return;
        const size = v.rowGroups.reduce((n, g) => n + (g.mask?.length ?? 0) + 32, 0);
        this.sizes.set(key, size);
        this.held += size;
        for (const k of this.entries.keys()) {
          if (this.held <= this.maxBytes) break;
          const s = this.sizes.get(k);
          if (s === undefined || k === key) continue;
          this.entries.delete(k);
          this.sizes.delete(k);
          this.held -= s;
        }
      },
      () => this.entries.delete(key),
    );
    return p;
  }
}

/** Data files whose live counts are computed at once (I/O of one overlaps decoding of another). */
const COUNT_CONCURRENCY = 3;

export class VersionRows {
  private deletes: Promise<VersionDeletes> | null = null;
  private exactCount: Promise<number> | null = null;
  private counted: number | null = null;
  readonly hasDeletes: boolean;
  /** Rows in the version's data files before deletes (the manifests' record counts). */
  readonly recordTotal: number;

  constructor(
    private readonly cache: RowGroupCache,
    private readonly masks: LiveMaskCache,
    readonly plan: ScanPlan,
  ) {
    this.hasDeletes = plan.files.some((f) => f.deletes.length > 0);
    this.recordTotal = plan.files.reduce((n, f) => n + f.recordCount, 0);
  }

  /** The exact live count when known without reading (no deletes) or already counted; else null. */
  knownCount(): number | null {
    return this.hasDeletes ? this.counted : this.recordTotal;
  }

  /**
   * Live rows of the version: the manifests' record counts for files without deletes; the others
   * from their positions and equality key columns (computed once, then cached).
   */
  count(): Promise<number> {
    if (!this.hasDeletes) return Promise.resolve(this.recordTotal);
    if (!this.exactCount) {
      this.exactCount = (async () => {
        const files = this.plan.files;
        let next = 0;
        let total = 0;
        const worker = async () => {
          while (next < files.length) {
            const f = files[next++]!;
            // Not `total += await …`: that reads `total` before the await, losing other workers' sums.
            const live = f.deletes.length === 0 ? f.recordCount : (await this.fileLive(f)).live;
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

  private versionDeletes(): Promise<VersionDeletes> {
    if (!this.deletes) {
      this.deletes = loadVersionDeletes(this.cache, this.plan);
      this.deletes.catch(() => (this.deletes = null));
    }
    return this.deletes;
  }

  /** The data file with its footer read (through the row-group cache). */
  open(f: PlannedDataFile): Promise<RangedParquetFile> {
    checkDataFileFormat(f);
    return this.cache.open(f.path, f.fileSizeInBytes, 'data file');
  }

  /** Row groups of a data file with their live rows (masks from positions and key columns). */
  fileLive(f: PlannedDataFile): Promise<FileLive> {
    const key = JSON.stringify([f.path, f.fileSizeInBytes, f.sequenceNumber.toString(), partitionKeyOf(f), f.deletes.map((d) => d.path).sort()]);
    return this.masks.get(key, async () => {
      const file = await this.open(f);
      const groups = file.footer.rowGroups;
      if (f.deletes.length === 0) return { rowGroups: groups.map((g) => ({ rows: g.numRows, live: g.numRows, mask: null })), live: groups.reduce((n, g) => n + g.numRows, 0) };
      const deletes = await this.versionDeletes();
      const fileRows = groups.reduce((n, g) => n + g.numRows, 0);
      // One mask over the file; each row group's mask is a view of it.
      const fileMask = new Uint8Array(fileRows).fill(1);
      for (const d of f.deletes) {
        if (d.content !== FILE_CONTENT.positionDeletes) continue;
        for (const p of deletes.positions.get(d.path)?.get(f.path) ?? []) if (p >= 0 && p < fileRows) fileMask[p] = 0;
      }
      const hasEquality = f.deletes.some((d) => d.content === FILE_CONTENT.equalityDeletes);
      const seq = Number(f.sequenceNumber);
      const part = partitionKeyOf(f);
      const spec = this.plan.table.metadata.partitionSpecs.find((s) => s.specId === f.specId);
      const rowGroups: RowGroupLive[] = [];
      let first = 0;
      for (const [g, rg] of groups.entries()) {
        const mask = fileMask.subarray(first, first + rg.numRows);
        if (hasEquality) {
          for (const group of deletes.equality) {
            const scoped = group.byPartition.get(part);
            if (group.global.size === 0 && !scoped) continue;
            const names = group.fields.map((field) => file.columns.byFieldId.get(field.id) ?? null);
            const read = await this.cache.read(file, g, names.filter((n): n is string => n !== null));
            // One integer key column: a typed array and a binary search per row, no boxing.
            const ints = group.integer && names[0] !== null && names.length === 1 ? integerKeys(read.get(names[0]!)!.chunks, group.fields[0]!) : null;
            const keys: ArrayLike<unknown> =
              ints ??
              tupleKeys(
                group.fields.map((field, k) => {
                  const n = names[k] ?? null;
                  if (n !== null) return columnKeys(read.get(n)!.chunks, field, `${f.path}: ${field.name}`);
                  // A key column the file lacks reads as its identity partition value or initial-default.
                  const pi = spec?.fields.findIndex((pf) => pf.sourceId === field.id && pf.transform === 'identity') ?? -1;
                  return new Array<unknown>(rg.numRows).fill(normalizeKey(pi >= 0 ? f.partition[pi] : (field.initialDefault ?? null)));
                }),
                rg.numRows,
              );
            let global = group.global.size > 0 ? group.global : null;
            let scopedHere = scoped ?? null;
            if (ints) {
              // Only the deleted keys within this row group's key range can match its rows.
              let lo = Infinity;
              let hi = -Infinity;
              for (let i = 0; i < ints.length; i++) {
                const k = ints[i]!;
                if (k < lo) lo = k;
                if (k > hi) hi = k;
              }
              global = global?.within?.(lo, hi) ?? global;
              scopedHere = scopedHere?.within?.(lo, hi) ?? scopedHere;
            }
            for (let i = 0; i < rg.numRows; i++) {
              if (!mask[i]) continue;
              const k = keys[i];
              if ((global && (global.get(k) ?? -1) > seq) || (scopedHere && (scopedHere.get(k) ?? -1) > seq)) mask[i] = 0;
            }
          }
        }
        let live = 0;
        for (let i = 0; i < mask.length; i++) live += mask[i]!;
        rowGroups.push({ rows: rg.numRows, live, mask });
        first += rg.numRows;
      }
      return { rowGroups, live: rowGroups.reduce((n, g) => n + g.live, 0) };
    });
  }

  /**
   * Live rows [offset, offset + limit) in file order (the order of the version's unsorted pages),
   * as canonical values of `fields` (top-level fields of the plan's schema), one array per row.
   */
  async window(fields: NestedField[], offset: number, limit: number): Promise<unknown[][]> {
    const out: unknown[][] = [];
    let before = 0; // live rows in the files before the current one
    for (const f of this.plan.files) {
      if (out.length >= limit) break;
      // A file without deletes is skipped by its record count, without opening it.
      const fileLive = f.deletes.length === 0 ? f.recordCount : (await this.fileLive(f)).live;
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
    return out;
  }

  /** Rows [from, to) of row group `g` of a data file, as canonical values per field. */
  async readColumns(f: PlannedDataFile, g: number, fields: NestedField[], from: number, to: number): Promise<unknown[][]> {
    const file = await this.open(f);
    const names = fields.map((field) => file.columns.byFieldId.get(field.id) ?? null);
    const read = await this.cache.readRows(file, g, [...new Set(names.filter((n): n is string => n !== null))], from, to);
    const spec = this.plan.table.metadata.partitionSpecs.find((s) => s.specId === f.specId);
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

/** Arrow chunks covering rows [from, to) of a column chunk list. */
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
