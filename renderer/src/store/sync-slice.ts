import type { StateCreator } from 'zustand';
import type { PipelineEntry, PipelineValidation, Wire } from '../../../core/api';
import type { PreflightReport } from '../../../core/api';
import type { PipelinePlan } from '../../../core/api';
import type { SyncProgress } from '../../../core/api';
import { client } from '../api/client';
import { takeTicket } from './latest';

/** The sync manager: pipelines, the one being edited, its checks, plan, progress and events. */
export interface SyncSlice {
  pipelines: Wire<PipelineEntry>[];
  pipelineName: string | null;
  pipelineYaml: string;
  pipelineDirty: boolean;
  validation: Wire<PipelineValidation> | null;
  preflight: Wire<PreflightReport> | null;
  plan: Wire<PipelinePlan> | null;
  progress: Record<string, Wire<SyncProgress>>;
  /** Per pipeline: committed rows and lag over time, for the live charts (last 300 samples). */
  progressHistory: Record<string, { atMs: number; rows: number; lagMs: number | null }[]>;
  syncEvents: { pipeline: string; type: string; message: string; at: number }[];
  syncError: string | null;
  syncBusy: string | null;
  loadPipelines(): Promise<void>;
  selectPipeline(name: string): Promise<void>;
  newPipeline(name: string, yaml: string): void;
  setPipelineYaml(yaml: string): void;
  validatePipeline(): Promise<void>;
  savePipeline(): Promise<boolean>;
  testConnection(): Promise<void>;
  planPipeline(): Promise<void>;
  startPipeline(untilCaughtUp: boolean): Promise<void>;
  stopPipeline(): Promise<void>;
  onSyncProgress(p: Wire<SyncProgress>): void;
  onSyncEvent(e: { pipeline: string; type: string; message: string }): void;
}

const err = (e: { code: string; message: string }) => `${e.code}: ${e.message}`;

/** The later of two progress reports of one pipeline (a listing asked before a pushed report may answer after it). */
function newerProgress(a: Wire<SyncProgress> | undefined, b: Wire<SyncProgress>): Wire<SyncProgress> {
  return a && a.updatedAtMs > b.updatedAtMs ? a : b;
}

export const createSyncSlice: StateCreator<SyncSlice, [], [], SyncSlice> = (set, get) => {
  async function busy<T>(what: string, run: () => Promise<T>): Promise<T> {
    set({ syncBusy: what, syncError: null });
    try {
      return await run();
    } finally {
      set({ syncBusy: null });
    }
  }
  return {
    pipelines: [],
    pipelineName: null,
    pipelineYaml: '',
    pipelineDirty: false,
    validation: null,
    preflight: null,
    plan: null,
    progress: {},
    progressHistory: {},
    syncEvents: [],
    syncError: null,
    syncBusy: null,
    async loadPipelines() {
      const latest = takeTicket('sync.list');
      const r = await client.call('sync.list', {});
      if (!latest()) return;
      if (!r.ok) return set({ syncError: err(r.error) });
      const progress = { ...get().progress };
      for (const p of r.value) if (p.status) progress[p.name] = newerProgress(progress[p.name], p.status);
      set({ pipelines: r.value, progress });
    },
    async selectPipeline(name) {
      const latest = takeTicket('pipeline');
      const r = await client.call('sync.read', { name });
      if (!latest()) return;
      if (!r.ok) return set({ syncError: err(r.error) });
      set({ pipelineName: name, pipelineYaml: r.value.yaml, pipelineDirty: false, preflight: null, plan: null, syncError: null });
      await get().validatePipeline();
    },
    newPipeline(name, yaml) {
      // A pipeline still being read (selected just before) must not replace the new one.
      takeTicket('pipeline');
      set({ pipelineName: name, pipelineYaml: yaml, pipelineDirty: true, preflight: null, plan: null, validation: null, syncError: null });
      void get().validatePipeline();
    },
    setPipelineYaml(yaml) {
      set({ pipelineYaml: yaml, pipelineDirty: true });
    },
    async validatePipeline() {
      const { pipelineYaml, pipelineName } = get();
      const latest = takeTicket('sync.validate');
      const r = await client.call('sync.validate', { yaml: pipelineYaml, name: pipelineName ?? undefined });
      if (!latest() || get().pipelineName !== pipelineName) return;
      if (r.ok) set({ validation: r.value });
      else set({ syncError: err(r.error) });
    },
    async savePipeline() {
      const { pipelineName, pipelineYaml } = get();
      if (!pipelineName) return false;
      return busy('save', async () => {
        const r = await client.call('sync.save', { name: pipelineName, yaml: pipelineYaml });
        // Another pipeline chosen meanwhile: this one is saved, but its replies must not fill that one's editor.
        if (get().pipelineName !== pipelineName) {
          await get().loadPipelines();
          return r.ok;
        }
        if (!r.ok) {
          set({ syncError: err(r.error) });
          return false;
        }
        set({ validation: r.value.validation, pipelineDirty: false });
        // The saved text may differ (a literal password moved to the keychain).
        const saved = await client.call('sync.read', { name: pipelineName });
        if (saved.ok && get().pipelineName === pipelineName) set({ pipelineYaml: saved.value.yaml });
        await get().loadPipelines();
        return true;
      });
    },
    async testConnection() {
      const name = get().pipelineName;
      if (!name || !(await get().savePipeline())) return;
      await busy('test', async () => {
        const r = await client.call('sync.testConnection', { name });
        if (get().pipelineName !== name) return;
        if (r.ok) set({ preflight: r.value });
        else set({ syncError: err(r.error), preflight: null });
      });
    },
    async planPipeline() {
      const name = get().pipelineName;
      if (!name || !(await get().savePipeline())) return;
      await busy('plan', async () => {
        const r = await client.call('sync.plan', { name });
        if (get().pipelineName !== name) return;
        if (r.ok) set({ plan: r.value });
        else set({ syncError: err(r.error), plan: null });
      });
    },
    async startPipeline(untilCaughtUp) {
      const name = get().pipelineName;
      if (!name || !(await get().savePipeline())) return;
      const r = await client.call('sync.start', { name, untilCaughtUp });
      if (!r.ok) return set({ syncError: err(r.error) });
      await get().loadPipelines();
    },
    async stopPipeline() {
      const name = get().pipelineName;
      if (!name) return;
      await busy('stop', async () => {
        const r = await client.call('sync.stop', { name });
        if (!r.ok) set({ syncError: err(r.error) });
        await get().loadPipelines();
      });
    },
    onSyncProgress(p) {
      const rows = p.tables.reduce((n, t) => n + t.rowsCommitted, 0);
      const lags = p.tables.map((t) => t.lagMs).filter((l): l is number => l !== null);
      const sample = { atMs: p.updatedAtMs, rows, lagMs: lags.length ? Math.max(...lags) : null };
      const history = [...(get().progressHistory[p.pipeline] ?? []), sample].slice(-300);
      set({ progress: { ...get().progress, [p.pipeline]: p }, progressHistory: { ...get().progressHistory, [p.pipeline]: history } });
    },
    onSyncEvent(e) {
      set({ syncEvents: [...get().syncEvents.slice(-199), { ...e, at: Date.now() }] });
      if (e.type === 'sync.stopped' || e.type === 'sync.failed') void get().loadPipelines();
    },
  };
};
