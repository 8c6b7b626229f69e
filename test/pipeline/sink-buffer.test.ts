import { describe, expect, it } from 'vitest';
import { concatChanges, netChanges, TableBuffer, toColumnDelta, toWritableColumns, type SealedChanges } from '../../core/pipeline/sink/buffer';
import { ColumnBuilder, columnValues, isTypedColumn, isUtf8Column, transferablesOf } from '../../core/pipeline/sink/columns';
import type { SnapshotColumns } from '../../core/cdc';

/** A buffer over columns of the given lake types (`k` or `id` … the key). */
const bufferOf = (table: string, key: string[], columns: Record<string, string>) => new TableBuffer(table, key, Object.entries(columns).map(([name, type]) => ({ name, type })));

/** The net effect as rows: positions of the sealed round → row objects (deletes: their key columns). */
function netRows(s: SealedChanges) {
  const { delta, rows } = toColumnDelta(s);
  const toRows = (b: { length: number; columns: Record<string, unknown[]> } | undefined) =>
    Array.from({ length: b?.length ?? 0 }, (_, i) => Object.fromEntries(Object.entries(b!.columns).map(([name, values]) => [name, values[i]])));
  const { inserts, upserts } = netChanges(s);
  const added = toRows(delta.added);
  return { inserts: added.slice(0, inserts.length), upserts: added.slice(inserts.length), deleteKeys: toRows(delta.deleteKeys).slice(upserts.length), rows };
}

describe('TableBuffer: net changes per key within one commit round', () => {
  it('int key: insert then update stays an insert; delete of a new key vanishes; delete of an old key is a key delete', () => {
    const b = bufferOf('app.t', ['id'], { id: 'int', v: 'string' });
    b.put({ id: 1, v: 'a' }, false);
    b.delete({ id: 1, v: 'a' });
    b.put({ id: 1, v: 'b' }, true); // the after image of an update of a row inserted this round
    b.put({ id: 2, v: 'x' }, false);
    b.delete({ id: 2, v: 'x' });
    b.delete({ id: 3, v: 'old' });
    b.put({ id: 4, v: 'u' }, true);
    expect(b.changes).toBe(7);
    const s = b.seal();
    expect(b.empty).toBe(true);
    expect(netRows(s)).toEqual({ inserts: [{ id: 1, v: 'b' }], upserts: [{ id: 4, v: 'u' }], deleteKeys: [{ id: 3 }], rows: 3 });
    // The equality deletes hold the upserted keys, then the deleted ones.
    expect(toColumnDelta(b.seal()).rows).toBe(0);
  });

  it('bigint, string, binary and composite keys keep distinct values apart and equal values together', () => {
    const b = bufferOf('app.t', ['k'], { k: 'long', v: 'int' });
    b.put({ k: 9007199254740993n, v: 1 }, false);
    b.put({ k: 9007199254740993n, v: 2 }, true);
    b.put({ k: 9007199254740992n, v: 3 }, false);
    expect(netRows(b.seal()).inserts).toEqual([{ k: 9007199254740993n, v: 2 }, { k: 9007199254740992n, v: 3 }]);

    const s = bufferOf('app.s', ['k'], { k: 'string', v: 'string' });
    s.put({ k: '1', v: 'text' }, false);
    s.put({ k: 'N', v: 'letter N' }, false);
    s.delete({ k: null, v: 'null key' });
    expect(netRows(s.seal())).toEqual({ inserts: [{ k: '1', v: 'text' }, { k: 'N', v: 'letter N' }], upserts: [], deleteKeys: [{ k: null }], rows: 3 });

    const bin = bufferOf('app.b', ['k'], { k: 'binary', v: 'int' });
    bin.put({ k: new Uint8Array([1, 2]), v: 1 }, false);
    bin.put({ k: new Uint8Array([1, 2]), v: 2 }, true);
    expect(netRows(bin.seal()).inserts).toEqual([{ k: new Uint8Array([1, 2]), v: 2 }]);

    const c = bufferOf('app.c', ['a', 'b'], { a: 'int', b: 'string', v: 'int' });
    c.put({ a: 1, b: 'x', v: 1 }, false);
    c.put({ a: 1, b: 'y', v: 2 }, false);
    c.delete({ a: 1, b: 'x', v: 1 });
    c.delete({ a: 2, b: 'z', v: 0 });
    expect(netRows(c.seal())).toEqual({ inserts: [{ a: 1, b: 'y', v: 2 }], upserts: [], deleteKeys: [{ a: 2, b: 'z' }], rows: 2 });
  });

  it('source values become lake values before keys are compared: a number and the bigint read back from the table are one key', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long', at: 'timestamp' });
    b.put({ id: 7, at: 1_700_000_000_000_000n }, false);
    b.delete({ id: 7n }); // a TRUNCATE's key, read back from the lake
    b.put({ ID: 8, AT: '2024-01-01T00:00:00' }, false); // a projection may spell column names differently
    expect(netRows(b.seal())).toEqual({ inserts: [{ id: 8n, at: '2024-01-01T00:00:00' }], upserts: [], deleteKeys: [], rows: 1 });
  });

  it('increasing integer inserts are the round as it is; a repeated key among them is still merged', () => {
    const b = bufferOf('app.t', ['id'], { id: 'int', v: 'string' });
    for (let i = 1; i <= 5; i++) b.put({ id: i, v: `r${i}` }, false);
    const s = b.seal();
    expect(netChanges(s)).toEqual({ inserts: [0, 1, 2, 3, 4], upserts: [], deletes: [] });
    expect(toColumnDelta(s).delta.added!.columns.v).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);

    [1, 2, 2, 3].forEach((id, i) => b.put({ id, v: `c${i}` }, false));
    const again = b.seal();
    expect(netChanges(again)).toEqual({ inserts: [0, 2, 3], upserts: [], deletes: [] });
    expect(toColumnDelta(again).delta.added!.columns.v).toEqual(['c0', 'c2', 'c3']);
  });

  it('a round taken in parts and concatenated is the round sealed at once', () => {
    const changes = (b: TableBuffer, split: boolean) => {
      const parts: SealedChanges[] = [];
      for (let i = 0; i < 10; i++) {
        b.put({ id: i % 4, v: `p${i}` }, i > 3);
        if (i % 3 === 0) b.delete({ id: (i + 1) % 4 });
        if (split && b.pending >= 4) parts.push(b.take());
      }
      expect(b.changes).toBe(14);
      parts.push(b.seal());
      expect(b.changes).toBe(0);
      return parts;
    };
    const parts = changes(bufferOf('app.t', ['id'], { id: 'int', v: 'string' }), true);
    expect(parts.length).toBe(4);
    const whole = changes(bufferOf('app.t', ['id'], { id: 'int', v: 'string' }), false);
    expect(whole.length).toBe(1);
    // Concatenated parts hold plain values; the round sealed at once holds its int column typed.
    const plain = (c: SealedChanges) => ({ ...c, values: c.values.map((v) => columnValues(v, c.count)) });
    expect(concatChanges(parts)).toEqual(plain(whole[0]!));
    expect(netRows(concatChanges(parts))).toEqual(netRows(whole[0]!));
  });

  it('a table without key takes inserts only, failing loudly on updates and deletes', () => {
    const b = bufferOf('app.log', [], { line: 'string' });
    b.put({ line: 'a' }, false);
    b.put({ line: 'a' }, false);
    expect(netChanges(b.seal())).toEqual({ inserts: [0, 1], upserts: [], deletes: [] });
    expect(() => b.put({ line: 'b' }, true)).toThrow('app.log has no primary key: an update cannot be applied (set primary-keys in a transform)');
    expect(() => b.delete({ line: 'b' })).toThrow('app.log has no primary key: a delete cannot be applied (set primary-keys in a transform)');
  });

  it('a value that does not fit its column fails at the commit, naming table and column', () => {
    const b = bufferOf('app.t', ['id'], { id: 'int', n: 'int' });
    b.put({ id: 1, n: 'many' }, false);
    expect(() => toColumnDelta(b.seal())).toThrow(/app\.t\.n/);
  });
});

describe('part columns: typed while every value has its lake type\'s source form', () => {
  it('bigint, number and boolean columns stay typed with their nulls; other types are plain', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long', n: 'int', x: 'double', ok: 'boolean', at: 'timestamp', s: 'string' });
    for (let i = 0; i < 600; i++) b.put({ id: BigInt(i), n: i % 7 === 0 ? null : i, x: i / 4, ok: i % 2 === 0, at: 1_700_000_000_000_000n + BigInt(i), s: `s${i}` }, false);
    const s = b.seal(true);
    const [id, n, x, ok, at, str] = s.values;
    expect([id, n, x, ok, at].every((c) => isTypedColumn(c!))).toBe(true);
    expect(isTypedColumn(str!)).toBe(false);
    expect(columnValues(id!, s.count).slice(598)).toEqual([598n, 599n]);
    expect(columnValues(n!, s.count).slice(0, 3)).toEqual([null, 1, 2]);
    expect(columnValues(ok!, s.count).slice(0, 2)).toEqual([true, false]);
    // Every typed buffer moves to the worker with the part.
    expect(transferablesOf(s.values).length).toBe(6);
    const written = toWritableColumns(s);
    expect(written.id).toEqual({ values: new BigInt64Array(Array.from({ length: 600 }, (_, i) => BigInt(i))), nulls: null });
    expect((written.n as { values: Int32Array }).values).toBeInstanceOf(Int32Array);
    expect(written.s).toEqual(Array.from({ length: 600 }, (_, i) => `s${i}`));
  });

  it('a value of another form turns the column plain from there on, keeping every value', () => {
    const values: unknown[] = [1n, null, 2n ** 63n, 3n, 'x', 5];
    const c = new ColumnBuilder('long');
    for (const v of values.slice(0, 2)) c.push(v);
    expect(isTypedColumn(c.finish())).toBe(true);
    for (const v of values.slice(2)) c.push(v); // 2^63 does not fit an int64: plain from there on
    expect(c.finish()).toEqual(values);
    const n = new ColumnBuilder('int');
    n.push(1);
    n.push(2n);
    expect(n.finish()).toEqual([1, 2n]);
  });

  it('an int column with a value that is not an integer is converted as a plain one (and fails naming the column)', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long', n: 'int' });
    b.put({ id: 1n, n: 1.5 }, false);
    const s = b.seal(true);
    expect(isTypedColumn(s.values[1]!)).toBe(true);
    expect(() => toWritableColumns(s)).toThrow(/app\.t\.n/);
  });

  it('a streamed part carries its ASCII string columns as UTF-8 bytes; other strings and held parts stay plain', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long', s: 'string', u: 'string', d: 'decimal(9,2)' });
    b.streamRoot = '/lake/app/t';
    for (let i = 0; i < 5; i++) b.put({ id: BigInt(i), s: i === 2 ? null : `s${i}`, u: `ü${i}`, d: `${i}.00` }, false);
    const streamed = b.seal(true);
    expect(streamed.stream).toBeDefined();
    const [, s1, u1, d1] = streamed.values;
    expect(isUtf8Column(s1!)).toBe(true);
    expect(columnValues(s1!, streamed.count)).toEqual(['s0', 's1', null, 's3', 's4']);
    expect(Array.isArray(u1) && Array.isArray(d1)).toBe(true); // not ASCII; not a string column
    expect(transferablesOf(streamed.values).length).toBe(4); // id's data; s's data, offsets, nulls
    const written = toWritableColumns(streamed);
    expect(written.s).toEqual({ offsets: Int32Array.from([0, 2, 4, 4, 6, 8]), data: new Uint8Array(Buffer.from('s0s1s3s4')), nulls: Uint8Array.from([0, 0, 1, 0, 0]) });
    b.put({ id: 1n, s: 'a', u: 'b', d: '1.00' }, true);
    expect(Array.isArray(b.seal(true).values[1])).toBe(true); // an update: held
  });
});

describe('putRows: a snapshot chunk put a row range at a time', () => {
  const columns = { id: 'long', n: 'int', s: 'string', ts: 'timestamp', tz: 'timestamptz', b: 'boolean', d: 'double' };
  const INT64_EDGES = [0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32, -(2 ** 32), 2 ** 32 + 1, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1_704_067_200_000_001, -62_135_596_800_000_000];

  it('holds the same part as put row by row, int64 numbers as the bigints of their values', () => {
    // Canonical rows (bigints) through put, and the same rows with int64 columns as numbers through putRows.
    const canonical = INT64_EDGES.map((v, i) => ({ id: BigInt(v), n: i % 3 === 0 ? null : i, s: `s${i}`, ts: BigInt(-v), tz: i % 4 === 0 ? null : BigInt(v), b: i % 2 === 0, d: i / 3 }));
    const numbers = INT64_EDGES.map((v, i) => ({ id: v, n: i % 3 === 0 ? null : i, s: `s${i}`, ts: -v === 0 ? 0 : -v, tz: i % 4 === 0 ? null : v, b: i % 2 === 0, d: i / 3 }));
    const byRow = bufferOf('app.t', ['id'], columns);
    for (const r of canonical) byRow.put(r, true);
    const byRange = bufferOf('app.t', ['id'], columns);
    byRange.putRows(numbers, 0, 5, true, ['id', 'ts', 'tz']);
    byRange.putRows(numbers, 5, numbers.length, true, ['id', 'ts', 'tz']);
    const a = byRow.seal();
    const b = byRange.seal();
    expect(b.count).toBe(INT64_EDGES.length);
    expect(b.ops).toEqual(a.ops);
    for (const c of [0, 3, 4]) expect(isTypedColumn(b.values[c]!)).toBe(true);
    expect(b.values.map((c) => columnValues(c, b.count))).toEqual(a.values.map((c) => columnValues(c, a.count)));
    expect(columnValues(b.values[0]!, b.count)).toEqual(INT64_EDGES.map((v) => BigInt(v)));
  });

  it('past its first capacity, and into a column that is plain or of another type: the values stay the bigints', () => {
    const n = 1000;
    const rows = Array.from({ length: n }, (_, i) => ({ id: i * 2 ** 40 - 5, ts: i === 700 ? 'not a number' : -i * 2 ** 33, v: i }));
    // `ts` turns plain at row 700 (a string), `v` (int64 numbers into an int column) holds bigints as put gives them.
    const b = bufferOf('app.t', ['id'], { id: 'long', ts: 'timestamp', v: 'int' });
    b.putRows(rows, 0, n, false, ['id', 'ts', 'v']);
    const s = b.seal();
    expect(columnValues(s.values[0]!, n)).toEqual(rows.map((r) => BigInt(r.id)));
    expect(isTypedColumn(s.values[1]!)).toBe(false);
    expect(columnValues(s.values[1]!, n)).toEqual(rows.map((r) => (typeof r.ts === 'number' ? BigInt(r.ts) : r.ts)));
    expect(columnValues(s.values[2]!, n)).toEqual(rows.map((r) => BigInt(r.v)));
  });

  it('keeps the round streamable only while keys increase, and fails on updates of a table without key', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long' });
    b.streamRoot = '/lake/app/t';
    b.putRows([{ id: 1 }, { id: 2 }, { id: 3 }], 0, 3, false, ['id']);
    expect(b.streaming).toBe(true);
    b.putRows([{ id: 3 }], 0, 1, false, ['id']);
    expect(b.streaming).toBe(false);
    expect(() => bufferOf('app.k', [], { v: 'int' }).putRows([{ v: 1 }], 0, 1, true)).toThrow('app.k has no primary key: an update cannot be applied');
  });
});

describe('putColumns: a snapshot chunk in column form (text-columns.ts)', () => {
  const columns = { id: 'long', n: 'int', s: 'string', ts: 'timestamp', b: 'boolean', d: 'double', p: 'decimal(9,2)', gone: 'string' };
  const rows = Array.from({ length: 700 }, (_, i) => ({
    id: BigInt(i * 2 ** 33 + 1),
    n: i % 5 === 0 ? null : i - 300,
    s: i % 7 === 0 ? null : i % 3 === 0 ? `ünï-${i}` : `s${i}`,
    ts: BigInt(-i * 1_000_001),
    b: i % 11 === 0 ? null : i % 2 === 0,
    d: i / 8,
    p: `${i}.25`,
  }));
  /** The rows as a chunk: typed, UTF-8 and plain columns, names in another order and case than the buffer's. */
  function chunkOf(): SnapshotColumns {
    const nulls = (pick: (r: (typeof rows)[number]) => unknown) => {
      const out = new Uint8Array(rows.length);
      rows.forEach((r, i) => (out[i] = pick(r) === null ? 1 : 0));
      return out;
    };
    const strings = rows.map((r) => Buffer.from(r.s ?? '', 'utf8'));
    const offsets = new Int32Array(rows.length + 1);
    strings.forEach((x, i) => (offsets[i + 1] = offsets[i]! + x.length));
    return {
      table: { db: 'app', table: 't' },
      count: rows.length,
      names: ['P', 'd', 'B', 'ts', 'S', 'n', 'ID'],
      columns: [
        rows.map((r) => r.p),
        { form: 'number', data: Float64Array.from(rows, (r) => r.d), nulls: null },
        { form: 'boolean', data: Uint8Array.from(rows, (r) => (r.b ? 1 : 0)), nulls: nulls((r) => r.b) },
        { form: 'bigint', data: BigInt64Array.from(rows, (r) => r.ts), nulls: null },
        { form: 'utf8', offsets, data: new Uint8Array(Buffer.concat(strings)), nulls: nulls((r) => r.s) },
        { form: 'number', data: Float64Array.from(rows, (r) => r.n ?? 0), nulls: nulls((r) => r.n) },
        { form: 'bigint', data: BigInt64Array.from(rows, (r) => r.id), nulls: null },
      ],
    };
  }

  it('holds the same part as put row by row, in slices, with a buffer column the chunk lacks as nulls', () => {
    const byRow = bufferOf('app.t', ['id'], columns);
    for (const r of rows) byRow.put({ ...r, gone: null }, false);
    byRow.put({ id: 9n, n: 1, s: 'after', ts: 1n, b: true, d: 0.5, p: '1.00', gone: 'x' }, true);
    const byChunk = bufferOf('app.t', ['id'], columns);
    const chunk = chunkOf();
    byChunk.putColumns(chunk, 0, 300, false);
    byChunk.putColumns(chunk, 300, rows.length, false);
    // A change event after the chunk in the same round: a string pushed into the UTF-8 column.
    byChunk.put({ id: 9n, n: 1, s: 'after', ts: 1n, b: true, d: 0.5, p: '1.00', gone: 'x' }, true);
    const a = byRow.seal();
    const b = byChunk.seal();
    expect(b.ops).toEqual(a.ops);
    expect(isUtf8Column(b.values[2]!)).toBe(true);
    for (const c of [0, 1, 3, 4, 5]) expect(isTypedColumn(b.values[c]!)).toBe(true);
    expect(b.values.map((c) => columnValues(c, b.count))).toEqual(a.values.map((c) => columnValues(c, a.count)));
    // A held part goes to the worker as it is: its UTF-8 buffers are transferred.
    expect(transferablesOf(b.values).length).toBeGreaterThan(5);
  });

  it('a non-string value into a UTF-8 column turns it plain, keeping every value', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long', s: 'string' });
    b.putColumns(chunkOf(), 0, 3, false);
    b.put({ id: 100n, s: 42 }, false);
    const s = b.seal();
    expect(columnValues(s.values[1]!, s.count)).toEqual([null, 's1', 's2', 42]);
  });

  it('keeps the round streamable only while keys increase', () => {
    const b = bufferOf('app.t', ['id'], { id: 'long' });
    b.streamRoot = '/lake/app/t';
    const chunk = chunkOf();
    b.putColumns(chunk, 0, 10, false);
    b.putColumns(chunk, 10, 20, false);
    expect(b.streaming).toBe(true);
    b.putColumns(chunk, 5, 6, false);
    expect(b.streaming).toBe(false);
  });
});
