/**
 * Row diff between two snapshots of a table, in SQL: both sides are read in the newer snapshot's
 * schema (Iceberg: columns matched by field id), joined on the key (identifier fields / primary key,
 * or the caller's key columns; NULL keys match NULL keys), and classified as added, removed or
 * changed. Without a key the whole row is the key: rows are compared as multisets (EXCEPT ALL), so
 * nothing is "changed".
 */
import { TidemarkError } from '../errors';
import { valueKey } from '../lake/values';
import { quoteIdent } from './duckdb';
import { nextObjectName } from './scan-view';
import type { QueryEngine } from './engine';
import type { TableSource } from './table-source';

export interface RowDiffOptions {
  /** Key columns; default: the newer version's identifier fields; none → whole row. */
  key?: string[];
  /** Maximum rows listed per category (counts are always complete). Default 100. */
  limit?: number;
}

export interface ChangedRow {
  key: Record<string, unknown>;
  before: Record<string, unknown>;
  after: Record<string, unknown>;
  changedColumns: string[];
}

export interface RowDiff {
  from: bigint;
  to: bigint;
  key: string[];
  addedCount: number;
  removedCount: number;
  changedCount: number;
  added: Record<string, unknown>[];
  removed: Record<string, unknown>[];
  changed: ChangedRow[];
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
  const va = await source.relation(from, { names, namesFrom: newer.snapshotId });
  const vb = await source.relation(to, { names, namesFrom: newer.snapshotId });
  const toObjects = (rows: unknown[][]) => rows.map((r) => Object.fromEntries(names.map((c, i) => [c, r[i]])));

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
    const changed = changedRows.rows.map((r): ChangedRow => {
      const before = Object.fromEntries(names.map((n, i) => [n, r[i]]));
      const after = Object.fromEntries(names.map((n, i) => [n, r[names.length + i]]));
      return { key: Object.fromEntries(key.map((k) => [k, after[k]])), before, after, changedColumns: names.filter((n) => valueKey(before[n]) !== valueKey(after[n])) };
    });
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
