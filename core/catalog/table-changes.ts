import { TidemarkError } from '../errors';
import { indexFields, type PartitionSpec, type Schema, type Snapshot, type SortOrder, type TableMetadata } from '../lake';
import { JsonReader, parsePartitionSpec, parseSchema, parseSortOrder } from '../lake';
import type { TableRequirement, TableUpdate } from './rest-types';

/**
 * Table requirements and updates of the REST catalog's commit (spec "CommitTableRequest"), with the
 * rules of Iceberg's reference implementation (TableMetadata.Builder / UpdateRequirement): a failed
 * requirement is CommitConflict (the server's 409 CommitFailedException); a malformed or
 * impossible update is InvalidInput (400); an update this writer cannot keep is Unsupported.
 */

function conflict(table: string, message: string): TidemarkError {
  return new TidemarkError('CommitConflict', `${table}: requirement failed: ${message}`, { table });
}

/** Checks every requirement against the latest committed metadata (null: the table does not exist). */
export function checkRequirements(table: string, base: TableMetadata | null, requirements: TableRequirement[]): void {
  for (const q of requirements) {
    if (q.type === 'assert-create') {
      if (base) throw conflict(table, 'table already exists (assert-create)');
      continue;
    }
    if (!base) throw conflict(table, `table does not exist (${q.type})`);
    switch (q.type) {
      case 'assert-table-uuid':
        if (q.uuid.toLowerCase() !== base.tableUuid.toLowerCase()) throw conflict(table, `table uuid is ${base.tableUuid}, expected ${q.uuid}`);
        break;
      case 'assert-ref-snapshot-id': {
        const ref = base.refs[q.ref] ?? (q.ref === 'main' && base.currentSnapshotId !== null ? { snapshotId: base.currentSnapshotId } : undefined);
        const expected = q['snapshot-id'];
        if (ref && expected === null) throw conflict(table, `ref ${q.ref} was created concurrently (it points at ${ref.snapshotId})`);
        if (!ref && expected !== null) throw conflict(table, `ref ${q.ref} no longer exists, expected it at ${expected}`);
        if (ref && expected !== null && ref.snapshotId !== expected) throw conflict(table, `ref ${q.ref} points at snapshot ${ref.snapshotId}, expected ${expected}`);
        break;
      }
      case 'assert-last-assigned-field-id':
        if (base.lastColumnId !== q['last-assigned-field-id']) throw conflict(table, `last assigned field id is ${base.lastColumnId}, expected ${q['last-assigned-field-id']}`);
        break;
      case 'assert-current-schema-id':
        if (base.currentSchemaId !== q['current-schema-id']) throw conflict(table, `current schema id is ${base.currentSchemaId}, expected ${q['current-schema-id']}`);
        break;
      case 'assert-last-assigned-partition-id':
        if (base.lastPartitionId !== q['last-assigned-partition-id']) throw conflict(table, `last assigned partition id is ${base.lastPartitionId}, expected ${q['last-assigned-partition-id']}`);
        break;
      case 'assert-default-spec-id':
        if (base.defaultSpecId !== q['default-spec-id']) throw conflict(table, `default spec id is ${base.defaultSpecId}, expected ${q['default-spec-id']}`);
        break;
      case 'assert-default-sort-order-id':
        if (base.defaultSortOrderId !== q['default-sort-order-id']) throw conflict(table, `default sort order id is ${base.defaultSortOrderId}, expected ${q['default-sort-order-id']}`);
        break;
    }
  }
}

/**
 * The metadata a table starts from when a commit creates it (assert-create after a staged create):
 * no schema yet, so the commit's updates must add one.
 */
export function emptyMetadata(location: string, uuid: string, now: number): TableMetadata {
  return {
    formatVersion: 2,
    tableUuid: uuid,
    location,
    lastSequenceNumber: 0n,
    lastUpdatedMs: now,
    lastColumnId: 0,
    schemas: [],
    currentSchemaId: -1,
    partitionSpecs: [],
    defaultSpecId: -1,
    lastPartitionId: 999,
    sortOrders: [],
    defaultSortOrderId: -1,
    properties: {},
    currentSnapshotId: null,
    snapshots: [],
    snapshotLog: [],
    metadataLog: [],
    refs: {},
    nextRowId: null,
  };
}

const jsonText = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
const sameJson = (a: unknown, b: unknown) => jsonText(a) === jsonText(b);

function parseSnapshot(r: JsonReader, so: Record<string, unknown>): Snapshot {
  const summary: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.obj(so.summary, 'snapshot.summary'))) summary[k] = String(v);
  if (!summary.operation) r.fail('snapshot.summary.operation', 'append, replace, overwrite or delete', summary.operation);
  const parent = so['parent-snapshot-id'];
  return {
    snapshotId: r.long(so['snapshot-id'], 'snapshot.snapshot-id'),
    parentSnapshotId: parent === undefined || parent === null ? null : r.long(parent, 'snapshot.parent-snapshot-id'),
    sequenceNumber: so['sequence-number'] === undefined ? 0n : r.long(so['sequence-number'], 'snapshot.sequence-number'),
    timestampMs: r.int(so['timestamp-ms'], 'snapshot.timestamp-ms'),
    manifestList: r.str(so['manifest-list'], 'snapshot.manifest-list'),
    summary,
    schemaId: so['schema-id'] === undefined || so['schema-id'] === null ? null : r.int(so['schema-id'], 'snapshot.schema-id'),
    firstRowId: null,
  };
}

/**
 * Applies `updates` in order to `base` (spec "TableUpdate"; -1 in set-current-schema /
 * set-default-spec / set-default-sort-order means "the one added by this commit").
 * `now` is the commit time (last-updated-ms, snapshot-log of refs moved to older snapshots).
 */
export function applyUpdates(table: string, base: TableMetadata, updates: TableUpdate[], now: number): TableMetadata {
  const m: TableMetadata = structuredClone(base);
  const r = new JsonReader(`${table}: updates`);
  const bad = (i: number, message: string) => new TidemarkError('InvalidInput', `${table}: updates[${i}] (${updates[i]!.action}): ${message}`, { table, update: i });
  let lastSchema: number | null = null;
  let lastSpec: number | null = null;
  let lastOrder: number | null = null;
  const added = new Set<bigint>();
  updates.forEach((u, i) => {
    switch (u.action) {
      case 'assign-uuid':
        if (base.tableUuid && base.schemas.length > 0 && u.uuid.toLowerCase() !== base.tableUuid.toLowerCase()) throw bad(i, `cannot change the table uuid ${base.tableUuid}`);
        m.tableUuid = u.uuid;
        break;
      case 'upgrade-format-version':
        if (u['format-version'] < m.formatVersion) throw bad(i, `cannot downgrade format-version ${m.formatVersion} to ${u['format-version']}`);
        // writeTableMetadata writes v2 only (a v3 table keeps row lineage this writer does not maintain).
        if (u['format-version'] > 2) throw new TidemarkError('Unsupported', `${table}: upgrade-format-version to ${u['format-version']}: this catalog writes format-version 2 only`, { table, feature: 'format-version 3 write' });
        m.formatVersion = u['format-version'] as 1 | 2;
        break;
      case 'add-schema': {
        const parsed = parseSchema(r, u.schema, `[${i}].schema`);
        const ids = [...indexFields(parsed).keys()];
        if (new Set(ids).size !== ids.length) throw bad(i, 'field ids are not unique');
        for (const id of parsed.identifierFieldIds) if (!parsed.fields.some((f) => f.id === id)) throw bad(i, `identifier field id ${id} is not a top-level field`);
        const same = m.schemas.find((s) => sameJson(s.fields, parsed.fields) && sameJson(s.identifierFieldIds, parsed.identifierFieldIds));
        const schemaId = same ? same.schemaId : Math.max(-1, ...m.schemas.map((s) => s.schemaId)) + 1;
        if (!same) m.schemas.push({ ...parsed, schemaId } satisfies Schema);
        m.lastColumnId = Math.max(m.lastColumnId, u['last-column-id'] ?? 0, ...ids);
        lastSchema = schemaId;
        break;
      }
      case 'set-current-schema': {
        const id = u['schema-id'] === -1 ? lastSchema : u['schema-id'];
        if (id === null) throw bad(i, 'schema-id -1 names the schema added by this commit, and it added none');
        if (!m.schemas.some((s) => s.schemaId === id)) throw bad(i, `no schema with id ${id}`);
        m.currentSchemaId = id;
        break;
      }
      case 'add-spec': {
        const next = { value: m.lastPartitionId + 1 };
        const parsed = parsePartitionSpec(r, u.spec, `[${i}].spec`, next);
        const known = new Set(m.schemas.flatMap((s) => [...indexFields(s).keys()]));
        for (const f of parsed.fields) if (!known.has(f.sourceId)) throw bad(i, `partition field ${f.name} has source id ${f.sourceId}, which no schema has`);
        const same = m.partitionSpecs.find((s) => sameJson(s.fields, parsed.fields));
        const specId = same ? same.specId : Math.max(-1, ...m.partitionSpecs.map((s) => s.specId)) + 1;
        if (!same) m.partitionSpecs.push({ ...parsed, specId } satisfies PartitionSpec);
        m.lastPartitionId = Math.max(m.lastPartitionId, ...parsed.fields.map((f) => f.fieldId));
        lastSpec = specId;
        break;
      }
      case 'set-default-spec': {
        const id = u['spec-id'] === -1 ? lastSpec : u['spec-id'];
        if (id === null) throw bad(i, 'spec-id -1 names the spec added by this commit, and it added none');
        if (!m.partitionSpecs.some((s) => s.specId === id)) throw bad(i, `no partition spec with id ${id}`);
        m.defaultSpecId = id;
        break;
      }
      case 'add-sort-order': {
        const parsed = parseSortOrder(r, u['sort-order'], `[${i}].sort-order`);
        const same = m.sortOrders.find((s) => sameJson(s.fields, parsed.fields));
        // Spec: order id 0 is reserved for the unsorted order.
        const orderId = same ? same.orderId : parsed.fields.length === 0 ? 0 : Math.max(0, ...m.sortOrders.map((s) => s.orderId)) + 1;
        if (!same) m.sortOrders.push({ ...parsed, orderId } satisfies SortOrder);
        lastOrder = orderId;
        break;
      }
      case 'set-default-sort-order': {
        const id = u['sort-order-id'] === -1 ? lastOrder : u['sort-order-id'];
        if (id === null) throw bad(i, 'sort-order-id -1 names the sort order added by this commit, and it added none');
        if (!m.sortOrders.some((s) => s.orderId === id)) throw bad(i, `no sort order with id ${id}`);
        m.defaultSortOrderId = id;
        break;
      }
      case 'add-snapshot': {
        const s = parseSnapshot(r, u.snapshot);
        if (m.snapshots.some((x) => x.snapshotId === s.snapshotId)) throw bad(i, `snapshot ${s.snapshotId} already exists`);
        if (m.formatVersion >= 2 && s.sequenceNumber <= m.lastSequenceNumber && s.parentSnapshotId !== null) {
          throw bad(i, `sequence number ${s.sequenceNumber} is not above the table's last sequence number ${m.lastSequenceNumber}`);
        }
        if (s.schemaId !== null && !m.schemas.some((x) => x.schemaId === s.schemaId)) throw bad(i, `schema-id ${s.schemaId} is not a schema of the table`);
        m.snapshots.push(s);
        if (s.sequenceNumber > m.lastSequenceNumber) m.lastSequenceNumber = s.sequenceNumber;
        added.add(s.snapshotId);
        break;
      }
      case 'set-snapshot-ref': {
        const id = u['snapshot-id'];
        const snap = m.snapshots.find((s) => s.snapshotId === id);
        if (!snap) throw bad(i, `snapshot ${id} does not exist`);
        const name = u['ref-name'];
        if (name === 'main' && u.type !== 'branch') throw bad(i, 'main must be a branch');
        const ref = { snapshotId: id, type: u.type } as TableMetadata['refs'][string];
        if (u['min-snapshots-to-keep'] !== undefined) ref.minSnapshotsToKeep = u['min-snapshots-to-keep'];
        if (u['max-snapshot-age-ms'] !== undefined) ref.maxSnapshotAgeMs = u['max-snapshot-age-ms'];
        if (u['max-ref-age-ms'] !== undefined) ref.maxRefAgeMs = u['max-ref-age-ms'];
        if (sameJson(m.refs[name], ref)) break;
        m.refs[name] = ref;
        if (name === 'main') {
          m.currentSnapshotId = id;
          // Reference implementation: a snapshot added in this commit logs its own time, an older one the commit time.
          m.snapshotLog.push({ snapshotId: id, timestampMs: added.has(id) ? snap.timestampMs : now });
        }
        break;
      }
      case 'remove-snapshot-ref':
        delete m.refs[u['ref-name']];
        if (u['ref-name'] === 'main') m.currentSnapshotId = null;
        break;
      case 'remove-snapshots': {
        const gone = new Set(u['snapshot-ids']);
        m.snapshots = m.snapshots.filter((s) => !gone.has(s.snapshotId));
        for (const [name, ref] of Object.entries(m.refs)) {
          if (!gone.has(ref.snapshotId)) continue;
          delete m.refs[name];
          if (name === 'main') m.currentSnapshotId = null;
        }
        m.snapshotLog = m.snapshotLog.filter((e) => !gone.has(e.snapshotId));
        break;
      }
      case 'set-location':
        if (u.location.trim() === '') throw bad(i, 'location is empty');
        m.location = u.location.replace(/\/+$/, '');
        break;
      case 'set-properties':
        Object.assign(m.properties, u.updates);
        break;
      case 'remove-properties':
        for (const k of u.removals) delete m.properties[k];
        break;
    }
  });
  if (m.schemas.length === 0) throw new TidemarkError('InvalidInput', `${table}: the commit leaves the table without a schema: expected an add-schema update`, { table });
  if (!m.schemas.some((s) => s.schemaId === m.currentSchemaId)) throw new TidemarkError('InvalidInput', `${table}: current schema id ${m.currentSchemaId} names no schema: expected set-current-schema`, { table });
  if (m.partitionSpecs.length === 0) m.partitionSpecs.push({ specId: 0, fields: [] });
  if (!m.partitionSpecs.some((s) => s.specId === m.defaultSpecId)) m.defaultSpecId = m.partitionSpecs[0]!.specId;
  if (m.sortOrders.length === 0) m.sortOrders.push({ orderId: 0, fields: [] });
  if (!m.sortOrders.some((s) => s.orderId === m.defaultSortOrderId)) m.defaultSortOrderId = m.sortOrders[0]!.orderId;
  m.lastUpdatedMs = now;
  return m;
}
