import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { fixturesRoot } from './helpers';
import { stringifyJson } from '../../cli/command';
import { describeSnapshots } from '../../core/app/lake-service';
import { loadTable } from '../../core/lake';
import { createLocalStorage } from '../../core/storage/node/index';

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}
const bunnies = `${fixturesRoot}/icebird/java_bunnies`;

describe('lake read commands', () => {
  it('snapshots --json prints ids as decimal strings', async () => {
    const r = await cli('snapshots', bunnies, '--json');
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as Record<string, unknown>[];
    expect(list.map((s) => s.snapshotId)).toEqual(['4951213507629824583', '6458828015811002920', '9158179788527662767']);
    expect(list[1]).toMatchObject({ parentSnapshotId: '4951213507629824583', sequenceNumber: '2', operation: 'delete', schemaId: 1 });
    expect((list[0]!.summary as Record<string, string>)['added-records']).toBe('21');
  });

  it('snapshots is the app timeline view: same order, same fields (issue 19)', async () => {
    const table = await loadTable(createLocalStorage(), bunnies);
    expect(JSON.parse((await cli('snapshots', bunnies, '--json')).out)).toEqual(JSON.parse(stringifyJson(describeSnapshots(table))));
    // Reversed metadata order: listed by sequence number all the same.
    const reversed = { ...table, metadata: { ...table.metadata, snapshots: [...table.metadata.snapshots].reverse() } };
    expect(describeSnapshots(reversed).map((s) => s.sequenceNumber)).toEqual([1n, 2n, 3n]);
    const text = (await cli('snapshots', bunnies)).out.trim().split('\n');
    expect(text).toHaveLength(3);
    expect(text[2]).toMatch(/^\* 9158179788527662767\tseq 3\t\S+Z\t\w+\tschema \d+\t\+\d+ rows, total 22$/);
  });

  it('count follows --snapshot and prints one integer', async () => {
    expect((await cli('count', bunnies)).out).toBe('15\n');
    expect((await cli('count', bunnies, '--snapshot', '4951213507629824583')).out).toBe('21\n');
    expect((await cli('count', bunnies, '--as-of', '2025-03-31T08:46:30Z')).out).toBe('21\n');
    expect((await cli('count', bunnies, '--ref', 'main')).out).toBe('15\n');
  });

  it('scan --columns --limit --format json|csv|table', async () => {
    const root = `${fixturesRoot}/icebird/athena_example`;
    expect(JSON.parse((await cli('scan', root, '--format', 'json')).out)).toEqual([{ id: 1, name: 'Alice' }, { id: 2, name: 'Bob' }]);
    expect((await cli('scan', root, '--format', 'csv', '--columns', 'name')).out).toBe('name\nAlice\nBob\n');
    expect((await cli('scan', root, '--limit', '1')).out).toBe('id | name\n---+------\n1  | Alice\n');
  });

  it('scan prints int64 values as decimal strings in JSON', async () => {
    const rows = JSON.parse((await cli('scan', `${fixturesRoot}/duckdb-iceberg/is_null_is_not_null`, '--format', 'json', '--limit', '1')).out) as { id: unknown }[];
    expect(typeof rows[0]!.id).toBe('string');
  });

  it('schema and files', async () => {
    const schema = JSON.parse((await cli('schema', `${fixturesRoot}/icebird/spark_rename_column`, '--json')).out) as { fields: { name: string }[] };
    expect(schema.fields.map((f) => f.name)).toEqual(['id', 'name', 'event_date', 'price', 'active']);
    const old = await cli('schema', bunnies, '--snapshot', '4951213507629824583');
    expect(old.out).not.toContain('__happy__');
    // The same entries as the app's lake.files (the delete files apply to nothing themselves).
    const files = JSON.parse((await cli('files', bunnies, '--json')).out) as { content: string; sequenceNumber: string; deletes: string[]; equalityIds?: number[] }[];
    expect(files.map((f) => [f.content, f.sequenceNumber, f.deletes.length, f.equalityIds ?? null])).toEqual([
      ['data', '3', 0, null],
      ['data', '1', 2, null],
      ['equality-deletes', '3', 0, [1]],
      ['position-deletes', '2', 0, null],
    ]);
  });

  it('errors: unknown snapshot exits 3 naming the id; bad flags exit 2; no stack traces', async () => {
    const r = await cli('count', `${fixturesRoot}/icebird/spark_bunnies`, '--snapshot', '1234');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/^error\[NotFound\]: snapshot 1234 not found/);
    expect((await cli('scan', bunnies, '--format', 'xml')).code).toBe(2);
    expect((await cli('count', bunnies, '--snapshot', 'abc')).err).toMatch(/--snapshot expects a decimal snapshot id/);
    expect((await cli('count', bunnies, '--snapshot', '1', '--ref', 'main')).code).toBe(2);
    const missing = await cli('count', `${fixturesRoot}/duckdb-iceberg/equality_deletes_mytable`, '--snapshot', '7342794868382145167');
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/manifest list of snapshot 7342794868382145167 not found: .*snap-7342794868382145167/);
    expect(missing.err).not.toMatch(/\n\s+at /);
  });
});
