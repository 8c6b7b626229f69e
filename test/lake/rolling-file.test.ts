import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSingleValue, loadTable, planScan, scanRows } from '../../core/lake';
import { appendDataFiles, createTable, currentSchema, DEFAULT_TARGET_FILE_SIZE_BYTES, RollingDataFileWriter, seededWriteEnv, targetFileSizeBytes, type ColumnBatch } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectCode } from './helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-rolling-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
  { name: 'at', type: 'timestamp' },
];

/** Rows lo..hi-1: id, a name no two rows share (incompressible enough to grow the file), µs timestamps. */
function batch(lo: number, hi: number): ColumnBatch {
  const ids: unknown[] = [];
  const names: unknown[] = [];
  const at: unknown[] = [];
  for (let i = lo; i < hi; i++) {
    ids.push(BigInt(i));
    names.push(i % 7 === 0 ? null : `name-${(i * 2654435761) % 4294967296}-${i}`);
    at.push(1_700_000_000_000_000n + BigInt(i) * 1_000_001n);
  }
  return { length: hi - lo, columns: { id: ids, name: names, at } };
}

async function newTable(name: string, properties: Record<string, string> = {}) {
  const root = join(work, name);
  const env = seededWriteEnv(name.length);
  const metadata = await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], properties, env });
  return { root, env, metadata };
}

const parquetFiles = (root: string) => readdirSync(join(root, 'data')).filter((f) => f.endsWith('.parquet'));

describe('rolling data files', () => {
  it('rolls to a new file once the open one reaches the target size; the files hold every row once, in order, with exact metrics', async () => {
    const { root, env, metadata } = await newTable('rolls', { 'write.target-file-size-bytes': '400000' });
    expect(targetFileSizeBytes(metadata)).toBe(400_000);
    const writer = new RollingDataFileWriter({ root, schema: currentSchema(metadata), spec: metadata.partitionSpecs[0]!, env }, targetFileSizeBytes(metadata), 4096);
    const rows = 201_000; // 67 batches of 3000
    for (let lo = 0; lo < rows; lo += 3000) await writer.write(batch(lo, lo + 3000));
    const files = await writer.finish();
    expect(files.length).toBeGreaterThan(2);
    expect(files.reduce((n, f) => n + f.recordCount, 0)).toBe(rows);
    for (const f of files.slice(0, -1)) {
      // The first file rolls once its written bytes reach the target (the encoder hands bytes out
      // some rows behind, so it passes it by those), the next ones at the first's bytes per row.
      expect(f.fileSizeInBytes).toBeGreaterThanOrEqual(0.9 * 400_000);
      expect(f.fileSizeInBytes).toBeLessThan(2 * 400_000);
    }
    for (const f of files) {
      expect(statSync(f.filePath).size).toBe(f.fileSizeInBytes);
      const meta = parquetMetadata(readFileSync(f.filePath).buffer);
      expect(Number(meta.num_rows)).toBe(f.recordCount);
      expect(meta.row_groups.length).toBeGreaterThan(1);
      expect(meta.key_value_metadata?.some((kv) => kv.key === 'iceberg.schema')).toBe(true);
    }
    // Files follow each other: the first holds ids from 0, each next starts where the last ended.
    let next = 0;
    for (const f of files) {
      expect(decodeSingleValue('long', f.lowerBounds!.get(1)!)).toBe(BigInt(next));
      next += f.recordCount;
      expect(decodeSingleValue('long', f.upperBounds!.get(1)!)).toBe(BigInt(next - 1));
      expect(f.valueCounts!.get(2)).toBe(f.recordCount);
    }
    expect(files.reduce((n, f) => n + f.nullValueCounts!.get(2)!, 0)).toBe(Math.ceil(rows / 7));
    // Nothing is visible before the commit; the commit publishes exactly the written files.
    expect((await scanRows(storage, root)).rows).toEqual([]);
    await appendDataFiles(root, files, { env, summary: { 'tidemark.test': 'x' } });
    const loaded = await loadTable(storage, root);
    expect((await planScan(storage, loaded)).files.map((f) => f.originalPath).sort()).toEqual(files.map((f) => f.filePath).sort());
    const scanned = (await scanRows(storage, root)).rows;
    expect(scanned.length).toBe(rows);
    expect(new Set(scanned.map((r) => r.id)).size).toBe(rows);
    const sample = scanned.find((r) => r.id === 12_345n)!;
    expect(sample.name).toBe(batch(12_345, 12_346).columns.name![0]);
    expect(sample.at).toBe('2023-11-15T01:39:05.012345'); // 1_700_012_345_012_345 µs
  });

  it('keeps one file below the target size, whatever the number of writes', async () => {
    const { root, env, metadata } = await newTable('one-file');
    expect(targetFileSizeBytes(metadata)).toBe(DEFAULT_TARGET_FILE_SIZE_BYTES);
    const writer = new RollingDataFileWriter({ root, schema: currentSchema(metadata), spec: metadata.partitionSpecs[0]!, env }, targetFileSizeBytes(metadata), 4096);
    for (let lo = 0; lo < 20_000; lo += 1000) await writer.write(batch(lo, lo + 1000));
    const files = await writer.finish();
    expect(files.length).toBe(1);
    expect(files[0]!.recordCount).toBe(20_000);
    expect(parquetFiles(root)).toHaveLength(1);
  });

  it('keeps the open file out of sight until it is finished; discarding a writer removes it', async () => {
    const { root, env, metadata } = await newTable('discard');
    const writer = new RollingDataFileWriter({ root, schema: currentSchema(metadata), spec: metadata.partitionSpecs[0]!, env }, 1 << 30, 4096);
    await writer.write(batch(0, 10_000));
    // Being written: a temp file beside its final name, never a half-written .parquet.
    expect(parquetFiles(root)).toHaveLength(0);
    await writer.discard();
    expect(readdirSync(join(root, 'data'))).toEqual([]);
  });

  it('rejects a target size that is not a positive number of bytes, naming the property and the value', async () => {
    const { metadata } = await newTable('bad-size', { 'write.target-file-size-bytes': '128MB' });
    await expectCode(Promise.resolve().then(() => targetFileSizeBytes(metadata)), 'InvalidInput', /write\.target-file-size-bytes must be a positive number of bytes, found "128MB"/);
  });
});
