import { TidemarkError } from '../../errors';
import type { PartitionSpec, Snapshot, SnapshotRef, TableMetadata } from '../model';
import { parseJsonBigint, stringifyJsonBigint } from './json';
import {
  JsonReader,
  parsePartitionField,
  parsePartitionSpec,
  parseSchema,
  parseSortOrder,
  writePartitionSpec,
  writeSchema,
  writeSortOrder,
  type Json,
} from './schema-json';

/**
 * Table metadata JSON (spec "Table Metadata"), formats v1, v2 and v3. `file` names the metadata file
 * in every error. v1 spellings (`schema`, `partition-spec`, no sequence numbers) are normalized into
 * the v2 model; v3 adds row lineage (`next-row-id`, snapshots' `first-row-id`) and the v3 types.
 */
export function parseTableMetadata(text: string, file: string): TableMetadata {
  let raw: unknown;
  try {
    raw = parseJsonBigint(text);
  } catch (e) {
    throw new TidemarkError('DataInvalid', `${file}: expected table metadata JSON: ${(e as Error).message}`, { path: file }, e);
  }
  const r = new JsonReader(file);
  const o = r.obj(raw, 'table metadata');
  const formatVersion = r.int(o['format-version'], 'format-version');
  if (formatVersion !== 1 && formatVersion !== 2 && formatVersion !== 3) r.fail('format-version', '1, 2 or 3', formatVersion);

  const schemas =
    o.schemas !== undefined
      ? r.arr(o.schemas, 'schemas').map((s, i) => parseSchema(r, s, `schemas[${i}]`))
      : [parseSchema(r, o.schema, 'schema')];
  const currentSchemaId = o['current-schema-id'] !== undefined ? r.int(o['current-schema-id'], 'current-schema-id') : schemas[0]!.schemaId;

  const nextPartitionFieldId = { value: 1000 };
  let partitionSpecs: PartitionSpec[];
  if (o['partition-specs'] !== undefined) {
    partitionSpecs = r.arr(o['partition-specs'], 'partition-specs').map((s, i) => parsePartitionSpec(r, s, `partition-specs[${i}]`, nextPartitionFieldId));
  } else {
    const fields = r.arr(o['partition-spec'] ?? [], 'partition-spec').map((f, i) => parsePartitionField(r, f, `partition-spec[${i}]`, nextPartitionFieldId));
    partitionSpecs = [{ specId: 0, fields }];
  }
  const allPartitionFieldIds = partitionSpecs.flatMap((s) => s.fields.map((f) => f.fieldId));

  const snapshots = r.arr(o.snapshots ?? [], 'snapshots').map((s, i): Snapshot => {
    const where = `snapshots[${i}]`;
    const so = r.obj(s, where);
    if (so['manifest-list'] === undefined) {
      throw new TidemarkError('Unsupported', `${file}: ${where}: v1 snapshots with an inline "manifests" list are not supported`, { path: file });
    }
    const summary: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.obj(so.summary ?? { operation: 'append' }, `${where}.summary`))) summary[k] = String(v);
    return {
      snapshotId: r.long(so['snapshot-id'], `${where}.snapshot-id`),
      parentSnapshotId: so['parent-snapshot-id'] === undefined || so['parent-snapshot-id'] === null ? null : r.long(so['parent-snapshot-id'], `${where}.parent-snapshot-id`),
      sequenceNumber: so['sequence-number'] === undefined ? 0n : r.long(so['sequence-number'], `${where}.sequence-number`),
      timestampMs: r.int(so['timestamp-ms'], `${where}.timestamp-ms`),
      manifestList: r.str(so['manifest-list'], `${where}.manifest-list`),
      summary,
      schemaId: so['schema-id'] === undefined ? null : r.int(so['schema-id'], `${where}.schema-id`),
      // v3: required on new snapshots; absent on snapshots from before an upgrade to v3.
      firstRowId: so['first-row-id'] === undefined || so['first-row-id'] === null ? null : r.long(so['first-row-id'], `${where}.first-row-id`),
      addedRows: so['added-rows'] === undefined || so['added-rows'] === null ? null : r.long(so['added-rows'], `${where}.added-rows`),
    };
  });

  let currentSnapshotId: bigint | null = null;
  if (o['current-snapshot-id'] !== undefined && o['current-snapshot-id'] !== null) {
    const id = r.long(o['current-snapshot-id'], 'current-snapshot-id');
    currentSnapshotId = id === -1n ? null : id;
  }
  const refs: Record<string, SnapshotRef> = {};
  for (const [name, v] of Object.entries(r.obj(o.refs ?? {}, 'refs'))) {
    const ro = r.obj(v, `refs.${name}`);
    const ref: SnapshotRef = {
      snapshotId: r.long(ro['snapshot-id'], `refs.${name}.snapshot-id`),
      type: r.str(ro.type, `refs.${name}.type`) === 'tag' ? 'tag' : 'branch',
    };
    if (typeof ro['min-snapshots-to-keep'] === 'number') ref.minSnapshotsToKeep = ro['min-snapshots-to-keep'];
    if (typeof ro['max-snapshot-age-ms'] === 'number') ref.maxSnapshotAgeMs = ro['max-snapshot-age-ms'];
    if (typeof ro['max-ref-age-ms'] === 'number') ref.maxRefAgeMs = ro['max-ref-age-ms'];
    refs[name] = ref;
  }
  // Spec: when refs is absent, main is implied by current-snapshot-id.
  if (o.refs === undefined && currentSnapshotId !== null) refs.main = { snapshotId: currentSnapshotId, type: 'branch' };

  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.obj(o.properties ?? {}, 'properties'))) properties[k] = String(v);

  return {
    formatVersion: formatVersion as 1 | 2 | 3,
    tableUuid: o['table-uuid'] === undefined && formatVersion === 1 ? '' : r.str(o['table-uuid'], 'table-uuid'),
    location: r.str(o.location, 'location'),
    lastSequenceNumber: o['last-sequence-number'] === undefined ? 0n : r.long(o['last-sequence-number'], 'last-sequence-number'),
    lastUpdatedMs: r.int(o['last-updated-ms'], 'last-updated-ms'),
    lastColumnId: r.int(o['last-column-id'], 'last-column-id'),
    schemas,
    currentSchemaId,
    partitionSpecs,
    defaultSpecId: o['default-spec-id'] === undefined ? 0 : r.int(o['default-spec-id'], 'default-spec-id'),
    lastPartitionId: o['last-partition-id'] === undefined ? Math.max(999, ...allPartitionFieldIds) : r.int(o['last-partition-id'], 'last-partition-id'),
    sortOrders: r.arr(o['sort-orders'] ?? [{ 'order-id': 0, fields: [] }], 'sort-orders').map((s, i) => parseSortOrder(r, s, `sort-orders[${i}]`)),
    defaultSortOrderId: o['default-sort-order-id'] === undefined ? 0 : r.int(o['default-sort-order-id'], 'default-sort-order-id'),
    properties,
    currentSnapshotId,
    snapshots,
    snapshotLog: r.arr(o['snapshot-log'] ?? [], 'snapshot-log').map((e, i) => {
      const eo = r.obj(e, `snapshot-log[${i}]`);
      return { snapshotId: r.long(eo['snapshot-id'], `snapshot-log[${i}].snapshot-id`), timestampMs: r.int(eo['timestamp-ms'], `snapshot-log[${i}].timestamp-ms`) };
    }),
    metadataLog: r.arr(o['metadata-log'] ?? [], 'metadata-log').map((e, i) => {
      const eo = r.obj(e, `metadata-log[${i}]`);
      return { metadataFile: r.str(eo['metadata-file'], `metadata-log[${i}].metadata-file`), timestampMs: r.int(eo['timestamp-ms'], `metadata-log[${i}].timestamp-ms`) };
    }),
    refs,
    nextRowId: o['next-row-id'] === undefined || o['next-row-id'] === null ? null : r.long(o['next-row-id'], 'next-row-id'),
  };
}

/**
 * Table metadata → JSON text with every field the spec requires: v2, or v3 for a v3 table (row
 * lineage: `next-row-id`, and each snapshot's `first-row-id` / `added-rows` where it has them). A
 * v1 table is written as v2 (the upgrade the spec allows); a v3 one is never written as v2, which
 * would drop its row lineage.
 */
export function writeTableMetadata(m: TableMetadata): string {
  const v3 = m.formatVersion === 3;
  if (v3 && m.nextRowId === null) {
    throw new TidemarkError('DataInvalid', `${m.location}: a format-version 3 table needs next-row-id`, { path: m.location });
  }
  const out: Json = {
    'format-version': v3 ? 3 : 2,
    'table-uuid': m.tableUuid,
    location: m.location,
    'last-sequence-number': m.lastSequenceNumber,
    'last-updated-ms': m.lastUpdatedMs,
    'last-column-id': m.lastColumnId,
    'current-schema-id': m.currentSchemaId,
    schemas: m.schemas.map(writeSchema),
    'default-spec-id': m.defaultSpecId,
    'partition-specs': m.partitionSpecs.map(writePartitionSpec),
    'last-partition-id': m.lastPartitionId,
    'default-sort-order-id': m.defaultSortOrderId,
    'sort-orders': m.sortOrders.map(writeSortOrder),
    properties: m.properties,
    'current-snapshot-id': m.currentSnapshotId ?? -1n,
    refs: Object.fromEntries(
      Object.entries(m.refs).map(([name, ref]) => {
        const o: Json = { 'snapshot-id': ref.snapshotId, type: ref.type };
        if (ref.minSnapshotsToKeep !== undefined) o['min-snapshots-to-keep'] = ref.minSnapshotsToKeep;
        if (ref.maxSnapshotAgeMs !== undefined) o['max-snapshot-age-ms'] = ref.maxSnapshotAgeMs;
        if (ref.maxRefAgeMs !== undefined) o['max-ref-age-ms'] = ref.maxRefAgeMs;
        return [name, o];
      }),
    ),
    snapshots: m.snapshots.map((s) => {
      const o: Json = { 'sequence-number': s.sequenceNumber, 'snapshot-id': s.snapshotId };
      if (s.parentSnapshotId !== null) o['parent-snapshot-id'] = s.parentSnapshotId;
      o['timestamp-ms'] = s.timestampMs;
      o.summary = s.summary;
      o['manifest-list'] = s.manifestList;
      if (s.schemaId !== null) o['schema-id'] = s.schemaId;
      if (v3 && s.firstRowId !== null) {
        o['first-row-id'] = s.firstRowId;
        o['added-rows'] = s.addedRows ?? 0n;
      }
      return o;
    }),
    'snapshot-log': m.snapshotLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'snapshot-id': e.snapshotId })),
    'metadata-log': m.metadataLog.map((e) => ({ 'timestamp-ms': e.timestampMs, 'metadata-file': e.metadataFile })),
  };
  if (v3) out['next-row-id'] = m.nextRowId;
  return stringifyJsonBigint(out);
}
