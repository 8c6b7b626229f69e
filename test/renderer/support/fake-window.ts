/**
 * The renderer's store and client run in Node against a fake main process: `window.tidemark` is
 * what the Electron preload would expose. Import this before the store (the client is made at
 * import). Replies may be held back (`hold`) to deliver them late and out of order, as a slow
 * engine does; events are pushed with `emit`.
 */
type Reply = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string; context: object } };

export const calls: { name: string; input: unknown }[] = [];
export const replies: Record<string, (input: never) => Reply> = {};
const listeners = new Map<string, Set<(payload: unknown) => void>>();
const held: { name: string; input: unknown; release(): void }[] = [];
let holding = false;
const storage = new Map<string, string>();
let hash = '';

export const fakeClient = {
  async call(name: string, input: unknown): Promise<Reply> {
    calls.push({ name, input });
    const answer = (): Reply => replies[name]?.(input as never) ?? { ok: false, error: { code: 'Internal', message: `no fake reply for ${name}`, context: {} } };
    if (!holding) return answer();
    return new Promise((resolve) => held.push({ name, input, release: () => resolve(answer()) }));
  },
  on(event: string, listener: (payload: unknown) => void) {
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(listener);
    return () => set.delete(listener);
  },
};

/** Pushes an event to every subscriber, as the main process does. */
export function emit(event: string, payload: unknown): void {
  for (const l of listeners.get(event) ?? []) l(payload);
}

/** The number of subscribers of an event. */
export function listenerCount(event: string): number {
  return listeners.get(event)?.size ?? 0;
}

/** From now on, calls wait until `release` delivers their reply. */
export function holdReplies(): void {
  holding = true;
}

/** Delivers the held reply of the `index`-th held call (in call order) and lets its awaiters run. */
export async function release(index: number): Promise<void> {
  held[index]!.release();
  await new Promise((r) => setTimeout(r, 0));
}

/** Stops holding; forgets the held calls (each must have been released). */
export function answerAtOnce(): void {
  holding = false;
  held.length = 0;
}

/** The calls held so far, in call order. */
export function heldCalls(): { name: string; input: unknown }[] {
  return held.map(({ name, input }) => ({ name, input }));
}

export const urlHash = () => hash;

if (typeof document !== 'undefined') {
  // A DOM test (happy-dom): the page's own window, location and storage; only the preload is faked.
  Object.assign(window, { tidemark: fakeClient });
} else {
  Object.assign(globalThis, {
    window: { tidemark: fakeClient, location: { search: '', get hash() { return hash; } }, history: { replaceState: (_s: unknown, _t: string, h: string) => (hash = h) } },
    localStorage: { getItem: (k: string) => storage.get(k) ?? null, setItem: (k: string, v: string) => storage.set(k, v), removeItem: (k: string) => storage.delete(k) },
  });
}
