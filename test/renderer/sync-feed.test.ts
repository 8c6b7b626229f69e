// @vitest-environment happy-dom
import { act, createElement } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { answerAtOnce, calls, emit, fakeClient, heldCalls, holdReplies, listenerCount, release, replies } from './support/fake-window';

const { useStore } = await import('../../renderer/src/store');
const { startSyncFeed } = await import('../../renderer/src/store/sync-feed');
const { App } = await import('../../renderer/src/App');

Object.assign(globalThis, { IS_REACT_ACT_ENVIRONMENT: true });

const progress = (phase: string, rowsCommitted: number, updatedAtMs: number, lastError: string | null = null) => ({
  pipeline: 'shop',
  phase,
  committedPosition: 'binlog.000001:1234',
  committedGtid: null,
  bufferedTransactions: 0,
  tables: [{ table: 'shop.items', rowsIn: rowsCommitted, rowsCommitted, commits: 1, lastSnapshotId: '7', lastCommitAtMs: updatedAtMs, lagMs: 120, snapshot: null, lastError: null }],
  lastError,
  updatedAtMs,
});
let running = true;
let listed = progress('streaming', 4, 1000);
let root: Root;
const host = () => document.getElementById('root')!;
const text = (selector: string) => host().querySelector(selector)?.textContent ?? null;
/** Clicks the button whose text is `label`, and lets its calls answer. */
async function click(label: string | RegExp) {
  const button = [...host().querySelectorAll('button')].find((b) => (typeof label === 'string' ? b.textContent === label : label.test(b.textContent ?? '')));
  if (!button) throw new Error(`no button ${label} in ${host().innerHTML.slice(0, 400)}`);
  await act(async () => {
    button.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    await new Promise((r) => setTimeout(r, 0));
  });
}

beforeAll(async () => {
  replies['app.version'] = () => ({ ok: true, value: { version: '0.1.0', mode: 'browser', electron: null, node: '20' } });
  replies['app.initialState'] = () => ({ ok: true, value: { warehouse: null } });
  replies['sync.list'] = () => ({ ok: true, value: [{ name: 'shop', file: '/home/pipelines/shop.yaml', running, status: listed }] });
  replies['sync.read'] = () => ({ ok: true, value: { name: 'shop', file: '/home/pipelines/shop.yaml', yaml: 'pipeline:\n  name: shop\n' } });
  replies['sync.validate'] = () => ({ ok: true, value: { ok: true, errors: [], warnings: [] } });
  document.body.innerHTML = '<div id="root"></div>';
  root = createRoot(host());
});

describe('sync feed (one subscription for the whole app)', () => {
  it('subscribes once to progress and events, and unsubscribes', () => {
    const stop = startSyncFeed(fakeClient as never, useStore);
    expect([listenerCount('sync.progress'), listenerCount('sync.event')]).toEqual([1, 1]);
    stop();
    expect([listenerCount('sync.progress'), listenerCount('sync.event')]).toEqual([0, 0]);
  });

  it('keeps progress and a sync.failed that arrive while the Explorer is shown: the Sync screen shows them on return', async () => {
    startSyncFeed(fakeClient as never, useStore);
    await act(async () => {
      root.render(createElement(App));
      await new Promise((r) => setTimeout(r, 0));
    });
    await click('Sync');
    await click(/^●shopstreaming$/);
    expect(text('[data-testid="sync-phase"]')).toBe('streaming');

    // The Explorer is shown (the Sync screen unmounts) while the sync goes on and then fails.
    await click('Explorer');
    expect(host().querySelector('.sync-view')).toBeNull();
    running = false;
    listed = progress('failed', 9, 3000, 'Unsupported: shop.items: schema change add-column: schema.change.behavior is exception');
    await act(async () => {
      emit('sync.event', { pipeline: 'shop', type: 'sync.commit', message: 'shop.items: committed 5 rows as snapshot 8 at binlog.000001:2345' });
      emit('sync.progress', listed);
      emit('sync.event', { pipeline: 'shop', type: 'sync.failed', message: 'shop.items: schema change add-column: schema.change.behavior is exception' });
      await new Promise((r) => setTimeout(r, 0));
    });
    // A failure reloads the list (the pipeline is no longer running).
    expect(calls.at(-1)?.name).toBe('sync.list');

    await click('Sync');
    expect(text('[data-testid="sync-phase"]')).toBe('failed');
    expect(text('.sync-progress p.error')).toBe('Unsupported: shop.items: schema change add-column: schema.change.behavior is exception');
    expect(text('table[aria-label="Tables in sync"] tbody tr td:nth-child(3)')).toBe('9');
    const events = [...host().querySelectorAll('section[aria-label="Events"] li')].map((li) => [li.className, li.textContent!.slice(9)]);
    expect(events).toEqual([
      ['', 'shop.items: committed 5 rows as snapshot 8 at binlog.000001:2345'],
      ['removed', 'shop.items: schema change add-column: schema.change.behavior is exception'],
    ]);
    // Not running any more: Start is offered again.
    expect([...host().querySelectorAll('button')].some((b) => b.textContent === 'Start')).toBe(true);
  });

  it('keeps a pushed report newer than the listing that answers after it', async () => {
    // The store alone (a second sample would draw the charts, which need a canvas happy-dom lacks).
    act(() => root.unmount());
    holdReplies();
    const loading = useStore.getState().loadPipelines();
    expect(heldCalls().map((c) => c.name)).toEqual(['sync.list']);
    listed = progress('streaming', 9, 2500);
    emit('sync.progress', progress('failed', 11, 4000, 'Io: disk full'));
    await act(async () => {
      await release(0);
      await loading;
    });
    answerAtOnce();
    expect(useStore.getState().progress.shop?.phase).toBe('failed');
    expect(useStore.getState().progress.shop?.tables[0]?.rowsCommitted).toBe(11);
  });
});
