import { join } from 'node:path';
import { parsePaimonDuration } from '../../lake/paimon/write';
import { isTidemarkError } from '../../errors';
import { PAIMON_OTHER_OPTION_REASON, PAIMON_SINK_KEYS, PAIMON_TABLE_PROPERTIES, PREFIX_KEYS } from './keys';
import { getString, lineOfKey, readBlock, type Block, type ReadContext } from './read';
import type { SchemaChangeBehavior, SinkConfig } from './types';
import { readLocalWarehouse, readPartitionKeys, readSchemaChanges } from './sink-common';

const CATALOG_REASON = 'a filesystem catalog needs only catalog.properties.metastore and catalog.properties.warehouse; Tidemark reads no other catalog property';

/**
 * A `sink.type: paimon` block, with the keys of Flink CDC's Paimon pipeline connector: a
 * filesystem catalog in a local folder, `commit.user`, `partition.key` (plain columns) and
 * `table.properties.*` (Paimon table options of the created tables), checked here against what
 * Tidemark's Paimon writer (core/lake/paimon/write) writes so a sync never starts on a table it
 * would refuse.
 */
export function readPaimonSink(entry: { node: unknown; line: number }, behavior: SchemaChangeBehavior, ctx: ReadContext, baseDir: string | undefined): SinkConfig {
  const b = readBlock(entry.node, 'sink', entry.line, PAIMON_SINK_KEYS, PREFIX_KEYS.sink, ctx);
  const metastore = getString(b, 'catalog.properties.metastore') ?? 'filesystem';
  if (metastore.toLowerCase() !== 'filesystem') {
    ctx.issues.error(lineOfKey(b, 'catalog.properties.metastore'), 'sink.catalog.properties.metastore', `metastore ${JSON.stringify(metastore)} is not supported: Tidemark writes a Paimon filesystem catalog (catalog.properties.metastore: filesystem)`, 'Unsupported');
  }
  for (const [suffix] of Object.entries(b.prefixed.get('catalog.properties.') ?? {})) {
    ctx.issues.warn(lineOfKey(b, `catalog.properties.${suffix}`), `sink.catalog.properties.${suffix}`, `accepted but ignored: ${CATALOG_REASON}`);
  }
  const warehouse = readLocalWarehouse(b, ctx, baseDir, 'Tidemark writes Paimon tables to a local folder (a path or file:// URI)');
  const partitionKeys = readPartitionKeys(b, ctx);
  for (const [table, fields] of Object.entries(partitionKeys)) {
    for (const f of fields) {
      if (f.transform !== 'identity') {
        ctx.issues.error(lineOfKey(b, 'partition.key'), 'sink.partition.key', `${table}: Paimon partitions by plain columns, found ${f.transform}(${f.sourceColumn})`);
      }
    }
  }
  const tableProperties = b.prefixed.get('table.properties.') ?? {};
  checkTableProperties(b, tableProperties, ctx);
  return {
    type: 'paimon',
    name: getString(b, 'name'),
    catalogType: 'hadoop',
    rest: { uri: null, token: null, credential: null },
    warehouse,
    s3: { endpoint: null, region: null, pathStyle: null, accessKeyId: null, secretAccessKey: null },
    stateDir: join(warehouse, '.tidemark'),
    catalogProperties: {},
    partitionKeys,
    tableProperties,
    compactionEnabled: false,
    compactionCommitInterval: 10,
    schemaChanges: readSchemaChanges(b, behavior, ctx),
    tidemark: { expireSnapshotsMaxAgeMs: null, expireSnapshotsRetainLast: 1, removeOrphansOlderThanMs: null },
    paimon: { commitUser: getString(b, 'commit.user') ?? 'admin', metastore: 'filesystem' },
  };
}

/** What Tidemark's Paimon writer refuses, said at validate time (the writer's own checks stay: a table made elsewhere). */
const REFUSED: Record<string, (value: string) => string | null> = {
  bucket: (v) => {
    const n = Number(v);
    if (n === -2) return 'bucket -2 (postpone bucket) is not written: set a fixed bucket count N >= 1, or -1 (dynamic bucket)';
    return n >= 1 || n === -1 ? null : `expected a bucket count N >= 1 or -1 (dynamic bucket), found ${v}`;
  },
  'dynamic-bucket.max-buckets': (v) => (Number(v) === 0 ? 'expected -1 (no limit) or a bucket count between 1 and 32767, found 0' : null),
  'file.format': (v) => (v.toLowerCase() === 'parquet' ? null : `file.format ${v} is not written: Tidemark writes Parquet data files (file.format: parquet)`),
  'manifest.format': (v) => (v.toLowerCase() === 'avro' ? null : `manifest.format ${v} is not written: Tidemark writes Avro manifests`),
  'changelog-producer': (v) => (['none', 'input', 'lookup'].includes(v.toLowerCase()) ? null : `changelog-producer ${v} is not written yet (none, input and lookup are)`),
  'merge-engine': (v) => (v.toLowerCase() === 'deduplicate' ? null : `merge-engine ${v} is not written (deduplicate is)`),
  'sequence.field': () => 'sequence.field is not written: rows are ordered by the source change order',
  'deletion-vectors.bitmap64': (v) => (v === 'true' ? '64-bit deletion vectors are not written (32-bit ones are)' : null),
};

function checkTableProperties(b: Block, props: Record<string, string>, ctx: ReadContext): void {
  const where = (k: string) => ({ line: lineOfKey(b, `table.properties.${k}`), path: `sink.table.properties.${k}` });
  // No bucket: Paimon's default for a primary-key table, -1 (dynamic bucket), as Flink CDC creates it.
  if (props.bucket !== undefined && Number(props.bucket) === -1 && props['bucket-key'] !== undefined) {
    ctx.issues.error(where('bucket-key').line, 'sink.table.properties.bucket-key', 'bucket-key cannot be set with bucket -1 (dynamic bucket), as Paimon refuses: remove it or set a bucket count');
  }
  for (const [key, value] of Object.entries(props)) {
    const spec = PAIMON_TABLE_PROPERTIES.find((s) => s.key === key);
    const w = where(key);
    if (!spec) {
      ctx.issues.warn(w.line, w.path, `accepted: ${PAIMON_OTHER_OPTION_REASON}`);
      continue;
    }
    const bad = checkValue(spec.kind, value, spec.values, spec.min, key);
    if (bad) {
      ctx.issues.error(w.line, w.path, bad);
      continue;
    }
    const refused = REFUSED[key]?.(value) ?? null;
    if (refused) ctx.issues.error(w.line, w.path, refused, 'Unsupported');
  }
}

function checkValue(kind: string, value: string, values: readonly string[] | undefined, min: number | undefined, key: string): string | null {
  if (kind === 'int') {
    if (!/^-?\d+$/.test(value.trim())) return `expected an integer, found ${JSON.stringify(value)}`;
    if (min !== undefined && Number(value) < min) return `expected at least ${min}, found ${value}`;
  }
  if (kind === 'bool' && !['true', 'false'].includes(value.toLowerCase())) return `expected true or false, found ${JSON.stringify(value)}`;
  if (kind === 'enum' && values && !values.includes(value.toLowerCase())) return `expected one of ${values.join(', ')}, found ${JSON.stringify(value)}`;
  if (key === 'snapshot.time-retained') {
    try {
      parsePaimonDuration(value, key);
    } catch (e) {
      if (!isTidemarkError(e)) throw e;
      return e.message;
    }
  }
  return null;
}
