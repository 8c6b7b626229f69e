import { join, resolve } from 'node:path';
import type { Row } from '../row-reader';
import { seededWriteEnv } from './commit';
import { appendRows, applyRowDelta, createTable, rewriteDataFiles } from './operations';
import { evolveSchema } from './schema-evolution';

/**
 * A deterministic demo lake: `<warehouse>/demo/{customers,orders}`. orders gets 6 snapshots:
 * append, upsert (equality deletes + new rows), key delete, add column + upsert using it,
 * rename column + upsert, compaction (`replace`). Same seed → same ids, timestamps and rows.
 * `formatVersion` 3 creates v3 tables (row lineage; the compaction keeps each row's `_row_id`).
 */
export async function createDemoWarehouse(warehouse: string, seed = 1, formatVersion: 2 | 3 = 2): Promise<{ tables: string[] }> {
  const env = seededWriteEnv(seed);
  const properties = { 'format-version': String(formatVersion) };
  let s = seed >>> 0 || 1;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const customersRoot = join(resolve(warehouse), 'demo', 'customers');
  const ordersRoot = join(resolve(warehouse), 'demo', 'orders');
  const cities = ['Lisbon', 'Oslo', 'Kyoto', 'Quito', 'Perth'];
  await createTable(customersRoot, {
    columns: [{ name: 'customer_id', type: 'long', required: true }, { name: 'name', type: 'string' }, { name: 'city', type: 'string' }, { name: 'signup_date', type: 'date' }],
    identifierColumns: ['customer_id'],
    properties,
    env,
  });
  const customers: Row[] = Array.from({ length: 20 }, (_, i) => ({
    customer_id: BigInt(i + 1),
    name: `Customer ${i + 1}`,
    city: cities[Math.floor(rand() * cities.length)]!,
    signup_date: `2024-0${1 + (i % 9)}-1${i % 10}`,
  }));
  await appendRows(customersRoot, customers, { env });

  await createTable(ordersRoot, {
    columns: [
      { name: 'order_id', type: 'long', required: true },
      { name: 'customer_id', type: 'long' },
      { name: 'amount', type: 'decimal(10, 2)' },
      { name: 'status', type: 'string' },
      { name: 'ordered_at', type: 'timestamptz' },
    ],
    identifierColumns: ['order_id'],
    partitionBy: [{ column: 'ordered_at', transform: 'day' }],
    properties,
    env,
  });
  const order = (id: number, status = 'new'): Row => ({
    order_id: BigInt(id),
    customer_id: BigInt(1 + Math.floor(rand() * 20)),
    amount: (Math.floor(rand() * 100_000) / 100).toFixed(2),
    status,
    ordered_at: `2024-03-0${1 + (id % 3)}T1${id % 10}:00:00.000000+00:00`,
  });
  await appendRows(ordersRoot, Array.from({ length: 30 }, (_, i) => order(i + 1)), { env, summary: { 'tidemark.demo.step': 'initial load' } });
  await applyRowDelta(ordersRoot, { upserts: [order(3, 'shipped'), order(7, 'shipped')], inserts: [order(31), order(32)] }, { env });
  await applyRowDelta(ordersRoot, { deleteKeys: [{ order_id: 5n }, { order_id: 6n }] }, { env });
  await evolveSchema(ordersRoot, [{ op: 'add', name: 'discount', type: 'decimal(10, 2)' }], env);
  await applyRowDelta(ordersRoot, { upserts: [{ ...order(8, 'shipped'), discount: '5.00' }], inserts: [{ ...order(33), discount: '0.00' }] }, { env });
  await evolveSchema(ordersRoot, [{ op: 'rename', name: 'status', newName: 'order_status' }], env);
  await applyRowDelta(ordersRoot, { upserts: [{ ...order(9), order_status: 'cancelled', discount: null }] }, { env });
  await rewriteDataFiles(ordersRoot, { env });
  return { tables: [customersRoot, ordersRoot] };
}
