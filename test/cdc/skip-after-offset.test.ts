/**
 * scan.startup.specific-offset.skip-events / skip-rows on a private MariaDB, with the meaning Flink
 * CDC takes from Debezium: from the first transaction start after the position, that many events
 * (the start itself, table maps, rows events; not the commit) have their rows dropped, then that
 * many rows of the next rows event. The binlog after the position is, per MariaDB 10.11:
 *   T1: GTID, TABLE_MAP, WRITE_ROWS (1,2,3), TABLE_MAP, WRITE_ROWS (4,5), XID
 *   T2: GTID, TABLE_MAP, WRITE_ROWS (6), XID
 */
import { describe, expect, it } from 'vitest';
import { comparePositions, createMySqlSource, type BinlogPosition } from '../../core/cdc';
import type { SourceRecord } from '../../core/cdc/types';
import { changeEvents, collectUntil, sourceConfig, usePrivateMariaDb } from './helpers';
import type mysql from 'mysql2/promise';

async function position(root: mysql.Connection): Promise<BinlogPosition> {
  const [rows] = await root.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
  return { file: String(rows[0]!.File), pos: BigInt(rows[0]!.Position) };
}

const offsetOf = (r: SourceRecord) => (r.kind === 'transaction' ? r.batch.endOffset : r.kind === 'heartbeat' ? r.offset : null);

describe('skip-events and skip-rows after a specific offset', () => {
  const server = usePrivateMariaDb(['CREATE DATABASE app', 'CREATE TABLE app.t (id INT PRIMARY KEY)']);
  let start: BinlogPosition;
  let end: BinlogPosition;

  async function idsAfter(skipEvents: number, skipRows: number): Promise<number[]> {
    if (!start) {
      start = await position(server.root);
      await server.root.query('BEGIN; INSERT INTO app.t VALUES (1), (2), (3); INSERT INTO app.t VALUES (4), (5); COMMIT');
      await server.root.query('INSERT INTO app.t VALUES (6)');
      end = await position(server.root);
    }
    const source = createMySqlSource(sourceConfig(server.db, { startupMode: { mode: 'specific-offset', file: start.file, pos: start.pos, skipEvents, skipRows } }));
    const it = source.start(null);
    try {
      const records = await collectUntil(it, (all) => all.some((r) => {
        const o = offsetOf(r);
        return o !== null && comparePositions(o, end) >= 0;
      }));
      return changeEvents(records).map((e) => Number(e.after!.id));
    } finally {
      await source.stop();
      await it.return(undefined);
    }
  }

  it('skips nothing by default', async () => expect(await idsAfter(0, 0)).toEqual([1, 2, 3, 4, 5, 6]));
  it('skip-events 3: the GTID, the first table map and rows event', async () => expect(await idsAfter(3, 0)).toEqual([4, 5, 6]));
  it('skip-events 3 and skip-rows 1: then the first row of the next rows event', async () => expect(await idsAfter(3, 1)).toEqual([5, 6]));
  it('skip-rows 2 alone: the first two rows of the first rows event', async () => expect(await idsAfter(0, 2)).toEqual([3, 4, 5, 6]));
  it('skip-events 5: all of T1 up to its commit', async () => expect(await idsAfter(5, 0)).toEqual([6]));
  it('skip-events 7: the count goes on in T2 (its GTID and table map), not its rows event', async () => expect(await idsAfter(7, 0)).toEqual([6]));
  it('skip-events 8: T2\'s rows event too', async () => expect(await idsAfter(8, 0)).toEqual([]));
});
