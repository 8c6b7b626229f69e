/**
 * Crash harness for the sync runner: `tidemark sync` runs in a child process and is killed with
 * SIGKILL at random moments (snapshot phase, binlog phase, mid-commit) while a writer changes the
 * source; then one final catch-up runs. The lake must equal the source row for row, no key may be
 * duplicated, and the changelog must hold every change exactly once. Reusable by the reliability
 * run with more trials (`trials`, default from TIDEMARK_CRASH_TRIALS).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { PrivateMariaDb } from '../support/mariadb';
import type { SnapshotState } from '../../core/cdc';
import { loadTable } from '../../core/lake';
import { listPaimonSnapshots } from '../../core/lake/paimon';
import { readCommittedOffset, runPipeline } from '../../core/pipeline';
import { createLocalStorage } from '../../core/storage/node/index';
import { changelogRows, checksum, createShards, lakeRows, loadConfig, paimonLakeRows, paimonPipelineYaml, pipelineYaml, sourceRows, SHARDS, waitUntil, type Flat, type ShardKey } from './run-helpers';

export interface CrashOptions {
  db: PrivateMariaDb;
  warehouse: string;
  trials: number;
  /** Rows per shard before the first start (the snapshot phase). */
  rowsPerShard?: number;
  /** Upper bound of the random delay between the child's first progress line and the kill (ms). */
  maxKillDelayMs?: number;
  seed?: number;
  /** The sink the trials run against (default iceberg). Paimon tables compact at every commit with a run below (compaction-trigger 1) so kills land mid-compaction too. */
  sink?: 'iceberg' | 'paimon';
  /** The shards' primary key, when not `id` (the writer then also moves rows to new keys). */
  key?: ShardKey;
  /**
   * Kill only once the lake has committed a snapshot chunk beyond the last trial's (or the
   * snapshot phase is over): every such kill lands between two committed chunks, and the next
   * start resumes inside the snapshot.
   */
  killAfterChunk?: boolean;
}

export interface CrashReport {
  trials: number;
  killedIn: Record<string, number>;
  writes: { inserts: number; updates: number; deletes: number };
  lakeRows: number;
  lake: Flat[];
  source: Flat[];
  lakeChecksum: string;
  sourceChecksum: string;
  duplicateKeys: string[];
  /** The audit changelog table's counts (Iceberg sink only; null for Paimon, which keeps no such table). */
  changelog: { r: number; c: number; u: number; d: number; duplicates: number } | null;
  /** Paimon only: COMPACT snapshots committed during the trials. */
  compactions?: number;
  /** The snapshot progress of the lake's last committed offset before the final catch-up (null: none, past the snapshot, or a Paimon sink). */
  resumedSnapshot: SnapshotState | null;
  /**
   * The snapshot progress each restart resumed from, when it was inside the snapshot phase (the
   * lake's committed offset right after a kill: the next trial, or the final catch-up, starts there).
   */
  snapshotResumes: SnapshotState[];
}

const COLUMNS = ['__table_name__', 'id', 'customer', 'amount', 'created'];
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'tidemark');

/** xorshift32: reproducible random moments for a given seed. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/**
 * Writes random inserts, updates and deletes (single statements and multi-statement transactions)
 * until stopped; with a `key`, some updates also move their rows to new keys.
 */
function startWriter(conn: mysql.Connection, rnd: () => number, key?: ShardKey) {
  const writes = { inserts: 0, updates: 0, deletes: 0 };
  let stopped = false;
  let failure: unknown = null;
  const done = (async () => {
    while (!stopped) {
      const shard = SHARDS[Math.floor(rnd() * SHARDS.length)]!;
      const t = `app.order_${shard}`;
      const kind = rnd();
      const n = 1 + Math.floor(rnd() * 3);
      await conn.query('BEGIN');
      let ins = 0;
      let upd = 0;
      let del = 0;
      for (let i = 0; i < n; i++) {
        if (kind < 0.35) {
          const [r] = await conn.query<mysql.ResultSetHeader>(`INSERT INTO ${t} (${key ? 'k, ' : ''}customer, amount, created) VALUES (${key ? `${key.value}, ` : ''}?, ?, NOW(3))`, [
            `w${Math.floor(rnd() * 1e6)}`,
            (rnd() * 100).toFixed(2),
          ]);
          ins += r.affectedRows;
        } else if (kind < 0.7) {
          // amount always changes, so every matched row is a logged update.
          const move = key && kind < 0.5 ? `, k = ${key.value}` : '';
          const [r] = await conn.query<mysql.ResultSetHeader>(`UPDATE ${t} SET amount = amount + 1, customer = CONCAT('u', id)${move} WHERE id % 97 = ?`, [Math.floor(rnd() * 97)]);
          upd += r.affectedRows;
        } else {
          const [r] = await conn.query<mysql.ResultSetHeader>(`DELETE FROM ${t} WHERE id % 53 = ? LIMIT 3`, [Math.floor(rnd() * 53)]);
          del += r.affectedRows;
        }
      }
      await conn.query('COMMIT');
      writes.inserts += ins;
      writes.updates += upd;
      writes.deletes += del;
      // Load shaping, not synchronisation: a few hundred transactions/s keep the 2-core test
      // machine responsive enough for the snapshot phase to progress between kills.
      await new Promise((r) => setTimeout(r, 8));
    }
  })().catch((e: unknown) => {
    failure = e;
  });
  return {
    writes,
    async stop() {
      stopped = true;
      await done;
      if (failure) throw failure;
    },
  };
}

/** Spawns `tidemark sync`; resolves when it printed its first progress line; kill() is SIGKILL. */
function startChild(yamlPath: string, password: string) {
  const child = spawn(process.execPath, [BIN, 'sync', yamlPath], { env: { ...process.env, DB_PASS: password }, stdio: ['ignore', 'ignore', 'pipe'] });
  let lastLine = '';
  let output = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    output += d;
    const lines = output.trim().split('\n');
    lastLine = lines[lines.length - 1] ?? '';
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    get lastLine() {
      return lastLine;
    },
    get output() {
      return output;
    },
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function runCrashTrials(o: CrashOptions): Promise<CrashReport> {
  const rnd = random(o.seed ?? 4242);
  const conn = await mysql.createConnection({ ...o.db.rootConfig(), multipleStatements: true });
  try {
    await createShards(conn, o.rowsPerShard ?? 250, o.key);
    const columns = o.key ? [...COLUMNS, 'k'] : COLUMNS;
    const yamlPath = join(o.warehouse, 'crash.yaml');
    const sink = o.sink ?? 'iceberg';
    const opts = { warehouse: o.warehouse, intervalMs: 100, chunkSize: 100, name: 'crash', ...(sink === 'paimon' ? { extraSink: '  table.properties.num-sorted-run.compaction-trigger: 1\n' } : {}) };
    await writeFile(yamlPath, sink === 'paimon' ? paimonPipelineYaml(o.db, opts) : pipelineYaml(o.db, opts));
    const writerConn = await mysql.createConnection(o.db.rootConfig());
    const writer = startWriter(writerConn, rnd, o.key);
    const killedIn: Record<string, number> = {};
    const committedSnapshot = () =>
      loadTable(createLocalStorage(), join(o.warehouse, 'ods', 'orders')).then(
        (t) => readCommittedOffset(t.metadata)?.offset ?? null,
        () => null,
      );
    let chunksSeen = 0;
    const snapshotResumes: SnapshotState[] = [];
    try {
      for (let i = 0; i < o.trials; i++) {
        const child = startChild(yamlPath, o.db.password);
        await waitUntil(() => /\] (snapshot|streaming)/.test(child.lastLine) || !child.running, `trial ${i}: first progress line`, 30_000);
        if (!child.running) throw new Error(`trial ${i}: sync exited early:\n${child.output}`);
        if (o.killAfterChunk) {
          await waitUntil(
            async () => {
              const offset = await committedSnapshot();
              if (offset !== null && offset.snapshot === null) return true;
              const chunks = offset?.snapshot?.chunks ?? 0;
              if (chunks <= chunksSeen) return !child.running;
              chunksSeen = chunks;
              return true;
            },
            `trial ${i}: a committed snapshot chunk`,
            60_000,
          );
        }
        // The random moment of the crash (not a synchronisation: any moment must be safe).
        // The first third of the trials kill soon after start, to land inside the snapshot phase.
        const bound = i < Math.ceil(o.trials / 3) ? 300 : (o.maxKillDelayMs ?? 2000);
        const delay = Math.floor(rnd() * bound);
        await new Promise((r) => setTimeout(r, delay));
        const phase = /\] (\w+)/.exec(child.lastLine)?.[1] ?? 'unknown';
        if (!child.running) throw new Error(`trial ${i}: sync exited before the kill:\n${child.output}`);
        await child.kill();
        killedIn[phase] = (killedIn[phase] ?? 0) + 1;
        const after = await committedSnapshot();
        if (after?.snapshot) snapshotResumes.push(after.snapshot);
      }
    } finally {
      await writer.stop();
      await writerConn.end();
    }
    const committed = await loadTable(createLocalStorage(), join(o.warehouse, 'ods', 'orders')).then(
      (t) => readCommittedOffset(t.metadata),
      () => null,
    );
    // Final catch-up in-process: everything written so far must arrive exactly once.
    await runPipeline({ config: loadConfig(o.db, opts, sink), untilCaughtUp: true });
    const lake = sink === 'paimon' ? await paimonLakeRows(o.warehouse, columns) : await lakeRows(o.warehouse, columns);
    const source = await sourceRows(conn, columns, o.key?.render ? { k: o.key.render } : {});
    const keys = lake.map((r) => `${r.__table_name__}|${r.id}`);
    const seen = new Set<string>();
    const duplicateKeys = keys.filter((k) => (seen.has(k) ? true : (seen.add(k), false)));
    let changelog: CrashReport['changelog'] = null;
    if (sink === 'iceberg') {
      const log = await changelogRows(o.warehouse);
      const changeIds = log.map((r) => `${r.binlog_file}|${r.binlog_pos}|${r.source_table}|${r.op}|${r.before}|${r.after}`);
      const count = (op: string) => log.filter((r) => r.op === op).length;
      changelog = { r: count('r'), c: count('c'), u: count('u'), d: count('d'), duplicates: changeIds.length - new Set(changeIds).size };
    }
    const compactions = sink === 'paimon' ? (await listPaimonSnapshots(createLocalStorage(), join(o.warehouse, 'ods.db', 'orders'))).filter((s) => s.operation === 'compact').length : undefined;
    return {
      trials: o.trials,
      killedIn,
      writes: writer.writes,
      lakeRows: lake.length,
      lake,
      source,
      lakeChecksum: checksum(lake),
      sourceChecksum: checksum(source),
      duplicateKeys,
      changelog,
      ...(compactions !== undefined ? { compactions } : {}),
      resumedSnapshot: committed?.offset.snapshot ?? null,
      snapshotResumes,
    };
  } finally {
    await conn.end();
  }
}
