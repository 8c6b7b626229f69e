import { describe, expect, it } from 'vitest';
import type { TableMapEntry } from '@vlasky/zongji';
import { captureRows, holdRows, rawRowImage } from '../../core/cdc/binlog-rows';
import { SchemaCatalog, convertTransaction } from '../../core/cdc/change-processor';
import { resolveConfig } from '../../core/cdc/config';
import { formatDateTimeText, readDateTimeText } from '../../core/cdc/datetime-text';
import { parseDateTimeMicros } from '../../core/cdc/type-map';
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

  it('flattens DECIMAL and TIME text built by concatenation without changing it', () => {
    const rope = ['12345678', '901234', '.', '56'].reduce((s, p) => s + p, '');
    const time = ['-', '838', ':', '59', ':', '59', '.', '000000'].reduce((s, p) => s + p, '');
    const types = ROW_NAMES.map((_, i) => (i === 1 ? 246 : i === 2 ? 19 : 3));
    const ev = captureRows(table, 'c', tableMap(types), [zongjiRow(ROW_NAMES.map((_, i) => (i === 1 ? rope : i === 2 ? time : i)))]);
    expect(ev.values.slice(1, 3)).toEqual(['12345678901234.56', '-838:59:59.000000']);
  });

  it('holds valid DATETIME / TIMESTAMP values as bigint µs and gives the exact text back', () => {
    const texts = ['2024-01-01 00:00:01.000001', '1969-12-31 23:59:59.999999', '2000-02-29 12:34:56.100000', '1970-01-01 00:00:00.000000'];
    // Kept as text: zero and partly zero dates, an invalid day, other fraction digits, beyond 2^53 µs
    // from the epoch (~285 years) either way.
    const kept = ['0000-00-00 00:00:00.000000', '2020-00-10 00:00:00.000000', '2021-02-29 00:00:00.000000', '2024-01-01 00:00:01', '9999-12-31 23:59:59.999999', '0001-01-01 00:00:00.000000'];
    const all = [...texts, ...kept];
    const types = ROW_NAMES.map((_, i) => (i === 1 ? 18 : 3));
    const ev = captureRows(table, 'c', tableMap(types), all.map((t) => zongjiRow(ROW_NAMES.map((_, i) => (i === 1 ? t : i)))));
    const n = ROW_NAMES.length;
    const held = all.map((_, r) => ev.values[r * n + 1]);
    expect(held.slice(0, texts.length)).toEqual(texts.map((t) => parseDateTimeMicros(t)));
    expect(held.slice(texts.length)).toEqual(kept);
    expect(all.map((_, r) => rawRowImage(ev, r)['a"b'])).toEqual(all);
    for (const digits of [0, 1, 3, 6]) {
      const t = digits === 0 ? '1901-07-04 05:06:07' : `1901-07-04 05:06:07.${'123456'.slice(0, digits)}`;
      expect(formatDateTimeText(BigInt(readDateTimeText(t)), digits)).toBe(t);
    }
  });

  it('converts held date-times by the schema in force: µs for timestamps, the text for a column the schema types otherwise', () => {
    const config = resolveConfig({ hostname: 'h', username: 'u', password: '', tables: ['app\\..*'], serverId: 7 });
    const catalog = new SchemaCatalog(config);
    const columns = [
      { name: 'id', mysqlType: 'int(11)', icebergType: { type: 'int' as const }, nullable: false, position: 1 },
      { name: 'ts', mysqlType: 'datetime(3)', icebergType: { type: 'timestamp' as const }, nullable: true, position: 2 },
      { name: 'txt', mysqlType: 'varchar(30)', icebergType: { type: 'string' as const }, nullable: true, position: 3 },
    ];
    catalog.set({ table, primaryKey: ['id'], columns });
    const tm = { parentSchema: 'app', tableName: 't', columnSchemas: [], columns: [{ name: 'id', type: 3 }, { name: 'ts', type: 18 }, { name: 'txt', type: 18 }] } as unknown as TableMapEntry;
    const ev = holdRows(table, 'u', tm, () => [{ before: { id: 1, ts: '2024-05-06 07:08:09.120', txt: '2024-05-06 07:08:09.120' }, after: { id: 1, ts: '0000-00-00 00:00:00.000', txt: null } }], 'b.1', null);
    const item = { kind: 'tx' as const, gtid: undefined, rowsEvents: [ev], end: { file: 'b.1', pos: 9n }, gtidSet: null, tsMs: 5, preparedXa: [] };
    const [change] = convertTransaction(catalog, item, {} as never, null);
    expect(change!.before).toEqual({ id: 1, ts: 1_714_979_289_120_000n, txt: '2024-05-06 07:08:09.120' });
    expect(change!.after).toEqual({ id: 1, ts: null, txt: null });
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
