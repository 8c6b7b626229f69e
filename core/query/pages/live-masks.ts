/**
 * Which rows of a data file are live under the deletes that apply to it, kept across the versions
 * of a reader: a data file and its delete files are immutable, so (file, deletes) fixes the answer
 * whatever version asks. Browser-safe.
 */

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

/**
 * Live counts kept after their masks are evicted: ~100 bytes each (the key), so a version of
 * 100k data files with deletes keeps all of its counts in ~10 MB.
 */
const MAX_LIVE_COUNTS = 100_000;

/**
 * Live-row masks of data files, shared across versions: key = data file + the deletes applying to
 * it. Masks take a byte per row and are bounded; each file's live count, once known, is kept
 * apart (bounded by MAX_LIVE_COUNTS), so that a deep page or a count after the masks were evicted
 * (a version larger than the bound) still skips the files it counted before.
 */
export class LiveMaskCache {
  private readonly entries = new Map<string, Promise<FileLive>>();
  private readonly sizes = new Map<string, number>();
  private readonly counts = new Map<string, number>();
  private held = 0;
  constructor(
    private readonly maxBytes = 128 * 1024 * 1024,
    private readonly maxCounts = MAX_LIVE_COUNTS,
  ) {}

  /** True when the mask of `key` is held or being computed. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The live rows of `key`'s file when known (computed once, even if its mask is gone), else undefined. */
  liveOf(key: string): number | undefined {
    return this.counts.get(key);
  }

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
        this.recordLive(key, v.live);
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

  /** Keeps the live rows of `key`'s file, learnt without a whole mask (a window that masked every row group). */
  recordLive(key: string, live: number): void {
    this.counts.delete(key);
    this.counts.set(key, live);
    if (this.counts.size > this.maxCounts) this.counts.delete(this.counts.keys().next().value!);
  }
}
