import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { defaultWriteEnv, type WriteEnv } from '../../write/commit';
import { bytesToHex } from '../../values';
import { decodeBinaryRow } from '../binary-row';
import { partitionPath } from '../manifest';
import type { PaimonDataType, PaimonSchema } from '../schema';
import { compareRows, encodeBinaryRow, hashBinaryRow, toPhysicalLazy, type PhysicalValue } from './binary-row-write';
import { ROW_KINDS, trimmedKeyFields, writeKeyValueFile, type KeyValue, type RowKindName } from './data-file-write';
import { KIND_ADD, type IndexEntryRecord, type ManifestEntryRecord } from './manifest-write';
import { DynamicBucketAssigner, type PendingAssignments } from './dynamic-bucket';
import { commitPaimonSnapshot, removeFiles, type PaimonCommitResult } from './snapshot-commit';
import { assertWritableSchema } from './table-create';
import { compactPaimonTable } from './compact';
import { readWriteState } from './state-cache';
import { createLocalStorage } from '../../../storage/node/index';
import type { PaimonDataFileEntry } from '../manifest';

/**
 * Committing a batch of row changes to a Paimon primary-key table, as Java Paimon's writer does for
 * one checkpoint: each change gets its partition, its bucket (Math.abs(hash(bucket key BinaryRow) % bucket)); per (partition,
 * bucket) the changes are merged by key in the write buffer (deduplicate: the last one wins, a
 * retraction stays as a -U / -D record) in sequence-number order (continuing from the bucket's
 * highest), sorted by key and written as one level-0 file
 * `<k=v>/bucket-<n>/data-<uuid>-0.parquet`; one APPEND snapshot names them all.
 */

export interface PaimonChange {
  /** RowKind: +I insert, -U update before, +U update after, -D delete. */
  kind: RowKindName;
  /** Canonical values by column name (core/lake/values.ts); a retraction needs at least the key and partition columns. */
  row: Record<string, unknown>;
}

export interface PaimonCommitOptions {
  commitUser: string;
  /** Monotonically increasing per commit user (exactly once: see lastPaimonCommit). */
  commitIdentifier: bigint;
  /** Stored in the snapshot's `properties`, e.g. the source offset. */
  properties?: Record<string, string>;
  watermark?: bigint;
  /** Commit a snapshot even when there are no changes (e.g. to record a newer source offset). */
  allowEmpty?: boolean;
  /**
   * After the APPEND snapshot, as Java's writer does at each commit: 'auto' compacts the buckets
   * where compaction is due (with deletion vectors: every level-0 file, which batch reads skip
   * otherwise), 'full' every bucket, 'none' nothing. Default: 'none' when the table has
   * `write-only: true`, else 'auto'. The COMPACT snapshot has the same commit user and identifier.
   */
  compaction?: 'none' | 'auto' | 'full';
  /** Level-0 files flushed ahead of this commit (preparePaimonChanges): committed in the same snapshot, before `changes`. */
  prepared?: PreparedPaimonFiles | null;
  env?: WriteEnv;
}

/** Per-schema positions and types, computed once (the per-row functions below run for every change). */
interface RowShape {
  names: Set<string>;
  partIdx: number[];
  partTypes: PaimonDataType[];
  bucketIdx: number[];
  bucketTypes: PaimonDataType[];
  keyIdx: number[];
  keyTypes: PaimonDataType[];
  /** The bucket key is the trimmed primary key: its row doubles as the key's identity. */
  bucketIsKey: boolean;
  /** An unpartitioned table's one partition row (shared: never written to). */
  noPartition: Uint8Array | null;
}

const shapes = new WeakMap<PaimonSchema, RowShape>();

function shapeOf(schema: PaimonSchema): RowShape {
  let s = shapes.get(schema);
  if (s) return s;
  const index = (name: string) => schema.paimonFields.findIndex((f) => f.name === name);
  const partIdx = schema.partitionKeys.map(index);
  const bucketIdx = schema.bucketKeys.map(index);
  const keyIdx = trimmedKeyFields(schema).map((f) => schema.paimonFields.indexOf(f));
  const typesOf = (idx: number[]) => idx.map((i) => schema.paimonFields[i]!.type);
  s = {
    names: new Set(schema.paimonFields.map((f) => f.name)),
    partIdx,
    partTypes: typesOf(partIdx),
    bucketIdx,
    bucketTypes: typesOf(bucketIdx),
    keyIdx,
    keyTypes: typesOf(keyIdx),
    bucketIsKey: bucketIdx.length === keyIdx.length && bucketIdx.every((b, i) => b === keyIdx[i]),
    noPartition: partIdx.length === 0 ? encodeBinaryRow([], []).serialized : null,
  };
  shapes.set(schema, s);
  return s;
}

/** Physical values of a row in schema order; `where` names the change in errors. Every NOT NULL column needs a value. */
export function physicalRow(schema: PaimonSchema, row: Record<string, unknown>, retract: boolean, whereOf: string | (() => string)): PhysicalValue[] {
  const where = () => (typeof whereOf === 'string' ? whereOf : whereOf());
  if (typeof row !== 'object' || row === null) throw new TidemarkError('InvalidInput', `${where()}: expected a row object, found ${JSON.stringify(row)}`);
  const shape = shapeOf(schema);
  for (const name in row) {
    if (!shape.names.has(name)) {
      throw new TidemarkError('InvalidInput', `${where()}: column ${name} is not in schema ${schema.schemaId} (columns: ${schema.paimonFields.map((f) => f.name).join(', ')})`);
    }
  }
  const fields = schema.paimonFields;
  const out: PhysicalValue[] = new Array(fields.length);
  for (let c = 0; c < fields.length; c++) {
    const f = fields[c]!;
    const v = toPhysicalLazy(f.type, row[f.name], whereOf, f.name);
    // A retraction is stored as a whole row too (Parquet cannot hold a null in a NOT NULL column):
    // it needs every NOT NULL column, as a binlog before-image has.
    if (v === null && !f.type.nullable) {
      const hint = retract ? ' (a -U / -D row needs every NOT NULL column, not only the key)' : '';
      throw new TidemarkError('InvalidInput', `${where()}: column ${f.name} is NOT NULL but has no value${hint}`);
    }
    out[c] = v;
  }
  return out;
}

/**
 * Partition row, bucket and trimmed key of a row (schema-order physical values), plus `keyId`: a
 * string that is equal for equal keys (the key's BinaryRow bytes as latin1).
 */
export function placeRow(schema: PaimonSchema, values: PhysicalValue[]): { partition: Uint8Array; bucket: number; hash: number; key: PhysicalValue[]; keyId: string } {
  const s = shapeOf(schema);
  const partition = s.noPartition ?? encodeBinaryRow(s.partTypes, s.partIdx.map((i) => values[i]!)).serialized;
  const key = s.keyIdx.map((i) => values[i]!);
  const keyRow = encodeBinaryRow(s.keyTypes, key).row;
  const bucketRow = s.bucketIsKey ? keyRow : encodeBinaryRow(s.bucketTypes, s.bucketIdx.map((i) => values[i]!)).row;
  const hash = hashBinaryRow(bucketRow);
  // Dynamic bucket (-1): the bucket comes from the HASH index (dynamic-bucket.ts), by `hash`.
  const bucket = schema.bucketCount > 0 ? Math.abs(hash % schema.bucketCount) : -1;
  return { partition, bucket, hash, key, keyId: Buffer.from(keyRow.buffer, keyRow.byteOffset, keyRow.byteLength).toString('latin1') };
}

/** The trimmed key of a row and its identity (placeRow's `key` and `keyId`), for a merge that knows the row's bucket already. */
export function keyOfRow(schema: PaimonSchema, values: PhysicalValue[]): { key: PhysicalValue[]; keyId: string } {
  const s = shapeOf(schema);
  const key = s.keyIdx.map((i) => values[i]!);
  const keyRow = encodeBinaryRow(s.keyTypes, key).row;
  return { key, keyId: Buffer.from(keyRow.buffer, keyRow.byteOffset, keyRow.byteLength).toString('latin1') };
}

/** The folder of a (partition, bucket), from the serialized partition row (as the reader finds it). */
export function bucketDir(root: string, schema: PaimonSchema, partition: Uint8Array, bucket: number): string {
  const types = schema.partitionKeys.map((k) => schema.paimonFields.find((f) => f.name === k)!.type);
  const values = decodeBinaryRow(partition, types, 'partition');
  return schema.partitionKeys.length > 0 ? join(root, partitionPath(schema, values), `bucket-${bucket}`) : join(root, `bucket-${bucket}`);
}

/** Groups records by (partition, bucket): the unit of a data file and of compaction. */
export interface BucketGroup {
  partition: Uint8Array;
  bucket: number;
  records: KeyValue[];
}

/**
 * Level-0 files written ahead of their commit, as Java's writer flushes a full write buffer into a
 * sorted run before the checkpoint commits them: `preparePaimonChanges` writes them,
 * `commitPaimonChanges({ prepared })` commits them with the rest in one snapshot. Memory then
 * follows the buffer, not the round. Records of one key keep their order across flushes: each
 * flush continues the sequence numbers of its (partition, bucket).
 */
export interface PreparedPaimonFiles {
  schemaId: number;
  entries: ManifestEntryRecord[];
  changelogEntries: ManifestEntryRecord[];
  /** Next sequence number per (partition hex | bucket). */
  nextSeq: Map<string, bigint>;
  /** Dynamic bucket tables: the buckets these files' keys were given, published with the commit. */
  dynamic: PendingAssignments | null;
}

/** Sequence numbers continue per (partition, bucket) from its files' highest (Java's MergeTreeWriter), and past prepared files. */
function nextSequenceNumbers(files: PaimonDataFileEntry[], prepared: PreparedPaimonFiles | null): Map<string, bigint> {
  const nextSeq = new Map<string, bigint>();
  for (const f of files) {
    const id = `${f.partitionKey}|${f.bucket}`;
    if ((nextSeq.get(id) ?? 0n) <= f.maxSequenceNumber) nextSeq.set(id, f.maxSequenceNumber + 1n);
  }
  for (const [id, seq] of prepared?.nextSeq ?? []) if ((nextSeq.get(id) ?? 0n) < seq) nextSeq.set(id, seq);
  return nextSeq;
}

/**
 * Writes `changes` (a later change to a key wins) into level-0 files ahead of their commit, after
 * `prepared` (null: the first flush of a commit). Nothing is visible until commitPaimonChanges.
 */
export async function preparePaimonChanges(root: string, changes: PaimonChange[], prepared: PreparedPaimonFiles | null, env: WriteEnv = defaultWriteEnv): Promise<PreparedPaimonFiles> {
  const storage = createLocalStorage();
  const state = await readWriteState(storage, root);
  const schema = state.schema;
  assertWritableSchema(schema, join(root, 'schema', `schema-${schema.schemaId}`));
  if (prepared && prepared.schemaId !== schema.schemaId) {
    throw new TidemarkError('CommitConflict', `${root}: files were prepared with schema ${prepared.schemaId}, the table is at schema ${schema.schemaId} now`, { path: root });
  }
  const nextSeq = nextSequenceNumbers(state.files, prepared);
  const assigner = schema.bucketCount === -1 ? await DynamicBucketAssigner.load(storage, root, state, prepared?.dynamic ?? null, env) : null;
  const built = await writeChangeFiles(root, schema, changes, nextSeq, env, assigner);
  return {
    schemaId: schema.schemaId,
    entries: [...(prepared?.entries ?? []), ...built.entries],
    changelogEntries: [...(prepared?.changelogEntries ?? []), ...built.changelogEntries],
    nextSeq,
    dynamic: assigner?.pending ?? null,
  };
}

/**
 * Per (partition, bucket): the changes merged by key (the last wins; a retraction stays as a -U /
 * -D record) in sequence-number order from `nextSeq` (advanced in place), sorted by key and
 * written as one level-0 file; with `changelog-producer: input` also every change as it came.
 */
async function writeChangeFiles(
  root: string,
  schema: PaimonSchema,
  changes: PaimonChange[],
  nextSeq: Map<string, bigint>,
  env: WriteEnv,
  assigner: DynamicBucketAssigner | null,
): Promise<{ entries: ManifestEntryRecord[]; changelogEntries: ManifestEntryRecord[]; written: string[] }> {
  const changelogInput = schema.options['changelog-producer'] === 'input';
  const groups = new Map<string, { partition: Uint8Array; bucket: number; byKey: Map<string, KeyValue>; all: KeyValue[] }>();
  // Partition rows repeat across changes: hex them once (the group ids match the manifests' partition hex).
  const partitionHex = new Map<string, string>();
  // One pass, each change's objects left to the collector as soon as it is grouped (a flush holds
  // WRITE_BUFFER_CHANGES of them): dynamic bucket reads a partition's HASH index on first sight.
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i]!;
    const where = `change ${i}`;
    const kind = ROW_KINDS[c?.kind];
    if (kind === undefined) throw new TidemarkError('InvalidInput', `${where}: kind must be one of +I, -U, +U, -D, found ${JSON.stringify(c?.kind)}`);
    const values = physicalRow(schema, c.row, kind === 1 || kind === 3, where);
    const place = placeRow(schema, values);
    const { partition, key, keyId } = place;
    const raw = Buffer.from(partition.buffer, partition.byteOffset, partition.byteLength).toString('latin1');
    let hex = partitionHex.get(raw);
    if (hex === undefined) {
      partitionHex.set(raw, (hex = bytesToHex(partition)));
      if (assigner) await assigner.preload(new Map([[hex, partition]]));
    }
    const bucket = assigner ? assigner.assign(hex, place.hash) : place.bucket;
    const gid = `${hex}|${bucket}`;
    let g = groups.get(gid);
    if (!g) groups.set(gid, (g = { partition, bucket, byKey: new Map(), all: [] }));
    // The caller's row as it is (physicalRow refused names outside the schema; a missing one reads as null).
    const row = c.row;
    const seq = nextSeq.get(gid) ?? 0n;
    nextSeq.set(gid, seq + 1n);
    const kv: KeyValue = { key, sequenceNumber: seq, kind, row, values };
    g.byKey.set(keyId, kv);
    if (changelogInput) g.all.push(kv);
  }
  const entries: ManifestEntryRecord[] = [];
  const changelogEntries: ManifestEntryRecord[] = [];
  const written: string[] = [];
  const now = env.now();
  try {
    for (const g of groups.values()) {
      if (changelogInput) {
        // changelog-producer: input: every change as it came (not merged), sorted by key then sequence number.
        const all = [...g.all].sort((a, b) => compareRows(a.key, b.key) || (a.sequenceNumber < b.sequenceNumber ? -1 : 1));
        const dir = bucketDir(root, schema, g.partition, g.bucket);
        const fileName = `changelog-${env.uuid()}-0.parquet`;
        const file = await writeKeyValueFile(schema, all, { dir, fileName, level: 0, fileSource: 0, creationTimeMs: now });
        written.push(join(dir, fileName));
        changelogEntries.push({ _VERSION: 2, _KIND: KIND_ADD, _PARTITION: g.partition, _BUCKET: g.bucket, _TOTAL_BUCKETS: schema.bucketCount, _FILE: file });
      }
      const records = [...g.byKey.values()].sort((a, b) => compareRows(a.key, b.key));
      const dir = bucketDir(root, schema, g.partition, g.bucket);
      const fileName = `data-${env.uuid()}-0.parquet`;
      const file = await writeKeyValueFile(schema, records, { dir, fileName, level: 0, fileSource: 0, creationTimeMs: now });
      written.push(join(dir, fileName));
      entries.push({ _VERSION: 2, _KIND: KIND_ADD, _PARTITION: g.partition, _BUCKET: g.bucket, _TOTAL_BUCKETS: schema.bucketCount, _FILE: file });
    }
  } catch (e) {
    await removeFiles(written);
    throw e;
  }
  return { entries, changelogEntries, written };
}

/**
 * Commits `changes` (in order: a later change to a key wins) as one APPEND snapshot. Returns null
 * when `changes` is empty and `allowEmpty` is not set.
 */
export async function commitPaimonChanges(root: string, changes: PaimonChange[], options: PaimonCommitOptions): Promise<PaimonCommitResult | null> {
  const env = options.env ?? defaultWriteEnv;
  if (!Array.isArray(changes)) throw new TidemarkError('InvalidInput', `changes must be a list, found ${typeof changes}`);
  const compaction = options.compaction;
  if (compaction !== undefined && !['none', 'auto', 'full'].includes(compaction)) {
    throw new TidemarkError('InvalidInput', `compaction must be none, auto or full, found ${JSON.stringify(compaction)}`);
  }
  let writeOnly = false;
  const prepared = options.prepared ?? null;
  const storage = createLocalStorage();
  // The dynamic bucket assignments of the attempt that builds last (the one published, if any).
  let committing: { assigner: DynamicBucketAssigner; entries: IndexEntryRecord[] } | null = null;
  const result = await commitPaimonSnapshot(
    root,
    { commitUser: options.commitUser, commitIdentifier: options.commitIdentifier, commitKind: 'APPEND', properties: options.properties, watermark: options.watermark },
    async (state) => {
      const schema = state.schema;
      assertWritableSchema(schema, join(root, 'schema', `schema-${schema.schemaId}`));
      writeOnly = schema.options['write-only'] === 'true';
      if (prepared && prepared.schemaId !== schema.schemaId) {
        throw new TidemarkError('CommitConflict', `${root}: files were prepared with schema ${prepared.schemaId}, the table is at schema ${schema.schemaId} now`, { path: root });
      }
      const nextSeq = nextSequenceNumbers(state.files, prepared);
      const assigner = schema.bucketCount === -1 ? await DynamicBucketAssigner.load(storage, root, state, prepared?.dynamic ?? null, env) : null;
      const built = await writeChangeFiles(root, schema, changes, nextSeq, env, assigner);
      let index: { entries: IndexEntryRecord[]; written: string[] } | null;
      try {
        index = assigner ? await assigner.writeIndexFiles(state.indexEntries, env) : null;
      } catch (e) {
        await removeFiles(built.written);
        throw e;
      }
      committing = assigner && index ? { assigner, entries: index.entries } : null;
      // Files flushed ahead of the commit are not this attempt's: a lost race keeps them for the next.
      return {
        entries: [...(prepared?.entries ?? []), ...built.entries],
        written: [...built.written, ...(index?.written ?? [])],
        ...(index ? { indexEntries: index.entries } : {}),
        ...(schema.options['changelog-producer'] === 'input' ? { changelogEntries: [...(prepared?.changelogEntries ?? []), ...built.changelogEntries] } : {}),
      };
    },
    env,
    options.allowEmpty ?? false,
  );
  // (Assigned in `build`: TypeScript cannot see that, hence the annotation.)
  const published = committing as { assigner: DynamicBucketAssigner; entries: IndexEntryRecord[] } | null;
  if (result && published) published.assigner.published(published.entries);
  const mode = compaction ?? (writeOnly ? 'none' : 'auto');
  if (result && mode !== 'none') {
    try {
      result.compaction = await compactPaimonTable(root, { commitUser: options.commitUser, commitIdentifier: options.commitIdentifier, full: mode === 'full', env });
    } catch (e) {
      // The rows are committed: a caller that retried on this error would write them twice. Say so.
      const err = e instanceof TidemarkError ? e : new TidemarkError('Internal', String(e));
      throw new TidemarkError(
        err.code,
        `snapshot ${result.snapshotId} of ${root} is committed; the compaction after it failed: ${err.message}`,
        { ...err.context, committedSnapshotId: result.snapshotId.toString() },
        e,
      );
    }
  }
  return result;
}
