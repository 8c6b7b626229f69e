import { writeFileAtomic } from './file-atomic';
import type { SyncPhase, SyncProgress, TableProgress } from '../../api';
export type { SyncPhase, SyncProgress, TableProgress };

/** What `onEvent` receives. `sync.progress` follows every commit round and phase change. */
export type SyncEvent =
  | { type: 'sync.progress'; payload: SyncProgress }
  | { type: 'sync.commit'; payload: { table: string; snapshotId: string; rows: number; lagMs: number | null; position: string } }
  | { type: 'sync.schema-change'; payload: { table: string; ddl: string; notes: string[]; position: string } }
  | { type: 'sync.warning'; payload: { message: string } };

export class SyncStatus {
  readonly tables = new Map<string, TableProgress>();
  phase: SyncPhase = 'starting';
  committedPosition: string | null = null;
  committedGtid: string | null = null;
  bufferedTransactions = 0;
  lastError: string | null = null;

  constructor(
    readonly pipeline: string,
    private readonly now: () => number,
  ) {}

  table(id: string): TableProgress {
    let t = this.tables.get(id);
    if (!t) {
      t = { table: id, rowsIn: 0, rowsCommitted: 0, commits: 0, lastSnapshotId: null, lastCommitAtMs: null, lagMs: null, snapshot: null, lastError: null };
      this.tables.set(id, t);
    }
    return t;
  }

  snapshotOf(): SyncProgress {
    return {
      pipeline: this.pipeline,
      phase: this.phase,
      committedPosition: this.committedPosition,
      committedGtid: this.committedGtid,
      bufferedTransactions: this.bufferedTransactions,
      tables: [...this.tables.values()].map((t) => ({ ...t, snapshot: t.snapshot ? { ...t.snapshot } : null })),
      lastError: this.lastError,
      updatedAtMs: this.now(),
    };
  }
}

export async function writeStatusFile(path: string, progress: SyncProgress): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(progress, null, 2)}\n`);
}

/** One stderr line for the CLI: phase, position, per-table rows and lag. */
export function formatProgressLine(p: SyncProgress): string {
  const tables = p.tables
    .map((t) => {
      const snap = t.snapshot && !t.snapshot.done ? ` snapshot ${t.snapshot.rowsDone}/${t.snapshot.rowsEstimated}${t.snapshot.etaMs !== null ? ` eta ${Math.round(t.snapshot.etaMs / 1000)}s` : ''}` : '';
      return `${t.table} in=${t.rowsIn} committed=${t.rowsCommitted} commits=${t.commits}${t.lagMs !== null ? ` lag=${t.lagMs}ms` : ''}${snap}`;
    })
    .join('; ');
  return `[${p.pipeline}] ${p.phase} at ${p.committedPosition ?? '-'}${tables ? `: ${tables}` : ''}${p.lastError ? ` error: ${p.lastError}` : ''}`;
}
