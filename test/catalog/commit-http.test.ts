import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { loadTable, parseJsonBigint, scanRows, stringifyJsonBigint } from '../../core/lake';
import { appendRows } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';
import { copyWarehouse, makeDemoSource, stageAppend } from './helpers';

/** Raw HTTP commits (spec CommitTableRequest) against the server over a copy of the demo lake. */
const storage = createLocalStorage();
let source: Awaited<ReturnType<typeof makeDemoSource>>;
let lake: ReturnType<typeof copyWarehouse>;
let server: RestCatalogServer;
let table: string;

beforeAll(async () => {
  source = await makeDemoSource();
});
afterAll(() => source.dispose());
beforeEach(async () => {
  lake = copyWarehouse(source.dir);
  table = join(lake.warehouse, 'demo', 'customers');
  server = await startRestCatalogServer({ warehouse: lake.warehouse, token: 't0ken' });
});
afterEach(async () => {
  await server.close();
  lake.dispose();
});

async function commit(body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.uri}v1/lake/namespaces/demo/tables/customers`, {
    method: 'POST',
    headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' },
    body: stringifyJsonBigint(body, 0),
  });
  return { status: res.status, body: parseJsonBigint(await res.text()) as Record<string, unknown> };
}

const metadataFiles = () => readdirSync(join(table, 'metadata')).filter((f) => f.endsWith('.metadata.json')).sort();
const row = (id: number) => ({ customer_id: BigInt(id), name: `New ${id}`, city: 'Lima', signup_date: '2025-01-02' });
const ids = async () => (await scanRows(storage, await loadTable(storage, table))).rows.map((r) => Number(r.customer_id)).sort((a, b) => a - b);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('REST commit: add-snapshot + set-snapshot-ref', () => {
  it("commits a data file written by Tidemark's writer; Tidemark's reader sees the rows", async () => {
    const before = await loadTable(storage, table);
    const snapshotId = 2n ** 62n + 12345n; // above 2^53: must survive the wire as an exact integer
    const { snapshot, parent } = await stageAppend(table, [row(21), row(22)], snapshotId, 1);
    const r = await commit({
      identifier: { namespace: ['demo'], name: 'customers' },
      requirements: [
        { type: 'assert-table-uuid', uuid: before.metadata.tableUuid },
        { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent },
      ],
      updates: [
        { action: 'add-snapshot', snapshot },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': snapshotId },
      ],
    });
    expect(r.status).toBe(200);
    const after = await loadTable(storage, table);
    expect(r.body['metadata-location']).toBe(after.metadataFile);
    expect((r.body.metadata as Record<string, unknown>)['current-snapshot-id']).toBe(snapshotId);
    expect(after.metadata.currentSnapshotId).toBe(snapshotId);
    expect(after.metadata.refs.main).toEqual({ snapshotId, type: 'branch' });
    expect(after.metadata.lastSequenceNumber).toBe(before.metadata.lastSequenceNumber + 1n);
    expect(after.metadata.snapshotLog.at(-1)).toEqual({ snapshotId, timestampMs: Date.UTC(2025, 0, 1) + 1 });
    expect(after.metadata.metadataLog.at(-1)?.metadataFile).toBe(before.metadataFile);
    expect(await ids()).toEqual(range(1, 22));
    const added = (await scanRows(storage, after)).rows.find((x) => x.customer_id === 22n);
    expect(added).toEqual({ customer_id: 22n, name: 'New 22', city: 'Lima', signup_date: '2025-01-02' });
  });

  it('a stale assert-ref-snapshot-id is 409 CommitFailedException and changes nothing', async () => {
    const before = await loadTable(storage, table);
    const files = metadataFiles();
    const { snapshot } = await stageAppend(table, [row(30)], 77n, 2);
    const r = await commit({
      requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': 123n }],
      updates: [
        { action: 'add-snapshot', snapshot },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 77n },
      ],
    });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({
      error: { code: 409, type: 'CommitFailedException', message: `demo.customers: requirement failed: ref main points at snapshot ${before.metadata.currentSnapshotId}, expected 123` },
    });
    expect(metadataFiles()).toEqual(files);
    expect((await loadTable(storage, table)).metadata).toEqual(before.metadata);
    expect(await ids()).toEqual(range(1, 20));
  });

  it('every requirement kind is checked', async () => {
    const m = (await loadTable(storage, table)).metadata;
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'assert-create' }, 'table already exists (assert-create)'],
      [{ type: 'assert-table-uuid', uuid: '00000000-0000-4000-8000-000000000000' }, `table uuid is ${m.tableUuid}, expected 00000000-0000-4000-8000-000000000000`],
      [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null }, `ref main was created concurrently (it points at ${m.currentSnapshotId})`],
      [{ type: 'assert-ref-snapshot-id', ref: 'audit', 'snapshot-id': 5 }, 'ref audit no longer exists, expected it at 5'],
      [{ type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 9 }, 'last assigned field id is 4, expected 9'],
      [{ type: 'assert-current-schema-id', 'current-schema-id': 3 }, 'current schema id is 0, expected 3'],
      [{ type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 1000 }, 'last assigned partition id is 999, expected 1000'],
      [{ type: 'assert-default-spec-id', 'default-spec-id': 1 }, 'default spec id is 0, expected 1'],
      [{ type: 'assert-default-sort-order-id', 'default-sort-order-id': 1 }, 'default sort order id is 0, expected 1'],
    ];
    for (const [requirement, message] of cases) {
      const r = await commit({ requirements: [requirement], updates: [{ action: 'set-properties', updates: { k: 'v' } }] });
      expect([r.status, r.body]).toEqual([409, { error: { code: 409, type: 'CommitFailedException', message: `demo.customers: requirement failed: ${message}` } }]);
    }
    // The same requirements with the right values pass.
    const ok = await commit({
      requirements: [
        { type: 'assert-table-uuid', uuid: m.tableUuid.toUpperCase() },
        { type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': m.currentSnapshotId },
        { type: 'assert-ref-snapshot-id', ref: 'audit', 'snapshot-id': null },
        { type: 'assert-last-assigned-field-id', 'last-assigned-field-id': 4 },
        { type: 'assert-current-schema-id', 'current-schema-id': 0 },
        { type: 'assert-last-assigned-partition-id', 'last-assigned-partition-id': 999 },
        { type: 'assert-default-spec-id', 'default-spec-id': 0 },
        { type: 'assert-default-sort-order-id', 'default-sort-order-id': 0 },
      ],
      updates: [{ action: 'set-properties', updates: { k: 'v' } }],
    });
    expect(ok.status).toBe(200);
    expect((await loadTable(storage, table)).metadata.properties.k).toBe('v');
  });

  it('two concurrent commits on the same parent: exactly one wins', async () => {
    const { snapshot: a, parent } = await stageAppend(table, [row(41)], 41n, 3);
    const { snapshot: b } = await stageAppend(table, [row(42)], 42n, 4);
    const body = (snapshot: Record<string, unknown>, id: bigint) => ({
      requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent }],
      updates: [
        { action: 'add-snapshot', snapshot },
        { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id },
      ],
    });
    const files = metadataFiles().length;
    const [ra, rb] = await Promise.all([commit(body(a, 41n)), commit(body(b, 42n))]);
    expect([ra.status, rb.status].sort()).toEqual([200, 409]);
    const winner = ra.status === 200 ? 41 : 42;
    expect(metadataFiles().length).toBe(files + 1);
    expect((await loadTable(storage, table)).metadata.currentSnapshotId).toBe(BigInt(winner));
    expect(await ids()).toEqual([...range(1, 20), winner]);
  });

  it('a REST commit racing a Tidemark append never loses either commit', async () => {
    const { snapshot, parent } = await stageAppend(table, [row(51)], 51n, 5);
    const [rest] = await Promise.all([
      commit({
        requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent }],
        updates: [
          { action: 'add-snapshot', snapshot },
          { action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': 51n },
        ],
      }),
      appendRows(table, [row(52)]),
    ]);
    // Either the REST commit won (and the append retried on top of it) or it lost with a 409.
    expect([200, 409]).toContain(rest.status);
    expect(await ids()).toEqual(rest.status === 200 ? [...range(1, 20), 51, 52] : [...range(1, 20), 52]);
    const m = (await loadTable(storage, table)).metadata;
    expect(m.snapshots.length).toBe(rest.status === 200 ? 3 : 2);
  });

  it('applies schema, spec, sort order, ref and property updates', async () => {
    const m0 = (await loadTable(storage, table)).metadata;
    const main = m0.currentSnapshotId!;
    const r = await commit({
      requirements: [{ type: 'assert-current-schema-id', 'current-schema-id': 0 }],
      updates: [
        { action: 'upgrade-format-version', 'format-version': 2 },
        {
          action: 'add-schema',
          schema: {
            type: 'struct',
            'schema-id': 7,
            'identifier-field-ids': [1],
            fields: [
              { id: 1, name: 'customer_id', required: true, type: 'long' },
              { id: 2, name: 'name', required: false, type: 'string' },
              { id: 3, name: 'city', required: false, type: 'string' },
              { id: 4, name: 'signup_date', required: false, type: 'date' },
              { id: 5, name: 'tier', required: false, type: 'int' },
            ],
          },
        },
        { action: 'set-current-schema', 'schema-id': -1 },
        { action: 'add-spec', spec: { fields: [{ 'source-id': 3, name: 'city', transform: 'identity' }] } },
        { action: 'set-default-spec', 'spec-id': -1 },
        { action: 'add-sort-order', 'sort-order': { 'order-id': 5, fields: [{ 'source-id': 1, transform: 'identity', direction: 'desc', 'null-order': 'nulls-last' }] } },
        { action: 'set-default-sort-order', 'sort-order-id': -1 },
        { action: 'set-snapshot-ref', 'ref-name': 'audit', type: 'tag', 'snapshot-id': main, 'max-ref-age-ms': 86400000 },
        { action: 'set-properties', updates: { owner: 'ops', 'write.parquet.compression-codec': 'snappy' } },
        { action: 'remove-properties', removals: ['owner'] },
      ],
    });
    expect(r.status).toBe(200);
    const m = (await loadTable(storage, table)).metadata;
    expect(m.currentSchemaId).toBe(1);
    expect(m.lastColumnId).toBe(5);
    expect(m.schemas[1]!.fields.at(-1)).toEqual({ id: 5, name: 'tier', required: false, type: 'int' });
    expect(m.defaultSpecId).toBe(1);
    expect(m.partitionSpecs[1]).toEqual({ specId: 1, fields: [{ sourceId: 3, fieldId: 1000, name: 'city', transform: 'identity' }] });
    expect(m.lastPartitionId).toBe(1000);
    expect(m.defaultSortOrderId).toBe(1);
    expect(m.sortOrders[1]).toEqual({ orderId: 1, fields: [{ sourceId: 1, transform: 'identity', direction: 'desc', nullOrder: 'nulls-last' }] });
    expect(m.refs.audit).toEqual({ snapshotId: main, type: 'tag', maxRefAgeMs: 86400000 });
    expect(m.properties.owner).toBeUndefined();
    expect(m.properties['write.parquet.compression-codec']).toBe('snappy');
    // The table stays readable by Tidemark with the new schema (the old rows have no tier).
    const rows = (await scanRows(storage, await loadTable(storage, table))).rows;
    expect(rows.length).toBe(20);
    expect(rows.every((x) => x.tier === null)).toBe(true);

    // Then: remove the tag, remove-snapshot-ref of main, remove-snapshots of everything.
    const r2 = await commit({
      requirements: [],
      updates: [
        { action: 'remove-snapshot-ref', 'ref-name': 'audit' },
        { action: 'remove-snapshots', 'snapshot-ids': m.snapshots.map((s) => s.snapshotId) },
        { action: 'set-location', location: table },
      ],
    });
    expect(r2.status).toBe(200);
    const m2 = (await loadTable(storage, table)).metadata;
    expect([m2.snapshots, m2.refs, m2.currentSnapshotId, m2.snapshotLog]).toEqual([[], {}, null, []]);
  });

  it('commits a transaction of one table (POST /v1/{prefix}/transactions/commit)', async () => {
    const m = (await loadTable(storage, table)).metadata;
    const res = await fetch(`${server.uri}v1/lake/transactions/commit`, {
      method: 'POST',
      headers: { authorization: 'Bearer t0ken' },
      body: stringifyJsonBigint({
        'table-changes': [
          {
            identifier: { namespace: ['demo'], name: 'customers' },
            requirements: [{ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': m.currentSnapshotId }],
            updates: [{ action: 'set-properties', updates: { via: 'transaction' } }],
          },
        ],
      }),
    });
    expect(res.status).toBe(204);
    expect((await loadTable(storage, table)).metadata.properties.via).toBe('transaction');
  });

  it('refuses a bad update with 400 naming it, and unknown actions', async () => {
    const bad = await commit({ requirements: [], updates: [{ action: 'set-current-schema', 'schema-id': 9 }] });
    expect([bad.status, bad.body]).toEqual([400, { error: { code: 400, type: 'BadRequestException', message: 'demo.customers: updates[0] (set-current-schema): no schema with id 9' } }]);
    const stats = await commit({ requirements: [], updates: [{ action: 'set-statistics', statistics: {} }] });
    expect([stats.status, stats.body]).toEqual([
      406,
      { error: { code: 406, type: 'UnsupportedOperationException', message: 'updates[0]: update set-statistics is not supported: table statistics files are not kept in the metadata this catalog writes' } },
    ]);
    const unknown = await commit({ requirements: [], updates: [{ action: 'make-it-fast' }] });
    expect(unknown.status).toBe(400);
    expect((unknown.body.error as { message: string }).message).toMatch(/^updates\[0\]\.action: /);
    const v3 = await commit({ requirements: [], updates: [{ action: 'upgrade-format-version', 'format-version': 3 }] });
    expect([v3.status, (v3.body.error as { type: string }).type]).toEqual([406, 'UnsupportedOperationException']);
    const oldSeq = await commit({
      requirements: [],
      updates: [{ action: 'add-snapshot', snapshot: { 'snapshot-id': 9, 'parent-snapshot-id': 1, 'sequence-number': 1, 'timestamp-ms': 1, 'manifest-list': '/x.avro', summary: { operation: 'append' } } }],
    });
    expect((oldSeq.body.error as { message: string }).message).toBe("demo.customers: updates[0] (add-snapshot): sequence number 1 is not above the table's last sequence number 1");
    expect(metadataFiles().length).toBe(2);
  });
});

describe('REST catalog: bad input', () => {
  const call = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${server.uri}${path}`, { method, headers: { authorization: 'Bearer t0ken', 'content-type': 'application/json' }, body });
    return [res.status, (await res.json()) as unknown];
  };

  it('refuses names that would leave the warehouse folder; takes null optional fields', async () => {
    expect(await call('GET', 'v1/namespaces/..%2F..%2Fetc/tables')).toEqual([
      400,
      { error: { code: 400, type: 'BadRequestException', message: 'namespace level "../../etc" is not a valid name: expected a folder name without "/", "\\", control characters or a leading "."' } },
    ]);
    // (fetch resolves a literal ".." segment itself; the server refuses a leading dot and backslashes.)
    expect(await call('GET', 'v1/namespaces/demo/tables/..%5Cx')).toEqual([
      400,
      { error: { code: 400, type: 'BadRequestException', message: 'table name "..\\\\x" is not a valid name: expected a folder name without "/", "\\", control characters or a leading "."' } },
    ]);
    expect((await call('POST', 'v1/namespaces', '{"namespace":[".hidden"]}'))[0]).toBe(400);
    // Optional fields may come as null (clients that serialize unset fields).
    expect(await call('POST', 'v1/namespaces', '{"namespace":["n"],"properties":null}')).toEqual([200, { namespace: ['n'], properties: {} }]);
    const created = await call('POST', 'v1/namespaces/n/tables', '{"name":"t","location":null,"schema":{"type":"struct","fields":[]},"partition-spec":null,"write-order":null,"stage-create":null,"properties":null}');
    expect(created[0]).toBe(200);
  });

  it('names the malformed field of a request body', async () => {
    expect(await call('POST', 'v1/namespaces', '{"namespace":')).toEqual([400, { error: { code: 400, type: 'BadRequestException', message: expect.stringMatching(/^request body is not JSON: /) as unknown } }]);
    expect(await call('POST', 'v1/namespaces/demo/tables/customers', '{"requirements":[{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":"x"}],"updates":[]}')).toEqual([
      400,
      { error: { code: 400, type: 'BadRequestException', message: expect.stringMatching(/^requirements\[0\]\.snapshot-id: /) as unknown } },
    ]);
    expect(await call('GET', 'v1/other/namespaces')).toEqual([404, { error: { code: 404, type: 'NoSuchEndpointException', message: 'no such endpoint: GET /v1/other/namespaces' } }]);
    const change = (name: string) => ({ identifier: { namespace: ['demo'], name }, requirements: [], updates: [{ action: 'set-properties', updates: { via: 'transaction' } }] });
    expect(await call('POST', 'v1/transactions/commit', JSON.stringify({ 'table-changes': [change('customers'), change('orders')] }))).toEqual([
      406,
      {
        error: {
          code: 406,
          type: 'UnsupportedOperationException',
          message: 'a transaction over 2 tables is not supported by this catalog (a folder warehouse commits one table at a time): commit each table on its own',
        },
      },
    ]);
    expect((await call('POST', 'v1/lake/tables/rename', JSON.stringify({ source: { namespace: ['demo'], name: 'customers' }, destination: { namespace: ['demo'], name: 'c2' } })))[0]).toBe(406);
    expect(metadataFiles().length).toBe(2);
  });
});
