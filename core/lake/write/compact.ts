/**
 * Compaction with a preview (spec operation `replace`): the whole table, one partition, or only the
 * small files. Live rows (deletes applied) are read one data file at a time and written into files
 * of about the table's target size; memory follows one input file and one output batch, not the
 * table. A whole-table compaction drops every delete file; a partial one keeps them (they still
 * apply to files it did not rewrite, and never to the new files, whose sequence number is newer).
 * Progress is reported per file; an abort before the commit removes the files already written.
 * Format-version 3: each row keeps its `_row_id` and `_last_updated_sequence_number`, written into
 * the new files as metadata columns (spec "Row Lineage"), so rewritten rows are the same rows.
 */
import { resolve } from 'node:path';
import { TidemarkError } from '../../errors';
import type { WritableStorage } from '../../storage';
import { createLocalStorage } from '../../storage/node/index';
import type { DataFile } from '../model';
import { allFields, DeleteCache, readDataFileRows, type Row } from '../row-reader';
import { rowLineageFields } from '../row-lineage';
import { planScan, type PlannedDataFile, type ScanPlan } from '../scan-plan';
import { loadTable, type LoadedTable } from '../table';
import { defaultWriteEnv, tableRoot, writeStorage, type WriteEnv } from './commit';
import { writeDataFiles } from './data-files';
import { parquetCodec } from './parquet-write';
import { currentSchema } from './operations';
import { targetFileSizeBytes } from './rolling-file';
import { commitSnapshot, isDeletionVector } from './snapshot-commit';

export type CompactionScope = { kind: 'all' } | { kind: 'small'; belowBytes?: number } | { kind: 'partition'; partition: string };

export interface CompactionPreview {
  /** The snapshot the preview read; null for a table without snapshots. */
  snapshotId: bigint | null;
  /** Data files that would be rewritten, their bytes and records (before deletes). */
  files: number;
  bytes: number;
  records: number;
  /** Delete files that would be removed: all (whole table), else the rewritten files' deletion vectors (blob bytes). */
  deleteFiles: number;
  deleteBytes: number;
  /** Partitions touched. */
  partitions: number;
  targetFileSizeBytes: number;
  /** Files written, estimated from the input bytes and the target size (at least one per partition). */
  estimatedFiles: number;
}

export interface CompactionProgress {
  doneFiles: number;
  totalFiles: number;
  doneBytes: number;
  totalBytes: number;
}

export interface CompactionResult extends CompactionPreview {
  /** The snapshot committed; null when nothing was selected (no commit is made then). */
  committedSnapshotId: bigint | null;
  writtenFiles: number;
  liveRecords: number;
}

/** Rows buffered before a batch of output files is written: the compaction's memory bound. */
const BATCH_ROWS = 250_000;

/** A partition tuple as text (the key a scope names): JSON with 64-bit values as decimal strings. */
export function partitionText(values: readonly unknown[]): string {
  return JSON.stringify(values, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
}

function select(plan: ScanPlan, table: LoadedTable, scope: CompactionScope): PlannedDataFile[] {
  const target = targetFileSizeBytes(table.metadata);
  if (scope.kind === 'all') return plan.files;
  if (scope.kind === 'partition') return plan.files.filter((f) => partitionText(f.partition) === scope.partition);
  // Iceberg's RewriteDataFiles default: files under 75% of the target size are "small".
  const below = scope.belowBytes ?? Math.floor(target * 0.75);
  if (!Number.isSafeInteger(below) || below <= 0) throw new TidemarkError('InvalidInput', `compaction: belowBytes must be a positive number of bytes, found ${below}`, {});
  // A lone small file in its partition gains nothing from a rewrite unless deletes apply to it.
  const small = plan.files.filter((f) => f.fileSizeInBytes < below);
  const perPartition = new Map<string, number>();
  for (const f of small) perPartition.set(partitionText(f.partition), (perPartition.get(partitionText(f.partition)) ?? 0) + 1);
  return small.filter((f) => perPartition.get(partitionText(f.partition))! > 1 || f.deletes.length > 0);
}

function previewOf(plan: ScanPlan, table: LoadedTable, scope: CompactionScope, files: PlannedDataFile[]): CompactionPreview {
  const target = targetFileSizeBytes(table.metadata);
  const byPartition = new Map<string, number>();
  for (const f of files) byPartition.set(partitionText(f.partition), (byPartition.get(partitionText(f.partition)) ?? 0) + f.fileSizeInBytes);
  // A partial compaction keeps delete files, except the deletion vectors of the files it rewrites.
  const deletes = scope.kind === 'all' ? uniqueDeletes(files) : files.flatMap((f) => f.deletes.filter((d) => isDeletionVector(d.dataFile)).map((d) => ({ path: d.path, fileSizeInBytes: d.dataFile.contentSizeInBytes ?? 0 })));
  return {
    snapshotId: plan.snapshot?.snapshotId ?? null,
    files: files.length,
    bytes: files.reduce((n, f) => n + f.fileSizeInBytes, 0),
    records: files.reduce((n, f) => n + f.recordCount, 0),
    deleteFiles: deletes.length,
    deleteBytes: deletes.reduce((n, d) => n + d.fileSizeInBytes, 0),
    partitions: byPartition.size,
    targetFileSizeBytes: target,
    estimatedFiles: [...byPartition.values()].reduce((n, bytes) => n + Math.max(1, Math.ceil(bytes / target)), 0),
  };
}

function uniqueDeletes(files: PlannedDataFile[]): { path: string; fileSizeInBytes: number }[] {
  const seen = new Map<string, { path: string; fileSizeInBytes: number }>();
  for (const f of files) for (const d of f.deletes) seen.set(d.path, d);
  return [...seen.values()];
}

/** What compactDataFiles would rewrite now, without writing anything. */
export async function planCompaction(root: string, scope: CompactionScope): Promise<CompactionPreview> {
  const storage = createLocalStorage();
  const table = await loadTable(storage, resolve(root));
  const plan = await planScan(storage, table);
  return previewOf(plan, table, scope, select(plan, table, scope));
}

export interface CompactOptions {
  scope: CompactionScope;
  /** Summary properties of the replace snapshot (e.g. the sync's source offset). */
  summary?: Record<string, string>;
  env?: WriteEnv;
  onProgress?(p: CompactionProgress): void;
  signal?: AbortSignal;
}

/** Compacts the files `scope` selects (see the file comment); one `replace` commit. */
export async function compactDataFiles(root: string, options: CompactOptions): Promise<CompactionResult> {
  const env = options.env ?? defaultWriteEnv;
  const abs = tableRoot(root);
  const storage = writeStorage(env);
  let preview: CompactionPreview | null = null;
  let written: DataFile[] = [];
  let live = 0;
  const cancelled = () => new TidemarkError('Cancelled', `compaction of ${abs} cancelled; nothing was committed`, { table: abs });
  try {
    const committed = await commitSnapshot(
      abs,
      async (base) => {
        // A retry after a lost race plans again: the files written for the lost attempt go.
        await removeFiles(storage, written);
        written = [];
        live = 0;
        const plan = await planScan(storage, base);
        const files = select(plan, base, options.scope);
        preview = previewOf(plan, base, options.scope, files);
        if (files.length === 0) throw new NothingToCompact();
        const m = base.metadata;
        const lineage = rowLineageFields(m);
        const ctx = { root: abs, schema: currentSchema(m), spec: m.partitionSpecs.find((s) => s.specId === m.defaultSpecId)!, env, metadataFields: lineage, codec: parquetCodec(m) };
        const cache = new DeleteCache(storage, plan.table, allFields(plan.table));
        const progress: CompactionProgress = { doneFiles: 0, totalFiles: files.length, doneBytes: 0, totalBytes: preview.bytes };
        // Files of one partition together, so that small files of a partition end in few files.
        const ordered = [...files].sort((a, b) => (partitionText(a.partition) < partitionText(b.partition) ? -1 : partitionText(a.partition) > partitionText(b.partition) ? 1 : 0));
        let batch: Row[] = [];
        let batchBytes = 0;
        const flush = async () => {
          if (batch.length === 0) return;
          written.push(...(await writeDataFiles(ctx, batch)));
          batch = [];
          batchBytes = 0;
        };
        for (const f of ordered) {
          if (options.signal?.aborted) throw cancelled();
          const rows = await readDataFileRows(storage, plan, f, cache, lineage);
          live += rows.length;
          for (const r of rows) batch.push(r);
          batchBytes += f.fileSizeInBytes;
          if (batch.length >= BATCH_ROWS || batchBytes >= preview.targetFileSizeBytes) await flush();
          progress.doneFiles++;
          progress.doneBytes += f.fileSizeInBytes;
          options.onProgress?.({ ...progress });
        }
        await flush();
        if (options.signal?.aborted) throw cancelled();
        if (options.scope.kind === 'all') return { operation: 'replace', removeAll: true, addedDataFiles: written, summary: options.summary };
        return { operation: 'replace', removeFiles: new Set(files.map((f) => f.dataFile.filePath)), addedDataFiles: written, summary: options.summary };
      },
      { env },
    );
    const snapshotId = committed.metadata.currentSnapshotId;
    return { ...preview!, committedSnapshotId: snapshotId, writtenFiles: written.length, liveRecords: live };
  } catch (e) {
    if (e instanceof NothingToCompact) return { ...preview!, committedSnapshotId: null, writtenFiles: 0, liveRecords: 0 };
    // Nothing was committed: the files written for it would only be orphans.
    await removeFiles(storage, written);
    throw e;
  }
}

class NothingToCompact extends Error {}

async function removeFiles(storage: WritableStorage, files: DataFile[]): Promise<void> {
  for (const f of files) await storage.delete(f.filePath.replace(/^file:\/\//, '')).catch(() => undefined);
}
