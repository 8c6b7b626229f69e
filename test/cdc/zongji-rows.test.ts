import ZongJi, { type AnyBinlogEvent } from '@vlasky/zongji';
import type mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { BinlogReader, type RawItem } from '../../core/cdc/binlog/reader';
import { resolveConfig } from '../../core/cdc/config';
import { connectionOptions } from '../../core/cdc/connect';
import { detectFlavor } from '../../core/cdc/flavor';
import { encodeWkb } from '../../core/cdc/schema/wkb';
import { sourceConfig, usePrivateMariaDb } from './helpers';

// The binlog reader holds rows events as their bytes and decodes them at the commit with zongji's
// own decoder (zongji-rows.ts, which reaches into zongji's internals): for every column type of the
// type map, in inserts, updates and deletes, in two charsets, the rows it decodes equal the rows
// zongji itself delivers for the same binlog.
const TYPES = `id INT PRIMARY KEY,
  b1 TINYINT(1), ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, i INT, iu INT UNSIGNED,
  bi BIGINT, biu BIGINT UNSIGNED, d DECIMAL(38,10), dwide DECIMAL(65,30), f FLOAT, db DOUBLE,
  bit1 BIT(1), bit10 BIT(10), c CHAR(5), vc VARCHAR(100), tx TEXT, bn BINARY(4), vb VARBINARY(10), bl BLOB,
  dt DATE, tm TIME(6), dtm DATETIME(6), dtm0 DATETIME, ts TIMESTAMP(6) NULL, y YEAR, j JSON, e ENUM('x','y'), st SET('a','b','c'),
  pt POINT`;
const ROWS = `(1, 1, -128, 255, -32768, -8388608, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
    -9999999999999999999999999999.9999999999, 12345678901234567890123456789012345.123456789012345678901234567890, 3.40282e38,
    -1.7976931348623157e308, b'1', b'1111111111', 'ab', 'ñandú', 'line1\\nline2', 'a\\0\\0b', x'00ff0000', x'000102', '2024-02-29',
    '23:59:59.999999', '9999-12-31 23:59:59.999999', '2024-01-02 03:04:05', '2038-01-19 03:14:07.999999', 2155, '{"a": [1, 2], "b": null}',
    'y', 'a,c', ST_GeomFromText('POINT(1.5 -2)')),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', '', '', '', '', '', '', '0000-00-00', '00:00:00', '0000-00-00 00:00:00',
    '0000-00-00 00:00:00', '0000-00-00 00:00:00', 0, '[]', 'x', '', ST_GeomFromText('POINT(0 0)'))`;

describe('rows decoded at the commit (zongji-rows.ts)', () => {
  const server = usePrivateMariaDb([
    "SET SESSION sql_mode = ''",
    'CREATE DATABASE app',
    `CREATE TABLE app.u8 (${TYPES}) DEFAULT CHARSET = utf8mb4`,
    `CREATE TABLE app.l1 (${TYPES}) DEFAULT CHARSET = latin1`,
  ]);

  it('equal the rows zongji delivers itself, for every type of the type map, in inserts, updates and deletes', async () => {
    const [st] = await server.root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    const start = { file: String(st[0]!.File), pos: BigInt(st[0]!.Position) };
    for (const t of ['u8', 'l1']) {
      await server.root.query(`SET SESSION sql_mode = ''; INSERT INTO app.${t} VALUES ${ROWS}`);
      await server.root.query(`SET SESSION sql_mode = ''; BEGIN; UPDATE app.${t} SET vc = CONCAT(vc, '-u'), dtm = '2000-01-01 00:00:00.5', d = 1.5, j = '{"k": "v"}' WHERE id IN (1, 3); DELETE FROM app.${t} WHERE id = 2; COMMIT`);
    }
    const config = resolveConfig(sourceConfig(server.db));

    // zongji's own delivery of the same range: each rows event's rows, in order.
    const expected: unknown[][] = [];
    await new Promise<void>((resolve, reject) => {
      const z = new ZongJi(connectionOptions(config));
      z.on('error', reject);
      z.on('binlog', (evt: AnyBinlogEvent) => {
        const name = evt.getEventName();
        if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') expected.push((evt as AnyBinlogEvent & { rows: unknown[] }).rows);
        if (expected.length === 6) {
          z.stop();
          resolve();
        }
      });
      z.start({ serverId: config.serverId + 1000, filename: start.file, position: Number(start.pos), includeEvents: ['rotate', 'format', 'tablemap', 'writerows', 'updaterows', 'deleterows'] });
    });

    // The reader's held events, decoded now.
    const reader = new BinlogReader({ config, flavor: await detectFlavor(server.root), start, gtidSeed: null, isCaptured: () => true });
    reader.start();
    const decoded: unknown[][] = [];
    const ops: string[] = [];
    try {
      while (decoded.length < 6) {
        const item: RawItem = await reader.next();
        if (item.kind !== 'tx') continue;
        for (const held of item.rowsEvents) {
          decoded.push(held.rows());
          ops.push(`${held.table.table}:${held.op}`);
          expect(held.size).toBeGreaterThan(20);
        }
      }
    } finally {
      await reader.close();
    }
    expect(ops).toEqual(['u8:c', 'u8:u', 'u8:d', 'l1:c', 'l1:u', 'l1:d']);
    // Spatial values are the one deliberate difference: the stored bytes (SRID 0, then WKB) in place
    // of zongji's {x, y}, which drops the SRID.
    const stored = (row: Record<string, unknown>) =>
      row.pt === null ? row : { ...row, pt: Buffer.concat([Buffer.alloc(4), Buffer.from(encodeWkb('point', row.pt, 'pt'))]) };
    const expectedStored = expected.map((rows) =>
      rows.map((r) => ('after' in (r as object) ? { before: stored((r as { before: Record<string, unknown> }).before), after: stored((r as { after: Record<string, unknown> }).after) } : stored(r as Record<string, unknown>))),
    );
    expect(decoded).toEqual(expectedStored);
    // What was compared is what the type map needs: exact DATETIME(6) text, DECIMAL text, BIGINT UNSIGNED max.
    const first = decoded[0]![0] as Record<string, unknown>;
    expect(first.dtm).toBe('9999-12-31 23:59:59.999999');
    expect(first.d).toBe('-9999999999999999999999999999.9999999999');
    expect(String(first.biu)).toBe('18446744073709551615');
    expect((decoded[4]![0] as { after: Record<string, unknown> }).after.vc).toBe('ñandú-u');
    expect(Buffer.from(first.pt as Uint8Array).toString('hex')).toBe('000000000101000000000000000000f83f00000000000000c0');
  });
});
