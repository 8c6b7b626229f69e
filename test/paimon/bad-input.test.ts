import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import {
  countPaimonRows,
  decodeAvroRecords,
  decodeBinaryRow,
  decodeRoaringBitmap,
  isPaimonTable,
  listPaimonFiles,
  listPaimonSnapshots,
  readPaimonSchema,
  scanPaimonRows,
} from '../../core/lake/paimon';
import { readSnapshotDataFiles } from '../../core/lake/paimon/manifest';
import { readPaimonRows } from '../../core/lake/paimon/read';
import { resolvePaimonSnapshot } from '../../core/lake/paimon/snapshot';
import { createLocalStorage } from '../../core/storage/node/index';
import { copyTable, expectError, tableRoot } from './helpers';

const storage = createLocalStorage();
const MOR = 'pk_table_scan_and_read_mor';

/** First file in `dir` whose name starts with `prefix`. */
function fileIn(dir: string, prefix: string): string {
  const name = readdirSync(dir).find((n) => n.startsWith(prefix));
  if (!name) throw new Error(`no ${prefix}* in ${dir}`);
  return join(dir, name);
}

function snapshotJson(root: string, id: number): Record<string, unknown> {
  return JSON.parse(readFileSync(join(root, 'snapshot', `snapshot-${id}`), 'utf8')) as Record<string, unknown>;
}

describe('paimon bad input', () => {
  it('unknown snapshot → NotFound naming the id and the range', async () => {
    await expectError(scanPaimonRows(storage, tableRoot(MOR), { snapshotId: 42n }), 'NotFound', 'snapshot 42 not found', 'snapshots are 1..5');
    await expectError(listPaimonFiles(storage, tableRoot(MOR), { snapshotId: 0 }), 'NotFound', 'snapshot 0 not found');
    await expectError(readPaimonSchema(storage, tableRoot(MOR), { snapshotId: 6n }), 'NotFound', 'snapshot 6');
  });

  it('a folder that is not a Paimon table', async () => {
    const root = copyTable(MOR);
    rmSync(join(root, 'schema'), { recursive: true });
    expect(await isPaimonTable(storage, root)).toBe(false);
    expect(await isPaimonTable(storage, join(root, 'does-not-exist'))).toBe(false);
    await expectError(listPaimonSnapshots(storage, root), 'NotFound', 'not a Paimon table', root);
  });

  it('truncated snapshot JSON → DataInvalid naming the file', async () => {
    const root = copyTable(MOR);
    const file = join(root, 'snapshot', 'snapshot-5');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 100));
    await expectError(listPaimonSnapshots(storage, root), 'DataInvalid', file, 'expected Paimon snapshot JSON');
    await expectError(countPaimonRows(storage, root), 'DataInvalid', file);
    // Other snapshots still read.
    expect(await countPaimonRows(storage, root, { snapshotId: 2n })).toBe(8);
  });

  it('snapshot JSON without manifest lists → DataInvalid', async () => {
    const root = copyTable(MOR);
    const snap = snapshotJson(root, 5);
    delete snap.baseManifestList;
    writeFileSync(join(root, 'snapshot', 'snapshot-5'), JSON.stringify(snap));
    await expectError(countPaimonRows(storage, root), 'DataInvalid', 'snapshot-5', 'baseManifestList');
  });

  it('corrupt schema JSON → DataInvalid naming the file', async () => {
    const root = copyTable(MOR);
    const file = join(root, 'schema', 'schema-0');
    writeFileSync(file, '{"version": 3, "id": 0, "fields": [ {"id": 0');
    await expectError(readPaimonSchema(storage, root), 'DataInvalid', file);
    await expectError(countPaimonRows(storage, root), 'DataInvalid', file);
  });

  it('truncated manifest list → DataInvalid naming the file', async () => {
    const root = copyTable(MOR);
    const list = join(root, 'manifest', snapshotJson(root, 5).deltaManifestList as string);
    const bytes = readFileSync(list);
    writeFileSync(list, bytes.subarray(0, bytes.length - 30));
    await expectError(countPaimonRows(storage, root), 'DataInvalid', list, 'Avro');
  });

  it('manifest that is not Avro → DataInvalid naming the file', async () => {
    const root = copyTable(MOR);
    const manifest = fileIn(join(root, 'manifest'), 'manifest-daefb1fa');
    writeFileSync(manifest, 'this is not avro');
    await expectError(countPaimonRows(storage, root), 'DataInvalid', manifest, 'bad magic bytes');
  });

  it('corrupt zstd block in a manifest → DataInvalid naming the file', async () => {
    const root = copyTable(MOR);
    const manifest = fileIn(join(root, 'manifest'), 'manifest-daefb1fa');
    const bytes = new Uint8Array(readFileSync(manifest));
    // Overwrite the middle of the (single) data block, leaving framing and sync marker intact.
    const end = bytes.length - 16;
    for (let i = end - 200; i < end - 40; i++) bytes[i] = 0xff;
    writeFileSync(manifest, bytes);
    await expectError(countPaimonRows(storage, root), 'DataInvalid', manifest);
  });

  it('missing manifest → NotFound naming the file', async () => {
    const root = copyTable(MOR);
    const manifest = fileIn(join(root, 'manifest'), 'manifest-daefb1fa');
    rmSync(manifest);
    await expectError(countPaimonRows(storage, root), 'NotFound', 'manifest not found', manifest);
  });

  it('missing data file → NotFound naming the file', async () => {
    const root = copyTable(MOR);
    const data = join(root, 'f1=20', 'bucket-0', 'data-7c66dfe2-bec3-4fc2-a952-2d17d6ae91bb-0.parquet');
    rmSync(data);
    await expectError(scanPaimonRows(storage, root), 'NotFound', data);
  });

  it('truncated Parquet data file → DataInvalid naming the file', async () => {
    const root = copyTable(MOR);
    const data = join(root, 'f1=20', 'bucket-0', 'data-7c66dfe2-bec3-4fc2-a952-2d17d6ae91bb-0.parquet');
    writeFileSync(data, readFileSync(data).subarray(0, 500));
    await expectError(scanPaimonRows(storage, root), 'DataInvalid', data, 'Parquet');
  });

  it('corrupt deletion vector → DataInvalid naming the index file', async () => {
    const root = copyTable('pk_table_scan_and_read_dv');
    const index = fileIn(join(root, 'index'), 'index-16bec1d6-fa31-49bd-a240-deadcfff6003-0');
    const bytes = new Uint8Array(readFileSync(index));
    // Byte 0 is the index file version; the vector at offset 1 is length (4), magic (4), bitmap.
    bytes[9] = 0x00; // the RoaringBitmap cookie
    bytes[10] = 0x00;
    writeFileSync(index, bytes);
    await expectError(scanPaimonRows(storage, root), 'DataInvalid', index, 'RoaringBitmap', 'unknown cookie');
    bytes[5] = 0x00; // the magic number
    writeFileSync(index, bytes);
    await expectError(scanPaimonRows(storage, root), 'DataInvalid', index, 'magic number');
  });

  it('64-bit deletion vectors → Unsupported naming the feature', async () => {
    const root = copyTable('pk_table_scan_and_read_dv');
    const index = fileIn(join(root, 'index'), 'index-16bec1d6-fa31-49bd-a240-deadcfff6003-0');
    const bytes = new Uint8Array(readFileSync(index));
    new DataView(bytes.buffer).setInt32(5, 1681511377, true);
    writeFileSync(index, bytes);
    // A read decodes the vectors (a count takes their cardinalities from the index manifest).
    await expectError(scanPaimonRows(storage, root), 'Unsupported', 'deletion-vectors.bitmap64');
  });

  it('missing deletion-vector index file → NotFound naming it', async () => {
    const root = copyTable('pk_table_scan_and_read_dv');
    const index = fileIn(join(root, 'index'), 'index-16bec1d6-fa31-49bd-a240-deadcfff6003-1');
    rmSync(index);
    await expectError(scanPaimonRows(storage, root), 'NotFound', index);
  });

  for (const engine of ['partial-update', 'aggregation', 'first-row']) {
    it(`merge engine ${engine} → Unsupported naming it`, async () => {
      const root = copyTable(MOR);
      const file = join(root, 'schema', 'schema-0');
      const schema = JSON.parse(readFileSync(file, 'utf8')) as { options: Record<string, string> };
      schema.options['merge-engine'] = engine;
      writeFileSync(file, JSON.stringify(schema));
      await expectError(scanPaimonRows(storage, root), 'Unsupported', `merge engine ${engine}`);
      await expectError(countPaimonRows(storage, root), 'Unsupported', engine);
      // Metadata still reads.
      expect((await listPaimonSnapshots(storage, root)).length).toBe(5);
      expect((await listPaimonFiles(storage, root)).length).toBeGreaterThan(0);
    });
  }

  it('data files not in Parquet → Unsupported naming the format', async () => {
    const root = tableRoot('append_complex_data');
    const schema = await readPaimonSchema(storage, root);
    const [file] = await readSnapshotDataFiles(storage, root, (await resolvePaimonSnapshot(storage, root))!, schema);
    const orc = { ...file!, fileName: 'data-1.orc', path: `${root}/f1=10/bucket-0/data-1.orc` };
    await expectError(readPaimonRows(storage, schema, [orc], { fields: schema.fields }), 'Unsupported', 'file.format = parquet', 'data-1.orc');
  });

  it('unknown column → InvalidInput listing the columns', async () => {
    await expectError(scanPaimonRows(storage, tableRoot(MOR), { columns: ['nope'] }), 'InvalidInput', '"nope"', 'f0, f1, f2, f3');
  });
});

describe('paimon decoders fed random bytes throw only typed errors', () => {
  const typedOrOk = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(TidemarkError);
    }
  };

  it('BinaryRow', () => {
    const types = [
      { root: 'STRING' as const, nullable: true },
      { root: 'INT' as const, nullable: true },
      { root: 'DECIMAL' as const, nullable: true, precision: 30, scale: 2 },
      { root: 'TIMESTAMP' as const, nullable: true, precision: 9 },
    ];
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => typedOrOk(() => decodeBinaryRow(bytes, types, 'random'))), { numRuns: 500 });
  });

  it('RoaringBitmap', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => typedOrOk(() => decodeRoaringBitmap(bytes, 'random'))), { numRuns: 500 });
    // Also with a valid cookie in front, so container parsing is exercised.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (tail, runs) => {
        const head = runs ? [0x3b, 0x30, 0x01, 0x00] : [0x3a, 0x30, 0x00, 0x00];
        typedOrOk(() => decodeRoaringBitmap(new Uint8Array([...head, ...tail]), 'random'));
      }),
      { numRuns: 500 },
    );
  });

  it('Avro container', async () => {
    const real = new Uint8Array(readFileSync(fileIn(join(tableRoot(MOR), 'manifest'), 'manifest-list-06804d39')));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: real.length - 1 }), fc.integer({ min: 0, max: 255 }), async (pos, byte) => {
        const bytes = real.slice();
        bytes[pos] = byte;
        try {
          await decodeAvroRecords(bytes, 'mutated');
        } catch (e) {
          expect(e).toBeInstanceOf(TidemarkError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('BinaryRow layout', () => {
  it('decodes null bits, inline and out-of-line strings, compact and wide decimals, timestamps', () => {
    // arity 5: STRING "Alice" (inline), STRING "Hello, world" (variable part), null INT,
    // DECIMAL(10, 2) compact 12345, TIMESTAMP(9) 1970-01-01T00:00:01.000002500.
    const arity = 5;
    const nullBytes = 8;
    const fixed = nullBytes + arity * 8;
    const long = new TextEncoder().encode('Hello, world');
    const row = new Uint8Array(4 + fixed + 16 + 8);
    const view = new DataView(row.buffer);
    view.setInt32(0, arity, false);
    const base = 4;
    row[base + ((2 + 8) >> 3)]! |= 1 << ((2 + 8) & 7); // field 2 null
    const slot = (i: number) => base + nullBytes + i * 8;
    row.set(new TextEncoder().encode('Alice'), slot(0));
    row[slot(0) + 7] = 0x80 | 5;
    row.set(long, base + fixed);
    view.setUint32(slot(1), long.length, true);
    view.setUint32(slot(1) + 4, fixed, true);
    view.setBigInt64(slot(3), 12345n, true);
    view.setUint32(slot(4), 2500, true); // nanos of millisecond
    view.setUint32(slot(4) + 4, fixed + 16, true); // offset of the millis
    view.setBigInt64(base + fixed + 16, 1000n, true);
    const values = decodeBinaryRow(
      row,
      [
        { root: 'STRING', nullable: true },
        { root: 'STRING', nullable: true },
        { root: 'INT', nullable: true },
        { root: 'DECIMAL', nullable: true, precision: 10, scale: 2 },
        { root: 'TIMESTAMP', nullable: true, precision: 9 },
      ],
      'hand-built',
    );
    expect(values).toEqual(['Alice', 'Hello, world', null, '123.45', '1970-01-01T00:00:01.000002']);
  });

  it('names the row in errors', () => {
    expect(() => decodeBinaryRow(new Uint8Array([0, 0, 0, 3, 0]), [{ root: 'INT', nullable: true }], 'manifest-x: _PARTITION')).toThrow(
      /manifest-x: _PARTITION: malformed BinaryRow: arity 3 needs 32 bytes/,
    );
  });
});

describe('RoaringBitmap layout', () => {
  it('array, run and bitmap containers', () => {
    // No-run cookie, one array container (key 1) with values 3 and 7.
    const arr = new Uint8Array([0x3a, 0x30, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 0, 7, 0]);
    expect([...decodeRoaringBitmap(arr, 'a')]).toEqual([65536 + 3, 65536 + 7]);
    // Run cookie with 1 container, flagged run: one run 10..12.
    const run = new Uint8Array([0x3b, 0x30, 0, 0, 0x01, 0, 0, 2, 0, 1, 0, 10, 0, 2, 0]);
    expect([...decodeRoaringBitmap(run, 'r')]).toEqual([10, 11, 12]);
    // Bitmap container: cardinality 4097 (> 4096) → 8192 bytes of bits.
    const bits = new Uint8Array(8192);
    for (let v = 0; v < 4097; v++) bits[v >> 3]! |= 1 << (v & 7);
    const head = new Uint8Array([0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 0x00, 0x10, 0, 0, 0, 0]);
    const set = decodeRoaringBitmap(new Uint8Array([...head, ...bits]), 'b');
    expect(set.size).toBe(4097);
    expect(set.has(4096)).toBe(true);
    expect(set.has(4097)).toBe(false);
  });
});
