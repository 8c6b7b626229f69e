import type { StateCreator } from 'zustand';
import type { CallName, WireCallInput, WireCallOutput } from '../../../core/api';
import { client } from '../api/client';
import { takeTicket } from './latest';

/** One call's answer for what a view shows: the input it answers (as JSON), its value or error. */
export interface ReadState<T> {
  /** JSON of the input this state answers (or is loading for). */
  key: string;
  /** Who asked (a view's id, see useRead): a view shows only what it asked for itself. */
  owner: number;
  value: T | null;
  /** `Code: message` of a failed call. */
  error: string | null;
  loading: boolean;
}

export type Reads = { [K in CallName]?: ReadState<WireCallOutput<K>> };

/**
 * Reads behind the explorer's tabs (row diff, schema diff, files, stats, key history, the grid's
 * header and count): one slot per call, since one view per call is shown at a time.
 */
export interface ViewSlice {
  reads: Reads;
  /**
   * Calls `name` with `input` and keeps the answer in `reads[name]`, unless a newer read of the same
   * call was asked meanwhile: a slow reply for a previous table, version or key is dropped.
   */
  read<K extends CallName>(name: K, input: WireCallInput<K>, owner?: number): Promise<void>;
}

export const createViewSlice: StateCreator<ViewSlice, [], [], ViewSlice> = (set, get) => {
  const put = <K extends CallName>(name: K, state: ReadState<WireCallOutput<K>>) => set({ reads: { ...get().reads, [name]: state } });
  return {
    reads: {},
    async read(name, input, owner = 0) {
      const key = JSON.stringify(input);
      const latest = takeTicket(`read:${name}`);
      put(name, { key, owner, value: null, error: null, loading: true });
      const r = await client.call(name, input);
      if (!latest()) return;
      put(name, r.ok ? { key, owner, value: r.value, error: null, loading: false } : { key, owner, value: null, error: `${r.error.code}: ${r.error.message}`, loading: false });
    },
  };
};
