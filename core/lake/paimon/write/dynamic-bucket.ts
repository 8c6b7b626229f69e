import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import type { StoragePort } from '../../../storage';
import type { WriteEnv } from '../../write/commit';
import { makeDirectory, writeNewFile } from '../../write/file-write';
import { bytesToHex } from '../../values';
import type { PaimonSchema } from '../schema';
import { joinPath } from '../paths';
import { KIND_ADD, type IndexEntryRecord } from './manifest-write';
import type { PaimonTableState } from './table-state';

/**
 * Dynamic bucket mode (`bucket: -1`) of primary-key tables, as Java Paimon's HASH_DYNAMIC mode
 * does it with one bucket assigner (Flink at parallelism 1):
 *  - The HASH index: per (partition, bucket) one index file `index/index-<uuid>-<n>` holding the
 *    hash of every trimmed primary key ever written to the bucket (BinaryRow.hashCode, as the fixed
 *    bucket hash), as big-endian int32s one after the other, named in the snapshot's index manifest
 *    with `_INDEX_TYPE` HASH and `_ROW_COUNT` the number of hashes (Java's HashIndexFile and
 *    DynamicBucketIndexMaintainer: a commit that adds hashes to a bucket writes the bucket's whole
 *    set again as a new file, which replaces the old one in the index manifest). Hashes are never
 *    removed (a deleted key keeps its bucket), and compaction leaves the index as it is.
 *  - Assignment (Java's PartitionIndex.assign, per partition): a hash already in the index (or
 *    assigned earlier in this commit) keeps its bucket; else the first bucket, by id, holding fewer
 *    than `dynamic-bucket.target-row-num` (default 2,000,000) hashes takes it; else a new bucket,
 *    the smallest unused id below `dynamic-bucket.max-buckets` (-1: Paimon's limit of 32,767
 *    buckets); with every allowed bucket made and full, a random existing bucket (as Java).
 * Keys whose hashes collide share a bucket, as in Java. Tables whose partition keys are not all
 * in the primary key would need Java's cross-partition mode (KEY_DYNAMIC, a global key index):
 * the writer refuses them (table-create.ts).
 */

export const HASH_INDEX_TYPE = 'HASH';
/** CoreOptions.MAX_DYNAMIC_BUCKETS: bucket ids are kept as Java shorts. */
export const MAX_DYNAMIC_BUCKETS = 32_767;
const DEFAULT_TARGET_ROW_NUM = 2_000_000;

export interface DynamicBucketOptions {
  targetRowNum: number;
  /** -1: no limit but MAX_DYNAMIC_BUCKETS. */
  maxBuckets: number;
}

export function dynamicBucketOptionsOf(schema: PaimonSchema, where: string): DynamicBucketOptions {
  const o = schema.options;
  const rawTarget = o['dynamic-bucket.target-row-num'];
  const targetRowNum = rawTarget === undefined ? DEFAULT_TARGET_ROW_NUM : Number(rawTarget);
  if (!Number.isSafeInteger(targetRowNum) || targetRowNum < 1) {
    throw new TidemarkError('InvalidInput', `${where}: option dynamic-bucket.target-row-num must be an integer >= 1, found ${JSON.stringify(rawTarget)}`);
  }
  const rawMax = o['dynamic-bucket.max-buckets'];
  const maxBuckets = rawMax === undefined ? -1 : Number(rawMax);
  if (!Number.isInteger(maxBuckets) || !(maxBuckets === -1 || (maxBuckets >= 1 && maxBuckets <= MAX_DYNAMIC_BUCKETS))) {
    throw new TidemarkError('InvalidInput', `${where}: option dynamic-bucket.max-buckets must be -1 or between 1 and ${MAX_DYNAMIC_BUCKETS}, found ${JSON.stringify(rawMax)}`);
  }
  return { targetRowNum, maxBuckets };
}

/** The committed HASH index of one partition. */
interface PartitionIndex {
  partition: Uint8Array;
  /** Hash → bucket. */
  bucketOf: Map<number, number>;
  /** Per bucket: its index file and the hashes in it. */
  files: Map<number, { fileName: string; hashes: Int32Array }>;
}

/** The committed HASH index of a table: the partitions read so far, and the index entries they come from. */
interface CommittedIndex {
  /** Identity of the live HASH entries (partition|bucket|file, sorted): equal means the same index. */
  key: string;
  entries: Map<string, IndexEntryRecord[]>;
  partitions: Map<string, PartitionIndex>;
}

/** Assignments of a commit not yet published, per partition (hex). */
export interface PendingAssignments {
  /** The committed index they were made on (CommittedIndex.key). */
  baseKey: string;
  partitions: Map<string, { partition: Uint8Array; bucketOf: Map<number, number>; added: Map<number, number[]> }>;
}

/** The committed index of each table this process wrote (index files never change: their names are new UUIDs). */
const committed = new Map<string, CommittedIndex>();

function keyOfEntries(entries: IndexEntryRecord[]): string {
  return entries
    .map((e) => `${bytesToHex(e._PARTITION)}|${e._BUCKET}|${e._FILE_NAME}`)
    .sort()
    .join(',');
}

function hashEntries(state: PaimonTableState): IndexEntryRecord[] {
  return state.indexEntries.filter((e) => e._INDEX_TYPE === HASH_INDEX_TYPE);
}

/** Decodes a HASH index file: big-endian int32s. */
export function decodeHashIndexFile(bytes: Uint8Array, path: string): Int32Array {
  if (bytes.length % 4 !== 0) throw new TidemarkError('DataInvalid', `${path}: a Paimon HASH index file holds 4-byte hashes, found ${bytes.length} bytes`, { path });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, false);
  return out;
}

export function encodeHashIndexFile(hashes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(hashes.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < hashes.length; i++) view.setInt32(i * 4, hashes[i]!, false);
  return out;
}

/**
 * The bucket assigner of one commit (or of a write-buffer flush ahead of it): assignments go into
 * `pending` and reach the committed index only once the snapshot naming their index files is
 * published (`published`).
 */
export class DynamicBucketAssigner {
  /** Buckets of a partition that may still take hashes, ascending (Java's nonFullBucketInformation). */
  private readonly open = new Map<string, number[]>();

  private constructor(
    private readonly root: string,
    private readonly storage: StoragePort,
    private readonly base: CommittedIndex,
    readonly pending: PendingAssignments,
    private readonly options: DynamicBucketOptions,
    private readonly random: () => number,
  ) {}

  /**
   * The assigner for a commit on `state`, continuing `prepared` (assignments of write-buffer flushes
   * ahead of it). Fails as CommitConflict when the index changed since those were made.
   */
  static async load(storage: StoragePort, root: string, state: PaimonTableState, prepared: PendingAssignments | null, env: WriteEnv): Promise<DynamicBucketAssigner> {
    const entries = hashEntries(state);
    const key = keyOfEntries(entries);
    let base = committed.get(root);
    if (!base || base.key !== key) {
      const byPartition = new Map<string, IndexEntryRecord[]>();
      for (const e of entries) {
        const hex = bytesToHex(e._PARTITION);
        const list = byPartition.get(hex);
        if (list) list.push(e);
        else byPartition.set(hex, [e]);
      }
      base = { key, entries: byPartition, partitions: new Map() };
      committed.set(root, base);
    }
    if (prepared && prepared.baseKey !== key) {
      throw new TidemarkError('CommitConflict', `${root}: the dynamic bucket index changed since rows were assigned buckets for this commit (another writer?)`, { path: root });
    }
    const pending: PendingAssignments = prepared
      ? {
          baseKey: key,
          partitions: new Map([...prepared.partitions].map(([hex, p]) => [hex, { partition: p.partition, bucketOf: new Map(p.bucketOf), added: new Map([...p.added].map(([b, h]) => [b, [...h]])) }])),
        }
      : { baseKey: key, partitions: new Map() };
    // Java picks the random bucket with ThreadLocalRandom; ours comes from the env so a seeded env repeats.
    const random = () => parseInt(env.uuid().replace(/-/g, '').slice(0, 8), 16) / 0x100000000;
    return new DynamicBucketAssigner(root, storage, base, pending, dynamicBucketOptionsOf(state.schema, join(root, 'schema', `schema-${state.schema.schemaId}`)), random);
  }

  /** Reads the committed index of the partitions given (hex → serialized partition row) that are not read yet. */
  async preload(partitions: Map<string, Uint8Array>): Promise<void> {
    for (const [hex, partition] of partitions) {
      if (this.base.partitions.has(hex)) continue;
      const index: PartitionIndex = { partition, bucketOf: new Map(), files: new Map() };
      for (const e of this.base.entries.get(hex) ?? []) {
        const path = joinPath(this.root, 'index', e._FILE_NAME);
        let bytes: Uint8Array;
        try {
          bytes = await this.storage.readFile(path);
        } catch (err) {
          if (err instanceof TidemarkError && err.code === 'NotFound') {
            throw new TidemarkError('NotFound', `Paimon HASH index file not found: ${path} (named by the index manifest of ${this.root})`, { path }, err);
          }
          throw err;
        }
        const hashes = decodeHashIndexFile(bytes, path);
        if (BigInt(hashes.length) !== e._ROW_COUNT) {
          throw new TidemarkError('DataInvalid', `${path}: the index manifest says ${e._ROW_COUNT} hashes, the file holds ${hashes.length}`, { path });
        }
        index.files.set(e._BUCKET, { fileName: e._FILE_NAME, hashes });
        for (const h of hashes) index.bucketOf.set(h, e._BUCKET);
      }
      this.base.partitions.set(hex, index);
    }
  }

  private count(index: PartitionIndex, added: Map<number, number[]> | undefined, bucket: number): number {
    return (index.files.get(bucket)?.hashes.length ?? 0) + (added?.get(bucket)?.length ?? 0);
  }

  /** The bucket of a key whose trimmed primary key hashes to `hash`, in the partition `hex` (preloaded). */
  assign(hex: string, hash: number): number {
    const index = this.base.partitions.get(hex);
    if (!index) throw new TidemarkError('Internal', `${this.root}: partition ${hex} of the dynamic bucket index was not loaded`, { path: this.root });
    const known = index.bucketOf.get(hash);
    if (known !== undefined) return known;
    let p = this.pending.partitions.get(hex);
    const mine = p?.bucketOf.get(hash);
    if (mine !== undefined) return mine;
    if (!p) this.pending.partitions.set(hex, (p = { partition: index.partition, bucketOf: new Map(), added: new Map() }));
    const take = (bucket: number): number => {
      p.bucketOf.set(hash, bucket);
      const list = p.added.get(bucket);
      if (list) list.push(hash);
      else p.added.set(bucket, [hash]);
      return bucket;
    };
    let open = this.open.get(hex);
    if (!open) this.open.set(hex, (open = [...new Set([...index.files.keys(), ...p.added.keys()])].sort((a, b) => a - b)));
    while (open.length > 0) {
      const b = open[0]!;
      if (this.count(index, p.added, b) < this.options.targetRowNum) return take(b);
      open.shift();
    }
    const limit = this.options.maxBuckets === -1 ? MAX_DYNAMIC_BUCKETS : this.options.maxBuckets;
    for (let b = 0; b < limit; b++) {
      if (!index.files.has(b) && !p.added.has(b)) {
        open.push(b);
        return take(b);
      }
    }
    if (this.options.maxBuckets === -1) {
      throw new TidemarkError('InvalidInput', `${this.root}: all ${MAX_DYNAMIC_BUCKETS} dynamic buckets of a partition hold dynamic-bucket.target-row-num (${this.options.targetRowNum}) keys; raise that option`, { path: this.root });
    }
    const all = [...new Set([...index.files.keys(), ...p.added.keys()])].sort((a, b) => a - b);
    return take(all[Math.floor(this.random() * all.length) % all.length]!);
  }

  /**
   * Writes one new index file per bucket that took new hashes (its committed hashes, then the new
   * ones) and returns the index manifest's entries after this commit: `current` (the snapshot's
   * live index entries) with the replaced HASH entries left out. Null when no bucket changed.
   */
  async writeIndexFiles(current: IndexEntryRecord[], env: WriteEnv): Promise<{ entries: IndexEntryRecord[]; written: string[] } | null> {
    const added: IndexEntryRecord[] = [];
    const written: string[] = [];
    const touched = new Set<string>();
    const dir = join(this.root, 'index');
    for (const [hex, p] of this.pending.partitions) {
      const index = this.base.partitions.get(hex)!;
      for (const [bucket, hashes] of p.added) {
        const all = withAdded(index.files.get(bucket)?.hashes, hashes);
        const bytes = encodeHashIndexFile(all);
        const name = `index-${env.uuid()}-0`;
        await makeDirectory(dir);
        await writeNewFile(join(dir, name), bytes);
        written.push(join(dir, name));
        touched.add(`${hex}|${bucket}`);
        added.push({
          _VERSION: 1,
          _KIND: KIND_ADD,
          _PARTITION: p.partition,
          _BUCKET: bucket,
          _INDEX_TYPE: HASH_INDEX_TYPE,
          _FILE_NAME: name,
          _FILE_SIZE: BigInt(bytes.length),
          _ROW_COUNT: BigInt(all.length),
          _DELETIONS_VECTORS_RANGES: null,
        });
      }
    }
    if (added.length === 0) return null;
    const kept = current.filter((e) => e._INDEX_TYPE !== HASH_INDEX_TYPE || !touched.has(`${bytesToHex(e._PARTITION)}|${e._BUCKET}`));
    this.written = added;
    return { entries: [...kept, ...added], written };
  }

  private written: IndexEntryRecord[] = [];

  /** After the snapshot naming the new index files is published: they are the committed index now. */
  published(entries: IndexEntryRecord[]): void {
    const byName = new Map(this.written.map((e) => [`${bytesToHex(e._PARTITION)}|${e._BUCKET}`, e._FILE_NAME]));
    for (const [hex, p] of this.pending.partitions) {
      const index = this.base.partitions.get(hex)!;
      for (const [bucket, hashes] of p.added) {
        const all = withAdded(index.files.get(bucket)?.hashes, hashes);
        index.files.set(bucket, { fileName: byName.get(`${hex}|${bucket}`)!, hashes: all });
        for (const h of hashes) index.bucketOf.set(h, bucket);
      }
    }
    const hashOnly = entries.filter((e) => e._INDEX_TYPE === HASH_INDEX_TYPE);
    const byPartition = new Map<string, IndexEntryRecord[]>();
    for (const e of hashOnly) {
      const hex = bytesToHex(e._PARTITION);
      const list = byPartition.get(hex);
      if (list) list.push(e);
      else byPartition.set(hex, [e]);
    }
    this.base.key = keyOfEntries(hashOnly);
    this.base.entries = byPartition;
    this.pending.partitions.clear();
    this.pending.baseKey = this.base.key;
  }
}

/** Drops the committed index kept for `root` (tests: a restart reads it from the files again). */
export function forgetDynamicBucketIndex(root: string): void {
  committed.delete(root);
}

/** A bucket's committed key hashes (none yet: undefined) followed by the hashes a commit adds. */
function withAdded(old: Int32Array | undefined, added: readonly number[]): Int32Array {
  const all = new Int32Array((old?.length ?? 0) + added.length);
  if (old) all.set(old, 0);
  all.set(added, old?.length ?? 0);
  return all;
}
