import { describe, expect, it } from 'vitest';
import type { TableMapEntry } from '@vlasky/zongji';
import { captureRows, rawRowImage } from '../../core/cdc/binlog-rows';
import { compileRowBuilder } from '../../core/cdc/row-builder';
import { makeColumnCodec } from '../../core/cdc/type-map';
import type { ColumnSchema } from '../../core/cdc/types';

/** Column names that would break generated code if they were pasted into it rather than quoted. */
const NAMES = ['id', 'a"b', "it's", 'back\\slash', 'line\nbreak', '\u2028sep', '${x}', '__proto__', 'constructor', '0', 'ünï'];
/** zongji assigns `row[name] = value`, which drops a `__proto__` column: rows never carry one. */
const ROW_NAMES = NAMES.filter((n) => n !== '__proto__');
const table = { db: 'app', table: 't' };

function tableMap(types: number[]): TableMapEntry {
  return { parentSchema: 'app', tableName: 't', columnSchemas: [], columns: ROW_NAMES.map((name, i) => ({ name, type: types[i] ?? 3 })) } as unknown as TableMapEntry;
}

/** A zongji-shaped row: keys assigned in column order. */
function zongjiRow(values: unknown[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  ROW_NAMES.forEach((n, i) => (row[n] = values[i]));
  return row;
}

describe('binlog row images (flat form) and generated row builders', () => {
  it('keep every value of every column, whatever the column names, for inserts and updates', () => {
    const r1 = ROW_NAMES.map((_, i) => (i === 0 ? 1 : `v${i}`));
    const r2 = ROW_NAMES.map((_, i) => (i === 0 ? 2 : i === 3 ? null : `w${i}`));
    const ins = captureRows(table, 'c', tableMap([]), [zongjiRow(r1), zongjiRow(r2)]);
    expect(ins.count).toBe(2);
    expect(ins.names).toEqual(ROW_NAMES);
    expect(ins.values).toEqual([...r1, ...r2]);
    const image = rawRowImage(ins, 1);
    expect(Object.keys(image).sort()).toEqual([...ROW_NAMES].sort());
    expect(ROW_NAMES.map((n) => image[n])).toEqual(r2);

    const upd = captureRows(table, 'u', tableMap([]), [{ before: zongjiRow(r1), after: zongjiRow(r2) }]);
    expect(upd.count).toBe(1);
    expect(upd.values).toEqual([...r1, ...r2]);
    const [before, after] = [rawRowImage(upd, 0), rawRowImage(upd, 0, true)];
    expect(ROW_NAMES.map((n) => before[n])).toEqual(r1);
    expect(ROW_NAMES.map((n) => after[n])).toEqual(r2);
  });

  it('one table map column list shares one names array across events (the key of conversion plans)', () => {
    const a = captureRows(table, 'c', tableMap([]), [zongjiRow(ROW_NAMES.map(() => 1))]);
    const b = captureRows(table, 'd', tableMap([]), [zongjiRow(ROW_NAMES.map(() => 2))]);
    expect(b.names).toBe(a.names);
  });

  it('flattens DATETIME and DECIMAL text built by concatenation without changing it', () => {
    const parts = ['2024-01-01', ' ', '00', ':', '00', ':', '01', '.', '000001'];
    const rope = parts.reduce((s, p) => s + p, '');
    const types = ROW_NAMES.map((_, i) => (i === 1 ? 18 : 3));
    const ev = captureRows(table, 'c', tableMap(types), [zongjiRow(ROW_NAMES.map((_, i) => (i === 1 ? rope : i)))]);
    expect(ev.values[1]).toBe('2024-01-01 00:00:01.000001');
  });

  it('builds rows with every column as an own field, converting by each column codec', () => {
    const columns: ColumnSchema[] = NAMES.map((name, i) => ({
      name,
      mysqlType: i === 0 ? 'bigint(20)' : i === 1 ? 'datetime(6)' : 'varchar(10)',
      icebergType: i === 0 ? { type: 'long' } : i === 1 ? { type: 'timestamp' } : { type: 'string' },
      nullable: true,
      position: i + 1,
    }));
    const build = compileRowBuilder(NAMES, columns.map((c) => makeColumnCodec(c, `app.t.${c.name}`)));
    const values = NAMES.map((_, i) => (i === 0 ? 7 : i === 1 ? '1970-01-01 00:00:01.5' : i === 2 ? undefined : i === 3 ? null : `s${i}`));
    const row = build(['ignored', ...values], 1);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row).sort()).toEqual([...NAMES].sort());
    expect(row.id).toBe(7n);
    expect(row['a"b']).toBe(1_500_000n);
    expect(row["it's"]).toBeNull();
    expect(row['back\\slash']).toBeNull();
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('s7');
    expect(row['\u2028sep']).toBe('s5');
    expect(row['${x}']).toBe('s6');
    expect(() => build([{}, ...values.slice(1)], 0)).toThrow(/app\.t\.id: cannot convert/);
  });
});
