import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateMariaDb, type PrivateMariaDb } from '../support/mariadb';
import { recordFigure } from '../support/record';
import { runCrashTrials } from './crash-harness';

/**
 * kill -9 of `tidemark sync` at TIDEMARK_CRASH_TRIALS random moments (default 20) while a writer
 * runs; the reliability run uses ≥ 50 (TIDEMARK_CRASH_TRIALS=50).
 */
const TRIALS = Number(process.env.TIDEMARK_CRASH_TRIALS ?? 20);

describe('sync survives kill -9 at random moments', () => {
  let db: PrivateMariaDb;
  let warehouse: string;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    warehouse = await mkdtemp(join(tmpdir(), 'tidemark-crash-'));
  });
  afterAll(async () => {
    await db?.stop();
    if (warehouse) await rm(warehouse, { recursive: true, force: true });
  });

  it(`lake equals source after ${TRIALS} crashes: no key duplicated, no change lost or repeated`, async () => {
    const report = await runCrashTrials({ db, warehouse, trials: TRIALS, seed: Number(process.env.TIDEMARK_CRASH_SEED ?? 4242) });
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
  let db: PrivateMariaDb;
  let warehouse: string;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
    warehouse = await mkdtemp(join(tmpdir(), 'tidemark-crash-paimon-'));
  });
  afterAll(async () => {
    await db?.stop();
    if (warehouse) await rm(warehouse, { recursive: true, force: true });
  });

  it(`Paimon table equals source after ${TRIALS} crashes (snapshot phase, streaming, mid-commit, mid-compaction)`, async () => {
    const report = await runCrashTrials({ db, warehouse, trials: TRIALS, seed: Number(process.env.TIDEMARK_CRASH_SEED ?? 4242), sink: 'paimon' });
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
