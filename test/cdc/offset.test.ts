import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { comparePositions, decodeOffset, encodeOffset, type SourceOffset } from '../../core/cdc/offset';
import { isTidemarkError } from '../../core/errors/index';

const tableId = fc.record({ db: fc.string({ minLength: 1 }), table: fc.string({ minLength: 1 }) });
const offsetArb: fc.Arbitrary<SourceOffset> = fc.record({
  file: fc.string({ minLength: 1 }),
  pos: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  gtidSet: fc.option(fc.string(), { nil: null }),
  snapshot: fc.option(
    fc.array(tableId, { minLength: 1, maxLength: 5 }).chain((tables) =>
      fc.record({
        tables: fc.constant(tables),
        tableIndex: fc.integer({ min: 0, max: tables.length }),
        lastKey: fc.option(fc.bigInt().map(String), { nil: null }),
        chunks: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
      }),
    ),
    { nil: null },
  ),
  schemas: fc.option(
    fc.array(
      fc.record({
        table: tableId,
        primaryKey: fc.array(fc.string()),
        columns: fc.array(
          fc.record({ name: fc.string(), mysqlType: fc.string(), icebergType: fc.constant({ type: 'int' as const }), nullable: fc.boolean(), position: fc.nat() }),
        ),
      }),
    ),
    { nil: null },
  ),
});

describe('source offsets', () => {
  it('property: decode(encode(o)) equals o, 64-bit positions included', () => {
    fc.assert(
      fc.property(offsetArb, (o) => {
        expect(decodeOffset(encodeOffset(o))).toEqual(o);
      }),
    );
  });

  it('encodes positions as decimal strings', () => {
    const text = encodeOffset({ file: 'binlog.000002', pos: 2n ** 40n, gtidSet: '0-1-7', snapshot: null, schemas: null });
    expect(JSON.parse(text)).toEqual({ file: 'binlog.000002', pos: '1099511627776', gtidSet: '0-1-7', snapshot: null, schemas: null });
  });

  it('property: random text decodes or throws only InvalidInput', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        try {
          decodeOffset(text);
        } catch (e) {
          expect(isTidemarkError(e) && e.code === 'InvalidInput').toBe(true);
        }
      }),
    );
  });

  it('can leave the schema history out', () => {
    const schemas = [{ table: { db: 'a', table: 't' }, primaryKey: ['id'], columns: [{ name: 'id', mysqlType: 'int', icebergType: { type: 'int' as const }, nullable: false, position: 1 }] }];
    const o = { file: 'binlog.000001', pos: 4n, gtidSet: null, snapshot: null, schemas };
    expect(decodeOffset(encodeOffset(o)).schemas).toEqual(schemas);
    expect(decodeOffset(encodeOffset(o, { schemas: false })).schemas).toBeNull();
  });

  it('names the bad field', () => {
    expect(() => decodeOffset('{"file":"b.000001","pos":"-1","gtidSet":null,"snapshot":null}')).toThrowError(/field "pos" must be a decimal string/);
    expect(() => decodeOffset('{"file":"b.000001","pos":"4","snapshot":{"tables":[],"tableIndex":3,"lastKey":null}}')).toThrowError(
      /snapshot.tableIndex/,
    );
    expect(() => decodeOffset('{"file":"b.000001","pos":"4","snapshot":{"tables":[],"tableIndex":0,"lastKey":"[1]","chunks":0}}')).toThrowError(
      /field "snapshot.chunks" must be a positive integer/,
    );
  });

  it('orders positions across rotated files by sequence number', () => {
    expect(comparePositions({ file: 'binlog.000009', pos: 900n }, { file: 'binlog.000010', pos: 4n })).toBeLessThan(0);
    expect(comparePositions({ file: 'binlog.000010', pos: 5n }, { file: 'binlog.000010', pos: 4n })).toBeGreaterThan(0);
    expect(comparePositions({ file: 'binlog.000010', pos: 4n }, { file: 'binlog.000010', pos: 4n })).toBe(0);
  });
});
