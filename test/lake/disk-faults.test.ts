import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { loadTable, parseTableMetadata, readAvroFile, scanRows } from '../../core/lake';
import { readParquetFile } from '../../core/lake/parquet-read';
import { appendArrow, appendRows, createTable, seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { mountSmallDisk, type SmallDisk } from '../support/small-disk';
import { recordFigure } from '../support/record';

// Disk faults under a lake commit, with real kernel errors: the warehouse lives on a small tmpfs
// (or loop ext4) that is filled to a chosen number of free bytes, so ENOSPC hits the commit at
// different files (data file, manifest, manifest list, metadata JSON), or remounted read-only
// (EROFS). Each failed commit must be an Io error naming the file and the reason, leave the table
// at its previous snapshot, fully readable, with no partial file left; after space is freed (or
// the disk is writable again) the same commit succeeds and no row is lost or doubled.
const probe = await mountSmallDisk(8);
const unavailable = 'unavailable' in probe ? probe.unavailable : null;
if (unavailable) console.warn(`disk-fault tests skipped: ${unavailable}`);

const storage = createLocalStorage();

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out.sort();
}

interface TableState {
  snapshotId: string | null;
  metadataFiles: string[];
  hint: string;
  rows: string[];
}

async function readState(root: string): Promise<TableState> {
  const t = await loadTable(storage, root);
  const { rows } = await scanRows(storage, t);
  return {
    snapshotId: t.metadata.currentSnapshotId?.toString() ?? null,
    metadataFiles: (await readdir(join(root, 'metadata'))).filter((f) => f.endsWith('.metadata.json')).sort(),
    hint: await readFile(join(root, 'metadata', 'version-hint.text'), 'utf8'),
    rows: rows.map((r) => `${r.id}|${r.v}`).sort(),
  };
}

/**
 * Every file left in the table reads whole (no truncated Avro, Parquet or JSON stays behind), no
 * temp file is left, and every snapshot still reads. Returns the number of snapshots read.
 */
async function checkNoPartialFiles(root: string): Promise<number> {
  const files = await listFiles(root);
  expect(files.filter((f) => f.endsWith('.tmp')).map((f) => relative(root, f))).toEqual([]);
  for (const f of files) {
    if (f.endsWith('.avro')) await readAvroFile(await readFile(f), f);
    else if (f.endsWith('.parquet')) await readParquetFile(storage, f);
    else if (f.endsWith('.metadata.json')) parseTableMetadata(await readFile(f, 'utf8'), f);
  }
  const t = await loadTable(storage, root);
  for (const s of t.metadata.snapshots) await scanRows(storage, t, { snapshotId: s.snapshotId });
  return t.metadata.snapshots.length;
}

/** Which file of the commit the disk filled up at, from the path the error names. */
function stageOf(path: string): string {
  if (path.endsWith('.parquet')) return 'data file';
  if (/\/snap-[^/]+\.avro$/.test(path)) return 'manifest list';
  if (path.endsWith('.avro')) return 'manifest';
  if (/\.metadata\.json/.test(path)) return 'metadata file';
  return path;
}

// Distinct values so zstd cannot shrink a batch to nothing: each batch takes a few pages.
const batch = (k: number, n = 300) => Array.from({ length: n }, (_, i) => ({ id: BigInt(k * 100_000 + i), v: `${k}-${i}-${((k * 7919 + i) * 2654435761) % 4294967291}` }));

describe.skipIf(unavailable !== null)('disk faults during a lake commit (real ENOSPC / EROFS on a small file system)', () => {
  const disk = probe as SmallDisk;
  const root = join(disk.dir ?? '', 'wh', 'db', 't');
  const env = seededWriteEnv(6);
  const expected: string[] = [];
  const figures = { mechanism: disk.mechanism, trials: 0, failedCommits: 0, failedAt: {} as Record<string, number>, retriedOk: 0, staleHintCommits: 0, readOnlyFailures: 0, rowsLost: 0, rowsDuplicated: 0 };

  beforeAll(async () => {
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'], env });
    for (let k = 0; k < 3; k++) {
      await appendRows(root, batch(k), { env });
      expected.push(...batch(k).map((r) => `${r.id}|${r.v}`));
    }
  });
  afterAll(async () => {
    recordFigure('disk faults: lake commits (ENOSPC, EROFS)', figures);
    await disk.unmount?.();
  });

  const compare = (rows: string[]) => {
    const want = [...expected].sort();
    const have = new Set(rows);
    figures.rowsLost += want.filter((r) => !have.has(r)).length;
    figures.rowsDuplicated += rows.length - have.size;
    expect(rows).toEqual(want);
  };

  it('a full disk at every stage of appendRows: Io "no space left on device" naming the file, table unchanged, retry after freeing space succeeds', async () => {
    // Free space left before the commit, in bytes: 0 fails at the data file; larger amounts let
    // the data file (and then the manifests) fit and fail later in the commit.
    const leaves = [0, 4096, 8192, 12_288, 16_384, 20_480, 24_576, 28_672, 32_768, 40_960, 49_152, 65_536];
    let k = 10;
    for (const leave of leaves) {
      k++;
      figures.trials++;
      const before = await readState(root);
      await disk.fill(leave);
      let error: unknown = null;
      try {
        await appendRows(root, batch(k), { env });
      } catch (e) {
        error = e;
      }
      await disk.free();
      if (error === null) {
        // Enough space for the commit: it must be complete. The disk may have filled up just
        // after the publish, at the version hint: the commit still counts, the hint stays behind
        // and readers step over it to the newest version.
        expected.push(...batch(k).map((r) => `${r.id}|${r.v}`));
        const after = await readState(root);
        const newest = Math.max(...after.metadataFiles.map((f) => Number(/^v(\d+)\./.exec(f)![1])));
        expect(after.metadataFiles).toContain(`v${newest}.metadata.json`);
        if (after.hint !== String(newest)) figures.staleHintCommits++;
        expect(after.snapshotId).not.toBe(before.snapshotId);
        compare(after.rows);
        await checkNoPartialFiles(root);
        continue;
      }
      figures.failedCommits++;
      expect(error).toBeInstanceOf(TidemarkError);
      const err = error as TidemarkError;
      expect(err.code).toBe('Io');
      expect(err.context.errno).toBe('ENOSPC');
      const path = String(err.context.path);
      expect(path.startsWith(`${root}/`)).toBe(true);
      expect(err.message).toBe(`cannot write ${path}: no space left on device (ENOSPC)`);
      const stage = stageOf(path);
      figures.failedAt[stage] = (figures.failedAt[stage] ?? 0) + 1;
      // The table is exactly where it was, readable, and nothing half-written is visible.
      expect(await readState(root)).toEqual(before);
      await checkNoPartialFiles(root);
      // Same commit again with room: it lands once.
      await appendRows(root, batch(k), { env });
      figures.retriedOk++;
      expected.push(...batch(k).map((r) => `${r.id}|${r.v}`));
      compare((await readState(root)).rows);
    }
    // The sweep must have hit the commit at the data file and at least one metadata stage.
    expect(figures.failedAt['data file']).toBeGreaterThan(0);
    expect(Object.keys(figures.failedAt).filter((s) => s !== 'data file').length).toBeGreaterThan(0);
  });

  it('a full disk under appendArrow: same error, same state, retry lands once', async () => {
    const before = await readState(root);
    const rows = batch(99);
    const arrow = () => new Table({ id: vectorFromArray(rows.map((r) => r.id), new Int64()), v: vectorFromArray(rows.map((r) => r.v), new Utf8()) });
    await disk.fill(0);
    let error: unknown = null;
    try {
      await appendArrow(root, arrow(), { env });
    } catch (e) {
      error = e;
    }
    await disk.free();
    expect(error).toBeInstanceOf(TidemarkError);
    expect((error as TidemarkError).code).toBe('Io');
    expect((error as TidemarkError).message).toMatch(new RegExp(`^cannot write ${root}/data/[^ ]+\\.parquet: no space left on device \\(ENOSPC\\)$`));
    expect(await readState(root)).toEqual(before);
    await checkNoPartialFiles(root);
    await appendArrow(root, arrow(), { env });
    expected.push(...rows.map((r) => `${r.id}|${r.v}`));
    compare((await readState(root)).rows);
  });

  it('a read-only warehouse: Io "read-only file system" naming the file, table unchanged and readable, commit succeeds once writable', async () => {
    const before = await readState(root);
    disk.setReadOnly(true);
    let error: unknown = null;
    try {
      await appendRows(root, batch(200), { env });
      // Reads still work on the read-only disk.
      expect(await readState(root)).toEqual(before);
    } catch (e) {
      error = e;
    }
    const whileReadOnly = await readState(root);
    disk.setReadOnly(false);
    expect(error).toBeInstanceOf(TidemarkError);
    const err = error as TidemarkError;
    expect(err.code).toBe('Io');
    expect(err.context.errno).toBe('EROFS');
    expect(err.message).toMatch(new RegExp(`^cannot write ${root}/data/[^ ]+\\.parquet: read-only file system \\(EROFS\\)$`));
    figures.readOnlyFailures++;
    expect(whileReadOnly).toEqual(before);
    await checkNoPartialFiles(root);
    await appendRows(root, batch(200), { env });
    expected.push(...batch(200).map((r) => `${r.id}|${r.v}`));
    compare((await readState(root)).rows);
    expect(figures.rowsLost).toBe(0);
    expect(figures.rowsDuplicated).toBe(0);
  });
});
