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
  // The input's content is the dependency: a new object with the same content must not refetch.
  const key = JSON.stringify(input);
  useEffect(() => {
    const request = JSON.parse(key) as WireCallInput<K> | null;
    if (request === null) return;
    let live = true;
    setState({ value: null, error: null, loading: true });
    void client.call(name, request).then((r) => {
      if (!live) return;
      setState(r.ok ? { value: r.value, error: null, loading: false } : { value: null, error: `${r.error.code}: ${r.error.message}`, loading: false });
    });
    return () => {
      live = false;
    };
  }, [name, key]);
  return state;
}
