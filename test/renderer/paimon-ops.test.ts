// @vitest-environment happy-dom
/**
 * The timeline menu and the maintenance panel of a Paimon table: tag, branch and rollback (which
 * says it deletes the later snapshots), no cherry-pick; full compaction, expiry and orphan
 * removal. The calls reach a fake main process; what they send is asserted.
 */
import { act, createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { beforeAll, describe, expect, it } from 'vitest';
import { calls, replies } from './support/fake-window';

const { SnapshotMenu } = await import('../../renderer/src/components/table/SnapshotMenu');
const { MaintenancePanel } = await import('../../renderer/src/components/table/MaintenancePanel');

Object.assign(globalThis, { IS_REACT_ACT_ENVIRONMENT: true });

const snap = (id: string, parent: string | null) => ({ snapshotId: id, parentSnapshotId: parent, sequenceNumber: id, timestampMs: 1000 * Number(id), operation: 'append' });
const snapshots = [snap('1', null), snap('2', '1'), snap('3', '2')] as never[];
const refs = [{ name: 'main', type: 'branch', snapshotId: '3' }, { name: 'close', type: 'tag', snapshotId: '2' }] as never[];

beforeAll(() => {
  replies['lake.setRef'] = ({ name, type, snapshotId }: { name: string; type: string; snapshotId: string }) => ({ ok: true, value: { name, type, snapshotId, previousSnapshotId: null, mode: null } });
  replies['lake.rollback'] = ({ snapshotId }: { snapshotId: string }) => ({ ok: true, value: { name: 'main', type: 'branch', snapshotId, previousSnapshotId: '3', mode: null } });
  replies['lake.compact'] = () => ({ ok: true, value: { dryRun: true, files: 4, bytes: 7580, records: 12, partitions: 1, deleteFiles: 0, estimatedFiles: 1 } });
});

const items = () => [...document.querySelectorAll('[role="menuitem"]')].map((b) => b.textContent);
const click = (el: Element) => act(async () => el.dispatchEvent(new MouseEvent('click', { bubbles: true })));

describe('a Paimon table in the UI', () => {
  it('the snapshot menu offers tag, branch, rollback and deleting a tag; no cherry-pick', async () => {
    document.body.innerHTML = '<div id="root"></div>';
    const root = createRoot(document.getElementById('root')!);
    const messages: string[] = [];
    const props = { path: '/w/fin/ledger', format: 'paimon' as const, snapshots, refs, at: { x: 0, y: 0 }, onClose: () => undefined, onChanged: async (m: string) => void messages.push(m) };
    await act(async () => root.render(createElement(SnapshotMenu, { ...props, snapshot: snapshots[1]! })));
    expect(items()).toEqual(['Tag this snapshot…', 'Create a branch here…', 'Roll back main to here (deletes later snapshots)', 'Delete tag close']);

    await click([...document.querySelectorAll('[role="menuitem"]')].find((b) => b.textContent!.startsWith('Roll back'))!);
    expect(calls.at(-1)).toEqual({ name: 'lake.rollback', input: { path: '/w/fin/ledger', snapshotId: '2' } });
    expect(messages.at(-1)).toBe('main rolled back to 2 (was 3; later snapshots deleted)');

    await act(async () => root.render(createElement(SnapshotMenu, { ...props, snapshot: snapshots[2]!, key: 'head' })));
    await click([...document.querySelectorAll('[role="menuitem"]')].find((b) => b.textContent === 'Tag this snapshot…')!);
    const input = document.querySelector<HTMLInputElement>('input[aria-label="tag name"]')!;
    await act(async () => {
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      setter.call(input, 'q4-close');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await act(async () => document.querySelector('form')!.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true })));
    expect(calls.at(-1)).toEqual({ name: 'lake.setRef', input: { path: '/w/fin/ledger', name: 'q4-close', type: 'tag', snapshotId: '3' } });
    expect(messages.at(-1)).toBe('tag q4-close → 3');

    // An Iceberg table's snapshot off main's line still offers cherry-pick.
    const side = [snap('1', null), snap('2', '1'), snap('9', '1')] as never[];
    await act(async () => root.render(createElement(SnapshotMenu, { ...props, format: 'iceberg', snapshots: side, refs: [{ name: 'main', type: 'branch', snapshotId: '2' }] as never[], snapshot: side[2]!, key: 'ice' })));
    expect(items()).toContain('Cherry-pick onto main');
    await act(async () => root.render(createElement(SnapshotMenu, { ...props, snapshots: side, refs: [{ name: 'main', type: 'branch', snapshotId: '2' }] as never[], snapshot: side[2]!, key: 'pai' })));
    expect(items()).not.toContain('Cherry-pick onto main');
    act(() => root.unmount());
  });

  it('the maintenance panel: full compaction, expiry and orphan removal', async () => {
    document.body.innerHTML = '<div id="root"></div>';
    const root = createRoot(document.getElementById('root')!);
    await act(async () => root.render(createElement(MaintenancePanel, { path: '/w/fin/ledger', format: 'paimon', partitions: ['[10]'], onChanged: async () => {} })));
    const sections = [...document.querySelectorAll('section[aria-label]')].map((s) => s.getAttribute('aria-label'));
    expect(sections).toEqual(['Compact', 'Expire snapshots', 'Remove orphan files']);
    const options = [...document.querySelectorAll('section[aria-label="Compact"] option')].map((o) => o.textContent);
    expect(options).toEqual(['whole table (full compaction of every bucket)']);
    const preview = [...document.querySelectorAll('section[aria-label="Compact"] button')].find((b) => b.textContent === 'Preview')!;
    await click(preview);
    expect(calls.at(-1)).toEqual({ name: 'lake.compact', input: { path: '/w/fin/ledger', scope: { kind: 'all' }, dryRun: true } });
    const orphans = [...document.querySelectorAll('section[aria-label="Remove orphan files"] button')].find((b) => b.textContent === 'Preview')!;
    await click(orphans);
    const sent = calls.at(-1) as { name: string; input: { path: string; olderThanMs: number; dryRun: boolean } };
    expect({ ...sent, input: { ...sent.input, olderThanMs: 0 } }).toEqual({ name: 'lake.removeOrphans', input: { path: '/w/fin/ledger', olderThanMs: 0, dryRun: true } });
    // The panel's default age, 3 days, is sent as a time (the clock moves while the test runs).
    expect(Math.abs(Date.now() - 3 * 86_400_000 - sent.input.olderThanMs)).toBeLessThan(60_000);
    act(() => root.unmount());
  });
});
