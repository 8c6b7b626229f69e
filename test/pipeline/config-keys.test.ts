/**
 * The key table (core/pipeline/config/keys.ts) against the code: a key marked `honoured` must
 * change the parsed config, and the function its `reader` names must read what it changed; a key
 * handed to the CDC source must change the source configuration, and core/cdc must read that
 * field outside its config resolution. Keys Tidemark does not act on must say why, and validate
 * must say it. A key marked honoured that nothing reads fails here.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../cli/main';
import { validatePipeline, type PipelineConfig } from '../../core/pipeline';
import {
  DEBEZIUM_KEYS,
  JDBC_PROPERTIES,
  PIPELINE_KEYS,
  ROUTE_KEYS,
  SINK_KEYS,
  SOURCE_KEYS,
  SOURCE_READER,
  TRANSFORM_KEYS,
  type KeySpec,
} from '../../core/pipeline/config/keys';
import { toSourceConfig } from '../../core/pipeline/runner/source';

const ROOT = join(import.meta.dirname, '..', '..');

type BlockName = 'source' | 'sink' | 'route' | 'transform' | 'pipeline';

const BASE: Record<BlockName, [string, string][]> = {
  source: [['type', 'mysql'], ['hostname', 'db.internal'], ['username', 'cdc'], ['password', 'pw'], ['tables', 'app.orders'], ['server-id', '"5400"']],
  sink: [['type', 'iceberg'], ['catalog.properties.type', 'hadoop'], ['catalog.properties.warehouse', '/tmp/lake']],
  route: [['source-table', 'app.orders'], ['sink-table', 'ods.orders']],
  transform: [['source-table', 'app.orders']],
  pipeline: [['name', 'keys']],
};

/**
 * A valid pipeline with one route and one transform; `extra` holds `key: value` lines per block,
 * which replace the base's value of the same key or are added after the base's keys.
 */
function pipelineText(extra: Partial<Record<BlockName, string>> = {}): string {
  const block = (b: BlockName) => {
    const entries = new Map(BASE[b]);
    for (const line of (extra[b] ?? '').split('\n').map((l) => l.trim()).filter(Boolean)) {
      const colon = line.indexOf(': ');
      entries.set(line.slice(0, colon), line.slice(colon + 2));
    }
    const list = b === 'route' || b === 'transform';
    return [...entries].map(([k, v], n) => `${list ? (n === 0 ? '  - ' : '    ') : '  '}${k}: ${v}`).join('\n');
  };
  return `source:\n${block('source')}\nsink:\n${block('sink')}\nroute:\n${block('route')}\ntransform:\n${block('transform')}\npipeline:\n${block('pipeline')}\n`;
}

/**
 * A value of each honoured key that differs from its default (`block.key`), or `validated` for a
 * key with a single accepted value, which only validation reads.
 */
const PROBES: Record<string, string> = {
  'source.type': 'mariadb',
  'source.hostname': 'db2.internal',
  'source.port': '3307',
  'source.username': 'cdc2',
  'source.password': 'pw2',
  'source.tables': 'app.orders2',
  'source.tables.exclude': 'app.tmp',
  'source.server-id': '6000',
  'source.scan.startup.mode': 'latest-offset',
  'source.scan.startup.specific-offset.file': 'SPECIFIC',
  'source.scan.startup.specific-offset.pos': 'SPECIFIC',
  'source.scan.startup.specific-offset.gtid-set': 'SPECIFIC',
  'source.scan.startup.specific-offset.skip-events': 'SPECIFIC',
  'source.scan.startup.specific-offset.skip-rows': 'SPECIFIC',
  'source.scan.startup.timestamp-millis': 'TIMESTAMP',
  'source.scan.incremental.snapshot.chunk.size': '100',
  'source.scan.newly-added-table.enabled': 'true',
  'source.scan.binlog.newly-added-table.enabled': 'true',
  'source.scan.parse.online.schema.changes.enabled': 'true',
  'source.schema-change.enabled': 'false',
  'source.heartbeat.interval': '5s',
  'source.connect.timeout': '5s',
  'source.connect.max-retries': '7',
  'source.server-time-zone': 'Asia/Shanghai',
  'source.metadata.list': 'op_ts',
  'source.treat-tinyint1-as-boolean.enabled': 'false',
  'source.tidemark.row-metadata': 'schema-history',
  'source.debezium.skipped.operations': 'c',
  'source.scan.incremental.snapshot.chunk.key-column': 'app.orders2:id',
  'source.jdbc.properties.connectTimeout': '1234',
  'source.jdbc.properties.useSSL': 'false',
  'source.jdbc.properties.requireSSL': 'true',
  'source.jdbc.properties.verifyServerCertificate': 'true',
  'source.jdbc.properties.sslMode': 'REQUIRED',
  'source.jdbc.properties.trustCertificateKeyStoreUrl': '/etc/ssl/certs/ca-certificates.crt',
  'sink.type': 'validated',
  'sink.catalog.properties.type': 'validated',
  'sink.catalog.properties.warehouse': '/tmp/lake2',
  'sink.catalog.properties.io-impl': 'validated',
  'sink.catalog.properties.s3.endpoint': 'http://127.0.0.1:9000',
  'sink.catalog.properties.s3.access-key-id': 'S3PAIR',
  'sink.catalog.properties.s3.secret-access-key': 'S3PAIR',
  'sink.catalog.properties.s3.path-style-access': 'true',
  'sink.catalog.properties.client.region': 'eu-west-1',
  'sink.catalog.properties.uri': 'http://127.0.0.1:8181/',
  'sink.catalog.properties.token': 'T0KEN',
  'sink.catalog.properties.credential': 'id:secret',
  'sink.partition.key': 'ods.orders:bucket[4](id)',
  'sink.sink.compaction.enabled': 'true',
  'sink.sink.compaction.commit.interval': '3',
  'sink.include.schema.changes': 'add.column',
  'sink.exclude.schema.changes': 'add.column',
  'sink.tidemark.expire-snapshots.max-age': '1d',
  'sink.tidemark.expire-snapshots.retain-last': '5',
  'sink.tidemark.remove-orphans.older-than': '3d',
  'route.source-table': 'app.orders2',
  'route.sink-table': 'ods.orders2',
  'route.replace-symbol': '<>',
  'route.tidemark.key.shard-columns': '__table_name__',
  'transform.source-table': 'app.orders2',
  'transform.projection': 'id',
  'transform.filter': 'id > 1',
  'transform.primary-keys': 'id',
  'transform.partition-keys': 'id',
  'transform.table-options': 'write.target-file-size-bytes=1048576',
  'pipeline.name': 'keys2',
  'pipeline.schema.change.behavior': 'evolve',
  'pipeline.route-mode': 'FIRST_MATCH',
  'pipeline.local-time-zone': 'Asia/Shanghai',
  'pipeline.transform.decimal.precision.mode': 'UP_TO_38',
  'pipeline.execution.checkpointing.interval': '5s',
  'pipeline.execution.runtime-mode': 'validated',
  'pipeline.tidemark.changelog.enabled': 'true',
  'pipeline.tidemark.status-file': '/tmp/status.json',
};

/** Keys that only make sense with another: the lines to add instead of `key: probe`. */
const CONTEXT: Record<string, string> = {
  SPECIFIC: 'scan.startup.mode: specific-offset',
  TIMESTAMP: 'scan.startup.mode: timestamp',
  // S3 credentials come as a pair: the base has both, the probe changes one.
  S3PAIR: 'catalog.properties.s3.access-key-id: AKID0\ncatalog.properties.s3.secret-access-key: SECRET0',
};
const SPECIFIC_VALUES: Record<string, string> = {
  'scan.startup.specific-offset.file': 'mysql-bin.000009',
  'scan.startup.specific-offset.pos': '99',
  'scan.startup.specific-offset.gtid-set': '0-1-9',
  'scan.startup.specific-offset.skip-events': '2',
  'scan.startup.specific-offset.skip-rows': '3',
  'catalog.properties.s3.access-key-id': 'AKID1',
  'catalog.properties.s3.secret-access-key': 'SECRET1',
};

interface Case {
  block: BlockName;
  spec: KeySpec;
  /** The key as written in YAML (prefix included). */
  key: string;
}

const CASES: Case[] = [
  ...SOURCE_KEYS.map((spec) => ({ block: 'source' as const, spec, key: spec.key })),
  ...DEBEZIUM_KEYS.map((spec) => ({ block: 'source' as const, spec, key: `debezium.${spec.key}` })),
  ...JDBC_PROPERTIES.map((spec) => ({ block: 'source' as const, spec, key: `jdbc.properties.${spec.key}` })),
  ...SINK_KEYS.map((spec) => ({ block: 'sink' as const, spec, key: spec.key })),
  ...ROUTE_KEYS.map((spec) => ({ block: 'route' as const, spec, key: spec.key })),
  ...TRANSFORM_KEYS.map((spec) => ({ block: 'transform' as const, spec, key: spec.key })),
  ...PIPELINE_KEYS.map((spec) => ({ block: 'pipeline' as const, spec, key: spec.key })),
];

const acting = (spec: KeySpec) => spec.effect === 'honoured' || spec.effect === 'tidemark';

/** The config with `key` set to its probe value (plus the keys it needs to mean anything). */
function probeConfigs(c: Case): { base: PipelineConfig; probe: PipelineConfig } {
  const probe = PROBES[`${c.block}.${c.key}`]!;
  const context = CONTEXT[probe];
  const baseLines = context ? [context] : [];
  const probeLines = context ? [context, `${c.key}: ${SPECIFIC_VALUES[c.key] ?? '1700000000000'}`] : [`${c.key}: ${probe}`];
  // specific-offset needs a position: the base gives a file and position, which a probe may replace.
  if (probe === 'SPECIFIC') {
    const position = ['scan.startup.specific-offset.file: mysql-bin.000001', 'scan.startup.specific-offset.pos: 4'];
    baseLines.push(...position);
    probeLines.splice(1, 0, ...position);
  }
  if (probe === 'TIMESTAMP') baseLines.push('scan.startup.timestamp-millis: 1');
  const parse = (lines: string[]) => {
    const result = validatePipeline(pipelineText({ [c.block]: lines.join('\n') }), { fileName: 'keys.yaml' });
    expect(result.errors, `${c.block}.${c.key}`).toEqual([]);
    return result.config!;
  };
  return { base: parse(baseLines), probe: parse(probeLines) };
}

/** Paths (`a.b.c`, indices dropped) whose values differ between `a` and `b`. */
function diffPaths(a: unknown, b: unknown, path: string[] = []): string[][] {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => diffPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [...path, k]));
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) return a.flatMap((x, i) => diffPaths(x, b[i], path));
  const same = JSON.stringify(a, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(b, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  return same ? [] : [path];
}

/** The text of a top-level function, class or arrow constant `path#name`: up to its closing brace at column 0. */
function readerText(reader: string): string {
  const [file, name] = reader.split('#') as [string, string];
  const src = readFileSync(join(ROOT, file), 'utf8');
  const m = new RegExp(`^(?:export )?(?:async )?(?:function\\*? ${name}\\b|const ${name} = |class ${name}\\b)`, 'm').exec(src);
  if (!m) throw new Error(`${reader}: no function ${name} in ${file}`);
  const rest = src.slice(m.index);
  const firstLine = rest.slice(0, rest.indexOf('\n'));
  if (firstLine.trimEnd().endsWith(';')) return firstLine;
  const end = rest.indexOf('\n}');
  return end < 0 ? rest : rest.slice(0, end + 2);
}

const readsField = (text: string, field: string) => new RegExp(`\\.${field}\\b|\\b${field}\\b\\s*[,}]`).test(text);

/** core/cdc sources except config.ts (which only resolves defaults): where a source field must be read. */
const CDC_TEXT = readdirSync(join(ROOT, 'core', 'cdc'), { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.ts') && f !== 'config.ts')
  .map((f) => readFileSync(join(ROOT, 'core', 'cdc', f), 'utf8'))
  .join('\n');

const CONTAINERS = new Set(['source', 'sink', 'routes', 'transforms', 'pipeline', 'tidemark', 'startup', 'text', 'regex']);

/** What is wrong with an acting key's claim (empty: its value reaches code that reads it). */
function problemsOf(c: Case): string[] {
  const where = `${c.block}.${c.key}`;
  const text = readerText(c.spec.reader!);
  if (PROBES[where] === 'validated') {
    // One accepted value: validation is its whole effect.
    return text.includes(`'${c.key}'`) ? [] : [`${where}: ${c.spec.reader} does not mention '${c.key}'`];
  }
  const { base, probe } = probeConfigs(c);
  const changed = diffPaths(base, probe);
  if (changed.length === 0) return [`${where}: does not change the parsed config`];
  if (c.spec.reader === SOURCE_READER) {
    // Handed to the CDC source: it must reach MySqlSourceConfig, and core/cdc must read it.
    const fields = diffPaths(toSourceConfig(base), toSourceConfig(probe));
    if (fields.length === 0) return [`${where}: toSourceConfig passes nothing of it on`];
    // Every field on the path (`startupMode.skipEvents`): nested options must be read too.
    const unread = [...new Set(fields.flat())].filter((f) => !readsField(CDC_TEXT, f));
    return unread.map((f) => `${where}: core/cdc never reads ${f}`);
  }
  // Any field on the changed path but the blocks and containers (`sourceTable` of `sourceTable.regex`).
  const fields = [...new Set(changed.flatMap((p) => p.filter((f) => /^[A-Za-z_]\w*$/.test(f) && !CONTAINERS.has(f))))];
  return fields.some((f) => readsField(text, f)) ? [] : [`${where}: ${c.spec.reader} reads none of ${fields.join(', ')}`];
}

describe('pipeline key table', () => {
  it('names a reader for every key it acts on and a reason for every key it does not', () => {
    for (const c of CASES) {
      const where = `${c.block}.${c.key}`;
      if (acting(c.spec)) {
        expect(c.spec.reader, where).toMatch(/^core\/.+\.ts#\w+$/);
        expect(PROBES[where], `${where}: add a probe value to PROBES`).toBeDefined();
      }
      if (c.spec.effect === 'ignored' || c.spec.effect === 'unsupported') expect(c.spec.reason?.length ?? 0, where).toBeGreaterThan(20);
    }
  });

  for (const c of CASES.filter((x) => acting(x.spec))) {
    it(`${c.block}.${c.key} is read by ${c.spec.reader}`, () => expect(problemsOf(c)).toEqual([]));
  }

  it('fails a key marked honoured that nothing reads', () => {
    const fake = (key: string, reader: string): Case => ({ block: 'source', key, spec: { key, kind: 'int', effect: 'honoured', reader } });
    PROBES['source.scan.snapshot.fetch.size'] = '99';
    PROBES['source.include-comments.enabled'] = 'true';
    try {
      expect(problemsOf(fake('scan.snapshot.fetch.size', SOURCE_READER))).toEqual(['source.scan.snapshot.fetch.size: toSourceConfig passes nothing of it on']);
      expect(problemsOf(fake('include-comments.enabled', 'core/pipeline/runner/run.ts#runPipeline'))).toEqual(['source.include-comments.enabled: core/pipeline/runner/run.ts#runPipeline reads none of includeComments']);
    } finally {
      delete PROBES['source.scan.snapshot.fetch.size'];
      delete PROBES['source.include-comments.enabled'];
    }
  });

  it('warns about every key it accepts without acting on, with the reason', () => {
    for (const c of CASES.filter((x) => x.spec.effect === 'ignored')) {
      const line = c.spec.kind === 'bool' ? `${c.key}: true` : c.spec.kind === 'int' ? `${c.key}: 5` : `${c.key}: x`;
      const result = validatePipeline(pipelineText({ [c.block]: line }), { fileName: 'keys.yaml' });
      const path = c.block === 'route' || c.block === 'transform' ? `${c.block}[0].${c.key}` : `${c.block}.${c.key}`;
      expect(result.warnings.map((w) => `${w.path}: ${w.message}`), path).toContain(`${path}: accepted but ignored: ${c.spec.reason}`);
    }
  });

  it('reports converter-after-transform as Unsupported, and unknown prefixed keys as ignored', () => {
    const result = validatePipeline(
      pipelineText({ transform: 'converter-after-transform: SOFT_DELETE', source: 'jdbc.properties.useCursorFetch: "true"\ndebezium.snapshot.mode: never', sink: 'catalog.properties.uri: thrift://x' }),
      { fileName: 'keys.yaml' },
    );
    expect(result.errors.map((e) => `${e.code} ${e.line} ${e.path}`)).toEqual(['Unsupported 20 transform[0].converter-after-transform']);
    expect(result.warnings.map((w) => `${w.line} ${w.path}`)).toEqual([
      '8 source.jdbc.properties.useCursorFetch',
      '9 source.debezium.snapshot.mode',
      '14 sink.catalog.properties.uri',
    ]);
  });

  it('maps jdbc.properties.connectTimeout (ms) unless connect.timeout is set', () => {
    const only = validatePipeline(pipelineText({ source: 'jdbc.properties.connecttimeout: "2500"' }), { fileName: 'k.yaml' });
    expect(only.config!.source.connectTimeoutMs).toBe(2500);
    expect(toSourceConfig(only.config!).connectTimeoutMs).toBe(2500);
    const both = validatePipeline(pipelineText({ source: 'jdbc.properties.connectTimeout: "2500"\nconnect.timeout: 4s' }), { fileName: 'k.yaml' });
    expect(both.config!.source.connectTimeoutMs).toBe(4000);
    expect(both.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual(['source.jdbc.properties.connectTimeout: ignored: connect.timeout is set and wins']);
    const bad = validatePipeline(pipelineText({ source: 'jdbc.properties.connectTimeout: soon' }), { fileName: 'k.yaml' });
    expect(bad.errors.map((e) => `${e.line}: ${e.path}: ${e.message}`)).toEqual(['8: source.jdbc.properties.connectTimeout: expected an integer, found "soon" (milliseconds)']);
  });

  it('validate --json lists ignored keys among the warnings, with the reason', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tidemark-keys-')), 'p.yaml');
    writeFileSync(file, pipelineText({ source: 'scan.snapshot.fetch.size: "512"\njdbc.properties.enabledTLSProtocols: "TLSv1.3"' }));
    const out: string[] = [];
    expect(await runCli(['validate', file, '--json'], { out: (t: string) => out.push(t), err: () => {} })).toBe(0);
    const json = JSON.parse(out.join('')) as { warnings: { line: number; path: string; message: string }[] };
    const reason = (path: string) => [...SOURCE_KEYS, ...JDBC_PROPERTIES.map((s) => ({ ...s, key: `jdbc.properties.${s.key}` }))].find((s) => `source.${s.key}` === path)!.reason;
    expect(json.warnings).toEqual([
      { code: 'InvalidInput', line: 8, path: 'source.scan.snapshot.fetch.size', message: `accepted but ignored: ${reason('source.scan.snapshot.fetch.size')}` },
      { code: 'InvalidInput', line: 9, path: 'source.jdbc.properties.enabledTLSProtocols', message: `accepted but ignored: ${reason('source.jdbc.properties.enabledTLSProtocols')}` },
    ]);
  });
});
