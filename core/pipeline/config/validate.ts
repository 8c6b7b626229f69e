import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type YAMLMap } from 'yaml';
import { isTidemarkError, TidemarkError } from '../../errors';
import { CATALOG_OTHER_REASON, PIPELINE_KEYS, PREFIX_KEYS, ROUTE_KEYS, SINK_KEYS, TOP_LEVEL_KEYS, TRANSFORM_KEYS } from './keys';
import { getBool, getList, getNumber, getString, Issues, lineOfKey, readBlock, reportPrefixed, type Block, type ReadContext } from './read';
import type { ConfigIssue, PipelineConfig, PipelineOptions, SchemaChangeBehavior, SinkConfig, TablePattern, ValidationResult } from './types';
import { parseShardColumns, parseTableOptions, parseTimeZone, splitList } from './values';
import { readSinkStorage } from './sink-storage';
import { readSource } from './source';
import { readPaimonSink } from './paimon-sink';
import { readPartitionKeys, readSchemaChanges } from './sink-common';
import { compileTablePattern, countGroups, highestGroupReference } from './table-pattern';
import { compileFilter, compileProjection } from '../transform';
import { unknownKeyMessage } from './suggest';
import { PARQUET_CODEC_NAMES, parquetCodecName, PROPERTY_PARQUET_CODEC } from '../../lake/write';

export interface ValidateOptions {
  /** Shown in messages (`pipeline.yaml:12: …`). */
  fileName: string;
  /** Where `${env:NAME}` references are looked up; inject `process.env` at the edge. */
  env?: Record<string, string | undefined>;
  /** Folder that a relative warehouse path is resolved against (the YAML file's folder). */
  baseDir?: string;
}

/** `pipeline.yaml:12: route[1].source-table: invalid regex "(": Unterminated group` */
export function formatIssue(fileName: string, issue: ConfigIssue): string {
  return `${fileName}:${issue.line}: ${issue.path}: ${issue.message}`;
}

/** Parses YAML keeping positions; the Document is also what export-flink edits. */
export function parsePipelineDocument(text: string): { doc: Document; lines: LineCounter } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { doc, lines };
}

function topLevel(doc: Document, issues: Issues): Map<string, { node: unknown; line: number }> {
  const blocks = new Map<string, { node: unknown; line: number }>();
  if (!isMap(doc.contents)) {
    issues.error(1, '(file)', 'expected a YAML map with source, sink and pipeline blocks');
    return blocks;
  }
  for (const pair of (doc.contents as YAMLMap).items) {
    const keyNode = pair.key as Node;
    const key = isScalar(keyNode) ? String(keyNode.value) : '';
    const line = issues.lineOf(keyNode);
    if (key === 'model') {
      issues.error(line, key, 'AI model definitions run Java/remote code inside Flink; Tidemark does not support them', 'Unsupported');
    } else if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) {
      issues.error(line, key, unknownKeyMessage(key, TOP_LEVEL_KEYS));
    } else {
      blocks.set(key, { node: pair.value, line });
    }
  }
  return blocks;
}

function readPipeline(entry: { node: unknown; line: number } | undefined, ctx: ReadContext): { options: PipelineOptions; block: Block | null } {
  const defaults: PipelineOptions = {
    name: 'Flink CDC Pipeline Job',
    parallelism: 1,
    schemaChangeBehavior: 'lenient',
    routeMode: 'ALL_MATCH',
    localTimeZone: null,
    transformDecimalPrecisionMode: 'UP_TO_19',
    checkpointIntervalMs: 30_000,
    tidemark: { changelogEnabled: false, statusFile: null },
  };
  if (!entry || entry.node === null || (isMap(entry.node) && (entry.node as YAMLMap).items.length === 0)) {
    ctx.issues.warn(entry?.line ?? 1, 'pipeline', 'Flink CDC requires a non-empty pipeline block; export-flink adds one');
    return { options: defaults, block: null };
  }
  const b = readBlock(entry.node, 'pipeline', entry.line, PIPELINE_KEYS, [], ctx, ['user-defined-function', 'model']);
  for (const key of ['user-defined-function', 'model']) {
    if (b.keys.includes(key)) {
      const what = key === 'model' ? 'AI models' : 'user-defined functions';
      ctx.issues.error(lineOfKey(b, key), `pipeline.${key}`, `${what} are Java classes loaded into Flink; Tidemark does not support them`, 'Unsupported');
    }
  }
  if (getString(b, 'execution.runtime-mode') === 'BATCH') {
    ctx.issues.error(lineOfKey(b, 'execution.runtime-mode'), 'pipeline.execution.runtime-mode', 'BATCH is not supported: Tidemark runs pipelines as STREAMING; for a one-off copy use source scan.startup.mode: snapshot', 'Unsupported');
  }
  let localTimeZone: string | null = null;
  const tz = getString(b, 'local-time-zone');
  if (tz !== null && tz !== 'systemDefault') {
    const parsed = parseTimeZone(tz);
    if ('error' in parsed) ctx.issues.error(lineOfKey(b, 'local-time-zone'), 'pipeline.local-time-zone', parsed.error);
    else localTimeZone = parsed.value;
  }
  const interval = getNumber(b, 'execution.checkpointing.interval', defaults.checkpointIntervalMs);
  if (interval <= 0) ctx.issues.error(lineOfKey(b, 'execution.checkpointing.interval'), 'pipeline.execution.checkpointing.interval', 'expected a positive duration, found 0');
  return {
    block: b,
    options: {
      name: getString(b, 'name') ?? defaults.name,
      parallelism: getNumber(b, 'parallelism', 1),
      schemaChangeBehavior: (getString(b, 'schema.change.behavior') ?? 'lenient') as SchemaChangeBehavior,
      routeMode: (getString(b, 'route-mode') ?? 'ALL_MATCH') as PipelineOptions['routeMode'],
      localTimeZone,
      transformDecimalPrecisionMode: (getString(b, 'transform.decimal.precision.mode') ?? 'UP_TO_19').toUpperCase() as PipelineOptions['transformDecimalPrecisionMode'],
      checkpointIntervalMs: interval,
      tidemark: {
        changelogEnabled: getBool(b, 'tidemark.changelog.enabled', false),
        statusFile: getString(b, 'tidemark.status-file'),
      },
    },
  };
}

/**
 * `table.properties.format-version` picks the format of tables the sink creates: 2 (default) or 3
 * (row lineage; the sink's compaction keeps each row's _row_id, core/lake/write/compact.ts).
 */
function checkFormatVersion(b: Block, ctx: ReadContext): void {
  const version = b.prefixed.get('table.properties.')?.['format-version'];
  if (version === undefined) return;
  const line = lineOfKey(b, 'table.properties.format-version');
  if (version.trim() !== '2' && version.trim() !== '3') ctx.issues.error(line, 'sink.table.properties.format-version', `expected 2 or 3, found ${JSON.stringify(version)}`);
}

/** `table.properties.write.parquet.compression-codec`: a codec Tidemark writes (core/lake/write/codec-names.ts). */
function checkParquetCodec(b: Block, ctx: ReadContext): void {
  const codec = b.prefixed.get('table.properties.')?.[PROPERTY_PARQUET_CODEC];
  if (codec === undefined || parquetCodecName(codec) !== null) return;
  const line = lineOfKey(b, `table.properties.${PROPERTY_PARQUET_CODEC}`);
  const lzo = codec.trim().toLowerCase() === 'lzo';
  ctx.issues.error(line, `sink.table.properties.${PROPERTY_PARQUET_CODEC}`, `${lzo ? 'lzo cannot be written by Tidemark' : `found ${JSON.stringify(codec)}`}: expected one of ${PARQUET_CODEC_NAMES.join(', ')}`, lzo ? 'Unsupported' : undefined);
}

function readSink(entry: { node: unknown; line: number }, behavior: SchemaChangeBehavior, ctx: ReadContext, baseDir: string | undefined): SinkConfig | null {
  const typeNode = isMap(entry.node) ? ((entry.node as YAMLMap).get('type', true) as Node | undefined) : undefined;
  const type = typeNode && isScalar(typeNode) ? String(typeNode.value).trim().toLowerCase() : null;
  if (type === 'paimon') return readPaimonSink(entry, behavior, ctx, baseDir);
  if (type !== null && type !== 'iceberg') {
    // Other sinks have their own keys; checking them against Iceberg's would only add noise.
    ctx.issues.error(ctx.issues.lineOf(typeNode), 'sink.type', `sink type ${JSON.stringify(type)} is not supported: Tidemark writes Apache Iceberg (type: iceberg) and Apache Paimon (type: paimon) tables`, 'Unsupported');
    return null;
  }
  const b = readBlock(entry.node, 'sink', entry.line, SINK_KEYS, PREFIX_KEYS.sink, ctx);
  const catalogType = getString(b, 'catalog.properties.type');
  if (catalogType !== null && !['hadoop', 'rest'].includes(catalogType.toLowerCase())) {
    ctx.issues.error(lineOfKey(b, 'catalog.properties.type'), 'sink.catalog.properties.type', `catalog type ${JSON.stringify(catalogType)} is not supported: Tidemark writes a hadoop catalog (a folder or s3://) or an Iceberg REST catalog (catalog.properties.type: hadoop or rest)`, 'Unsupported');
  }
  const rest = catalogType?.toLowerCase() === 'rest';
  const { warehouse, s3, rest: restSettings, stateDir } = readSinkStorage(b, ctx, baseDir, rest);
  const partitionKeys = readPartitionKeys(b, ctx);
  checkFormatVersion(b, ctx);
  checkParquetCodec(b, ctx);
  reportPrefixed(b, 'catalog.properties.', [], CATALOG_OTHER_REASON, ctx);
  const catalogProperties = { ...(b.prefixed.get('catalog.properties.') ?? {}) };
  delete catalogProperties.type;
  delete catalogProperties.warehouse;
  return {
    type: 'iceberg',
    name: getString(b, 'name'),
    catalogType: rest ? 'rest' : 'hadoop',
    rest: restSettings,
    warehouse,
    s3,
    stateDir,
    catalogProperties,
    partitionKeys,
    tableProperties: b.prefixed.get('table.properties.') ?? {},
    compactionEnabled: getBool(b, 'sink.compaction.enabled', false),
    compactionCommitInterval: getNumber(b, 'sink.compaction.commit.interval', 10),
    schemaChanges: readSchemaChanges(b, behavior, ctx),
    tidemark: {
      expireSnapshotsMaxAgeMs: b.values.has('tidemark.expire-snapshots.max-age') ? getNumber(b, 'tidemark.expire-snapshots.max-age', 0) : null,
      expireSnapshotsRetainLast: getNumber(b, 'tidemark.expire-snapshots.retain-last', 1),
      removeOrphansOlderThanMs: b.values.has('tidemark.remove-orphans.older-than') ? getNumber(b, 'tidemark.remove-orphans.older-than', 0) : null,
    },
    paimon: null,
  };
}

function listItems(entry: { node: unknown; line: number } | undefined, name: string, issues: Issues): { node: unknown; line: number; path: string }[] {
  if (!entry || entry.node === null) return [];
  if (!isSeq(entry.node)) {
    issues.error(entry.line, name, `expected a list of rules (each starting with "- source-table:"), found ${isMap(entry.node) ? 'a map' : 'a value'}`);
    return [];
  }
  return entry.node.items.map((item, i) => ({ node: item, line: issues.lineOf(item as Node), path: `${name}[${i}]` }));
}

function tablePattern(b: Block, key: string, ctx: ReadContext): TablePattern | null {
  const text = getString(b, key);
  if (text === null) return null;
  const compiled = compileTablePattern(text);
  if ('error' in compiled) {
    ctx.issues.error(lineOfKey(b, key), `${b.path}.${key}`, compiled.error);
    return null;
  }
  return compiled.pattern;
}

/**
 * Validates a Flink CDC 3.x pipeline YAML text. Never throws for bad input: every problem is an
 * issue with its line and key path. `config` is null when there is any error.
 */
export function validatePipeline(text: string, options: ValidateOptions): ValidationResult {
  const { doc, lines } = parsePipelineDocument(text);
  const issues = new Issues(lines);
  const ctx: ReadContext = { issues, env: options.env ?? {} };
  for (const e of doc.errors) {
    const line = lines.linePos(e.pos[0]).line;
    const message = e.code === 'MULTIPLE_DOCS' ? 'expected one YAML document, found several (separated by ---)' : e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    issues.error(line, 'yaml', message);
  }
  if (doc.errors.length > 0) return { config: null, errors: issues.errors, warnings: issues.warnings };
  const blocks = topLevel(doc, issues);
  for (const required of ['source', 'sink'] as const) {
    if (!blocks.has(required) && isMap(doc.contents)) issues.error(1, required, `missing required block ${JSON.stringify(required)}`);
  }
  const pipeline = readPipeline(blocks.get('pipeline'), ctx);
  const sourceEntry = blocks.get('source');
  const source = sourceEntry ? readSource(sourceEntry, ctx) : null;
  const sinkEntry = blocks.get('sink');
  const sink = sinkEntry ? readSink(sinkEntry, pipeline.options.schemaChangeBehavior, ctx, options.baseDir) : null;

  const routes: PipelineConfig['routes'] = [];
  for (const item of listItems(blocks.get('route'), 'route', issues)) {
    const b = readBlock(item.node, item.path, item.line, ROUTE_KEYS, [], ctx);
    const sourceTable = tablePattern(b, 'source-table', ctx);
    const sinkTable = getString(b, 'sink-table');
    const replaceSymbol = getString(b, 'replace-symbol');
    if (replaceSymbol === '') issues.error(lineOfKey(b, 'replace-symbol'), `${item.path}.replace-symbol`, 'must not be empty');
    if (sinkTable !== null && replaceSymbol && !sinkTable.includes(replaceSymbol)) {
      issues.warn(lineOfKey(b, 'replace-symbol'), `${item.path}.replace-symbol`, `${JSON.stringify(replaceSymbol)} does not occur in sink-table ${JSON.stringify(sinkTable)}`);
    }
    if (sinkTable !== null && sourceTable && !replaceSymbol) {
      const highest = highestGroupReference(sinkTable);
      const groups = countGroups(sourceTable.regex);
      if (highest > groups) {
        issues.error(lineOfKey(b, 'sink-table'), `${item.path}.sink-table`, `refers to $${highest} but source-table ${JSON.stringify(sourceTable.text)} has ${groups} capture group(s)`);
      } else if (highest === 0 && sinkTable.split('.').length !== 2) {
        issues.error(lineOfKey(b, 'sink-table'), `${item.path}.sink-table`, `expected <namespace>.<table>, found ${JSON.stringify(sinkTable)}`);
      }
    }
    let shardColumns: PipelineConfig['routes'][number]['tidemark']['shardColumns'] = [];
    const shard = getList(b, 'tidemark.key.shard-columns');
    if (shard !== null) {
      const parsed = parseShardColumns(shard);
      if ('error' in parsed) issues.error(lineOfKey(b, 'tidemark.key.shard-columns'), `${item.path}.tidemark.key.shard-columns`, parsed.error);
      else shardColumns = parsed.value;
    }
    if (sourceTable && sinkTable !== null) {
      routes.push({ sourceTable, sinkTable, replaceSymbol, description: getString(b, 'description'), tidemark: { shardColumns } });
    }
  }

  const transforms: PipelineConfig['transforms'] = [];
  for (const item of listItems(blocks.get('transform'), 'transform', issues)) {
    const b = readBlock(item.node, item.path, item.line, TRANSFORM_KEYS, [], ctx);
    const sourceTable = tablePattern(b, 'source-table', ctx);
    const metadata = new Set<string>();
    for (const key of ['projection', 'filter'] as const) {
      const t = getString(b, key);
      if (t === null) continue;
      try {
        const compiled = key === 'projection' ? compileProjection(t) : compileFilter(t);
        compiled.metadataColumns.forEach((m) => metadata.add(m));
      } catch (e) {
        if (!isTidemarkError(e)) throw e;
        issues.error(lineOfKey(b, key), `${item.path}.${key}`, e.message, e.code);
      }
    }
    if (metadata.has('op_ts') && source && !source.metadataList.includes('op_ts')) {
      issues.error(b.line, item.path, 'reads op_ts, but the source does not provide it: add metadata.list: op_ts to the source block');
    }
    let tableOptions = {};
    const to = getString(b, 'table-options');
    if (to !== null) {
      const parsed = parseTableOptions(to);
      if ('error' in parsed) issues.error(lineOfKey(b, 'table-options'), `${item.path}.table-options`, parsed.error);
      else tableOptions = parsed.value;
    }
    const keys = (k: string) => {
      const v = getString(b, k);
      return v === null ? null : splitList(v);
    };
    if (sourceTable) {
      transforms.push({
        sourceTable,
        projection: getString(b, 'projection'),
        filter: getString(b, 'filter'),
        primaryKeys: keys('primary-keys'),
        partitionKeys: keys('partition-keys'),
        tableOptions,
        converterAfterTransform: getString(b, 'converter-after-transform') as 'SOFT_DELETE' | null,
        description: getString(b, 'description'),
      });
    }
  }

  if (sink?.type === 'paimon' && pipeline.options.tidemark.changelogEnabled) {
    const line = pipeline.block ? lineOfKey(pipeline.block, 'tidemark.changelog.enabled') : 1;
    issues.error(line, 'pipeline.tidemark.changelog.enabled', "the audit changelog table is written beside Iceberg targets; a Paimon table keeps its own changelog (sink table.properties.changelog-producer: input, read as the table's $audit_log)", 'Unsupported');
  }
  const sorted = (list: ConfigIssue[]) => [...list].sort((a, b) => a.line - b.line);
  const errors = sorted(issues.errors);
  const config = errors.length === 0 && source && sink ? { source, sink, routes, transforms, pipeline: pipeline.options } : null;
  return { config, errors, warnings: sorted(issues.warnings) };
}

/**
 * Validates and returns the config, or throws one TidemarkError whose message lists every error
 * (one per line, formatted by formatIssue). The code is Unsupported when every error is
 * Unsupported (e.g. only the sink type), InvalidInput otherwise.
 */
export function loadPipelineConfig(text: string, options: ValidateOptions): { config: PipelineConfig; warnings: ConfigIssue[] } {
  const result = validatePipeline(text, options);
  if (result.config === null) {
    const code = result.errors.length > 0 && result.errors.every((e) => e.code === 'Unsupported') ? 'Unsupported' : 'InvalidInput';
    const first = result.errors[0];
    throw new TidemarkError(code, result.errors.map((e) => formatIssue(options.fileName, e)).join('\n'), {
      file: options.fileName,
      errors: result.errors.length,
      line: first?.line ?? null,
      path: first?.path ?? null,
    });
  }
  return { config: result.config, warnings: result.warnings };
}
