import { describe, expect, it } from 'vitest';
import { exportFlinkYaml, validatePipeline } from '../../core/pipeline';

const SOURCE = 'source:\n  type: mysql\n  hostname: h\n  username: u\n  password: p\n  tables: app.order_\\.*\n';
const sink = (lines: string) => `${SOURCE}sink:\n  type: paimon\n  catalog.properties.metastore: filesystem\n  catalog.properties.warehouse: /lake\n${lines}pipeline:\n  name: x\n`;
const check = (text: string) => {
  const r = validatePipeline(text, { fileName: 'p.yaml' });
  return { config: r.config, errors: r.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`), warnings: r.warnings.map((w) => `${w.line}: ${w.path}: ${w.message}`) };
};

describe('Paimon sink keys (Flink CDC Paimon pipeline connector)', () => {
  it('reads the connector keys and keeps table.properties as the created tables\' options', () => {
    const r = check(sink('  commit.user: finance\n  partition.key: ods.orders:region\n  table.properties.bucket: 4\n  table.properties.changelog-producer: input\n  table.properties.deletion-vectors.enabled: true\n  table.properties.snapshot.time-retained: 2 h\n  table.properties.write-only: false\n'));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.config!.sink).toMatchObject({
      type: 'paimon',
      warehouse: '/lake',
      partitionKeys: { 'ods.orders': [{ sourceColumn: 'region', transform: 'identity' }] },
      tableProperties: { bucket: '4', 'changelog-producer': 'input', 'deletion-vectors.enabled': 'true', 'snapshot.time-retained': '2 h', 'write-only': 'false' },
      paimon: { commitUser: 'finance', metastore: 'filesystem' },
    });
  });

  it('defaults commit.user to admin, as Flink CDC does', () => {
    expect(check(sink('  table.properties.bucket: 1\n')).config!.sink.paimon!.commitUser).toBe('admin');
  });

  it('says what the writer does not write, naming the key', () => {
    // No bucket is Paimon's default, dynamic bucket (-1), which is written.
    expect(check(sink('')).errors).toEqual([]);
    expect(check(sink('  table.properties.bucket: -1\n  table.properties.dynamic-bucket.target-row-num: 500000\n')).errors).toEqual([]);
    expect(check(sink('  table.properties.bucket: -1\n  table.properties.bucket-key: id\n')).errors).toEqual(['12: sink.table.properties.bucket-key: bucket-key cannot be set with bucket -1 (dynamic bucket), as Paimon refuses: remove it or set a bucket count']);
    expect(check(sink('  table.properties.bucket: -2\n')).errors).toEqual(['11: sink.table.properties.bucket: bucket -2 (postpone bucket) is not written: set a fixed bucket count N >= 1, or -1 (dynamic bucket)']);
    expect(check(sink('  table.properties.dynamic-bucket.max-buckets: 0\n')).errors).toEqual(['11: sink.table.properties.dynamic-bucket.max-buckets: expected -1 (no limit) or a bucket count between 1 and 32767, found 0']);
    expect(check(sink('  table.properties.bucket: 2\n  table.properties.file.format: orc\n')).errors).toEqual(['12: sink.table.properties.file.format: file.format orc is not written: Tidemark writes Parquet data files (file.format: parquet)']);
    expect(check(sink('  table.properties.bucket: 2\n  table.properties.changelog-producer: lookup\n')).errors).toEqual([]);
    expect(check(sink('  table.properties.bucket: 2\n  table.properties.changelog-producer: full-compaction\n')).errors).toEqual(['12: sink.table.properties.changelog-producer: changelog-producer full-compaction is not written yet (none, input and lookup are)']);
    expect(check(sink('  table.properties.bucket: 2\n  table.properties.bucket: x\n')).errors.length).toBeGreaterThan(0);
    expect(check(sink('  table.properties.bucket: two\n')).errors).toEqual(['11: sink.table.properties.bucket: expected an integer, found "two"']);
    expect(check(sink('  table.properties.bucket: 2\n  table.properties.snapshot.time-retained: soon\n')).errors[0]).toMatch(/^12: sink.table.properties.snapshot.time-retained: /);
    expect(check(sink('  table.properties.bucket: 2\n  partition.key: ods.orders:day(created)\n')).errors).toEqual(['12: sink.partition.key: ods.orders: Paimon partitions by plain columns, found day(created)']);
    const hive = check(sink('  table.properties.bucket: 2\n').replace('metastore: filesystem', 'metastore: hive'));
    expect(hive.errors).toEqual(['9: sink.catalog.properties.metastore: metastore "hive" is not supported: Tidemark writes a Paimon filesystem catalog (catalog.properties.metastore: filesystem)']);
  });

  it('warns for options it stores without acting on, and refuses the Iceberg-only audit changelog', () => {
    const r = check(sink('  table.properties.bucket: 2\n  table.properties.target-file-size: 256 mb\n  catalog.properties.cache-enabled: false\n'));
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([
      "12: sink.table.properties.target-file-size: accepted: stored in the created table's options (Java Paimon reads it); Tidemark's writer does not act on it",
      '13: sink.catalog.properties.cache-enabled: accepted but ignored: a filesystem catalog needs only catalog.properties.metastore and catalog.properties.warehouse; Tidemark reads no other catalog property',
    ]);
    const changelog = check(sink('  table.properties.bucket: 2\n').replace('  name: x\n', '  name: x\n  tidemark.changelog.enabled: true\n'));
    expect(changelog.errors).toEqual([
      "14: pipeline.tidemark.changelog.enabled: the audit changelog table is written beside Iceberg targets; a Paimon table keeps its own changelog (sink table.properties.changelog-producer: input, read as the table's $audit_log)",
    ]);
  });

  it('export-flink keeps the Paimon sink block as written', () => {
    const text = sink('  commit.user: finance\n  table.properties.bucket: 4\n');
    const out = exportFlinkYaml(text, 'p.yaml');
    expect(out).toContain('  type: paimon\n  catalog.properties.metastore: filesystem\n  catalog.properties.warehouse: /lake\n  commit.user: finance\n  table.properties.bucket: 4\n');
  });
});
