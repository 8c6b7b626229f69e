import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { countPaimonRows, decodeOrcRecords, scanPaimonRows } from '../../core/lake/paimon';
import { decodeBooleanRle, decodeByteRle, decodeIntRleV1, decodeIntRleV2 } from '../../core/lake/paimon/orc/rle';
import { createLocalStorage } from '../../core/storage/node/index';
import { bytes, chunk, EXPECTED, utf8, writeOrc } from '../support/orc-file';
import { copyTable, expectError, tableRoot } from './helpers';

const storage = createLocalStorage();
const n = (xs: number[]) => xs.map(BigInt);

describe('ORC run-length encodings (the ORC Specification v1 examples)', () => {
  it('byte and boolean RLE', () => {
    expect([...decodeByteRle(Uint8Array.of(0x61, 0x00), 100, 'x')]).toEqual(new Array(100).fill(0));
    expect([...decodeByteRle(Uint8Array.of(0xfe, 0x44, 0x45), 2, 'x')]).toEqual([0x44, 0x45]);
    expect(decodeBooleanRle(Uint8Array.of(0xff, 0x80), 8, 'x')).toEqual([true, false, false, false, false, false, false, false]);
  });

  it('integer RLE v1: runs with a delta and literals', () => {
    expect(decodeIntRleV1(Uint8Array.of(0x61, 0x00, 0x07), 100, false, 'x')).toEqual(new Array(100).fill(7n));
    expect(decodeIntRleV1(Uint8Array.of(0x61, 0xff, 0x64), 100, false, 'x')).toEqual(Array.from({ length: 100 }, (_, i) => BigInt(100 - i)));
    expect(decodeIntRleV1(Uint8Array.of(0xfb, 0x02, 0x03, 0x04, 0x07, 0x0b), 5, false, 'x')).toEqual(n([2, 3, 4, 7, 11]));
    // Signed: zigzag varints (1 → -1, 4 → 2).
    expect(decodeIntRleV1(Uint8Array.of(0xfe, 0x01, 0x04), 2, true, 'x')).toEqual(n([-1, 2]));
  });

  it('integer RLE v2: short repeat, direct, patched base, delta', () => {
    expect(decodeIntRleV2(Uint8Array.of(0x0a, 0x27, 0x10), 5, false, 'x')).toEqual(n([10000, 10000, 10000, 10000, 10000]));
    expect(decodeIntRleV2(Uint8Array.of(0x5e, 0x03, 0x5c, 0xa1, 0xab, 0x1e, 0xde, 0xad, 0xbe, 0xef), 4, false, 'x')).toEqual(n([23713, 43806, 57005, 48879]));
    const patched = Uint8Array.of(
      0x8e, 0x13, 0x2b, 0x21, 0x07, 0xd0, 0x1e, 0x00, 0x14, 0x70, 0x28, 0x32, 0x3c, 0x46, 0x50, 0x5a, 0x64, 0x6e,
      0x78, 0x82, 0x8c, 0x96, 0xa0, 0xaa, 0xb4, 0xbe, 0xfc, 0xe8,
    );
    expect(decodeIntRleV2(patched, 20, false, 'x')).toEqual(
      n([2030, 2000, 2020, 1000000, 2040, 2050, 2060, 2070, 2080, 2090, 2100, 2110, 2120, 2130, 2140, 2150, 2160, 2170, 2180, 2190]),
    );
    expect(decodeIntRleV2(Uint8Array.of(0xc6, 0x09, 0x02, 0x02, 0x22, 0x42, 0x42, 0x46), 10, false, 'x')).toEqual(n([2, 3, 5, 7, 11, 13, 17, 19, 23, 29]));
    // Delta with width 0: a fixed step (signed base -3 as zigzag 5, step -2 as zigzag 3).
    expect(decodeIntRleV2(Uint8Array.of(0xc0, 0x03, 0x05, 0x03), 4, true, 'x')).toEqual(n([-3, -5, -7, -9]));
  });

  it('a stream that ends early fails, naming the stream', () => {
    expect(() => decodeIntRleV2(Uint8Array.of(0x5e, 0x03, 0x5c), 4, false, 'column 3 DATA')).toThrow(/column 3 DATA: stream ends/);
    expect(() => decodeByteRle(Uint8Array.of(0xfe, 0x44), 2, 'column 1 PRESENT')).toThrow(/column 1 PRESENT/);
  });
});

describe('decodeOrcRecords', () => {
  it('every column type a Paimon manifest can hold, with nulls, uncompressed', async () => {
    expect(await decodeOrcRecords(writeOrc(0, (b) => b), 'mem.orc')).toEqual(EXPECTED);
  });

  it('ZLIB chunks (raw deflate) and "original" (stored) chunks', async () => {
    expect(await decodeOrcRecords(writeOrc(1, (b) => chunk(deflateRawSync(b), false)), 'z.orc')).toEqual(EXPECTED);
    // A chunk that did not shrink is stored as is with the isOriginal bit, under any codec (ZSTD here).
    expect(await decodeOrcRecords(writeOrc(5, (b) => chunk(b, true)), 'zstd.orc')).toEqual(EXPECTED);
  });

  it('reads a zstd, RLE v2 Paimon manifest (append_09) with its nested _FILE struct', async () => {
    const path = join(tableRoot('append_09'), 'manifest', 'manifest-7008d4c0-b1b0-4237-ac6d-845b887efc92-0');
    const [entry, ...rest] = await decodeOrcRecords(readFileSync(path), path);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ _VERSION: 2, _KIND: 0, _BUCKET: 1, _TOTAL_BUCKETS: 2 });
    expect(entry!._FILE).toMatchObject({
      _FILE_NAME: 'data-bb891df7-ea12-4b7e-9017-41aabe08c8ec-0.parquet',
      _ROW_COUNT: 1n,
      _MIN_SEQUENCE_NUMBER: 7n,
      _LEVEL: 0,
      _EXTRA_FILES: [],
      _EMBEDDED_FILE_INDEX: null,
      _FILE_SOURCE: 0,
    });
    expect((entry!._FILE as { _VALUE_STATS: { _NULL_COUNTS: unknown } })._VALUE_STATS._NULL_COUNTS).toEqual([0n, 0n, 0n, 0n]);
  });

  it('an empty manifest list (no stripes) has no records', async () => {
    const path = join(tableRoot('append_09'), 'manifest', 'manifest-list-55a3b658-08e3-40aa-b692-29dc1e3ebbdc-0');
    expect(await decodeOrcRecords(readFileSync(path), path)).toEqual([]);
  });

  it('SNAPPY, LZO and LZ4 fail as Unsupported naming the codec and the file', async () => {
    for (const [codec, name] of [[2, 'SNAPPY'], [3, 'LZO'], [4, 'LZ4']] as const) {
      const err = await expectError(decodeOrcRecords(writeOrc(codec, (b) => chunk(b, true)), 'c.orc'), 'Unsupported', 'c.orc', `ORC compression ${name}`);
      expect(err.context.feature).toBe(`orc.compress=${name}`);
    }
  });

  it('corrupt bytes are DataInvalid naming the file', async () => {
    const good = writeOrc(0, (b) => b);
    await expectError(decodeOrcRecords(good.subarray(0, good.length - 7), 't.orc'), 'DataInvalid', 't.orc: expected an ORC file');
    await expectError(decodeOrcRecords(Uint8Array.of(0x4f, 0x52, 0x43), 'tiny.orc'), 'DataInvalid', 'tiny.orc');
    const zlib = writeOrc(1, (b) => chunk(deflateRawSync(b), false));
    zlib[10]! ^= 0xff;
    await expectError(decodeOrcRecords(zlib, 'z.orc'), 'DataInvalid', 'z.orc');
    // A row count the streams cannot back fails before anything is allocated for it.
    await expectError(decodeOrcRecords(writeOrc(0, (b) => b, 1e12), 'big.orc'), 'DataInvalid', 'big.orc', 'claims 1000000000000 values');
  });

  it('random bytes, and random damage to a real manifest, only ever raise our typed error', async () => {
    const path = join(tableRoot('pk_table_nested_type'), 'manifest', 'manifest-04471fcf-d59b-4ffe-84c7-71d3bfd2b72b-0');
    const real = readFileSync(path);
    const outcome = async (b: Uint8Array) => {
      try {
        await decodeOrcRecords(b, 'f.orc');
        return true;
      } catch (e) {
        return e instanceof TidemarkError && (e.code === 'DataInvalid' || e.code === 'Unsupported') && e.message.includes('f.orc');
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (tail) => outcome(bytes(utf8('ORC'), tail))),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), async (edits) => {
        const b = Uint8Array.from(real);
        for (const [at, x] of edits) b[at]! ^= x;
        return outcome(b);
      }),
      { numRuns: 300 },
    );
  });
});

describe('ORC-manifest tables with damaged manifests', () => {
  it('a truncated ORC manifest → DataInvalid naming it; snapshots not using it still read', async () => {
    const root = copyTable('append_09');
    const file = join(root, 'manifest', 'manifest-7008d4c0-b1b0-4237-ac6d-845b887efc92-1');
    writeFileSync(file, readFileSync(file).subarray(0, 1000));
    await expectError(countPaimonRows(storage, root), 'DataInvalid', file, 'expected an ORC file');
    await expectError(scanPaimonRows(storage, root), 'DataInvalid', file);
    expect(await countPaimonRows(storage, root, { snapshotId: 4n })).toBe(11);
  });

  it('a damaged ORC manifest list → DataInvalid naming it', async () => {
    const root = copyTable('pk_table_nested_type');
    const name = readdirSync(join(root, 'manifest')).find((f) => f.startsWith('manifest-list-5b599566') && f.endsWith('-1'))!;
    const file = join(root, 'manifest', name);
    const b = readFileSync(file);
    b[b.length - 1] = 0; // no PostScript
    writeFileSync(file, b);
    await expectError(countPaimonRows(storage, root), 'DataInvalid', file, 'postscript length 0');
    expect(await countPaimonRows(storage, root, { snapshotId: 1n })).toBe(8);
  });
});
