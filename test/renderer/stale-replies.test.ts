// @vitest-environment happy-dom
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { answerAtOnce, heldCalls, holdReplies, release, replies } from './support/fake-window';

const { useStore } = await import('../../renderer/src/store');
const { HistoryTab } = await import('../../renderer/src/components/table/HistoryTab');
const { MaintenancePanel } = await import('../../renderer/src/components/table/MaintenancePanel');

Object.assign(globalThis, { IS_REACT_ACT_ENVIRONMENT: true });

/** The answers of the fake engine: each names the input it answers, so a wrong one shows. */
const version = (id: string, name: string) => ({ snapshotId: `${id}0`, sequenceNumber: '1', timestampMs: 1000, operation: 'append', status: 'inserted', rows: [{ id, name }], changedColumns: [], source: {} });
const schemaOf = (snapshotId: string | undefined) => ({ schemaId: snapshotId === '11' ? 0 : 1, fields: [], identifierFields: ['id'], partitionSpec: 'unpartitioned' });

beforeAll(() => {
  replies['query.keyHistory'] = ({ key }: { key: Record<string, string> }) => ({ ok: true, value: [version(key.id!, key.id === '1' ? 'apple' : 'pear')] });
  replies['lake.openWarehouse'] = ({ path }: { path: string }) => ({ ok: true, value: { path, tables: [] } });
  replies['lake.tableInfo'] = ({ path }: { path: string }) => ({ ok: true, value: { path, format: 'iceberg', currentSnapshotId: path.endsWith('a') ? '1' : '2', refs: [], health: { badge: 'ok', notes: [] } } });
  replies['lake.snapshots'] = ({ path }: { path: string }) => ({ ok: true, value: [{ snapshotId: path.endsWith('a') ? '1' : '2', timestampMs: 1, operation: 'append' }] });
  replies['lake.schema'] = ({ version }: { version?: { snapshotId?: string } }) => ({ ok: true, value: schemaOf(version?.snapshotId) });
  replies['query.page'] = () => ({ ok: true, value: { columns: [], rows: [], totalRows: 0, totalPending: false } });
  replies['query.sql'] = ({ sql }: { sql: string }) => ({ ok: true, value: { columns: [{ name: 'n', type: 'Int64' }], rows: [[sql.slice(7)]], truncated: false, elapsedMs: 1 } });
  replies['sync.read'] = ({ name }: { name: string }) => ({ ok: true, value: { name, file: `/p/${name}.yaml`, yaml: `pipeline:\n  name: ${name}\n` } });
  replies['sync.validate'] = () => ({ ok: true, value: { ok: true, errors: [], warnings: [] } });
  replies['lake.compact'] = ({ scope }: { scope: { kind: string } }) => ({
    ok: true,
    value: { dryRun: true, files: scope.kind === 'all' ? 3 : 1, bytes: 2048, records: 31, partitions: 1, deleteFiles: 0, estimatedFiles: 1 },
  });
});
afterEach(() => answerAtOnce());

/** Lets the calls made so far reach the fake (each store action awaits before it calls). */
const settle = () => act(() => new Promise((r) => setTimeout(r, 0)));

describe('a late reply for a previous selection is ignored', () => {
  it('key history: the key clicked second stays, whichever reply comes last', async () => {
    document.body.innerHTML = '<div id="root"></div>';
    const root: Root = createRoot(document.getElementById('root')!);
    const tab = (id: string) => createElement(HistoryTab, { path: '/w/ns/t', identifierFields: ['id'], initialKey: { id } });
    holdReplies();
    await act(async () => root.render(tab('1')));
    // Another row double-clicked in the grid before the first history arrived.
    await act(async () => root.render(tab('2')));
    await settle();
    expect(heldCalls()).toEqual([
      { name: 'query.keyHistory', input: { path: '/w/ns/t', key: { id: '1' } } },
      { name: 'query.keyHistory', input: { path: '/w/ns/t', key: { id: '2' } } },
    ]);
    const cells = () => [...document.querySelectorAll('table[aria-label="Key history"] tbody td')].map((td) => td.textContent);
    expect(document.querySelector('button[type="submit"]')?.textContent).toBe('Searching…');
    await act(() => release(1));
    expect(cells()).toEqual(['20', '1970-01-01 00:00:01', 'append', 'inserted', '2', 'pear', '']);
    // The slow reply for key 1 arrives last: dropped.
    await act(() => release(0));
    expect(cells()).toEqual(['20', '1970-01-01 00:00:01', 'append', 'inserted', '2', 'pear', '']);
    expect(useStore.getState().reads['query.keyHistory']?.key).toBe(JSON.stringify({ path: '/w/ns/t', key: { id: '2' } }));
    expect((document.getElementById('history-key') as HTMLInputElement).value).toBe('id=2');
    act(() => root.unmount());

    // Shown again (the tab reopened, or the table read again after a change): the answer read
    // for the view before is not shown as this one's, even for the same key.
    const again: Root = createRoot(document.getElementById('root')!);
    replies['query.keyHistory'] = ({ key }: { key: Record<string, string> }) => ({ ok: true, value: [version(key.id!, 'quince')] });
    await act(async () => again.render(tab('2')));
    await settle();
    expect(cells()).toEqual([]);
    expect(document.querySelector('button[type="submit"]')?.textContent).toBe('Searching…');
    await act(() => release(2));
    expect(cells()).toEqual(['20', '1970-01-01 00:00:01', 'append', 'inserted', '2', 'quince', '']);
    act(() => again.unmount());
  });

  it('table: the table opened second stays, and the schema of the version chosen second', async () => {
    holdReplies();
    const first = useStore.getState().openTable('/w/ns/a');
    const second = useStore.getState().openTable('/w/ns/b');
    // query.page (warm-up), tableInfo, snapshots for each table.
    expect(heldCalls().map((c) => `${c.name} ${(c.input as { path: string }).path}`)).toEqual([
      'query.page /w/ns/a', 'lake.tableInfo /w/ns/a', 'lake.snapshots /w/ns/a', 'query.page /w/ns/b', 'lake.tableInfo /w/ns/b', 'lake.snapshots /w/ns/b',
    ]);
    for (const i of [3, 4, 5]) await release(i);
    for (const i of [0, 1, 2]) await release(i);
    await release(6); // b's schema
    await Promise.all([first, second]);
    expect(useStore.getState().tablePath).toBe('/w/ns/b');
    expect(useStore.getState().tableInfo?.currentSnapshotId).toBe('2');
    expect(useStore.getState().snapshots.map((s) => s.snapshotId)).toEqual(['2']);

    const older = useStore.getState().setVersion({ snapshotId: '11' });
    const newer = useStore.getState().setVersion({ snapshotId: '22' });
    expect(heldCalls().slice(-2).map((c) => c.input)).toEqual([{ path: '/w/ns/b', version: { snapshotId: '11' } }, { path: '/w/ns/b', version: { snapshotId: '22' } }]);
    await release(8);
    await release(7);
    await Promise.all([older, newer]);
    expect(useStore.getState().version).toEqual({ snapshotId: '22' });
    expect(useStore.getState().schema?.schemaId).toBe(1);
  });

  it('warehouse, SQL and pipeline: the second request wins', async () => {
    holdReplies();
    const w1 = useStore.getState().openWarehouse('/w1');
    const w2 = useStore.getState().openWarehouse('/w2');
    await release(1);
    await release(0);
    await Promise.all([w1, w2]);
    expect(useStore.getState().warehouse?.path).toBe('/w2');

    useStore.getState().setSqlText('SELECT first');
    const q1 = useStore.getState().runSql();
    useStore.getState().setSqlText('SELECT second');
    const q2 = useStore.getState().runSql();
    await release(3);
    expect(useStore.getState().sqlRunning).toBe(false);
    await release(2);
    await Promise.all([q1, q2]);
    expect(useStore.getState().sqlResult?.rows).toEqual([['second']]);
    expect(useStore.getState().sqlHistory.slice(0, 2)).toEqual(['SELECT first', 'SELECT second']);

    const p1 = useStore.getState().selectPipeline('orders');
    const p2 = useStore.getState().selectPipeline('shop');
    await release(5); // shop's text, then its validation
    await release(6);
    await release(4); // orders' text, late
    await Promise.all([p1, p2]);
    expect(useStore.getState().pipelineName).toBe('shop');
    expect(useStore.getState().pipelineYaml).toBe('pipeline:\n  name: shop\n');
  });

  it('maintenance: a preview asked before the options changed is not shown, and Run waits', async () => {
    document.body.innerHTML = '<div id="root"></div>';
    const root: Root = createRoot(document.getElementById('root')!);
    await act(async () => root.render(createElement(MaintenancePanel, { path: '/w/ns/t', partitions: [], onChanged: async () => {} })));
    const compact = () => document.querySelector('section[aria-label="Compact"]')!;
    const button = (name: string) => [...compact().querySelectorAll('button')].find((b) => b.textContent === name)!;
    const result = () => compact().querySelector('[data-testid="compact-result"]')?.textContent ?? null;
    const choose = (value: string) =>
      act(async () => {
        const select = compact().querySelector('select')!;
        select.value = value;
        select.dispatchEvent(new Event('change', { bubbles: true }));
      });
    holdReplies();
    await act(async () => button('Preview').dispatchEvent(new MouseEvent('click', { bubbles: true })));
    expect(heldCalls().at(-1)).toEqual({ name: 'lake.compact', input: { path: '/w/ns/t', scope: { kind: 'small' }, dryRun: true } });
    // The scope changes while the preview of the small files is on its way.
    await choose('all');
    await act(() => release(heldCalls().length - 1));
    expect(result()).toBeNull();
    expect(button('Run').disabled).toBe(true);
    // Previewed for the whole table: shown, and Run may go.
    await act(async () => button('Preview').dispatchEvent(new MouseEvent('click', { bubbles: true })));
    await act(() => release(heldCalls().length - 1));
    expect(result()).toBe('will rewrite 3 data file(s), 2.0 KiB, 31 records in 1 partition(s) into about 1 file(s)');
    expect(button('Run').disabled).toBe(false);
    // Back to the small files: that preview no longer describes what Run would do.
    await choose('small');
    expect(result()).toBeNull();
    expect(button('Run').disabled).toBe(true);
    act(() => root.unmount());
  });

  it("settings: the start's apply finishing late keeps the error of a save made meanwhile", async () => {
    replies['settings.read'] = () => ({ ok: true, value: { queryMemoryBudgetMiB: 1536 } });
    replies['settings.save'] = () => ({ ok: false, error: { code: 'BadInput', message: 'settings.save: queryMemoryBudgetMiB: expected at least 16 MiB', context: {} } });
    replies['query.configure'] = () => ({ ok: true, value: {} });
    holdReplies();
    const load = useStore.getState().loadSettings();
    await release(0); // settings.read answered; its query.configure waits on the engine's start
    expect(heldCalls().map((c) => c.name)).toEqual(['settings.read', 'query.configure']);
    const save = useStore.getState().saveSettings({ queryMemoryBudgetMiB: 8 });
    await settle();
    await release(2); // the save is refused first
    expect(await save).toBe(false);
    await release(1); // then the engine takes the start's budget
    await load;
    expect(useStore.getState().settingsError).toBe('The settings were not saved: settings.save: queryMemoryBudgetMiB: expected at least 16 MiB');
    expect(useStore.getState().settings).toEqual({ queryMemoryBudgetMiB: 1536 });
  });
});
