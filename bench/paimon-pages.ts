/**
 * Paimon grid pages bucket by bucket (core/query/pages/paimon-pages.ts) beside what the grid did
 * before: the whole version read (scanPaimonRows, then loaded into DuckDB). A primary-key table of
 * TIDEMARK_BENCH_PAIMON_ROWS rows (default 400k; 6 columns, 16 buckets) written by Tidemark in two
 * commits without compaction (inserts, then 10% of keys updated and 5% deleted: two sorted runs
 * per bucket), and its fully compacted copy (one run per bucket: counts from the manifests).
 * Figures: wall and CPU ms, data files and bytes read, for the first page (200 rows), a page at
 * 60%, the exact count, and the whole-version read. Tables written once into .tidemark-tmp/.
 */
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanPaimonRows } from '../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, type PaimonChange } from '../core/lake/paimon/write';
import { openPaimonPages } from '../core/query/pages/paimon-pages';
import type { StoragePort } from '../core/storage';
import { createLocalStorage } from '../core/storage/node/index';

const BUDGET = 1.5 * 2 ** 30;

function rowOf(k: number, tag: string): Record<string, unknown> {
  return { id: BigInt(k), name: `${tag}-customer-${k}`, city: `city-${k % 97}`, amount: (k % 10_000) / 7, qty: k % 1000, note: `note ${tag} ${k * 31}` };
}

async function ensureTables(n: number): Promise<{ runs: string; compacted: string }> {
  const dir = resolve(fileURLToPath(new URL('..', import.meta.url)), '.tidemark-tmp', `bench-paimon-pages-${n}`);
  const runs = join(dir, 'runs');
  const compacted = join(dir, 'compacted');
  if (existsSync(join(dir, 'done'))) return { runs, compacted };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await createPaimonTable(runs, {
    columns: [
      { name: 'id', type: 'BIGINT' },
      { name: 'name', type: 'STRING' },
      { name: 'city', type: 'STRING' },
      { name: 'amount', type: 'DOUBLE' },
      { name: 'qty', type: 'INT' },
      { name: 'note', type: 'STRING' },
    ],
    primaryKeys: ['id'],
    options: { bucket: '16', 'write-only': 'true' },
  });
  const inserts: PaimonChange[] = Array.from({ length: n }, (_, k) => ({ kind: '+I', row: rowOf(k, 'a') }));
  await commitPaimonChanges(runs, inserts, { commitUser: 'bench', commitIdentifier: 1n, compaction: 'none' });
  const changes: PaimonChange[] = [];
  for (let k = 0; k < n; k += 10) changes.push({ kind: '+U', row: rowOf(k, 'b') });
  for (let k = 3; k < n; k += 20) changes.push({ kind: '-D', row: rowOf(k, 'a') });
  await commitPaimonChanges(runs, changes, { commitUser: 'bench', commitIdentifier: 2n, compaction: 'none' });
  cpSync(runs, compacted, { recursive: true });
  await compactPaimonTable(compacted, { commitUser: 'bench', full: true });
  mkdirSync(join(dir, 'done'));
  return { runs, compacted };
}

/** Storage counting data files and bytes read. */
function counted(): { port: StoragePort; reset(): { files: number; mib: number } } {
  const local = createLocalStorage();
  const files = new Set<string>();
  let bytes = 0;
  const note = (p: string, b: Uint8Array) => {
    if (/\/bucket-[^/]+\/data-/.test(p)) {
      files.add(p);
      bytes += b.length;
    }
    return b;
  };
  const port: StoragePort = {
    ...local,
    readFile: async (p) => note(p, await local.readFile(p)),
    readRange: async (p, o, l) => note(p, await local.readRange(p, o, l)),
  };
  return {
    port,
    reset() {
      const r = { files: files.size, mib: Math.round((bytes / 2 ** 20) * 10) / 10 };
      files.clear();
      bytes = 0;
      return r;
    },
  };
}

async function measure<T>(run: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await run();
  const cpu = process.cpuUsage(c0);
  return { value, ms: Math.round(performance.now() - t0), cpuMs: Math.round((cpu.user + cpu.system) / 1000) };
}

export async function runPaimonPagesBench(): Promise<Record<string, number | string>[]> {
  const n = Number(process.env.TIDEMARK_BENCH_PAIMON_ROWS ?? 400_000);
  const tables = await ensureTables(n);
  const out: Record<string, number | string>[] = [];
  for (const [name, root] of [['two runs per bucket', tables.runs], ['compacted', tables.compacted]] as const) {
    const { port, reset } = counted();
    const whole = await measure(() => scanPaimonRows(port, root));
    const wholeRead = reset();
    const live = whole.value.rows.length;
    const pages = await openPaimonPages(port, root, {}, root, () => BUDGET);
    const first = await measure(() => pages.window(0, 200));
    const firstRead = reset();
    const deepAt = Math.floor(live * 0.6);
    const fresh = await openPaimonPages(port, root, {}, root, () => BUDGET);
    const deep = await measure(() => fresh.window(deepAt, 200));
    const deepRead = reset();
    const count = await measure(() => pages.count());
    const countRead = reset();
    if (count.value !== live) throw new Error(`paimon-pages: counted ${count.value}, the whole read has ${live}`);
    if (JSON.stringify(first.value.rows.map((r) => r.map(String))) !== JSON.stringify(whole.value.rows.slice(0, 200).map((r) => whole.value.columns.map((c) => String(r[c.name]))))) throw new Error('paimon-pages: the first page differs from the whole read');
    out.push({
      table: `${n.toLocaleString('en-US')} rows × 6 columns, 16 buckets, ${name} (${live.toLocaleString('en-US')} live)`,
      'first page ms / CPU ms': `${first.ms} / ${first.cpuMs}`,
      'first page files / MiB read': `${firstRead.files} / ${firstRead.mib}`,
      'first page total': first.value.totalPending ? 'pending' : 'exact',
      'page at 60% ms / files': `${deep.ms} / ${deepRead.files}`,
      'exact count ms / files read': `${count.ms} / ${countRead.files}`,
      'whole version read ms / CPU ms (before)': `${whole.ms} / ${whole.cpuMs}`,
      'whole version files / MiB read': `${wholeRead.files} / ${wholeRead.mib}`,
    });
  }
  return out;
}
