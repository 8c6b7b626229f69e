import fc from 'fast-check';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { countRows, loadTable, planScan, scanRows, type Row } from '../../core/lake';
import { appendRows, applyRowDelta, createTable, evolvePartitionSpec, expireSnapshots, removeOrphanFiles, rewriteDataFiles, seededWriteEnv, setRef } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { applyModelOp, expectCode, plainRows } from './helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-maint-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
];
const row = (id: number, name = `n${id}`): Row => ({ id: BigInt(id), name });

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

/** Every file under the table's data/ and metadata/ folders, relative to the root. */
function filesOf(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  walk(join(root, 'data'), 'data/');
  walk(join(root, 'metadata'), 'metadata/');
  return out.sort();
}

async function sortedRows(root: string, snapshotId?: bigint) {
  const { rows } = await scanRows(storage, root, snapshotId === undefined ? {} : { snapshotId });
  return plainRows(rows).sort((a, b) => Number(a.id) - Number(b.id));
}

/**
 * s1 append A, s2 append B (tagged), s3 upsert (data U + equality deletes E), s4 compaction (C),
 * s5 append D. Returns the snapshots and the data/delete files each one added.
 */
async function historyTable(name: string) {
  const root = join(work, name);
  const env = seededWriteEnv(11);
  await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], env });
  await appendRows(root, [row(1), row(2)], { env });
  await appendRows(root, [row(3)], { env });
  await applyRowDelta(root, { upserts: [row(2, 'two')] }, { env });
  await rewriteDataFiles(root, { env });
  await appendRows(root, [row(4)], { env });
  const t = await loadTable(storage, root);
  const snaps = t.metadata.snapshots;
  await setRef(root, 'tag-s2', { snapshotId: snaps[1]!.snapshotId, type: 'tag' }, env);
  const added = async (i: number) => {
    const plan = await planScan(storage, root, { snapshotId: snaps[i]!.snapshotId });
    const all = [...plan.files, ...plan.deleteFiles];
    return all.filter((f) => f.sequenceNumber === snaps[i]!.sequenceNumber).map((f) => ({ path: resolve(f.path), content: f.content }));
  };
  const files = await Promise.all(snaps.map((_s, i) => added(i)));
  return { root, env, snaps, files };
}

describe('expireSnapshots', () => {
  it('retainLast keeps the last N of main plus ref snapshots, then deletes only unreachable files', async () => {
    const { root, env, snaps, files } = await historyTable('retain');
    const ids = snaps.map((s) => s.snapshotId);
    const before = await Promise.all([1, 3, 4].map((i) => sortedRows(root, ids[i])));
    const result = await expireSnapshots(root, { retainLast: 2, env });
    expect(result.expiredSnapshotIds).toEqual([ids[0], ids[2]]);
    const t = await loadTable(storage, root);
    expect(t.metadataFile).toBe(result.metadataFile);
    expect(t.metadata.snapshots.map((s) => s.snapshotId)).toEqual([ids[1], ids[3], ids[4]]);
    expect(t.metadata.snapshotLog.map((e) => e.snapshotId)).toEqual([ids[1], ids[3], ids[4]]);
    expect(t.metadata.refs['tag-s2']!.snapshotId).toBe(ids[1]);
    // s1's and s3's manifest lists go; s1's data file A stays (s2 still reads it); s3's U and E go
    // (the compaction s4 only records them as DELETED); C and D stay.
    expect(result.deleted.manifestLists).toEqual([snaps[0]!.manifestList, snaps[2]!.manifestList]);
    const [a, , u, c, d] = files;
    expect(u!.map((f) => f.content).sort()).toEqual([0, 2]);
    expect(result.deleted.dataFiles).toEqual(u!.filter((f) => f.content === 0).map((f) => f.path));
    expect(result.deleted.deleteFiles).toEqual(u!.filter((f) => f.content === 2).map((f) => f.path));
    expect(result.deleted.manifests.length).toBe(2); // s3's data manifest and delete manifest
    for (const p of [...result.deleted.manifestLists, ...result.deleted.manifests, ...result.deleted.dataFiles, ...result.deleted.deleteFiles]) expect(existsSync(p)).toBe(false);
    for (const f of [...a!, ...c!, ...d!]) expect(existsSync(f.path)).toBe(true);
    expect(result.missing).toEqual([]);
    // Retained snapshots read exactly as before; expired ones are gone.
    expect(await Promise.all([1, 3, 4].map((i) => sortedRows(root, ids[i])))).toEqual(before);
    expect(before[2]!.map((r) => [r.id, r.name])).toEqual([[1, 'n1'], [2, 'two'], [3, 'n3'], [4, 'n4']]);
    await expectCode(countRows(storage, root, { snapshotId: ids[0]! }), 'NotFound', new RegExp(`snapshot ${ids[0]} not found`));
    expect(await countRows(storage, root, { ref: 'tag-s2' })).toBe(3);
  });

  it('olderThanMs expires by commit time; with retainLast both must allow it; live files survive', async () => {
    const root = join(work, 'older');
    const env = seededWriteEnv(12);
    await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], env });
    for (let i = 1; i <= 4; i++) await appendRows(root, [row(i)], { env });
    const snaps = (await loadTable(storage, root)).metadata.snapshots;
    const both = await expireSnapshots(root, { olderThanMs: snaps[2]!.timestampMs, retainLast: 3, env });
    expect(both.expiredSnapshotIds).toEqual([snaps[0]!.snapshotId]);
    // Appends carry every earlier manifest forward: only s1's manifest list is unreachable.
    expect(both.deleted).toEqual({ manifestLists: [snaps[0]!.manifestList], manifests: [], dataFiles: [], deleteFiles: [] });
    const older = await expireSnapshots(root, { olderThanMs: snaps[3]!.timestampMs, env });
    expect(older.expiredSnapshotIds).toEqual([snaps[1]!.snapshotId, snaps[2]!.snapshotId]);
    expect(await sortedRows(root)).toEqual([1, 2, 3, 4].map((i) => ({ id: i, name: `n${i}` })));
    const versions = readdirSync(join(root, 'metadata')).filter((f) => f.endsWith('.metadata.json')).length;
    const none = await expireSnapshots(root, { retainLast: 1, env });
    expect(none).toEqual({ expiredSnapshotIds: [], deleted: { manifestLists: [], manifests: [], dataFiles: [], deleteFiles: [] }, missing: [], metadataFile: null, deletedBytes: 0 });
    expect(readdirSync(join(root, 'metadata')).filter((f) => f.endsWith('.metadata.json')).length).toBe(versions);
  });

  it('a failed metadata commit deletes nothing; bad options are InvalidInput', async () => {
    const { root } = await historyTable('failed');
    const before = filesOf(root);
    const broken = { ...seededWriteEnv(3), now: (): number => { throw new Error('clock unavailable'); } };
    await expect(expireSnapshots(root, { retainLast: 1, env: broken })).rejects.toThrow('clock unavailable');
    expect(filesOf(root)).toEqual(before);
    await expectCode(expireSnapshots(root, {}), 'InvalidInput', /give olderThanMs, retainLast or both/);
    await expectCode(expireSnapshots(root, { retainLast: 0 }), 'InvalidInput', /retainLast must be an integer ≥ 1, found 0/);
  });

  it('branch heads and their last N ancestors are kept too', async () => {
    const root = join(work, 'branch');
    const env = seededWriteEnv(13);
    await createTable(root, { columns: COLUMNS, env });
    await appendRows(root, [row(1)], { env });
    await appendRows(root, [row(2)], { env });
    const s2 = (await loadTable(storage, root)).metadata.currentSnapshotId!;
    await setRef(root, 'audit', { snapshotId: s2, type: 'branch' }, env);
    await appendRows(root, [row(3)], { env, branch: 'audit' });
    await appendRows(root, [row(4)], { env });
    const r = await expireSnapshots(root, { retainLast: 1, env });
    const t = await loadTable(storage, root);
    // Kept: main head (s4) and the audit head (its append of 3); s1 and s2 go.
    expect(t.metadata.snapshots.length).toBe(2);
    expect(r.expiredSnapshotIds.length).toBe(2);
    expect(await countRows(storage, root, { ref: 'audit' })).toBe(3);
    expect(await countRows(storage, root)).toBe(3);
  });
});

describe('removeOrphanFiles', () => {
  it('removes old unreferenced files under data/ and metadata/, keeps recent ones and everything referenced', async () => {
    const { root, env } = await historyTable('orphans');
    await expireSnapshots(root, { retainLast: 2, env });
    const referenced = filesOf(root);
    const old = Date.now() / 1000 - 7 * 86400;
    const plant = (rel: string, mtime: number) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), 'x');
      utimesSync(join(root, rel), mtime, mtime);
    };
    plant('data/orphan-1.parquet', old);
    plant('data/part=7/orphan-2.parquet', old);
    plant('metadata/v99.metadata.json.abc.tmp', old);
    plant('metadata/lost-m0.avro', old);
    plant('data/in-flight.parquet', Date.now() / 1000); // a commit in progress may own it
    const threshold = Date.now() - 86400_000;
    const dry = await removeOrphanFiles(root, { olderThanMs: threshold, dryRun: true });
    expect(dry.orphans.map((o) => o.path.slice(root.length + 1))).toEqual(['data/orphan-1.parquet', 'data/part=7/orphan-2.parquet', 'metadata/lost-m0.avro', 'metadata/v99.metadata.json.abc.tmp']);
    expect(dry.removed).toBe(false);
    expect(dry.referencedCount).toBe(referenced.length);
    expect(existsSync(join(root, 'data/orphan-1.parquet'))).toBe(true);
    const done = await removeOrphanFiles(root, { olderThanMs: threshold });
    expect(done.orphans.length).toBe(4);
    expect(filesOf(root)).toEqual([...referenced, 'data/in-flight.parquet'].sort());
    expect(await countRows(storage, root)).toBe(4);
    expect(await countRows(storage, root, { ref: 'tag-s2' })).toBe(3);
  });

  it('files named by older metadata versions in the metadata log are not orphans', async () => {
    const { root, snaps } = await historyTable('log');
    // Age everything: only the reference rule may keep files now.
    const old = Date.now() / 1000 - 7 * 86400;
    for (const rel of filesOf(root)) utimesSync(join(root, rel), old, old);
    const r = await removeOrphanFiles(root, { olderThanMs: Date.now() });
    expect(r.orphans).toEqual([]);
    for (const s of snaps) expect(await countRows(storage, root, { snapshotId: s.snapshotId })).toBeGreaterThan(0);
  });

  it('refuses to delete anything when a file of the current snapshot is not where rebasing puts it', async () => {
    const { root, files } = await historyTable('moved');
    writeFileSync(join(root, 'data', 'orphan.parquet'), 'x');
    utimesSync(join(root, 'data', 'orphan.parquet'), 0, 0);
    const live = files[4]![0]!.path;
    renameSync(live, `${live}.moved`);
    await expectCode(removeOrphanFiles(root, { olderThanMs: Date.now() }), 'NotFound', new RegExp(`refusing to delete anything, .* 1 file\\(s\\) not found on disk, first: ${live.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(existsSync(join(root, 'data', 'orphan.parquet'))).toBe(true);
    expect(existsSync(`${live}.moved`)).toBe(true);
  });

  it('a corrupt manifest aborts before anything is deleted', async () => {
    const { root, snaps } = await historyTable('corrupt');
    writeFileSync(join(root, 'data', 'orphan.parquet'), 'x');
    utimesSync(join(root, 'data', 'orphan.parquet'), 0, 0);
    writeFileSync(snaps[4]!.manifestList, 'not avro');
    await expectCode(removeOrphanFiles(root, { olderThanMs: Date.now() }), 'DataInvalid', /snap-/);
    expect(existsSync(join(root, 'data', 'orphan.parquet'))).toBe(true);
  });
});

describe('tidemark expire and remove-orphans', () => {
  it('expire --retain-last prints the expired ids and deleted files; --older-than works; bad flags exit 2', async () => {
    const { root, snaps } = await historyTable('cli-expire');
    const r = await cli('expire', root, '--retain-last', '2');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`expired 2 snapshot(s): ${snaps[0]!.snapshotId}, ${snaps[2]!.snapshotId}`);
    expect(lines).toContain(`deleted manifest list ${snaps[0]!.manifestList}`);
    expect(lines.filter((l) => l.startsWith('deleted data file ')).length).toBe(1);
    expect(lines.at(-1)).toBe('deleted 2 manifest list(s), 2 manifest(s), 1 data file(s), 1 delete file(s)');
    const json = await cli('expire', root, '--older-than', new Date(snaps[4]!.timestampMs).toISOString(), '--json');
    expect(JSON.parse(json.out)).toMatchObject({ expiredSnapshotIds: [snaps[3]!.snapshotId.toString()] });
    expect((await cli('expire', root, '--retain-last', '1')).out).toBe('nothing to expire\n');
    expect((await cli('expire', root)).code).toBe(2);
    expect((await cli('expire', root, '--retain-last', 'x')).err).toMatch(/--retain-last expects an integer ≥ 1, found "x"/);
    expect((await cli('expire', root, '--older-than', 'yesterday')).err).toMatch(/--older-than expects an ISO-8601 time, found "yesterday"/);
  });

  it('remove-orphans --dry-run lists, then removes; default threshold keeps fresh files', async () => {
    const { root } = await historyTable('cli-orphans');
    writeFileSync(join(root, 'data', 'old.parquet'), 'x');
    utimesSync(join(root, 'data', 'old.parquet'), 0, 0);
    writeFileSync(join(root, 'data', 'fresh.parquet'), 'x');
    const dry = await cli('remove-orphans', root, '--dry-run');
    expect(dry.out).toBe(`would remove ${join(root, 'data', 'old.parquet')} (1 bytes)\n1 orphan file(s), 1 bytes (dry run: nothing removed)\n`);
    expect(existsSync(join(root, 'data', 'old.parquet'))).toBe(true);
    const real = await cli('remove-orphans', root, '--older-than', new Date(Date.now() + 60_000).toISOString());
    expect(real.out.trimEnd().split('\n').at(-1)).toBe('removed 2 orphan file(s), 2 bytes');
    expect(existsSync(join(root, 'data', 'fresh.parquet'))).toBe(false);
    expect((await cli('count', root)).out).toBe('4\n');
    expect((await cli('remove-orphans', root, '--older-than', 'soon')).code).toBe(2);
  });
});

describe('property: spec changes, row changes, compaction, then expiry', () => {
  const SPECS = [[], [{ column: 'id', transform: 'truncate[10]' }], [{ column: 'id', transform: 'bucket[3]' }], [{ column: 'name', transform: 'identity' }]];
  it('every snapshot scans as the model; after expiry every retained one still does and orphan removal finds nothing', async () => {
    let n = 0;
    const ids = fc.uniqueArray(fc.integer({ min: 0, max: 25 }), { minLength: 1, maxLength: 4 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('append' as const), ids }),
            fc.record({ kind: fc.constant('upsert' as const), ids }),
            fc.record({ kind: fc.constant('delete' as const), ids }),
            fc.record({ kind: fc.constant('compact' as const), ids: fc.constant([]) }),
            fc.record({ kind: fc.constant('respec' as const), ids: fc.constant([]), spec: fc.integer({ min: 0, max: SPECS.length - 1 }) }),
          ),
          { minLength: 1, maxLength: 7 },
        ),
        fc.integer({ min: 1, max: 4 }),
        async (ops, retainLast) => {
          const root = join(work, `prop-${n++}`);
          const env = seededWriteEnv(100 + n);
          await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], env });
          const model = new Map<number, Row>();
          const states = new Map<bigint, Record<string, unknown>[]>();
          const snapshotNow = async () => (await loadTable(storage, root)).metadata.currentSnapshotId!;
          for (const [step, op] of ops.entries()) {
            const rows = op.ids.map((id) => row(id, `g${step % 3}`));
            if (op.kind === 'respec') {
              await evolvePartitionSpec(root, SPECS[op.spec]!, env);
              continue;
            }
            if (!(await applyModelOp(root, model, op, rows, env, states.size > 0))) continue;
            states.set(await snapshotNow(), plainRows([...model.values()]).sort((a, b) => Number(a.id) - Number(b.id)));
          }
          const check = async () => {
            for (const s of (await loadTable(storage, root)).metadata.snapshots) expect(await sortedRows(root, s.snapshotId)).toEqual(states.get(s.snapshotId));
          };
          await check();
          const result = await expireSnapshots(root, { retainLast, env });
          const kept = (await loadTable(storage, root)).metadata.snapshots;
          expect(kept.length).toBe(Math.min(retainLast, states.size));
          expect(result.expiredSnapshotIds.length).toBe(states.size - kept.length);
          await check();
          expect((await removeOrphanFiles(root, { olderThanMs: Date.now() + 60_000, dryRun: true })).orphans).toEqual([]);
        },
      ),
      { numRuns: 12 },
    );
  });
});
