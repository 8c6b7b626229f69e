import { resolve } from 'node:path';
import type { HandlerTable, RefChangeInfo } from '../api';
import { TidemarkError } from '../errors';
import { loadTable } from '../lake';
import { cherryPick, compactDataFiles, expireSnapshots, planCompaction, removeOrphanFiles, removeSnapshotRef, rollbackTo, setSnapshotRef, type RefChange } from '../lake/write';
import { listWarehouseTables, requireTableFormat } from '../lake';
import { createQueryCalls } from '../query';
import type { QueryEngine } from '../query';
import { createNodeQueryEngine } from '../query/node/index';
import type { StoragePort } from '../storage';
import { describeSnapshots, readFileEntries, readSchemaInfo, readTableInfo } from './lake-service';
import { describePaimonSnapshots, paimonSelectorOf, readPaimonFileEntries, readPaimonSchemaInfo, readPaimonTableInfo } from './paimon-service';
import { compactPaimon, expirePaimon, removePaimonRef, rollbackPaimon, setPaimonRef } from './paimon-ops';
import { removePaimonOrphanFiles } from '../lake/paimon/write';
import type { SyncService } from './sync-service';
import type { RemoteLakes } from './remote-lakes';
import type { ProfileStore } from './profiles';
import { exportResult } from './query-service';
import { DEFAULT_SETTINGS, type SettingsStore } from './settings';
import { TIDEMARK_VERSION } from './version';

export interface HandlerDeps {
  storage: StoragePort;
  mode: 'electron' | 'browser';
  electronVersion: string | null;
  /** Called with every folder the user opens, so the file server may serve files below it. */
  allowRoot(path: string): void;
  /** The warehouse given on the command line, opened first by the UI. */
  initialWarehouse: string | null;
  /** The query engine; created on first use (DuckDB-wasm takes ~1.5 s to start). */
  createEngine?: () => Promise<QueryEngine>;
  /** The sync manager (pipelines in the app's data folder); absent → sync.* calls fail NotFound. */
  sync?: SyncService;
  /** Remote lakes (s3://, REST catalogs); `storage` must then be `remote.storage`. Absent → lake.openRemote fails NotFound. */
  remote?: RemoteLakes;
  /** Saved connection profiles; absent → profiles.* calls fail NotFound. */
  profiles?: ProfileStore;
  /** The app's saved settings; absent → the defaults, and settings.save fails NotFound. */
  settings?: SettingsStore;
}

/** The one handler table behind Electron IPC and the browser-mode server. */
export function createHandlers(deps: HandlerDeps): HandlerTable {
  let engine: Promise<QueryEngine> | null = null;
  const getEngine = () => {
    // Started with the saved memory budget; settings.save changes it later through query.configure.
    engine ??= (deps.createEngine ?? (async () => createNodeQueryEngine(deps.storage, { memoryBudgetBytes: (await readSettings()).queryMemoryBudgetMiB * 2 ** 20 })))();
    engine.catch(() => (engine = null));
    return engine;
  };
  const abs = (p: string) => resolve(p);
  const sync = () => {
    if (!deps.sync) throw new TidemarkError('NotFound', 'the sync manager is not available in this process', {});
    return deps.sync;
  };
  const remote = () => {
    if (!deps.remote) throw new TidemarkError('NotFound', 'remote lakes are not available in this process', {});
    return deps.remote;
  };
  const profiles = () => {
    if (!deps.profiles) throw new TidemarkError('NotFound', 'saved profiles are not available in this process', {});
    return deps.profiles;
  };
  const readSettings = () => (deps.settings ? deps.settings.read() : Promise.resolve(DEFAULT_SETTINGS));
  const formatOf = (path: string) => requireTableFormat(deps.storage, path);
  /** The table at `path` read by its format's reader: the read calls' one format check. */
  const byFormat = async <T>(path: string, read: { iceberg(root: string): Promise<T>; paimon(root: string): Promise<T> }): Promise<T> => {
    const root = abs(path);
    return (await formatOf(root)) === 'paimon' ? read.paimon(root) : read.iceberg(root);
  };
  /** A local table the app may write, with its format (remote lakes are opened read-only). */
  const writable = async (path: string, what: string) => {
    const root = abs(path);
    if (deps.remote?.isRemote(root)) throw new TidemarkError('Unsupported', `${what}: ${root} is in a remote lake, which the app opens read-only`, { table: root });
    return { root, paimon: (await formatOf(root)) === 'paimon' };
  };
  /** Running maintenance tasks by the id their caller gave, for lake.cancel. */
  const tasks = new Map<string, AbortController>();
  const refChange = (c: RefChange & { mode?: 'fast-forward' | 'append' }): RefChangeInfo => ({ ...c, mode: c.mode ?? null });
  const queryCalls = createQueryCalls({
    storage: deps.storage,
    engine: getEngine,
    resolvePath: abs,
    // Paimon pages hold a bucket at a time under the saved budget without starting the engine.
    memoryBudgetBytes: async () => (await readSettings()).queryMemoryBudgetMiB * 2 ** 20,
  });

  return {
    'app.version': async () => ({
      version: TIDEMARK_VERSION,
      node: process.versions.node,
      electron: deps.electronVersion,
      mode: deps.mode,
    }),
    'app.initialState': async () => ({ warehouse: deps.initialWarehouse }),
    'settings.read': () => readSettings(),
    'settings.save': async (change, ctx) => {
      if (!deps.settings) throw new TidemarkError('NotFound', 'saved settings are not available in this process', {});
      const saved = await deps.settings.save(change);
      // Main's engine (the CLI server's, or the renderer's fallback) follows at once.
      await queryCalls['query.configure']({ memoryBudgetMiB: saved.queryMemoryBudgetMiB }, ctx);
      return saved;
    },
    'lake.openWarehouse': async ({ path }) => {
      const root = abs(path);
      const tables = await listWarehouseTables(deps.storage, root);
      deps.allowRoot(root);
      return { path: root, tables };
    },
    'lake.openRemote': async ({ target, profile }) => {
      const listing = await remote().open(target, profile);
      deps.allowRoot(listing.path);
      return listing;
    },
    'profiles.list': async () => profiles().list(),
    'profiles.save': async (input) => profiles().save(input),
    'profiles.delete': async ({ name }) => profiles().remove(name),
    'lake.tableInfo': ({ path }) => byFormat(path, { paimon: (root) => readPaimonTableInfo(deps.storage, root), iceberg: (root) => readTableInfo(deps.storage, root) }),
    'lake.snapshots': ({ path }) => byFormat(path, { paimon: (root) => describePaimonSnapshots(deps.storage, root), iceberg: async (root) => describeSnapshots(await loadTable(deps.storage, root)) }),
    'lake.schema': ({ path, version }) =>
      byFormat(path, { paimon: (root) => readPaimonSchemaInfo(deps.storage, root, paimonSelectorOf(version)), iceberg: (root) => readSchemaInfo(deps.storage, root, version) }),
    'lake.setRef': async ({ path, name, type, snapshotId }) => {
      const { root, paimon } = await writable(path, `${type} ${name}`);
      return refChange(paimon ? await setPaimonRef(root, name, type, snapshotId ?? null) : await setSnapshotRef(root, name, type, snapshotId ?? null));
    },
    'lake.removeRef': async ({ path, name, type }) => {
      const { root, paimon } = await writable(path, `${type} ${name}`);
      return refChange(paimon ? await removePaimonRef(root, name, type) : await removeSnapshotRef(root, name, type));
    },
    'lake.rollback': async ({ path, snapshotId }) => {
      const { root, paimon } = await writable(path, 'rollback');
      if (!paimon) return refChange(await rollbackTo(root, snapshotId));
      const { name, type, snapshotId: to, previousSnapshotId } = await rollbackPaimon(root, snapshotId);
      return refChange({ name, type, snapshotId: to, previousSnapshotId });
    },
    'lake.cherryPick': async ({ path, snapshotId, branch }) => {
      const { root, paimon } = await writable(path, 'cherry-pick');
      if (paimon) throw new TidemarkError('Unsupported', `cherry-pick: ${root} is a Paimon table, and Paimon has no cherry-pick (its branches are merged by fast-forward only); cherry-pick is for Iceberg tables`, { table: root });
      return refChange(await cherryPick(root, snapshotId, { branch }));
    },
    'lake.compact': async ({ path, scope, dryRun, task }, ctx) => {
      const { root, paimon } = await writable(path, 'compaction');
      // Paimon's full compaction is one COMPACT commit without progress steps: it is not cancellable.
      if (paimon) return compactPaimon(root, { scope, dryRun });
      if (dryRun) return { ...(await planCompaction(root, scope)), dryRun: true, committedSnapshotId: null, writtenFiles: null, liveRecords: null };
      const abort = new AbortController();
      if (task) tasks.set(task, abort);
      try {
        const r = await compactDataFiles(root, {
          scope,
          signal: abort.signal,
          onProgress: (p) => task && ctx.emit('app.progress', { task, done: p.doneBytes, total: p.totalBytes, message: `compacting: ${p.doneFiles} of ${p.totalFiles} files` }),
        });
        return { ...r, dryRun: false };
      } finally {
        if (task) tasks.delete(task);
      }
    },
    'lake.expire': async ({ path, retainLast, olderThanMs, dryRun }) => {
      const { root, paimon } = await writable(path, 'expire snapshots');
      if (paimon) {
        const { paths: _paths, ...info } = await expirePaimon(root, { retainLast, olderThanMs, dryRun });
        return info;
      }
      const r = await expireSnapshots(root, { retainLast, olderThanMs, dryRun });
      const kept = (await loadTable(deps.storage, abs(path))).metadata.snapshots.length - (dryRun ? r.expiredSnapshotIds.length : 0);
      return { dryRun, expiredSnapshotIds: r.expiredSnapshotIds, keptSnapshots: kept, files: Object.values(r.deleted).reduce((n, l) => n + l.length, 0), bytes: r.deletedBytes };
    },
    'lake.removeOrphans': async ({ path, olderThanMs, dryRun }) => {
      const { root, paimon } = await writable(path, 'remove orphan files');
      const r = paimon ? await removePaimonOrphanFiles(root, { olderThanMs, dryRun }) : await removeOrphanFiles(root, { olderThanMs, dryRun });
      return { dryRun, files: r.orphans.length, bytes: r.orphans.reduce((n, o) => n + o.size, 0), paths: r.orphans.slice(0, 100).map((o) => o.path), referencedCount: r.referencedCount };
    },
    'lake.cancel': async ({ task }) => {
      const t = tasks.get(task);
      t?.abort();
      return { task, cancelled: t !== undefined };
    },
    'lake.files': ({ path, version }) =>
      byFormat(path, { paimon: (root) => readPaimonFileEntries(deps.storage, root, paimonSelectorOf(version)), iceberg: (root) => readFileEntries(deps.storage, root, version) }),
    ...queryCalls,
    'query.export': async (input) =>
      exportResult(await getEngine(), { ...input, to: abs(input.to), path: input.path ? abs(input.path) : undefined, warehouse: input.warehouse ? abs(input.warehouse) : undefined }),
    'sync.list': async () => sync().list(),
    'sync.read': async ({ name }) => sync().read(name),
    'sync.save': async ({ name, yaml }) => sync().save(name, yaml),
    'sync.delete': async ({ name }) => sync().remove(name),
    'sync.validate': async ({ yaml, name }) => sync().validate(yaml, name),
    'sync.testConnection': async ({ name }) => sync().testConnection(name),
    'sync.plan': async ({ name }) => sync().plan(name),
    'sync.start': async ({ name, untilCaughtUp }, ctx) => sync().start(name, untilCaughtUp, ctx),
    'sync.stop': async ({ name }) => sync().stop(name),
    'sync.status': async ({ name }) => sync().status(name),
  };
}
