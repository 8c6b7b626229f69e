import { readFileSync } from 'node:fs';
import { Binary, makeData, Struct, Field } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { planScan } from '../../core/lake';
import { convertArrowData } from '../../core/lake/arrow-values';
import { DeletionVectorReader } from '../../core/lake/deletion-vector';
import type { PlannedFile } from '../../core/lake/scan-plan';
import { parseTableMetadata } from '../../core/lake/serde/table-metadata';
import { crc32 } from '../../core/lake/serde/crc32';
import { decodeRoaring64 } from '../../core/lake/serde/roaring';
import { variantToJson } from '../../core/lake/variant';
import { decodeSingleValue } from '../../core/lake/serde/single-value';
import { formatTimestampNanos, fromJsonSingleValue } from '../../core/lake/values';
import type { StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';
import { expectCode } from './helpers';

/** Corrupt v3 inputs: each failure is our typed error naming the file (STYLE.md "Errors"). */
const table = `${FIXTURES}/iceberg-v3/impala/iceberg_v3_deletion_vectors`;
const local = createLocalStorage();

/** The fixture's first DV and its Puffin bytes, read through a storage that serves edited bytes. */
async function dvWith(edit: (bytes: Uint8Array) => Uint8Array, entry: (d: PlannedFile) => PlannedFile = (d) => d) {
  const plan = await planScan(local, table);
  const dv = entry(plan.files.flatMap((f) => f.deletes).find((d) => d.dataFile.contentOffset === 4)!);
  const bytes = edit(new Uint8Array(readFileSync(dv.path)));
  const storage: StoragePort = {
    ...local,
    readFile: async () => bytes,
    readRange: async (_p, offset, length) => bytes.slice(offset, offset + length),
  };
  return { read: () => new DeletionVectorReader(storage).read({ ...dv, dataFile: { ...dv.dataFile, fileSizeInBytes: bytes.length } }), dv };
}
const flip = (at: number) => (b: Uint8Array) => {
  const c = b.slice();
  c[at]! ^= 0xff;
  return c;
};

describe('deletion vectors', () => {
  it('the fixture blob decodes to one position and its CRC matches', async () => {
    const { read } = await dvWith((b) => b);
    expect(await read()).toMatchObject({ positions: [0] });
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('a flipped bitmap byte fails the CRC-32, naming the Puffin file and offset', async () => {
    const { read } = await dvWith(flip(4 + 4 + 4 + 20));
    await expectCode(read(), 'DataInvalid', /-deletes\.puffin: deletion vector at byte 4: CRC-32 [0-9a-f]+ differs from the stored/);
  });

  it('a wrong length field or magic is named', async () => {
    await expectCode((await dvWith(flip(4 + 3))).read(), 'DataInvalid', /length field \d+, expected 34/);
    await expectCode((await dvWith(flip(4 + 4))).read(), 'DataInvalid', /magic [0-9a-f]+, expected d1d33964/);
  });

  it('an offset the Puffin footer does not list, or a cut file, is DataInvalid naming the file', async () => {
    const moved = await dvWith((b) => b, (d) => ({ ...d, dataFile: { ...d.dataFile, contentOffset: 5 } }));
    await expectCode(moved.read(), 'DataInvalid', /-deletes\.puffin: deletion vector at byte 5: no blob of 42 bytes at byte 5 in the Puffin footer/);
    await expectCode((await dvWith((b) => b.slice(0, b.length - 3))).read(), 'DataInvalid', /-deletes\.puffin: expected a Puffin file: no PFA1 magic at the end/);
    await expectCode((await dvWith((b) => b.slice(4))).read(), 'DataInvalid', /expected a Puffin file: no PFA1 magic at byte 0/);
  });

  it('a compressed footer is Unsupported; a record_count that disagrees is DataInvalid', async () => {
    await expectCode((await dvWith((b) => { const c = b.slice(); c[c.length - 8]! |= 1; return c; })).read(), 'Unsupported', /compressed \(LZ4\) footer/);
    const counted = await dvWith((b) => b, (d) => ({ ...d, dataFile: { ...d.dataFile, recordCount: 2 } }));
    await expectCode(counted.read(), 'DataInvalid', /holds 1 positions, its manifest entry says record_count 2/);
  });
});

describe('64-bit Roaring bitmaps', () => {
  it('decodes keys above 2^32 and rejects unordered keys and trailing bytes', () => {
    // Two bitmaps: key 0 {3}, key 1 {7} (array containers, no-run cookie).
    const bitmap = (key: number, value: number) => [key, 0, 0, 0, 0x3a, 0x30, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, value, 0];
    const two = new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, ...bitmap(0, 3), ...bitmap(1, 7)]);
    expect(decodeRoaring64(two, 'x')).toEqual([3, 4294967296 + 7]);
    expect(() => decodeRoaring64(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, ...bitmap(1, 3), ...bitmap(0, 7)]), 'x')).toThrow(/keys not ascending/);
    expect(() => decodeRoaring64(new Uint8Array([...two, 0]), 'x')).toThrow(/1 bytes after the last bitmap/);
  });

  it('random bytes throw only DataInvalid', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        try {
          decodeRoaring64(bytes, 'random');
        } catch (e) {
          return e instanceof TidemarkError && e.code === 'DataInvalid';
        }
        return true;
      }),
      { numRuns: 500 },
    );
  });
});

describe('v3 partition and sort fields', () => {
  const metadata = (partitionField: Record<string, unknown>) =>
    JSON.stringify({
      'format-version': 3, 'table-uuid': 'u', location: '/t', 'last-sequence-number': 0, 'last-updated-ms': 1, 'last-column-id': 2, 'next-row-id': 0,
      'current-schema-id': 0, schemas: [{ type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'a', required: false, type: 'int' }, { id: 2, name: 'b', required: false, type: 'int' }] }],
      'partition-specs': [{ 'spec-id': 0, fields: [partitionField] }],
      'sort-orders': [{ 'order-id': 1, fields: [{ transform: 'identity', 'source-ids': [2], direction: 'asc', 'null-order': 'nulls-first' }] }],
    });
  it('source-ids of one id reads as source-id; several are Unsupported, named', () => {
    const m = parseTableMetadata(metadata({ name: 'a_b', transform: 'bucket[4]', 'source-ids': [1], 'field-id': 1000 }), 'v1.metadata.json');
    expect(m.partitionSpecs[0]!.fields[0]!.sourceId).toBe(1);
    expect(m.sortOrders[0]!.fields[0]!.sourceId).toBe(2);
    expect(() => parseTableMetadata(metadata({ name: 'ab', transform: 'zorder', 'source-ids': [1, 2], 'field-id': 1000 }), 'v1.metadata.json')).toThrow(
      /v1\.metadata\.json: partition-specs\[0\]\.fields\[0\]: multi-argument transform "zorder" on source-ids \[1,2\] is not supported/,
    );
  });
});

describe('variant, nanosecond and geo types', () => {
  it('random variant bytes throw only DataInvalid', () => {
    const metadata = new Uint8Array([1, 1, 0, 1, 0x61]); // version 1, one key "a"
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 48 }), (value) => {
        try {
          variantToJson(metadata, value, 'random');
        } catch (e) {
          return e instanceof TidemarkError && e.code === 'DataInvalid';
        }
        return true;
      }),
      { numRuns: 500 },
    );
    expect(variantToJson(metadata, new Uint8Array([0b000010, 1, 0, 0, 2, 0x0c, 42]), 'v')).toBe('{"a":42}');
  });

  it('nanosecond timestamps keep nine digits, before the epoch too', () => {
    expect(formatTimestampNanos(1n, false)).toBe('1970-01-01T00:00:00.000000001');
    expect(formatTimestampNanos(-1n, true)).toBe('1969-12-31T23:59:59.999999999+00:00');
    // Defaults (JSON single values) and bounds (8-byte little-endian nanoseconds) of the ns types.
    expect(fromJsonSingleValue('timestamptz_ns', '2024-01-15T10:30:45.123456789+01:00')).toBe('2024-01-15T09:30:45.123456789+00:00');
    expect(fromJsonSingleValue('timestamp_ns', '2024-01-15T10:30:45.5')).toBe('2024-01-15T10:30:45.500000000');
    expect(decodeSingleValue('timestamp_ns', new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]))).toBe('1970-01-01T00:00:00.000000001');
  });

  it('geometry columns parse (the table opens) and their values are Unsupported, named', () => {
    const meta = parseTableMetadata(
      JSON.stringify({
        'format-version': 3, 'table-uuid': 'u', location: '/t', 'last-sequence-number': 0, 'last-updated-ms': 1, 'last-column-id': 2, 'next-row-id': 0,
        'current-schema-id': 0, schemas: [{ type: 'struct', 'schema-id': 0, fields: [{ id: 1, name: 'g', required: false, type: 'geometry(srid:4326)' }, { id: 2, name: 'h', required: false, type: 'geography' }] }],
      }),
      'v1.metadata.json',
    );
    expect(meta.schemas[0]!.fields.map((f) => f.type)).toEqual(['geometry(srid:4326)', 'geography']);
    const wkb = makeData({ type: new Binary(), length: 1, nullCount: 0, valueOffsets: new Int32Array([0, 1]), data: new Uint8Array([1]) });
    expect(() => convertArrowData(wkb, 'geometry(srid:4326)', 't.parquet: g')).toThrow(/t\.parquet: g: Iceberg geometry\(srid:4326\) values are not supported/);
    // A shredded variant names the feature.
    const shredded = makeData({
      type: new Struct([new Field('metadata', new Binary()), new Field('typed_value', new Binary())]),
      length: 0,
      nullCount: 0,
      children: [makeData({ type: new Binary(), length: 0, valueOffsets: new Int32Array([0]), data: new Uint8Array(0) }), makeData({ type: new Binary(), length: 0, valueOffsets: new Int32Array([0]), data: new Uint8Array(0) })],
    });
    expect(() => convertArrowData(shredded, 'variant', 't.parquet: v')).toThrow(/shredded variant columns \(typed_value\) are not supported/);
  });
});
