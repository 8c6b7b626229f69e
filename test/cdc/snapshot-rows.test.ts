import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SchemaCatalog } from '../../core/cdc/schema/catalog';
import { int64NumberColumns, snapshotRowConverter } from '../../core/cdc/snapshot/rows';
import { COLUMNS, config, outcome, rawRow, schemaOf, viaCatalog } from './snapshot-samples';

describe('snapshot row conversion', () => {
  const schema = schemaOf(COLUMNS);
  const catalog = new SchemaCatalog(config);
  catalog.set(schema);
  const names = COLUMNS.map((c) => c.at(0) as string);

  it('gives exactly the catalog’s values for every column kind (random rows from each column’s samples)', () => {
    const convert = snapshotRowConverter(schema, names)!;
    expect(convert).not.toBeNull();
    const rowArb = fc.tuple(...COLUMNS.map(([, , , samples]) => fc.constantFrom(...samples)));
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 5 }), (rows) => {
        const raws = rows.map((values) => rawRow(names, values));
        const expected = viaCatalog(catalog, schema, raws);
        expect(raws.map((r) => convert(r))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('with int64Numbers: the catalog’s values, a safe long or timestamp as the number of its bigint', () => {
    const convert = snapshotRowConverter(schema, names, { int64Numbers: true })!;
    const int64 = int64NumberColumns(schema, names);
    expect(int64).toEqual(['u32', 'big', 'at', 'at0', 'ts']);
    const rowArb = fc.tuple(...COLUMNS.map(([, , , samples]) => fc.constantFrom(...samples)));
    let numbers = 0;
    fc.assert(
      fc.property(fc.array(rowArb, { minLength: 1, maxLength: 5 }), (rows) => {
        const raws = rows.map((values) => rawRow(names, values));
        const expected = viaCatalog(catalog, schema, raws);
        const ours = raws.map((r) => convert(r));
        for (const row of ours) {
          for (const name of Object.keys(row)) {
            if (typeof row[name] !== 'number' || !int64.includes(name)) continue;
            expect(Number.isSafeInteger(row[name])).toBe(true);
            row[name] = BigInt(row[name]);
            numbers++;
          }
        }
        expect(ours).toEqual(expected);
      }),
      { numRuns: 300 },
    );
    expect(numbers).toBeGreaterThan(0);
    // Past 2^53 µs (after year ~2255) a timestamp stays a bigint; a zero date in a NOT NULL column is 0n as the catalog gives it.
    const far = snapshotRowConverter(schema, ['id', 'at0'], { int64Numbers: true })!;
    expect(far(rawRow(['id', 'at0'], [1, '9999-12-31 23:59:59']))).toEqual({ id: 1, at0: 253402300799000000n });
    expect(far(rawRow(['id', 'at0'], [1, '0000-00-00 00:00:00']))).toEqual({ id: 1, at0: 0n });
    expect(far(rawRow(['id', 'at0'], [1, '2024-01-01 00:00:00']))).toEqual({ id: 1, at0: 1704067200000000 });
    for (const [column, bad] of [
      ['at', 'yesterday'],
      ['big', 'x'],
      ['ts', '2024-13-01 00:00:00.000x'],
    ] as const) {
      const row = () => rawRow(['id', column], [1, bad]);
      const ours = outcome(() => snapshotRowConverter(schema, ['id', column], { int64Numbers: true })!(row()));
      expect(ours).toMatchObject({ error: 'DataInvalid' });
      expect(ours).toEqual(outcome(() => viaCatalog(catalog, schema, [row()])));
    }
  });

  it('undefined becomes null and values already canonical pass through', () => {
    const convert = snapshotRowConverter(schema, ['id', 'name', 'big'])!;
    expect(convert({ id: 7, name: undefined, big: 5n })).toEqual({ id: 7, name: null, big: 5n });
  });

  it('a value that does not convert fails as the catalog’s path does, naming the column', () => {
    for (const [column, bad] of [
      ['price', '1.234'],
      ['tod', '24:00:00'],
      ['at', 'yesterday'],
      ['id', 'x'],
    ] as const) {
      const row = () => rawRow(['id', column], [1, bad]);
      const ours = outcome(() => snapshotRowConverter(schema, ['id', column])!(row()));
      const reference = outcome(() => viaCatalog(catalog, schema, [row()]));
      expect(ours).toMatchObject({ error: 'DataInvalid' });
      expect(ours).toEqual(reference);
    }
  });

  it('a column the schema does not have (DDL during the drain) yields no converter: the caller takes the catalog’s path', () => {
    expect(snapshotRowConverter(schema, ['id', 'dropped'])).toBeNull();
    expect(snapshotRowConverter(schema, ['ID'])).toBeNull(); // names compare exactly, as the catalog's codecs do
    expect(snapshotRowConverter(schema, ['__proto__'])).toBeNull();
  });

  it('names are only data in the generated code', () => {
    const odd = ['id', 'a"b', 'c\\d', '`e`', '}); throw 1; ({', 'ü ✓'];
    const s = schemaOf(odd.map((n, i) => [n, i === 0 ? 'int(11)' : 'varchar(8)', true, []]));
    const convert = snapshotRowConverter(s, odd)!;
    const row = rawRow(odd, [1, 'x', 'y', 'z', 'w', 'v']);
    expect(convert(row)).toEqual({ id: 1, 'a"b': 'x', 'c\\d': 'y', '`e`': 'z', '}); throw 1; ({': 'w', 'ü ✓': 'v' });
  });

  it('one converter per schema object and column list', () => {
    expect(snapshotRowConverter(schema, names)).toBe(snapshotRowConverter(schema, names));
    expect(snapshotRowConverter(schemaOf(COLUMNS), names)).not.toBe(snapshotRowConverter(schema, names));
  });
});
