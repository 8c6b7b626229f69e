import { describe, expect, it } from 'vitest';
import type { HandlerContext, HandlerTable } from '../../core/api';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { TidemarkError } from '../../core/errors';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const ctx: HandlerContext = { emit: () => undefined };
const roots: string[] = [];
const handlers = createHandlers({
  storage: createLocalStorage(),
  mode: 'browser',
  electronVersion: null,
  allowRoot: (p) => roots.push(p),
  initialWarehouse: null,
});

describe('dispatchCall', () => {
  it('answers app.version with plain data', async () => {
    const reply = await dispatchCall(handlers, 'app.version', {}, ctx);
    expect(reply).toEqual({ ok: true, value: { version: '0.1.0', node: process.versions.node, electron: null, mode: 'browser' } });
  });

  it('rejects an unknown call by name', async () => {
    const reply = await dispatchCall(handlers, 'lake.dropEverything', {}, ctx);
    expect(reply).toEqual({ ok: false, error: { code: 'InvalidInput', message: 'unknown call "lake.dropEverything"', context: { call: 'lake.dropEverything' } } });
  });

  it('validates input against the contract and names the field', async () => {
    const reply = await dispatchCall(handlers, 'lake.openWarehouse', { path: 42 }, ctx);
    expect(reply.ok).toBe(false);
    if (!reply.ok) {
      expect(reply.error.code).toBe('InvalidInput');
      expect(reply.error.message).toMatch(/^lake\.openWarehouse: path: /);
      expect(reply.error.context).toEqual({ call: 'lake.openWarehouse', field: 'path' });
    }
    const extra = await dispatchCall(handlers, 'app.version', { evil: true }, ctx);
    expect(extra.ok).toBe(false);
  });

  it('lists the table folders of a warehouse and allows the root for file serving', async () => {
    const warehouse = `${FIXTURES}/iceberg`;
    const reply = await dispatchCall(handlers, 'lake.openWarehouse', { path: warehouse }, ctx);
    expect(reply.ok).toBe(true);
    if (!reply.ok) return;
    const value = reply.value as { path: string; tables: { namespace: string; name: string; format: string }[] };
    expect(value.path).toBe(warehouse);
    expect(value.tables).toContainEqual(expect.objectContaining({ namespace: 'icebird', name: 'java_bunnies', format: 'iceberg' }));
    expect(value.tables).toContainEqual(expect.objectContaining({ namespace: 'duckdb-iceberg', name: 'equality_deletes_mytable', format: 'iceberg' }));
    expect(value.tables.length).toBeGreaterThanOrEqual(18);
    expect(roots).toContain(warehouse);
  });

  it('maps a missing warehouse to NotFound naming the folder', async () => {
    const reply = await dispatchCall(handlers, 'lake.openWarehouse', { path: '/nonexistent/warehouse' }, ctx);
    expect(reply).toEqual({
      ok: false,
      error: { code: 'NotFound', message: 'warehouse folder not found: /nonexistent/warehouse', context: { path: '/nonexistent/warehouse' } },
    });
  });

  it('turns bigint into decimal strings and thrown errors into replies', async () => {
    const table = {
      ...handlers,
      'app.version': async () => ({ big: 9007199254740993n, nested: [{ id: 2n ** 63n - 1n }] }),
      'app.initialState': async () => {
        throw new TidemarkError('CommitConflict', 'lost the race', { version: 3 });
      },
    } as unknown as HandlerTable;
    expect(await dispatchCall(table, 'app.version', {}, ctx)).toEqual({
      ok: true,
      value: { big: '9007199254740993', nested: [{ id: '9223372036854775807' }] },
    });
    expect(await dispatchCall(table, 'app.initialState', {}, ctx)).toEqual({
      ok: false,
      error: { code: 'CommitConflict', message: 'lost the race', context: { version: 3 } },
    });
  });
});
