import { TidemarkError } from '../errors';
import { valueKey } from '../lake';
import type { RowDelta } from '../lake/write';

type LakeRow = Record<string, unknown>;

/**
 * The changes of one target table within one commit interval, deduplicated by key: only each
 * key's final state is written. A key whose first change in the interval is an insert cannot
 * exist in the lake yet (exactly-once: its insert was never committed), so it needs no equality
 * delete; any other key gets one. Because intermediate states are never written, no row written
 * in this commit is later deleted in it, so position deletes (Flink's way of retracting rows it
 * streamed earlier in a checkpoint) are never needed.
 */
export class TableBuffer {
  /** `key` is only filled once the entry is deleted: a put's key is read from its row. */
  private readonly byKey = new Map<string | number | bigint, { row: LakeRow | null; priorMayExist: boolean; key: LakeRow | null }>();
  /** Rows of a table without identifier fields: insert-only. */
  private readonly keyless: LakeRow[] = [];
  changes = 0;

  constructor(
    readonly tableId: string,
    private readonly key: string[],
  ) {}

  /**
   * The map key of a row, without allocating a key object (hot path). One integer column: the
   * number or bigint itself (no string to build and hash; a column's values all have one lake
   * type, and valueKey texts start with a letter, so they never meet a number); else valueKey.
   */
  private textOf(row: LakeRow): string | number | bigint {
    const key = this.key;
    if (key.length === 1) {
      const v = row[key[0]!];
      return typeof v === 'number' || typeof v === 'bigint' ? v : valueKey(v ?? null);
    }
    return valueKey(key.map((k) => row[k] ?? null));
  }

  private keyRow(row: LakeRow): LakeRow {
    const key: LakeRow = {};
    for (const k of this.key) key[k] = row[k] ?? null;
    return key;
  }

  /** An insert (`mayExist` false) or the after image of an update / a colliding insert. */
  put(row: LakeRow, mayExist: boolean): void {
    this.changes++;
    if (this.key.length === 0) {
      if (mayExist) throw new TidemarkError('Unsupported', `${this.tableId} has no primary key: an update cannot be applied (set primary-keys in a transform)`, { table: this.tableId });
      this.keyless.push(row);
      return;
    }
    const text = this.textOf(row);
    const entry = this.byKey.get(text);
    if (entry) entry.row = row;
    else this.byKey.set(text, { row, priorMayExist: mayExist, key: null });
  }

  delete(row: LakeRow): void {
    this.changes++;
    if (this.key.length === 0) throw new TidemarkError('Unsupported', `${this.tableId} has no primary key: a delete cannot be applied (set primary-keys in a transform)`, { table: this.tableId });
    const text = this.textOf(row);
    const entry = this.byKey.get(text);
    if (entry) {
      entry.row = null;
      entry.key ??= this.keyRow(row);
    } else this.byKey.set(text, { row: null, priorMayExist: true, key: this.keyRow(row) });
  }

  get empty(): boolean {
    return this.byKey.size === 0 && this.keyless.length === 0;
  }

  /** The interval's net effect as one row delta (inserts, upserts, key deletes). */
  toDelta(): { delta: RowDelta; rows: number } {
    const inserts: LakeRow[] = [...this.keyless];
    const upserts: LakeRow[] = [];
    const deleteKeys: LakeRow[] = [];
    for (const e of this.byKey.values()) {
      if (e.row && e.priorMayExist) upserts.push(e.row);
      else if (e.row) inserts.push(e.row);
      else if (e.priorMayExist) deleteKeys.push(e.key!);
    }
    return { delta: { inserts, upserts, deleteKeys }, rows: inserts.length + upserts.length + deleteKeys.length };
  }

  clear(): void {
    this.byKey.clear();
    this.keyless.length = 0;
    this.changes = 0;
  }
}
