import { TidemarkError } from '../../errors';
import type { StoragePort } from '../../storage';
import type { NestedField } from '../model';
import { readPaimonFile } from './avro-container';
import { readSnapshotDataFiles } from './manifest';
import { joinPath } from './paths';
import { readPaimonRows, type Row } from './read';
import { listPaimonSchemaIds, readPaimonSchemaFile, type PaimonSchema } from './schema';
import { listPaimonSnapshotIds, listPaimonTags, parsePaimonSnapshot, resolvePaimonSnapshot, type PaimonSnapshotFile, type SnapshotSelector } from './snapshot';

/**
 * What Paimon's system tables (`t$snapshots`, `$schemas`, `$tags`, `$audit_log`) show that the
 * plain read API does not keep: snapshot and tag JSON members beyond the ones a read needs, a
 * schema's members as Java prints them, and the merged rows with their row kinds. Browser-safe.
 */

export interface PaimonSnapshotRecord {
  snapshot: PaimonSnapshotFile;
  /** `nextRowId` (row tracking, Paimon ≥ 1.1), null when absent. */
  nextRowId: bigint | null;
  /** `operation` and `writerVersion` (newer Java writers), null when absent. */
  operation: string | null;
  writerVersion: string | null;
}

function decodeJson(bytes: Uint8Array, path: string, what: string): Record<string, unknown> {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) return json as Record<string, unknown>;
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${path}: expected Paimon ${what} JSON: ${(e as Error).message}`, { path }, e);
  }
  throw new TidemarkError('DataInvalid', `${path}: expected Paimon ${what} JSON: not an object`, { path });
}

/** 64-bit integer members are taken from the text so that every digit stays. */
function rawInteger(text: string, key: string): bigint | null {
  const m = new RegExp(`"${key}"\\s*:\\s*(-?\\d+)\\s*[,}\\n]`).exec(text);
  return m ? BigInt(m[1]!) : null;
}

/** Every snapshot in snapshot/, oldest first, with the JSON members only system tables show. */
export async function readPaimonSnapshotRecords(storage: StoragePort, root: string): Promise<PaimonSnapshotRecord[]> {
  const out: PaimonSnapshotRecord[] = [];
  for (const id of await listPaimonSnapshotIds(storage, root)) {
    const path = joinPath(root, 'snapshot', `snapshot-${id}`);
    const bytes = await readPaimonFile(storage, path, `snapshot ${id}`);
    const text = new TextDecoder().decode(bytes);
    const snapshot = parsePaimonSnapshot(text, path);
    const json = decodeJson(bytes, path, 'snapshot');
    const str = (k: string) => (typeof json[k] === 'string' ? (json[k] as string) : null);
    out.push({ snapshot, nextRowId: rawInteger(text, 'nextRowId'), operation: str('operation'), writerVersion: str('writerVersion') });
  }
  return out;
}

export interface PaimonSchemaRecord {
  schemaId: number;
  schema: PaimonSchema;
  /** `fields`, `partitionKeys`, `primaryKeys`, `options` as compact JSON (Java's toFlatJson), members in file order. */
  fieldsJson: string;
  partitionKeysJson: string;
  primaryKeysJson: string;
  optionsJson: string;
  comment: string | null;
  timeMillis: number | null;
}

/** Every schema version in schema/, by id. */
export async function readPaimonSchemaRecords(storage: StoragePort, root: string): Promise<PaimonSchemaRecord[]> {
  const out: PaimonSchemaRecord[] = [];
  for (const id of await listPaimonSchemaIds(storage, root)) {
    // Parsed once for validation (field and key checks), once raw for the members as written.
    const schema = await readPaimonSchemaFile(storage, root, id);
    const path = joinPath(root, 'schema', `schema-${id}`);
    const json = decodeJson(await readPaimonFile(storage, path, `schema ${id}`), path, 'schema');
    out.push({
      schemaId: schema.schemaId,
      schema,
      fieldsJson: JSON.stringify(json.fields ?? []),
      partitionKeysJson: JSON.stringify(json.partitionKeys ?? []),
      primaryKeysJson: JSON.stringify(json.primaryKeys ?? []),
      optionsJson: JSON.stringify(json.options ?? {}),
      comment: typeof json.comment === 'string' ? json.comment : null,
      timeMillis: schema.timeMillis,
    });
  }
  return out;
}

export interface PaimonTagRecord {
  name: string;
  snapshot: PaimonSnapshotFile;
  /** `tagCreateTime` (a LocalDateTime) as microseconds since 1970-01-01T00:00, null when absent. */
  createTimeMicros: bigint | null;
  /** `tagTimeRetained` printed as Java's Duration.toString ("PT1H"), null when absent. */
  timeRetained: string | null;
}

/** Jackson writes a LocalDateTime as [y, M, d, H, m] plus second and nanos when not zero; or as ISO text. */
function localDateTimeMicros(v: unknown, path: string): bigint | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') {
    const ms = Date.parse(/[zZ]|[+-]\d{2}:\d{2}$/.test(v) ? v : `${v}Z`);
    if (!Number.isNaN(ms)) return BigInt(ms) * 1000n;
  }
  if (Array.isArray(v) && v.length >= 5 && v.length <= 7 && v.every((x) => Number.isInteger(x))) {
    const [y, mo, d, h, mi, s = 0, nanos = 0] = v as number[];
    const ms = Date.UTC(y!, mo! - 1, d!, h!, mi!, s);
    return BigInt(ms) * 1000n + BigInt(Math.floor(nanos / 1000));
  }
  throw new TidemarkError('DataInvalid', `${path}: tagCreateTime must be a LocalDateTime ([year, month, day, hour, minute, second, nanos] or ISO text), found ${JSON.stringify(v)}`, { path });
}

/** Java's Duration.toString for a non-negative number of seconds: PT48H, PT1M30S, PT0.5S, PT0S. */
export function formatJavaDuration(seconds: number): string {
  const totalNanos = BigInt(Math.round(seconds * 1e9));
  const hours = totalNanos / 3_600_000_000_000n;
  const minutes = (totalNanos / 60_000_000_000n) % 60n;
  const secs = (totalNanos / 1_000_000_000n) % 60n;
  const frac = totalNanos % 1_000_000_000n;
  let out = 'PT';
  if (hours > 0n) out += `${hours}H`;
  if (minutes > 0n) out += `${minutes}M`;
  if (secs === 0n && frac === 0n && out.length > 2) return out;
  out += frac === 0n ? `${secs}S` : `${secs}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}S`;
  return out;
}

/** Every tag in tag/, by name (Java's TreeMap order). */
export async function readPaimonTagRecords(storage: StoragePort, root: string): Promise<PaimonTagRecord[]> {
  const names = (await listPaimonTags(storage, root)).sort();
  const out: PaimonTagRecord[] = [];
  for (const name of names) {
    const path = joinPath(root, 'tag', `tag-${name}`);
    const bytes = await readPaimonFile(storage, path, `tag ${name}`);
    const snapshot = parsePaimonSnapshot(new TextDecoder().decode(bytes), path);
    const json = decodeJson(bytes, path, 'tag');
    const retained = json.tagTimeRetained;
    if (retained !== undefined && retained !== null && (typeof retained !== 'number' || !(retained >= 0))) {
      throw new TidemarkError('DataInvalid', `${path}: tagTimeRetained must be a non-negative number of seconds, found ${JSON.stringify(retained)}`, { path });
    }
    out.push({
      name,
      snapshot,
      createTimeMicros: localDateTimeMicros(json.tagCreateTime, path),
      timeRetained: typeof retained === 'number' ? formatJavaDuration(retained) : null,
    });
  }
  return out;
}

/** RowKind short strings by `_VALUE_KIND` byte. */
const ROW_KINDS = ['+I', '-U', '+U', '-D'];

export interface PaimonAuditLogResult {
  snapshotId: bigint | null;
  schema: PaimonSchema;
  columns: NestedField[];
  rows: Row[];
  /** Per row: +I, -U, +U or -D. */
  rowKinds: string[];
  /** Per row: `_SEQUENCE_NUMBER` (null for append tables). */
  sequenceNumbers: (bigint | null)[];
}

/**
 * The rows of `$audit_log` in a batch read, as Java's AuditLogTable reads them: the snapshot's rows
 * merged as a plain read merges them (LSM merge by key; deletion-vector tables skip level 0), but
 * with `forceKeepDelete`: a key whose latest record is a -U or -D stays, with that row kind, until
 * a compaction into the last level drops it. Append tables' rows are all +I.
 */
export async function scanPaimonAuditLog(storage: StoragePort, root: string, sel: SnapshotSelector = {}): Promise<PaimonAuditLogResult> {
  const snapshot = await resolvePaimonSnapshot(storage, root, sel);
  const ids = await listPaimonSchemaIds(storage, root);
  const schema = await readPaimonSchemaFile(storage, root, snapshot ? snapshot.schemaId : ids[ids.length - 1]!);
  const files = snapshot ? await readSnapshotDataFiles(storage, root, snapshot, schema) : [];
  const fileSchemas = new Map<number, PaimonSchema>([[schema.schemaId, schema]]);
  for (const id of new Set(files.map((f) => f.schemaId))) if (!fileSchemas.has(id)) fileSchemas.set(id, await readPaimonSchemaFile(storage, root, id));
  const keep = { kinds: [] as number[], sequenceNumbers: [] as (bigint | null)[] };
  const rows = await readPaimonRows(storage, schema, files, { fields: schema.fields, fileSchemas, keepRetracts: keep });
  const rowKinds = keep.kinds.map((k, i) => {
    const kind = ROW_KINDS[k];
    if (kind === undefined) throw new TidemarkError('DataInvalid', `${root}: _VALUE_KIND ${k} of row ${i} is not a row kind (0 +I, 1 -U, 2 +U, 3 -D)`, { path: root });
    return kind;
  });
  return { snapshotId: snapshot?.id ?? null, schema, columns: schema.fields, rows, rowKinds, sequenceNumbers: keep.sequenceNumbers };
}
