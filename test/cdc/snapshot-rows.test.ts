import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SchemaCatalog } from '../../core/cdc/schema/catalog';
import { resolveConfig } from '../../core/cdc/config';
import { int64NumberColumns, snapshotRowConverter } from '../../core/cdc/snapshot/rows';
import { mapColumnType } from '../../core/cdc/schema/type-map';
import type { TableSchema } from '../../core/cdc/types';

const config = resolveConfig({ hostname: 'h', port: 3306, username: 'u', password: 'p', tables: ['app\\.t'], serverId: 1 });

/** A column of every conversion kind, with raw values as the snapshot's mysql2 options give them. */
const COLUMNS: [string, string, boolean, unknown[]][] = [
  ['id', 'int(11)', false, [1, -2147483648, 2147483647]],
  ['flag', 'tinyint(1)', true, [0, 1, null]],
  ['small', 'smallint(6)', true, [-32768, null]],
  ['yr', 'year(4)', true, [1901, 2155, 0, null]],
  ['u32', 'int(10) unsigned', true, [0, 4294967295, null]],
  ['big', 'bigint(20)', true, ['-9223372036854775808', '9007199254740993', '0', 12, null]],
  ['ubig', 'bigint(20) unsigned', true, ['18446744073709551615', '0', null]],
  ['price', 'decimal(12,2)', true, ['1234.50', '-0.00', '007.10', '-12.3', null]],
  ['wide', 'decimal(65,30)', true, ['1.000000000000000000000000000000', null]],
  ['f', 'float', true, [0.1, 3.4028234663852886e38, -1.5, null]],
  ['d', 'double', true, [0.1, -1e308, null]],
  ['bit1', 'bit(1)', true, [Buffer.from([1]), Buffer.from([0]), null]],
  ['bits', 'bit(10)', true, [Buffer.from([3, 255]), null]],
  ['name', 'varchar(32)', true, ['', 'row-1', 'ünïcødé ✓', null]],
  ['doc', 'json', true, ['{"a":[1,2]}', null]],
  ['e', "enum('a','b')", true, ['a', null]],
  ['bin', 'varbinary(16)', true, [Buffer.from('ab'), Buffer.alloc(0), null]],
  ['day', 'date', true, ['2024-02-29', '1000-01-01', '0000-00-00', '2020-00-10', null]],
  ['day0', 'date', false, ['0000-00-00', '9999-12-31']],
  ['tod', 'time(6)', true, ['00:00:00', '23:59:59.999999', '12:30:00.5', null]],
  ['at', 'datetime(6)', true, ['2024-01-01 00:00:00.000000', '1969-12-31 23:59:59.999999', '0000-00-00 00:00:00.000000', null]],
  ['at0', 'datetime', false, ['0000-00-00 00:00:00', '2255-06-05 23:47:34', '9999-12-31 23:59:59']],
  ['ts', 'timestamp(3)', true, ['1970-01-01 00:00:01.000', '2038-01-19 03:14:07.999', null]],
  ['g', 'geometry', true, [Buffer.from('e61000000101000000000000000000f03f0000000000000040', 'hex'), Buffer.from('000000000101000000000000000000f03f0000000000000040', 'hex'), null]],
];

function schemaOf(columns: typeof COLUMNS): TableSchema {
  return {
    table: { db: 'app', table: 't' },
    primaryKey: ['id'],
    columns: columns.map(([name, mysqlType, nullable], i) => ({ name, mysqlType, icebergType: mapColumnType(mysqlType, undefined, `app.t.${name}`), nullable, position: i + 1 })),
  };
}

/** A driver-shaped row: an object literal filled field by field, in SELECT order. */
function rawRow(names: string[], values: unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  names.forEach((n, i) => (row[n] = values[i] instanceof Buffer ? Buffer.from(values[i] as Buffer) : values[i]));
  return row;
}

/** The catalog's general conversion (the reference), converting a copy of the rows as one chunk. */
function viaCatalog(catalog: SchemaCatalog, schema: TableSchema, rows: Record<string, unknown>[]): unknown[] {
  const copies = rows.map((r) => rawRow(Object.keys(r), Object.values(r)));
  return copies.map((r) => catalog.convertRow(schema.table, r, undefined, copies));
}

function outcome(f: () => unknown): unknown {
  try {
    return { value: f() };
  } catch (e) {
    return { error: (e as { code?: string }).code, message: (e as Error).message };
  }
}

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
