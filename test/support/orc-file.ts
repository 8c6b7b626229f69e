/**
 * A tiny ORC writer for tests (protobuf by hand, RLE v1 literals, one stripe) and the one file it
 * writes: every column type, with nulls. Shared by the Paimon manifest and Iceberg data-file tests.
 */
export const bytes = (...parts: (number[] | Uint8Array)[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
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
export const utf8 = (s: string) => [...new TextEncoder().encode(s)];
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
export const TS0 = 1_704_164_645_123n; // 2024-01-02T03:04:05.123Z in ms
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
export const EXPECTED = [
  { i: 1, s: 'b', l: [10n, -(2n ** 62n)], m: new Map([['k', 1]]), b: true, d: 1.5, bin: Uint8Array.of(1, 2), dec: '12.34', dt: 19000, ts: TS0, st: { x: 7 } },
  { i: null, s: 'a', l: [], m: new Map(), b: false, d: null, bin: null, dec: '-0.05', dt: -1, ts: -1500n, st: null },
  { i: -3, s: 'b', l: null, m: null, b: null, d: -2.25, bin: new Uint8Array(0), dec: null, dt: 0, ts: null, st: { x: null } },
];

/**
 * Writes the file above; `compress` frames each stream and tail section (identity for NONE).
 * `attributes` gives type attributes (ORC 1.6+: StringPair, field 7) by type index, e.g. `iceberg.id`.
 */
export function writeOrc(codec: number, compress: (b: Uint8Array) => Uint8Array, rows = 3, attributes: (type: number) => [string, string][] = () => []): Uint8Array {
  const data = STREAMS.map(([c, k, d]) => ({ c, k, d: compress(Uint8Array.from(d)) }));
  const stripeData = bytes(...data.map((s) => s.d));
  const encodings = TYPES.map((_, i) => pbBytes(2, pbInt(1, i === 2 ? 1 : 0).concat(i === 2 ? pbInt(2, 2) : [])));
  const stripeFooter = compress(bytes(...data.map((s) => pbBytes(1, [...pbInt(1, s.k), ...pbInt(2, s.c), ...pbInt(3, s.d.length)])), ...encodings));
  const attrs = (i: number) => attributes(i).flatMap(([k, v]) => pbBytes(7, [...pbBytes(1, utf8(k)), ...pbBytes(2, utf8(v))]));
  const types = TYPES.map(([kind, subs, names], i) =>
    pbBytes(4, [...pbInt(1, kind), ...(subs.length ? pbBytes(2, subs.flatMap((s) => uvarint(s))) : []), ...names.flatMap((nm) => pbBytes(3, utf8(nm))), ...(kind === 14 ? [...pbInt(5, 10), ...pbInt(6, 2)] : []), ...attrs(i)]),
  );
  const stripeInfo = pbBytes(3, [...pbInt(1, 3), ...pbInt(2, 0), ...pbInt(3, stripeData.length), ...pbInt(4, stripeFooter.length), ...pbInt(5, rows)]);
  const footer = compress(bytes(pbInt(1, 3), pbInt(2, 3 + stripeData.length + stripeFooter.length), stripeInfo, ...types, pbInt(6, rows)));
  const ps = bytes(pbInt(1, footer.length), pbInt(2, codec), pbInt(3, 262144), pbBytes(8000, utf8('ORC')));
  return bytes(utf8('ORC'), stripeData, stripeFooter, footer, ps, [ps.length]);
}
export const chunk = (body: Uint8Array, original: boolean) => {
  const h = body.length * 2 + (original ? 1 : 0);
  return bytes([h & 0xff, (h >> 8) & 0xff, h >> 16], body);
};
