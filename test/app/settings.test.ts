import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, COLUMNS, idsOf } from '../../bench/explorer-scale';
import type { HandlerContext, HandlerTable, Reply, SqlResult, Wire } from '../../core/api';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { createSettingsStore } from '../../core/app/settings';
import { appendArrow, createTable } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node/index';

const ctx: HandlerContext = { emit: () => undefined };
let dir: string;
let warehouse: string;
let handlers: HandlerTable;
const SQL = 'SELECT * FROM ns.wide ORDER BY id LIMIT 3';
const runSql = async (table: HandlerTable, sql: string) => (await dispatchCall(table, 'query.sql', { warehouse, sql }, ctx)) as Reply<Wire<SqlResult>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-settings-'));
  warehouse = join(dir, 'lake');
  // 100k rows × 30 columns: ~40 MiB of table data by the engine's estimate, over a 16 MiB budget.
  await createTable(join(warehouse, 'ns', 'wide'), { columns: COLUMNS, identifierColumns: ['id'] });
  await appendArrow(join(warehouse, 'ns', 'wide'), batchOf(idsOf(0, 100_000, () => true)));
  handlers = createHandlers({ storage: createLocalStorage(), mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null, settings: createSettingsStore({ dataDir: join(dir, 'home') }) });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('settings store', () => {
  it('reads the defaults before anything is saved, keeps unknown keys on save', async () => {
    const home = join(dir, 'store');
    const store = createSettingsStore({ dataDir: home });
    expect(await store.read()).toEqual({ queryMemoryBudgetMiB: 1536 });
    expect(await store.save({ queryMemoryBudgetMiB: 512 })).toEqual({ queryMemoryBudgetMiB: 512 });
    await writeFile(join(home, 'settings.json'), JSON.stringify({ queryMemoryBudgetMiB: 512, fromNewerVersion: 'x' }));
    expect(await store.save({ queryMemoryBudgetMiB: 768 })).toEqual({ queryMemoryBudgetMiB: 768 });
    expect(JSON.parse(await readFile(join(home, 'settings.json'), 'utf8'))).toEqual({ queryMemoryBudgetMiB: 768, fromNewerVersion: 'x' });
    expect(await createSettingsStore({ dataDir: home }).read()).toEqual({ queryMemoryBudgetMiB: 768 });
  });

  it('names the file and the key when a saved value is invalid', async () => {
    const home = join(dir, 'bad');
    const store = createSettingsStore({ dataDir: home });
    await store.save({});
    await writeFile(join(home, 'settings.json'), JSON.stringify({ queryMemoryBudgetMiB: 'lots' }));
    await expect(store.read()).rejects.toMatchObject({
      code: 'DataInvalid',
      message: `${join(home, 'settings.json')}: queryMemoryBudgetMiB: expected a whole number of MiB from 16 to 3072, found "lots"`,
    });
    await writeFile(join(home, 'settings.json'), '[1]');
    await expect(store.read()).rejects.toMatchObject({ code: 'DataInvalid', message: `${join(home, 'settings.json')}: expected a JSON object of settings, found an array` });
  });
});

describe('the query memory budget as a setting of the app', () => {
  it('refuses a budget out of range at the boundary, naming the field', async () => {
    const low = await dispatchCall(handlers, 'settings.save', { queryMemoryBudgetMiB: 8 }, ctx);
    expect(low).toMatchObject({ ok: false, error: { code: 'InvalidInput', message: 'settings.save: queryMemoryBudgetMiB: expected at least 16 MiB' } });
    const high = await dispatchCall(handlers, 'query.configure', { memoryBudgetMiB: 4096 }, ctx);
    expect(high).toMatchObject({ ok: false, error: { code: 'InvalidInput', message: 'query.configure: memoryBudgetMiB: expected at most 3072 MiB (DuckDB-wasm has ~3.1 GiB)' } });
  });

  it('stops a query over the saved budget with a sentence, runs it once the budget is raised', async () => {
    expect(await dispatchCall(handlers, 'settings.read', {}, ctx)).toEqual({ ok: true, value: { queryMemoryBudgetMiB: 1536 } });
    const ran = await runSql(handlers, SQL);
    expect(ran.ok && ran.value.rows.map((r) => r[0])).toEqual(['0', '1', '2']);

    expect(await dispatchCall(handlers, 'settings.save', { queryMemoryBudgetMiB: 16 }, ctx)).toEqual({ ok: true, value: { queryMemoryBudgetMiB: 16 } });
    expect(JSON.parse(await readFile(join(dir, 'home', 'settings.json'), 'utf8'))).toEqual({ queryMemoryBudgetMiB: 16 });
    const stopped = await runSql(handlers, SQL);
    expect(stopped.ok).toBe(false);
    if (!stopped.ok) {
      expect(stopped.error.code).toBe('Unsupported');
      expect(stopped.error.message).toMatch(
        /^query needs about \d+\.\d MiB of memory for ns\.wide \(100,000 rows × 30 columns\), over the engine's budget of 16\.0 MiB: add a WHERE clause on a partition or key column .*; select fewer columns \(30 are read: id, l1, l2, l3, l4, l5, …\); or raise the engine memory budget$/,
      );
      expect(stopped.error.context).toMatchObject({ table: 'ns.wide', budgetBytes: 16 * 2 ** 20 });
      expect(Number(stopped.error.context.estimateBytes)).toBeGreaterThan(16 * 2 ** 20);
    }
    // Fewer columns fit the same budget.
    const narrow = await runSql(handlers, 'SELECT id FROM ns.wide ORDER BY id DESC LIMIT 1');
    expect(narrow.ok && narrow.value.rows).toEqual([['99999']]);

    // A new process (a restart) starts its engine with the saved budget.
    const restarted = createHandlers({ storage: createLocalStorage(), mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null, settings: createSettingsStore({ dataDir: join(dir, 'home') }) });
    expect(await runSql(restarted, SQL)).toMatchObject({ ok: false, error: { code: 'Unsupported' } });

    expect(await dispatchCall(handlers, 'settings.save', { queryMemoryBudgetMiB: 1024 }, ctx)).toEqual({ ok: true, value: { queryMemoryBudgetMiB: 1024 } });
    const again = await runSql(handlers, SQL);
    expect(again.ok && again.value.rows.map((r) => r[0])).toEqual(['0', '1', '2']);
  }, 120_000);
});
