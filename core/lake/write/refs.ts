/**
 * Snapshot management (spec "Snapshot References"): tags and branches created, moved and removed,
 * main rolled back to an ancestor, and a snapshot cherry-picked onto a branch. Each is one metadata
 * commit under commitTable's optimistic concurrency (a lost race re-reads and re-checks).
 *
 * Meanings follow Iceberg's Java ManageSnapshots: rollback accepts only an ancestor of main's
 * current snapshot; cherry-pick fast-forwards a branch whose head is the snapshot's parent, re-applies
 * the data files of an append elsewhere (recording `source-snapshot-id`), and refuses anything else
 * and any snapshot already picked or already in the branch.
 */
import { resolve } from 'node:path';
import { TidemarkError } from '../../errors';
import { createLocalStorage } from '../../storage/node/index';
import { FILE_CONTENT, type DataFile, type Snapshot, type TableMetadata } from '../model';
import { readSnapshotEntries } from '../scan-plan';
import { loadTable } from '../table';
import { commitTable, defaultWriteEnv, type WriteEnv } from './commit';
import { commitSnapshot } from './snapshot-commit';

export type RefType = 'branch' | 'tag';

/** What a ref operation did, for the CLI line and the API reply. */
export interface RefChange {
  name: string;
  type: RefType;
  /** The snapshot the ref points at now; null when it was removed. */
  snapshotId: bigint | null;
  /** The snapshot it pointed at before; null when it was created. */
  previousSnapshotId: bigint | null;
}

function snapshotOf(m: TableMetadata, id: bigint, root: string): Snapshot {
  const s = m.snapshots.find((x) => x.snapshotId === id);
  if (!s) throw new TidemarkError('NotFound', `snapshot ${id} not found in table ${root}`, { snapshotId: id.toString(), table: root });
  return s;
}

function checkName(name: string): void {
  if (name.trim() === '' || name !== name.trim()) {
    throw new TidemarkError('InvalidInput', `ref name ${JSON.stringify(name)}: expected a non-empty name without leading or trailing spaces`, { ref: name });
  }
}

/** Snapshot ids from `head` back through its parents (head first). */
function ancestorsOf(m: TableMetadata, head: bigint | null): Snapshot[] {
  const byId = new Map(m.snapshots.map((s) => [s.snapshotId, s]));
  const out: Snapshot[] = [];
  for (let id = head; id !== null; ) {
    const s = byId.get(id);
    if (!s) break;
    out.push(s);
    id = s.parentSnapshotId;
  }
  return out;
}

/** The metadata with branch `name` at `snapshotId`; main also moves the current snapshot and its log. */
function pointBranch(m: TableMetadata, name: string, snapshotId: bigint, now: number): TableMetadata {
  const refs = { ...m.refs, [name]: { ...(m.refs[name] ?? {}), snapshotId, type: 'branch' as const } };
  if (name !== 'main') return { ...m, lastUpdatedMs: now, refs };
  return { ...m, lastUpdatedMs: now, refs, currentSnapshotId: snapshotId, snapshotLog: [...m.snapshotLog, { snapshotId, timestampMs: now }] };
}

/**
 * Creates ref `name` of `type` at `snapshotId` (null: main's current snapshot), or moves it there
 * when it exists with the same type. A name held by the other type is InvalidInput.
 */
export async function setSnapshotRef(root: string, name: string, type: RefType, snapshotId: bigint | null, env: WriteEnv = defaultWriteEnv): Promise<RefChange> {
  checkName(name);
  const table = resolve(root);
  let change: RefChange | null = null;
  await commitTable(
    table,
    async (base) => {
      const m = base.metadata;
      const target = snapshotId ?? m.currentSnapshotId;
      if (target === null) throw new TidemarkError('InvalidInput', `${type} ${name}: table ${table} has no snapshot yet`, { table, ref: name });
      snapshotOf(m, target, table);
      const existing = m.refs[name];
      if (existing && existing.type !== type) {
        throw new TidemarkError('InvalidInput', `${name} is a ${existing.type} of ${table}, not a ${type}: remove it first or choose another name`, { table, ref: name });
      }
      const now = Math.max(env.now(), m.lastUpdatedMs);
      change = { name, type, snapshotId: target, previousSnapshotId: existing?.snapshotId ?? null };
      if (type === 'branch') return pointBranch(m, name, target, now);
      return { ...m, lastUpdatedMs: now, refs: { ...m.refs, [name]: { ...(existing ?? {}), snapshotId: target, type: 'tag' } } };
    },
    env,
  );
  return change!;
}

/** Removes tag or branch `name` (`type` must match); main cannot be removed. */
export async function removeSnapshotRef(root: string, name: string, type: RefType, env: WriteEnv = defaultWriteEnv): Promise<RefChange> {
  const table = resolve(root);
  if (name === 'main') throw new TidemarkError('InvalidInput', `branch main of ${table} cannot be removed`, { table, ref: name });
  let change: RefChange | null = null;
  await commitTable(
    table,
    async (base) => {
      const m = base.metadata;
      const existing = m.refs[name];
      if (!existing) {
        const known = Object.keys(m.refs).join(', ') || 'none';
        throw new TidemarkError('NotFound', `no ${type} named ${name} in ${table} (refs: ${known})`, { table, ref: name });
      }
      if (existing.type !== type) throw new TidemarkError('InvalidInput', `${name} is a ${existing.type} of ${table}, not a ${type}`, { table, ref: name });
      const { [name]: _removed, ...refs } = m.refs;
      change = { name, type, snapshotId: null, previousSnapshotId: existing.snapshotId };
      return { ...m, lastUpdatedMs: Math.max(env.now(), m.lastUpdatedMs), refs };
    },
    env,
  );
  return change!;
}

/** Rolls main back to `snapshotId`, which must be an ancestor of main's current snapshot. */
export async function rollbackTo(root: string, snapshotId: bigint, env: WriteEnv = defaultWriteEnv): Promise<RefChange> {
  const table = resolve(root);
  let change: RefChange | null = null;
  await commitTable(
    table,
    async (base) => {
      const m = base.metadata;
      snapshotOf(m, snapshotId, table);
      const head = m.refs.main?.snapshotId ?? m.currentSnapshotId;
      if (!ancestorsOf(m, head).some((s) => s.snapshotId === snapshotId)) {
        throw new TidemarkError(
          'InvalidInput',
          `rollback: snapshot ${snapshotId} is not an ancestor of main's current snapshot ${head ?? 'none'} in ${table}; to point main at any snapshot, use tidemark branch <table> main --snapshot ${snapshotId}`,
          { table, snapshotId: snapshotId.toString() },
        );
      }
      change = { name: 'main', type: 'branch', snapshotId, previousSnapshotId: head };
      return pointBranch(m, 'main', snapshotId, Math.max(env.now(), m.lastUpdatedMs));
    },
    env,
  );
  return change!;
}

export interface CherryPickResult extends RefChange {
  /** How: the branch moved to the snapshot itself, or a new snapshot re-applied its appended files. */
  mode: 'fast-forward' | 'append';
}

/**
 * Applies snapshot `snapshotId` onto `branch` (default main): a fast-forward when the branch's head
 * is its parent, else a new append snapshot with its added data files (summary
 * `source-snapshot-id`). Anything but an append, a snapshot already in the branch, or one already
 * picked onto it is refused, naming why.
 */
export async function cherryPick(root: string, snapshotId: bigint, options: { branch?: string; env?: WriteEnv } = {}): Promise<CherryPickResult> {
  const table = resolve(root);
  const branch = options.branch ?? 'main';
  const env = options.env ?? defaultWriteEnv;
  const base = await loadTable(createLocalStorage(), table);
  const decide = (m: TableMetadata) => {
    const snap = snapshotOf(m, snapshotId, table);
    const ref = m.refs[branch];
    if (ref && ref.type !== 'branch') throw new TidemarkError('InvalidInput', `cherry-pick: ${branch} is a tag of ${table}; cherry-pick onto a branch`, { table, ref: branch });
    const head = ref?.snapshotId ?? (branch === 'main' ? m.currentSnapshotId : null);
    if (head === null) throw new TidemarkError('NotFound', `cherry-pick: no branch ${branch} in ${table}`, { table, ref: branch });
    const line = ancestorsOf(m, head);
    if (line.some((s) => s.snapshotId === snapshotId)) {
      throw new TidemarkError('InvalidInput', `cherry-pick: snapshot ${snapshotId} is already in branch ${branch} of ${table}`, { table, snapshotId: snapshotId.toString() });
    }
    if (line.some((s) => s.summary['source-snapshot-id'] === snapshotId.toString())) {
      throw new TidemarkError('InvalidInput', `cherry-pick: snapshot ${snapshotId} was already cherry-picked onto branch ${branch} of ${table}`, { table, snapshotId: snapshotId.toString() });
    }
    return { snap, head };
  };
  const first = decide(base.metadata);
  if (first.snap.parentSnapshotId === first.head) {
    let change: CherryPickResult | null = null;
    await commitTable(
      table,
      async (latest) => {
        const { head } = decide(latest.metadata);
        if (first.snap.parentSnapshotId !== head) throw new TidemarkError('CommitConflict', `cherry-pick: branch ${branch} of ${table} moved meanwhile; run it again`, { table, ref: branch });
        change = { name: branch, type: 'branch', snapshotId, previousSnapshotId: head, mode: 'fast-forward' };
        return pointBranch(latest.metadata, branch, snapshotId, Math.max(env.now(), latest.metadata.lastUpdatedMs));
      },
      env,
    );
    return change!;
  }
  const operation = first.snap.summary.operation ?? 'unknown';
  if (operation !== 'append') {
    throw new TidemarkError(
      'Unsupported',
      `cherry-pick: snapshot ${snapshotId} of ${table} is a ${operation} snapshot, and branch ${branch} is not at its parent; only appends can be re-applied elsewhere (as in Iceberg)`,
      { table, snapshotId: snapshotId.toString(), operation },
    );
  }
  // The data files the append added, under the spec their manifests were written with.
  const added: DataFile[] = [];
  for (const g of await readSnapshotEntries(createLocalStorage(), base, first.snap)) {
    for (const e of g.entries) {
      if (e.status !== 1 || e.snapshotId !== snapshotId || e.dataFile.content !== FILE_CONTENT.data) continue;
      if (g.manifest.partitionSpecId !== base.metadata.defaultSpecId) {
        throw new TidemarkError('Unsupported', `cherry-pick: snapshot ${snapshotId} wrote files under partition spec ${g.manifest.partitionSpecId}, the table's is now ${base.metadata.defaultSpecId}`, { table });
      }
      added.push(e.dataFile);
    }
  }
  let previous: bigint | null = null;
  const committed = await commitSnapshot(
    table,
    async (latest) => {
      previous = decide(latest.metadata).head;
      return { operation: 'append', addedDataFiles: added, summary: { 'source-snapshot-id': snapshotId.toString() } };
    },
    { branch, env },
  );
  const now = committed.metadata.refs[branch]!.snapshotId;
  return { name: branch, type: 'branch', snapshotId: now, previousSnapshotId: previous, mode: 'append' };
}
