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
import type { SourceDelta, TableSource } from './table-source';

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
  const toObjects = (rows: unknown[][]) => rows.map((r) => Object.fromEntries(names.map((c, i) => [c, r[i]])));
  if (source.delta) {
    const delta = await source.delta(from, to, { key, names, namesFrom: newer.snapshotId });
    try {
      return await diffDelta(engine, delta, { from, to, key, names, limit, toObjects });
    } finally {
      await delta.drop();
    }
  }
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
  toObjects(rows: unknown[][]): Record<string, unknown>[];
}

/**
 * The diff from the rows that can differ only (core/query/version-delta.ts): candidates are matched
 * on the key columns alone; whole rows are read for the matched pairs (changed or the same) and for
 * the rows listed. Keys are unique per version (identifier fields), so a key among the candidates of
 * one side cannot also sit among the rows both versions share: the classification equals a diff of
 * the whole versions.
 */
async function diffDelta(engine: QueryEngine, delta: SourceDelta, c: DiffContext): Promise<RowDiff> {
  const out = delta.outputColumns;
  const cols = (alias: string) => out.map((col) => `${alias}.${col}`).join(', ');
  const rowsOf = async (positions: string) => {
    const t = await delta.readRows(positions);
    if (t === null) return [];
    return c.toObjects((await engine.query(`SELECT ${cols('r')} FROM ${quoteIdent(t)} r ORDER BY r._file, r._pos`)).rows);
  };
  if (c.key.length === 0) {
    // Whole rows are the key: multiset difference of the candidates' rows (the shared rows cancel).
    const all = await delta.readRows(`SELECT _file, _pos FROM ${delta.keys}`);
    if (all === null) return { from: c.from, to: c.to, key: c.key, addedCount: 0, removedCount: 0, changedCount: 0, added: [], removed: [], changed: [] };
    const side = (live: string) => `SELECT ${cols('r')} FROM ${quoteIdent(all)} r JOIN ${delta.keys} k ON k._file = r._file AND k._pos = r._pos WHERE k.${live}`;
    const added = `${side('live_b')} EXCEPT ALL ${side('live_a')}`;
    const removed = `${side('live_a')} EXCEPT ALL ${side('live_b')}`;
    const counts = await engine.query(`SELECT (SELECT count(*) FROM (${added})), (SELECT count(*) FROM (${removed}))`);
    return {
      from: c.from,
      to: c.to,
      key: c.key,
      addedCount: Number(counts.rows[0]![0]),
      removedCount: Number(counts.rows[0]![1]),
      changedCount: 0,
      added: c.toObjects((await engine.query(`${added} LIMIT ${c.limit}`)).rows),
      removed: c.toObjects((await engine.query(`${removed} LIMIT ${c.limit}`)).rows),
      changed: [],
    };
  }
  const on = delta.keyColumns.map((k) => `a.${k} IS NOT DISTINCT FROM b.${k}`).join(' AND ');
  const pairs = nextObjectName('tm_diff_pairs');
  await engine.query(`CREATE TEMP TABLE ${pairs} AS SELECT a._file AS a_file, a._pos AS a_pos, b._file AS b_file, b._pos AS b_pos
    FROM (SELECT * FROM ${delta.keys} WHERE live_a) a FULL OUTER JOIN (SELECT * FROM ${delta.keys} WHERE live_b) b ON ${on}`);
  try {
    const counts = await engine.query(`SELECT count(*) FILTER (WHERE a_file IS NULL), count(*) FILTER (WHERE b_file IS NULL), count(*) FILTER (WHERE a_file IS NOT NULL AND b_file IS NOT NULL) FROM ${pairs}`);
    const [addedCount, removedCount, matchedCount] = counts.rows[0]!.map(Number) as [number, number, number];
    const both = `a_file IS NOT NULL AND b_file IS NOT NULL`;
    let changedCount = 0;
    let changedRows: unknown[][] = [];
    if (matchedCount > 0) {
      const matched = quoteIdent((await delta.readRows(`SELECT a_file AS _file, a_pos AS _pos FROM ${pairs} WHERE ${both} UNION ALL SELECT b_file, b_pos FROM ${pairs} WHERE ${both}`))!);
      const differs = out.map((col) => `ra.${col} IS DISTINCT FROM rb.${col}`).join(' OR ') || 'false';
      const changedSql = `SELECT ${cols('ra')}, ${cols('rb')}, m.b_file, m.b_pos FROM ${pairs} m JOIN ${matched} ra ON ra._file = m.a_file AND ra._pos = m.a_pos JOIN ${matched} rb ON rb._file = m.b_file AND rb._pos = m.b_pos WHERE ${differs}`;
      const r = await engine.query(`SELECT *, count(*) OVER () FROM (${changedSql}) ORDER BY b_file, b_pos LIMIT ${c.limit}`);
      changedRows = r.rows;
      changedCount = r.rows.length ? Number(r.rows[0]![r.rows[0]!.length - 1]) : 0;
      if (c.limit === 0) changedCount = Number((await engine.query(`SELECT count(*) FROM (${changedSql})`)).rows[0]![0]);
    }
    const changed = changedRows.map((r) => changedRow(c.names, c.key, r));
    return {
      from: c.from,
      to: c.to,
      key: c.key,
      addedCount,
      removedCount,
      changedCount,
      added: addedCount > 0 && c.limit > 0 ? await rowsOf(`SELECT b_file AS _file, b_pos AS _pos FROM ${pairs} WHERE a_file IS NULL ORDER BY b_file, b_pos LIMIT ${c.limit}`) : [],
      removed: removedCount > 0 && c.limit > 0 ? await rowsOf(`SELECT a_file AS _file, a_pos AS _pos FROM ${pairs} WHERE b_file IS NULL ORDER BY a_file, a_pos LIMIT ${c.limit}`) : [],
      changed,
    };
  } finally {
    await engine.query(`DROP TABLE IF EXISTS ${pairs}`);
  }
}

/** A changed row from its values before (the first `names.length` cells) and after (the next ones). */
function changedRow(names: string[], key: string[], r: unknown[]): ChangedRow {
  const before = Object.fromEntries(names.map((n, i) => [n, r[i]]));
  const after = Object.fromEntries(names.map((n, i) => [n, r[names.length + i]]));
  return { key: Object.fromEntries(key.map((k) => [k, after[k]])), before, after, changedColumns: names.filter((n) => valueKey(before[n]) !== valueKey(after[n])) };
}
