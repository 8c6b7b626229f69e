import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';

const work = mkdtempSync(join(tmpdir(), 'tidemark-demo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe('tidemark demo and compact', () => {
  it('builds a deterministic demo lake whose orders table has the required history', async () => {
    expect((await cli('demo', join(work, 'a'), '--seed', '5')).code).toBe(0);
    expect((await cli('demo', join(work, 'b'), '--seed', '5')).code).toBe(0);
    const snapsA = JSON.parse((await cli('snapshots', join(work, 'a/demo/orders'), '--json')).out) as { snapshotId: string; operation: string; summary: Record<string, string> }[];
    const snapsB = JSON.parse((await cli('snapshots', join(work, 'b/demo/orders'), '--json')).out) as { snapshotId: string }[];
    expect(snapsA.map((s) => s.snapshotId)).toEqual(snapsB.map((s) => s.snapshotId));
    expect(snapsA.map((s) => s.operation)).toEqual(['append', 'overwrite', 'delete', 'overwrite', 'overwrite', 'replace']);
    expect(snapsA[1]!.summary['added-equality-delete-files']).toBe('1');
    const scanA = (await cli('scan', join(work, 'a/demo/orders'), '--format', 'csv')).out;
    expect(scanA).toBe((await cli('scan', join(work, 'b/demo/orders'), '--format', 'csv')).out);
    expect(scanA.split('\n')[0]).toBe('order_id,customer_id,amount,order_status,ordered_at,discount');
    expect((await cli('count', join(work, 'a/demo/orders'))).out).toBe('31\n');
    expect((await cli('count', join(work, 'a/demo/orders'), '--snapshot', snapsA[2]!.snapshotId)).out).toBe('30\n');
    expect((await cli('count', join(work, 'a/demo/customers'))).out).toBe('20\n');
    const dry = await cli('compact', join(work, 'a/demo/orders'), '--dry-run');
    expect(dry.out).toMatch(/^would rewrite \d+ data file\(s\), \d+ bytes, \d+ records in \d+ partition\(s\)(, \d+ delete file\(s\))? into about \d+ file\(s\)\n$/);
    const compact = await cli('compact', join(work, 'a/demo/orders'));
    expect(compact.out).toMatch(/^snapshot \d+: rewrote .* into \d+ file\(s\), 31 rows\n$/);
    expect((await cli('count', join(work, 'a/demo/orders'))).out).toBe('31\n');
  });

  it('--format-version 3 builds the demo as v3 tables with row lineage, compaction included', async () => {
    expect((await cli('demo', join(work, 'v3'), '--format-version', '3')).code).toBe(0);
    const orders = join(work, 'v3/demo/orders');
    const snaps = JSON.parse((await cli('snapshots', orders, '--json')).out) as { operation: string }[];
    expect(snaps.map((s) => s.operation)).toEqual(['append', 'overwrite', 'delete', 'overwrite', 'overwrite', 'replace']);
    expect((await cli('count', orders)).out).toBe('31\n');
    // The compaction kept every row's lineage: the same (order_id, _row_id, sequence number) as before it.
    const lineage = async (...snapshot: string[]) => (await cli('scan', orders, ...snapshot, '--columns', 'order_id,_row_id,_last_updated_sequence_number', '--format', 'csv')).out.split('\n').sort();
    const full = JSON.parse((await cli('snapshots', orders, '--json')).out) as { snapshotId: string }[];
    const before = await lineage('--snapshot', full.at(-2)!.snapshotId);
    expect(before.length).toBeGreaterThan(31);
    expect(await lineage()).toEqual(before);
    const scan = JSON.parse((await cli('scan', join(work, 'v3/demo/customers'), '--columns', 'customer_id,_row_id', '--format', 'json')).out) as { customer_id: string; _row_id: string }[];
    expect(scan.map((r) => Number(r._row_id) - Number(r.customer_id))).toEqual(new Array(20).fill(-1));
    const bad = await cli('demo', join(work, 'v4'), '--format-version', '4');
    expect([bad.code, bad.err.trim()]).toEqual([2, 'error[InvalidInput]: demo: --format-version expects 2 or 3, found "4"']);
  });
});
