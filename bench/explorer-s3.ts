/**
 * The explorer's first page (100 rows, all 30 columns) of explorer-scale's 10M-row table with 5%
 * equality deletes (TIDEMARK_BENCH_EXPLORER_ROWS), read from s3rver on loopback behind the
 * recording proxy with 30 ms added to every request (TIDEMARK_BENCH_S3_LATENCY_MS), beside the same
 * page from s3rver without added latency and from the local folder, in one run, alternating rounds
 * (TIDEMARK_BENCH_EXPLORER_S3_ROUNDS, default 2). The table is copied into s3rver object by object
 * at each run (it is not kept there). Each variant gets a fresh engine, warmed on a small table in
 * the same storage, so the figure is the first open of the big table with the engine warm.
 * The app's own path is measured too: the engine over the file route (`/fs/read`, `/fs/ranges`) of
 * a browser-mode server whose remote lake is the same bucket behind the same latency, as the
 * renderer reads it.
 * Goal: < 1 s behind 30 ms; figures: wall and CPU ms, S3 requests and bytes per page.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { AllowedRoots } from '../core/app/file-server';
import { createHandlers } from '../core/app/handlers';
import { startBrowserServer, type BrowserServer } from '../core/app/http-server';
import { createProfileStore } from '../core/app/profiles';
import { createRemoteLakes } from '../core/app/remote-lakes';
import { createDemoWarehouse } from '../core/lake/write';
import { createHttpStorage } from '../core/storage';
import { createNodeQueryEngine } from '../core/query/node/index';
import type { StoragePort } from '../core/storage';
import { createLocalStorage } from '../core/storage/node/index';
import { S3RVER_CREDENTIALS, startS3Lake, uploadFolder, type ProxyAnswer, type S3Lake, type SeenRequest } from '../test/support/s3-server';
import { ensureExplorerTable } from './explorer-scale';
import { median, range } from './cdc-binlog';

const LATENCY_MS = Number(process.env.TIDEMARK_BENCH_S3_LATENCY_MS ?? 30);
const ROUNDS = Number(process.env.TIDEMARK_BENCH_EXPLORER_S3_ROUNDS ?? 2);

interface PageRun {
  ms: number;
  cpuMs: number;
  requests: number;
  bytes: number;
  rows: number;
}

/** Opens a fresh engine on `storage`, warms it on `warm`, then times the first page of `root`. */
async function firstPage(storage: StoragePort, warm: string, root: string, lake: S3Lake | null): Promise<PageRun> {
  const engine = await createNodeQueryEngine(storage);
  try {
    await engine.window(warm, {}, 0, 100);
    const before = lake?.proxy.requests.length ?? 0;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const page = await engine.window(root, {}, 0, 100);
    const cpu = process.cpuUsage(c0);
    const ms = Math.round(performance.now() - t0);
    const seen = lake ? lake.proxy.requests.slice(before) : [];
    const bytes = seen.reduce((a, r) => a + rangeLength(r), 0);
    return { ms, cpuMs: Math.round((cpu.user + cpu.system) / 1000), requests: seen.length, bytes, rows: page.rows.length };
  } finally {
    await engine.close();
  }
}

/** Bytes a GET asked for by its Range header (0 for a whole-object GET: counted as requests only). */
function rangeLength(r: SeenRequest): number {
  const m = /bytes=(\d+)-(\d+)/.exec(String(r.headers.range ?? ''));
  return m ? Number(m[2]) - Number(m[1]) + 1 : 0;
}

/** A browser-mode server (handlers, remote lakes, file route) with s3://bench opened through a saved profile. */
async function startAppServer(lake: S3Lake): Promise<{ storage: StoragePort; mount: string; close(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tidemark-bench-app-'));
  const profiles = createProfileStore({ dataDir, secrets: null, env: { BENCH_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey } });
  await profiles.save({ name: 'bench', endpoint: lake.endpoint, region: 'us-east-1', pathStyle: true, accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: 'env:BENCH_S3_SECRET' });
  const remote = createRemoteLakes({ local: createLocalStorage(), profiles });
  const roots = new AllowedRoots();
  const handlers = createHandlers({ storage: remote.storage, mode: 'browser', electronVersion: null, allowRoot: (p) => roots.add(p), initialWarehouse: null, remote, profiles });
  const server: BrowserServer = await startBrowserServer({ handlers, storage: remote.storage, roots, rendererDir: dataDir });
  const opened = await remote.open('s3://bench', 'bench');
  roots.add(opened.path);
  return {
    storage: createHttpStorage({ baseUrl: `http://127.0.0.1:${server.port}`, token: server.token }),
    mount: opened.path,
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function runExplorerS3Bench(): Promise<Record<string, number | string>[]> {
  const n = Number(process.env.TIDEMARK_BENCH_EXPLORER_ROWS ?? 10_000_000);
  const { root } = ensureExplorerTable(n);
  let warmLocal = join(root, '..', 'warmup');
  if (!existsSync(join(warmLocal, 'metadata'))) {
    // explorer-scale's lakes hold a small warm-up table; the e2e table's folder (what other sizes use) does not.
    const demo = join(root, '..', '..', 'bench-s3-warmup');
    if (!existsSync(join(demo, 'demo', 'orders', 'metadata'))) await createDemoWarehouse(demo, 7);
    warmLocal = join(demo, 'demo', 'orders');
  }
  const lake = await startS3Lake(['bench']);
  try {
    const t0 = performance.now();
    const files = (await uploadFolder(lake.s3.endpoint, root, 's3://bench/t')) + (await uploadFolder(lake.s3.endpoint, warmLocal, 's3://bench/warmup'));
    const uploadS = Math.round((performance.now() - t0) / 1000);
    const honour = lake.proxy.decide;
    const delayed = async (req: SeenRequest, i: number): Promise<ProxyAnswer> => {
      await new Promise((r) => setTimeout(r, LATENCY_MS));
      return honour(req, i);
    };
    const app = await startAppServer(lake);
    const variants = ['local folder', 's3rver', `s3rver +${LATENCY_MS} ms per request`, `app file route, s3rver +${LATENCY_MS} ms per request`] as const;
    const runs = new Map<string, PageRun[]>(variants.map((v) => [v, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of variants) {
        const s3 = v !== 'local folder';
        lake.proxy.decide = v.includes('+') ? delayed : honour;
        const run = v.startsWith('app')
          ? await firstPage(app.storage, `${app.mount}/warmup`, `${app.mount}/t`, lake)
          : s3
            ? await firstPage(lake.storage(), 's3://bench/warmup', 's3://bench/t', lake)
            : await firstPage(createLocalStorage(), warmLocal, root, null);
        if (run.rows !== 100) throw new Error(`explorer-s3 bench: ${v}: ${run.rows} rows on the first page, expected 100`);
        runs.get(v)!.push(run);
        console.log(`explorer-s3: round ${round + 1} ${v}: ${run.ms} ms, ${run.requests} requests`);
      }
    }
    const out: Record<string, number | string>[] = variants.map((v) => {
      const r = runs.get(v)!;
      return {
        variant: `${v}, ${n / 1e6}M rows × 30 columns, 5% equality deletes`,
        'first page ms, median (goal < 1000 at +30 ms)': median(r.map((x) => x.ms)),
        'range ms': range(r.map((x) => x.ms)),
        'CPU ms': median(r.map((x) => x.cpuMs)),
        'S3 requests per page': v === 'local folder' ? '—' : median(r.map((x) => x.requests)),
        'ranged bytes per page (MiB)': v === 'local folder' ? '—' : (median(r.map((x) => x.bytes)) / 2 ** 20).toFixed(1),
      };
    });
    await app.close();
    out.push({ variant: `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')} (${cpus().length} cores); ${files} objects uploaded in ${uploadS} s` });
    return out;
  } finally {
    await lake.close();
  }
}
