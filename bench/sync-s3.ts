/**
 * Snapshot sync into object storage beside the same sync into a local folder, in one run:
 * `tidemark sync --until-caught-up` as a child process (as sync-snapshot.ts runs it) of issue 20's
 * 10-column table (TIDEMARK_BENCH_SYNC_S3_ROWS, default 500k) into (a) a local warehouse folder,
 * (b) `s3://` on s3rver on loopback behind a proxy that honours conditional PUTs, (c) the same with
 * 30 ms added to every request (TIDEMARK_BENCH_S3_LATENCY_MS), alternating rounds
 * (TIDEMARK_BENCH_SYNC_S3_ROUNDS, default 2). Figures: rows/s, the ratio to the local folder
 * (goal ≥ 0.5×), the sync's peak RSS (goal < 500 MB: data files stream up in parts), S3 requests.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { countRows } from '../core/lake';
import { createLocalStorage } from '../core/storage/node/index';
import { startPrivateMariaDb, type PrivateMariaDb } from '../test/support/mariadb';
import { S3RVER_CREDENTIALS, startS3Lake, type S3Lake } from '../test/support/s3-server';
import { median, range } from './cdc-binlog';
import { fillSyncTable } from './sync-snapshot';

const ROWS = Number(process.env.TIDEMARK_BENCH_SYNC_S3_ROWS ?? 500_000);
const ROUNDS = Number(process.env.TIDEMARK_BENCH_SYNC_S3_ROUNDS ?? 2);
const LATENCY_MS = Number(process.env.TIDEMARK_BENCH_S3_LATENCY_MS ?? 30);
const BIN = join(import.meta.dirname, '..', 'bin', 'tidemark');

function yamlFor(db: PrivateMariaDb, warehouse: string, s3Endpoint: string | null, serverId: number): string {
  const s3 = s3Endpoint
    ? `  catalog.properties.s3.endpoint: ${s3Endpoint}
  catalog.properties.s3.access-key-id: env:BENCH_S3_KEY
  catalog.properties.s3.secret-access-key: env:BENCH_S3_SECRET
  catalog.properties.s3.path-style-access: true
`
    : '';
  return `source:
  type: mariadb
  hostname: 127.0.0.1
  port: "${db.port}"
  username: ${db.user}
  password: ${db.password}
  tables: bench.t
  server-id: "${serverId}"
  scan.startup.mode: initial
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: ${warehouse}
${s3}pipeline:
  name: bench-s3
  execution.checkpointing.interval: 5min
`;
}

interface Run {
  ms: number;
  peakRssMb: number;
  rows: number;
  requests: number;
}

async function timeSync(yamlPath: string): Promise<{ ms: number; peakRssMb: number }> {
  const t0 = performance.now();
  const { stderr } = await promisify(execFile)('/usr/bin/time', ['-f', 'TIDEMARK_RUSAGE %M', process.execPath, BIN, 'sync', yamlPath, '--until-caught-up'], {
    env: { ...process.env, BENCH_S3_KEY: S3RVER_CREDENTIALS.accessKeyId, BENCH_S3_SECRET: S3RVER_CREDENTIALS.secretAccessKey },
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - t0;
  const m = /TIDEMARK_RUSAGE (\d+)/.exec(stderr);
  if (!m) throw new Error(`sync-s3 bench: no rusage line in the sync's output:\n${stderr.slice(-2000)}`);
  return { ms, peakRssMb: Math.round(Number(m[1]) / 1024) };
}

export async function runSyncS3Bench(): Promise<Record<string, number | string>[]> {
  const db = await startPrivateMariaDb();
  const lake: S3Lake = await startS3Lake(['bench']);
  const honour = lake.proxy.decide;
  const work = await mkdtemp(join(tmpdir(), 'tidemark-bench-sync-s3-'));
  try {
    await fillSyncTable(db, 't', ROWS);
    const variants = ['local folder', 's3rver', `s3rver +${LATENCY_MS} ms`] as const;
    const runs = new Map<string, Run[]>(variants.map((v) => [v, []]));
    let serverId = 990;
    for (let round = 0; round < ROUNDS; round++) {
      for (const variant of variants) {
        const s3 = variant !== 'local folder';
        const warehouse = s3 ? `s3://bench/r${round}-${serverId}` : join(work, `local-${round}`);
        lake.proxy.decide = variant.includes('+') ? async (req, n) => (await new Promise((r) => setTimeout(r, LATENCY_MS)), honour(req, n)) : honour;
        const before = lake.proxy.requests.length;
        const yaml = join(work, `r${round}-${serverId}.yaml`);
        await writeFile(yaml, yamlFor(db, warehouse, s3 ? lake.endpoint : null, serverId++));
        const timed = await timeSync(yaml);
        const requests = lake.proxy.requests.length - before;
        const rows = await countRows(s3 ? lake.storage() : createLocalStorage(), s3 ? `${warehouse}/bench/t` : join(warehouse, 'bench', 't'));
        if (rows !== ROWS) throw new Error(`sync-s3 bench: ${rows} rows in ${warehouse}, expected ${ROWS}`);
        runs.get(variant)!.push({ ...timed, rows, requests });
        if (!s3) await rm(warehouse, { recursive: true, force: true });
      }
    }
    const localPerSec = median(runs.get('local folder')!.map((r) => r.rows / (r.ms / 1000)));
    return variants.map((variant) => {
      const rs = runs.get(variant)!;
      const perSec = median(rs.map((r) => r.rows / (r.ms / 1000)));
      return {
        into: variant,
        rows: ROWS,
        rounds: ROUNDS,
        rowsPerSec: Math.round(perSec),
        seconds: range(rs.map((r) => r.ms / 1000)),
        vsLocal: Math.round((perSec / localPerSec) * 100) / 100,
        vsLocalGoal: variant === 'local folder' ? '' : '≥ 0.5',
        peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
        peakRssGoalMb: '< 500',
        s3Requests: median(rs.map((r) => r.requests)),
      };
    });
  } finally {
    lake.proxy.decide = honour;
    await rm(work, { recursive: true, force: true });
    await lake.close();
    await db.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runSyncS3Bench().then((r) => console.table(r));
}
