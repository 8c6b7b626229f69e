import { describe, expect, it } from 'vitest';
import type { TableMapEntry } from '@vlasky/zongji';
import { columnNames, holdRows } from '../../core/cdc/binlog/rows';
import { convertTransaction, convertTransactionParts, type RowFilter } from '../../core/cdc/change-processor';
import { SchemaCatalog } from '../../core/cdc/schema/catalog';
import { resolveConfig } from '../../core/cdc/config';
import { compileObjectRowBuilder } from '../../core/cdc/row-builder';
import { makeColumnCodec } from '../../core/cdc/schema/column-codec';
import type { ColumnSchema } from '../../core/cdc/types';

/** Column names that would break generated code if they were pasted into it rather than quoted. */
const NAMES = ['id', 'a"b', "it's", 'back\\slash', 'line\nbreak', '\u2028sep', '${x}', '__proto__', 'constructor', '0', 'ünï'];
const table = { db: 'app', table: 't' };

function tableMap(names: string[]): TableMapEntry {
  return { parentSchema: 'app', tableName: 't', columnSchemas: [], columns: names.map((name) => ({ name, type: 3 })) } as unknown as TableMapEntry;
}

function catalogWithTable(): SchemaCatalog {
  const catalog = new SchemaCatalog(resolveConfig({ hostname: 'h', username: 'u', password: '', tables: ['app\\..*'], serverId: 7 }));
  catalog.set({
    table,
    primaryKey: ['id'],
    columns: [
      { name: 'id', mysqlType: 'int(11)', icebergType: { type: 'int' }, nullable: false, position: 1 },
      { name: 'ts', mysqlType: 'datetime(3)', icebergType: { type: 'timestamp' }, nullable: true, position: 2 },
      { name: 'txt', mysqlType: 'varchar(30)', icebergType: { type: 'string' }, nullable: true, position: 3 },
    ],
  });
  return catalog;
}

const TM = { parentSchema: 'app', tableName: 't', columnSchemas: [], columns: [{ name: 'id', type: 3 }, { name: 'ts', type: 18 }, { name: 'txt', type: 15 }] } as unknown as TableMapEntry;
const tx = (...rowsEvents: ReturnType<typeof holdRows>[]) => ({ kind: 'tx' as const, gtid: undefined, rowsEvents, end: { file: 'b.1', pos: 9n }, gtidSet: null, tsMs: 5, preparedXa: [] });

describe('held binlog rows events and generated row builders', () => {
  it('decode on each call; a value zongji cannot decode is DataInvalid naming the table and where its transaction began', () => {
    let calls = 0;
    const held = holdRows(table, 'c', TM, () => [{ id: ++calls }], 'b.1', null);
    expect(held.rows()).toEqual([{ id: 1 }]);
    expect(held.rows()).toEqual([{ id: 2 }]);
    const bad = holdRows(
      table,
      'c',
      TM,
      () => {
        throw new Error('unknown column type 255');
      },
      'b.1',
      { file: 'b.1', pos: 4n },
    );
    expect(() => bad.rows()).toThrow(expect.objectContaining({ code: 'DataInvalid', message: expect.stringMatching(/app\.t in the transaction after b\.1:4: unknown column type 255/) }));
  });

  it('one column list shares one names array across table maps (the key of conversion plans); without a list, the row names it', () => {
    const a = columnNames(tableMap(['id', 'v']), undefined);
    const b = columnNames(tableMap(['id', 'v']), undefined);
    expect(a).toEqual(['id', 'v']);
    expect(b).toBe(a);
    const fromRow = columnNames({ parentSchema: 'app', tableName: 't', columnSchemas: [] } as unknown as TableMapEntry, { id: 1, v: 2 });
    expect(fromRow).toBe(a);
  });

  it('converts by the schema in force: DATETIME text to µs for a timestamp column, the text kept for a string column', () => {
    const held = holdRows(table, 'u', TM, () => [{ before: { id: 1, ts: '2024-05-06 07:08:09.120', txt: '2024-05-06 07:08:09.120' }, after: { id: 1, ts: '0000-00-00 00:00:00.000', txt: null } }], 'b.1', null);
    const [part] = [...convertTransactionParts(catalogWithTable(), tx(held), {} as never, Infinity)];
    const [change] = part!.events;
    expect(change!.before).toEqual({ id: 1, ts: 1_714_979_289_120_000n, txt: '2024-05-06 07:08:09.120' });
    expect(change!.after).toEqual({ id: 1, ts: null, txt: null });
  });

  it('during the snapshot: emits converted rows before the frontier, folds the open chunk driver rows, skips later chunks, splits updates across it', () => {
    // Keys 1–10 already emitted, 11–20 the open chunk, above 20 later chunks.
    const region: RowFilter['region'] = (_t, row) => (Number(row.id) <= 10 ? 'emit' : Number(row.id) <= 20 ? 'chunk' : 'skip');
    const absorbed: [string, Record<string, unknown>][] = [];
    const filter: RowFilter = { region, absorb: (op, row) => absorbed.push([op, row]) };
    const r = (id: number) => ({ id, ts: '2024-01-01 00:00:01.500', txt: `r${id}` });
    const ins = holdRows(table, 'c', TM, () => [r(1), r(15), r(30)], 'b.1', null);
    const upd = holdRows(table, 'u', TM, () => [{ before: r(2), after: r(3) }, { before: r(5), after: r(12) }, { before: r(13), after: r(4) }, { before: r(14), after: r(25) }], 'b.1', null);
    const del = holdRows(table, 'd', TM, () => [r(6), r(16), r(40)], 'b.1', null);
    const events = convertTransaction(catalogWithTable(), tx(ins, upd, del), {} as never, filter);
    const conv = (id: number) => ({ id, ts: 1_704_067_201_500_000n, txt: `r${id}` });
    expect(events.map((e) => [e.op, e.before, e.after])).toEqual([
      ['c', null, conv(1)],
      ['u', conv(2), conv(3)],
      ['d', conv(5), null],
      ['c', null, conv(4)],
      ['d', conv(6), null],
    ]);
    // Folded images are the driver's rows, unconverted (the chunk converts them when it is emitted).
    expect(absorbed).toEqual([
      ['c', r(15)],
      ['c', r(12)],
      ['d', r(13)],
      ['d', r(14)],
      ['d', r(16)],
    ]);
  });

  it('builds rows with every column as an own field, converting by each column codec, whatever the column names', () => {
    const columns: ColumnSchema[] = NAMES.map((name, i) => ({
      name,
      mysqlType: i === 0 ? 'bigint(20)' : i === 1 ? 'datetime(6)' : 'varchar(10)',
      icebergType: i === 0 ? { type: 'long' } : i === 1 ? { type: 'timestamp' } : { type: 'string' },
      nullable: true,
      position: i + 1,
    }));
    const build = compileObjectRowBuilder(NAMES, columns.map((c) => makeColumnCodec(c, `app.t.${c.name}`)));
    const values = NAMES.map((_, i) => (i === 0 ? 7 : i === 1 ? '1970-01-01 00:00:01.5' : i === 2 ? undefined : i === 3 ? null : `s${i}`));
    const source: Record<string, unknown> = {};
    NAMES.forEach((n, i) => Object.defineProperty(source, n, { value: values[i], enumerable: true }));
    const row = build(source);
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row).sort()).toEqual([...NAMES].sort());
    expect(row.id).toBe(7n);
    expect(row['a"b']).toBe(1_500_000n);
    expect(row["it's"]).toBeNull();
    expect(row['back\\slash']).toBeNull();
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe('s7');
    expect(row['\u2028sep']).toBe('s5');
    expect(row['${x}']).toBe('s6');
    expect(() => build({ ...source, id: {} })).toThrow(/app\.t\.id: cannot convert/);
  });
});
