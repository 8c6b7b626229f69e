import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { recordFigure } from '../support/record';
import { runCrashTrials } from './crash-harness';
import type { ShardKey } from './run-helpers';

/**
 * kill -9 of `tidemark sync` at TIDEMARK_CRASH_TRIALS random moments (default 20) while a writer
 * runs; the reliability run uses ≥ 50 (TIDEMARK_CRASH_TRIALS=50).
 */
const TRIALS = Number(process.env.TIDEMARK_CRASH_TRIALS ?? 20);

/** A private MariaDB and a warehouse folder for the enclosing describe block (read them inside its tests). */
function useServerAndWarehouse(prefix: string): { db: PrivateMariaDb; warehouse: string } {
  const env = {} as { db: PrivateMariaDb; warehouse: string };
  beforeAll(async () => {
    env.db = await startPrivateMariaDb();
    env.warehouse = await mkdtemp(join(tmpdir(), prefix));
  });
  afterAll(async () => {
    await env.db?.stop();
    if (env.warehouse) await rm(env.warehouse, { recursive: true, force: true });
  });
  return env;
}

describe('sync survives kill -9 at random moments', () => {
  const env = useServerAndWarehouse('tidemark-crash-');

  it(`lake equals source after ${TRIALS} crashes: no key duplicated, no change lost or repeated`, async () => {
    const report = await runCrashTrials({ ...env, trials: TRIALS, seed: Number(process.env.TIDEMARK_CRASH_SEED ?? 4242) });
    console.log(`crash trials: ${JSON.stringify({ ...report, lake: undefined, source: undefined })}`);
    recordFigure('sync kill -9 trials', { trials: report.trials, killedIn: report.killedIn, writes: report.writes, lakeRows: report.lakeRows, checksumsEqual: report.lakeChecksum === report.sourceChecksum, duplicateKeys: report.duplicateKeys.length, changelog: report.changelog });
    expect(report.killedIn.snapshot ?? 0).toBeGreaterThan(0);
    expect(report.killedIn.streaming ?? 0).toBeGreaterThan(0);
    expect(report.writes.inserts + report.writes.updates + report.writes.deletes).toBeGreaterThan(0);
    expect(report.duplicateKeys).toEqual([]);
    expect(report.lake).toEqual(report.source);
    expect(report.lakeChecksum).toBe(report.sourceChecksum);
    // Every row of the lake entered the changelog once (snapshot read or insert) and left it at most once.
    const changelog = report.changelog!;
    expect(changelog.duplicates).toBe(0);
    expect(changelog.r + changelog.c - changelog.d).toBe(report.lakeRows);
    expect(changelog.c).toBeLessThanOrEqual(report.writes.inserts);
    expect(changelog.d).toBeLessThanOrEqual(report.writes.deletes);
    expect(changelog.u).toBeLessThanOrEqual(report.writes.updates);
  }, 240_000);
});

describe('sync into Paimon survives kill -9 at random moments', () => {
  const env = useServerAndWarehouse('tidemark-crash-paimon-');

  it(`Paimon table equals source after ${TRIALS} crashes (snapshot phase, streaming, mid-commit, mid-compaction)`, async () => {
    // 1000 rows a shard: the snapshot phase outlasts the early kills' 300 ms window. With 250, since
    // the streamed compaction (90e46a9) it was over before the first kill (0 of 20 kills in it, twice;
    // 7 and 2 before); the cause is not established.
    const report = await runCrashTrials({ ...env, trials: TRIALS, rowsPerShard: 1000, seed: Number(process.env.TIDEMARK_CRASH_SEED ?? 4242), sink: 'paimon' });
    console.log(`paimon crash trials: ${JSON.stringify({ ...report, lake: undefined, source: undefined })}`);
    recordFigure('sync kill -9 trials (Paimon sink)', { trials: report.trials, killedIn: report.killedIn, writes: report.writes, lakeRows: report.lakeRows, checksumsEqual: report.lakeChecksum === report.sourceChecksum, duplicateKeys: report.duplicateKeys.length, compactions: report.compactions });
    expect(report.killedIn.snapshot ?? 0).toBeGreaterThan(0);
    expect(report.killedIn.streaming ?? 0).toBeGreaterThan(0);
    expect(report.compactions ?? 0).toBeGreaterThan(0);
    expect(report.duplicateKeys).toEqual([]);
    expect(report.lake).toEqual(report.source);
    expect(report.lakeChecksum).toBe(report.sourceChecksum);
  }, 240_000);
});

/**
 * UUID() is a version-1 UUID, which MariaDB orders by swapped segments; as INET6 its 16 bytes are
 * an address (unique: the writer moves rows to new keys in multi-row updates).
 */
const inet6 = "CAST(UNHEX(REPLACE(UUID(), '-', '')) AS INET6)";
const KEYS: ShardKey[] = [
  { name: 'UUID', type: 'UUID', primaryKey: 'k', value: 'UUID()' },
  // Eight values, versions 1, 4 and 7: each shared by many rows, ordered by the server's rule.
  { name: 'UUID first of (k, id)', type: 'UUID', primaryKey: 'k, id', value: "CAST(CONCAT(ELT(1 + FLOOR(RAND() * 8), '0', '1', '2', '3', '8', '9', 'a', 'f'), '0000000-0000-', ELT(1 + FLOOR(RAND() * 3), '1', '4', '7'), '000-8000-00000000000', FLOOR(RAND() * 2)) AS UUID)" },
  { name: 'INET6', type: 'INET6', primaryKey: 'k', value: inet6 },
  { name: 'INET6 first of (k, id)', type: 'INET6', primaryKey: 'k, id', value: "CAST(CONCAT('::ffff:10.0.0.', FLOOR(RAND() * 8)) AS INET6)" },
  // 64 addresses over the whole range (a unique random INET4 key would collide: 2^32 values).
  { name: 'INET4 first of (k, id)', type: 'INET4', primaryKey: 'k, id', value: 'INET_NTOA(FLOOR(RAND() * 64) * 67108863)' },
  // Points with SRIDs 0 and 4326: chunked by the stored bytes (SRID, then WKB); the lake holds the WKB.
  {
    name: 'POINT first of (k, id)',
    type: 'POINT',
    primaryKey: 'k, id',
    value: "ST_GeomFromText(CONCAT('POINT(', FLOOR(RAND() * 40), ' ', FLOOR(RAND() * 3), ')'), IF(RAND() < 0.5, 4326, 0))",
    render: 'LOWER(HEX(ST_AsBinary(k)))',
  },
];
const KEY_TRIALS = Math.max(3, Math.round(TRIALS / 4));

describe.each(KEYS)('sync survives kill -9 mid-snapshot, $name primary key', (key) => {
  const env = useServerAndWarehouse('tidemark-crash-key-');

  it(`lake equals source after ${KEY_TRIALS} crashes, keys chunked and compared by the server, some rows moved to new keys`, async () => {
    // 1500 rows a shard in chunks of 100: the first trials land in the snapshot phase.
    const report = await runCrashTrials({ ...env, trials: KEY_TRIALS, rowsPerShard: 1500, key, killAfterChunk: true, maxKillDelayMs: 300, seed: Number(process.env.TIDEMARK_CRASH_SEED ?? 4243) });
    console.log(`crash trials (${key.name} key): ${JSON.stringify({ ...report, lake: undefined, source: undefined, resumedSnapshot: undefined, snapshotResumes: report.snapshotResumes.map((r) => r.chunks) })}`);
    recordFigure(`sync kill -9 trials, ${key.name} key`, { trials: report.trials, killedIn: report.killedIn, resumedAtChunks: report.snapshotResumes.map((r) => r.chunks ?? null), lakeRows: report.lakeRows, checksumsEqual: report.lakeChecksum === report.sourceChecksum, duplicateKeys: report.duplicateKeys.length, changelog: report.changelog });
    expect(report.killedIn.snapshot ?? 0).toBeGreaterThan(0);
    expect(report.writes.inserts + report.writes.updates + report.writes.deletes).toBeGreaterThan(0);
    // Restarts resumed inside the snapshot, after a committed chunk of a key tuple (how many depends
    // on where the kills land: the snapshot may finish before the last trials on a slow machine).
    expect(report.snapshotResumes.some((r) => typeof r.lastKey === 'string' && r.lastKey.startsWith('[') && typeof r.chunks === 'number')).toBe(true);
    expect(report.duplicateKeys).toEqual([]);
    expect(report.lake).toEqual(report.source);
    expect(report.changelog!.duplicates).toBe(0);
    expect(report.changelog!.r + report.changelog!.c - report.changelog!.d).toBe(report.lakeRows);
  }, 240_000);
});
