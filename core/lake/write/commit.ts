import { randomBytes, randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { TidemarkError } from '../../errors';
import { requireConditionalPut, type WritableStorage } from '../../storage';
import { createLocalWritableStorage, publishTempFile } from '../../storage/node';
import { isS3Url } from '../../storage/s3';
import type { TableMetadata } from '../model';
import { joinPath } from '../paths';
import { writeTableMetadata } from '../serde/table-metadata';
import { loadTable, metadataFileVersion, type LoadedTable } from '../table';
import { makeDirectory, renameOver, writeNewFile } from './file-write';

/** Injected clock and id generators (deterministic demo tables and tests). */
export interface WriteEnv {
  now(): number;
  uuid(): string;
  /** A positive 63-bit snapshot id. */
  snapshotId(): bigint;
  /**
   * Where tables are written (data, delete, manifest and metadata files); default the local file
   * system. An object store here takes `s3://bucket/…` table roots.
   */
  storage?: WritableStorage;
  /**
   * A catalog that owns the tables' metadata (an Iceberg REST catalog): versions are committed
   * through it instead of published as files. Data and manifests still go to `storage`.
   */
  catalog?: TableCatalog;
}

/**
 * The metadata side of a catalog-managed table (core/catalog implements it over the REST client;
 * core/lake cannot import core/catalog). Tables are named by their root, the location their data
 * is written under on WriteEnv.storage.
 */
export interface TableCatalog {
  /** Names the catalog in messages (its URI; never a secret). */
  readonly name: string;
  /** The table's current version. NotFound when the catalog has no table at `root`. */
  loadTable(root: string): Promise<LoadedTable>;
  /**
   * Commits `next` (derived from `base`) with requirements that hold only while `base` is current:
   * CommitConflict when another writer committed first (commitTable then rebuilds and retries).
   */
  commitTable(root: string, base: LoadedTable, next: TableMetadata): Promise<{ metadata: TableMetadata; metadataFile: string }>;
  /**
   * The root of table `name` in `namespace`, created from `initial()` (its location replaced by the
   * catalog's) when the catalog has no such table. `created` is false when it existed.
   */
  openTable(namespace: string, name: string, initial: () => TableMetadata): Promise<{ root: string; created: boolean }>;
  /**
   * Optional: `storage` wrapped so that each table's files are reached with the storage settings
   * the catalog vends for that table (a REST load result's credentials), `storage` elsewhere.
   */
  bindStorage?(storage: WritableStorage): WritableStorage;
}

/** The current version of the table at `root`: through env.catalog when set, else from storage. */
export function loadWritableTable(root: string, env: WriteEnv): Promise<LoadedTable> {
  return env.catalog ? env.catalog.loadTable(root) : loadTable(writeStorage(env), root);
}

const localStorage = createLocalWritableStorage();

/** The storage a write with `env` goes to (env.storage, else the local file system). */
export function writeStorage(env: WriteEnv): WritableStorage {
  return env.storage ?? localStorage;
}

/**
 * A table root as written into metadata and manifests: an `s3://` URL as given (without trailing
 * slashes; node:path would fold its `//`), a local path made absolute.
 */
export function tableRoot(root: string): string {
  return isS3Url(root) ? root.trim().replace(/^s3a:/i, 's3:').replace(/\/+$/, '') : resolve(root);
}

/** `root/a/b` for a local path or an `s3://` URL alike. */
export function childPath(root: string, ...parts: string[]): string {
  return parts.reduce((p, part) => joinPath(p, part), root);
}

export const defaultWriteEnv: WriteEnv = {
  now: () => Date.now(),
  uuid: () => randomUUID(),
  snapshotId: () => BigInt.asUintN(63, randomBytes(8).readBigUInt64LE()) || 1n,
};

/** Deterministic env: xorshift ids and a clock that ticks 1 s per call from `startMs`. */
export function seededWriteEnv(seed: number, startMs = Date.UTC(2024, 0, 1)): WriteEnv {
  let s = BigInt.asUintN(64, BigInt(seed) * 0x9e3779b97f4a7c15n + 1n);
  const next = () => {
    s ^= BigInt.asUintN(64, s << 13n);
    s ^= s >> 7n;
    s ^= BigInt.asUintN(64, s << 17n);
    return s;
  };
  let t = startMs;
  return {
    now: () => (t += 1000),
    uuid: () => {
      const h = (next().toString(16).padStart(16, '0') + next().toString(16).padStart(16, '0')).slice(0, 32);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
    },
    snapshotId: () => BigInt.asUintN(63, next()) || 1n,
  };
}

/** Publishes `bytes` at `path` only if nothing exists there (hard link of a finished temp file). */
export async function publishExclusive(path: string, bytes: Uint8Array | string, env: WriteEnv): Promise<boolean> {
  const tmp = `${path}.${env.uuid()}.tmp`;
  // A failed (e.g. out of space) temp write removes itself: `path` is never touched.
  await writeNewFile(tmp, bytes);
  return publishTempFile(tmp, path);
}

export const COMMIT_RETRIES = 8;

/**
 * Wait before retry `attempt` (1-based) after a lost publish race: exponential from 25 ms, capped
 * at 1 s, with jitter (half to all of it) so that two writers that just collided do not rebuild in
 * lockstep and collide again (Iceberg's commit.retry.min-wait-ms / max-wait-ms). The jitter is
 * drawn from `env.uuid()`, so a seeded env stays deterministic. 8 retries wait 3.6 s at most.
 */
function retryDelayMs(attempt: number, env: WriteEnv): number {
  const cap = Math.min(1000, 25 * 2 ** (attempt - 1));
  const r = parseInt(env.uuid().replace(/-/g, '').slice(0, 8), 16) / 2 ** 32;
  return cap / 2 + (Number.isFinite(r) ? r : 0.5) * (cap / 2);
}

/**
 * Commits a new table metadata version (spec "File System Tables"). `build` derives the new metadata
 * from the latest committed one; it may write data and manifest files. The new version is published
 * with an exclusive create (never rename, which would overwrite a concurrent writer's version); a lost
 * race waits (retryDelayMs), re-reads the table and calls `build` again, up to COMMIT_RETRIES
 * times, then CommitConflict.
 * The hint is written last and only as a hint: readers also probe for newer versions.
 */
export async function commitTable(
  root: string,
  build: (base: LoadedTable, version: number) => Promise<TableMetadata>,
  env: WriteEnv = defaultWriteEnv,
): Promise<{ metadata: TableMetadata; metadataFile: string }> {
  const storage = writeStorage(env);
  for (let attempt = 0; attempt <= COMMIT_RETRIES; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, retryDelayMs(attempt, env)));
    if (env.catalog) {
      const base = await env.catalog.loadTable(root);
      const next = await build(base, (metadataFileVersion(base.metadataFile.split('/').pop()!) ?? 0) + 1);
      try {
        // The catalog keeps the metadata log itself.
        return await env.catalog.commitTable(root, base, next);
      } catch (e) {
        if (e instanceof TidemarkError && e.code === 'CommitConflict') continue;
        throw e;
      }
    }
    const base = await loadTable(storage, root);
    const version = metadataFileVersion(base.metadataFile.split('/').pop()!) ?? 0;
    const next = await build(base, version + 1);
    const file = childPath(root, 'metadata', `v${version + 1}.metadata.json`);
    const withLog: TableMetadata = {
      ...next,
      metadataLog: [...base.metadata.metadataLog, { metadataFile: base.metadataFile, timestampMs: base.metadata.lastUpdatedMs }],
    };
    if (await publishMetadata(storage, file, writeTableMetadata(withLog), env)) {
      await writeHintAfterCommit(storage, root, version + 1, env);
      return { metadata: withLog, metadataFile: file };
    }
  }
  throw new TidemarkError('CommitConflict', `commit to ${root} lost the race ${COMMIT_RETRIES + 1} times; another writer keeps committing`, { path: root });
}

/**
 * Publishes a metadata file only if none exists at `file`: a local hard link, or on an object store
 * a conditional PUT (If-None-Match: *) once the store is known to honour it (requireConditionalPut:
 * a store that ignores the header would let two writers both "win" a version, losing a commit).
 */
async function publishMetadata(storage: WritableStorage, file: string, text: string, env: WriteEnv): Promise<boolean> {
  if (storage === localStorage) return publishExclusive(file, text, env);
  env.uuid(); // as publishExclusive's temp name: a seeded env gives the same ids on every store
  await requireConditionalPut(storage, file);
  return storage.putIfAbsent(file, text);
}

async function writeHint(storage: WritableStorage, root: string, version: number, env: WriteEnv): Promise<void> {
  const hint = childPath(root, 'metadata', 'version-hint.text');
  // Drawn on every store so that a seeded env gives the same ids wherever a table is written.
  const id = env.uuid();
  // The hint may be replaced (it is advisory): a plain write (a local temp file renamed) is right
  // here, unlike for metadata files.
  if (storage !== localStorage) return storage.writeFile(hint, String(version));
  const tmp = `${hint}.${id}.tmp`;
  await writeNewFile(tmp, String(version));
  await renameOver(tmp, hint);
}

/**
 * The commit is already published when the hint is rewritten. A failure here (the disk filled up
 * between the two writes) must not be reported as a failed commit: a caller would retry and write
 * the rows twice. The stale hint is harmless, as after a crash at this point: readers step from
 * the hinted version to every newer v<N>.metadata.json (findCurrentMetadataFile).
 */
async function writeHintAfterCommit(storage: WritableStorage, root: string, version: number, env: WriteEnv): Promise<void> {
  await writeHint(storage, root, version, env).catch(() => undefined);
}

/** Creates `<root>/metadata` and publishes v1 exclusively; AlreadyExists → CommitConflict. */
export async function publishFirstVersion(root: string, metadata: TableMetadata, env: WriteEnv): Promise<string> {
  const storage = writeStorage(env);
  if (storage === localStorage) {
    // Empty folders exist on disk only; an object store has keys, created with the files.
    await makeDirectory(childPath(root, 'metadata'));
    await makeDirectory(childPath(root, 'data'));
  }
  if (await hasMetadataFile(storage, root)) throw new TidemarkError('CommitConflict', `table already exists at ${root}`, { path: root });
  const file = childPath(root, 'metadata', 'v1.metadata.json');
  if (!(await publishMetadata(storage, file, writeTableMetadata(metadata), env))) {
    throw new TidemarkError('CommitConflict', `table already exists at ${root}`, { path: root });
  }
  await writeHintAfterCommit(storage, root, 1, env);
  return file;
}

/**
 * Whether `root/metadata` holds a published `*.metadata.json` (a folder without one — a creator
 * killed before v1 — is not a table yet).
 */
export async function hasMetadataFile(storage: WritableStorage, root: string): Promise<boolean> {
  const dir = childPath(root, 'metadata');
  const files = await storage.listRecursive(dir);
  return files.some((f) => f.path.slice(dir.length + 1).indexOf('/') < 0 && f.path.endsWith('.metadata.json'));
}
