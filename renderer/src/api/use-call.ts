import { useEffect, useState } from 'react';
import type { CallName, WireCallInput, WireCallOutput } from '../../../core/api';
import { client } from './client';

export interface CallState<T> {
  value: T | null;
  /** `Code: message` of a failed call. */
  error: string | null;
  loading: boolean;
}

/**
 * Calls the contract whenever `input` changes (compared as JSON) and keeps only the latest answer,
 * so a slow reply for an old version never overwrites the new one.
 */
export function useCall<K extends CallName>(name: K, input: WireCallInput<K> | null): CallState<WireCallOutput<K>> {
  const [state, setState] = useState<CallState<WireCallOutput<K>>>({ value: null, error: null, loading: input !== null });
  const key = JSON.stringify(input);
  useEffect(() => {
    if (input === null) return;
    let live = true;
    setState({ value: null, error: null, loading: true });
    void client.call(name, input).then((r) => {
      if (!live) return;
      setState(r.ok ? { value: r.value, error: null, loading: false } : { value: null, error: `${r.error.code}: ${r.error.message}`, loading: false });
    });
    return () => {
      live = false;
    };
    // `key` stands for `input`: a new object with the same content must not refetch.
  }, [name, key]);
  return state;
}
