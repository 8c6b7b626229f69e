/**
 * Query engine benchmark (issue 9): N rows (TIDEMARK_BENCH_QUERY_ROWS, default 10M) appended over
 * 20 commits, then N/10 keys removed by equality deletes in 2 more commits. Side by side:
 *  - DuckDB-wasm merge-on-read at the current snapshot and at an older one (commit 10);
 *  - DuckDB-wasm on the same live rows compacted into one table without deletes (the limit);
 *  - native DuckDB read_parquet over the compacted files (the reference).
 * Cold = first query of a table (Parquet decoded and loaded into DuckDB; the engine itself is warmed
 * up on a small separate table first); warm = the same query again.
 * Goals: merge-on-read ≤ 1.5× compacted; wasm ≤ 3× native; first 100 rows < 300 ms warm.
 * The lakes are built once per size under the OS temp folder and reused.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTable } from '../core/lake/table';
import { appendRows, applyRowDelta, createTable } from '../core/lake/write';
import { quoteIdent } from '../core/query/duckdb';
import { createNodeQueryEngine } from '../core/query/node/index';
import { createLocalStorage } from '../core/storage/node/index';

const COMMITS = 20;
const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'grp', type: 'int' },
  { name: 'amount', type: 'double' },
  { name: 'ts', type: 'timestamp' },
];

function rowsFor(start: number, count: number, keep?: (id: number) => boolean) {
  const rows: Record<string, unknown>[] = [];
  for (let id = start; id < start + count; id++) {
    if (keep && !keep(id)) continue;
    rows.push({ id: BigInt(id), grp: id % 100, amount: (id % 1000) / 10, ts: `2026-01-01T00:00:00.${String(id % 1_000_000).padStart(6, '0')}` });
  }
  return rows;
}

const deleted = (id: number) => id % 10 === 3;

async function buildLakes(n: number, dir: string) {
  const mor = join(dir, 'bench', 'mor');
  const compacted = join(dir, 'bench', 'compacted');
  const warmup = join(dir, 'bench', 'warmup');
  if (existsSync(join(compacted, 'metadata')) && existsSync(join(warmup, 'metadata'))) return { mor, compacted, warmup };
  await createTable(warmup, { columns: COLUMNS, identifierColumns: ['id'] });
  await appendRows(warmup, rowsFor(0, 1000));
  const per = Math.ceil(n / COMMITS);
  await createTable(mor, { columns: COLUMNS, identifierColumns: ['id'] });
  for (let c = 0; c < COMMITS; c++) await appendRows(mor, rowsFor(c * per, Math.min(per, n - c * per)));
  for (const half of [0, 1]) {
    const keys: Record<string, unknown>[] = [];
    for (let id = 3 + half * 10; id < n; id += 20) keys.push({ id: BigInt(id) });
    await applyRowDelta(mor, { deleteKeys: keys });
  }
  await createTable(compacted, { columns: COLUMNS, identifierColumns: ['id'] });
  for (let c = 0; c < COMMITS; c++) await appendRows(compacted, rowsFor(c * per, Math.min(per, n - c * per), (id) => !deleted(id)));
  return { mor, compacted, warmup };
}

async function time<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await run();
  return { ms: Math.round((performance.now() - t0) * 10) / 10, value };
}

/** Median of 5 runs: warm queries take milliseconds, so one run is mostly noise. */
async function median<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const runs: { ms: number; value: T }[] = [];
  for (let i = 0; i < 5; i++) runs.push(await time(run));
  runs.sort((a, b) => a.ms - b.ms);
  return runs[2]!;
}

export async function runQueryBench(): Promise<Record<string, number | string>[]> {
  const n = Number(process.env.TIDEMARK_BENCH_QUERY_ROWS ?? 10_000_000);
  const dir = join(tmpdir(), `tidemark-bench-query-${n}`);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const built = await time(() => buildLakes(n, dir));
  const storage = createLocalStorage();
  const engine = await createNodeQueryEngine(storage);
  const rows: Record<string, number | string>[] = [];
  const COUNT = (v: string) => `SELECT count(*) FROM ${v}`;
  const GROUP = (v: string) => `SELECT grp, count(*), sum(amount) FROM ${v} GROUP BY grp`;
  try {
    const mor = await loadTable(storage, built.value.mor);
    const snapshots = [...mor.metadata.snapshots].sort((a, b) => Number(a.sequenceNumber - b.sequenceNumber));
    const older = snapshots[9]!.snapshotId;
    const variants: [string, string, { snapshotId?: bigint }][] = [
      ['wasm merge-on-read, current', built.value.mor, {}],
      ['wasm merge-on-read, commit 10', built.value.mor, { snapshotId: older }],
      ['wasm compacted (limit)', built.value.compacted, {}],
    ];
    // First use of the engine (parquet-wasm instantiation, JIT of the load path, DuckDB's first
    // statements) is paid on a small separate table, so that no variant's cold figure carries it.
    const w = await engine.registerView(built.value.warmup);
    await engine.query(GROUP(quoteIdent(w.view)));
    // A priming pass loads every variant once and drops it all again: DuckDB-wasm's memory only
    // grows, and growing it is slow, so whichever variant ran first would carry that cost alone.
    const primer = await createNodeQueryEngine(storage);
    for (const [, root, sel] of variants) await primer.registerView(root, sel);
    for (const [name, type] of (await primer.query("SELECT table_name, 'TABLE' FROM duckdb_tables() UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE NOT internal")).rows) {
      if (String(name).startsWith('tm_')) await primer.query(`DROP ${String(type)} IF EXISTS ${quoteIdent(String(name))}`);
    }
    await primer.close();
    const cold: Record<string, { ms: number; value: unknown }> = {};
    for (const [label, root, sel] of variants) {
      // Cold: plan, decode the Parquet files into DuckDB, merge the deletes, count.
      cold[label] = await time(async () => {
        const { view } = await engine.registerView(root, sel);
        return (await engine.query(COUNT(quoteIdent(view)))).rows[0]![0];
      });
    }
    // Warm: the variants take turns, so each is measured in the same memory state.
    const samples: Record<string, { count: number[]; group: number[] }> = {};
    for (let round = 0; round < 5; round++) {
      for (const [label, root, sel] of variants) {
        const { view } = await engine.registerView(root, sel);
        const s = (samples[label] ??= { count: [], group: [] });
        s.count.push((await time(() => engine.query(COUNT(quoteIdent(view))))).ms);
        s.group.push((await time(() => engine.query(GROUP(quoteIdent(view))))).ms);
      }
    }
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const warm: Record<string, { count: number; group: number; cold: number }> = {};
    for (const [label] of variants) {
      warm[label] = { count: mid(samples[label]!.count), group: mid(samples[label]!.group), cold: cold[label]!.ms };
      rows.push({ variant: label, rows: String(cold[label]!.value), coldCountMs: cold[label]!.ms, countMs: warm[label].count, groupByMs: warm[label].group });
    }
    const first = await median(() => engine.scan(built.value.mor, { limit: 100 }));
    rows.push({ variant: 'wasm first 100 rows (warm engine)', rows: first.value.rows.length, coldCountMs: '', countMs: first.ms, groupByMs: '' });

    // Native DuckDB over the compacted Parquet files (reference).
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const files = (await readdir(join(built.value.compacted, 'data'), { recursive: true })).filter((f) => String(f).endsWith('.parquet')).map((f) => `'${join(built.value.compacted, 'data', String(f))}'`);
    const src = `read_parquet([${files.join(', ')}])`;
    await conn.run(`CREATE VIEW native AS SELECT * FROM ${src}`);
    await conn.run(COUNT('native'));
    const ncount = await median(() => conn.runAndReadAll(COUNT('native')));
    const ngroup = await median(() => conn.runAndReadAll(GROUP('native')));
    rows.push({ variant: 'native DuckDB read_parquet, compacted (reference)', rows: String(ncount.value.getRows()[0]![0]), coldCountMs: '', countMs: ncount.ms, groupByMs: ngroup.ms });
    conn.closeSync();

    const mo = warm['wasm merge-on-read, current']!;
    const co = warm['wasm compacted (limit)']!;
    rows.push({
      variant: 'ratios (goal mor/compacted ≤ 1.5, wasm/native ≤ 3)',
      rows: '',
      coldCountMs: `mor/compacted ${(mo.cold / co.cold).toFixed(2)} (build ${Math.round(built.ms / 1000)} s)`,
      countMs: `mor/compacted ${(mo.count / co.count).toFixed(2)} · wasm/native ${(co.count / ncount.ms).toFixed(2)}`,
      groupByMs: `mor/compacted ${(mo.group / co.group).toFixed(2)} · wasm/native ${(co.group / ngroup.ms).toFixed(2)}`,
    });
    rows.push({ variant: 'peak RSS (MiB)', rows: '', coldCountMs: '', countMs: Math.round(peakRss / 2 ** 20), groupByMs: '' });
    return rows;
  } finally {
    clearInterval(sampler);
    await engine.close();
  }
}
