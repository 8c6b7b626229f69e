/**
 * What differs between two versions of an Iceberg table, read from the files that differ only.
 *
 * A data file present in both versions with the same delete files applying to it holds the same live
 * rows in both: it cancels out and is never read. What is left:
 *  - data files in one version only (a commit's new files, a compaction's inputs and outputs): their
 *    live rows under that version's deletes;
 *  - data files in both whose deletes differ (a commit's new delete files): only the rows whose
 *    liveness differs between the versions.
 * Liveness comes from each version's live-row masks (core/query/pages: positions and equality key
 * columns only, one Arrow batch per row group, shared with the grid's pages and counts); values are
 * read afterwards only for the rows a caller matches, compares or lists, by position, through the
 * same row-group cache (pages where few rows of a group are wanted). Nothing is loaded into DuckDB:
 * a diff of one commit deleting 5% of a 10M-row table holds a mask per file and the candidates'
 * positions, not tables of keys.
 *
 * Spec (format v2, "Scan Planning"): the delete files applying to a data file are those the plan
 * assigns (position deletes: same file, data seq ≤ delete seq; equality deletes: data seq < delete
 * seq, same partition unless the delete's spec is unpartitioned). Equality matches NULL to NULL.
 */
import type { NestedField } from '../lake';
import type { PlannedDataFile, PlannedFile } from '../lake';
import type { LoadedTable } from '../lake';
import type { QueryEngine } from './engine';
import { readFileValues } from './pages/file-values';
import type { FileLive } from './pages/version-rows';

/** A data file taking part in a delta: the version(s) it belongs to, as each version plans it. */
export interface DeltaFile {
  index: number;
  /** The file as planned in version A / B (undefined when it is not in that version). */
  inA?: PlannedDataFile;
  inB?: PlannedDataFile;
}

/** Rows of delta files, in (file index, position) order. */
export interface DeltaRows {
  length: number;
  /** Index of each row's file in `VersionDelta.files`. */
  file: Uint32Array;
  /** Row position in its data file. */
  pos: Float64Array;
}

/**
 * The rows that can differ between versions A and B: `a` live in A only, `b` live in B only. Every
 * other row is live in both or in neither.
 */
export interface VersionDelta {
  files: DeltaFile[];
  a: DeltaRows;
  b: DeltaRows;
  /**
   * Values of `fields` (matched by field id in every file) at rows `at` of `rows` (indexes into
   * `rows`, any order): one array per field, aligned with `at`.
   */
  readValues(rows: DeltaRows, at: ArrayLike<number>, fields: NestedField[]): Promise<unknown[][]>;
  /** Data files read for the delta (not counting files that cancelled out), and files cancelled. */
  stats: { filesRead: number; filesCancelled: number };
}

/** Data files whose masks are computed at once (I/O of one overlaps decoding of another). */
const MASK_CONCURRENCY = 3;

const deleteSet = (files: PlannedFile[]) => files.map((d) => d.path).sort().join('\u0000');

/** Growable (file, pos) lists. */
class RowsBuilder {
  private file = new Uint32Array(1024);
  private pos = new Float64Array(1024);
  length = 0;
  push(file: number, pos: number) {
    if (this.length === this.file.length) {
      const f = new Uint32Array(this.length * 2);
      f.set(this.file);
      this.file = f;
      const p = new Float64Array(this.length * 2);
      p.set(this.pos);
      this.pos = p;
    }
    this.file[this.length] = file;
    this.pos[this.length++] = pos;
  }
  build(): DeltaRows {
    return { length: this.length, file: this.file.slice(0, this.length), pos: this.pos.slice(0, this.length) };
  }
}

export async function planVersionDelta(engine: QueryEngine, table: LoadedTable, a: bigint, b: bigint): Promise<VersionDelta> {
  const [versionA, versionB] = await Promise.all([engine.lazy.version(table, { snapshotId: a }), engine.lazy.version(table, { snapshotId: b })]);
  const metadata = table.metadata;
  const byPath = new Map<string, DeltaFile>();
  let cancelled = 0;
  for (const f of versionA.plan.files) byPath.set(f.path, { index: 0, inA: f });
  for (const f of versionB.plan.files) {
    const d = byPath.get(f.path);
    if (!d) byPath.set(f.path, { index: 0, inB: f });
    else if (deleteSet(d.inA!.deletes) === deleteSet(f.deletes)) {
      byPath.delete(f.path);
      cancelled++;
    } else d.inB = f;
  }
  const files = [...byPath.values()];
  files.forEach((f, i) => (f.index = i));

  // Live masks of each delta file in each version holding it, a few files at a time.
  const masks: { a: FileLive | null; b: FileLive | null }[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]!;
      const [ma, mb] = await Promise.all([f.inA ? versionA.fileLive(f.inA) : null, f.inB ? versionB.fileLive(f.inB) : null]);
      masks[f.index] = { a: ma, b: mb };
    }
  };
  await Promise.all(Array.from({ length: Math.min(MASK_CONCURRENCY, files.length) }, worker));

  // Rows whose liveness differs, in file then position order.
  const onlyA = new RowsBuilder();
  const onlyB = new RowsBuilder();
  for (const f of files) {
    const { a: ma, b: mb } = masks[f.index]!;
    const groups = (ma ?? mb)!.rowGroups;
    let start = 0;
    for (const [g, rg] of groups.entries()) {
      const maskA = ma ? ma.rowGroups[g]!.mask : null;
      const maskB = mb ? mb.rowGroups[g]!.mask : null;
      for (let i = 0; i < rg.rows; i++) {
        const liveA = ma !== null && (maskA === null || maskA[i] === 1);
        const liveB = mb !== null && (maskB === null || maskB[i] === 1);
        if (liveA && !liveB) onlyA.push(f.index, start + i);
        else if (liveB && !liveA) onlyB.push(f.index, start + i);
      }
      start += rg.rows;
    }
  }

  const readValues = async (rows: DeltaRows, at: ArrayLike<number>, fields: NestedField[]): Promise<unknown[][]> => {
    const out = fields.map(() => new Array<unknown>(at.length));
    // Grouped by file, positions ascending (readFileValues reads each row group once).
    const order = Array.from(at, (_r, k) => k).sort((x, y) => rows.file[at[x]!]! - rows.file[at[y]!]! || rows.pos[at[x]!]! - rows.pos[at[y]!]!);
    for (let s = 0; s < order.length; ) {
      const fileIndex = rows.file[at[order[s]!]!]!;
      let e = s;
      while (e < order.length && rows.file[at[order[e]!]!] === fileIndex) e++;
      const slice = order.slice(s, e);
      // Equal positions (a row asked twice) are read once.
      const positions = [...new Set(slice.map((k) => rows.pos[at[k]!]!))];
      const index = new Map(positions.map((p, i) => [p, i]));
      const f = files[fileIndex]!;
      const values = await readFileValues(engine.lazy.cache, metadata, (f.inB ?? f.inA)!, fields, positions);
      for (const k of slice) {
        const i = index.get(rows.pos[at[k]!]!)!;
        values.forEach((column, c) => (out[c]![k] = column[i]));
      }
      s = e;
    }
    return out;
  };

  return { files, a: onlyA.build(), b: onlyB.build(), readValues, stats: { filesRead: files.length, filesCancelled: cancelled } };
}
