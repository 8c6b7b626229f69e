/**
 * Explorer at any size (issue 24): the grid's first page, a switch of snapshot and the exact live
 * count of a large table with equality deletes, each beside the same work on its compacted twin in
 * the same run, plus the process's peak memory while the engine works.
 *
 * The table: N rows (TIDEMARK_BENCH_EXPLORER_ROWS, default 10M) × 30 columns (10 long, 10 string,
 * 5 double, 5 timestamp) appended in 50 commits, then 5% of the keys deleted by one commit of
 * equality deletes. Its twin holds the same live rows in the same 50 appends, without deletes.
 * Both are generated once, by a child process (so that generation garbage does not count against
 * the engine's memory), into .tidemark-tmp/ (gitignored) and reused by later runs.
 *
 * Goals: plan + first page (100 rows, all columns) < 300 ms with the engine warm; a switch to
 * another snapshot's first page < 300 ms; exact live count < 2 s; diff of the last two snapshots
 * < 2 s; one key's history < 1 s; SQL GROUP BY over 2 columns < 5 s; peak memory < 1.5 GiB.
 */
import { Field, Float64, Int64, makeData, RecordBatch, Schema as ArrowSchema, Struct, Table, TimestampMicrosecond, Utf8, type Data } from 'apache-arrow';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadTable } from '../core/lake/table';
import { appendArrow, applyColumnDelta, createTable } from '../core/lake/write';
import { readKeyHistory } from '../core/query/key-history';
import { createNodeQueryEngine } from '../core/query/node/index';
import { diffRows } from '../core/query/row-diff';
import { icebergSource } from '../core/query/table-source';
import { queryWarehouse } from '../core/query/warehouse-sql';
import { createLocalStorage } from '../core/storage/node/index';

const APPENDS = 50;
export const COLUMNS: { name: string; type: string; required?: boolean }[] = [
  ...Array.from({ length: 10 }, (_, i) => ({ name: i === 0 ? 'id' : `l${i}`, type: 'long', required: i === 0 })),
  ...Array.from({ length: 10 }, (_, i) => ({ name: `s${i}`, type: 'string' })),
  ...Array.from({ length: 5 }, (_, i) => ({ name: `d${i}`, type: 'double' })),
  ...Array.from({ length: 5 }, (_, i) => ({ name: `t${i}`, type: 'timestamp' })),
];
/** 5% of keys: deleted in the table, absent from its twin. */
const isDeleted = (id: number) => id % 20 === 7;
const TWO_32 = 4294967296;

/** int64 values (|v| < 2^53) written as two 32-bit words: no BigInt per value. */
function int64Data(type: Int64 | TimestampMicrosecond, values: (i: number) => number, n: number): Data {
  const words = new Int32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const v = values(i);
    const hi = Math.floor(v / TWO_32);
    words[2 * i] = v - hi * TWO_32;
    words[2 * i + 1] = hi;
  }
  return makeData({ type, length: n, data: new BigInt64Array(words.buffer) } as never);
}

/** ASCII strings written straight into Arrow's offsets and bytes. */
function utf8Data(text: (i: number) => string, n: number): Data {
  const offsets = new Int32Array(n + 1);
  const parts: string[] = new Array<string>(n);
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    parts[i] = text(i);
    bytes += parts[i]!.length;
    offsets[i + 1] = bytes;
  }
  const data = new Uint8Array(bytes);
  let at = 0;
  for (const s of parts) for (let k = 0; k < s.length; k++) data[at++] = s.charCodeAt(k);
  return makeData({ type: new Utf8(), length: n, valueOffsets: offsets, data });
}

/** The rows with the given ids as one Arrow table (values derived from the id, deterministic). */
export function batchOf(ids: Float64Array): Table {
  const n = ids.length;
  const fields: Field[] = [];
  const children: Data[] = [];
  const base = Date.UTC(2026, 0, 1) * 1000;
  for (const c of COLUMNS) {
    const k = fields.length;
    if (c.type === 'long') children.push(int64Data(new Int64(), (i) => (k === 0 ? ids[i]! : (ids[i]! * (k + 7)) % 1_000_003), n));
    else if (c.type === 'string') children.push(utf8Data((i) => `${c.name}-${(ids[i]! * (k + 3)).toString(36)}-${ids[i]! % 97}`, n));
    else if (c.type === 'double') children.push(makeData({ type: new Float64(), length: n, data: Float64Array.from(ids, (id) => (id % 100_000) / (k + 1)) }));
    else children.push(int64Data(new TimestampMicrosecond(), (i) => base + ids[i]! * 1_000_003 + k, n));
    fields.push(new Field(c.name, children[k]!.type, c.name !== 'id'));
  }
  const schema = new ArrowSchema(fields);
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]);
}

export function idsOf(from: number, to: number, keep: (id: number) => boolean): Float64Array {
  const out: number[] = [];
  for (let id = from; id < to; id++) if (keep(id)) out.push(id);
  return Float64Array.from(out);
}

/** Writes the table (appends, then equality deletes) and its twin; runs in a child process. */
async function generate(dir: string, n: number) {
  const mor = join(dir, 'mor');
  const twin = join(dir, 'compacted');
  const warmup = join(dir, 'warmup');
  await rm(dir, { recursive: true, force: true });
  await createTable(warmup, { columns: COLUMNS, identifierColumns: ['id'] });
  await appendArrow(warmup, batchOf(idsOf(0, 1000, () => true)));
  const per = Math.ceil(n / APPENDS);
  await createTable(mor, { columns: COLUMNS, identifierColumns: ['id'] });
  await createTable(twin, { columns: COLUMNS, identifierColumns: ['id'] });
  const t0 = performance.now();
  for (let c = 0; c < APPENDS; c++) {
    const from = c * per;
    const to = Math.min(n, from + per);
    await appendArrow(mor, batchOf(idsOf(from, to, () => true)));
    await appendArrow(twin, batchOf(idsOf(from, to, (id) => !isDeleted(id))));
    console.log(`explorer-scale: generated append ${c + 1}/${APPENDS} (${Math.round((performance.now() - t0) / 1000)} s)`);
  }
  const keys: bigint[] = [];
  for (let id = 7; id < n; id += 20) keys.push(BigInt(id));
  await applyColumnDelta(mor, { deleteKeys: { length: keys.length, columns: { id: keys } } });
  // Written last: its presence says the lakes are complete.
  await createTable(join(dir, 'done'), { columns: [{ name: 'x', type: 'int' }] });
}

async function time<T>(run: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await run();
  const cpu = process.cpuUsage(c0);
  // CPU time of the process beside the wall time: on a shared, loaded machine the wall time of a
  // step of a few hundred ms mostly measures the other processes.
  return { ms: Math.round((performance.now() - t0) * 10) / 10, cpuMs: Math.round((cpu.user + cpu.system) / 1000), value };
}

function lakesDir(n: number): string {
  return resolve(fileURLToPath(new URL('..', import.meta.url)), '.tidemark-tmp', `bench-explorer-${n}`);
}

function ensureLakes(n: number): { mor: string; twin: string; warmup: string; generatedS: number | null } {
  const dir = lakesDir(n);
  const paths = { mor: join(dir, 'mor'), twin: join(dir, 'compacted'), warmup: join(dir, 'warmup') };
  if (existsSync(join(dir, 'done', 'metadata'))) return { ...paths, generatedS: null };
  // Lakes linked from another checkout are read-only here: never wipe them to regenerate.
  if (existsSync(dir) && lstatSync(dir).isSymbolicLink()) throw new Error(`explorer-scale: ${dir} is a link to lakes not finished yet (no done/metadata); wait for them`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'generate', dir, String(n)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`explorer-scale: generating ${n} rows failed (exit ${r.status})`);
  return { ...paths, generatedS: Math.round((performance.now() - t0) / 1000) };
}

/** Measures one size: rows for the table and its twin side by side. */
async function measure(n: number): Promise<Record<string, number | string>[]> {
  const lakes = ensureLakes(n);
  const storage = createLocalStorage();
  const engine = await createNodeQueryEngine(storage);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  // Peak RSS of the current phase too (wasm memory never shrinks, so a phase's peak includes what
  // earlier phases left; the growth says which phase took it).
  let phasePeak = rss0;
  const sample = () => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    phasePeak = Math.max(phasePeak, rss);
  };
  const sampler = setInterval(sample, 20);
  const phases: string[] = [];
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<{ ms: number; cpuMs: number; value: T }> => {
    sample();
    const before = process.memoryUsage().rss;
    phasePeak = before;
    const r = await time(run);
    sample();
    phases.push(`${name} ${Math.round(phasePeak / 2 ** 20)} (+${Math.round((phasePeak - before) / 2 ** 20)})`);
    return r;
  };
  const out: Record<string, number | string>[] = [];
  try {
    // Engine warm: DuckDB-wasm started, parquet-wasm and the read paths (with and without deletes)
    // exercised on small tables, as after the first table a user opens.
    // Beside the lakes, not inside them: they may be links to another checkout's (read-only) lakes.
    const warmDeletes = join(lakesDir(n), '..', 'bench-explorer-warmup', 'deletes');
    if (!existsSync(join(warmDeletes, 'metadata'))) {
      await createTable(warmDeletes, { columns: COLUMNS, identifierColumns: ['id'] });
      await appendArrow(warmDeletes, batchOf(idsOf(0, 1000, () => true)));
      await applyColumnDelta(warmDeletes, { deleteKeys: { length: 50, columns: { id: Array.from({ length: 50 }, (_, i) => BigInt(i * 20 + 7)) } } });
    }
    for (const warm of [lakes.warmup, warmDeletes]) {
      await engine.window(warm, {}, 0, 100);
      await engine.window(warm, {}, 600, 100);
      await engine.count(warm);
    }
    const figures: Record<string, Record<string, number | string>> = {};
    for (const [label, root] of [['equality deletes', lakes.mor], ['compacted twin', lakes.twin]] as const) {
      const table = await loadTable(storage, root);
      const snapshots = [...table.metadata.snapshots].sort((a, b) => Number(a.sequenceNumber - b.sequenceNumber));
      const other = snapshots[39]!.snapshotId; // the 40th append
      const short = label === 'equality deletes' ? 'mor' : 'twin';
      const first = await phase(`${short} first page`, () => engine.window(root, {}, 0, 100));
      const again = await phase(`${short} again`, () => engine.window(root, {}, 0, 100));
      const deep = await phase(`${short} page at 60%`, () => engine.window(root, {}, Math.floor(n * 0.6), 100));
      const count = await phase(`${short} count`, () => engine.count(root));
      // After the count, each data file's live count is known: a deep page opens only its own file,
      // and another version sharing the files (the same snapshot by id) counts without reading.
      const deepCounted = await phase(`${short} page at 70%`, () => engine.window(root, {}, Math.floor(n * 0.7), 100));
      const countById = await phase(`${short} count by id`, () => engine.count(root, { snapshotId: snapshots.at(-1)!.snapshotId }));
      const switched = await phase(`${short} switch`, () => engine.window(root, { snapshotId: other }, 0, 100));
      const back = await phase(`${short} switch back`, () => engine.window(root, {}, 0, 100));
      // The last commit (the equality deletes; the twin: its last append), one key's history, and
      // SQL grouping over two columns through the console's path.
      const source = icebergSource(engine, table);
      const diff = await phase(`${short} diff`, () => diffRows(engine, source, snapshots.at(-2)!.snapshotId, snapshots.at(-1)!.snapshotId, { limit: 100 }));
      const key = String(Math.floor(n / 2) + 1);
      const history = await phase(`${short} key history`, () => readKeyHistory(engine, source, { id: key }));
      const ns = JSON.stringify(lakesDir(n).split('/').pop()!);
      const sql = await phase(`${short} SQL`, () => queryWarehouse(engine, resolve(lakesDir(n), '..'), `SELECT l1 % 10 AS a, l2 % 10 AS b, count(*) AS n, sum(d0) AS s FROM ${ns}.${root.split('/').pop()!} GROUP BY 1, 2`));
      figures[label] = {
        table: `${label}, ${n / 1e6}M rows`,
        'first page ms (goal < 300)': first.ms,
        'first page CPU ms': first.cpuMs,
        'rows × columns': `${first.value.rows.length} × ${first.value.columns.length}`,
        'total pending': String(first.value.totalPending),
        'first page again ms': again.ms,
        'page at 60% ms': deep.ms,
        'exact count ms (goal < 2000)': count.ms,
        'live rows': count.value,
        'page at 70% after the count ms': deepCounted.ms,
        'count of the same snapshot by id ms': countById.ms,
        'switch snapshot ms (goal < 300)': switched.ms,
        'switch CPU ms': switched.cpuMs,
        'switch back ms': back.ms,
        'diff of last commit ms (goal < 2000)': diff.ms,
        'diff +/−/~': `${diff.value.addedCount}/${diff.value.removedCount}/${diff.value.changedCount}`,
        'key history ms (goal < 1000)': history.ms,
        'key versions': history.value.length,
        'SQL group by 2 columns ms (goal < 5000)': sql.ms,
        'groups': sql.value.rows.length,
      };
      out.push(figures[label]);
    }
    const stats = engine.lazy.stats;
    out.push({ table: `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (${cpus().length} cores)` });
    out.push({
      table: `peak RSS MiB (goal < 1536): ${Math.round(peak / 2 ** 20)} (engine started: ${Math.round(rss0 / 2 ** 20)}); row-group cache ${Math.round(stats.bytes / 2 ** 20)} MiB, ${stats.decoded} column chunks decoded, ${stats.hits} hits${lakes.generatedS !== null ? `; lakes generated in ${lakes.generatedS} s` : ''}`,
    });
    out.push({ table: `peak RSS MiB per phase (growth in the phase): ${phases.join('; ')}` });
    return out;
  } finally {
    clearInterval(sampler);
    await engine.close();
  }
}

export async function runExplorerScaleBench(): Promise<Record<string, number | string>[]> {
  const n = Number(process.env.TIDEMARK_BENCH_EXPLORER_ROWS ?? 10_000_000);
  return measure(n);
}

/** Rows per append of the end-to-end test's table (issue 24's table: 30 appends of 100k rows at 3M). */
const E2E_APPEND_ROWS = 100_000;

/** Writes one table of n rows (appends of E2E_APPEND_ROWS, then 5% of keys deleted); a child process. */
async function generateTable(dir: string, n: number) {
  const root = join(dir, 'wide');
  await rm(dir, { recursive: true, force: true });
  await createTable(root, { columns: COLUMNS, identifierColumns: ['id'] });
  const t0 = performance.now();
  const appends = Math.max(1, Math.ceil(n / E2E_APPEND_ROWS));
  for (let from = 0; from < n; from += E2E_APPEND_ROWS) {
    await appendArrow(root, batchOf(idsOf(from, Math.min(n, from + E2E_APPEND_ROWS), () => true)));
    if ((from / E2E_APPEND_ROWS + 1) % 10 === 0) console.log(`explorer table: append ${from / E2E_APPEND_ROWS + 1}/${appends} (${Math.round((performance.now() - t0) / 1000)} s)`);
  }
  const keys: bigint[] = [];
  for (let id = 7; id < n; id += 20) keys.push(BigInt(id));
  await applyColumnDelta(root, { deleteKeys: { length: keys.length, columns: { id: keys } } });
  await createTable(join(dir, 'done'), { columns: [{ name: 'x', type: 'int' }] });
}

/** Live rows of the generated tables (5% of keys deleted). */
export function liveRowsOf(n: number): number {
  let deleted = 0;
  for (let id = 7; id < n; id += 20) deleted++;
  return n - deleted;
}

/**
 * A table of n rows × 30 columns with 5% of its keys deleted by equality deletes, for the explorer's
 * end-to-end test and the browser bench: the bench's lake of that size when it is complete (same
 * columns and values, 50 appends), else a table of its own in .tidemark-tmp/e2e-explorer-<n>,
 * written once by a child process and reused. `root` is the table folder.
 */
export function ensureExplorerTable(n: number): { root: string; generatedS: number | null } {
  if (existsSync(join(lakesDir(n), 'done', 'metadata'))) return { root: join(lakesDir(n), 'mor'), generatedS: null };
  const dir = resolve(lakesDir(n), '..', `e2e-explorer-${n}`);
  if (existsSync(join(dir, 'done', 'metadata'))) return { root: join(dir, 'wide'), generatedS: null };
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'generate-table', dir, String(n)], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`explorer table: generating ${n} rows failed (exit ${r.status})`);
  return { root: join(dir, 'wide'), generatedS: Math.round((performance.now() - t0) / 1000) };
}

if (process.argv[2] === 'generate' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await generate(process.argv[3]!, Number(process.argv[4]));
}
if (process.argv[2] === 'generate-table' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await generateTable(process.argv[3]!, Number(process.argv[4]));
}
