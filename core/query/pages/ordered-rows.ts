/**
 * Sorted and filtered grid pages of a table version, read lazily (issue 24): only the sort and
 * filter columns are read, with each live row's position (data file, row in file); those
 * positions are filtered and ordered, and a page fetches its rows by position through the page
 * reader (version-rows.ts), all columns but only the pages holding them. Memory follows the
 * sort/filter columns and the matching rows (8–9 bytes a row once ordered), never the version's
 * other columns. Files and row groups that cannot hold a match are skipped by their statistics
 * (manifest bounds and partition values; Parquet integer statistics). Browser-safe.
 */
import { TidemarkError } from '../../errors';
import type { NestedField } from '../../lake';
import type { PlannedDataFile } from '../../lake';
import { pruneByFilter, type Predicate } from '../../lake';
import { selectRowGroups, type ColumnPredicate } from '../row-groups';
import { compareAt, compileFilter, constantKeyColumn, isNullAt, readKeyColumn, type GridFilter, type GridSort, type KeyColumn } from './grid-keys';
import type { RowGroupCache } from './row-group-cache';
import type { VersionRows } from './version-rows';

/** Picks closer than this many rows in one row group are read in one page read. */
const CLUSTER_GAP = 512;

export interface OrderedRows {
  /** Live rows matching the filters (exact). */
  readonly total: number;
  /**
   * For an order by one column: the rows with a non-null key (they come first) and a bitmap of the
   * positions where the key differs from the previous row's, so that the opposite direction is
   * derived without reading or sorting again (reverseOrderedRows).
   */
  readonly runs: { nonNull: number; starts: Uint8Array } | null;
  readonly files: Uint32Array;
  readonly rowsInFile: Uint32Array;
  /** Bytes held for the order (positions). */
  readonly bytes: number;
  /** Rows [offset, offset + limit) in the order, as canonical values of `fields`. */
  window(fields: NestedField[], offset: number, limit: number): Promise<unknown[][]>;
}

/** Figures of one build, for the bench and tests. */
export interface OrderedStats {
  filesRead: number;
  filesPruned: number;
  rowGroupsRead: number;
  rowGroupsPruned: number;
}

/** The version's top-level field named `name`; InvalidInput (naming `where`) when there is none. */
export function fieldByName(fields: NestedField[], name: string, where: string): NestedField {
  const f = fields.find((x) => x.name === name);
  if (!f) throw new TidemarkError('InvalidInput', `${where}: unknown column ${JSON.stringify(name)}; columns: ${fields.map((x) => x.name).join(', ')}`, { column: name });
  return f;
}

/** Keys of the selected rows of every row group read, joined in row order once all are read. */
class KeyParts {
  private readonly parts: { key: KeyColumn; picks: Uint32Array }[] = [];
  add(key: KeyColumn, picks: Uint32Array) {
    this.parts.push({ key, picks });
  }
  join(n: number): KeyColumn {
    if (this.parts.every((p) => p.key.kind === 'num')) {
      const values = new Float64Array(n);
      let nulls: Uint8Array | null = null;
      let at = 0;
      for (const { key, picks } of this.parts) {
        if (key.kind !== 'num') continue;
        for (let i = 0; i < picks.length; i++) {
          const r = picks[i]!;
          values[at] = key.values[r]!;
          if (key.nulls?.[r]) (nulls ??= new Uint8Array(n))[at] = 1;
          at++;
        }
      }
      return { kind: 'num', values, nulls };
    }
    const values = new Array<unknown>(n);
    let at = 0;
    for (const { key, picks } of this.parts) {
      for (let i = 0; i < picks.length; i++) {
        const r = picks[i]!;
        values[at++] = key.kind === 'num' ? (key.nulls?.[r] ? null : key.values[r]) : key.values[r];
      }
    }
    return { kind: 'any', values };
  }
}

/** The canonical value of a column a data file lacks (spec: its identity partition value, else initial-default). */
function missingValue(version: VersionRows, f: PlannedDataFile, field: NestedField): unknown {
  const spec = version.plan.table.metadata.partitionSpecs.find((s) => s.specId === f.specId);
  const pi = spec?.fields.findIndex((pf) => pf.sourceId === field.id && pf.transform === 'identity') ?? -1;
  return pi >= 0 ? f.partition[pi] : (field.initialDefault ?? null);
}

/**
 * Reads the sort and filter columns of the version's live rows and orders the matching rows.
 * `sort` and `filters` name top-level columns of the version's schema.
 */
export async function buildOrderedRows(version: VersionRows, cache: RowGroupCache, sort: GridSort[], filters: GridFilter[], stats?: OrderedStats): Promise<OrderedRows> {
  const { plan } = version;
  const schema = plan.schema;
  const sortFields = sort.map((s, i) => fieldByName(schema.fields, s.column, `sort[${i}]`));
  const compiled = filters.map((f, i) => compileFilter(fieldByName(schema.fields, f.column, `filters[${i}]`), f, `filters[${i}]`));
  const prune = compiled.map((c) => c.prune).filter((p): p is Predicate => p !== null);
  // Each column once: a column both sorted and filtered is read once.
  const keyFields: NestedField[] = [];
  for (const f of [...sortFields, ...compiled.map((c) => c.field)]) if (!keyFields.some((k) => k.id === f.id)) keyFields.push(f);
  const slot = (f: NestedField) => keyFields.findIndex((k) => k.id === f.id);
  const filterSlots = compiled.map((c) => slot(c.field));
  const sortSlots = sortFields.map(slot);

  const fileParts: Uint32Array[] = [];
  const rowParts: Uint32Array[] = [];
  const keyParts = sortFields.map(() => new KeyParts());
  let n = 0;
  for (const [fi, f] of plan.files.entries()) {
    if (prune.length > 0 && !pruneByFilter(plan.table.metadata, schema, f, prune)) {
      if (stats) stats.filesPruned++;
      continue;
    }
    const live = f.deletes.length > 0 ? await version.fileLive(f) : null;
    if (live && live.live === 0) continue;
    const file = await version.open(f);
    const names = keyFields.map((field) => file.columns.byFieldId.get(field.id) ?? null);
    // Row groups: integer statistics of the file's columns (exact, unlike string bounds).
    const columnPredicates: ColumnPredicate[] = [];
    for (const p of prune) {
      const field = fieldByName(schema.fields, p.column, 'filter');
      const name = file.columns.byFieldId.get(field.id);
      if (!name || (field.type !== 'int' && field.type !== 'long')) continue;
      if (p.op === 'is-null') columnPredicates.push({ column: name, op: 'is-null' });
      else if ('value' in p && (typeof p.value === 'bigint' || typeof p.value === 'number')) columnPredicates.push({ column: name, op: p.op, value: p.value });
    }
    const selection = selectRowGroups(file.footer, columnPredicates);
    if (stats) stats.filesRead++;
    let first = 0;
    for (const [g, rg] of file.footer.rowGroups.entries()) {
      const rows = rg.numRows;
      const groupFirst = first;
      first += rows;
      const groupLive = live?.rowGroups[g];
      if ((selection && !selection.indexes.includes(g)) || groupLive?.live === 0) {
        if (stats) stats.rowGroupsPruned++;
        continue;
      }
      if (stats) stats.rowGroupsRead++;
      const present = [...new Set(names.filter((x): x is string => x !== null))];
      const read = present.length > 0 ? await cache.read(file, g, present) : new Map();
      const keys = keyFields.map((field, k) => {
        const name = names[k] ?? null;
        return name === null ? constantKeyColumn(missingValue(version, f, field), rows) : readKeyColumn(read.get(name)!.chunks, field, `${f.path}: ${field.name}`);
      });
      const mask = groupLive?.mask ?? null;
      const picks = new Uint32Array(groupLive ? groupLive.live : rows);
      let count = 0;
      for (let i = 0; i < rows; i++) {
        if (mask && !mask[i]) continue;
        let ok = true;
        for (let c = 0; c < compiled.length && ok; c++) ok = compiled[c]!.test(keys[filterSlots[c]!]!, i);
        if (ok) picks[count++] = i;
      }
      if (count === 0) continue;
      const mine = picks.subarray(0, count);
      fileParts.push(new Uint32Array(count).fill(fi));
      rowParts.push(mine.map((i) => i + groupFirst));
      sortSlots.forEach((s, k) => keyParts[k]!.add(keys[s]!, mine));
      n += count;
    }
  }
  const files = concat(fileParts, n);
  const rowsInFile = concat(rowParts, n);
  if (sortFields.length === 0) return orderedRows(version, files, rowsInFile, null);
  const keys = keyParts.map((p) => p.join(n));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort(comparator(keys, sort, sortFields));
  let runs: OrderedRows['runs'] = null;
  if (keys.length === 1) {
    const key = keys[0]!;
    const decimal = typeof sortFields[0]!.type === 'string' && sortFields[0]!.type.startsWith('decimal');
    const starts = new Uint8Array(n);
    let nonNull = 0;
    for (let k = 0; k < n; k++) {
      if (isNullAt(key, order[k]!)) break;
      nonNull++;
      starts[k] = k === 0 || compareAt(key, order[k - 1]!, order[k]!, decimal) !== 0 ? 1 : 0;
    }
    runs = { nonNull, starts };
  }
  return orderedRows(
    version,
    order.map((i) => files[i]!),
    order.map((i) => rowsInFile[i]!),
    runs,
  );
}

/**
 * The order of `o` (by one column) in the other direction: runs of equal keys in reverse, each
 * run's rows kept in file order, NULLs still last — exactly what a sort in that direction gives.
 */
export function reverseOrderedRows(version: VersionRows, o: OrderedRows): OrderedRows {
  if (!o.runs) throw new TidemarkError('Internal', 'reverseOrderedRows: the order is not by one column', {});
  const { nonNull, starts } = o.runs;
  const n = o.total;
  const files = new Uint32Array(n);
  const rows = new Uint32Array(n);
  const newStarts = new Uint8Array(n);
  let at = 0;
  let end = nonNull;
  for (let k = nonNull - 1; k >= 0; k--) {
    if (!starts[k]) continue;
    newStarts[at] = 1;
    files.set(o.files.subarray(k, end), at);
    rows.set(o.rowsInFile.subarray(k, end), at);
    at += end - k;
    end = k;
  }
  files.set(o.files.subarray(nonNull), nonNull);
  rows.set(o.rowsInFile.subarray(nonNull), nonNull);
  return orderedRows(version, files, rows, { nonNull, starts: newStarts });
}

function concat(parts: Uint32Array[], n: number): Uint32Array {
  const out = new Uint32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Rows a, b (indexes into the keys) in sort order: NULLs last either way, ties in file order. */
function comparator(keys: KeyColumn[], sort: GridSort[], fields: NestedField[]): (a: number, b: number) => number {
  const k0 = keys[0]!;
  // The common case, one number column without NULLs or NaN: a subtraction per comparison.
  if (keys.length === 1 && k0.kind === 'num' && k0.nulls === null && !k0.values.some(Number.isNaN)) {
    const v = k0.values;
    return sort[0]!.desc ? (a, b) => v[b]! - v[a]! || a - b : (a, b) => v[a]! - v[b]! || a - b;
  }
  const decimal = fields.map((f) => typeof f.type === 'string' && f.type.startsWith('decimal'));
  return (a, b) => {
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      const an = isNullAt(key, a);
      const bn = isNullAt(key, b);
      if (an || bn) {
        if (an && bn) continue;
        return an ? 1 : -1;
      }
      const c = compareAt(key, a, b, decimal[k]!);
      if (c !== 0) return sort[k]!.desc ? -c : c;
    }
    return a - b;
  };
}

function orderedRows(version: VersionRows, files: Uint32Array, rowsInFile: Uint32Array, runs: OrderedRows['runs']): OrderedRows {
  const total = files.length;
  return {
    total,
    runs,
    files,
    rowsInFile,
    bytes: files.byteLength + rowsInFile.byteLength + (runs?.starts.byteLength ?? 0),
    async window(fields, offset, limit) {
      const from = Math.max(0, Math.floor(offset));
      const end = Math.min(total, from + Math.max(0, Math.floor(limit)));
      const out = new Array<unknown[]>(Math.max(0, end - from));
      const byFile = new Map<number, { at: number; row: number }[]>();
      for (let k = from; k < end; k++) {
        const fi = files[k]!;
        let list = byFile.get(fi);
        if (!list) byFile.set(fi, (list = []));
        list.push({ at: k - from, row: rowsInFile[k]! });
      }
      await Promise.all(
        [...byFile].map(async ([fi, picks]) => {
          const f = version.plan.files[fi]!;
          const file = await version.open(f);
          const starts: number[] = [];
          let s = 0;
          for (const rg of file.footer.rowGroups) {
            starts.push(s);
            s += rg.numRows;
          }
          picks.sort((a, b) => a.row - b.row);
          // Runs of nearby picks in one row group: each run is one read of the pages holding it.
          let i = 0;
          while (i < picks.length) {
            let g = 0;
            while (g + 1 < starts.length && starts[g + 1]! <= picks[i]!.row) g++;
            const groupEnd = starts[g]! + file.footer.rowGroups[g]!.numRows;
            let j = i + 1;
            while (j < picks.length && picks[j]!.row < groupEnd && picks[j]!.row - picks[j - 1]!.row <= CLUSTER_GAP) j++;
            const lo = picks[i]!.row - starts[g]!;
            const hi = picks[j - 1]!.row - starts[g]! + 1;
            const columns = await version.readColumns(f, g, fields, lo, hi);
            for (let p = i; p < j; p++) {
              const r = picks[p]!.row - starts[g]! - lo;
              out[picks[p]!.at] = columns.map((c) => c[r]);
            }
            i = j;
          }
        }),
      );
      return out;
    },
  };
}
