import { readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError, toWriteError } from '../../../errors';
import { createLocalStorage } from '../../../storage/node';
import { COMMIT_RETRIES, publishExclusive, type WriteEnv } from '../../write/commit';
import { makeDirectory, writeNewFile } from '../../write/file-write';
import { decodeBinaryRow } from '../binary-row';
import type { PaimonSchema } from '../schema';
import { encodeBinaryRow, comparePhysical, toPhysical, type PhysicalValue } from './binary-row-write';
import { encodePaimonIndexManifest, encodePaimonManifest, encodePaimonManifestList, KIND_ADD, type IndexEntryRecord, type ManifestEntryRecord, type ManifestFileMetaRecord } from './manifest-write';
import { toPaimonJson } from './table-create';
import { entryOfLiveFile, type PaimonTableState } from './table-state';
import { readWriteState, rememberPublished } from './state-cache';
import { bucketDir } from './commit-changes';
import { intTableOption } from './table-options';
import { hexToBytes } from '../../values';

/**
 * Publishing a Paimon snapshot (Node only). A commit writes its data files (the caller's `build`),
 * one manifest of its entries, a base manifest list (the previous snapshot's base and delta
 * manifests) and a delta manifest list (the new manifest), then `snapshot/snapshot-<N>` with an
 * exclusive create (hard link, never rename: a concurrent writer's snapshot N is never replaced).
 * A lost race removes what this attempt wrote, re-reads the table and builds again (sequence
 * numbers and the base list come from the newer snapshot), up to COMMIT_RETRIES times. The
 * LATEST / EARLIEST hints are written after publishing and only as hints (readers list the folder).
 * At `manifest.merge-min-count` manifests the previous ones are merged into one (shouldMergeManifests).
 */

export type PaimonCommitKind = 'APPEND' | 'COMPACT';

export interface SnapshotMeta {
  commitUser: string;
  /** Paimon's commitIdentifier (a long): monotonically increasing per commit user. */
  commitIdentifier: bigint;
  commitKind: PaimonCommitKind;
  /** Stored as the snapshot's `properties` (e.g. the source offset a sync resumes from). */
  properties?: Record<string, string>;
  /** Event-time watermark in ms, when the caller tracks one. */
  watermark?: bigint;
}

export interface BuiltCommit {
  entries: ManifestEntryRecord[];
  /**
   * The snapshot's complete list of index files when the commit changes it (deletion vectors);
   * undefined keeps the previous snapshot's index manifest.
   */
  indexEntries?: IndexEntryRecord[];
  /** Changelog files (changelog-producer: input): named by the snapshot's changelog manifest list. */
  changelogEntries?: ManifestEntryRecord[];
  /** Paths written by this attempt (removed when the attempt loses the race). */
  written: string[];
}

export interface PaimonCommitResult {
  snapshotId: bigint;
  commitKind: PaimonCommitKind;
  /** Data files added (paths). */
  addedFiles: string[];
  deltaRecordCount: bigint;
  totalRecordCount: bigint;
  /** The COMPACT snapshot that followed an APPEND (commitPaimonChanges' `compaction`), null when none was due. */
  compaction?: PaimonCommitResult | null;
}

function partitionStats(schema: PaimonSchema, entries: ManifestEntryRecord[]) {
  const pf = schema.partitionKeys.map((k) => schema.paimonFields.find((f) => f.name === k)!);
  const types = pf.map((f) => f.type);
  const mins: PhysicalValue[] = types.map(() => null);
  const maxs: PhysicalValue[] = types.map(() => null);
  const nulls = types.map(() => 0n);
  for (const e of entries) {
    const values = decodeBinaryRow(e._PARTITION, types, 'partition of a new manifest entry');
    values.forEach((v, i) => {
      const p = toPhysical(types[i]!, v, `partition ${pf[i]!.name}`);
      if (p === null) {
        nulls[i]! += 1n;
        return;
      }
      if (mins[i] === null || comparePhysical(p, mins[i]!) < 0) mins[i] = p;
      if (maxs[i] === null || comparePhysical(p, maxs[i]!) > 0) maxs[i] = p;
    });
  }
  return { _MIN_VALUES: encodeBinaryRow(types, mins).serialized, _MAX_VALUES: encodeBinaryRow(types, maxs).serialized, _NULL_COUNTS: nulls };
}

/** The ManifestFileMeta of a manifest holding `entries`. */
function manifestMeta(schema: PaimonSchema, name: string, size: number, entries: ManifestEntryRecord[]): ManifestFileMetaRecord {
  const added = entries.filter((e) => e._KIND === KIND_ADD).length;
  return {
    _VERSION: 2,
    _FILE_NAME: name,
    _FILE_SIZE: BigInt(size),
    _NUM_ADDED_FILES: BigInt(added),
    _NUM_DELETED_FILES: BigInt(entries.length - added),
    _PARTITION_STATS: partitionStats(schema, entries),
    _SCHEMA_ID: BigInt(schema.schemaId),
    _MIN_BUCKET: Math.min(...entries.map((e) => e._BUCKET)),
    _MAX_BUCKET: Math.max(...entries.map((e) => e._BUCKET)),
    _MIN_LEVEL: Math.min(...entries.map((e) => e._FILE._LEVEL)),
    _MAX_LEVEL: Math.max(...entries.map((e) => e._FILE._LEVEL)),
  };
}

/** Replaces a hint file (LATEST / EARLIEST) through a temp file and rename. */
export async function writeHintFile(dir: string, name: string, text: string, env: WriteEnv): Promise<void> {
  const hint = join(dir, name);
  const tmp = `${hint}.${env.uuid()}.tmp`;
  await writeNewFile(tmp, text);
  // A hint may be replaced (it is advisory), so rename is right here, unlike for snapshot files.
  await rename(tmp, hint).catch(async (e: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw toWriteError(e, hint, 'replace');
  });
}

/**
 * After the snapshot is published a failure to rewrite a hint must not read as a failed commit (a
 * caller would retry and write the rows twice): hints are best effort.
 */
/**
 * Whether the previous snapshot's manifests are rewritten as one: at `manifest.merge-min-count`
 * (default 30) manifests, and only when every live file sits at its standard path (the merged
 * entries are rebuilt from the decoded files, which do not carry an external path).
 */
function shouldMergeManifests(root: string, state: PaimonTableState): boolean {
  const min = intTableOption(state.schema.options, 'manifest.merge-min-count', 30, 1);
  if (state.manifests.length < min) return false;
  return state.files.every((f) => f.path === join(bucketDir(root, state.schema, hexToBytes(f.partitionKey), f.bucket), f.fileName));
}

async function writeHintsAfterCommit(root: string, id: bigint, env: WriteEnv): Promise<void> {
  const dir = join(root, 'snapshot');
  await writeHintFile(dir, 'LATEST', id.toString(), env).catch(() => undefined);
  const earliest = join(dir, 'EARLIEST');
  const present = await stat(earliest).then(() => true, () => false);
  if (!present) await writeHintFile(dir, 'EARLIEST', id.toString(), env).catch(() => undefined);
}

/** Snapshot JSON fields in Java's order; null-valued optional fields are left out as Java does. */
function snapshotJson(fields: {
  id: bigint;
  schemaId: number;
  base: string;
  baseSize: number;
  delta: string;
  deltaSize: number;
  indexManifest: string | null;
  changelog: { name: string; size: number; records: bigint } | null;
  meta: SnapshotMeta;
  timeMillis: number;
  total: bigint;
  delta_: bigint;
}): string {
  return toPaimonJson({
    version: 3,
    id: fields.id,
    schemaId: fields.schemaId,
    baseManifestList: fields.base,
    baseManifestListSize: fields.baseSize,
    deltaManifestList: fields.delta,
    deltaManifestListSize: fields.deltaSize,
    changelogManifestList: fields.changelog?.name ?? null,
    changelogManifestListSize: fields.changelog?.size,
    indexManifest: fields.indexManifest ?? undefined,
    commitUser: fields.meta.commitUser,
    commitIdentifier: fields.meta.commitIdentifier,
    commitKind: fields.meta.commitKind,
    timeMillis: fields.timeMillis,
    logOffsets: {},
    totalRecordCount: fields.total,
    deltaRecordCount: fields.delta_,
    changelogRecordCount: fields.changelog?.records ?? 0,
    watermark: fields.meta.watermark,
    properties: fields.meta.properties,
    nextRowId: 0,
  });
}

/** Removes files an unpublished attempt wrote (best effort: nothing references them). */
export async function removeFiles(paths: string[]): Promise<void> {
  for (const p of paths) await unlink(p).catch(() => undefined);
}

/**
 * Commits one snapshot. `build` gets the table state and writes the data files of the commit,
 * returning their manifest entries; it returns no entries when there is nothing to commit (then no
 * snapshot is written and the result is null, unless `allowEmpty`).
 */
export async function commitPaimonSnapshot(
  root: string,
  meta: SnapshotMeta,
  build: (state: PaimonTableState) => Promise<BuiltCommit>,
  env: WriteEnv,
  allowEmpty = false,
): Promise<PaimonCommitResult | null> {
  if (typeof meta.commitUser !== 'string' || meta.commitUser === '') throw new TidemarkError('InvalidInput', `commitUser must be a non-empty string, found ${JSON.stringify(meta.commitUser)}`);
  if (typeof meta.commitIdentifier !== 'bigint') throw new TidemarkError('InvalidInput', `commitIdentifier must be a bigint, found ${typeof meta.commitIdentifier}`);
  for (const [k, v] of Object.entries(meta.properties ?? {})) {
    if (typeof v !== 'string') throw new TidemarkError('InvalidInput', `snapshot property ${k} must be a string, found ${JSON.stringify(v)}`);
  }
  const storage = createLocalStorage();
  for (let attempt = 0; attempt <= COMMIT_RETRIES; attempt++) {
    if (attempt > 0) {
      // Back off a little, with jitter from the env (a seeded env stays deterministic).
      const r = parseInt(env.uuid().replace(/-/g, '').slice(0, 6), 16) / 0x1000000;
      await new Promise((res) => setTimeout(res, Math.min(1000, 25 * 2 ** (attempt - 1)) * (0.5 + r / 2)));
    }
    const state = await readWriteState(storage, root);
    const built = await build(state);
    if (built.entries.length === 0 && built.indexEntries === undefined && !allowEmpty) return null;
    const written = [...built.written];
    try {
      const uuid = env.uuid();
      const manifestDir = join(root, 'manifest');
      await makeDirectory(manifestDir);
      const deltaMetas: ManifestFileMetaRecord[] = [];
      if (built.entries.length > 0) {
        const name = `manifest-${uuid}-0`;
        const bytes = await encodePaimonManifest(built.entries);
        await writeNewFile(join(manifestDir, name), bytes);
        written.push(join(manifestDir, name));
        deltaMetas.push(manifestMeta(state.schema, name, bytes.length, built.entries));
      }
      const baseName = `manifest-list-${uuid}-0`;
      const deltaName = `manifest-list-${uuid}-1`;
      let baseMetas = state.manifests;
      if (shouldMergeManifests(root, state)) {
        // Full manifest compaction (Java: manifest.merge-min-count): one manifest of the live files
        // replaces the previous snapshot's manifests, so the lists stay short over many commits.
        const live = state.files.map((f) => entryOfLiveFile(f, KIND_ADD));
        baseMetas = [];
        if (live.length > 0) {
          const name = `manifest-${uuid}-2`;
          const bytes = await encodePaimonManifest(live);
          await writeNewFile(join(manifestDir, name), bytes);
          written.push(join(manifestDir, name));
          baseMetas = [manifestMeta(state.schema, name, bytes.length, live)];
        }
      }
      const baseBytes = await encodePaimonManifestList(baseMetas);
      const deltaBytes = await encodePaimonManifestList(deltaMetas);
      await writeNewFile(join(manifestDir, baseName), baseBytes);
      written.push(join(manifestDir, baseName));
      await writeNewFile(join(manifestDir, deltaName), deltaBytes);
      written.push(join(manifestDir, deltaName));
      let delta = 0n;
      for (const e of built.entries) delta += e._KIND === KIND_ADD ? e._FILE._ROW_COUNT : -e._FILE._ROW_COUNT;
      let indexManifest = state.snapshot?.indexManifest ?? null;
      if (built.indexEntries !== undefined) {
        indexManifest = null;
        if (built.indexEntries.length > 0) {
          indexManifest = `index-manifest-${uuid}-0`;
          await writeNewFile(join(manifestDir, indexManifest), await encodePaimonIndexManifest(built.indexEntries));
          written.push(join(manifestDir, indexManifest));
        }
      }
      let changelog: { name: string; size: number; records: bigint } | null = null;
      if (built.changelogEntries && built.changelogEntries.length > 0) {
        const manifestName = `manifest-${uuid}-1`;
        const bytes = await encodePaimonManifest(built.changelogEntries);
        await writeNewFile(join(manifestDir, manifestName), bytes);
        written.push(join(manifestDir, manifestName));
        const listName = `manifest-list-${uuid}-2`;
        const listBytes = await encodePaimonManifestList([manifestMeta(state.schema, manifestName, bytes.length, built.changelogEntries)]);
        await writeNewFile(join(manifestDir, listName), listBytes);
        written.push(join(manifestDir, listName));
        changelog = { name: listName, size: listBytes.length, records: built.changelogEntries.reduce((n, e) => n + e._FILE._ROW_COUNT, 0n) };
      }
      const id = (state.snapshot?.id ?? 0n) + 1n;
      const total = state.totalRecordCount + delta;
      const text = snapshotJson({
        id,
        schemaId: state.schema.schemaId,
        base: baseName,
        baseSize: baseBytes.length,
        delta: deltaName,
        deltaSize: deltaBytes.length,
        indexManifest,
        changelog,
        meta,
        timeMillis: env.now(),
        total,
        delta_: delta,
      });
      await makeDirectory(join(root, 'snapshot'));
      if (await publishExclusive(join(root, 'snapshot', `snapshot-${id}`), text, env)) {
        rememberPublished(root, state, text, { entries: built.entries, manifests: [...baseMetas, ...deltaMetas], indexEntries: built.indexEntries });
        await writeHintsAfterCommit(root, id, env);
        return {
          snapshotId: id,
          commitKind: meta.commitKind,
          addedFiles: built.written,
          deltaRecordCount: delta,
          totalRecordCount: total,
        };
      }
    } catch (e) {
      await removeFiles(written);
      throw e;
    }
    // Another writer took snapshot id N: nothing of this attempt is referenced; remove it and rebuild.
    await removeFiles(written);
  }
  throw new TidemarkError('CommitConflict', `commit to Paimon table ${root} lost the race ${COMMIT_RETRIES + 1} times; another writer keeps committing`, { path: root });
}

/** Reads `snapshot/snapshot-<id>` as raw JSON (the reader's parse leaves out `properties`). */
export async function readSnapshotJson(root: string, id: bigint): Promise<Record<string, unknown>> {
  const path = join(root, 'snapshot', `snapshot-${id}`);
  const text = await readFile(path, 'utf8');
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${path}: expected Paimon snapshot JSON: ${(e as Error).message}`, { path }, e);
  }
}
