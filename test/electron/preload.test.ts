import { describe, expect, it, vi } from 'vitest';

const exposed = new Map<string, unknown>();
const invoked: unknown[][] = [];
const listeners = new Map<string, ((...a: unknown[]) => void)[]>();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => exposed.set(key, value) },
  ipcRenderer: {
    invoke: async (...args: unknown[]) => {
      invoked.push(args);
      return { ok: true, value: 'pong' };
    },
    on: (channel: string, l: (...a: unknown[]) => void) => listeners.set(channel, [...(listeners.get(channel) ?? []), l]),
    removeListener: (channel: string, l: (...a: unknown[]) => void) => listeners.set(channel, (listeners.get(channel) ?? []).filter((x) => x !== l)),
  },
}));

describe('Electron preload', () => {
  it('exposes exactly one frozen object, window.tidemark, over one IPC channel', async () => {
    await import('../../electron/preload');
    expect([...exposed.keys()]).toEqual(['tidemark']);
    const api = exposed.get('tidemark') as { call: (n: string, i: unknown) => Promise<unknown>; on: (e: string, l: (p: unknown) => void) => () => void };
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.keys(api).sort()).toEqual(['call', 'on']);
    expect(await api.call('app.version', {})).toEqual({ ok: true, value: 'pong' });
    expect(invoked).toEqual([['tidemark:call', 'app.version', {}]]);

    const got: unknown[] = [];
    const off = api.on('app.progress', (p) => got.push(p));
    const [l] = listeners.get('tidemark:event')!;
    l!({}, { event: 'app.progress', payload: { done: 1 } });
    l!({}, { event: 'other', payload: { done: 2 } });
    expect(got).toEqual([{ done: 1 }]);
    off();
    expect(listeners.get('tidemark:event')).toEqual([]);
  });
});
