import type { Table } from 'apache-arrow';
import { join } from 'node:path';
import { TidemarkError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import type { StoragePort } from '../../../storage';
import { arrowFieldId, convertArrowData } from '../../arrow-values';
import { readParquetFile } from '../../parquet-read';
import { defaultWriteEnv, type WriteEnv } from '../../write/commit';
import { bytesToHex, hexToBytes } from '../../values';
import { makeDirectory, writeNewFile } from '../../write/file-write';
import type { PaimonDataFileEntry } from '../manifest';
import { decodeBinaryRow } from '../binary-row';
import { filesByBucket, SEQUENCE_NUMBER_FIELD_ID, VALUE_KIND_FIELD_ID } from '../read';
import { readDeletionVector } from '../deletion-vector';
import { deletionVectorsEnabled, readPaimonSchemaFile, toNestedField, type PaimonSchema } from '../schema';
import { comparePhysical, compareRows, toPhysical, type PhysicalValue } from './binary-row-write';
import { lastPaimonCommit } from './commit-lookup';
import { bucketDir, keyOfRow, physicalRow } from './commit-changes';
import { isRetract, trimmedKeyFields, writeKeyValueFile, type KeyValue } from './data-file-write';
import { encodeDeletionVectorIndexFile } from './deletion-vector-write';
import { KIND_ADD, KIND_DELETE, type IndexEntryRecord, type ManifestEntryRecord } from './manifest-write';
import { commitPaimonSnapshot, removeFiles, type PaimonCommitResult } from './snapshot-commit';
import { assertWritableSchema } from './table-create';
import { intTableOption } from './table-options';
import { entryOfLiveFile } from './table-state';
import { readWriteState } from './state-cache';

/**
 * Compaction of a primary-key table's LSM tree, per (partition, bucket), as Java Paimon's
 * UniversalCompaction picks it (RocksDB's universal style). Sorted runs: each level-0 file (newest
 * first), then each non-empty level ≥ 1. With at least `num-sorted-run.compaction-trigger` (default
 * 5) runs it checks, in order: size amplification (all newer runs > max-size-amplification-percent
 * (200) % of the oldest → everything), size ratio (newest runs while the next one is no bigger than
 * their sum × (100 + compaction.size-ratio (1)) %), and with more runs than the trigger the newest
 * (runs − trigger + 1) extended by size ratio. The unit goes to the level below the next run left
 * (never level 0), or to the max level (`num-levels` − 1, default trigger + 1 levels) when it takes
 * every run. The merge keeps, per key, the record with the highest sequence number; retractions
 * (-U / -D) are dropped only when nothing older can remain below the output level. Full
 * compaction merges every run of a bucket into the max level. The result is a COMPACT snapshot
 * whose manifest deletes the inputs and adds the outputs. Deletion-vector tables use Java's
 * ForceUpLevel0 pick and drop deletes; the older version of each merged key left in a lower run is
 * marked in that file's deletion vector (a new index file per changed bucket, and the snapshot's
 * full index manifest). The merge is streamed (mergeRuns): each input run is read a file at a
 * time, the runs left below (for a deletion vector's older row or a lookup changelog's "before")
 * through forward cursors as the keys ascend, and the output rolls to a new file every
 * COMPACTION_FILE_ROWS rows, so memory follows the open files, not the bucket. Not done: off-peak
 * ratios, rolling at `target-file-size` (the row cap comes first), the "upgrade" of a lone file
 * without rewriting it.
 */

export interface SortedRun {
  level: number;
  files: PaimonDataFileEntry[];
}

export interface CompactionUnit {
  outputLevel: number;
  runs: SortedRun[];
}

const runSize = (r: SortedRun) => r.files.reduce((n, f) => n + f.fileSizeBytes, 0);

/** The sorted runs of one bucket's files: level-0 files newest first, then levels 1, 2, … */
export function sortedRuns(files: PaimonDataFileEntry[]): SortedRun[] {
  const level0 = files.filter((f) => f.level === 0).sort((a, b) => (a.maxSequenceNumber > b.maxSequenceNumber ? -1 : a.maxSequenceNumber < b.maxSequenceNumber ? 1 : 0));
  const runs: SortedRun[] = level0.map((f) => ({ level: 0, files: [f] }));
  const levels = [...new Set(files.filter((f) => f.level > 0).map((f) => f.level))].sort((a, b) => a - b);
  for (const l of levels) runs.push({ level: l, files: files.filter((f) => f.level === l) });
  return runs;
}

export interface UniversalOptions {
  numLevels: number;
  trigger: number;
  maxSizeAmpPercent: number;
  sizeRatio: number;
}

export function universalOptionsOf(schema: PaimonSchema): UniversalOptions {
  const int = (key: string, dflt: number, min: number): number => intTableOption(schema.options, key, dflt, min);
  const trigger = int('num-sorted-run.compaction-trigger', 5, 1);
  return {
    trigger,
    numLevels: int('num-levels', trigger + 1, 2),
    maxSizeAmpPercent: int('compaction.max-size-amplification-percent', 200, 0),
    sizeRatio: int('compaction.size-ratio', 1, 0),
  };
}

function createUnit(runs: SortedRun[], maxLevel: number, runCount: number): CompactionUnit {
  let count = runCount;
  let outputLevel = count === runs.length ? maxLevel : Math.max(0, runs[count]!.level - 1);
  if (outputLevel === 0) {
    // Level 0 is never an output: take runs until one of a higher level is in.
    for (let i = count; i < runs.length; i++) {
      count++;
      if (runs[i]!.level !== 0) {
        outputLevel = runs[i]!.level;
        break;
      }
    }
  }
  if (count === runs.length) outputLevel = maxLevel;
  return { outputLevel, runs: runs.slice(0, count) };
}

function pickForSizeRatio(runs: SortedRun[], maxLevel: number, o: UniversalOptions, candidates: number, force: boolean): CompactionUnit | null {
  let count = candidates;
  let size = runs.slice(0, count).reduce((n, r) => n + runSize(r), 0);
  for (let i = count; i < runs.length; i++) {
    const next = runSize(runs[i]!);
    if ((size * (100 + o.sizeRatio)) / 100 < next) break;
    size += next;
    count++;
  }
  return force || count > 1 ? createUnit(runs, maxLevel, count) : null;
}

/** Java's UniversalCompaction.pick for one bucket's runs; null when nothing is due. */
export function pickUniversalCompaction(runs: SortedRun[], o: UniversalOptions): CompactionUnit | null {
  const maxLevel = o.numLevels - 1;
  if (runs.length < o.trigger) return null;
  // Size amplification: the newer runs together against the oldest one.
  const newer = runs.slice(0, -1).reduce((n, r) => n + runSize(r), 0);
  if (newer * 100 > o.maxSizeAmpPercent * runSize(runs[runs.length - 1]!)) return { outputLevel: maxLevel, runs };
  const byRatio = pickForSizeRatio(runs, maxLevel, o, 1, false);
  if (byRatio) return byRatio;
  if (runs.length > o.trigger) return pickForSizeRatio(runs, maxLevel, o, runs.length - o.trigger + 1, true);
  return null;
}

/**
 * Java's ForceUpLevel0Compaction (deletion-vector tables, whose batch reads skip level 0): the
 * universal pick, else every level-0 run (extended by size ratio) up into a higher level.
 */
export function pickForceUpLevel0(runs: SortedRun[], o: UniversalOptions): CompactionUnit | null {
  const universal = pickUniversalCompaction(runs, o);
  if (universal) return universal;
  let count = 0;
  while (count < runs.length && runs[count]!.level === 0) count++;
  return count === 0 ? null : pickForSizeRatio(runs, o.numLevels - 1, o, count, true);
}

/** Full compaction: every run into the max level (nothing when one run is already there). */
export function pickFullCompaction(runs: SortedRun[], o: UniversalOptions): CompactionUnit | null {
  const maxLevel = o.numLevels - 1;
  if (runs.length === 0 || (runs.length === 1 && runs[0]!.level === maxLevel)) return null;
  return { outputLevel: maxLevel, runs };
}

/** The compaction due in one bucket: full (every run), else ForceUpLevel0 for deletion-vector tables, else the universal pick; null when none is. */
export function pickBucketCompaction(files: PaimonDataFileEntry[], o: UniversalOptions, full: boolean | undefined, deletionVectors: boolean): CompactionUnit | null {
  const runs = sortedRuns(files);
  return full ? pickFullCompaction(runs, o) : deletionVectors ? pickForceUpLevel0(runs, o) : pickUniversalCompaction(runs, o);
}

type FileRecord = KeyValue & { position: number; keyId: string; fileName: string };

/**
 * One data file opened for reading its records one at a time (in the current schema: columns
 * matched by field id, else by name in the file's schema). The file's columns are held as
 * canonical values; a record's row, physical values and key are built when it is asked for.
 */
async function openKeyValueFile(storage: StoragePort, schema: PaimonSchema, fileSchema: PaimonSchema, file: PaimonDataFileEntry): Promise<{ numRows: number; at(i: number): FileRecord | null }> {
  const deleted = file.deletionVector ? await readDeletionVector(storage, file.deletionVector) : null;
  const table: Table = await readParquetFile(storage, file.path, 'Paimon data file');
  const hasIds = table.schema.fields.some((f) => arrowFieldId(f) !== null);
  const column = (id: number, name: string | null, type: Parameters<typeof convertArrowData>[1], label: string): unknown[] | null => {
    const idx = hasIds ? table.schema.fields.findIndex((f) => arrowFieldId(f) === id) : table.schema.fields.findIndex((f) => f.name === name);
    if (idx < 0) return null;
    const out: unknown[] = [];
    for (const data of table.getChildAt(idx)!.data) for (const v of convertArrowData(data, type, `${file.path}: column ${label}`)) out.push(v);
    return out;
  };
  const seq = column(SEQUENCE_NUMBER_FIELD_ID, '_SEQUENCE_NUMBER', 'long', '_SEQUENCE_NUMBER') as bigint[] | null;
  const kinds = column(VALUE_KIND_FIELD_ID, '_VALUE_KIND', 'int', '_VALUE_KIND') as number[] | null;
  if (!seq || !kinds) throw new TidemarkError('DataInvalid', `${file.path}: primary-key data file lacks _SEQUENCE_NUMBER / _VALUE_KIND`, { path: file.path });
  const cols = schema.paimonFields.map((pf) => {
    const nameInFile = fileSchema.paimonFields.find((f) => f.id === pf.id)?.name ?? null;
    return column(pf.id, nameInFile, toNestedField(pf).type, pf.name);
  });
  return {
    numRows: table.numRows,
    at(i: number): FileRecord | null {
      if (deleted?.has(i)) return null;
      const row: Record<string, unknown> = {};
      schema.paimonFields.forEach((pf, c) => (row[pf.name] = cols[c] ? cols[c][i] : null));
      const kind = kinds[i]!;
      const values = physicalRow(schema, row, isRetract(kind), () => `${file.path} row ${i}`);
      const { key, keyId } = keyOfRow(schema, values);
      return { key, keyId, sequenceNumber: seq[i]!, kind, row, values, position: i, fileName: file.fileName };
    },
  };
}

/**
 * Rows a compaction output file holds at most (it rolls to the next file there, before Java's
 * `target-file-size`): the merge holds the output file's records and, per input run, one open
 * file, so its memory follows these files and not the bucket. Files of one run do not overlap.
 */
export const COMPACTION_FILE_ROWS = 65_536;

type OpenFile = (f: PaimonDataFileEntry) => Promise<{ numRows: number; at(i: number): FileRecord | null }>;

/** A sorted run read a file at a time, a record at a time, its files in key order. */
class RunCursor {
  private file: { numRows: number; at(i: number): FileRecord | null } | null = null;
  private fileIndex = -1;
  private row = 0;
  head: FileRecord | null = null;
  private readonly files: PaimonDataFileEntry[];

  constructor(
    schema: PaimonSchema,
    readonly run: SortedRun,
    private readonly open: OpenFile,
  ) {
    this.files = run.files.length > 1 ? run.files.map((f) => ({ f, k: minKeyOf(schema, f) })).sort((a, b) => compareRows(a.k, b.k)).map((x) => x.f) : run.files;
  }

  /** Moves to the next record (null at the end of the run). */
  async advance(): Promise<void> {
    for (;;) {
      while (this.file && this.row < this.file.numRows) {
        const r = this.file.at(this.row++);
        if (r) {
          this.head = r;
          return;
        }
      }
      this.file = null;
      if (++this.fileIndex >= this.files.length) {
        this.head = null;
        return;
      }
      this.file = await this.open(this.files[this.fileIndex]!);
      this.row = 0;
    }
  }

  /** Forward-only lookup (keys asked in ascending order): the run's record of `key`, if any. */
  async seek(key: PhysicalValue[]): Promise<FileRecord | null> {
    if (this.fileIndex < 0) await this.advance();
    while (this.head && compareRows(this.head.key, key) < 0) await this.advance();
    return this.head && compareRows(this.head.key, key) === 0 ? this.head : null;
  }
}

/** A file's min key as physical values (the order of a run's files). */
function minKeyOf(schema: PaimonSchema, f: PaimonDataFileEntry): PhysicalValue[] {
  const fields = trimmedKeyFields(schema);
  const values = decodeBinaryRow(f.minKey, fields.map((k) => k.type), `${f.path}: min key`);
  return fields.map((k, i) => toPhysical(k.type, values[i], `${f.path}: min key ${k.name}`));
}

/** One key of a merge: the winner, whether a level-0 record had it, and its newest record in levels >= 1 among the inputs. */
interface MergedKey {
  winner: FileRecord;
  inLevel0: boolean;
  highLevel: FileRecord | null;
}

/**
 * Merges `runs` (newest first) by key as a stream, a file of each run open at a time: per key the
 * record with the highest sequence number (on a tie, the newer run's); `onKey` gets the keys in
 * ascending order.
 */
async function mergeRuns(schema: PaimonSchema, runs: SortedRun[], open: OpenFile, onKey: (m: MergedKey) => Promise<void>): Promise<void> {
  const cursors = runs.map((r) => new RunCursor(schema, r, open));
  for (const c of cursors) await c.advance();
  for (;;) {
    let min: PhysicalValue[] | null = null;
    for (const c of cursors) if (c.head && (min === null || compareRows(c.head.key, min) < 0)) min = c.head.key;
    if (min === null) return;
    let winner: FileRecord | null = null;
    let inLevel0 = false;
    let highLevel: FileRecord | null = null;
    for (const c of cursors) {
      while (c.head && compareRows(c.head.key, min) === 0) {
        const r = c.head;
        if (!winner || r.sequenceNumber > winner.sequenceNumber) winner = r;
        if (c.run.level === 0) inLevel0 = true;
        else if (!highLevel || r.sequenceNumber > highLevel.sequenceNumber) highLevel = r;
        await c.advance();
      }
    }
    await onKey({ winner: winner!, inLevel0, highLevel });
  }
}

/** Rolls records into files of at most `maxRows` records (a compaction's output or changelog). */
class RollingOutput {
  private records: KeyValue[] = [];
  constructor(
    private readonly maxRows: number,
    private readonly write: (records: KeyValue[]) => Promise<void>,
  ) {}
  async push(r: KeyValue): Promise<void> {
    this.records.push(r);
    if (this.records.length >= this.maxRows) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.records.length === 0) return;
    const records = this.records;
    this.records = [];
    await this.write(records);
  }
}

export interface PaimonCompactOptions {
  commitUser: string;
  /** Default: the last identifier `commitUser` committed, else Long.MAX_VALUE (Paimon's batch identifier). */
  commitIdentifier?: bigint;
  /** Full compaction of every bucket (default: universal compaction where it is due). */
  full?: boolean;
  /** Rows an output file holds at most (default COMPACTION_FILE_ROWS). */
  maxFileRows?: number;
  env?: WriteEnv;
}

const BATCH_COMMIT_IDENTIFIER = 9_223_372_036_854_775_807n;

/**
 * Compacts the buckets where compaction is due (or every bucket with `full`) and commits one
 * COMPACT snapshot. Returns null when there is nothing to compact.
 */
export async function compactPaimonTable(root: string, options: PaimonCompactOptions): Promise<PaimonCommitResult | null> {
  const env = options.env ?? defaultWriteEnv;
  const identifier = options.commitIdentifier ?? (await lastPaimonCommit(createLocalStorage(), root, options.commitUser))?.commitIdentifier ?? BATCH_COMMIT_IDENTIFIER;
  const prepared = await preparePaimonCompaction(root, { full: options.full, env, ...(options.maxFileRows !== undefined ? { maxFileRows: options.maxFileRows } : {}) });
  if (!prepared) return null;
  return commitPaimonCompaction(root, prepared, { commitUser: options.commitUser, commitIdentifier: identifier, env });
}

/**
 * A compaction whose files are written and not yet committed: Java's writer compacts in the
 * background and commits the result with a later checkpoint. Its inputs are level-0 or higher
 * runs of one snapshot; files committed after it are newer level-0 runs, which a compaction's
 * output (level >= 1) never hides, so the result stays valid while its inputs are live.
 */
export interface PreparedPaimonCompaction {
  /** DELETE entries of the inputs, ADD entries of the outputs. */
  entries: ManifestEntryRecord[];
  /** Deletion-vector tables: the new index files and the buckets (`partitionHex|bucket`) whose old ones they replace. */
  index: { touched: Set<string>; added: IndexEntryRecord[] } | null;
  /** Files written (removed when the compaction is not committed). */
  written: string[];
  /** `changelog-producer: lookup`: the changelog files this compaction produced (the COMPACT snapshot's changelog). */
  changelogEntries: ManifestEntryRecord[];
}

/** Java's RowKind.isAdd: +I or +U. */
const isAdd = (kind: number) => kind === 0 || kind === 2;

/** Whether two records carry equal values (changelog-producer.row-deduplicate). */
function sameValues(a: KeyValue, b: KeyValue): boolean {
  return a.values.length === b.values.length && a.values.every((v, i) => (v === null || b.values[i] === null ? v === b.values[i] : comparePhysical(v, b.values[i]!) === 0));
}

/**
 * The changelog of one key a lookup compaction produces (Java's LookupChangelogMergeFunctionWrapper):
 * `before` is the key's newest record in levels >= 1 (what readers saw before the level-0 records
 * came), `after` the merged result. Nothing before (or a retraction) and an add after: +I after;
 * an add before and a retraction after: -D with the before row; add and add: -U before, +U after
 * (unless `dedupe` and the values are equal).
 */
export function lookupChangelog(before: KeyValue | null, after: KeyValue, dedupe: boolean): KeyValue[] {
  const as = (kv: KeyValue, kind: number): KeyValue => ({ ...kv, kind });
  if (!before || !isAdd(before.kind)) return isAdd(after.kind) ? [as(after, 0)] : [];
  if (!isAdd(after.kind)) return [as(before, 3)];
  if (dedupe && sameValues(before, after)) return [];
  return [as(before, 1), as(after, 2)];
}

/** Picks and writes a compaction of the table's latest snapshot (nothing is visible yet); null when none is due. */
export async function preparePaimonCompaction(root: string, options: { full?: boolean; env?: WriteEnv; maxFileRows?: number } = {}): Promise<PreparedPaimonCompaction | null> {
  const maxFileRows = options.maxFileRows ?? COMPACTION_FILE_ROWS;
  const env = options.env ?? defaultWriteEnv;
  const storage = createLocalStorage();
  const state = await readWriteState(storage, root);
  const schema = state.schema;
  assertWritableSchema(schema, join(root, 'schema', `schema-${schema.schemaId}`));
  const o = universalOptionsOf(schema);
  const dv = deletionVectorsEnabled(schema);
  // changelog-producer lookup: every level-0 file goes up at each compaction (Java's ForceUpLevel0,
  // as for deletion vectors), and the keys it held get changelog records.
  const lookup = (schema.options['changelog-producer'] ?? 'none').toLowerCase() === 'lookup';
  const dedupe = schema.options['changelog-producer.row-deduplicate'] === 'true';
  const changelogEntries: ManifestEntryRecord[] = [];
  const dvBuckets: { partition: Uint8Array; partitionKey: string; bucket: number; vectors: Map<string, Set<number>> }[] = [];
  const fileSchemas = new Map<number, PaimonSchema>([[schema.schemaId, schema]]);
  const entries: ManifestEntryRecord[] = [];
  const written: string[] = [];
  const now = env.now();
  const schemaOf = async (f: PaimonDataFileEntry) => {
    let fs = fileSchemas.get(f.schemaId);
    if (!fs) fileSchemas.set(f.schemaId, (fs = await readPaimonSchemaFile(storage, root, f.schemaId)));
    return fs;
  };
  try {
    for (const files of filesByBucket(state.files)) {
      const unit = pickBucketCompaction(files, o, options.full, dv || lookup);
      if (!unit) continue;
      const inputs = unit.runs.flatMap((r) => r.files);
      const inputSet = new Set(inputs);
      const highestLevel = Math.max(...files.map((f) => f.level));
      const remainingBelow = files.some((f) => !inputSet.has(f) && f.level > unit.outputLevel);
      // With deletion vectors the older versions below are marked deleted instead (Java drops deletes then too).
      const dropDelete = dv || (unit.outputLevel !== 0 && unit.outputLevel >= highestLevel && !remainingBelow);
      const first = inputs[0]!;
      for (const f of inputs) entries.push(entryOfLiveFile(f, KIND_DELETE));
      const partition = hexToBytes(first.partitionKey);
      const dir = bucketDir(root, schema, partition, first.bucket);
      const open: OpenFile = async (f) => openKeyValueFile(storage, schema, await schemaOf(f), f);
      // Streamed: one open file per run (inputs, and the runs left below when a lookup needs
      // them), and the output files being filled, whatever the bucket holds.
      const output = new RollingOutput(maxFileRows, async (records) => {
        const fileName = `data-${env.uuid()}-0.parquet`;
        const file = await writeKeyValueFile(schema, records, { dir, fileName, level: unit.outputLevel, fileSource: 1, creationTimeMs: now });
        written.push(join(dir, fileName));
        entries.push({ _VERSION: 2, _KIND: KIND_ADD, _PARTITION: partition, _BUCKET: first.bucket, _TOTAL_BUCKETS: first.totalBuckets, _FILE: file });
      });
      const changelog = new RollingOutput(maxFileRows, async (records) => {
        const fileName = `changelog-${env.uuid()}-0.parquet`;
        const file = await writeKeyValueFile(schema, records, { dir, fileName, level: unit.outputLevel, fileSource: 1, creationTimeMs: now });
        written.push(join(dir, fileName));
        changelogEntries.push({ _VERSION: 2, _KIND: KIND_ADD, _PARTITION: partition, _BUCKET: first.bucket, _TOTAL_BUCKETS: first.totalBuckets, _FILE: file });
      });
      // The runs left below the compacted ones (older than every input: the pick takes the newest
      // runs), read forward as the merge's keys ascend: the lookup changelog's "before" and the
      // older rows deletion vectors mark.
      const remaining = files.filter((f) => !inputSet.has(f));
      const below = dv || lookup ? sortedRuns(remaining).filter((r) => r.level > 0).map((r) => new RunCursor(schema, r, open)) : [];
      const vectors = new Map<string, Set<number>>();
      let changed = false;
      if (dv) {
        changed = inputs.some((f) => f.deletionVector !== null);
        for (const f of remaining) vectors.set(f.fileName, f.deletionVector ? await readDeletionVector(storage, f.deletionVector) : new Set());
      }
      await mergeRuns(schema, unit.runs, open, async ({ winner, inLevel0, highLevel }) => {
        if (dv) {
          // A key rewritten (or deleted) here has its older version in a run left below: mark that
          // row in its file's deletion vector so batch reads (no merge) skip it.
          for (const c of below) {
            const old = await c.seek(winner.key);
            if (old && !vectors.get(old.fileName)!.has(old.position)) {
              vectors.get(old.fileName)!.add(old.position);
              changed = true;
            }
          }
        }
        if (lookup && inLevel0) {
          let before: KeyValue | null = highLevel;
          if (!before) {
            for (const c of below) {
              before = await c.seek(winner.key);
              if (before) break;
            }
          }
          for (const r of lookupChangelog(before, winner, dedupe)) await changelog.push(r);
        }
        if (!(dropDelete && isRetract(winner.kind))) await output.push(winner);
      });
      await output.flush();
      await changelog.flush();
      if (dv && changed) dvBuckets.push({ partition, partitionKey: first.partitionKey, bucket: first.bucket, vectors });
    }
    if (dvBuckets.length === 0) return entries.length === 0 ? null : { entries, index: null, written, changelogEntries };
    // One index file per changed bucket with the vectors of its live files (as Java keeps them);
    // the commit drops the bucket's old index files from the index manifest.
    const touched = new Set(dvBuckets.map((b) => `${b.partitionKey}|${b.bucket}`));
    const indexEntries: IndexEntryRecord[] = [];
    const indexDir = join(root, 'index');
    for (const b of dvBuckets) {
      const vectors = [...b.vectors].filter(([, set]) => set.size > 0).map(([fileName, set]) => ({ fileName, positions: [...set] }));
      if (vectors.length === 0) continue;
      const { bytes, ranges } = encodeDeletionVectorIndexFile(vectors);
      const name = `index-${env.uuid()}-0`;
      await makeDirectory(indexDir);
      await writeNewFile(join(indexDir, name), bytes);
      written.push(join(indexDir, name));
      indexEntries.push({
        _VERSION: 1,
        _KIND: KIND_ADD,
        _PARTITION: b.partition,
        _BUCKET: b.bucket,
        _INDEX_TYPE: 'DELETION_VECTORS',
        _FILE_NAME: name,
        _FILE_SIZE: BigInt(bytes.length),
        _ROW_COUNT: BigInt(vectors.length),
        _DELETIONS_VECTORS_RANGES: ranges,
      });
    }
    return { entries, index: { touched, added: indexEntries }, written, changelogEntries };
  } catch (e) {
    await removeFiles(written);
    throw e;
  }
}

/**
 * Commits a prepared compaction as a COMPACT snapshot, when every input file is still live (else
 * nothing is committed: another compaction or a rollback got there first); null when not
 * committed. The prepared files are removed when they are not committed.
 */
export async function commitPaimonCompaction(root: string, prepared: PreparedPaimonCompaction, options: { commitUser: string; commitIdentifier: bigint; env?: WriteEnv }): Promise<PaimonCommitResult | null> {
  const env = options.env ?? defaultWriteEnv;
  let result: PaimonCommitResult | null = null;
  try {
    result = await commitPaimonSnapshot(
      root,
      { commitUser: options.commitUser, commitIdentifier: options.commitIdentifier, commitKind: 'COMPACT' },
      async (state) => {
        const live = new Set(state.files.map((f) => `${f.partitionKey}|${f.bucket}|${f.level}|${f.fileName}`));
        const inputsLive = prepared.entries.every((e) => e._KIND !== KIND_DELETE || live.has(`${bytesToHex(e._PARTITION)}|${e._BUCKET}|${e._FILE._LEVEL}|${e._FILE._FILE_NAME}`));
        // The prepared files are not this attempt's: a lost race keeps them for the next.
        if (!inputsLive) return { entries: [], written: [] };
        const changelog = prepared.changelogEntries.length > 0 ? { changelogEntries: prepared.changelogEntries } : {};
        if (!prepared.index) return { entries: prepared.entries, written: [], ...changelog };
        const { touched, added } = prepared.index;
        const kept = state.indexEntries.filter((e) => e._INDEX_TYPE !== 'DELETION_VECTORS' || !touched.has(`${bytesToHex(e._PARTITION)}|${e._BUCKET}`));
        return { entries: prepared.entries, written: [], indexEntries: [...kept, ...added], ...changelog };
      },
      env,
    );
  } finally {
    if (result === null) await removeFiles(prepared.written);
  }
  return result && { ...result, addedFiles: prepared.written };
}
