import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { startPrivateMariaDb, type PrivateMariaDb } from './mariadb';

describe('private MariaDB', () => {
  let db: PrivateMariaDb;
  beforeAll(async () => {
    db = await startPrivateMariaDb();
  });
  afterAll(async () => {
    await db?.stop();
  });

  it('writes a row and reads the binlog position back', async () => {
    const conn = await mysql.createConnection(db.cdcConfig());
    const root = await mysql.createConnection(db.rootConfig());
    try {
      const [before] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
      expect(before).toHaveLength(1);
      const startPos = Number(before[0]!.Position);
      await root.query('CREATE DATABASE app');
      await root.query('CREATE TABLE app.t (id INT PRIMARY KEY, name VARCHAR(20))');
      await root.query("INSERT INTO app.t VALUES (1, 'first')");
      const [after] = await conn.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
      expect(after[0]!.File).toMatch(/^binlog\.\d{6}$/);
      expect(Number(after[0]!.Position)).toBeGreaterThan(startPos);
      const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT id, name FROM app.t');
      expect(rows).toEqual([{ id: 1, name: 'first' }]);
      const [vars] = await conn.query<mysql.RowDataPacket[]>(
        "SHOW VARIABLES WHERE Variable_name IN ('binlog_format','binlog_row_image','binlog_row_metadata','log_bin')",
      );
      const byName = Object.fromEntries(vars.map((v) => [v.Variable_name, v.Value]));
      expect(byName).toEqual({ binlog_format: 'ROW', binlog_row_image: 'FULL', binlog_row_metadata: 'FULL', log_bin: 'ON' });
      // The row event itself is in the binlog: the file's events include a Write_rows for app.t.
      const [events] = await root.query<mysql.RowDataPacket[]>(`SHOW BINLOG EVENTS IN '${after[0]!.File}'`);
      expect(events.some((e) => String(e.Event_type).startsWith('Write_rows'))).toBe(true);
    } finally {
      await conn.end();
      await root.end();
    }
  });
});
