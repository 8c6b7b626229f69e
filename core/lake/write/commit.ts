import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TidemarkError, toWriteError } from '../../errors';
import { createLocalStorage, publishTempFile } from '../../storage/node';
import type { TableMetadata } from '../model';
import { writeTableMetadata } from '../serde/table-metadata';
import { loadTable, metadataFileVersion, type LoadedTable } from '../table';
import { makeDirectory, writeNewFile } from './file-write';

/** Injected clock and id generators (deterministic demo tables and tests). */
export interface WriteEnv {
  now(): number;
  uuid(): string;
  /** A positive 63-bit snapshot id. */
  snapshotId(): bigint;
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
  const storage = createLocalStorage();
  for (let attempt = 0; attempt <= COMMIT_RETRIES; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, retryDelayMs(attempt, env)));
    const base = await loadTable(storage, root);
    const version = metadataFileVersion(base.metadataFile.split('/').pop()!) ?? 0;
    const next = await build(base, version + 1);
    const file = join(root, 'metadata', `v${version + 1}.metadata.json`);
    const withLog: TableMetadata = {
      ...next,
      metadataLog: [...base.metadata.metadataLog, { metadataFile: base.metadataFile, timestampMs: base.metadata.lastUpdatedMs }],
    };
    if (await publishExclusive(file, writeTableMetadata(withLog), env)) {
      await writeHintAfterCommit(root, version + 1, env);
      return { metadata: withLog, metadataFile: file };
    }
  }
  throw new TidemarkError('CommitConflict', `commit to ${root} lost the race ${COMMIT_RETRIES + 1} times; another writer keeps committing`, { path: root });
}

async function writeHint(root: string, version: number, env: WriteEnv): Promise<void> {
  const hint = join(root, 'metadata', 'version-hint.text');
  const tmp = `${hint}.${env.uuid()}.tmp`;
  await writeNewFile(tmp, String(version));
  // The hint may be replaced (it is advisory): rename is right here, unlike for metadata files.
  await rename(tmp, hint).catch(async (e: unknown) => {
    await unlink(tmp).catch(() => undefined);
    throw toWriteError(e, hint, 'replace');
  });
}

/**
 * The commit is already published when the hint is rewritten. A failure here (the disk filled up
 * between the two writes) must not be reported as a failed commit: a caller would retry and write
 * the rows twice. The stale hint is harmless, as after a crash at this point: readers step from
 * the hinted version to every newer v<N>.metadata.json (findCurrentMetadataFile).
 */
async function writeHintAfterCommit(root: string, version: number, env: WriteEnv): Promise<void> {
  await writeHint(root, version, env).catch(() => undefined);
}

/** Creates `<root>/metadata` and publishes v1 exclusively; AlreadyExists → CommitConflict. */
export async function publishFirstVersion(root: string, metadata: TableMetadata, env: WriteEnv): Promise<string> {
  await makeDirectory(join(root, 'metadata'));
  await makeDirectory(join(root, 'data'));
  const existing = (await readdir(join(root, 'metadata'))).filter((f) => f.endsWith('.metadata.json'));
  if (existing.length > 0) throw new TidemarkError('CommitConflict', `table already exists at ${root}`, { path: root });
  const file = join(root, 'metadata', 'v1.metadata.json');
  if (!(await publishExclusive(file, writeTableMetadata(metadata), env))) {
    throw new TidemarkError('CommitConflict', `table already exists at ${root}`, { path: root });
  }
  await writeHintAfterCommit(root, 1, env);
  return file;
}
