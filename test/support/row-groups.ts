/**
 * Generated Iceberg tables for the lazy-reader property tests: data files written with tiny row
 * groups and pages (so windows start and end inside them and read pages through the offset index),
 * and a random history of appends, upserts, equality deletes and position deletes.
 */
import fc from 'fast-check';
import { tableToIPC } from 'apache-arrow';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { FILE_CONTENT, loadTable, planScan, type DataFile } from '../../core/lake';
import { applyRowDelta, commitSnapshot, computeMetrics, createTable, currentSchema, rowsToArrow, seededWriteEnv, type WriteEnv } from '../../core/lake/write';
import { createLocalStorage } from '../../core/storage/node';

const storage = createLocalStorage();

/**
 * Appends `rows` as one data file whose row groups hold `groupRows` rows each, in data pages of
 * about `pageRows` rows (null: the writer's default pages).
 */
export async function appendInRowGroups(root: string, rows: Record<string, unknown>[], groupRows: number, pageRows: number | null, name: string): Promise<void> {
  const table = await loadTable(storage, root);
  const arrow = rowsToArrow(currentSchema(table.metadata), rows);
  let props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).setMaxRowGroupSize(groupRows);
  if (pageRows !== null) props = props.setWriteBatchSize(pageRows).setDataPageSizeLimit(1);
  const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(arrow, 'stream')), props.build());
  const path = join(root, 'data', `${name}.parquet`);
  await writeFile(path, bytes);
  const m = computeMetrics(arrow);
  const file: DataFile = {
    content: FILE_CONTENT.data, filePath: path, fileFormat: 'PARQUET', partition: [], recordCount: m.recordCount, fileSizeInBytes: bytes.length, columnSizes: null,
    valueCounts: m.valueCounts, nullValueCounts: m.nullValueCounts, nanValueCounts: m.nanValueCounts, lowerBounds: m.lowerBounds, upperBounds: m.upperBounds,
    splitOffsets: null, equalityIds: null, sortOrderId: 0, referencedDataFile: null,
  };
  await commitSnapshot(root, async () => ({ operation: 'append', addedDataFiles: [file] }));
}

export type GeneratedOp =
  | { kind: 'append'; ids: number[]; groupRows: number; pageRows: number }
  | { kind: 'upsert'; ids: number[] }
  | { kind: 'delete'; ids: number[] }
  | { kind: 'position'; picks: number[] };

/** Ops over keys 0..maxId: appends (keys may repeat), upserts, equality deletes, position deletes. */
export function generatedOps(o: { maxId: number; appendIds: number; appendWeight: number; maxPageRows: number; deletes: number; picks: number }): fc.Arbitrary<GeneratedOp> {
  const key = fc.integer({ min: 0, max: o.maxId });
  return fc.oneof(
    { weight: o.appendWeight, arbitrary: fc.record({ kind: fc.constant('append' as const), ids: fc.array(key, { minLength: 1, maxLength: o.appendIds }), groupRows: fc.integer({ min: 1, max: 12 }), pageRows: fc.integer({ min: 1, max: o.maxPageRows }) }) },
    fc.record({ kind: fc.constant('upsert' as const), ids: fc.uniqueArray(key, { minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant('delete' as const), ids: fc.uniqueArray(key, { minLength: 1, maxLength: o.deletes }) }),
    fc.record({ kind: fc.constant('position' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: o.picks }) }),
  );
}

/**
 * Applies one op to a table of columns (id long key, v string, n int). `file` numbers the appended
 * files (returns the next number). Keys may repeat within and across appended files: an equality
 * delete removes every older copy.
 */
export async function applyGeneratedOp(root: string, o: GeneratedOp, env: WriteEnv, file: number): Promise<number> {
  if (o.kind === 'append') {
    await appendInRowGroups(root, o.ids.map((id, i) => ({ id: BigInt(id), v: i % 3 === 0 ? null : `a${file}.${i}`, n: i })), o.groupRows, o.pageRows, `f${file}`);
    return file + 1;
  }
  if (o.kind === 'upsert') await applyRowDelta(root, { upserts: o.ids.map((id) => ({ id: BigInt(id), v: `u${id}`, n: -id })) }, { env });
  else if (o.kind === 'delete') await applyRowDelta(root, { deleteKeys: o.ids.map((id) => ({ id: BigInt(id) })) }, { env });
  else {
    const plan = await planScan(storage, root);
    if (plan.files.length === 0) return file;
    const target = plan.files[o.picks[0]! % plan.files.length]!;
    const positions = [...new Set(o.picks.map((p) => p % target.recordCount))];
    await applyRowDelta(root, { positionDeletes: positions.map((pos) => ({ filePath: target.originalPath, pos })) }, { env });
  }
  return file;
}

/** A table of columns (id long key, v string, n int) with the history `ops`, written with a seeded env. */
export async function generateTable(root: string, ops: GeneratedOp[], seed: number): Promise<void> {
  const env = seededWriteEnv(seed);
  await createTable(root, {
    columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }, { name: 'n', type: 'int' }],
    identifierColumns: ['id'],
    env,
  });
  let file = 0;
  for (const o of ops) file = await applyGeneratedOp(root, o, env, file);
}
