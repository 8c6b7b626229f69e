import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { IcebergError, IcebergRestCatalog } from 'iceberg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { loadTable, scanRows } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node';
import { copyWarehouse, makeDemoSource, stageAppend } from './helpers';

/**
 * The third-party client iceberg-js (npm) against Tidemark's server over a copy of a demo lake
 * written by Tidemark's own writer. iceberg-js parses responses with JSON.parse, so 63-bit snapshot
 * ids arrive rounded to the nearest double: they are compared as such (Number(id)).
 */
const storage = createLocalStorage();
let source: Awaited<ReturnType<typeof makeDemoSource>>;
let lake: ReturnType<typeof copyWarehouse>;
let server: RestCatalogServer;
let catalog: IcebergRestCatalog;

beforeAll(async () => {
  source = await makeDemoSource();
  lake = copyWarehouse(source.dir, 'lake');
  server = await startRestCatalogServer({ warehouse: lake.warehouse, token: 'secret-token', tableConfig: { 'io-impl': 'local' } });
  catalog = new IcebergRestCatalog({ baseUrl: server.uri, warehouse: 'lake', auth: { type: 'bearer', token: 'secret-token' } });
});
afterAll(async () => {
  await server.close();
  lake.dispose();
  source.dispose();
});

async function icebergError(p: Promise<unknown>): Promise<IcebergError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof IcebergError) return e;
    throw e;
  }
  throw new Error('expected an IcebergError');
}

describe('iceberg-js against the Tidemark REST catalog', () => {
  it('reads the config with the prefix', async () => {
    const config = await catalog.loadConfig();
    expect(config.overrides).toEqual({ prefix: 'lake', warehouse: 'lake' });
    expect(config.endpoints).toContain('POST /v1/{prefix}/namespaces/{namespace}/tables/{table}');
  });

  it('lists namespaces and tables', async () => {
    expect((await catalog.listNamespaces()).namespaces).toEqual([{ namespace: ['demo'] }]);
    expect((await catalog.listTables({ namespace: ['demo'] })).identifiers).toEqual([
      { namespace: ['demo'], name: 'customers' },
      { namespace: ['demo'], name: 'orders' },
    ]);
    expect(await catalog.tableExists({ namespace: ['demo'], name: 'orders' })).toBe(true);
    expect(await catalog.tableExists({ namespace: ['demo'], name: 'nope' })).toBe(false);
  });

  it("loads a table whose snapshots match Tidemark's reader", async () => {
    const result = await catalog.loadTableResult({ namespace: ['demo'], name: 'orders' });
    const ours = await loadTable(storage, join(lake.warehouse, 'demo', 'orders'));
    expect(result!['metadata-location']).toBe(ours.metadataFile);
    expect(result!.config).toEqual({ 'io-impl': 'local' });
    const m = result!.metadata;
    expect(m['table-uuid']).toBe(ours.metadata.tableUuid);
    expect(m['current-schema-id']).toBe(ours.metadata.currentSchemaId);
    expect(m['current-snapshot-id']).toBe(Number(ours.metadata.currentSnapshotId));
    expect(m.snapshots!.length).toBe(6);
    expect(
      m.snapshots!.map((s) => [s['snapshot-id'], s['parent-snapshot-id'] ?? null, s['sequence-number'], s['timestamp-ms'], s['manifest-list'], s.summary.operation]),
    ).toEqual(
      ours.metadata.snapshots.map((s) => [Number(s.snapshotId), s.parentSnapshotId === null ? null : Number(s.parentSnapshotId), Number(s.sequenceNumber), s.timestampMs, s.manifestList, s.summary.operation]),
    );
    expect(m.schemas.find((s) => s['schema-id'] === m['current-schema-id'])!.fields.map((f) => f.name)).toEqual([
      'order_id',
      'customer_id',
      'amount',
      'order_status',
      'ordered_at',
      'discount',
    ]);
  });

  it('creates, loads, updates and drops a namespace', async () => {
    await catalog.createNamespace({ namespace: ['sales'] }, { properties: { owner: 'ana' } });
    expect(existsSync(join(lake.warehouse, 'sales'))).toBe(true);
    expect(await catalog.loadNamespaceMetadata({ namespace: ['sales'] })).toEqual({ properties: { owner: 'ana' } });
    expect(await catalog.updateNamespaceProperties({ namespace: ['sales'] }, { updates: { team: 'ops' }, removals: ['owner', 'ghost'] })).toEqual({
      updated: ['team'],
      removed: ['owner'],
      missing: ['ghost'],
    });
    expect(await catalog.loadNamespaceMetadata({ namespace: ['sales'] })).toEqual({ properties: { team: 'ops' } });
    const again = await icebergError(catalog.createNamespace({ namespace: ['sales'] }));
    expect([again.status, again.icebergType]).toEqual([409, 'AlreadyExistsException']);
    await catalog.createNamespace({ namespace: ['sales', 'eu'] });
    expect((await catalog.listNamespaces({ parent: { namespace: ['sales'] } })).namespaces).toEqual([{ namespace: ['sales', 'eu'] }]);
    await catalog.dropNamespace({ namespace: ['sales', 'eu'] });
    expect(await catalog.namespaceExists({ namespace: ['sales', 'eu'] })).toBe(false);
    const notEmpty = await icebergError(catalog.dropNamespace({ namespace: ['demo'] }));
    expect([notEmpty.status, notEmpty.icebergType, notEmpty.message]).toEqual([409, 'NamespaceNotEmptyException', 'namespace demo is not empty: it holds table customers, table orders']);
    const missing = await icebergError(catalog.loadNamespaceMetadata({ namespace: ['nowhere'] }));
    expect([missing.status, missing.icebergType]).toEqual([404, 'NoSuchNamespaceException']);
  });

  it('creates a table that Tidemark opens, commits to it, and drops it', async () => {
    await catalog.createNamespaceIfNotExists({ namespace: ['web'] });
    const created = await catalog.createTable(
      { namespace: ['web'] },
      {
        name: 'events',
        schema: {
          type: 'struct',
          fields: [
            { id: 1, name: 'id', type: 'long', required: true },
            { id: 2, name: 'kind', type: 'string', required: false },
            { id: 3, name: 'at', type: 'timestamptz', required: false },
          ],
          'schema-id': 0,
          'identifier-field-ids': [1],
        },
        'partition-spec': { 'spec-id': 0, fields: [{ 'source-id': 3, 'field-id': 1000, name: 'at_day', transform: 'day' }] },
        properties: { 'write.parquet.compression-codec': 'zstd' },
      },
    );
    const root = join(lake.warehouse, 'web', 'events');
    const ours = await loadTable(storage, root);
    expect(created['table-uuid']).toBe(ours.metadata.tableUuid);
    expect(ours.metadata.location).toBe(root);
    expect(ours.metadata.schemas[0]!.fields.map((f) => [f.id, f.name, f.type, f.required])).toEqual([
      [1, 'id', 'long', true],
      [2, 'kind', 'string', false],
      [3, 'at', 'timestamptz', false],
    ]);
    expect(ours.metadata.partitionSpecs).toEqual([{ specId: 0, fields: [{ sourceId: 3, fieldId: 1000, name: 'at_day', transform: 'day' }] }]);
    expect(ours.metadata.lastColumnId).toBe(3);
    expect((await scanRows(storage, ours)).rows).toEqual([]);

    const dup = await icebergError(catalog.createTable({ namespace: ['web'] }, { name: 'events', schema: { type: 'struct', fields: [] } }));
    expect([dup.status, dup.icebergType]).toEqual([409, 'AlreadyExistsException']);

    const committed = await catalog.commitTable(
      { namespace: ['web'], name: 'events' },
      {
        requirements: [{ type: 'assert-table-uuid', uuid: created['table-uuid'] }],
        updates: [{ action: 'set-properties', updates: { 'comment': 'clicks' } }],
      },
    );
    const after = await loadTable(storage, root);
    expect(committed['metadata-location']).toBe(after.metadataFile);
    expect(after.metadataFile.endsWith('/v2.metadata.json')).toBe(true);
    expect(after.metadata.properties).toEqual({ 'write.format.default': 'parquet', 'write.parquet.compression-codec': 'zstd', comment: 'clicks' });

    const stale = await icebergError(
      catalog.commitTable({ namespace: ['web'], name: 'events' }, { requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 4 }], updates: [{ action: 'remove-properties', removals: ['comment'] }] }),
    );
    expect([stale.status, stale.icebergType, stale.message]).toEqual([409, 'CommitFailedException', 'web.events: requirement failed: current schema id is 0, expected 4']);

    // An append committed through iceberg-js: first snapshot, staged with Tidemark's writers.
    const { snapshot } = await stageAppend(root, [{ id: 1n, kind: 'click', at: '2025-02-03T04:05:06.000000+00:00' }, { id: 2n, kind: 'view', at: null }], 1001n, 11);
    await catalog.commitTable(
      { namespace: ['web'], name: 'events' },
      {
        requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }],
        updates: [
          { action: 'add-snapshot', snapshot: JSON.parse(JSON.stringify(snapshot, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as never },
          { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 1001 },
        ],
      },
    );
    const appended = await loadTable(storage, root);
    expect(appended.metadata.currentSnapshotId).toBe(1001n);
    expect((await scanRows(storage, appended)).rows).toEqual([
      { id: 1n, kind: 'click', at: '2025-02-03T04:05:06.000000+00:00' },
      { id: 2n, kind: 'view', at: null },
    ]);

    await catalog.dropTable({ namespace: ['web'], name: 'events' });
    expect(existsSync(root)).toBe(false);
    const gone = await icebergError(catalog.loadTable({ namespace: ['web'], name: 'events' }));
    expect([gone.status, gone.icebergType]).toEqual([404, 'NoSuchTableException']);
    await catalog.dropNamespace({ namespace: ['web'] });
  });

  it('iceberg-js rounds 63-bit snapshot ids (JSON.parse), so its ref assertions fail on such tables', async () => {
    const exact = (await loadTable(storage, join(lake.warehouse, 'demo', 'orders'))).metadata.currentSnapshotId!;
    const seen = (await catalog.loadTable({ namespace: ['demo'], name: 'orders' }))['current-snapshot-id']!;
    expect(BigInt(seen)).not.toBe(exact);
    const e = await icebergError(
      catalog.commitTable({ namespace: ['demo'], name: 'orders' }, { requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': seen }], updates: [] }),
    );
    expect([e.status, e.message]).toEqual([409, `demo.orders: requirement failed: ref main points at snapshot ${exact}, expected ${seen}`]);
  });

  it('answers 401 NotAuthorizedException without the token', async () => {
    const anonymous = new IcebergRestCatalog({ baseUrl: server.uri, warehouse: 'lake' });
    const e = await icebergError(anonymous.listNamespaces());
    expect([e.status, e.icebergType]).toEqual([401, 'NotAuthorizedException']);
    const wrong = new IcebergRestCatalog({ baseUrl: server.uri, auth: { type: 'bearer', token: 'nope' } });
    expect((await icebergError(wrong.listNamespaces())).status).toBe(401);
  });
});
