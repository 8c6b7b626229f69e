import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { FIXTURES } from '../support/fixtures';

const mor = join(FIXTURES, 'paimon/paimon-cpp/pk_table_scan_and_read_mor');

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('lake commands accept a Paimon table root', () => {
  it('count and scan with time travel', async () => {
    expect(await run('count', mor, '--snapshot', '2')).toEqual({ code: 0, out: '8', err: '' });
    expect(await run('count', mor)).toEqual({ code: 0, out: '11', err: '' });
    const scan = await run('scan', mor, '--format', 'json');
    const rows = JSON.parse(scan.out) as { f0: string; f3: number }[];
    expect(rows.find((r) => r.f0 === 'Alice')!.f3).toBe(19.1);
  });

  it('snapshots, schema, files as JSON', async () => {
    const snaps = JSON.parse((await run('snapshots', mor, '--json')).out) as { snapshotId: string; operation: string }[];
    expect(snaps.map((s) => [s.snapshotId, s.operation])).toEqual([['1', 'append'], ['2', 'append'], ['3', 'compact'], ['4', 'append'], ['5', 'append']]);
    const schema = JSON.parse((await run('schema', mor, '--json')).out) as { primaryKeys: string[]; fields: { name: string }[] };
    expect(schema.primaryKeys).toEqual(['f0', 'f1', 'f2']);
    expect(schema.fields.map((f) => f.name)).toEqual(['f0', 'f1', 'f2', 'f3']);
    const files = JSON.parse((await run('files', mor, '--json')).out) as { level: number; bucket: number }[];
    expect(files.length).toBeGreaterThan(0);
  });

  it('diff and history by the primary key', async () => {
    const diff = JSON.parse((await run('diff', mor, '2', '5', '--json')).out) as { key: string[]; addedCount: number; removedCount: number };
    expect(diff.key).toEqual(['f0', 'f1', 'f2']);
    expect(diff.addedCount - diff.removedCount).toBe(11 - 8);
    const history = JSON.parse((await run('history', mor, '--key', 'f0=Alice', '--json')).out) as { status: string }[];
    expect(history.map((h) => h.status).slice(0, 2)).toEqual(['inserted', 'updated']);
  });

  it('tables lists Paimon tables with their format; unknown snapshot is NotFound', async () => {
    const tables = JSON.parse((await run('tables', join(FIXTURES, 'paimon'), '--json')).out) as { name: string; format: string }[];
    expect(tables).toContainEqual(expect.objectContaining({ name: 'pk_table_scan_and_read_mor', format: 'paimon' }));
    const missing = await run('count', mor, '--snapshot', '99');
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/^error\[NotFound\]: .*99/);
  });
});
