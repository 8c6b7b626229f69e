import { Decimal, Field, Float64, Int64, makeVector, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, Utf8, makeData, type Data } from 'apache-arrow';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, describe, expect, it } from 'vitest';
import { compareValues, decodeSingleValue, formatDecimal, formatTimestamp, parseTimestamp, planScan, scanRows } from '../../core/lake';
import { convertArrowData } from '../../core/lake/arrow-values';
import { parseCanonicalTimestampMicros, parseSmallDecimal } from '../../core/lake/write/arrow-build';
import { appendArrow, columnsToArrow, computeMetrics, encodeAsciiStrings, createTable, highCardinalityColumns, rowsToArrow, seededWriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';
import { expectCode, plainRows } from './helpers';

const storage = createLocalStorage();
const work = mkdtempSync(join(tmpdir(), 'tidemark-arrow-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'created_at', type: 'timestamp' },
  { name: 'amount', type: 'decimal(18, 2)' },
];

function validity(valid: boolean[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const bits = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((v, i) => v && (bits[i >> 3]! |= 1 << (i & 7)));
  const nullCount = valid.filter((v) => !v).length;
  return nullCount ? { nullBitmap: bits, nullCount } : { nullCount: 0 };
}

/** A 4-row Arrow table built from raw buffers, as a columnar caller (the sync engine) would. */
function sampleTable(): Table {
  const enc = new TextEncoder();
  const names = ['zeta', 'éclair', '', 'alpha'].map((s) => enc.encode(s));
  const offsets = new Int32Array(5);
  names.forEach((n, i) => (offsets[i + 1] = offsets[i]! + n.length));
  const text = new Uint8Array(offsets[4]!);
  names.forEach((n, i) => text.set(n, offsets[i]!));
  const cents = [12345n, -250n, 0n, -99999999999n];
  const words = new Uint32Array(16);
  cents.forEach((c, i) => {
    let u = BigInt.asUintN(128, c);
    for (let w = 0; w < 4; w++, u >>= 32n) words[i * 4 + w] = Number(u & 0xffffffffn);
  });
  const fields = [
    new Field('id', new Int64(), false),
    new Field('name', new Utf8(), true),
    new Field('score', new Float64(), true),
    new Field('created_at', new TimestampMicrosecond(), true),
    new Field('amount', new Decimal(2, 18, 128), true),
  ];
  const n = 4;
  const children: Data[] = [
    makeData({ type: new Int64(), length: n, data: new BigInt64Array([5n, -(2n ** 40n), 7n, 2n ** 53n + 1n]) }),
    makeData({ type: new Utf8(), length: n, data: text, valueOffsets: offsets, ...validity([true, true, false, true]) }),
    makeData({ type: new Float64(), length: n, data: new Float64Array([1.5, NaN, -3.25, 0]) }),
    makeData({ type: new TimestampMicrosecond(), length: n, data: new BigInt64Array([1_700_000_000_000_001n, -1n, 0n, 86_400_000_000n]) }),
    makeData({ type: new Decimal(2, 18, 128), length: n, data: words }),
  ];
  const schema = new Schema(fields);
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]);
}

describe('appendArrow: columnar append without row objects', () => {
  it('writes the Arrow buffers with field ids and exact metrics; rows read back', async () => {
    const root = join(work, 'plain');
    const env = seededWriteEnv(31);
    await createTable(root, { columns: COLUMNS, env });
    await appendArrow(root, sampleTable(), { env, summary: { 'tidemark.batch': '1' } });
    const plan = await planScan(storage, root);
    expect(plan.snapshot!.summary).toMatchObject({ operation: 'append', 'added-records': '4', 'tidemark.batch': '1' });
    const rows = plainRows((await scanRows(storage, root)).rows);
    expect(rows).toEqual([
      { id: 5, name: 'zeta', score: 1.5, created_at: '2023-11-14T22:13:20.000001', amount: '123.45' },
      { id: -(2 ** 40), name: 'éclair', score: NaN, created_at: '1969-12-31T23:59:59.999999', amount: '-2.50' },
      { id: 7, name: null, score: -3.25, created_at: '1970-01-01T00:00:00.000000', amount: '0.00' },
      { id: '9007199254740993', name: 'alpha', score: 0, created_at: '1970-01-02T00:00:00.000000', amount: '-999999999.99' },
    ]);
    const d = plan.files[0]!.dataFile;
    const bound = (id: number, type: string) => [decodeSingleValue(type, d.lowerBounds!.get(id)!), decodeSingleValue(type, d.upperBounds!.get(id)!)];
    expect(bound(1, 'long')).toEqual([-(2n ** 40n), 2n ** 53n + 1n]);
    expect(bound(2, 'string')).toEqual(['alpha', 'éclair']); // UTF-8 byte order: é (0xC3) sorts after z
    expect(bound(3, 'double')).toEqual([-3.25, 1.5]); // NaN is never a bound
    expect(bound(4, 'timestamp')).toEqual(['1969-12-31T23:59:59.999999', '2023-11-14T22:13:20.000001']);
    expect(bound(5, 'decimal(18, 2)')).toEqual(['-999999999.99', '123.45']);
    expect([d.nullValueCounts!.get(2), d.nanValueCounts!.get(3), d.valueCounts!.get(1)]).toEqual([1, 1, 4]);
    const bytes = readFileSync(plan.files[0]!.path);
    const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    expect(md.schema.slice(1).map((s) => [s.name, s.field_id])).toEqual([['id', 1], ['name', 2], ['score', 3], ['created_at', 4], ['amount', 5]]);
  });

  it('missing optional columns are null; extra, mistyped or null-in-required columns are InvalidInput', async () => {
    const root = join(work, 'checks');
    const env = seededWriteEnv(32);
    await createTable(root, { columns: COLUMNS, env });
    const t = sampleTable();
    await appendArrow(root, t.select(['id', 'name']), { env });
    expect(plainRows((await scanRows(storage, root, { columns: ['id', 'score', 'amount'], limit: 1 })).rows)).toEqual([{ id: 5, score: null, amount: null }]);
    await expectCode(appendArrow(root, t.select(['name'])), 'InvalidInput', /required column id is missing/);
    const extra = new Table({ id: t.getChild('id')!, other: t.getChild('score')! });
    await expectCode(appendArrow(root, extra), 'InvalidInput', /column\(s\) other not in the table schema/);
    const int32 = new Table({ id: makeVector(Int32Array.from([1, 2])) });
    await expectCode(appendArrow(root, int32), 'InvalidInput', /column id \(long\) expects Arrow Int64, found Int32/);
    const nullIds = new Table(new Schema([new Field('id', new Int64(), true)]), [
      new RecordBatch(new Schema([new Field('id', new Int64(), true)]), makeData({ type: new Struct([new Field('id', new Int64(), true)]), length: 2, nullCount: 0, children: [makeData({ type: new Int64(), length: 2, data: new BigInt64Array(2), ...validity([true, false]) })] })),
    ]);
    await expectCode(appendArrow(root, nullIds), 'InvalidInput', /column id is required but 1 row\(s\) are null/);
  });

  it('partitioned tables: one partition writes the buffers as is, several split by partition', async () => {
    const root = join(work, 'parts');
    const env = seededWriteEnv(33);
    await createTable(root, { columns: COLUMNS, partitionBy: [{ column: 'created_at', transform: 'year' }], env });
    const t = sampleTable();
    await appendArrow(root, t.slice(2, 4), { env }); // both in 1970
    await appendArrow(root, t, { env }); // 2023, 1969, 1970
    const plan = await planScan(storage, root);
    expect(plan.files.map((f) => [Number(f.sequenceNumber), f.partition[0], f.recordCount]).sort()).toEqual([[1, 0, 2], [2, -1, 1], [2, 0, 2], [2, 53, 1]]);
    const rows = plainRows((await scanRows(storage, root)).rows);
    expect(rows.map((r) => r.id).sort()).toEqual([-(2 ** 40), 5, 7, 7, '9007199254740993', '9007199254740993'].sort());
  });
});

describe('column metrics on raw buffers equal a naive min/max over canonical values', () => {
  it('long, string, double, decimal with nulls (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
            name: fc.option(fc.string({ unit: 'grapheme', maxLength: 6 })),
            score: fc.option(fc.double().map((x) => (Object.is(x, -0) ? 0 : x))),
            amount: fc.option(fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n })),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        (gen) => {
          const rows = gen.map((r) => ({ id: r.id, name: r.name, score: r.score, amount: r.amount === null ? null : formatCents(r.amount) }));
          const fields = [
            { id: 1, name: 'id', type: 'long', required: true },
            { id: 2, name: 'name', type: 'string', required: false },
            { id: 3, name: 'score', type: 'double', required: false },
            { id: 4, name: 'amount', type: 'decimal(18, 2)', required: false },
          ];
          const whole = rowsToArrow({ fields }, rows);
          // Also a sliced table (offset chunks, as a caller's Table.slice gives) against the same rows.
          const cut = Math.floor(rows.length / 2);
          verify(computeMetrics(whole), rows);
          verify(computeMetrics(whole.slice(cut)), rows.slice(cut));
        },
      ),
      { numRuns: 300 },
    );
  });
});

const utf8 = (s: string) => Buffer.from(s, 'utf8');

function verify(m: ReturnType<typeof computeMetrics>, rows: { id: bigint; name: string | null; score: number | null; amount: string | null }[]) {
  const check = (id: number, type: string, values: unknown[], cmp: (a: unknown, b: unknown) => number) => {
    const present = values.filter((v) => v !== null && !(typeof v === 'number' && Number.isNaN(v))).sort(cmp);
    if (present.length === 0) {
      expect(m.lowerBounds.has(id)).toBe(false);
      return;
    }
    expect(decodeSingleValue(type, m.lowerBounds.get(id)!)).toEqual(present[0]);
    expect(decodeSingleValue(type, m.upperBounds.get(id)!)).toEqual(present.at(-1));
  };
  check(1, 'long', rows.map((r) => r.id), compareValues);
  check(2, 'string', rows.map((r) => r.name), (a, b) => Buffer.compare(utf8(a as string), utf8(b as string)));
  check(3, 'double', rows.map((r) => r.score), compareValues);
  check(4, 'decimal(18, 2)', rows.map((r) => r.amount), (a, b) => compareValues(BigInt(String(a).replace('.', '')), BigInt(String(b).replace('.', ''))));
  expect(m.nullValueCounts.get(2)).toBe(rows.filter((r) => r.name === null).length);
  expect(m.nanValueCounts.get(3)).toBe(rows.filter((r) => typeof r.score === 'number' && Number.isNaN(r.score)).length);
}

function formatCents(c: bigint): string {
  const neg = c < 0n;
  const a = neg ? -c : c;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

describe('row → Arrow fast paths agree with the general parsers', () => {
  it('timestamps, decimals and strings round-trip through rowsToArrow (property)', () => {
    const fields = [
      { id: 1, name: 'ts', type: 'timestamp', required: false },
      { id: 2, name: 'tz', type: 'timestamptz', required: false },
      { id: 3, name: 'small', type: 'decimal(9, 3)', required: false },
      { id: 4, name: 'big', type: 'decimal(38, 10)', required: false },
      { id: 5, name: 's', type: 'string', required: false },
    ];
    // ±2^55 µs reaches years outside the fast path's safe range (it must fall back, not corrupt).
    const micros = fc.bigInt({ min: -(2n ** 55n), max: 2n ** 55n });
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            ts: fc.option(micros),
            tz: fc.option(micros),
            small: fc.option(fc.bigInt({ min: -(10n ** 9n) + 1n, max: 10n ** 9n - 1n })),
            big: fc.option(fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n })),
            s: fc.option(fc.string({ unit: 'binary', maxLength: 8 })),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        (gen) => {
          const rows = gen.map((g) => ({
            ts: g.ts === null ? null : formatTimestamp(g.ts, false),
            tz: g.tz === null ? null : formatTimestamp(g.tz, true).replace('+00:00', 'Z'),
            small: g.small === null ? null : formatDecimal(g.small, 3),
            big: g.big === null ? null : formatDecimal(g.big, 10),
            s: g.s,
          }));
          const table = rowsToArrow({ fields }, rows);
          const back = fields.map((f, k) => convertArrowData(table.getChildAt(k)!.data[0]!, f.type, f.name));
          rows.forEach((r, i) => {
            expect(back[0]![i]).toBe(r.ts);
            expect(back[1]![i]).toBe(r.tz === null ? null : r.tz.replace('Z', '+00:00'));
            expect(back[2]![i]).toBe(r.small);
            expect(back[3]![i]).toBe(r.big);
            // Lone surrogates become U+FFFD in UTF-8, as TextEncoder does.
            expect(back[4]![i]).toBe(r.s === null ? null : new TextDecoder().decode(new TextEncoder().encode(r.s)));
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the canonical timestamp fast path equals parseTimestamp or declines', () => {
    for (const text of ['2024-05-01T12:00:00', '2024-05-01 12:00:00.5', '1969-12-31T23:59:59.999999Z', '2024-02-29T00:00:00.123456789+00:00', '0099-01-01T00:00:00', '2024-05-01T12:00:00+02:00', '2024-13-01T00:00:00', '2024-05-01T12:00']) {
      const fast = parseCanonicalTimestampMicros(text);
      if (fast !== null) expect(BigInt(fast), text).toBe(parseTimestamp(text));
    }
    expect(parseCanonicalTimestampMicros('2024-05-01T12:00:00+02:00')).toBeNull();
    expect(parseCanonicalTimestampMicros('0099-01-01T00:00:00')).toBeNull();
    expect(parseSmallDecimal('-1.5', 2)).toBe(-150);
    expect(parseSmallDecimal('1.555', 2)).toBeNull();
    expect(parseSmallDecimal('1234567890123456', 0)).toBeNull();
  });
});

describe('dictionary encoding only where values repeat', () => {
  it('high-cardinality columns are written plain, repetitive ones keep a dictionary; data reads back', async () => {
    const n = 5000;
    const rows = Array.from({ length: n }, (_, i) => ({ id: BigInt(i * 7919), name: `city-${i % 12}`, score: i / 3, created_at: null, amount: i % 2 ? '1.00' : '2.00' }));
    const table = rowsToArrow({ fields: COLUMNS.map((c, i) => ({ id: i + 1, name: c.name, type: c.type, required: c.required ?? false })) }, rows);
    expect(highCardinalityColumns(table)).toEqual(['id', 'score']);
    expect(highCardinalityColumns(table.slice(0, 100))).toEqual([]); // small files keep the default
    const root = join(work, 'dict');
    const env = seededWriteEnv(34);
    await createTable(root, { columns: COLUMNS, env });
    await appendArrow(root, table, { env });
    const plan = await planScan(storage, root);
    const bytes = readFileSync(plan.files[0]!.path);
    const md = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const encodings = Object.fromEntries(md.row_groups[0]!.columns.map((c) => [c.meta_data!.path_in_schema.join('.'), c.meta_data!.encodings.includes('RLE_DICTIONARY')]));
    expect(encodings).toEqual({ id: false, name: true, score: false, created_at: true, amount: true });
    const back = plainRows((await scanRows(storage, root)).rows);
    expect(back.length).toBe(n);
    expect(back[4999]).toEqual({ id: 4999 * 7919, name: 'city-7', score: 4999 / 3, created_at: null, amount: '1.00' });
  });
});

describe('fixed-width columns (typed arrays as the CDC sink hands them over)', () => {
  it('build the same vectors as their plain values, nulls included; a mismatched array is Internal', () => {
    const fields = [
      { id: 1, name: 'id', type: 'long', required: true },
      { id: 2, name: 'n', type: 'int', required: false },
      { id: 3, name: 'x', type: 'double', required: false },
      { id: 4, name: 'ok', type: 'boolean', required: false },
      { id: 5, name: 'at', type: 'timestamptz', required: false },
    ];
    const n = 70;
    const isNull = (i: number) => i % 9 === 4;
    const nulls = Uint8Array.from({ length: n }, (_, i) => (isNull(i) ? 1 : 0));
    const plain = {
      id: Array.from({ length: n }, (_, i) => BigInt(i) - 3n),
      n: Array.from({ length: n }, (_, i) => (isNull(i) ? null : i * 1000 - 7)),
      x: Array.from({ length: n }, (_, i) => (isNull(i) ? null : i / 3)),
      ok: Array.from({ length: n }, (_, i) => (isNull(i) ? null : i % 3 === 0)),
      at: Array.from({ length: n }, (_, i) => (isNull(i) ? null : 1_700_000_000_000_000n + BigInt(i))),
    };
    const typed = {
      id: { values: BigInt64Array.from(plain.id), nulls: null },
      n: { values: Int32Array.from(plain.n, (v) => v ?? 0), nulls },
      x: { values: Float64Array.from(plain.x, (v) => v ?? 0), nulls },
      ok: { values: Uint8Array.from(plain.ok, (v) => (v ? 1 : 0)), nulls },
      at: { values: BigInt64Array.from(plain.at, (v) => v ?? 0n), nulls },
    };
    const a = columnsToArrow(fields, plain, n);
    const b = columnsToArrow(fields, typed, n);
    expect(b.toArray().map((r) => r.toJSON())).toEqual(a.toArray().map((r) => r.toJSON()));
    expect(computeMetrics(b)).toEqual(computeMetrics(a));
    expect(() => columnsToArrow(fields, { ...typed, n: { values: new Float64Array(n), nulls: null } }, n)).toThrow('column n (int) was handed over as Float64Array');
    // Strings as UTF-8 bytes (all ASCII): the same vector; anything else declines.
    const text = [{ id: 6, name: 's', type: 'string', required: false }];
    const strings = Array.from({ length: n }, (_, i) => (isNull(i) ? null : i % 5 === 0 ? '' : `v${i}`));
    const bytes = encodeAsciiStrings(strings)!;
    expect(columnsToArrow(text, { s: bytes }, n).toArray().map((r) => r.toJSON())).toEqual(columnsToArrow(text, { s: strings }, n).toArray().map((r) => r.toJSON()));
    expect(encodeAsciiStrings(['a', 'é'])).toBeNull();
    expect(encodeAsciiStrings(['a', 1])).toBeNull();
  });
});
