import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { encodeOffset, type SourceOffset } from '../../../cdc';
import { TidemarkError } from '../../../errors';
import { readPaimonSchema, type PaimonSchema } from '../../../lake/paimon';
import { createPaimonTable } from '../../../lake/paimon/write';
import type { WriteEnv } from '../../../lake/write';
import { createLocalStorage } from '../../../storage/node/index';
import type { PipelineConfig } from '../../config/types';
import { PROPERTY_START_OFFSET, PROPERTY_START_PIPELINE } from '../../runner/offsets';
import { TableBuffer } from '../buffer';
import type { SinkTarget } from '../port';
import type { TargetColumn, TargetDesign } from '../schema';
import { readPaimonOffset } from './offsets';
import { readPaimonSnapshotsNewestFirst } from './snapshots';
import { fromIceberg, paimonTypeOf } from './types';

/** A Paimon primary-key table the pipeline writes: the port's target and its lake state. */
export interface PaimonTargetState extends SinkTarget {
  root: string;
  schema: PaimonSchema;
  /** The last commit identifier of the sink's `commit.user` in this table (0 before its first commit). */
  commitIdentifier: bigint;
}

const storage = createLocalStorage();

/** Where a target lives: Paimon's filesystem catalog lays a table out as `<warehouse>/<database>.db/<table>`. */
export function paimonTableRoot(warehouse: string, db: string, table: string): string {
  return join(warehouse, `${db}.db`, table);
}

/** Whether `root` holds a Paimon table (a published schema-N file). */
export function hasPaimonSchema(root: string): boolean {
  const dir = join(root, 'schema');
  return existsSync(dir) && readdirSync(dir).some((f) => /^schema-\d+$/.test(f));
}

/**
 * The options of a created table: the sink's `table.properties.*` under a transform rule's
 * `table-options` (the more specific). Flink CDC passes them to Paimon as they are.
 */
export function paimonTableOptions(config: PipelineConfig, design: TargetDesign): Record<string, string> {
  return { ...config.sink.tableProperties, ...design.properties };
}

/** A table's columns as the runner sees them: Iceberg-typed (the buffer's value forms), from the Paimon schema. */
function columnsOf(schema: PaimonSchema): TargetColumn[] {
  // `decimal(10, 2)` as the source side spells it (`decimal(10,2)`), so schema changes compare equal.
  return schema.fields.map((f) => ({ name: f.name, type: typeof f.type === 'string' ? f.type.replace(/,\s+/, ',') : 'string', required: schema.primaryKeys.includes(f.name) }));
}

/**
 * Opens a target, creating it when absent with the design's columns (Flink CDC's type mapping,
 * types.ts), primary key, partition keys and options, and the offset it starts from as the
 * options `tidemark.start-offset` / `tidemark.start-pipeline` (Paimon keeps unknown options).
 */
export async function openPaimonTarget(config: PipelineConfig, design: TargetDesign, shardColumns: string[], insertsMayCollide: boolean, startOffset: SourceOffset | null, env: WriteEnv): Promise<PaimonTargetState> {
  const [db, table] = design.id.split('.') as [string, string];
  const root = paimonTableRoot(config.sink.warehouse, db, table);
  const pipeline = config.pipeline.name;
  if (design.key.length === 0) {
    throw new TidemarkError('Unsupported', `${design.id}: Paimon sink tables need a primary key (as Flink CDC's Paimon connector): the source table has none; set primary-keys in a transform rule`, { table: design.id });
  }
  if (!hasPaimonSchema(root)) {
    const options = paimonTableOptions(config, design);
    if (startOffset) {
      options[PROPERTY_START_OFFSET] = encodeOffset(startOffset);
      options[PROPERTY_START_PIPELINE] = pipeline;
    }
    try {
      await createPaimonTable(
        root,
        {
          columns: design.columns.map((c) => ({ name: c.name, type: paimonTypeOf(c, design.id) })),
          primaryKeys: design.key,
          partitionKeys: design.partitionBy.map((p) => p.column),
          options,
        },
        env,
      );
    } catch (e) {
      // Another pipeline created the same target between the check and the create: use it.
      if (!(e instanceof TidemarkError && e.code === 'CommitConflict')) {
        // The table's description was refused (e.g. a partition key outside the primary key): say which target.
        if (e instanceof TidemarkError && e.code === 'InvalidInput') throw new TidemarkError(e.code, `${design.id}: ${e.message}`, { ...e.context, table: design.id }, e);
        throw e;
      }
    }
  }
  const schema = await readPaimonSchema(storage, root);
  if (schema.primaryKeys.join(',') !== design.key.join(',')) {
    throw new TidemarkError('InvalidInput', `${root}: the existing Paimon table's primary key is (${schema.primaryKeys.join(', ')}), the pipeline's target key is (${design.key.join(', ')})`, { path: root });
  }
  const { offset } = await readPaimonOffset(storage, root, pipeline);
  const columns = columnsOf(schema);
  return {
    id: design.id,
    root,
    schema,
    columns,
    key: schema.primaryKeys,
    committed: offset,
    commitIdentifier: await lastIdentifier(root, config.sink.paimon!.commitUser),
    design,
    shardColumns,
    insertsMayCollide,
    buffer: newBuffer(design.id, schema.primaryKeys, columns),
    changelog: null,
    pendingChangelog: [],
    newestOpTsMs: null,
  };
}

/** The newest commit identifier of `user` in the table (Paimon's exactly-once: each commit's is larger), 0 when none. */
async function lastIdentifier(root: string, user: string): Promise<bigint> {
  for await (const s of readPaimonSnapshotsNewestFirst(storage, root)) {
    // A standalone compaction may use Paimon's batch identifier (Long.MAX_VALUE): data commits decide.
    if (s.commitUser === user && s.commitKind !== 'COMPACT') return s.commitIdentifier;
  }
  return 0n;
}

/** Re-reads a target's schema after a change, refreshing its columns and starting its buffer over. */
export async function refreshSchema(t: PaimonTargetState): Promise<void> {
  t.schema = await readPaimonSchema(storage, t.root);
  t.columns = columnsOf(t.schema);
  if (!t.buffer.empty) throw new TidemarkError('Internal', `${t.id}: schema change with ${t.buffer.changes} changes still buffered`, { table: t.id });
  t.buffer = newBuffer(t.id, t.key, t.columns);
}

/** A target's buffer: deletes keep their whole before image (Paimon stores a retraction as a row). */
function newBuffer(id: string, key: string[], columns: TargetColumn[]): TableBuffer {
  const b = new TableBuffer(id, key, columns);
  b.wholeDeletes = true;
  return b;
}

export { fromIceberg };
