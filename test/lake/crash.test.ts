import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countRows, loadTable, parseTableMetadata, scanRows } from '../../core/lake';
import { appendRows, createTable, removeOrphanFiles } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { repoRoot } from './helpers';

/**
 * kill -9 of a writer at random moments (spec "File System Tables": a commit is one exclusive create
 * of the next metadata version). Trials: TIDEMARK_CRASH_TRIALS (default 10); kill points come from
 * TIDEMARK_CRASH_SEED (default 1) so a failing trial can be replayed with the seed it prints.
 */
const TRIALS = Number(process.env.TIDEMARK_CRASH_TRIALS ?? 10);
const SEED = Number(process.env.TIDEMARK_CRASH_SEED ?? 1);
const WRITER = join(repoRoot, 'test/lake/crash-writer.ts');
const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-crash-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const batchSize = (i: number) => (i % 5) + 1;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * Where trial `trial` kills: after the writer acknowledged batch `afterBatch` (-1: once it is ready)
 * plus `delayMs` in [0, 150) — about one commit's time here, so kills land inside commits at random
 * phases (data files, manifests, manifest list, metadata publish, hint, compaction).
 */
function killPoint(trial: number): { afterBatch: number; delayMs: number } {
  // mulberry32
  let a = (SEED * 0x9e3779b9 + trial * 0x85ebca6b) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return { afterBatch: Math.floor(next() * 7) - 1, delayMs: Math.floor(next() * 150) };
}

interface Acks {
  lastAppended: number;
  published: Map<string, string>;
}

/** Runs the writer and kills it with SIGKILL at `point`; returns what it acknowledged. */
async function runAndKill(root: string, point: { afterBatch: number; delayMs: number }): Promise<Acks> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, root], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const acks: Acks = { lastAppended: -1, published: new Map() };
  let buffer = '';
  let stderr = '';
  let onReady!: () => void;
  const ready = new Promise<void>((res) => (onReady = res));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const [kind, a, b] = buffer.slice(0, nl).split(' ');
      buffer = buffer.slice(nl + 1);
      if (kind === 'ready' && point.afterBatch < 0) onReady();
      if (kind === 'appended') acks.lastAppended = Number(a);
      if (kind === 'appended' && acks.lastAppended === point.afterBatch) onReady();
      if (kind === 'published') acks.published.set(a!, b!);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  await Promise.race([ready, exited]);
  await new Promise((res) => setTimeout(res, point.delayMs)); // the random kill moment, not a synchronisation
  child.kill('SIGKILL');
  const { signal } = await exited;
  if (signal !== 'SIGKILL') throw new Error(`writer exited before the kill (${signal ?? 'no signal'}): ${stderr}`);
  return acks;
}

describe('crash: kill -9 of a committing writer', () => {
  it.each(Array.from({ length: TRIALS }, (_, i) => i))('trial %i leaves the table at its last committed snapshot', async (trial) => {
    const root = join(work, `t${trial}`);
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'batch', type: 'int', required: true }] });
    const point = killPoint(trial);
    const acks = await runAndKill(root, point);
    const where = `trial ${trial} (seed ${SEED}, kill ${point.delayMs} ms after batch ${point.afterBatch}; last acknowledged batch ${acks.lastAppended})`;

    // Metadata versions are contiguous, each a complete JSON document; acknowledged ones unchanged.
    const names = readdirSync(join(root, 'metadata'));
    const versions = names.filter((f) => /^v\d+\.metadata\.json$/.test(f)).map((f) => Number(/\d+/.exec(f)![0])).sort((a, b) => a - b);
    expect(versions, where).toEqual(Array.from({ length: versions.length }, (_, i) => i + 1));
    const metas = versions.map((v) => parseTableMetadata(readFileSync(join(root, 'metadata', `v${v}.metadata.json`), 'utf8'), `v${v}`));
    for (const [file, hash] of acks.published) expect(sha256(join(root, 'metadata', file)), `${where}: ${file} overwritten`).toBe(hash);
    // Each version extends the previous one: no committed snapshot was lost by a later writer.
    for (let v = 1; v < metas.length; v++) {
      const prev = metas[v - 1]!.snapshots.map((s) => s.snapshotId);
      expect(metas[v]!.snapshots.map((s) => s.snapshotId).slice(0, prev.length), where).toEqual(prev);
    }
    // The hint is written after the publish: a kill in between leaves it one version behind.
    const hint = Number(readFileSync(join(root, 'metadata', 'version-hint.text'), 'utf8'));
    expect([versions.length - 1, versions.length], where).toContain(hint);

    // Readable at the last committed snapshot, whose rows are exactly the committed appends.
    const table = await loadTable(storage, root);
    expect(table.metadataFile.endsWith(`v${versions.length}.metadata.json`), where).toBe(true);
    const batches = table.metadata.snapshots.filter((s) => s.summary['crash.batch'] !== undefined).map((s) => Number(s.summary['crash.batch']));
    const last = batches.length - 1;
    expect(batches, where).toEqual(Array.from({ length: batches.length }, (_, i) => i));
    // A commit may land just before the kill without its acknowledgement getting out.
    expect(last === acks.lastAppended || last === acks.lastAppended + 1, where).toBe(true);
    const expectedIds = batches.flatMap((i) => Array.from({ length: batchSize(i) }, (_, k) => i * 100 + k));
    expect(await countRows(storage, root), where).toBe(expectedIds.length);
    const ids = (await scanRows(storage, root, { columns: ['id'] })).rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids, where).toEqual(expectedIds.sort((a, b) => a - b));

    // Still writable; the interrupted commit's leftovers are orphans whose removal changes nothing.
    await appendRows(root, [{ id: 1_000_000n, batch: -1 }]);
    const cleaned = await removeOrphanFiles(root, { olderThanMs: Date.now() + 60_000 });
    for (const o of cleaned.orphans) expect(o.path, where).toMatch(/\.tmp$|\.avro$|\.parquet$/);
    expect(await countRows(storage, root), where).toBe(expectedIds.length + 1);
    for (const s of (await loadTable(storage, root)).metadata.snapshots) await countRows(storage, root, { snapshotId: s.snapshotId });
  }, 60_000);
});
