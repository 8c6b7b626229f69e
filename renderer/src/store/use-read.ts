import { useEffect, useState } from 'react';
import type { CallName, WireCallInput, WireCallOutput } from '../../../core/api';
import { useStore } from './index';
import type { ReadState } from './view-slice';

let lastViewId = 0;

export interface ReadResult<T> {
  value: T | null;
  /** `Code: message` of a failed call. */
  error: string | null;
  loading: boolean;
}

/**
 * What a view shows from one call: asks the store to read `name` with `input` whenever the input's
 * content changes (compared as JSON; `null` reads nothing) and returns the store's answer for
 * that very input, asked by this view — never one for another input, whatever order the replies
 * arrive in, nor one read before this view mounted (the table may have changed since). With
 * `keepPrevious`, the value this view showed for its input before stays while the new one loads
 * (the data grid keeps its rows and filter boxes while a new sort or filter is read).
 */
export function useRead<K extends CallName>(name: K, input: WireCallInput<K> | null, options: { keepPrevious?: boolean } = {}): ReadResult<WireCallOutput<K>> {
  const key = input === null ? null : JSON.stringify(input);
  const [viewId] = useState(() => ++lastViewId);
  const read = useStore((s) => s.read);
  useEffect(() => {
    if (key !== null) void read(name, JSON.parse(key) as WireCallInput<K>, viewId);
  }, [read, name, key, viewId]);
  const state = useStore((s) => s.reads[name]) as ReadState<WireCallOutput<K>> | undefined;
  const answer = answerFor(state, key, viewId);
  // The last value this view was given (not another view's: the slot outlives a view).
  const [shown, setShown] = useState<WireCallOutput<K> | null>(null);
  if (options.keepPrevious && answer.value !== null && answer.value !== shown) setShown(answer.value);
  return options.keepPrevious && answer.loading ? { ...answer, value: shown } : answer;
}

/** The part of a read slot that answers the input `key` (JSON) asked by view `viewId`, or nothing. */
function answerFor<T>(state: ReadState<T> | undefined, key: string | null, viewId: number): ReadResult<T> {
  if (key === null) return { value: null, error: null, loading: false };
  // Until the store reads this input for this view (the effect runs after the first render), it
  // holds another input's answer or another view's.
  if (!state || state.key !== key || state.owner !== viewId) return { value: null, error: null, loading: true };
  return { value: state.value, error: state.error, loading: state.loading };
}
