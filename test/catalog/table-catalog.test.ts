import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRestTableCatalog, metadataChanges, RestCatalogClient, startRestCatalogServer, type RestCatalogServer } from '../../core/catalog';
import { scanRows } from '../../core/lake';
import { appendRows, evolveSchema, loadWritableTable, newTableMetadata, seededWriteEnv, type WriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';

// core/lake/write committing through a REST catalog (WriteEnv.catalog): the commit is the
// requirements and updates between two versions; a writer that loses a race gets a 409 and
// commits again on top of the winner, as a lost local publish does.
let server: RestCatalogServer;
const work = mkdtempSync(join(tmpdir(), 'tidemark-table-catalog-'));
const requests: { method: string; url: string }[] = [];

beforeAll(async () => {
  mkdirSync(join(work, 'wh'));
  server = await startRestCatalogServer({ warehouse: join(work, 'wh'), token: 'table-catalog-token' });
});
afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

function envFor(seed: number): WriteEnv {
  const client = new RestCatalogClient({
    uri: server.uri,
    token: 'table-catalog-token',
    fetch: (input, init) => {
      requests.push({ method: init?.method ?? 'GET', url: String(input) });
      return fetch(input, init);
    },
  });
  return { ...seededWriteEnv(seed), catalog: createRestTableCatalog(client, server.uri) };
}

const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
];

describe('commits through a REST catalog', () => {
  it('creates a table, commits appends and a schema change as REST updates, and retries a lost race', async () => {
    const env = envFor(1);
    const { root, created } = await env.catalog!.openTable('db', 't', () => newTableMetadata('', { columns: COLUMNS, identifierColumns: ['id'], env }));
    expect(created).toBe(true);
    expect(root).toBe(join(work, 'wh', 'db', 't'));
    expect((await env.catalog!.openTable('db', 't', () => { throw new Error('not created twice'); })).created).toBe(false);

    requests.length = 0;
    await appendRows(root, [{ id: 1n, name: 'a' }], { env });
    // One load and one commit (POST …/tables/t): no metadata file published by the writer itself.
    expect(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`).filter((r) => !r.endsWith('/v1/config'))).toEqual(['GET /v1/wh/namespaces/db/tables/t', 'POST /v1/wh/namespaces/db/tables/t']);
    await evolveSchema(root, [{ op: 'add', name: 'note', type: 'string' }], env);

    // Writer b loses a race: writer a commits between b's load and b's commit. b's requirements
    // (main at the snapshot it loaded) fail with 409; b loads again and commits on top.
    const a = envFor(2);
    const plain = envFor(3);
    let raced = false;
    const b: WriteEnv = {
      ...plain,
      catalog: {
        ...plain.catalog!,
        async commitTable(r, base, next) {
          if (!raced) {
            raced = true;
            await appendRows(root, [{ id: 2n, name: 'b', note: 'x' }], { env: a });
          }
          return plain.catalog!.commitTable(r, base, next);
        },
      },
    };
    requests.length = 0;
    await appendRows(root, [{ id: 3n, name: 'c' }], { env: b });
    // b's first POST (409), a's POST, b's second POST.
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(3);

    const table = await loadWritableTable(root, env);
    expect(table.metadata.snapshots).toHaveLength(3);
    expect(table.metadata.schemas).toHaveLength(2);
    const rows = (await scanRows(createLocalStorage(), table)).rows.map((r) => [Number(r.id), r.name, r.note]).sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(rows).toEqual([[1, 'a', null], [2, 'b', 'x'], [3, 'c', null]]);
  });

  it('refuses a root that is not where the catalog keeps the table, naming both', async () => {
    const env = envFor(4);
    const { root } = await env.catalog!.openTable('db', 'u', () => newTableMetadata('', { columns: COLUMNS, env }));
    const elsewhere = join(work, 'other', 'db', 'u');
    await expect(env.catalog!.loadTable(elsewhere)).rejects.toMatchObject({
      code: 'Unsupported',
      message: `catalog ${server.uri}: table db.u lives at ${root}, not at ${elsewhere}: Tidemark writes catalog tables at <location>/<namespace>/<name> only`,
    });
    await expect(appendRows(elsewhere, [{ id: 1n, name: 'x' }], { env })).rejects.toMatchObject({ code: 'Unsupported' });
    expect((await loadWritableTable(root, env)).metadata.snapshots).toHaveLength(0);
  });

  it('states each change between two versions as the spec names it', async () => {
    const env = seededWriteEnv(9);
    const base = newTableMetadata('/t', { columns: COLUMNS, env });
    const next = { ...base, properties: { ...base.properties, k: 'v' }, currentSchemaId: 1, lastColumnId: 3, schemas: [...base.schemas, { ...base.schemas[0]!, schemaId: 1, fields: [...base.schemas[0]!.fields, { id: 3, name: 'n', type: 'int', required: false }] }] };
    const { requirements, updates } = metadataChanges(base, next);
    expect(requirements.map((r) => r.type)).toEqual(['assert-table-uuid', 'assert-ref-snapshot-id', 'assert-current-schema-id', 'assert-last-assigned-field-id', 'assert-default-spec-id', 'assert-last-assigned-partition-id']);
    expect(requirements[1]).toEqual({ type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': null });
    expect(updates).toEqual([
      { action: 'add-schema', schema: { type: 'struct', 'schema-id': 1, fields: [{ id: 1, name: 'id', required: true, type: 'long' }, { id: 2, name: 'name', required: false, type: 'string' }, { id: 3, name: 'n', required: false, type: 'int' }], 'identifier-field-ids': [] }, 'last-column-id': 3 },
      { action: 'set-current-schema', 'schema-id': 1 },
      { action: 'set-properties', updates: { k: 'v' } },
    ]);
  });
});
