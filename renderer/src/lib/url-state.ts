/**
 * The window's location says what is shown: `#/table?path=…&snapshot=…&tab=data` (or `asOf`,
 * `ref`). Reloading or sharing the URL reopens the same table at the same version.
 */
export type Tab = 'data' | 'schema' | 'changes' | 'history' | 'files' | 'sql';
export const TABS: Tab[] = ['data', 'schema', 'changes', 'history', 'files', 'sql'];

export interface Version {
  snapshotId?: string;
  asOfTimestampMs?: number;
  ref?: string;
}

export interface UrlState {
  warehouse: string | null;
  table: string | null;
  version: Version;
  tab: Tab;
}

export function readUrlState(hash = window.location.hash): UrlState {
  const q = new URLSearchParams(hash.replace(/^#\/?[^?]*\??/, ''));
  const version: Version = {};
  const snapshot = q.get('snapshot');
  const asOf = q.get('asOf');
  const ref = q.get('ref');
  if (snapshot && /^\d+$/.test(snapshot)) version.snapshotId = snapshot;
  else if (asOf && !Number.isNaN(Number(asOf))) version.asOfTimestampMs = Number(asOf);
  else if (ref) version.ref = ref;
  const tab = q.get('tab') as Tab | null;
  return { warehouse: q.get('warehouse'), table: q.get('table'), version, tab: tab && TABS.includes(tab) ? tab : 'data' };
}

export function writeUrlState(state: UrlState): void {
  const q = new URLSearchParams();
  if (state.warehouse) q.set('warehouse', state.warehouse);
  if (state.table) q.set('table', state.table);
  if (state.version.snapshotId) q.set('snapshot', state.version.snapshotId);
  else if (state.version.asOfTimestampMs !== undefined) q.set('asOf', String(state.version.asOfTimestampMs));
  else if (state.version.ref) q.set('ref', state.version.ref);
  if (state.tab !== 'data') q.set('tab', state.tab);
  const hash = `#/${state.table ? 'table' : ''}?${q.toString()}`;
  if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
}

export function describeVersion(v: Version): string {
  if (v.snapshotId) return `snapshot ${v.snapshotId}`;
  if (v.asOfTimestampMs !== undefined) return `as of ${new Date(v.asOfTimestampMs).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  if (v.ref) return `ref ${v.ref}`;
  return 'current';
}
