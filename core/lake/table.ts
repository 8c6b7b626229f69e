import { TidemarkError } from '../errors';
import type { StoragePort } from '../storage';
import type { Schema, Snapshot, TableMetadata } from './model';
import { joinPath, resolveTablePath } from './paths';
import { parseTableMetadata } from './serde/table-metadata';

/** A table opened from a local root: its current metadata and the file it came from. */
export interface LoadedTable {
  root: string;
  metadataFile: string;
  metadata: TableMetadata;
  /** Rebases a path from the metadata onto the local root (see paths.ts). */
  resolve(path: string): string;
}

const METADATA_FILE = /\.metadata\.json$/;

/** Version of a metadata file name: `v12.metadata.json` → 12, `00012-<uuid>.metadata.json` → 12. */
export function metadataFileVersion(name: string): number | null {
  const m = /^v(\d+)\.metadata\.json$/.exec(name) ?? /^(\d+)-.*\.metadata\.json$/.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Finds the current metadata file of a table root. `version-hint.text` holds either a number N
 * (→ v<N>.metadata.json, or <N padded>-<uuid>.metadata.json) or a file stem; without a usable hint
 * the newest file wins (highest version, then latest mtime; a lone unnumbered file is taken).
 */
export async function findCurrentMetadataFile(storage: StoragePort, tableRoot: string): Promise<string> {
  const dir = joinPath(tableRoot, 'metadata');
  const hintPath = joinPath(dir, 'version-hint.text');
  // The hint is read with the listing, not after it: one round trip less on an object store (a
  // table without a hint costs one answered-missing read instead).
  const early = storage.readFile(hintPath).then(
    (bytes) => new TextDecoder().decode(bytes).trim(),
    () => null,
  );
  const entries = await storage.list(dir).catch((e: unknown) => {
    throw new TidemarkError('NotFound', `not an Iceberg table: ${dir} is missing`, { path: dir }, e);
  });
  const names = entries.filter((e) => e.kind === 'file' && METADATA_FILE.test(e.name)).map((e) => e.name);
  if (entries.some((e) => e.name === 'version-hint.text')) {
    // Listed but not read early (it appeared meanwhile, or the read failed): read it now, so a failure names it.
    const hint = (await early) ?? new TextDecoder().decode(await storage.readFile(hintPath)).trim();
    const candidates = /^\d+$/.test(hint)
      ? [`v${hint}.metadata.json`, ...names.filter((n) => metadataFileVersion(n) === Number(hint) && !n.startsWith('v'))]
      : [`${hint}.metadata.json`, hint];
    let found = candidates.find((c) => names.includes(c));
    // A writer publishes v<N+1> before rewriting the hint: a crash in between leaves a stale hint.
    while (found && /^v\d+\.metadata\.json$/.test(found) && names.includes(`v${metadataFileVersion(found)! + 1}.metadata.json`)) {
      found = `v${metadataFileVersion(found)! + 1}.metadata.json`;
    }
    if (found) return joinPath(dir, found);
  }
  if (names.length === 0) throw new TidemarkError('NotFound', `no *.metadata.json file in ${dir}`, { path: dir });
  const versioned = names.filter((n) => metadataFileVersion(n) !== null);
  if (versioned.length > 0) {
    versioned.sort((a, b) => metadataFileVersion(b)! - metadataFileVersion(a)!);
    return joinPath(dir, versioned[0]!);
  }
  let best = names[0]!;
  let bestTime = -Infinity;
  for (const n of names) {
    const info = await storage.stat(joinPath(dir, n));
    if (info && info.mtimeMs > bestTime) {
      best = n;
      bestTime = info.mtimeMs;
    }
  }
  return joinPath(dir, best);
}

/** Opens a table root (Iceberg v1/v2). NotFound when it is not a table; DataInvalid when corrupt. */
export async function loadTable(storage: StoragePort, tableRoot: string, metadataFile?: string): Promise<LoadedTable> {
  const root = tableRoot.length > 1 ? tableRoot.replace(/\/+$/, '') : tableRoot;
  const file = metadataFile ?? (await findCurrentMetadataFile(storage, root));
  const text = new TextDecoder().decode(await storage.readFile(file));
  const metadata = parseTableMetadata(text, file);
  return {
    root,
    metadataFile: file,
    metadata,
    resolve: (path) => resolveTablePath({ tableRoot: root, location: metadata.location, properties: metadata.properties }, path),
  };
}

export function formatSnapshotId(id: bigint): string {
  return id.toString();
}

export function findSnapshot(metadata: TableMetadata, snapshotId: bigint): Snapshot {
  const s = metadata.snapshots.find((x) => x.snapshotId === snapshotId);
  if (!s) throw new TidemarkError('NotFound', `snapshot ${snapshotId} not found in table ${metadata.location}`, { snapshotId: snapshotId.toString() });
  return s;
}

export interface SnapshotSelector {
  snapshotId?: bigint;
  /** Latest snapshot committed at or before this time (ms since epoch), following the snapshot log. */
  asOfTimestampMs?: number;
  /** Branch or tag name. */
  ref?: string;
}

/**
 * Resolves a selector to a snapshot, or null for a table with no snapshots (empty table).
 * Time travel uses the snapshot log (the history of the main branch), like Spark and Trino.
 */
export function selectSnapshot(metadata: TableMetadata, sel: SnapshotSelector = {}): Snapshot | null {
  const given = [sel.snapshotId !== undefined, sel.asOfTimestampMs !== undefined, sel.ref !== undefined].filter(Boolean).length;
  if (given > 1) throw new TidemarkError('InvalidInput', 'choose one of snapshot id, as-of timestamp or ref');
  if (sel.snapshotId !== undefined) return findSnapshot(metadata, sel.snapshotId);
  if (sel.ref !== undefined) {
    const ref = metadata.refs[sel.ref];
    if (!ref) throw new TidemarkError('NotFound', `ref ${JSON.stringify(sel.ref)} not found; refs: ${Object.keys(metadata.refs).join(', ') || 'none'}`, { ref: sel.ref });
    return findSnapshot(metadata, ref.snapshotId);
  }
  if (sel.asOfTimestampMs !== undefined) {
    const log = metadata.snapshotLog.length > 0 ? metadata.snapshotLog : metadata.snapshots.map((s) => ({ snapshotId: s.snapshotId, timestampMs: s.timestampMs }));
    let pick: bigint | null = null;
    for (const e of [...log].sort((a, b) => a.timestampMs - b.timestampMs)) if (e.timestampMs <= sel.asOfTimestampMs) pick = e.snapshotId;
    if (pick === null) {
      throw new TidemarkError('NotFound', `no snapshot at or before ${new Date(sel.asOfTimestampMs).toISOString()}`, { asOfTimestampMs: sel.asOfTimestampMs });
    }
    return findSnapshot(metadata, pick);
  }
  const current = metadata.refs.main?.snapshotId ?? metadata.currentSnapshotId;
  return current === null || current === undefined ? null : findSnapshot(metadata, current);
}

/**
 * The schema to read a snapshot with. Time travel to a snapshot id, a timestamp or a tag reads with
 * the schema the snapshot was written with (spec: snapshot schema-id); the current state and
 * branches read with the table's current schema (so renames made after the last write show).
 */
export function snapshotSchema(metadata: TableMetadata, snapshot: Snapshot | null, sel: SnapshotSelector = {}): Schema {
  const useSnapshot = sel.snapshotId !== undefined || sel.asOfTimestampMs !== undefined || (sel.ref !== undefined && metadata.refs[sel.ref]?.type === 'tag');
  const id = useSnapshot ? (snapshot?.schemaId ?? metadata.currentSchemaId) : metadata.currentSchemaId;
  const s = metadata.schemas.find((x) => x.schemaId === id) ?? metadata.schemas.find((x) => x.schemaId === metadata.currentSchemaId);
  if (!s) throw new TidemarkError('DataInvalid', `schema ${id} not found in table ${metadata.location}`, { schemaId: id });
  return s;
}
