/**
 * The history of one row: every retained snapshot in commit order, with what happened to the row
 * there (inserted, updated, deleted, unchanged) and its values. For tables written by Tidemark's
 * sync, the snapshot summary carries the source position (`tidemark.*` keys), shown as `source`.
 */
import { TidemarkError } from '../errors';
import { valueKey } from '../lake';
import { parseJsonBigint } from '../lake';
import { quoteIdent, quoteLiteral } from './duckdb';
import type { QueryEngine } from './engine';
import type { TableSource } from './table-source';
import type { KeyStatus, KeyVersion } from '../api';
export type { KeyStatus, KeyVersion };

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

/** One version's columns as the history reads them: name → field id, and field id → name. */
interface VersionColumns {
  ids: Map<string, number>;
  names: Map<number, string>;
}

/**
 * The history of the row with `key` (columns named as in the newest snapshot that has them). Columns
 * are followed by field id, so a rename changes neither the key lookup nor the row's state; rows are
 * shown under each field's newest name. In Iceberg v3 tables the row is also followed by `_row_id`.
 */
export async function readKeyHistory(engine: QueryEngine, source: TableSource, key: KeyFilter): Promise<KeyVersion[]> {
  const versions = new Map<bigint, VersionColumns | null>();
  for (const snapshot of source.snapshots) {
    try {
      const c = await source.columns(snapshot.snapshotId);
      versions.set(snapshot.snapshotId, { ids: new Map(c.names.map((n, i) => [n, c.ids[i]!])), names: new Map(c.ids.map((id, i) => [id, c.names[i]!])) });
    } catch (e) {
      if (!(e instanceof TidemarkError) || (e.code !== 'NotFound' && e.code !== 'DataInvalid')) throw e;
      versions.set(snapshot.snapshotId, null);
    }
  }
  // Display name of each field: its name in the newest version that has it.
  const display = new Map<number, string>();
  for (const v of [...versions.values()].reverse()) for (const [id, name] of v?.names ?? []) if (!display.has(id)) display.set(id, name);
  // The key's field ids: a name resolves in the newest version that has it.
  const keyIds = new Map<number, string>();
  for (const [name, value] of Object.entries(key)) {
    const id = [...versions.values()].reverse().find((v) => v?.ids.has(name))?.ids.get(name);
    if (id === undefined) return [];
    keyIds.set(id, value);
  }

  const out: KeyVersion[] = [];
  // v3 row lineage: the `_row_id`s of the rows seen so far, followed into later versions even when
  // their key changes (an update of the key column is then "updated", not "deleted").
  const rowIds = new Set<bigint>();
  let previous: Map<number, string> | null = null;
  let previousKey: string | null = null;
  for (const snapshot of source.snapshots) {
    const columns = versions.get(snapshot.snapshotId) ?? null;
    const versionKey = columns ? [...keyIds].map(([id, value]) => [columns.names.get(id), value] as const) : [];
    let rows: Map<number, unknown>[] = [];
    const entry = {
      snapshotId: snapshot.snapshotId,
      sequenceNumber: snapshot.sequenceNumber,
      timestampMs: snapshot.timestampMs,
      operation: snapshot.operation,
      source: Object.fromEntries(Object.entries(snapshot.summary).filter(([k]) => k.startsWith('tidemark.'))),
    };
    if (columns && versionKey.every(([name]) => name !== undefined)) {
      const keyEquals = Object.fromEntries(versionKey) as Record<string, string>;
      try {
        // Read without SQL where the source can (Iceberg, integer and string keys): files and row
        // groups whose key bounds exclude the key are not read, and no view is built per snapshot.
        let direct = source.keyRows ? await source.keyRows(snapshot.snapshotId, keyEquals) : null;
        // v3: the pruned key lookup suffices while every row followed so far still has the key;
        // otherwise (its key changed, or it is gone) look for the followed _row_ids in the whole version.
        const found = new Set((direct?.rowIds ?? []).filter((id): id is bigint => id !== null));
        if (source.lineageRows && (!direct || !direct.rowIds || [...rowIds].some((id) => !found.has(id)))) {
          direct = await source.lineageRows(snapshot.snapshotId, keyEquals, [...rowIds]);
        }
        for (const id of direct?.rowIds ?? []) if (id !== null) rowIds.add(id);
        if (direct) rows = direct.rows.map((row) => new Map(row.map((v, i) => [direct.ids[i]!, v] as [number, unknown])));
        else {
          // Files whose key bounds exclude the key are not even loaded (integer keys).
          const relation = await source.relation(snapshot.snapshotId, { lazy: true, keyEquals });
          const where = Object.entries(keyEquals).map(([k, v]) => `CAST(${quoteIdent(k)} AS VARCHAR) = ${quoteLiteral(v)}`).join(' AND ');
          const r = await engine.query(`SELECT * FROM ${relation} WHERE ${where}`);
          const ids = r.columns.map((c) => columns.ids.get(c.name));
          rows = r.rows.map((row) => new Map(row.flatMap((v, i) => (ids[i] === undefined ? [] : [[ids[i], v] as [number, unknown]]))));
        }
      } catch (e) {
        // One snapshot with a missing or corrupt file must not hide the rest of the history.
        if (!(e instanceof TidemarkError) || (e.code !== 'NotFound' && e.code !== 'DataInvalid')) throw e;
        out.push({ ...entry, status: 'unreadable', rows: [], changedColumns: [], error: e.message });
        continue;
      }
    }
    // Compared by field id; a column missing from one version counts as null, so adding a column
    // does not "update" every row, and renaming one changes nothing.
    // A key that is not unique has several rows, in no defined order: the version's state is their
    // multiset (sorted by value), so that the order a reader returns them in changes nothing.
    const keyed = rows.map((r) => ({ row: r, key: valueKey([...r].filter(([, v]) => v !== null).sort(([a], [b]) => a - b)) })).sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    rows = keyed.map((k) => k.row);
    const state = rows.length === 1 ? new Map([...rows[0]!].filter(([, v]) => v !== null).map(([id, v]) => [id, valueKey(v)])) : null;
    const stateKey = rows.length ? valueKey(keyed.map((k) => k.key)) : null;
    let status: KeyStatus | null;
    if (previousKey === null) status = stateKey === null ? null : 'inserted';
    else if (stateKey === null) status = 'deleted';
    else status = stateKey === previousKey ? 'unchanged' : 'updated';
    if (status !== null) {
      const changedIds = status === 'updated' && state && previous ? [...new Set([...state.keys(), ...previous.keys()])].filter((id) => state.get(id) !== previous!.get(id)) : [];
      out.push({
        ...entry,
        status,
        rows: rows.map((r) => Object.fromEntries([...r].map(([id, v]) => [display.get(id) ?? `field ${id}`, v]))),
        changedColumns: changedIds.map((id) => display.get(id) ?? `field ${id}`),
      });
    }
    previous = state;
    previousKey = stateKey;
  }
  if (source.format === 'iceberg') await addChangelogPositions(engine, `${source.root}${CHANGELOG_SUFFIX}`, key, out);
  return out;
}

/** Beside a table synced with Tidemark's audit changelog: `<table>__changelog` (core/pipeline). */
const CHANGELOG_SUFFIX = '__changelog';

/**
 * Where the table has an audit changelog, each change of the row gets the binlog position of the
 * source change(s) behind it (`changelog.binlog`, `changelog.gtid`, `changelog.op`): the changelog
 * rows whose target snapshot is that version and whose source image holds the key. Only those
 * snapshots' changelog files are read (pruned by target_snapshot_id). Source images use the source
 * table's column names: a key renamed by a transform is not found there, and nothing is added.
 */
async function addChangelogPositions(engine: QueryEngine, changelogRoot: string, key: KeyFilter, versions: KeyVersion[]): Promise<void> {
  if (!(await engine.storage.stat(`${changelogRoot}/metadata`))) return;
  const changelog = await engine.loadTable(changelogRoot);
  const matches = (image: unknown) => {
    if (typeof image !== 'string') return false;
    const row = parseJsonBigint(image) as Record<string, unknown>;
    return Object.entries(key).every(([k, v]) => row[k] !== undefined && row[k] !== null && String(row[k]) === v);
  };
  for (const v of versions) {
    if (v.status === 'unchanged' || v.status === 'unreadable') continue;
    const { view } = await engine.registerView(changelog, { lazy: true, filter: [{ column: 'target_snapshot_id', op: '=', value: v.snapshotId }] });
    const r = await engine.query(`SELECT op, "before", "after", binlog_file, binlog_pos, gtid FROM ${quoteIdent(view)} WHERE target_snapshot_id = ${v.snapshotId} ORDER BY seq`);
    const hits = r.rows.filter(([, before, after]) => matches(after) || matches(before));
    if (hits.length === 0) continue;
    v.source['changelog.binlog'] = hits.map((h) => `${String(h[3])}:${String(h[4])}`).join(',');
    v.source['changelog.op'] = hits.map((h) => String(h[0])).join(',');
    const gtids = hits.map((h) => h[5]).filter((g) => g !== null);
    if (gtids.length) v.source['changelog.gtid'] = gtids.map(String).join(',');
  }
}
