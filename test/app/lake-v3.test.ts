import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../core/api';
import { dispatchCall } from '../../core/app/dispatch';
import { createHandlers } from '../../core/app/handlers';
import { createLocalStorage } from '../../core/storage/node/index';
import { runCli } from '../../cli/main';
import { FIXTURES } from '../support/fixtures';

/** Iceberg v3 tables through the app's lake.* / query.* calls and the `tidemark` commands users run. */
const ctx: HandlerContext = { emit: () => undefined };
const handlers = createHandlers({ storage: createLocalStorage(), mode: 'browser', electronVersion: null, allowRoot: () => undefined, initialWarehouse: null });
const call = async (name: string, input: unknown) => {
  const r = await dispatchCall(handlers, name, input, ctx);
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value as never;
};
const v3 = join(FIXTURES, 'iceberg-v3');
const dvs = join(v3, 'impala/iceberg_v3_deletion_vectors');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe('Iceberg v3 through the app calls', () => {
  it('deletion vectors: info, timeline, files with their blob ranges, count and page', async () => {
    expect(await call('lake.tableInfo', { path: dvs })).toMatchObject({ format: 'iceberg', formatVersion: 3, currentSnapshotId: '3685752423136077685', snapshotCount: 2 });
    const snaps: { operation: string; addedDeleteFiles: number | null }[] = await call('lake.snapshots', { path: dvs });
    expect(snaps.map((s) => [s.operation, s.addedDeleteFiles])).toEqual([['append', null], ['delete', 2]]);
    const files: { content: string; path: string; deletes: string[]; deletionVector?: { offset: number; length: number; referencedDataFile: string } }[] = await call('lake.files', { path: dvs });
    const vectors = files.filter((f) => f.deletionVector);
    expect(vectors.map((f) => [f.content, f.deletionVector!.offset, f.deletionVector!.length]).sort()).toEqual([['position-deletes', 4, 42], ['position-deletes', 46, 42]]);
    expect(vectors.every((f) => f.path.endsWith('-deletes.puffin'))).toBe(true);
    expect(files.filter((f) => f.content === 'data' && f.deletes.length > 0)).toHaveLength(2);
    expect(await call('query.count', { path: dvs })).toEqual({ rows: 3 });
    const page = (await call('query.page', { path: dvs, limit: 10 })) as { rows: unknown[][] };
    expect(page.rows.map((r) => r[0]).sort()).toEqual([1, 3, 5]);
  });

  it('variant and defaults: schema types as written, values as JSON text', async () => {
    const variant = join(v3, 'impala/trino_variant');
    const schema = (await call('lake.schema', { path: variant })) as { fields: { name: string; type: string }[] };
    expect(schema.fields.map((f) => `${f.name}: ${f.type}`)).toEqual(['id: int', 'descr: string', 'v: variant']);
    const page = (await call('query.page', { path: variant, limit: 100 })) as { rows: unknown[][] };
    expect(page.rows.find((r) => r[1] === 'obj age/name')![2]).toBe('{"age":30,"name":"Alice"}');
  });

  it('the invalid table fails with DataInvalid naming its .puffin file', async () => {
    const r = await dispatchCall(handlers, 'query.count', { path: join(v3, 'duckdb-iceberg/legacy_bare_deletion_vector') }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('DataInvalid');
      expect(r.error.message).toMatch(/legacy-bare-deletion-vector\.puffin: expected a Puffin file/);
    }
  });
});

describe('Iceberg v3 through the tidemark command', () => {
  it('count, scan with row-lineage columns, snapshots', async () => {
    expect((await cli('count', dvs)).out).toBe('3\n');
    expect((await cli('count', dvs, '--snapshot', '2700858159721908397')).out).toBe('5\n');
    const lineage = join(v3, 'impala/iceberg_v3_row_lineage');
    const scan = await cli('scan', lineage, '--columns', 'i,_row_id,_last_updated_sequence_number', '--format', 'json');
    expect(scan.code).toBe(0);
    const rows = (JSON.parse(scan.out) as Record<string, unknown>[]).sort((a, b) => Number(a.i) - Number(b.i));
    expect(rows).toEqual([
      { i: 1, _row_id: '0', _last_updated_sequence_number: '1' },
      { i: 2, _row_id: '1', _last_updated_sequence_number: '2' },
      { i: 3, _row_id: '2', _last_updated_sequence_number: '3' },
    ]);
    const snaps = JSON.parse((await cli('snapshots', lineage, '--json')).out) as { operation: string }[];
    expect(snaps.map((s) => s.operation)).toEqual(['append', 'append', 'append', 'replace']);
    const bad = await cli('count', join(v3, 'duckdb-iceberg/legacy_bare_deletion_vector'));
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/legacy-bare-deletion-vector\.puffin/);
    // ORC data files (Spark-written, ZLIB): j was added later, so the first file's row takes its initial-default.
    const orc = await cli('scan', join(v3, 'impala/iceberg_v3_default_value_orc'), '--format', 'json');
    expect(orc.code).toBe(0);
    expect((JSON.parse(orc.out) as { i: number }[]).sort((a, b) => a.i - b.i)).toEqual([{ i: 1, j: -1 }, { i: 2, j: 2 }]);
  });
});
