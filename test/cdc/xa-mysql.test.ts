import { describe, expect, it } from 'vitest';
import { BinlogReader, type RawItem } from '../../core/cdc/binlog/reader';
import { resolveConfig } from '../../core/cdc/config';

/**
 * The MySQL form of XA in the binlog (no MySQL server here): `XA START` as a query event inside
 * the GTID group instead of MariaDB's GTID flag, and `XA COMMIT … ONE PHASE` as a query event
 * after the rows. Events are fed to the reader as zongji would deliver them.
 */
type Fake = Record<string, unknown> & { getEventName(): string; nextPosition: number; timestamp: number };

function event(name: string, nextPosition: number, fields: Record<string, unknown> = {}): Fake {
  return { getEventName: () => name, nextPosition, timestamp: 1_700_000_000_000 + nextPosition, ...fields };
}

const tableMap = { 1: { parentSchema: 'app', tableName: 't', columnSchemas: [], columns: [{ name: 'id', type: 3 }] } };
const rows = (id: number, pos: number) => [event('tablemap', pos - 20), event('writerows', pos, { tableId: 1, tableMap, rows: [{ id }] })];
const xid = (gtrid: string) => ({ xidFormatId: 1, xidGtrid: Buffer.from(gtrid), xidBqual: Buffer.alloc(0) });

describe('XA transactions in the MySQL binlog form', () => {
  it('XA START opens the group; rows come at XA COMMIT (two-phase) or with XA COMMIT … ONE PHASE; XA ROLLBACK drops them', async () => {
    const config = resolveConfig({ hostname: 'h', username: 'u', password: '', tables: ['app\\..*'], serverId: 7 });
    const reader = new BinlogReader({ config, flavor: { kind: 'mysql', version: '8.0.36', versionParts: [8, 0, 36] }, start: { file: 'binlog.000001', pos: 4n }, gtidSeed: null, isCaptured: () => true });
    const fakeZongji = {};
    const r = reader as unknown as { zongji: object | null; onEvent(z: object, e: Fake): void };
    r.zongji = fakeZongji;
    const feed = (...events: Fake[]) => events.forEach((e) => r.onEvent(fakeZongji, e));
    feed(event('rotate', 0, { binlogName: 'binlog.000001', position: 4 }), event('format', 120));
    // x1: prepared, then a plain transaction commits, then x1 commits.
    feed(event('anonymousgtid', 200), event('query', 300, { query: "XA START X'7831',X'',1", schema: 'app' }), ...rows(1, 400), event('query', 450, { query: "XA END X'7831',X'',1", schema: 'app' }), event('xaprepare', 500, xid('x1')));
    feed(event('anonymousgtid', 550), event('query', 560, { query: 'BEGIN', schema: 'app' }), ...rows(100, 600), event('xid', 650));
    feed(event('anonymousgtid', 700), event('query', 750, { query: "XA COMMIT X'7831',X'',1", schema: 'app' }));
    // x2: one phase. x3: prepared then rolled back.
    feed(event('anonymousgtid', 800), event('query', 820, { query: "XA START X'7832',X'',1", schema: 'app' }), ...rows(2, 900), event('query', 920, { query: "XA END X'7832',X'',1", schema: 'app' }), event('query', 950, { query: "XA COMMIT X'7832',X'',1 ONE PHASE", schema: 'app' }));
    feed(event('anonymousgtid', 1000), event('query', 1020, { query: "XA START X'7833',X'',1", schema: 'app' }), ...rows(3, 1100), event('query', 1120, { query: "XA END X'7833',X'',1", schema: 'app' }), event('xaprepare', 1150, xid('x3')));
    feed(event('anonymousgtid', 1200), event('query', 1250, { query: "XA ROLLBACK X'7833',X'',1", schema: 'app' }));

    const items: RawItem[] = [];
    for (;;) {
      const item = await Promise.race([reader.next(), new Promise<null>((res) => setTimeout(() => res(null), 50))]);
      if (item === null) break;
      items.push(item);
    }
    r.zongji = null; // no connection to stop
    await reader.close();
    const txs = items.flatMap((i) => (i.kind === 'tx' ? [`${i.rowsEvents.flatMap((e) => e.rows().flatMap((r) => Object.values(r as Record<string, unknown>))).join(',')}@${i.end.pos}`] : []));
    expect(txs).toEqual(['100@650', '1@750', '2@950']);
    // While x1 (and later x3) is prepared, offsets list it with the start of its group.
    const at650 = items.find((i) => i.kind === 'tx' && i.end.pos === 650n)!;
    expect(at650.preparedXa).toEqual([{ xid: '1:7831:', start: { file: 'binlog.000001', pos: 120n } }]);
    const last = items.at(-1)!;
    expect(last.end.pos).toBe(1250n);
    expect(last.preparedXa).toEqual([]);
  });
});
