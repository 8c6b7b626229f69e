/**
 * Grid pages and counts of a Paimon table version read bucket by bucket: a window of rows reads
 * only the (partition, bucket) groups holding it, each merged on its own (its sorted runs by key
 * and sequence number, retractions and deletion vectors applied: core/lake/paimon's readPaimonRows
 * of the group's files, the whole-version reader's own merge). Groups come in the whole-version
 * read's order (partition values, then bucket; keys within a primary-key group), so pages equal
 * slices of that read. A group's live rows are known from its manifest entries where they say
 * (knownGroupRows) and otherwise counted by reading it; the exact total waits for that only when
 * some group's rows are not known. Browser-safe, no DuckDB.
 */
import { parseDecimalType, type NestedField } from '../../lake';
import { knownGroupRows, openPaimonVersion, paimonReadGroups, readPaimonRows, type PaimonDataFileEntry, type PaimonSnapshotSelector, type PaimonVersion } from '../../lake/paimon';
import type { StoragePort } from '../../storage';
import { checkPaimonMemoryBudget, estimatePaimonBytes } from '../memory-budget';
import { toJson } from '../paimon-view';
import { duckDbType } from '../sql-types';

export interface PaimonWindow {
  columns: NestedField[];
  rows: unknown[][];
  /** Exact live rows when `totalPending` is false; else the records before the merge (an upper bound). */
  totalRows: number;
  totalPending: boolean;
  snapshotId: bigint | null;
}

/**
 * Groups whose merged rows a version keeps for the pages that follow (the grid pages forward), at
 * most; fewer when their estimated size passes the memory budget (the one being read stays).
 */
const KEPT_GROUPS = 4;

/** One table version's pages. */
export class PaimonVersionPages {
  private readonly groups: PaimonDataFileEntry[][];
  /** Live rows per group, once known (from the manifests or a read). */
  private readonly live: (number | null)[];
  /** Recently read groups' rows (all columns), most recent last. */
  private readonly kept = new Map<number, Promise<unknown[][]>>();
  private counting: Promise<number> | null = null;

  constructor(
    private readonly storage: StoragePort,
    readonly version: PaimonVersion,
    /** The table as errors name it. */
    private readonly table: string,
    /** The engine's memory budget (bytes): one group's rows are held at once, never more. */
    private readonly budgetBytes: () => number,
  ) {
    this.groups = paimonReadGroups(version.schema, version.files);
    this.live = this.groups.map((g) => knownGroupRows(version.schema, g));
  }

  get columns(): NestedField[] {
    return this.version.schema.fields;
  }

  /** The exact live count when every group's is known, else null. */
  knownCount(): number | null {
    let n = 0;
    for (const l of this.live) {
      if (l === null) return null;
      n += l;
    }
    return n;
  }

  /** Records in the groups' files: the exact count where known, the records otherwise (an upper bound). */
  private upperBound(): number {
    return this.groups.reduce((n, g, i) => n + (this.live[i] ?? g.reduce((m, f) => m + f.recordCount, 0)), 0);
  }

  /** Group `i`'s live rows in read order, all columns (kept for the next pages). */
  private rowsOf(i: number): Promise<unknown[][]> {
    let p = this.kept.get(i);
    if (p) {
      this.kept.delete(i);
      this.kept.set(i, p);
      return p;
    }
    const files = this.groups[i]!;
    const fields = this.columns;
    checkPaimonMemoryBudget(this.table, files, fields, this.budgetBytes(), bucketName(files));
    p = readPaimonRows(this.storage, this.version.schema, files, { fields, fileSchemas: this.version.fileSchemas }).then((rows) => {
      this.live[i] = rows.length;
      return rows.map((r) => fields.map((f) => r[f.name]));
    });
    this.kept.set(i, p);
    p.catch(() => this.kept.delete(i));
    const size = (g: number) => estimatePaimonBytes(this.groups[g]!, fields);
    let held = [...this.kept.keys()].reduce((n, g) => n + size(g), 0);
    for (const g of this.kept.keys()) {
      if (this.kept.size <= KEPT_GROUPS && held <= this.budgetBytes()) break;
      if (g === i) continue;
      this.kept.delete(g);
      held -= size(g);
    }
    return p;
  }

  /** Live rows [offset, offset + limit) in the whole-version read's order. */
  async window(offset: number, limit: number): Promise<PaimonWindow> {
    const rows: unknown[][] = [];
    let before = 0;
    for (let i = 0; i < this.groups.length && rows.length < limit; i++) {
      const known = this.live[i] ?? null;
      if (known !== null && before + known <= offset) {
        before += known;
        continue;
      }
      const group = await this.rowsOf(i);
      const from = Math.max(0, offset + rows.length - before);
      for (let r = from; r < group.length && rows.length < limit; r++) rows.push(group[r]!);
      before += group.length;
    }
    const exact = this.knownCount();
    return { columns: this.columns, rows, totalRows: exact ?? this.upperBound(), totalPending: exact === null, snapshotId: this.version.snapshotId };
  }

  /** The exact live count: the manifests' where they say, else each group read (one at a time). */
  count(): Promise<number> {
    this.counting ??= (async () => {
      for (let i = 0; i < this.groups.length; i++) {
        if (this.live[i] !== null) continue;
        if (this.kept.has(i)) {
          await this.kept.get(i);
          continue;
        }
        // Not kept: only its count is wanted (its rows would push out the pages' groups).
        const files = this.groups[i]!;
        checkPaimonMemoryBudget(this.table, files, this.columns, this.budgetBytes(), bucketName(files));
        this.live[i] = (await readPaimonRows(this.storage, this.version.schema, files, { fields: [], fileSchemas: this.version.fileSchemas })).length;
      }
      return this.knownCount()!;
    })();
    this.counting.catch(() => (this.counting = null));
    return this.counting;
  }
}

/** A read group as errors name it: `bucket 3` or `bucket 3 of partition {dt=2024-01-01}`. */
function bucketName(files: PaimonDataFileEntry[]): string {
  const f = files[0]!;
  const parts = Object.entries(f.partition).map(([k, v]) => `${k}=${String(v)}`);
  return parts.length > 0 ? `bucket ${f.bucket} of partition {${parts.join(', ')}}` : `bucket ${f.bucket}`;
}

/** Opens a Paimon version for paging (its manifests read, no data file). */
export async function openPaimonPages(storage: StoragePort, root: string, selector: PaimonSnapshotSelector, table: string, budgetBytes: () => number): Promise<PaimonVersionPages> {
  return new PaimonVersionPages(storage, await openPaimonVersion(storage, root, selector), table, budgetBytes);
}

/**
 * Rows of canonical values as the grid showed them from the whole-version view: ROW, ARRAY and MAP
 * values as their JSON text (core/query/paimon-view.ts), the others as they are.
 */
export function paimonGridRows(columns: NestedField[], rows: unknown[][]): unknown[][] {
  const nested = columns.map((c, i) => (typeof c.type === 'string' ? -1 : i)).filter((i) => i >= 0);
  if (nested.length === 0) return rows;
  return rows.map((r) => {
    const out = [...r];
    for (const i of nested) out[i] = out[i] === null || out[i] === undefined ? null : toJson(out[i]);
    return out;
  });
}

/**
 * The column type the grid shows for a Paimon field: DuckDB's name for it, as DESCRIBE prints it for
 * the whole-version view (core/query/paimon-view.ts: nested columns are JSON text there).
 */
export function paimonColumnType(field: NestedField): string {
  if (typeof field.type !== 'string') return 'VARCHAR';
  const dec = parseDecimalType(field.type);
  if (dec) return dec.precision <= 38 ? `DECIMAL(${dec.precision},${dec.scale})` : 'VARCHAR';
  if (field.type === 'timestamptz') return 'TIMESTAMP WITH TIME ZONE';
  return duckDbType(field.type) ?? 'VARCHAR';
}
