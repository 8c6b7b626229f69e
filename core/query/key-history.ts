/**
 * The history of one row: every retained snapshot in commit order, with what happened to the row
 * there (inserted, updated, deleted, unchanged) and its values. For tables written by Tidemark's
 * sync, the snapshot summary carries the source position (`tidemark.*` keys), shown as `source`.
 */
import { TidemarkError } from '../errors';
import { valueKey } from '../lake/values';
import { quoteIdent, quoteLiteral } from './duckdb';
import type { QueryEngine } from './engine';
import type { TableSource } from './table-source';

export type KeyStatus = 'inserted' | 'updated' | 'deleted' | 'unchanged' | 'unreadable';

export interface KeyVersion {
  snapshotId: bigint;
  sequenceNumber: bigint;
  timestampMs: number;
  operation: string;
  status: KeyStatus;
  /** The row at this snapshot (null once deleted). More than one row means the key is not unique. */
  rows: Record<string, unknown>[];
  /** Source position recorded by Tidemark's sync in the snapshot summary (`tidemark.*`), if any. */
  source: Record<string, string>;
  /** Why the snapshot could not be read (status `unreadable`: a file is missing or corrupt). */
  error?: string;
}

/** Key as `col=value` pairs; values compare as text so any column type works. */
export type KeyFilter = Record<string, string>;

export function parseKeyFilter(text: string): KeyFilter {
  const out: KeyFilter = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new TidemarkError('InvalidInput', `--key: expected col=value[,col=value], got ${JSON.stringify(part)}`, { key: text });
    out[part.slice(0, eq).trim()] = part.slice(eq + 1);
  }
  return out;
}

export async function readKeyHistory(engine: QueryEngine, source: TableSource, key: KeyFilter): Promise<KeyVersion[]> {
  const out: KeyVersion[] = [];
  let previous: string | null = null;
  for (const snapshot of source.snapshots) {
    let names: string[];
    try {
      names = (await source.columns(snapshot.snapshotId)).names;
    } catch (e) {
      if (!(e instanceof TidemarkError) || (e.code !== 'NotFound' && e.code !== 'DataInvalid')) throw e;
      names = [];
    }
    const missing = Object.keys(key).filter((k) => !names.includes(k));
    let rows: Record<string, unknown>[] = [];
    const entry = {
      snapshotId: snapshot.snapshotId,
      sequenceNumber: snapshot.sequenceNumber,
      timestampMs: snapshot.timestampMs,
      operation: snapshot.operation,
      source: Object.fromEntries(Object.entries(snapshot.summary).filter(([k]) => k.startsWith('tidemark.'))),
    };
    if (missing.length === 0) {
      try {
        // Files whose key bounds exclude the key are not even loaded (integer keys).
        const relation = await source.relation(snapshot.snapshotId, { lazy: true, keyEquals: key });
        const where = Object.entries(key).map(([k, v]) => `CAST(${quoteIdent(k)} AS VARCHAR) = ${quoteLiteral(v)}`).join(' AND ');
        const r = await engine.query(`SELECT * FROM ${relation} WHERE ${where}`);
        rows = r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
      } catch (e) {
        // One snapshot with a missing or corrupt file must not hide the rest of the history.
        if (!(e instanceof TidemarkError) || (e.code !== 'NotFound' && e.code !== 'DataInvalid')) throw e;
        out.push({ ...entry, status: 'unreadable', rows: [], error: e.message });
        continue;
      }
    }
    // Columns missing from one version count as null, so adding a column does not "update" every row.
    const state = rows.length ? valueKey(rows.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null).sort(([a], [b]) => (a < b ? -1 : 1))))) : null;
    let status: KeyStatus | null;
    if (previous === null) status = state === null ? null : 'inserted';
    else if (state === null) status = 'deleted';
    else status = state === previous ? 'unchanged' : 'updated';
    if (status !== null) {
      out.push({ ...entry, status, rows });
    }
    previous = state;
  }
  return out;
}
