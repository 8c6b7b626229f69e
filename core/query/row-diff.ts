/**
 * Row diff between two snapshots of a table, in SQL: both sides are read in the newer snapshot's
 * schema (Iceberg: columns matched by field id), joined on the key (identifier fields / primary key,
 * or the caller's key columns; NULL keys match NULL keys), and classified as added, removed or
 * changed. Without a key the whole row is the key: rows are compared as multisets (EXCEPT ALL), so
 * nothing is "changed".
 */
import { TidemarkError } from '../errors';
import { ROW_ID_FIELD, valueKey } from '../lake';
import { quoteIdent } from './duckdb';
import { nextObjectName } from './scan-view';
import type { QueryEngine } from './engine';
import { normalizeKey } from './pages/delete-index';
import type { SourceDelta, TableSource } from './table-source';
import type { DeltaRows } from './version-delta';
import type { ChangedRow, RowDiff } from '../api';
export type { ChangedRow, RowDiff };

export interface RowDiffOptions {
  /** Key columns; default: the newer version's identifier fields; none → whole row. */
  key?: string[];
  /** Maximum rows listed per category (counts are always complete). Default 100. */
  limit?: number;
}

export async function diffRows(engine: QueryEngine, source: TableSource, from: bigint, to: bigint, options: RowDiffOptions = {}): Promise<RowDiff> {
  const find = (id: bigint) => {
    const s = source.snapshots.find((x) => x.snapshotId === id);
    if (!s) throw new TidemarkError('NotFound', `snapshot ${id} not found in ${source.root}`, { snapshotId: id.toString() });
    return s;
  };
  const a = find(from);
  const b = find(to);
  const newer = a.sequenceNumber > b.sequenceNumber || (a.sequenceNumber === b.sequenceNumber && a.timestampMs > b.timestampMs) ? a : b;
  const { names, key: defaultKey } = await source.columns(newer.snapshotId);
  const key = options.key ?? defaultKey;
  for (const k of key) {
    if (!names.includes(k)) throw new TidemarkError('InvalidInput', `diff: key column ${JSON.stringify(k)} not in the schema; columns: ${names.join(', ')}`, { column: k });
  }
  const limit = Math.max(0, Math.floor(options.limit ?? 100));
  const toObjects = (rows: unknown[][]) => rows.map((r) => Object.fromEntries(names.map((c, i) => [c, r[i]])));
  if (source.delta) return diffDelta(await source.delta(from, to, { key, names, namesFrom: newer.snapshotId }), { from, to, key, names, limit });
  const va = await source.relation(from, { names, namesFrom: newer.snapshotId });
  const vb = await source.relation(to, { names, namesFrom: newer.snapshotId });

  if (key.length === 0) {
    const added = `SELECT * FROM ${vb} EXCEPT ALL SELECT * FROM ${va}`;
    const removed = `SELECT * FROM ${va} EXCEPT ALL SELECT * FROM ${vb}`;
    const counts = await engine.query(`SELECT (SELECT count(*) FROM (${added})), (SELECT count(*) FROM (${removed}))`);
    return {
      from,
      to,
      key,
      addedCount: Number(counts.rows[0]![0]),
      removedCount: Number(counts.rows[0]![1]),
      changedCount: 0,
      added: toObjects((await engine.query(`${added} LIMIT ${limit}`)).rows),
      removed: toObjects((await engine.query(`${removed} LIMIT ${limit}`)).rows),
      changed: [],
    };
  }

  const on = key.map((k) => `a.${quoteIdent(k)} IS NOT DISTINCT FROM b.${quoteIdent(k)}`).join(' AND ');
  const cols = names.map((n) => quoteIdent(n));
  const joined = `SELECT a._in AS a_in, b._in AS b_in, ${cols.map((c, i) => `a.${c} AS a${i}`).join(', ')}, ${cols.map((c, i) => `b.${c} AS b${i}`).join(', ')}
    FROM (SELECT *, true AS _in FROM ${va}) a FULL OUTER JOIN (SELECT *, true AS _in FROM ${vb}) b ON ${on}`;
  const differs = cols.map((_c, i) => `a${i} IS DISTINCT FROM b${i}`).join(' OR ') || 'false';
  const classified = `SELECT *, CASE WHEN a_in IS NULL THEN 'added' WHEN b_in IS NULL THEN 'removed' WHEN ${differs} THEN 'changed' ELSE 'same' END AS kind FROM (${joined})`;
  // A name per diff: two diffs may run at once on one session (the async engine interleaves them).
  const diffTable = nextObjectName('tm_diff');
  await engine.query(`CREATE TEMP TABLE ${diffTable} AS ${classified}`);
  try {
    const counts = await engine.query(`SELECT count(*) FILTER (WHERE kind = 'added'), count(*) FILTER (WHERE kind = 'removed'), count(*) FILTER (WHERE kind = 'changed') FROM ${diffTable}`);
    const pick = async (kind: string, side: 'a' | 'b') =>
      toObjects((await engine.query(`SELECT ${names.map((_n, i) => `${side}${i}`).join(', ')} FROM ${diffTable} WHERE kind = '${kind}' LIMIT ${limit}`)).rows);
    const changedRows = await engine.query(`SELECT ${names.map((_n, i) => `a${i}`).join(', ')}, ${names.map((_n, i) => `b${i}`).join(', ')} FROM ${diffTable} WHERE kind = 'changed' LIMIT ${limit}`);
    const changed = changedRows.rows.map((r) => changedRow(names, key, r));
    return {
      from,
      to,
      key,
      addedCount: Number(counts.rows[0]![0]),
      removedCount: Number(counts.rows[0]![1]),
      changedCount: Number(counts.rows[0]![2]),
      added: await pick('added', 'b'),
      removed: await pick('removed', 'a'),
      changed,
    };
  } finally {
    await engine.query(`DROP TABLE IF EXISTS ${diffTable}`);
  }
}

interface DiffContext {
  from: bigint;
  to: bigint;
  key: string[];
  names: string[];
  limit: number;
}

/** Whether two canonical values differ (primitives compared directly; others by their value key). */
function differs(x: unknown, y: unknown): boolean {
  if (x === y) return false;
  if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return true;
  return valueKey(x) !== valueKey(y);
}

/** The first `limit` indexes of 0..n-1 kept by `keep`, and how many are kept in all. */
function firstKept(n: number, limit: number, keep: (i: number) => boolean): { count: number; first: number[] } {
  const first: number[] = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!keep(i)) continue;
    count++;
    if (first.length < limit) first.push(i);
  }
  return { count, first };
}

/**
 * The diff from the rows that can differ only (core/query/version-delta.ts): candidates live in one
 * version only are matched on the key columns alone; whole rows are compared for the matched pairs,
 * one column at a time, and read for the rows listed. Keys are unique per version (identifier
 * fields), so a key among the candidates of one side cannot also sit among the rows both versions
 * share: the classification equals a diff of the whole versions. When one side has no candidate
 * nothing can match and no key is read at all (a commit that only deletes, or only appends).
 */
async function diffDelta(delta: SourceDelta, c: DiffContext): Promise<RowDiff> {
  if (delta.rowLineage && delta.a.length > 0 && delta.b.length > 0) return diffByRowId(delta, c);
  const { a, b } = delta;
  const fields = delta.outputFields;
  const rowsAt = async (rows: DeltaRows, at: number[]) => {
    const columns = await delta.readValues(rows, at, fields);
    return at.map((_x, k) => Object.fromEntries(c.names.map((n, i) => [n, columns[i]![k]])));
  };
  const all = (rows: DeltaRows) => Array.from({ length: rows.length }, (_x, i) => i);
  const base = { from: c.from, to: c.to, key: c.key };
  if (a.length === 0 || b.length === 0) {
    // Nothing to match: every candidate of B is added, every one of A removed.
    const first = (rows: DeltaRows) => all(rows).slice(0, c.limit);
    return { ...base, addedCount: b.length, removedCount: a.length, changedCount: 0, added: await rowsAt(b, first(b)), removed: await rowsAt(a, first(a)), changed: [] };
  }
  if (c.key.length === 0) {
    // Whole rows are the key: multiset difference of the candidates' rows (the shared rows cancel).
    const rowKeys = async (rows: DeltaRows) => {
      const columns = await delta.readValues(rows, all(rows), fields);
      return all(rows).map((i) => valueKey(columns.map((col) => col[i])));
    };
    const keysA = await rowKeys(a);
    const keysB = await rowKeys(b);
    const left = new Map<string, number>();
    for (const k of keysA) left.set(k, (left.get(k) ?? 0) + 1);
    const addedB = new Uint8Array(b.length);
    keysB.forEach((k, j) => {
      const n = left.get(k) ?? 0;
      if (n > 0) left.set(k, n - 1);
      else addedB[j] = 1;
    });
    const removedA = new Uint8Array(a.length);
    keysA.forEach((k, i) => {
      const n = left.get(k) ?? 0;
      if (n > 0) {
        left.set(k, n - 1);
        removedA[i] = 1;
      }
    });
    const added = firstKept(b.length, c.limit, (j) => addedB[j] === 1);
    const removed = firstKept(a.length, c.limit, (i) => removedA[i] === 1);
    return { ...base, addedCount: added.count, removedCount: removed.count, changedCount: 0, added: await rowsAt(b, added.first), removed: await rowsAt(a, removed.first), changed: [] };
  }
  // Match candidates by key (NULL matches NULL), as a full outer join of the two sides.
  const keyFields = delta.keyIndexes.map((i) => fields[i]!);
  const keyOf = async (rows: DeltaRows) => {
    const columns = await delta.readValues(rows, all(rows), keyFields);
    return all(rows).map((i) => (columns.length === 1 ? normalizeKey(columns[0]![i]) : valueKey(columns.map((col) => col[i]))));
  };
  const keysA = await keyOf(a);
  const keysB = await keyOf(b);
  const byKey = new Map<unknown, number[]>();
  keysA.forEach((k, i) => {
    const list = byKey.get(k);
    if (list) list.push(i);
    else byKey.set(k, [i]);
  });
  const matchedA = new Uint8Array(a.length);
  const addedB = new Uint8Array(b.length);
  const pairA: number[] = [];
  const pairB: number[] = [];
  keysB.forEach((k, j) => {
    const list = byKey.get(k);
    if (!list) {
      addedB[j] = 1;
      return;
    }
    for (const i of list) {
      pairA.push(i);
      pairB.push(j);
      matchedA[i] = 1;
    }
  });
  // Matched pairs: changed when any column differs, compared one column at a time.
  const changedPair = new Uint8Array(pairA.length);
  for (const field of fields) {
    const [before] = await delta.readValues(a, pairA, [field]);
    const [after] = await delta.readValues(b, pairB, [field]);
    for (let p = 0; p < pairA.length; p++) if (!changedPair[p] && differs(before![p], after![p])) changedPair[p] = 1;
  }
  const changed = firstKept(pairA.length, c.limit, (p) => changedPair[p] === 1);
  const added = firstKept(b.length, c.limit, (j) => addedB[j] === 1);
  const removed = firstKept(a.length, c.limit, (i) => matchedA[i] === 0);
  const before = await rowsAt(a, changed.first.map((p) => pairA[p]!));
  const after = await rowsAt(b, changed.first.map((p) => pairB[p]!));
  return {
    ...base,
    addedCount: added.count,
    removedCount: removed.count,
    changedCount: changed.count,
    added: await rowsAt(b, added.first),
    removed: await rowsAt(a, removed.first),
    changed: before.map((row, k) => changedRow(c.names, c.key, [...c.names.map((n) => row[n]), ...c.names.map((n) => after[k]![n])])),
  };
}

/** The rows of `rows` at indexes `keep` (ascending), in the same order. */
function subRows(rows: DeltaRows, keep: number[]): DeltaRows {
  return { length: keep.length, file: Uint32Array.from(keep, (i) => rows.file[i]!), pos: Float64Array.from(keep, (i) => rows.pos[i]!) };
}

/**
 * Iceberg v3 row lineage (spec "Row Lineage"): a writer that updates a row keeps its `_row_id`, so
 * a candidate of A and one of B with the same `_row_id` are the same row — changed (key columns
 * included) or, with equal values, moved only (a compaction) and not listed. Candidates without a
 * partner by `_row_id` (new ids: inserts, or a writer that deleted and re-inserted) are then
 * matched by key as in any table. A pair's `key` is its key columns after the change, or its
 * `_row_id` when the diff has no key.
 */
async function diffByRowId(delta: SourceDelta, c: DiffContext): Promise<RowDiff> {
  const { a, b } = delta;
  const all = (rows: DeltaRows) => Array.from({ length: rows.length }, (_x, i) => i);
  const [idsA] = await delta.readValues(a, all(a), [ROW_ID_FIELD]);
  const [idsB] = await delta.readValues(b, all(b), [ROW_ID_FIELD]);
  const byId = new Map<bigint, number>();
  idsA!.forEach((id, i) => {
    if (id !== null && id !== undefined) byId.set(id as bigint, i);
  });
  const pairA: number[] = [];
  const pairB: number[] = [];
  const pairedA = new Uint8Array(a.length);
  const restB: number[] = [];
  idsB!.forEach((id, j) => {
    const i = id === null || id === undefined ? undefined : byId.get(id as bigint);
    if (i === undefined || pairedA[i]) {
      restB.push(j);
      return;
    }
    pairedA[i] = 1;
    pairA.push(i);
    pairB.push(j);
  });
  const restA = all(a).filter((i) => !pairedA[i]);
  const rest = await diffDelta({ ...delta, a: subRows(a, restA), b: subRows(b, restB), rowLineage: false }, c);
  const fields = delta.outputFields;
  const changedPair = new Uint8Array(pairA.length);
  for (const field of fields) {
    const [before] = await delta.readValues(a, pairA, [field]);
    const [after] = await delta.readValues(b, pairB, [field]);
    for (let p = 0; p < pairA.length; p++) if (!changedPair[p] && differs(before![p], after![p])) changedPair[p] = 1;
  }
  const changed = firstKept(pairA.length, c.limit, (p) => changedPair[p] === 1);
  const listed = changed.first.slice(0, Math.max(0, c.limit));
  const read = async (rows: DeltaRows, at: number[]) => {
    const columns = await delta.readValues(rows, at, fields);
    return at.map((_x, k) => c.names.map((_n, i) => columns[i]![k]));
  };
  const before = await read(a, listed.map((p) => pairA[p]!));
  const after = await read(b, listed.map((p) => pairB[p]!));
  const byLineage = before.map((row, k) => {
    const r = changedRow(c.names, c.key, [...row, ...after[k]!]);
    return c.key.length > 0 ? r : { ...r, key: { _row_id: idsB![pairB[listed[k]!]!] } };
  });
  return { ...rest, changedCount: rest.changedCount + changed.count, changed: [...byLineage, ...rest.changed].slice(0, c.limit) };
}

/** A changed row from its values before (the first `names.length` cells) and after (the next ones). */
function changedRow(names: string[], key: string[], r: unknown[]): ChangedRow {
  const before = Object.fromEntries(names.map((n, i) => [n, r[i]]));
  const after = Object.fromEntries(names.map((n, i) => [n, r[names.length + i]]));
  return { key: Object.fromEntries(key.map((k) => [k, after[k]])), before, after, changedColumns: names.filter((n) => valueKey(before[n]) !== valueKey(after[n])) };
}
