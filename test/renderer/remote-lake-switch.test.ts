import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answerAtOnce, calls, heldCalls, holdReplies, release, replies, urlHash } from './support/fake-window';

const { useStore } = await import('../../renderer/src/store');
const { isWithin } = await import('../../renderer/src/store/warehouse-slice');

// Each remote lake reads with the profile it was opened with (its own lake id in the main
// process). Opening another lake, or the same bucket with another profile, must not leave the
// previous lake's table open: its reads would go on with the other profile's credentials (what
// the remote-lake e2e saw: a data read without the session token of the profile just chosen).
const listing = (id: string, profile: string) => ({
  path: `/~remote/${id}`,
  lakeId: id,
  label: `s3://lake/wh (${profile})`,
  kind: 's3',
  tables: [{ namespace: 'demo', name: 'orders', path: `/~remote/${id}/demo/orders`, format: 'iceberg' }],
});
let nextLake = 1;

beforeAll(() => {
  replies['lake.openRemote'] = ({ profile }: { profile?: string }) => ({ ok: true, value: listing(String(nextLake++), profile ?? 'none') });
  replies['lake.openWarehouse'] = ({ path }: { path: string }) => ({ ok: true, value: { path, tables: [{ namespace: 'ns', name: 't', path: `${path}/ns/t`, format: 'iceberg' }] } });
  replies['lake.tableInfo'] = ({ path }: { path: string }) => ({ ok: true, value: { path, format: 'iceberg', currentSnapshotId: '1', refs: [], health: { badge: 'ok', notes: [] } } });
  replies['lake.snapshots'] = () => ({ ok: true, value: [{ snapshotId: '1', timestampMs: 1, operation: 'append' }] });
  replies['lake.schema'] = () => ({ ok: true, value: { schemaId: 0, fields: [], identifierFields: [], partitionSpec: 'unpartitioned' } });
  replies['query.page'] = () => ({ ok: true, value: { columns: [], rows: [], totalRows: 0, totalPending: false } });
});
afterEach(() => answerAtOnce());

/** Releases every held call from index `from` on, and those they make in turn (the listing's table infos). */
async function releaseFrom(from: number): Promise<void> {
  for (let i = from; i < heldCalls().length; i++) await release(i);
}

describe('a table of the previous lake is closed when another lake opens', () => {
  it('opening s3://… with another profile closes the table read with the first one', async () => {
    await useStore.getState().openRemote('s3://lake/wh', 'lake');
    await useStore.getState().openTable('/~remote/1/demo/orders');
    expect(useStore.getState().tablePath).toBe('/~remote/1/demo/orders');
    expect(urlHash()).toBe('#/table?warehouse=%2F%7Eremote%2F1&table=%2F%7Eremote%2F1%2Fdemo%2Forders');

    holdReplies();
    const opening = useStore.getState().openRemote('s3://lake/wh', 'session');
    await new Promise((r) => setTimeout(r, 0));
    // While it opens, the previous lake is still the one listed, but flagged as loading (the tree
    // does not offer its tables then).
    expect(useStore.getState().warehouseLoading).toBe(true);
    expect(heldCalls()).toEqual([{ name: 'lake.openRemote', input: { target: 's3://lake/wh', profile: 'session' } }]);
    await releaseFrom(0);
    await opening;
    const s = useStore.getState();
    expect(s.warehouse?.path).toBe('/~remote/2');
    expect(s.tablePath).toBeNull();
    expect(s.tableInfo).toBeNull();
    expect(urlHash()).toBe('#/?warehouse=%2F%7Eremote%2F2');
  });

  it("a late reply for the closed table's info is dropped", async () => {
    await useStore.getState().openRemote('s3://lake/wh', 'lake');
    const lake = useStore.getState().warehouse!.path;
    holdReplies();
    const opened = useStore.getState().openTable(`${lake}/demo/orders`);
    await new Promise((r) => setTimeout(r, 0));
    const switching = useStore.getState().openRemote('s3://lake/wh', 'session');
    await new Promise((r) => setTimeout(r, 0));
    const names = heldCalls().map((c) => c.name);
    // query.page (warm-up), lake.tableInfo, lake.snapshots of the first table, then the open.
    expect(names).toEqual(['query.page', 'lake.tableInfo', 'lake.snapshots', 'lake.openRemote']);
    await release(3);
    expect(useStore.getState().tablePath).toBeNull();
    await release(0);
    await release(1);
    await release(2);
    await releaseFrom(4);
    await switching;
    await opened;
    expect(useStore.getState().tablePath).toBeNull();
    expect(useStore.getState().tableInfo).toBeNull();
    expect(useStore.getState().snapshots).toEqual([]);
  });

  it('reopening the same folder keeps its table open', async () => {
    await useStore.getState().openWarehouse('/w');
    await useStore.getState().openTable('/w/ns/t');
    const before = calls.length;
    await useStore.getState().openWarehouse('/w');
    expect(calls.length).toBeGreaterThan(before);
    expect(useStore.getState().tablePath).toBe('/w/ns/t');
    expect(urlHash()).toBe('#/table?warehouse=%2Fw&table=%2Fw%2Fns%2Ft');
  });

  it('isWithin: a lake root holds its tables, not a sibling sharing its prefix', () => {
    expect(isWithin('/~remote/1/demo/orders', '/~remote/1')).toBe(true);
    expect(isWithin('/~remote/12/demo/orders', '/~remote/1')).toBe(false);
    expect(isWithin('/w/t', '/w/t')).toBe(true);
    expect(isWithin('/w/', '/w/')).toBe(true);
    expect(isWithin('/w/ns/t', '/w/')).toBe(true);
    expect(isWithin('C:\\lake\\ns\\t', 'C:\\lake')).toBe(true);
    expect(isWithin('C:\\lake2\\t', 'C:\\lake')).toBe(false);
  });
});
