import { TidemarkError } from '../../errors';
import { valueKey } from '../../lake';
import { encodeAsciiStrings, selectColumnBatch, type ColumnBatch, type ColumnDelta, type FixedWidthColumn, type VariableWidthColumn } from '../../lake/write';
import type { SnapshotColumns } from '../../cdc';
import { ColumnBuilder, columnValueAt, columnValues, isTypedColumn, isUtf8Column, type PartColumn, type TypedColumn } from './columns';
import { lakeValueConverter } from './schema';

type LakeRow = Record<string, unknown>;

/** A change of a sealed round: an insert, the after image of an update (or colliding insert), a key delete. */
export const OP_INSERT = 0;
export const OP_UPSERT = 1;
export const OP_DELETE = 2;

/**
 * One target's changes of one commit round, in arrival order and column form: `ops[i]` is change
 * i's kind and `values[c]` holds the source values of column `columns[c]` (plain, `values[c][i]`,
 * or typed: sink-columns.ts; a delete holds its key columns only, null elsewhere), not yet
 * converted to the lake type `types[c]` (toLakeValues). Plain data: it is posted to the sink
 * worker as it is (source values are primitives or bytes; typed columns' buffers are transferred).
 */
export interface SealedChanges {
  table: string;
  key: string[];
  columns: string[];
  /** Lake type of each column (sink-schema.ts lakeValueConverter). */
  types: string[];
  count: number;
  ops: number[];
  values: PartColumn[];
  /**
   * Set on a part the sink may write into data files at once (rolling-file.ts) instead of holding it
   * for the round's deduplication: this part and every part of the round before it are inserts of
   * strictly increasing keys of one integer column, so each is its own net change. A part may end
   * anywhere, inside a transaction too: nothing of it is visible before the round's commit. When a
   * later change of the round breaks the rule, the sink commits the streamed files and the rest of
   * the round as two snapshots in one metadata version (appendDataFilesThenDelta).
   * Absent: held for the round's commit.
   */
  stream?: { root: string };
}

/** A buffer column: its target name and lake type. */
export interface BufferColumn {
  name: string;
  type: string;
}

/**
 * The changes of one target table within one commit interval, appended as they come in column
 * form and converted to lake values and deduplicated by key only when committed (toLakeValues,
 * netChanges, in the sink worker): the main thread, which also reads the binlog, does no per-key
 * bookkeeping, no value conversion and builds no row object.
 */
export class TableBuffer {
  private ops: number[] = [];
  private builders: ColumnBuilder[];
  /** Reads a row's values into `scratch` (compileRowReader). */
  private readonly readRow: (row: LakeRow, out: unknown[]) => void;
  private readonly scratch: unknown[];
  private readonly names: string[];
  private readonly types: string[];
  private readonly isKey: boolean[];

  /**
   * The table root when the target's rounds may be streamed to the sink (SealedChanges.stream): a
   * one-column key, no colliding inserts, unpartitioned. A change takes effect from the next round.
   */
  streamRoot: string | null = null;
  /** This round's stream root (undefined until its first change); null once the round is held. */
  private roundRoot: string | null | undefined = undefined;
  private lastKey: number | bigint | null = null;
  /** Index of the key column when the key has one column, else -1. */
  private readonly keyIndex: number;

  constructor(
    readonly tableId: string,
    private readonly key: string[],
    columns: BufferColumn[],
  ) {
    this.names = columns.map((c) => c.name);
    this.types = columns.map((c) => c.type);
    this.isKey = this.names.map((n) => key.includes(n));
    this.keyIndex = key.length === 1 ? this.names.indexOf(key[0]!) : -1;
    const missing = key.filter((k) => !this.names.includes(k));
    if (missing.length > 0) throw new TidemarkError('Internal', `${tableId}: key column ${missing.join(', ')} is not a column of the table`, { table: tableId });
    this.builders = this.types.map((t) => new ColumnBuilder(t));
    this.readRow = compileRowReader(this.names, (row, c) => this.read(row, c));
    this.scratch = new Array<unknown>(this.names.length).fill(null);
  }

  /** Changes spilled as parts of the current round (take) since the last seal. */
  private spilled = 0;

  /** Changes of the current round (spilled parts included). */
  get changes(): number {
    return this.spilled + this.ops.length;
  }

  get empty(): boolean {
    return this.changes === 0;
  }

  /** Changes appended since the last take or seal (the part take would return). */
  get pending(): number {
    return this.ops.length;
  }

  /** Whether the round so far may be streamed (SealedChanges.stream). */
  get streaming(): boolean {
    return (this.roundRoot === undefined ? this.streamRoot : this.roundRoot) !== null && this.keyIndex >= 0;
  }

  /** Keeps the round streamable while its changes are inserts of strictly increasing integer keys. */
  private follow(insert: boolean, v: unknown): void {
    if (this.roundRoot === undefined) this.roundRoot = this.keyIndex >= 0 ? this.streamRoot : null;
    if (this.roundRoot === null) return;
    if (insert && (typeof v === 'number' || typeof v === 'bigint') && (this.lastKey === null || this.lastKey < v)) this.lastKey = v;
    else this.roundRoot = null;
  }

  /** Column `c` of a source row: MySQL column names are case-insensitive, so a projection may spell them differently. */
  private read(row: LakeRow, c: number): unknown {
    const name = this.names[c]!;
    const v = row[name];
    if (v !== undefined) return v;
    const hit = Object.keys(row).find((k) => k.toLowerCase() === name.toLowerCase());
    return hit === undefined ? null : row[hit];
  }

  /** An insert (`mayExist` false) or the after image of an update / a colliding insert (a projected source row). */
  put(row: LakeRow, mayExist: boolean): void {
    if (this.key.length === 0 && mayExist) throw new TidemarkError('Unsupported', `${this.tableId} has no primary key: an update cannot be applied (set primary-keys in a transform)`, { table: this.tableId });
    const values = this.scratch;
    this.readRow(row, values);
    const builders = this.builders;
    for (let c = 0; c < builders.length; c++) builders[c]!.push(values[c]);
    this.ops.push(mayExist ? OP_UPSERT : OP_INSERT);
    if (this.roundRoot !== null) this.follow(!mayExist, values[this.keyIndex]);
  }

  /**
   * `put(rows[i], mayExist)` for i in [from, to), a column at a time: one generated loop a column
   * (compileColumnReaders) instead of a row's values gathered into scratch and pushed one by one.
   */
  putRows(rows: readonly LakeRow[], from: number, to: number, mayExist: boolean, int64Numbers: readonly string[] = []): void {
    if (this.key.length === 0 && mayExist) throw new TidemarkError('Unsupported', `${this.tableId} has no primary key: an update cannot be applied (set primary-keys in a transform)`, { table: this.tableId });
    if (to <= from) return;
    const which = int64Numbers.join('\u0000');
    if (this.pushRows?.int64Numbers !== which) {
      // MySQL column names are case-insensitive (read): so is the match of an int64 column.
      const int64 = new Set(int64Numbers.map((n) => n.toLowerCase()));
      this.pushRows = { int64Numbers: which, push: compileRowsPusher(this.names, this.names.map((n) => int64.has(n.toLowerCase())), (row, c) => this.read(row, c)) };
    }
    this.pushRows.push(rows, from, to, this.builders);
    const op = mayExist ? OP_UPSERT : OP_INSERT;
    for (let i = from; i < to; i++) this.ops.push(op);
    if (this.roundRoot !== null) {
      const key = this.keyIndex >= 0 ? this.names[this.keyIndex]! : null;
      for (let i = from; i < to && this.roundRoot !== null; i++) this.follow(!mayExist, key === null ? null : this.read(rows[i]!, this.keyIndex));
    }
  }

  /**
   * `put` of rows [from, to) of a snapshot chunk in column form (text-columns.ts), a column at a
   * time: typed and UTF-8 blocks are appended as they are (ColumnBuilder.append). Columns are
   * matched by name, case-insensitively (read); a buffer column the chunk lacks gets nulls.
   */
  putColumns(chunk: SnapshotColumns, from: number, to: number, mayExist: boolean): void {
    if (this.key.length === 0 && mayExist) throw new TidemarkError('Unsupported', `${this.tableId} has no primary key: an update cannot be applied (set primary-keys in a transform)`, { table: this.tableId });
    if (to <= from) return;
    const lower = chunk.names.map((n) => n.toLowerCase());
    for (let c = 0; c < this.builders.length; c++) {
      const at = lower.indexOf(this.names[c]!.toLowerCase());
      const builder = this.builders[c]!;
      if (at < 0) for (let i = from; i < to; i++) builder.push(null);
      else builder.append(chunk.columns[at]!, from, to);
    }
    const op = mayExist ? OP_UPSERT : OP_INSERT;
    for (let i = from; i < to; i++) this.ops.push(op);
    if (this.roundRoot !== null) {
      const at = this.keyIndex >= 0 ? lower.indexOf(this.names[this.keyIndex]!.toLowerCase()) : -1;
      const keys = at < 0 ? null : chunk.columns[at]!;
      if (keys !== null && !mayExist && !Array.isArray(keys) && (keys.form === 'bigint' || keys.form === 'number') && keys.nulls === null) this.followTyped(keys.data as BigInt64Array | Float64Array, from, to);
      else for (let i = from; i < to && this.roundRoot !== null; i++) this.follow(!mayExist, keys === null ? null : columnValueAt(keys, i));
    }
  }

  /** `follow` of inserts whose keys are `data[from..to)` (no nulls), in one loop. */
  private followTyped(data: BigInt64Array | Float64Array, from: number, to: number): void {
    if (this.roundRoot === undefined) this.roundRoot = this.keyIndex >= 0 ? this.streamRoot : null;
    if (this.roundRoot === null) return;
    let last = this.lastKey;
    for (let i = from; i < to; i++) {
      const v = data[i]!;
      if (last !== null && !(last < v)) {
        this.roundRoot = null;
        return;
      }
      last = v;
    }
    this.lastKey = last;
  }

  /** putRows' generated pusher, for the int64 number columns it was made for. */
  private pushRows: { int64Numbers: string; push: RowsPusher } | null = null;

  /**
   * Keep a delete's whole before image, not only its key: a sink that writes retractions as rows
   * (Paimon's -U / -D records, shown by `$audit_log` and its changelog) sets it.
   */
  wholeDeletes = false;

  /**
   * A delete of the row with the key of `row`: a projected source row, or key values read back from
   * the table (lake values convert to themselves). Only its key columns are read, unless
   * `wholeDeletes` (a column `row` lacks is null).
   */
  delete(row: LakeRow): void {
    if (this.key.length === 0) throw new TidemarkError('Unsupported', `${this.tableId} has no primary key: a delete cannot be applied (set primary-keys in a transform)`, { table: this.tableId });
    const builders = this.builders;
    const whole = this.wholeDeletes;
    for (let c = 0; c < builders.length; c++) builders[c]!.push(whole || this.isKey[c] ? this.read(row, c) : null);
    this.ops.push(OP_DELETE);
    if (this.roundRoot !== null) this.follow(false, null);
  }

  /**
   * Takes the changes appended since the last take as one part of the current round (the round's
   * parts concatenated in order are the round: concatChanges). Spilling parts while the round goes
   * on keeps the buffered values young (a part is handed to the sink worker and dropped here before
   * young-GC promotes it) and the arrays small.
   */
  take(): SealedChanges {
    // A held part: no later part of the round may be streamed (the sink deduplicates held parts
    // together at the round's end, after the streamed ones).
    this.roundRoot = null;
    return this.part();
  }

  /** Takes the changes appended since the last take as a streamed part (SealedChanges.stream). Only while `streaming`. */
  takeStreamed(): SealedChanges {
    const root = this.roundRoot ?? this.streamRoot;
    if (!this.streaming || !root) throw new TidemarkError('Internal', `${this.tableId}: a streamed part was taken from a round that is held`, { table: this.tableId });
    this.roundRoot = root;
    return { ...this.part(true), stream: { root } };
  }

  /** The changes since the last take; a streamed part's ASCII string columns as UTF-8 (Utf8Column). */
  private part(streamed = false): SealedChanges {
    const values = this.builders.map((b, c): PartColumn => {
      const column = b.finish();
      if (!streamed || this.types[c] !== 'string' || !Array.isArray(column)) return column;
      const utf8 = encodeAsciiStrings(column);
      return utf8 ? { form: 'utf8', ...utf8 } : column;
    });
    const part: SealedChanges = { table: this.tableId, key: this.key, columns: this.names, types: this.types, count: this.ops.length, ops: this.ops, values };
    this.spilled += part.count;
    this.ops = [];
    this.builders = this.types.map((t) => new ColumnBuilder(t));
    return part;
  }

  /** Takes the last part of the round (streamed when `stream` and the round still is); the buffer starts over empty. */
  seal(stream = false): SealedChanges {
    const part = stream && this.streaming ? this.takeStreamed() : this.take();
    this.spilled = 0;
    this.roundRoot = undefined;
    this.lastKey = null;
    return part;
  }
}

/** The parts of one round of one table (TableBuffer.take, then seal), in order, as one. */
export function concatChanges(parts: SealedChanges[]): SealedChanges {
  if (parts.length === 1) return parts[0]!;
  const last = parts[parts.length - 1]!;
  const count = parts.reduce((n, p) => n + p.count, 0);
  // Preallocated and filled by index: flatMap over a round's parts cost more than the parts' copy.
  const join = (pick: (p: SealedChanges) => unknown[]) => {
    const out = new Array<unknown>(count);
    let at = 0;
    for (const p of parts) {
      const xs = pick(p);
      for (let i = 0; i < p.count; i++) out[at++] = xs[i];
    }
    return out;
  };
  return { ...last, count, ops: join((p) => p.ops) as number[], values: last.columns.map((_, c) => join((p) => columnValues(p.values[c]!, p.count))) };
}

/**
 * A reader of a row's values into `out` in column order: one named load per column (generated,
 * the names entering only as JSON string literals) instead of a keyed load by a varying name; a
 * value that is undefined goes to `slow` (a projection may spell a name in another case).
 */
function compileRowReader(names: readonly string[], slow: (row: LakeRow, c: number) => unknown): (row: LakeRow, out: unknown[]) => void {
  // `r["__proto__"]` is the prototype, not a field: such a table takes the general path.
  if (names.includes('__proto__')) {
    return (row, out) => {
      for (let c = 0; c < names.length; c++) out[c] = slow(row, c);
    };
  }
  const reads = names.map((n, c) => `v = r[${JSON.stringify(n)}]; out[${c}] = v === undefined ? slow(r, ${c}) : v;`);
  const factory = new Function('slow', `return function readRow(r, out) {\nlet v;\n${reads.join('\n')}\n};`) as (s: typeof slow) => (row: LakeRow, out: unknown[]) => void;
  return factory(slow);
}

/** Pushes the values of rows [from, to) to the column builders (TableBuffer.putRows). */
type RowsPusher = (rows: readonly LakeRow[], from: number, to: number, builders: ColumnBuilder[]) => void;

/**
 * One loop over the rows with a named load a column, each value pushed to its column's builder
 * (generated as compileRowReader, the names entering only as JSON string literals); an undefined
 * value goes to `slow`.
 */
function compileRowsPusher(names: readonly string[], int64: readonly boolean[], slow: (row: LakeRow, c: number) => unknown): RowsPusher {
  if (names.includes('__proto__')) {
    return (rows, from, to, builders) => {
      for (let i = from; i < to; i++) {
        for (let c = 0; c < names.length; c++) {
          if (int64[c]) builders[c]!.pushInt64(slow(rows[i]!, c));
          else builders[c]!.push(slow(rows[i]!, c));
        }
      }
    };
  }
  const heads = names.map((_, c) => `const b${c} = builders[${c}];`);
  const pushes = names.map((n, c) => `v = r[${JSON.stringify(n)}]; b${c}.${int64[c] ? 'pushInt64' : 'push'}(v === undefined ? slow(r, ${c}) : v);`);
  const body = `return function pushRows(rows, from, to, builders) {\n${heads.join('\n')}\nfor (let i = from; i < to; i++) {\nconst r = rows[i];\nlet v;\n${pushes.join('\n')}\n}\n};`;
  return (new Function('slow', body) as (s: typeof slow) => RowsPusher)(slow);
}

/**
 * Converts the sealed source values to lake values in place (toLakeValue, column by column; a
 * value that does not fit its column fails naming `table.column`). Lake values convert to
 * themselves, so key values read back from the table may sit among source values. Timestamps
 * outside the key given as bigint µs stay so (ColumnBatch).
 */
export function toLakeValues(s: SealedChanges): void {
  s.columns.forEach((name, c) => {
    const values = columnValues(s.values[c]!, s.count);
    s.values[c] = values;
    convertColumn(s, c, values);
  });
}

/** Column `c` of `s` (its plain values) to lake values, in place. */
function convertColumn(s: SealedChanges, c: number, values: unknown[]): void {
  const name = s.columns[c]!;
  const type = s.types[c]!;
  const general = lakeValueConverter(type, `${s.table}.${name}`);
  // A timestamp outside the key stays bigint µs, which the write path takes as it is (ColumnBatch);
  // key values are compared here, so they take the one canonical form.
  const convert = (type === 'timestamp' || type === 'timestamptz') && !s.key.includes(name) ? (v: unknown) => (typeof v === 'bigint' ? v : general(v)) : general;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) values[i] = convert(v);
  }
}

/**
 * A streamed part's columns as the rolling writer takes them (inserts only, each its own key:
 * nothing is compared): a typed column whose values are the lake values' own form goes as it is
 * (long and timestamps: bigint µs; double; boolean; a string column's UTF-8), an int column once every value is an integer (as
 * lakeValueConverter requires); every other column is converted as toLakeValues does it.
 */
export function toWritableColumns(s: SealedChanges): Record<string, unknown[] | FixedWidthColumn | VariableWidthColumn> {
  const out: Record<string, unknown[] | FixedWidthColumn | VariableWidthColumn> = {};
  s.columns.forEach((name, c) => {
    const column = s.values[c]!;
    // Strings are string lake values as they are (lakeValueConverter): the bytes go to Arrow.
    if (isUtf8Column(column) && s.types[c] === 'string') {
      out[name] = { offsets: column.offsets.subarray(0, s.count + 1), data: column.data, nulls: column.nulls?.subarray(0, s.count) ?? null };
      return;
    }
    const fixed = isTypedColumn(column) ? fixedWidthOf(column, s.types[c]!, s.count) : null;
    if (fixed) {
      out[name] = fixed;
      return;
    }
    const values = columnValues(column, s.count);
    convertColumn(s, c, values);
    out[name] = values;
  });
  return out;
}

function fixedWidthOf(column: TypedColumn, type: string, count: number): FixedWidthColumn | null {
  const nulls = column.nulls?.subarray(0, count) ?? null;
  const data = column.data.subarray(0, count);
  if (column.form === 'bigint' && (type === 'long' || type === 'timestamp' || type === 'timestamptz')) return { values: data as BigInt64Array, nulls };
  if (column.form === 'number' && type === 'double') return { values: data as Float64Array, nulls };
  if (column.form === 'boolean' && type === 'boolean') return { values: data as Uint8Array, nulls };
  if (column.form === 'number' && type === 'int') {
    const numbers = data as Float64Array;
    const ints = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const v = numbers[i]!;
      if (!Number.isInteger(v)) return null;
      ints[i] = v;
    }
    return { values: ints, nulls };
  }
  return null;
}

/**
 * The round's net effect per key, as change positions: only each key's final state is written. A
 * key whose first change in the round is an insert cannot exist in the lake yet (exactly-once: its
 * insert was never committed), so it needs no equality delete; any other key gets one. Because
 * intermediate states are never written, no row written in this commit is later deleted in it, so
 * position deletes (Flink's way of retracting rows it streamed earlier in a checkpoint) are never
 * needed. Keys come in order of first appearance; a table without key only has inserts.
 */
export function netChanges(s: SealedChanges): { inserts: number[]; upserts: number[]; deletes: number[] } {
  if (s.key.length === 0) return { inserts: s.ops.map((_, i) => i), upserts: [], deletes: [] };
  const keyColumns = s.key.map((k) => columnValues(s.values[s.columns.indexOf(k)]!, s.count));
  const single = keyColumns.length === 1 ? keyColumns[0]! : null;
  if (single && strictlyIncreasingInserts(s.ops, single)) return { inserts: s.ops.map((_, i) => i), upserts: [], deletes: [] };
  // Per key (by first appearance): its final row (-1 once deleted), whether a row may exist in the
  // lake before the round, and a position holding its key values.
  const slotOf = new Map<string | number | bigint, number>();
  const finalRow: number[] = [];
  const priorMayExist: boolean[] = [];
  const keyAt: number[] = [];
  for (let i = 0; i < s.count; i++) {
    // One integer column: the number or bigint itself is the map key (no text to build and hash; a
    // column's values all have one lake type, and valueKey texts start with a letter, so they never
    // meet a number); else valueKey.
    let key: string | number | bigint;
    if (single) {
      const v = single[i];
      key = typeof v === 'number' || typeof v === 'bigint' ? v : valueKey(v ?? null);
    } else key = valueKey(keyColumns.map((c) => c[i] ?? null));
    const op = s.ops[i]!;
    const slot = slotOf.get(key);
    if (slot === undefined) {
      slotOf.set(key, finalRow.length);
      finalRow.push(op === OP_DELETE ? -1 : i);
      priorMayExist.push(op !== OP_INSERT);
      keyAt.push(i);
    } else finalRow[slot] = op === OP_DELETE ? -1 : i;
  }
  const inserts: number[] = [];
  const upserts: number[] = [];
  const deletes: number[] = [];
  for (let k = 0; k < finalRow.length; k++) {
    const row = finalRow[k]!;
    if (row >= 0 && priorMayExist[k]) upserts.push(row);
    else if (row >= 0) inserts.push(row);
    else if (priorMayExist[k]) deletes.push(keyAt[k]!);
  }
  return { inserts, upserts, deletes };
}

/**
 * Whether every change is an insert and the (one) key column's values are numbers or bigints in
 * strictly increasing order: then every key is distinct and the round is its own net effect (the
 * common catch-up of an auto-increment table, without a map of every key).
 */
function strictlyIncreasingInserts(ops: number[], keys: unknown[]): boolean {
  let prev: unknown = null;
  for (let i = 0; i < ops.length; i++) {
    const v = keys[i];
    if (ops[i] !== OP_INSERT || (typeof v !== 'number' && typeof v !== 'bigint')) return false;
    if (prev !== null && !((prev as number) < v)) return false;
    prev = v;
  }
  return true;
}

/**
 * The round's net effect as a column delta (inserts and upserts added, upserted and deleted keys
 * equality-deleted) and its row count. Converts `s` to lake values first (in place).
 */
export function toColumnDelta(s: SealedChanges): { delta: ColumnDelta; rows: number } {
  toLakeValues(s);
  const { inserts, upserts, deletes } = netChanges(s);
  // Plain values only from here on (toLakeValues).
  const batch: ColumnBatch = { length: s.count, columns: Object.fromEntries(s.columns.map((name, c) => [name, s.values[c] as unknown[]])) };
  return {
    delta: {
      // Only inserts, each of its own key: they are the whole round in order, the columns as they are.
      added: inserts.length === s.count ? batch : selectColumnBatch(batch, upserts.length === 0 ? inserts : [...inserts, ...upserts], s.columns),
      deleteKeys: selectColumnBatch(batch, deletes.length === 0 ? upserts : [...upserts, ...deletes], s.key),
    },
    rows: inserts.length + upserts.length + deletes.length,
  };
}
