import { createLocalStorage } from '../../../storage/node';
import { deletionVectorsEnabled } from '../schema';
import { filesByBucket } from '../read';
import { COMPACTION_FILE_ROWS, pickBucketCompaction, universalOptionsOf } from './compact';
import { readPaimonTableState } from './table-state';

/**
 * The preview of compactPaimonTable: per (partition, bucket) the same pick the compaction makes
 * (full: every run into the max level; else Java's universal pick, ForceUpLevel0 with deletion
 * vectors), and the files, bytes and records it would read. Each compacted bucket is written as
 * one file per COMPACTION_FILE_ROWS merged rows: `outputFiles` bounds the files it would write
 * (exact unless merging drops rows across a multiple of that).
 */
export interface PaimonCompactionPlan {
  snapshotId: bigint | null;
  files: number;
  bytes: number;
  records: number;
  /** Input files carrying a deletion vector, and those vectors' bytes. */
  deletionVectors: number;
  deletionVectorBytes: number;
  partitions: number;
  buckets: number;
  /** Files the compaction writes at most: per bucket one, and one more every COMPACTION_FILE_ROWS input records. */
  outputFiles: number;
}

export async function planPaimonCompaction(root: string, options: { full?: boolean } = {}): Promise<PaimonCompactionPlan> {
  const state = await readPaimonTableState(createLocalStorage(), root);
  const o = universalOptionsOf(state.schema);
  // Deletion vectors and changelog-producer lookup both take every level-0 file up (ForceUpLevel0).
  const dv = deletionVectorsEnabled(state.schema) || (state.schema.options['changelog-producer'] ?? 'none').toLowerCase() === 'lookup';
  const plan: PaimonCompactionPlan = { snapshotId: state.snapshot?.id ?? null, files: 0, bytes: 0, records: 0, deletionVectors: 0, deletionVectorBytes: 0, partitions: 0, buckets: 0, outputFiles: 0 };
  const partitions = new Set<string>();
  for (const files of filesByBucket(state.files)) {
    const unit = pickBucketCompaction(files, o, options.full, dv);
    if (!unit) continue;
    plan.buckets++;
    const records = unit.runs.flatMap((r) => r.files).reduce((n, f) => n + f.recordCount, 0);
    plan.outputFiles += Math.max(1, Math.ceil(records / COMPACTION_FILE_ROWS));
    for (const f of unit.runs.flatMap((r) => r.files)) {
      partitions.add(f.partitionKey);
      plan.files++;
      plan.bytes += f.fileSizeBytes;
      plan.records += f.recordCount;
      if (f.deletionVector) {
        plan.deletionVectors++;
        plan.deletionVectorBytes += f.deletionVector.length;
      }
    }
  }
  plan.partitions = partitions.size;
  return plan;
}
