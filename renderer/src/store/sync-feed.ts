import type { TidemarkClient } from '../../../core/api';
import type { SyncSlice } from './sync-slice';

/**
 * Feeds the sync slice from the engine's pushed events for the life of the app, whichever screen
 * is shown: the Sync screen unmounts while the Explorer is open, and progress or a `sync.failed`
 * arriving then must be there when it comes back. main.tsx calls it once, before React renders
 * (outside React, so StrictMode's double effects cannot subscribe twice); returns the unsubscribe.
 */
export function startSyncFeed(events: Pick<TidemarkClient, 'on'>, store: { getState(): Pick<SyncSlice, 'onSyncProgress' | 'onSyncEvent'> }): () => void {
  const offProgress = events.on('sync.progress', (p) => store.getState().onSyncProgress(p));
  const offEvent = events.on('sync.event', (e) => store.getState().onSyncEvent(e));
  return () => {
    offProgress();
    offEvent();
  };
}
