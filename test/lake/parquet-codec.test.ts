import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTable, scanRows } from '../../core/lake';
import { appendDataFiles, appendRows, applyRowDelta, createTable, currentSchema, RollingDataFileWriter, seededWriteEnv, parquetCodec } from '../../core/lake/write';
import { validatePipeline } from '../../core/pipeline/config/validate';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectCode } from './helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-codec-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
];
const rows = (lo: number, hi: number) => Array.from({ length: hi - lo }, (_, i) => ({ id: BigInt(lo + i), name: `name-${lo + i}` }));

/** Every column chunk codec of every Parquet file under the table's data folder. */
function codecsOf(root: string): Set<string> {
  const codecs = new Set<string>();
  for (const f of readdirSync(join(root, 'data')).filter((n) => n.endsWith('.parquet'))) {
    const bytes = readFileSync(join(root, 'data', f));
    for (const g of parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).row_groups) for (const c of g.columns) codecs.add(c.meta_data!.codec);
  }
  return codecs;
}

describe('write.parquet.compression-codec', () => {
  it('is ZSTD by default, and each codec Iceberg names writes data and delete files that read back', async () => {
    const plain = join(work, 'default');
    await createTable(plain, { columns: COLUMNS, identifierColumns: ['id'], env: seededWriteEnv(1) });
    await appendRows(plain, rows(0, 50), { env: seededWriteEnv(2) });
    expect(codecsOf(plain)).toEqual(new Set(['ZSTD']));
    for (const [name, codec] of [['snappy', 'SNAPPY'], ['GZIP', 'GZIP'], ['uncompressed', 'UNCOMPRESSED'], ['brotli', 'BROTLI'], ['lz4', 'LZ4']] as const) {
      const root = join(work, name);
      await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], properties: { 'write.parquet.compression-codec': name }, env: seededWriteEnv(3) });
      await appendRows(root, rows(0, 100), { env: seededWriteEnv(4) });
      // Equality deletes and upserted rows: the same codec.
      await applyRowDelta(root, { upserts: [{ id: 5n, name: 'five' }], deleteKeys: [{ id: 7n }] }, { env: seededWriteEnv(5) });
      // The rolling writer of the sync's streamed rounds.
      const m = (await loadTable(storage, root)).metadata;
      const writer = new RollingDataFileWriter({ root, schema: currentSchema(m), spec: m.partitionSpecs[0]!, env: seededWriteEnv(6), codec: parquetCodec(m) }, 1 << 20);
      await writer.write({ length: 100, columns: { id: rows(100, 200).map((r) => r.id), name: rows(100, 200).map((r) => r.name) } });
      await appendDataFiles(root, await writer.finish(), { env: seededWriteEnv(7) });
      expect(codecsOf(root)).toEqual(new Set([codec]));
      const read = (await scanRows(storage, root)).rows;
      expect(read.length).toBe(199);
      expect(read.find((r) => r.id === 5n)?.name).toBe('five');
      expect(read.some((r) => r.id === 7n)).toBe(false);
      expect(read.find((r) => r.id === 150n)?.name).toBe('name-150');
    }
  });

  it('a value Tidemark cannot write fails the write naming the table; validate says so at its line', async () => {
    for (const [value, code, message] of [['lzo', 'Unsupported', /compression-codec is lzo, which Tidemark cannot write; use one of zstd, snappy, gzip, lz4, brotli, uncompressed/], ['zip', 'InvalidInput', /compression-codec must be one of zstd, snappy, gzip, lz4, brotli, uncompressed, found "zip"/]] as const) {
      const root = join(work, `bad-${value}`);
      await createTable(root, { columns: COLUMNS, identifierColumns: ['id'], properties: { 'write.parquet.compression-codec': value }, env: seededWriteEnv(8) });
      const err = await expectCode(appendRows(root, rows(0, 3), { env: seededWriteEnv(9) }), code, message);
      expect(err.message).toContain(root);
      expect((await scanRows(storage, root)).rows).toEqual([]);
    }
    const yaml = (codec: string) => `source:
  type: mariadb
  hostname: 127.0.0.1
  port: 3306
  username: u
  password: p
  tables: app.t
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: /tmp/w
  table.properties.write.parquet.compression-codec: ${codec}
pipeline:
  name: p
`;
    expect(validatePipeline(yaml('snappy'), { fileName: 'p.yaml', env: {} }).errors).toEqual([]);
    expect(validatePipeline(yaml('zip'), { fileName: 'p.yaml', env: {} }).errors).toEqual([
      { code: 'InvalidInput', line: 12, path: 'sink.table.properties.write.parquet.compression-codec', message: 'found "zip": expected one of zstd, snappy, gzip, lz4, brotli, uncompressed' },
    ]);
    expect(validatePipeline(yaml('LZO'), { fileName: 'p.yaml', env: {} }).errors).toEqual([
      { code: 'Unsupported', line: 12, path: 'sink.table.properties.write.parquet.compression-codec', message: 'lzo cannot be written by Tidemark: expected one of zstd, snappy, gzip, lz4, brotli, uncompressed' },
    ]);
  });
});
