import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { countPaimonRows, decodeOrcRecords, scanPaimonRows } from '../../core/lake/paimon';
import { decodeBooleanRle, decodeByteRle, decodeIntRleV1, decodeIntRleV2 } from '../../core/lake/paimon/orc/rle';
import { createLocalStorage } from '../../core/storage/node/index';
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

// ---- A tiny ORC writer for the tests: protobuf by hand, RLE v1 literals, one stripe. ----
const bytes = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
function uvarint(v: bigint | number): number[] {
  let x = BigInt(v);
  const out: number[] = [];
  do {
    const b = Number(x & 0x7fn);
    x >>= 7n;
    out.push(x > 0n ? b | 0x80 : b);
  } while (x > 0n);
  return out;
}
const zz = (v: bigint | number) => (BigInt(v) >= 0n ? BigInt(v) * 2n : -BigInt(v) * 2n - 1n);
const pbInt = (field: number, v: number | bigint) => [...uvarint(field * 8), ...uvarint(v)];
const pbBytes = (field: number, b: Uint8Array | number[]) => [...uvarint(field * 8 + 2), ...uvarint(b.length), ...b];
const utf8 = (s: string) => [...new TextEncoder().encode(s)];
/** RLE v1 literals (one group: fewer than 128 values). */
const intLiterals = (vs: (number | bigint)[], signed: boolean) => [256 - vs.length, ...vs.flatMap((v) => uvarint(signed ? zz(v) : BigInt(v)))];
const byteLiterals = (bs: number[]) => [256 - bs.length, ...bs];
function bools(bs: boolean[]): number[] {
  const packed: number[] = new Array(Math.ceil(bs.length / 8)).fill(0);
  bs.forEach((b, i) => (packed[i >> 3]! |= b ? 0x80 >> (i & 7) : 0));
  return byteLiterals(packed);
}
const f64 = (...xs: number[]) => {
  const b = new Uint8Array(xs.length * 8);
  xs.forEach((x, i) => new DataView(b.buffer).setFloat64(i * 8, x, true));
  return [...b];
};

const T = true;
const F = false;
// struct<i:int, s:string (dictionary), l:array<bigint>, m:map<string,int>, b:boolean, d:double,
//        bin:binary, dec:decimal(10,2), dt:date, ts:timestamp, st:struct<x:int>>, 3 rows.
const TYPES: [number, number[], string[]][] = [
  [12, [1, 2, 3, 5, 8, 9, 10, 11, 12, 13, 14], ['i', 's', 'l', 'm', 'b', 'd', 'bin', 'dec', 'dt', 'ts', 'st']],
  [3, [], []], [7, [], []], [10, [4], []], [4, [], []], [11, [6, 7], []], [7, [], []], [3, [], []],
  [0, [], []], [6, [], []], [8, [], []], [14, [], []], [15, [], []], [9, [], []], [12, [15], ['x']], [3, [], []],
];
const TS0 = 1_704_164_645_123n; // 2024-01-02T03:04:05.123Z in ms
const STREAMS: [column: number, kind: number, data: number[]][] = [
  [1, 0, bools([T, F, T])], [1, 1, intLiterals([1, -3], true)],
  [2, 1, intLiterals([1, 0, 1], false)], [2, 3, utf8('ab')], [2, 2, intLiterals([1, 1], false)],
  [3, 0, bools([T, T, F])], [3, 2, intLiterals([2, 0], false)],
  [4, 1, intLiterals([10n, -(2n ** 62n)], true)],
  [5, 0, bools([T, T, F])], [5, 2, intLiterals([1, 0], false)],
  [6, 1, utf8('k')], [6, 2, intLiterals([1], false)],
  [7, 1, intLiterals([1], true)],
  [8, 0, bools([T, T, F])], [8, 1, bools([T, F])],
  [9, 0, bools([T, F, T])], [9, 1, f64(1.5, -2.25)],
  [10, 0, bools([T, F, T])], [10, 1, [1, 2]], [10, 2, intLiterals([2, 0], false)],
  [11, 0, bools([T, T, F])], [11, 1, [...uvarint(zz(1234)), ...uvarint(zz(-5))]], [11, 5, intLiterals([2, 2], true)],
  [12, 1, intLiterals([19000, -1, 0], true)],
  // Seconds from 2015-01-01 and nanos with trailing zeros folded: 123 ms = 123 << 3 | 5 (6 zeros);
  // -1.5 s: seconds truncated toward zero (-1), 500 ms = 5 << 3 | 7 (8 zeros).
  [13, 0, bools([T, T, F])], [13, 1, intLiterals([TS0 / 1000n - 1_420_070_400n, -1n - 1_420_070_400n], true)], [13, 5, intLiterals([(123 << 3) | 5, (5 << 3) | 7], false)],
  [14, 0, bools([T, F, T])],
  [15, 0, bools([T, F])], [15, 1, intLiterals([7], true)],
];
const EXPECTED = [
  { i: 1, s: 'b', l: [10n, -(2n ** 62n)], m: new Map([['k', 1]]), b: true, d: 1.5, bin: Uint8Array.of(1, 2), dec: '12.34', dt: 19000, ts: TS0, st: { x: 7 } },
  { i: null, s: 'a', l: [], m: new Map(), b: false, d: null, bin: null, dec: '-0.05', dt: -1, ts: -1500n, st: null },
  { i: -3, s: 'b', l: null, m: null, b: null, d: -2.25, bin: new Uint8Array(0), dec: null, dt: 0, ts: null, st: { x: null } },
];

/** Writes the file above; `compress` frames each stream and tail section (identity for NONE). */
function writeOrc(codec: number, compress: (b: Uint8Array) => Uint8Array, rows = 3): Uint8Array {
  const data = STREAMS.map(([c, k, d]) => ({ c, k, d: compress(Uint8Array.from(d)) }));
  const stripeData = bytes(...data.map((s) => s.d));
  const encodings = TYPES.map((_, i) => pbBytes(2, pbInt(1, i === 2 ? 1 : 0).concat(i === 2 ? pbInt(2, 2) : [])));
  const stripeFooter = compress(bytes(...data.map((s) => pbBytes(1, [...pbInt(1, s.k), ...pbInt(2, s.c), ...pbInt(3, s.d.length)])), ...encodings));
  const types = TYPES.map(([kind, subs, names]) => pbBytes(4, [...pbInt(1, kind), ...(subs.length ? pbBytes(2, subs.flatMap((s) => uvarint(s))) : []), ...names.flatMap((nm) => pbBytes(3, utf8(nm)))]));
  const stripeInfo = pbBytes(3, [...pbInt(1, 3), ...pbInt(2, 0), ...pbInt(3, stripeData.length), ...pbInt(4, stripeFooter.length), ...pbInt(5, rows)]);
  const footer = compress(bytes(pbInt(1, 3), pbInt(2, 3 + stripeData.length + stripeFooter.length), stripeInfo, ...types, pbInt(6, rows)));
  const ps = bytes(pbInt(1, footer.length), pbInt(2, codec), pbInt(3, 262144), pbBytes(8000, utf8('ORC')));
  return bytes(utf8('ORC'), stripeData, stripeFooter, footer, ps, [ps.length]);
}
const chunk = (body: Uint8Array, original: boolean) => {
  const h = body.length * 2 + (original ? 1 : 0);
  return bytes([h & 0xff, (h >> 8) & 0xff, h >> 16], body);
};

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
