import { describe, expect, it } from 'vitest';
import { defaultSpecFiles, runSpec, runSpecFiles } from './transform-specs';

/**
 * Flink CDC's transform spec suite (test/fixtures/flink-cdc-transform-specs, PROVENANCE.md) run
 * through Tidemark's transform compiler and evaluator: every applicable case must pass.
 */
describe('Flink CDC transform specs', () => {
  const { results, summary } = runSpecFiles(defaultSpecFiles());

  it('passes every case that applies to a MySQL source', () => {
    const failed = results.filter((r) => r.outcome.status === 'fail').map((r) => `${r.file} :: ${r.name}: ${r.outcome.status === 'fail' ? r.outcome.detail : ''}`);
    expect(failed).toEqual([]);
    expect(summary).toMatch(/^transform specs: \d+ passed, 0 failed, \d+ skipped$/);
    expect(results.filter((r) => r.outcome.status === 'pass').length).toBeGreaterThanOrEqual(87);
  });

  it('skips only upstream-ignored cases and ARRAY/MAP/ROW/VARIANT ones, with the reason', () => {
    for (const r of results) {
      if (r.outcome.status !== 'skip') continue;
      expect(r.outcome.reason, `${r.file} :: ${r.name}`).toMatch(/^ignore: FLINK-\d+ \(skipped upstream too\)$|ARRAY|MAP|ROW|VARIANT/);
    }
  });

  it('fails a case whose expectation differs, and an expect-error case that does not fail', () => {
    const base = { do: 'probe', projection: 'id_, int_ + 1 AS n', 'primary-key': 'id_', 'non-null': 'true' };
    const expect1 = [
      "CreateTableEvent{tableId=foo.bar.baz, schema=columns={`id_` BIGINT NOT NULL 'Identifier',`n` INT}, primaryKeys=id_, options=()}",
      'DataChangeEvent{tableId=foo.bar.baz, before=[], after=[1, 5], op=INSERT, meta=()}',
      'DataChangeEvent{tableId=foo.bar.baz, before=[1, 5], after=[-1, -3], op=UPDATE, meta=()}',
      'DataChangeEvent{tableId=foo.bar.baz, before=[-1, -3], after=[], op=DELETE, meta=()}',
    ];
    expect(runSpec({ ...base, expect: expect1.join('\n') })).toEqual({ status: 'pass' });
    expect(runSpec({ ...base, expect: expect1.join('\n').replace('after=[1, 5]', 'after=[1, 6]') }).status).toBe('fail');
    expect(runSpec({ ...base, 'expect-error': 'anything' }).status).toBe('fail');
    expect(runSpec({ ...base, projection: 'id_, nope', 'expect-error': 'not found' })).toEqual({ status: 'pass' });
  });
});
