/** The TransactionBatch forms of an emitted snapshot chunk (phase.ts): rows or columns, events built on first read. */
import { columnValues } from '../columns';
import type { SourceOffset } from '../offset';
import type { ChangeEvent, Row, SnapshotColumns, TableId, TransactionBatch } from '../types';
import type { TextRows } from './text-rows';

/**
 * A chunk's batch with its converted rows as `snapshotRows`; its `events` (one `r` event a row) are
 * built on first read, so a consumer that takes the rows makes no object a row. A class (the getter
 * on its prototype) rather than an object literal with a getter closure per chunk.
 */
export class SnapshotBatch implements TransactionBatch {
  private built: ChangeEvent[] | null = null;
  readonly snapshotRows: { table: TableId; rows: Row[]; int64Numbers: string[] };

  constructor(
    table: TableId,
    rows: Row[],
    int64Numbers: string[],
    readonly endOffset: SourceOffset,
    readonly commitTsMs: number,
  ) {
    this.snapshotRows = { table, rows, int64Numbers };
  }

  get events(): ChangeEvent[] {
    if (this.built === null) {
      const { table, rows, int64Numbers } = this.snapshotRows;
      // The canonical values: bigints where the rows hold int64 numbers.
      for (const name of int64Numbers) {
        for (const row of rows) if (typeof row[name] === 'number') row[name] = BigInt(row[name]);
      }
      // Sized up front: growing it by push cost a few ns a row in copies.
      const events = new Array<ChangeEvent>(rows.length);
      for (let i = 0; i < rows.length; i++) events[i] = { op: 'r', before: null, after: rows[i]!, table, opTsMs: this.commitTsMs, offset: this.endOffset };
      this.built = events;
    }
    return this.built;
  }
}

/**
 * A chunk's batch decoded into columns (text-columns.ts) as `snapshotColumns`; its `events` are
 * built from them on first read (a consumer that cannot take columns: transforms, shard columns,
 * changelogs, the CLI's event printer).
 */
export class ColumnsSnapshotBatch implements TransactionBatch {
  private built: ChangeEvent[] | null = null;

  constructor(
    readonly snapshotColumns: SnapshotColumns,
    readonly endOffset: SourceOffset,
    readonly commitTsMs: number,
  ) {}

  get events(): ChangeEvent[] {
    if (this.built === null) {
      const { table, count, names, columns } = this.snapshotColumns;
      const values = columns.map((c) => columnValues(c, count));
      const events = new Array<ChangeEvent>(count);
      for (let i = 0; i < count; i++) {
        const row: Row = {};
        for (let c = 0; c < names.length; c++) row[names[c]!] = values[c]![i] as Row[string];
        events[i] = { op: 'r', before: null, after: row, table, opTsMs: this.commitTsMs, offset: this.endOffset };
      }
      this.built = events;
    }
    return this.built;
  }
}

/** The text rows as row objects of the server's text (the general path converts them). */
export function textRowObjects(text: TextRows): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  for (let i = 0; i < text.count; i++) rows.push(text.rawRow(i));
  return rows;
}
