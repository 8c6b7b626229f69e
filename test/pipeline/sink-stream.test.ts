import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeOffset, type SourceOffset } from '../../core/cdc';
import { loadTable, planScan, scanRows } from '../../core/lake';
import { createTable, seededWriteEnv, type WriteEnv } from '../../core/lake/write';
import { offsetSummary, SUMMARY_OFFSET } from '../../core/pipeline/runner/offsets';
import { TableBuffer } from '../../core/pipeline/sink/buffer';
import { commitSinkRound, RoundParts } from '../../core/pipeline/sink/iceberg/commit';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-sink-stream-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'v', type: 'string' },
];
const offset = (pos: number): SourceOffset => ({ file: 'binlog.000001', pos: BigInt(pos), gtidSet: `0-1-${pos}`, snapshot: null, schemas: null });
/** The snapshot summary the runner gives a part ending at binlog position `pos`. */
const at = (pos: number) => offsetSummary('p', offset(pos));

async function newTarget(name: string, targetBytes: number): Promise<{ root: string; env: WriteEnv; buffer: TableBuffer }> {
  const root = join(work, name);
  const env = seededWriteEnv(name.length * 7);
  await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], properties: { 'write.target-file-size-bytes': String(targetBytes) }, env });
  const buffer = new TableBuffer(`db.${name}`, ['id'], [
    { name: 'id', type: 'long' },
    { name: 'v', type: 'string' },
  ]);
  buffer.streamRoot = root;
  return { root, env, buffer };
}

/** A value no other row shares, long enough that a few thousand rows make a file of some size. */
const value = (id: number) => `value-${id}-${(id * 2654435761) % 4294967296}-${(id * 40503) % 65536}`;

/** Inserts ids lo..hi-1 and hands them over as streamed parts of `per` rows, each ending at offset pos = its last id. */
function streamInserts(buffer: TableBuffer, parts: RoundParts, lo: number, hi: number, per: number): void {
  for (let id = lo; id < hi; id++) {
    buffer.put({ id, v: value(id) }, false);
    if ((id - lo + 1) % per === 0 && id + 1 < hi) parts.add(buffer.takeStreamed());
  }
}

const dataFiles = (root: string) => readdirSync(join(root, 'data')).filter((f) => f.endsWith('.parquet') && !f.startsWith('eq-delete-'));

describe('streamed rounds (rolling data files in the sink)', () => {
  it('a buffer streams only while its round is inserts of increasing integer keys; a held part ends streaming until the next round', () => {
    const b = new TableBuffer('db.t', ['id'], [{ name: 'id', type: 'long' }]);
    expect(b.streaming).toBe(false); // no stream root: held
    b.streamRoot = '/lake/db/t';
    expect(b.streaming).toBe(true);
    b.put({ id: 1 }, false);
    b.put({ id: 5n }, false);
    expect(b.streaming).toBe(true);
    expect(b.takeStreamed().stream).toEqual({ root: '/lake/db/t' });
    b.put({ id: 5 }, false); // not above the last key
    expect(b.streaming).toBe(false);
    expect(() => b.takeStreamed()).toThrow(/a streamed part was taken from a round that is held/);
    expect(b.seal(true).stream).toBeUndefined();
    // The next round starts streamable again; an upsert, a delete or a held part end it.
    for (const end of [(x: TableBuffer) => x.put({ id: 9 }, true), (x: TableBuffer) => x.delete({ id: 9 }), (x: TableBuffer) => x.take()]) {
      b.put({ id: 7 }, false);
      expect(b.streaming).toBe(true);
      end(b);
      expect(b.streaming).toBe(false);
      b.put({ id: 8 }, false);
      expect(b.streaming).toBe(false);
      b.seal(true);
    }
    b.put({ id: 'text-key' }, false);
    expect(b.streaming).toBe(false);
  });

  it('an interval commit publishes only its round\'s finished files; a file still open for the next round is not visible; every row lands once', async () => {
    const { root, env, buffer } = await newTarget('interval', 60_000);
    let written = 0;
    let onWritten = () => undefined as void;
    const parts = new RoundParts(env, () => {
      written++;
      onWritten();
    });
    // Round 1: ids 0..29999 streamed in parts of 3000, the last part with the round's job.
    streamInserts(buffer, parts, 0, 30_000, 3000);
    const [r1] = await commitSinkRound({ commits: [{ root, changes: buffer.seal(true), summary: at(30_000) }], checkpoint: null }, env, parts);
    expect(r1!.rows).toBe(30_000);
    const plan1 = await planScan(storage, await loadTable(storage, root));
    expect(plan1.files.length).toBeGreaterThan(1); // rolled at 60 kB
    for (const f of plan1.files) {
      // Every published file is whole: its footer reads and holds the manifest's row count.
      const meta = parquetMetadata(readFileSync(f.originalPath).buffer);
      expect(Number(meta.num_rows)).toBe(Number(f.recordCount));
    }
    expect(decodeOffset(r1!.metadata.snapshots.at(-1)!.summary[SUMMARY_OFFSET]!)).toEqual(offset(30_000));

    // Round 2 streams into a new open file that no snapshot references.
    const before = written;
    const round2Written = new Promise<void>((resolve) => (onWritten = () => (written - before === 4 ? resolve() : undefined)));
    streamInserts(buffer, parts, 30_000, 40_000, 3000); // 3 parts
    parts.add(buffer.takeStreamed()); // and a 4th
    await round2Written;
    const committedFiles = new Set(plan1.files.map((f) => f.originalPath.split('/').pop()));
    // The open file (10k rows: below the target) is a temp file until finished: no new .parquet yet.
    expect(dataFiles(root).filter((f) => !committedFiles.has(f))).toEqual([]);
    expect((await scanRows(storage, root)).rows.length).toBe(30_000);
    await commitSinkRound({ commits: [{ root, changes: buffer.seal(true), summary: at(40_001) }], checkpoint: null }, env, parts);
    const after = await planScan(storage, await loadTable(storage, root));
    const added = after.files.map((f) => f.originalPath.split('/').pop()).filter((f) => !committedFiles.has(f));
    expect(added).toHaveLength(1);
    expect(dataFiles(root).filter((f) => !committedFiles.has(f))).toEqual(added);
    const rows = (await scanRows(storage, root)).rows;
    expect(rows.length).toBe(40_000);
    expect(new Set(rows.map((r) => r.id)).size).toBe(40_000);
    expect(rows.find((r) => r.id === 31_234n)?.v).toBe(value(31_234));
  });

  it('a round that stops streaming commits the streamed files, then the held changes (which update and delete streamed keys), in one metadata version', async () => {
    const { root, env, buffer } = await newTarget('split', 1 << 30);
    const parts = new RoundParts(env);
    streamInserts(buffer, parts, 1, 20_001, 5000);
    parts.add(buffer.takeStreamed());
    // Then, later in the same round, changes to keys already streamed (the snapshot phase's binlog part).
    buffer.delete({ id: 7 });
    buffer.put({ id: 5, v: 'updated' }, true);
    buffer.put({ id: 30_000, v: 'new' }, false);
    const before = await loadTable(storage, root);
    const results = await commitSinkRound({ commits: [{ root, changes: buffer.seal(true), summary: at(20_010) }], checkpoint: null }, env, parts);
    expect(results[0]!.rows).toBe(20_000 + 3);
    const after = await loadTable(storage, root);
    const m = after.metadata;
    // One new metadata version holds both snapshots: no reader (nor a resumed sync) sees the first alone.
    expect(m.metadataLog.at(-1)!.metadataFile).toBe(before.metadataFile);
    expect(m.snapshots.length).toBe(before.metadata.snapshots.length + 2);
    const [first, second] = m.snapshots.slice(-2);
    expect(second!.parentSnapshotId).toBe(first!.snapshotId);
    expect(second!.sequenceNumber).toBe(first!.sequenceNumber + 1n);
    expect(first!.summary['added-records']).toBe('20000');
    expect(first!.summary.operation).toBe('append');
    expect(second!.summary.operation).toBe('overwrite');
    for (const s of [first!, second!]) expect(decodeOffset(s.summary[SUMMARY_OFFSET]!)).toEqual(offset(20_010));
    const rows = (await scanRows(storage, root)).rows;
    expect(rows.length).toBe(20_000);
    expect(new Set(rows.map((r) => r.id)).size).toBe(20_000);
    expect(rows.find((r) => r.id === 5n)?.v).toBe('updated');
    expect(rows.some((r) => r.id === 7n)).toBe(false);
    expect(rows.find((r) => r.id === 30_000n)?.v).toBe('new');
    // The state at the first snapshot is the streamed rows exactly.
    expect((await scanRows(storage, root, { snapshotId: first!.snapshotId })).rows.length).toBe(20_000);
  });

  it('a streamed part that cannot be written fails the round\'s commit naming the table, and removes its open file', async () => {
    const { root, env, buffer } = await newTarget('fails', 1 << 30);
    const parts = new RoundParts(env);
    streamInserts(buffer, parts, 0, 4000, 2000);
    buffer.put({ id: 9000, v: { not: 'a string' } }, false);
    await expect(commitSinkRound({ commits: [{ root, changes: buffer.seal(true), summary: at(9000) }], checkpoint: null }, env, parts)).rejects.toMatchObject({ context: { table: 'db.fails' } });
    expect(dataFiles(root)).toEqual([]);
    expect((await scanRows(storage, root)).rows).toEqual([]);
  });
});
