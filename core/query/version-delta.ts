/**
 * What differs between two versions of an Iceberg table, read from the files that differ only.
 *
 * A data file present in both versions with the same delete files applying to it holds the same live
 * rows in both: it cancels out and is never read. What is left:
 *  - data files in one version only (a commit's new files, a compaction's inputs and outputs): their
 *    live rows under that version's deletes;
 *  - data files in both whose deletes differ (a commit's new delete files): only the rows whose
 *    liveness differs between the versions.
 * Both are found from the key columns, the equality-delete columns and row positions alone; whole
 * rows are read afterwards only for the rows a caller lists or compares, by position, one row group
 * at a time (ranged reads). A diff of one small commit on a 10M-row table thus reads that commit's
 * files, the key column of the files its deletes touch, and a few row groups.
 *
 * Spec (format v2, "Scan Planning"): the delete files applying to a data file are those the plan
 * assigns (position deletes: same file, data seq ≤ delete seq; equality deletes: data seq < delete
 * seq, same partition unless the delete's spec is unpartitioned). Equality matches NULL to NULL.
 */
import { FILE_CONTENT, type NestedField } from '../lake/model';
import type { PlannedDataFile, PlannedFile, ScanPlan } from '../lake/scan-plan';
import type { LoadedTable } from '../lake/table';
import { quoteIdent, quoteLiteral } from './duckdb';
import type { QueryEngine } from './engine';
import { deleteFileKey, isDeletionVector } from '../lake/deletion-vector';
import { fieldsById, loadEqualityKeys, nextObjectName, POS_FILE_PATH, POS_POS, storedFieldSql } from './scan-view';
import { filePositionSql } from './row-groups';
import { sqlLiteral } from './sql-types';

/** A data file taking part in a delta: the version(s) it belongs to and the deletes applying there. */
interface DeltaFile {
  index: number;
  file: PlannedDataFile;
  inA: boolean;
  inB: boolean;
  /** Delete files applying in version A / B (empty when the file is not in that version). */
  deletesA: PlannedFile[];
  deletesB: PlannedFile[];
}

/**
 * The rows that can differ between versions A and B, in a temp table `keys` with columns
 * `_file, _pos, live_a, live_b, c<fieldId>...` (the key fields, in the output schema's types).
 * Exactly one of live_a / live_b is true on each row. `readRows` reads whole rows of some of them.
 */
export interface VersionDelta {
  /** Temp table of candidate rows (see above). */
  keys: string;
  /**
   * Reads the output fields of the rows (`_file`, `_pos`) returned by `selectSql` into a new temp
   * table `(_file, _pos, c<fieldId>...)`, reading only the row groups holding them; null when the
   * query returns no row. `drop` drops it.
   */
  readRows(selectSql: string): Promise<string | null>;
  /** Data files read for the delta (not counting files that cancelled out), and files in the versions. */
  stats: { filesRead: number; filesCancelled: number };
  /** Drops every temp table made for the delta. */
  drop(): Promise<void>;
}

export interface DeltaOptions {
  /** Key fields (by id) carried in `keys`: the diff's match columns. */
  keyFields: NestedField[];
  /** Fields `readRows` returns, in the output schema (matched by field id in every file). */
  outputFields: NestedField[];
}

export async function planVersionDelta(engine: QueryEngine, table: LoadedTable, a: bigint, b: bigint, options: DeltaOptions): Promise<VersionDelta> {
  const [planA, planB] = await Promise.all([engine.plan(table, { snapshotId: a }), engine.plan(table, { snapshotId: b })]);
  return buildDelta(engine, planA, planB, options);
}

const deleteSet = (files: PlannedFile[]) => files.map(deleteFileKey).sort().join('\u0000');

async function buildDelta(engine: QueryEngine, planA: ScanPlan, planB: ScanPlan, options: DeltaOptions): Promise<VersionDelta> {
  const metadata = planA.table.metadata;
  const allFields = fieldsById(metadata);
  const byPath = new Map<string, DeltaFile>();
  let cancelled = 0;
  for (const f of planA.files) byPath.set(f.path, { index: 0, file: f, inA: true, inB: false, deletesA: f.deletes, deletesB: [] });
  for (const f of planB.files) {
    const d = byPath.get(f.path);
    if (!d) byPath.set(f.path, { index: 0, file: f, inA: false, inB: true, deletesA: [], deletesB: f.deletes });
    else if (deleteSet(d.deletesA) === deleteSet(f.deletes)) {
      byPath.delete(f.path);
      cancelled++;
    } else {
      d.inB = true;
      d.deletesB = f.deletes;
    }
  }
  const files = [...byPath.values()];
  files.forEach((f, i) => (f.index = i));
  const temps: string[] = [];
  const temp = (prefix: string) => {
    const name = nextObjectName(prefix);
    temps.push(name);
    return name;
  };
  const drop = async () => {
    const names = temps.splice(0);
    if (names.length) await engine.query(names.map((t) => `DROP TABLE IF EXISTS ${quoteIdent(t)};`).join(' '));
  };

  // Every delete file applying to a candidate in either version, once.
  const deletes = new Map<string, { index: number; file: PlannedFile }>();
  for (const f of files) for (const d of [...f.deletesA, ...f.deletesB]) if (!deletes.has(deleteFileKey(d))) deletes.set(deleteFileKey(d), { index: deletes.size, file: d });
  const eqIds = new Set<number>();
  for (const { file } of deletes.values()) if (file.content === FILE_CONTENT.equalityDeletes) for (const id of file.dataFile.equalityIds ?? []) eqIds.add(id);
  const readIds = [...new Set([...options.keyFields.map((f) => f.id), ...eqIds])];
  const readFields = readIds.map((id) => allFields.get(id)).filter((f): f is NestedField => f !== undefined);
  const col = (id: number) => quoteIdent(`c${id}`);

  const keys = temp('tm_delta_keys');
  try {
    const loads = await Promise.all(files.map((f) => engine.files.load(f.file.path, f.file.fileSizeInBytes, readIds, 'data file')));
    const parts = files.map((f, i) => {
      const loaded = loads[i]!;
      const select = readFields.map((field) => `${storedFieldSql(field, loaded, f.file, metadata)} AS ${col(field.id)}`);
      return `SELECT ${[`${f.index} AS _file`, `CAST(${filePositionSql(loaded.rowGroups)} AS BIGINT) AS _pos`, ...select].join(', ')} FROM ${loaded.table}`;
    });
    if (parts.length === 0) {
      const empty = readFields.map((f) => `${sqlLiteral(f.type, null)} AS ${col(f.id)}`);
      await engine.query(`CREATE TEMP TABLE ${quoteIdent(keys)} AS SELECT ${['0 AS _file', 'CAST(0 AS BIGINT) AS _pos', 'false AS live_a', 'false AS live_b', ...empty].join(', ')} WHERE false`);
    } else {
      const ctes = [`k AS (${parts.join('\nUNION ALL\n')})`];
      const membership = files.map((f) => `(${f.index}, ${f.inA}, ${f.inB})`).join(', ');
      ctes.push(`fm(_file, in_a, in_b) AS (VALUES ${membership})`);
      const applies = files.flatMap((f) => {
        const rows = new Map<number, [boolean, boolean]>();
        for (const d of f.deletesA) rows.set(deletes.get(deleteFileKey(d))!.index, [true, false]);
        for (const d of f.deletesB) rows.set(deletes.get(deleteFileKey(d))!.index, [rows.get(deletes.get(deleteFileKey(d))!.index)?.[0] ?? false, true]);
        return [...rows].map(([del, [inA, inB]]) => `(${f.index}, ${del}, ${inA}, ${inB})`);
      });
      // A hit: a row of `src` matched by a delete that `via` (fd or fc) says applies to its file.
      const hits: ((src: string, via: string) => string)[] = [];
      // Delete files applying to a shared file in one version only: the rows they match are the
      // only rows of that file whose liveness can differ (the rest cancel out).
      const changed = files.flatMap((f) => {
        if (!(f.inA && f.inB)) return [];
        const a = new Set(f.deletesA.map(deleteFileKey));
        const b = new Set(f.deletesB.map(deleteFileKey));
        return [...a, ...b].filter((d) => !(a.has(d) && b.has(d))).map((d) => `(${f.index}, ${deletes.get(d)!.index}, false, false)`);
      });
      if (applies.length > 0) {
        ctes.push(`fd(_file, _del, in_a, in_b) AS (VALUES ${applies.join(', ')})`);
        ctes.push(changed.length ? `fc(_file, _del, in_a, in_b) AS (VALUES ${[...new Set(changed)].join(', ')})` : 'fc AS (SELECT * FROM fd WHERE false)');
        const pos = [...deletes.values()].filter((d) => d.file.content === FILE_CONTENT.positionDeletes);
        if (pos.length > 0) {
          const pathRows = files.flatMap((f) => [...new Set([f.file.path, f.file.originalPath])].map((p) => `(${quoteLiteral(p)}, ${f.index})`));
          ctes.push(`pm(file_path, _file) AS (VALUES ${pathRows.join(', ')})`);
          const posParts: string[] = [];
          for (const { index, file } of pos) {
            if (isDeletionVector(file)) {
              posParts.push(`SELECT ${index} AS _del, file_path, pos FROM (${await engine.files.loadDeletionVector(file)})`);
              continue;
            }
            const loaded = await engine.files.load(file.path, file.fileSizeInBytes, [POS_FILE_PATH, POS_POS], 'position delete file', new Map([[POS_FILE_PATH, 'file_path'], [POS_POS, 'pos']]));
            const pathCol = quoteIdent(loaded.columns.get(POS_FILE_PATH) ?? 'file_path');
            const posCol = quoteIdent(loaded.columns.get(POS_POS) ?? 'pos');
            posParts.push(`SELECT ${index} AS _del, ${pathCol} AS file_path, CAST(${posCol} AS BIGINT) AS pos FROM ${loaded.table}`);
          }
          ctes.push(`p AS (SELECT pm._file, x._del, x.pos FROM (${posParts.join(' UNION ALL ')}) AS x JOIN pm ON pm.file_path = x.file_path)`);
          hits.push((src, via) => `SELECT ${src}.*, ${via}.in_a, ${via}.in_b FROM ${src} JOIN p ON p._file = ${src}._file AND p.pos = ${src}._pos JOIN ${via} ON ${via}._file = ${src}._file AND ${via}._del = p._del`);
        }
        // Equality deletes, grouped by their equality field ids.
        const groups = new Map<string, { index: number; file: PlannedFile }[]>();
        for (const d of deletes.values()) {
          if (d.file.content !== FILE_CONTENT.equalityDeletes) continue;
          const key = (d.file.dataFile.equalityIds ?? []).join(',');
          groups.set(key, [...(groups.get(key) ?? []), d]);
        }
        let g = 0;
        for (const [key, members] of groups) {
          const ids = key.split(',').map(Number);
          const name = `e${g++}`;
          const eqParts: string[] = [];
          for (const { index, file } of members) {
            const { loaded, select } = await loadEqualityKeys(engine.files, file, ids, allFields);
            eqParts.push(`SELECT ${[`${index} AS _del`, ...select].join(', ')} FROM ${loaded.table}`);
          }
          ctes.push(`${name} AS (${eqParts.join(' UNION ALL ')})`);
          hits.push((src, via) => {
            const match = ids.map((id) => `${src}.${col(id)} IS NOT DISTINCT FROM ${name}.${col(id)}`).join(' AND ');
            return `SELECT ${src}.*, ${via}.in_a, ${via}.in_b FROM ${src} JOIN ${name} ON ${match} JOIN ${via} ON ${via}._file = ${src}._file AND ${via}._del = ${name}._del`;
          });
        }
      }
      // Candidates: every row of a file in one version only, and the rows of shared files that a
      // delete applying in one version only matches. Only they are checked against every delete.
      const own = files.filter((f) => !(f.inA && f.inB)).map((f) => f.index);
      const candidates = [
        ...(own.length ? [`SELECT * FROM k WHERE _file IN (${own.join(', ')})`] : []),
        ...(changed.length ? hits.map((h) => `SELECT DISTINCT ${['_file', '_pos', ...readFields.map((f) => col(f.id))].join(', ')} FROM (${h('k', 'fc')})`) : []),
      ];
      ctes.push(`c AS (${candidates.length ? candidates.join('\nUNION ALL\n') : 'SELECT * FROM k WHERE false'})`);
      ctes.push(
        hits.length > 0
          ? `dead AS (SELECT _file, _pos, bool_or(in_a) AS dead_a, bool_or(in_b) AS dead_b FROM (${hits.map((h) => h('c', 'fd')).join('\nUNION ALL\n')}) GROUP BY _file, _pos)`
          : 'dead AS (SELECT 0 AS _file, CAST(0 AS BIGINT) AS _pos, false AS dead_a, false AS dead_b WHERE false)',
      );
      // A shared row matched by a changed delete of each kind appears once per kind: keep one.
      const live = `SELECT DISTINCT c.*, (fm.in_a AND NOT coalesce(dead.dead_a, false)) AS live_a, (fm.in_b AND NOT coalesce(dead.dead_b, false)) AS live_b
        FROM c JOIN fm ON fm._file = c._file LEFT JOIN dead ON dead._file = c._file AND dead._pos = c._pos`;
      await engine.query(`CREATE TEMP TABLE ${quoteIdent(keys)} AS WITH ${ctes.join(',\n')}\nSELECT * FROM (${live}) WHERE live_a <> live_b`);
    }
  } catch (e) {
    await drop();
    throw e;
  }

  const readRows = async (selectSql: string): Promise<string | null> => {
    const wanted = await engine.query(`SELECT DISTINCT _file, _pos FROM (${selectSql}) ORDER BY _file, _pos`);
    if (wanted.rows.length === 0) return null;
    const byFile = new Map<number, number[]>();
    for (const [f, p] of wanted.rows) byFile.set(Number(f), [...(byFile.get(Number(f)) ?? []), Number(p)]);
    const out = temp('tm_delta_rows');
    const parts: string[] = [];
    for (const [index, positions] of byFile) {
      const f = files[index]!;
      const opened = await engine.files.open(f.file.path, f.file.fileSizeInBytes, 'data file');
      const groups = groupsHolding(opened.footer.rowGroups.map((rg) => rg.numRows), positions);
      const loaded = await engine.files.load(f.file.path, f.file.fileSizeInBytes, options.outputFields.map((x) => x.id), 'data file', undefined, [], groups);
      const select = options.outputFields.map((field) => `${storedFieldSql(field, loaded, f.file, metadata)} AS ${col(field.id)}`);
      parts.push(`SELECT * FROM (SELECT ${[`${index} AS _file`, `CAST(${filePositionSql(loaded.rowGroups)} AS BIGINT) AS _pos`, ...select].join(', ')} FROM ${loaded.table}) WHERE _pos IN (SELECT _pos FROM (${selectSql}) WHERE _file = ${index})`);
    }
    await engine.query(`CREATE TEMP TABLE ${quoteIdent(out)} AS ${parts.join('\nUNION ALL\n')}`);
    return out;
  };

  return { keys, readRows, stats: { filesRead: files.length, filesCancelled: cancelled }, drop };
}

/** Indexes of the row groups (given their row counts) that hold any of the sorted positions. */
export function groupsHolding(groupRows: number[], positions: number[]): number[] {
  const out: number[] = [];
  let g = 0;
  let start = 0;
  for (const p of positions) {
    while (g < groupRows.length && p >= start + groupRows[g]!) start += groupRows[g++]!;
    if (g >= groupRows.length) break;
    if (out[out.length - 1] !== g) out.push(g);
  }
  return out;
}
