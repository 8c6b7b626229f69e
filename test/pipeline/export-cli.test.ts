import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { exportFlinkYaml, validatePipeline } from '../../core/pipeline';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

describe('exportFlinkYaml', () => {
  const text = readFileSync(join(FIXTURES, 'valid-full.yaml'), 'utf8');
  const exported = exportFlinkYaml(text, 'valid-full.yaml');

  it('lists removed Tidemark keys and the checkpoint interval as comments at the top', () => {
    expect(exported.split('\n').slice(0, 10)).toEqual([
      '# Flink CDC 3.x pipeline exported by Tidemark from valid-full.yaml.',
      '# Tidemark-only options removed (Flink CDC does not know them):',
      '#   source.tidemark.row-metadata: schema-history',
      '#   sink.tidemark.expire-snapshots.max-age: 7d',
      '#   sink.tidemark.expire-snapshots.retain-last: 3',
      '#   pipeline.tidemark.changelog.enabled: true',
      '#   pipeline.tidemark.status-file: /tmp/status.json',
      '#   route[0].tidemark.key.shard-columns: __table_name__',
      '# source.password holds a ${env:NAME} reference, which Flink CDC does not expand: substitute it before submitting.',
      "# execution.checkpointing.interval: 500ms is Flink's own option, not a pipeline option: set it in Flink's configuration (config.yaml) instead.",
    ]);
  });

  it('keeps every Flink key and value, and no tidemark key', () => {
    const doc = parse(exported) as Record<string, Record<string, unknown>>;
    expect(exported).not.toMatch(/^\s*-?\s*tidemark\./m);
    expect(doc.source).toMatchObject({ tables: 'app.order_\\.*, app.users', password: '${env:DB_PASS}', 'server-id': '5400-5404' });
    expect(doc.pipeline).toEqual({ name: 'Orders to lake', parallelism: 2, 'schema.change.behavior': 'TRY_EVOLVE', 'route-mode': 'first_match', 'local-time-zone': 'UTC' });
    expect(doc.route).toEqual([
      { 'source-table': 'app.order_\\.*', 'sink-table': 'ods.orders', description: 'merge shards' },
      { 'source-table': 'app.(users)', 'sink-table': 'ods.$1' },
    ]);
    expect(exported).toContain('# Sharded orders merged into one lake table, users with a transform.');
  });

  it('the export validates again with the same routes and transforms', () => {
    const again = validatePipeline(exported, { fileName: 'x.yaml', env: { DB_PASS: 's3cret' } });
    expect(again.errors).toEqual([]);
    const original = validatePipeline(text, { fileName: 'x.yaml', env: { DB_PASS: 's3cret' } });
    expect(again.config!.routes.map((r) => r.sinkTable)).toEqual(original.config!.routes.map((r) => r.sinkTable));
    expect(again.config!.transforms).toEqual(original.config!.transforms);
  });

  it('writes mariadb as mysql and fills an empty pipeline block', () => {
    const out = exportFlinkYaml(readFileSync(join(FIXTURES, 'warn-empty-pipeline.yaml'), 'utf8').replace('type: mysql', 'type: mariadb'), 'p.yaml');
    expect(out).toContain('# source.type: mariadb is written as mysql: Flink CDC reads MariaDB with its MySQL connector.');
    expect(out).toContain('# pipeline.parallelism: 1 was added because Flink CDC rejects an empty pipeline block.');
    expect((parse(out) as { source: { type: string }; pipeline: unknown }).source.type).toBe('mysql');
    expect((parse(out) as { pipeline: unknown }).pipeline).toEqual({ parallelism: 1 });
  });
});

describe('tidemark validate / export-flink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tidemark-pipeline-'));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, readFileSync(join(FIXTURES, 'valid-minimal.yaml'), 'utf8').replace('  name: minimal\n', '  name: minimal\n  schema.operator.uid: op\n'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'source:\n  type: mysql\n  hostnme: h\n  username: u\n  password: p\n  tables: app.(x\nsink:\n  type: iceberg\n  catalog.properties.type: hadoop\n  catalog.properties.warehouse: /w\npipeline:\n  name: x\n');
  const paimon = join(dir, 'doris.yaml');
  writeFileSync(paimon, 'source:\n  type: mysql\n  hostname: h\n  username: u\n  password: p\n  tables: a.b\nsink:\n  type: doris\npipeline:\n  name: x\n');

  it('validate prints ok with counts and warnings, exit 0', async () => {
    const c = capture();
    expect(await runCli(['validate', good], c.io)).toBe(0);
    expect(c.out).toEqual([
      'ok: 0 routes, 0 transforms; mariadb localhost:3306 tables shop.\\.* → iceberg /var/lake; schema.change.behavior lenient, commit every 30s',
      `warning: ${good}:13: pipeline.schema.operator.uid: accepted for Flink CDC; has no effect in Tidemark`,
    ]);
  });

  it('validate prints one error[InvalidInput] line per problem, exit 2', async () => {
    const c = capture();
    expect(await runCli(['validate', bad], c.io)).toBe(2);
    expect(c.err).toEqual([
      `error[InvalidInput]: ${bad}:1: source: missing required key "hostname"`,
      `error[InvalidInput]: ${bad}:3: source.hostnme: unknown key; did you mean "hostname"?`,
      `error[InvalidInput]: ${bad}:6: source.tables: invalid regex "app.(x": Unterminated group`,
    ]);
  });

  it('validate of a Doris sink is error[Unsupported], exit 1; a missing file exits 3', async () => {
    const c = capture();
    expect(await runCli(['validate', paimon], c.io)).toBe(1);
    expect(c.err).toEqual([`error[Unsupported]: ${paimon}:8: sink.type: sink type "doris" is not supported: Tidemark writes Apache Iceberg (type: iceberg) and Apache Paimon (type: paimon) tables`]);
    const missing = capture();
    expect(await runCli(['validate', join(dir, 'nope.yaml')], missing.io)).toBe(3);
    expect(missing.err).toEqual([`error[NotFound]: pipeline file not found: ${join(dir, 'nope.yaml')}`]);
  });

  it('validate --json hides the password', async () => {
    const file = join(dir, 'secret.yaml');
    writeFileSync(file, readFileSync(join(FIXTURES, 'valid-minimal.yaml'), 'utf8').replace('password: ""', 'password: hunter2'));
    const c = capture();
    expect(await runCli(['validate', file, '--json'], c.io)).toBe(0);
    const json = JSON.parse(c.out.join('')) as { config: { source: { password: string; hostname: string } }; errors: unknown[] };
    expect(json.config.source).toMatchObject({ password: '***', hostname: 'localhost' });
    expect(json.errors).toEqual([]);
    expect(c.out.join('')).not.toContain('hunter2');
  });

  it('export-flink prints Flink YAML to stdout without needing env vars', async () => {
    const c = capture();
    expect(await runCli(['export-flink', join(FIXTURES, 'valid-full.yaml')], c.io)).toBe(0);
    expect(c.out.join('\n')).toContain('password: ${env:DB_PASS}');
    expect(c.out.join('\n')).not.toMatch(/^\s+tidemark\./m);
    const b = capture();
    expect(await runCli(['export-flink', bad], b.io)).toBe(2);
    expect(b.err).toHaveLength(3);
  });
});
