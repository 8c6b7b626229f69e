import { beforeAll, beforeEach, describe, expect, it } from 'vitest';

// The store runs against a fake client: `window.tidemark` is what the Electron preload would expose.
type Call = { name: string; input: unknown };
const calls: Call[] = [];
const replies: Record<string, (input: never) => unknown> = {};
const storage = new Map<string, string>();
let hash = '';

const fakeClient = {
  async call(name: string, input: unknown) {
    calls.push({ name, input });
    const reply = replies[name];
    if (!reply) return { ok: false, error: { code: 'Internal', message: `no fake reply for ${name}`, context: {} } };
    return reply(input as never);
  },
  on: () => () => undefined,
};

Object.assign(globalThis, {
  window: { tidemark: fakeClient, location: { get hash() { return hash; } }, history: { replaceState: (_s: unknown, _t: string, h: string) => (hash = h) } },
  localStorage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => storage.set(k, v), removeItem: (k: string) => storage.delete(k) },
});

const { useStore } = await import('../../renderer/src/store');
const { resolveVersion } = await import('../../renderer/src/store/table-slice');

const snapshots = [
  { snapshotId: '11', timestampMs: 1000, operation: 'append', totalRecords: 3 },
  { snapshotId: '22', timestampMs: 2000, operation: 'overwrite', totalRecords: 4 },
];
const info = { path: '/w/ns/t', format: 'iceberg', currentSnapshotId: '22', refs: [{ name: 'v1', type: 'tag', snapshotId: '11' }], health: { badge: 'ok', notes: [] } };

beforeAll(() => {
  replies['lake.openWarehouse'] = ({ path }: { path: string }) =>
    path === '/missing' ? { ok: false, error: { code: 'NotFound', message: 'warehouse folder not found: /missing', context: {} } } : { ok: true, value: { path, tables: [{ namespace: 'ns', name: 't', path: `${path}/ns/t`, format: 'iceberg' }] } };
  replies['lake.tableInfo'] = () => ({ ok: true, value: info });
  replies['lake.snapshots'] = () => ({ ok: true, value: snapshots });
  replies['lake.schema'] = () => ({ ok: true, value: { schemaId: 0, fields: [], identifierFields: ['id'], partitionSpec: 'unpartitioned' } });
  replies['query.sql'] = ({ sql }: { sql: string }) =>
    sql.startsWith('BAD') ? { ok: false, error: { code: 'InvalidInput', message: 'Parser Error (line 1, column 1)', context: {} } } : { ok: true, value: { columns: [{ name: 'n', type: 'Int64' }], rows: [['42']], truncated: false, elapsedMs: 3 } };
});
beforeEach(() => {
  calls.length = 0;
});

describe('warehouse slice', () => {
  it('opens a warehouse, remembers it as recent and loads each table\'s info', async () => {
    await useStore.getState().openWarehouse('/w');
    const s = useStore.getState();
    expect(s.warehouse?.tables.map((t) => t.name)).toEqual(['t']);
    expect(s.recentWarehouses[0]).toBe('/w');
    expect(JSON.parse(storage.get('tidemark.recentWarehouses')!)).toEqual(['/w']);
    expect(s.tableInfos['/w/ns/t']).toEqual(info);
    expect(calls.map((c) => c.name)).toEqual(['lake.openWarehouse', 'lake.tableInfo']);
  });

  it('shows the typed error of a failed open and keeps the previous warehouse', async () => {
    await useStore.getState().openWarehouse('/missing');
    expect(useStore.getState().warehouseError).toBe('NotFound: warehouse folder not found: /missing');
    expect(useStore.getState().warehouse?.path).toBe('/w');
  });
});

describe('table slice', () => {
  it('opens a table: info, timeline and schema; the URL says which', async () => {
    await useStore.getState().openTable('/w/ns/t');
    const s = useStore.getState();
    expect(s.tableInfo).toEqual(info);
    expect(s.snapshots).toEqual(snapshots);
    expect(s.schema?.identifierFields).toEqual(['id']);
    expect(s.resolvedSnapshotId()).toBe('22');
    expect(hash).toBe('#/table?warehouse=%2Fw&table=%2Fw%2Fns%2Ft');
  });

  it('time-travels by snapshot, time and tag; the schema is reloaded for the version', async () => {
    await useStore.getState().setVersion({ snapshotId: '11' });
    expect(hash).toContain('snapshot=11');
    expect(calls.at(-1)).toEqual({ name: 'lake.schema', input: { path: '/w/ns/t', version: { snapshotId: '11' } } });
    expect(resolveVersion({ asOfTimestampMs: 1500 }, snapshots as never, info as never)).toBe('11');
    expect(resolveVersion({ asOfTimestampMs: 500 }, snapshots as never, info as never)).toBeNull();
    expect(resolveVersion({ ref: 'v1' }, snapshots as never, info as never)).toBe('11');
    useStore.getState().setTab('schema');
    expect(hash).toContain('tab=schema');
  });
});

describe('sql slice', () => {
  it('runs SQL against the open warehouse and keeps a history', async () => {
    useStore.getState().setSqlText('SELECT 42 AS n');
    await useStore.getState().runSql();
    expect(useStore.getState().sqlResult?.rows).toEqual([['42']]);
    expect(calls.at(-1)).toEqual({ name: 'query.sql', input: { warehouse: '/w', sql: 'SELECT 42 AS n' } });
    useStore.getState().setSqlText('BAD');
    await useStore.getState().runSql();
    expect(useStore.getState().sqlError).toBe('InvalidInput: Parser Error (line 1, column 1)');
    expect(useStore.getState().sqlHistory.slice(0, 2)).toEqual(['BAD', 'SELECT 42 AS n']);
  });
});

describe('app slice', () => {
  it('follows the OS theme until one is pinned, and keeps the pinned theme', () => {
    expect(useStore.getState().theme).toBe('system');
    useStore.getState().setTheme('dark');
    expect(useStore.getState().theme).toBe('dark');
    expect(storage.get('tidemark.theme')).toBe('dark');
    useStore.getState().setTheme('system');
    expect(storage.get('tidemark.theme')).toBe('system');
  });
});
