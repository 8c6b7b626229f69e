/**
 * Lazy grid pages and counts (core/query/pages) equal the reference reader (core/lake scanRows) on
 * generated tables: appends written with tiny row groups and pages (so windows start and end
 * inside row groups and pages, skip whole ones, and read pages through the offset index), equality deletes and upserts (global, by the identifier), and
 * position deletes of random rows of random data files, over several commits; every snapshot is
 * checked at random offsets and limits, with a roomy cache and with one so small that every read
 * evicts.
 */
import fc from 'fast-check';
import { tableToIPC } from 'apache-arrow';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as parquet from 'parquet-wasm';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_CONTENT, type DataFile } from '../../core/lake/model';
import { scanRows } from '../../core/lake/row-reader';
import { planScan } from '../../core/lake/scan-plan';
import { loadTable } from '../../core/lake/table';
import { applyRowDelta, commitSnapshot, computeMetrics, createTable, currentSchema, rowsToArrow, seededWriteEnv } from '../../core/lake/write';
import { createLazyReader } from '../../core/query/pages/reader';
import { createLocalStorage } from '../../core/storage/node/index';

const storage = createLocalStorage();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tidemark-lazy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * Appends rows as one data file whose row groups hold `groupRows` rows each, in data pages of about
 * `pageRows` rows (so that windows read some pages of a row group through its offset index).
 */
async function appendInRowGroups(root: string, rows: Record<string, unknown>[], groupRows: number, pageRows: number, name: string) {
  const table = await loadTable(storage, root);
  const arrow = rowsToArrow(currentSchema(table.metadata), rows);
  const props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).setMaxRowGroupSize(groupRows).setWriteBatchSize(pageRows).setDataPageSizeLimit(1).build();
  const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(arrow, 'stream')), props);
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

type Op =
  | { kind: 'append'; ids: number[]; groupRows: number; pageRows: number }
  | { kind: 'upsert'; ids: number[] }
  | { kind: 'delete'; ids: number[] }
  | { kind: 'position'; picks: number[] };

const ids = fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 14 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('append' as const), ids, groupRows: fc.integer({ min: 1, max: 12 }), pageRows: fc.integer({ min: 1, max: 3 }) }) },
  fc.record({ kind: fc.constant('upsert' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('delete' as const), ids: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('position' as const), picks: fc.array(fc.nat(), { minLength: 1, maxLength: 6 }) }),
);
const windows = fc.array(fc.tuple(fc.nat({ max: 60 }), fc.integer({ min: 1, max: 25 })), { minLength: 3, maxLength: 6 });

describe('lazy grid pages (property)', () => {
  it('windows and counts of every snapshot equal the reference reader', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 7 }), windows, async (ops, wins) => {
        const root = join(dir, `t${run++}`);
        const env = seededWriteEnv(run);
        await createTable(root, {
          columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }, { name: 'n', type: 'int' }],
          identifierColumns: ['id'],
          env,
        });
        let file = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            // Keys may repeat (within and across files): an equality delete removes every older copy.
            await appendInRowGroups(root, o.ids.map((id, i) => ({ id: BigInt(id), v: i % 3 === 0 ? null : `a${file}.${i}`, n: i })), o.groupRows, o.pageRows, `f${file++}`);
          } else if (o.kind === 'upsert') {
            await applyRowDelta(root, { upserts: o.ids.map((id) => ({ id: BigInt(id), v: `u${id}`, n: -id })) }, { env });
          } else if (o.kind === 'delete') {
            await applyRowDelta(root, { deleteKeys: o.ids.map((id) => ({ id: BigInt(id) })) }, { env });
          } else if (o.kind === 'position') {
            const plan = await planScan(storage, root);
            if (plan.files.length === 0) continue;
            const target = plan.files[o.picks[0]! % plan.files.length]!;
            const positions = [...new Set(o.picks.map((p) => p % target.recordCount))];
            await applyRowDelta(root, { positionDeletes: positions.map((pos) => ({ filePath: target.originalPath, pos })) }, { env });
          }
        }
        const table = await loadTable(storage, root);
        const roomy = createLazyReader({ parquet, storage });
        const tiny = createLazyReader({ parquet, storage, cacheBytes: 64 });
        for (const s of table.metadata.snapshots) {
          const sel = { snapshotId: s.snapshotId };
          const ref = await scanRows(storage, table, sel);
          const rows = ref.rows.map((r) => ref.columns.map((c) => r[c.name]));
          for (const reader of [roomy, tiny]) {
            for (const [offset, limit] of wins) {
              const w = await reader.window(table, sel, offset, limit);
              expect(w.rows, `snapshot ${s.sequenceNumber} window ${offset}+${limit}`).toEqual(rows.slice(offset, offset + limit));
            }
            expect(await reader.count(table, sel)).toBe(rows.length);
            expect(await reader.window(table, sel, 0, 1)).toMatchObject({ totalRows: rows.length, totalPending: false });
          }
        }
      }),
      { numRuns: 25, seed: 24, endOnFailure: true },
    );
  }, 300_000);
});
