import { TidemarkError } from '../errors';
import { normalizeLocation, parseJsonBigint, resolveTablePath, writeTableMetadata, type LoadedTable, type TableMetadata } from '../lake';
import type { TableCatalog } from '../lake/write';
import type { S3StorageOptions } from '../storage/s3/index';
import { s3OptionsFromLoadResult } from './rest-table';
import { createVendedStorage, type VendedStorage } from './vended-storage';
import type { LoadTableResult, RestCatalogClient } from './rest-client';
import type { CommitTableInput, TableRequirementInput, TableUpdateInput } from './rest-types';

type Json = Record<string, unknown>;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** The metadata in the spec's JSON spellings (core/lake's writer), to take schemas, specs and snapshots from. */
function toJson(m: TableMetadata): Json {
  return parseJsonBigint(writeTableMetadata(m)) as Json;
}

/**
 * The REST commit that turns `base` into `next` (both core/lake metadata of one table): the
 * requirements that hold only while `base` is the catalog's current version (uuid, main's
 * snapshot, current schema, last field id, default spec, last partition id), and the spec's
 * updates for what `next` adds or changes — schemas, specs, properties, snapshots, refs and
 * removed snapshots. What Tidemark's writers never change (format version, location, sort
 * orders) is not sent.
 */
export function metadataChanges(base: TableMetadata, next: TableMetadata): CommitTableInput {
  const requirements: TableRequirementInput[] = [
    { type: 'assert-table-uuid', uuid: base.tableUuid },
    { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': base.refs.main?.snapshotId ?? null },
    { type: 'assert-current-schema-id', 'current-schema-id': base.currentSchemaId },
    { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': base.lastColumnId },
    { type: 'assert-default-spec-id', 'default-spec-id': base.defaultSpecId },
    { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': base.lastPartitionId },
  ];
  const json = toJson(next);
  const updates: TableUpdateInput[] = [];
  next.schemas.forEach((s, i) => {
    if (!base.schemas.some((b) => b.schemaId === s.schemaId)) updates.push({ action: 'add-schema', schema: (json.schemas as Json[])[i]!, 'last-column-id': next.lastColumnId });
  });
  if (next.currentSchemaId !== base.currentSchemaId) updates.push({ action: 'set-current-schema', 'schema-id': next.currentSchemaId });
  next.partitionSpecs.forEach((s, i) => {
    if (!base.partitionSpecs.some((b) => b.specId === s.specId)) updates.push({ action: 'add-spec', spec: (json['partition-specs'] as Json[])[i]! });
  });
  if (next.defaultSpecId !== base.defaultSpecId) updates.push({ action: 'set-default-spec', 'spec-id': next.defaultSpecId });
  const changed = Object.fromEntries(Object.entries(next.properties).filter(([k, v]) => base.properties[k] !== v));
  if (Object.keys(changed).length > 0) updates.push({ action: 'set-properties', updates: changed });
  const removed = Object.keys(base.properties).filter((k) => !(k in next.properties));
  if (removed.length > 0) updates.push({ action: 'remove-properties', removals: removed });
  next.snapshots.forEach((s, i) => {
    if (!base.snapshots.some((b) => b.snapshotId === s.snapshotId)) updates.push({ action: 'add-snapshot', snapshot: (json.snapshots as Json[])[i]! });
  });
  const gone = base.snapshots.filter((b) => !next.snapshots.some((s) => s.snapshotId === b.snapshotId)).map((s) => s.snapshotId);
  for (const name of Object.keys(base.refs)) if (!next.refs[name]) updates.push({ action: 'remove-snapshot-ref', 'ref-name': name });
  for (const [name, ref] of Object.entries(next.refs)) {
    if (sameJson(base.refs[name], ref)) continue;
    const u: TableUpdateInput = { action: 'set-snapshot-ref', 'ref-name': name, type: ref.type, 'snapshot-id': ref.snapshotId };
    if (ref.minSnapshotsToKeep !== undefined) u['min-snapshots-to-keep'] = ref.minSnapshotsToKeep;
    if (ref.maxSnapshotAgeMs !== undefined) u['max-snapshot-age-ms'] = ref.maxSnapshotAgeMs;
    if (ref.maxRefAgeMs !== undefined) u['max-ref-age-ms'] = ref.maxRefAgeMs;
    updates.push(u);
  }
  if (gone.length > 0) updates.push({ action: 'remove-snapshots', 'snapshot-ids': gone });
  return { requirements, updates };
}

export interface RestTableCatalogOptions {
  /**
   * The root data is written under for a table location the catalog reports (default: the
   * location as it is: a local folder, or `s3://…` for WriteEnv.storage to reach).
   */
  rootOf?(location: string, result: LoadTableResult): string;
  /** The writer's own S3 settings, under what the catalog vends per table (see `bindStorage`). */
  s3?: S3StorageOptions;
  /**
   * The catalog identifier of the table at `root`, when the caller knows it (a command given
   * `ns.table`, nested namespaces included); default: the root's last two path segments.
   */
  identifierOf?(root: string): { namespace: string[]; table: string } | null;
}

/**
 * Tables of an Iceberg REST catalog as core/lake/write's TableCatalog: loads and commits go
 * through `client` (commit requirements → 409 → CommitConflict, which commitTable retries as a
 * lost race). A table's root is its location; a root names its table by its last two path
 * segments (`…/<namespace>/<name>`, a Hive-style `<namespace>.db` too), checked against the
 * location the catalog reports, so a sink worker with its own client finds the same tables.
 */
/** The root Tidemark writes a catalog table's files under: its location, `file:` dropped. */
export function catalogTableRoot(location: string): string {
  return location.replace(/^file:(\/\/)?/, '').replace(/\/+$/, '');
}

export function createRestTableCatalog(client: RestCatalogClient, name: string, options: RestTableCatalogOptions = {}): TableCatalog {
  const rootOf = options.rootOf ?? catalogTableRoot;
  const bound: VendedStorage[] = [];

  /** Tells every bound storage what the catalog vended for the table at `root` (nothing vended: nothing to do). */
  function vend(root: string, result: LoadTableResult): void {
    const vended = s3OptionsFromLoadResult(result, result.metadata.location);
    if (Object.keys(vended).length === 0) return;
    for (const storage of bound) storage.vend(root, vended);
  }

  function identifierOf(root: string): { namespace: string[]; table: string } {
    const known = options.identifierOf?.(root);
    if (known) return known;
    const parts = root.replace(/\/+$/, '').split('/');
    const table = parts.pop();
    const namespace = parts.pop()?.replace(/\.db$/, '');
    if (!table || !namespace) throw new TidemarkError('InvalidInput', `${root}: a table of catalog ${name} must live at <namespace>/<name>`, { path: root });
    return { namespace: [namespace], table };
  }

  function loaded(root: string, result: LoadTableResult): LoadedTable {
    const m = result.metadata;
    if (normalizeLocation(rootOf(m.location, result)) !== normalizeLocation(root)) {
      throw new TidemarkError('Unsupported', `catalog ${name}: table ${identifierOf(root).namespace.join('.')}.${identifierOf(root).table} lives at ${m.location}, not at ${root}: Tidemark writes catalog tables at <location>/<namespace>/<name> only`, { path: root, location: m.location });
    }
    vend(root, result);
    return {
      root,
      metadataFile: result.metadataLocation ?? `${root}/metadata/v0.metadata.json`,
      metadata: m,
      resolve: (path) => resolveTablePath({ tableRoot: root, location: m.location, properties: m.properties }, path),
    };
  }

  /** The table's root, after its vended settings are registered. */
  function opened(r: LoadTableResult, created: boolean): { root: string; created: boolean } {
    const root = rootOf(r.metadata.location, r);
    vend(root, r);
    return { root, created };
  }

  return {
    name,
    bindStorage(storage) {
      const vended = createVendedStorage(storage, options.s3);
      bound.push(vended);
      return vended;
    },
    async loadTable(root) {
      const { namespace, table } = identifierOf(root);
      return loaded(root, await client.loadTable(namespace, table));
    },
    async commitTable(root, base, next) {
      const { namespace, table } = identifierOf(root);
      const r = await client.commitTable(namespace, table, metadataChanges(base.metadata, next));
      return { metadata: r.metadata, metadataFile: r.metadataLocation };
    },
    async openTable(namespace, table, initial) {
      if (await client.tableExists([namespace], table)) {
        return opened(await client.loadTable([namespace], table), false);
      }
      if (!(await client.namespaceExists([namespace]))) {
        await client.createNamespace([namespace]).catch(async (e: unknown) => {
          // Another writer created it meanwhile.
          if (!(await client.namespaceExists([namespace]))) throw e;
        });
      }
      const json = toJson(initial());
      try {
        const r = await client.createTable([namespace], {
          name: table,
          schema: (json.schemas as Json[])[0]!,
          'partition-spec': (json['partition-specs'] as Json[])[0]!,
          'write-order': (json['sort-orders'] as Json[])[0]!,
          properties: json.properties as Record<string, string>,
        });
        return opened(r, true);
      } catch (e) {
        // Created by another writer between the check and the create (409 AlreadyExists): use it.
        if (!(e instanceof TidemarkError) || !(await client.tableExists([namespace], table))) throw e;
        return opened(await client.loadTable([namespace], table), false);
      }
    },
  };
}
