/**
 * A table version as a DuckDB view whose deletes are already resolved: which rows of each data file
 * are live comes from the lazy reader's live-row masks (core/query/pages: position deletes and
 * equality key columns, the same masks the grid's pages and counts use), and DuckDB gets only the
 * dead rows' positions, one small table, anti-joined on (file, position). Nothing is materialized:
 * the version costs the projected columns of its files (no equality key columns, no merged copy), a
 * query over it streams through the files once.
 *
 * Why not the merge-on-read SQL of scan-view.ts for a full pass: it needs every file's equality key
 * columns in DuckDB beside the projected ones and a materialized merged copy of the version (twice
 * the version's size; a 10M-row console query grew the process by more than 1 GiB of wasm memory,
 * which never shrinks). The SQL form stays for lazy views (a selective filter around them).
 */
import { checkDataFileFormat } from '../lake';
import { findColumn } from '../lake';
import { Int32, Int64, makeData, RecordBatch, Schema as ArrowSchema, Field, Struct, Table, tableToIPC } from 'apache-arrow';
import type { NestedField, Schema } from '../lake';
import type { ScanPlan } from '../lake';
import { quoteIdent } from './duckdb';
import type { LazyReader } from './pages/reader';
import type { VersionRows } from './pages/version-rows';
import { filePositionSql } from './row-groups';
import { type FieldPredicate, type FileLoader, type LoadProgress, nextObjectName, storedFieldSql } from './scan-view';
import { sqlLiteral } from './sql-types';
import type { SqlSession } from './duckdb';

export interface MaskedView {
  /** The view's query (its dead-position table, if any, is `dead`). */
  sql: string;
  columns: NestedField[];
  /** Table of dead rows (`_file INTEGER, _pos BIGINT`), null when no delete applies; drop it with the view. */
  dead: string | null;
  /** FileLoader keys the view acquired: release them (FileLoader.release) when the view is dropped. */
  fileKeys: string[];
}

/** Data files loaded at once (I/O and decoding of one overlap DuckDB ingesting another). */
const LOAD_CONCURRENCY = 3;

/** The dead positions as an Arrow IPC stream of (_file int32, _pos int64). */
function deadIpc(files: Int32Array, positions: Float64Array): Uint8Array {
  const n = files.length;
  const words = new Int32Array(n * 2);
  for (let i = 0; i < n; i++) {
    // Positions are below 2^53 (and in practice 2^31): low word, then high word.
    const p = positions[i]!;
    const hi = Math.floor(p / 4294967296);
    words[2 * i] = p - hi * 4294967296;
    words[2 * i + 1] = hi;
  }
  const fileData = makeData({ type: new Int32(), length: n, data: files });
  const posData = makeData({ type: new Int64(), length: n, data: new BigInt64Array(words.buffer) } as never);
  const fields = [new Field('_file', new Int32(), false), new Field('_pos', new Int64(), false)];
  const schema = new ArrowSchema(fields);
  return tableToIPC(new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children: [fileData, posData] }))]), 'stream');
}

/**
 * Builds the view of `plan` (top-level `columns` by name, default all of `schema`): loads the
 * projected columns of each data file (row groups pruned by `prune` where statistics allow) and the
 * live masks of the files that deletes apply to, and registers the dead positions. `rows`: the
 * version's lazy rows when `plan` is a part of a larger plan (its delete index is then loaded once
 * for all parts).
 */
export async function buildMaskedView(
  session: SqlSession,
  loader: FileLoader,
  lazy: LazyReader,
  plan: ScanPlan,
  schema: Schema,
  columns?: string[],
  onProgress?: (p: LoadProgress) => void,
  prune: FieldPredicate[] = [],
  rows?: VersionRows,
): Promise<MaskedView> {
  // Columns by name, the v3 row-lineage metadata columns (_row_id, …) included when asked for.
  const outFields = columns ? columns.map((name) => findColumn(schema, plan.table.metadata, name)!).filter(Boolean) : schema.fields;
  const list = outFields.map((f) => quoteIdent(`c${f.id}`));
  const output = outFields.length ? outFields.map((f) => `${quoteIdent(`c${f.id}`)} AS ${quoteIdent(f.name)}`).join(', ') : '1 AS "_"';
  if (plan.files.length === 0) {
    const empty = outFields.length ? outFields.map((f) => `${sqlLiteral(f.type, null)} AS ${quoteIdent(`c${f.id}`)}`).join(', ') : '1 AS _row';
    return { sql: `SELECT ${output} FROM (SELECT ${empty}) AS d WHERE false`, columns: outFields, dead: null, fileKeys: [] };
  }
  const version = plan.files.some((f) => f.deletes.length > 0) ? (rows ?? lazy.rowsOf(plan)) : null;
  const ids = outFields.map((f) => f.id);
  // v3 variant columns load as their JSON text (variant-columns.ts), as in the other views.
  const variantIds = outFields.filter((f) => f.type === 'variant').map((f) => f.id);
  const progress = { table: plan.table.root, doneFiles: 0, totalFiles: plan.files.length, doneRecords: 0, totalRecords: plan.files.reduce((n, f) => n + f.recordCount, 0) };
  const loads: { table: string; select: string; masked: boolean }[] = new Array(plan.files.length);
  const deadLists: { file: number; positions: number[] }[] = [];
  // Every load acquired so far: released again if the view cannot be built.
  const acquired: string[] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < plan.files.length && !failed) {
      const i = next++;
      const f = plan.files[i]!;
      checkDataFileFormat(f);
      acquired.push(loader.keyOf(f.path, f.fileSizeInBytes, ids, prune, undefined, variantIds));
      const loaded = await loader.acquire(f.path, f.fileSizeInBytes, ids, 'data file', prune, variantIds);
      const cells = outFields.map((field) => `${storedFieldSql(field, loaded, f, plan.table.metadata)} AS ${quoteIdent(`c${field.id}`)}`);
      // A projection of nothing (a count) still needs a column per row.
      if (cells.length === 0) cells.push('1 AS _row');
      let masked = false;
      if (f.deletes.length > 0 && version) {
        const live = await version.fileLive(f);
        const positions: number[] = [];
        let start = 0;
        for (const g of live.rowGroups) {
          if (g.mask && g.live < g.rows) for (let r = 0; r < g.rows; r++) if (!g.mask[r]) positions.push(start + r);
          start += g.rows;
        }
        deadLists.push({ file: i, positions });
        if (positions.length > 0) {
          masked = true;
          cells.push(`${i} AS _file`, `CAST(${filePositionSql(loaded.rowGroups)} AS BIGINT) AS _pos`);
        }
      }
      loads[i] = { table: loaded.table, select: cells.join(', '), masked };
      progress.doneFiles++;
      progress.doneRecords += f.recordCount;
      onProgress?.({ ...progress });
    }
  };
  // Settled, not Promise.all: a failure must wait for the other workers' loads before releasing.
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(LOAD_CONCURRENCY, plan.files.length) }, () =>
      worker().catch((e: unknown) => {
        failed = true;
        throw e;
      }),
    ),
  );
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await loader.release(acquired);
    throw failure.reason;
  }
  const deadCount = deadLists.reduce((n, d) => n + d.positions.length, 0);
  let dead: string | null = null;
  if (deadCount > 0) {
    dead = nextObjectName('tm_dead');
    const files = new Int32Array(deadCount);
    const positions = new Float64Array(deadCount);
    let at = 0;
    for (const d of deadLists) {
      files.fill(d.file, at, at + d.positions.length);
      positions.set(d.positions, at);
      at += d.positions.length;
    }
    try {
      await session.insertArrowIpc(dead, deadIpc(files, positions));
    } catch (e) {
      await loader.release(acquired);
      throw e;
    }
  }
  const inner = list.length ? list.join(', ') : '_row';
  const clean: string[] = [];
  const masked: string[] = [];
  for (const l of loads) (l.masked ? masked : clean).push(`SELECT ${l.select} FROM ${quoteIdent(l.table)}`);
  const parts = [...clean.map((p) => `SELECT ${inner} FROM (${p})`)];
  if (masked.length > 0) {
    // LEFT JOIN … IS NULL, not ANTI JOIN: DuckDB 1.4 returned wrong rows from anti joins under
    // filters pushed into them (docs/perf-notes.md, "Merge-on-read joins").
    const d = masked.join('\nUNION ALL\n');
    parts.push(`SELECT ${list.length ? list.map((c) => `m.${c}`).join(', ') : 'm._row'} FROM (${d}) AS m LEFT JOIN ${quoteIdent(dead!)} AS x ON x._file = m._file AND x._pos = m._pos WHERE x._pos IS NULL`);
  }
  return { sql: `SELECT ${output} FROM (${parts.join('\nUNION ALL\n')}) AS v`, columns: outFields, dead, fileKeys: acquired };
}
