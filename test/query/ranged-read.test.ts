/**
 * The engine fetches Parquet bytes by range: the footer, then only the projected column chunks of
 * the row groups it reads; key history skips row groups whose statistics rule the key out, and
 * position deletes still hit the right rows of a partly read file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../core/api/contract';
import { FILE_CONTENT, type DataFile, type NestedField } from '../../core/lake/model';
import { loadTable } from '../../core/lake/table';
import { appendRows, applyRowDelta, commitSnapshot, computeMetrics, createTable, rowsToArrow } from '../../core/lake/write';
import { createQueryCalls } from '../../core/query/calls';
import { readKeyHistory } from '../../core/query/key-history';
import { createNodeQueryEngine } from '../../core/query/node/index';
import { RangedParquetFile } from '../../core/query/parquet';
import { parseFooter } from '../../core/lake/serde/parquet-subset';
import { selectRowGroups } from '../../core/query/row-groups';
import { decodeStruct, encodeStruct } from '../../core/lake/serde/thrift-compact';
import { icebergSource } from '../../core/query/table-source';
import type { StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';

const storage = createLocalStorage();
const ctx: HandlerContext = { emit: () => undefined };
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'tidemark-ranged-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Bytes read per path, and whether any file was read whole. */
function countingStorage(base: StoragePort) {
  const bytes = new Map<string, number>();
  const whole: string[] = [];
  const port: StoragePort = {
    ...base,
    async readFile(path) {
      whole.push(path);
      const b = await base.readFile(path);
      bytes.set(path, (bytes.get(path) ?? 0) + b.length);
      return b;
    },
    async readRange(path, offset, length) {
      const b = await base.readRange(path, offset, length);
      bytes.set(path, (bytes.get(path) ?? 0) + b.length);
      return b;
    },
  };
  return { port, bytes, whole };
}

async function writeParquetFile(path: string, fields: NestedField[], rows: Record<string, unknown>[], rowGroupRows: number) {
  const arrow = rowsToArrow({ fields }, rows);
  const props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD).setMaxRowGroupSize(rowGroupRows).build();
  const bytes = writeParquet(WasmTable.fromIPCStream(tableToIPC(arrow, 'stream')), props);
  await writeFile(path, bytes);
  return { size: bytes.length, metrics: computeMetrics(arrow) };
}

function describeFile(content: 0 | 1, path: string, size: number, metrics: ReturnType<typeof computeMetrics>): DataFile {
  return {
    content, filePath: path, fileFormat: 'PARQUET', partition: [], recordCount: metrics.recordCount, fileSizeInBytes: size, columnSizes: null,
    valueCounts: metrics.valueCounts, nullValueCounts: metrics.nullValueCounts, nanValueCounts: metrics.nanValueCounts,
    lowerBounds: metrics.lowerBounds, upperBounds: metrics.upperBounds, splitOffsets: null, equalityIds: null, sortOrderId: content === FILE_CONTENT.data ? 0 : null, referencedDataFile: null,
  };
}

const ROWS = 10_000;
const GROUP = 1_000;

/** One data file of 10 row groups (ids 0–9999 in order, a wide `pad` column), then position deletes of ids 5500 and 9999. */
let made: Promise<{ root: string; dataPath: string; dataSize: number }> | null = null;
function makeTable() {
  made ??= makeTableNow();
  return made;
}

async function makeTableNow(): Promise<{ root: string; dataPath: string; dataSize: number }> {
  const root = join(tmp, 'wide');
  await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'int' }, { name: 'pad', type: 'string' }], identifierColumns: ['id'] });
  const fields = (await loadTable(storage, root)).metadata.schemas[0]!.fields;
  const dataPath = join(root, 'data', 'wide-00001.parquet');
  // Incompressible padding, so the projected columns are a small part of the file.
  let seed = 7;
  const noise = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed.toString(36));
  const rows = Array.from({ length: ROWS }, (_, i) => ({ id: BigInt(i), v: i % 7, pad: Array.from({ length: 40 }, noise).join('') }));
  const data = await writeParquetFile(dataPath, fields, rows, GROUP);
  await commitSnapshot(root, async () => ({ operation: 'append', addedDataFiles: [describeFile(FILE_CONTENT.data, dataPath, data.size, data.metrics)] }));
  const posFields: NestedField[] = [
    { id: 2147483546, name: 'file_path', type: 'string', required: true },
    { id: 2147483545, name: 'pos', type: 'long', required: true },
  ];
  const delPath = join(root, 'data', 'wide-deletes-00001.parquet');
  const del = await writeParquetFile(delPath, posFields, [{ file_path: dataPath, pos: 5500n }, { file_path: dataPath, pos: 9999n }], GROUP);
  await commitSnapshot(root, async (base) => ({ operation: 'delete', addedDeleteFiles: [{ file: describeFile(FILE_CONTENT.positionDeletes, delPath, del.size, del.metrics), specId: base.metadata.defaultSpecId }] }));
  return { root, dataPath, dataSize: (await stat(dataPath)).size };
}

describe('ranged Parquet reads', () => {
  it('reads the footer and the projected column chunks only, never a data file whole', async () => {
    const { root, dataPath, dataSize } = await makeTable();
    const { port, bytes, whole } = countingStorage(storage);
    const engine = await createNodeQueryEngine(port);
    try {
      const page = await engine.scan(root, { columns: ['id', 'v'] });
      expect(page.rows).toHaveLength(ROWS - 2);
      expect(page.rows.map((r) => r[0])).not.toContain(5500n);
      expect(page.rows.slice(0, 3)).toEqual([[0n, 0], [1n, 1], [2n, 2]]);
      expect(whole.filter((p) => p.endsWith('.parquet'))).toEqual([]);
      // id and v are a few % of the file; the padding is the rest. The key column id is read twice:
      // once for the live masks (row-group cache), once into DuckDB for the view.
      expect(bytes.get(dataPath)!).toBeLessThan(dataSize * 0.25);
      expect(await engine.count(root)).toBe(ROWS - 2);
    } finally {
      await engine.close();
    }
  });

  it('key history reads only the row groups whose statistics hold the key, and position deletes stay exact', async () => {
    const { root, dataPath, dataSize } = await makeTable();
    expect(footerOf(new Uint8Array(await readFile(dataPath)), dataPath).rowGroups).toHaveLength(ROWS / GROUP);
    const { port, bytes } = countingStorage(storage);
    const engine = await createNodeQueryEngine(port);
    try {
      const source = icebergSource(engine, await loadTable(port, root));
      // Row 5500 is in the sixth row group and deleted by position: the pruned read must map loaded
      // rows back to file positions, or the delete would miss it.
      const h = await readKeyHistory(engine, source, { id: '5500' });
      expect(h.map((v) => [v.operation, v.status, v.rows.map((r) => r.v)])).toEqual([
        ['append', 'inserted', [5500 % 7]],
        ['delete', 'deleted', []],
      ]);
      // One row group of ten, whole rows (with the padding), and the footer: without pruning every
      // row group of every column would be read.
      const afterOne = bytes.get(dataPath)!;
      expect(afterOne).toBeLessThan(dataSize * 0.25);
      const kept = await readKeyHistory(engine, source, { id: '5501' });
      expect(kept.map((v) => [v.status, v.rows.map((r) => r.id)])).toEqual([['inserted', [5501n]], ['unchanged', [5501n]]]);
      expect(bytes.get(dataPath)! - afterOne).toBeLessThan(dataSize * 0.25);
      // A key no version holds: an empty history.
      const missing = await readKeyHistory(engine, source, { id: '-5' });
      expect(missing).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('selects row groups by integer statistics for each comparison', async () => {
    const { dataPath } = await makeTable();
    const footer = footerOf(new Uint8Array(await readFile(dataPath)), dataPath);
    const pick = (op: '=' | '!=' | '<' | '<=' | '>' | '>=', value: bigint) => selectRowGroups(footer, [{ column: 'id', op, value }])?.indexes ?? 'all';
    expect(pick('=', 5500n)).toEqual([5]);
    expect(pick('=', 99_999n)).toEqual([]);
    expect(pick('<', 1000n)).toEqual([0]);
    expect(pick('<=', 1000n)).toEqual([0, 1]);
    expect(pick('>', 8999n)).toEqual([9]);
    expect(pick('>=', 8999n)).toEqual([8, 9]);
    expect(pick('!=', 5n)).toEqual('all');
    const sel = selectRowGroups(footer, [{ column: 'id', op: '=', value: 3000n }])!;
    expect(sel.ranges).toEqual([{ filePos: 3000, rows: GROUP }]);
    // A column without integer statistics, or not in the file, never prunes.
    expect(selectRowGroups(footer, [{ column: 'pad', op: '=', value: 1n }])).toBeNull();
    expect(selectRowGroups(footer, [{ column: 'nope', op: '=', value: 1n }])).toBeNull();
  });
});

function footerOf(bytes: Uint8Array, path: string) {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
  return parseFooter(bytes.subarray(bytes.length - 8 - len, bytes.length - 8), bytes.length, path);
}

/** Values of an Arrow IPC stream as JSON, for equality across readers. */
function valuesOf(ipc: Uint8Array, columns?: string[]): string {
  const t = tableFromIPC(ipc);
  const rows = t.toArray().map((r) => {
    const o = r.toJSON() as Record<string, unknown>;
    return columns ? Object.fromEntries(columns.map((c) => [c, o[c]])) : o;
  });
  return JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? [...v] : v));
}

describe('Parquet subsets', () => {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.parquet')) files.push(join(d, e.name));
    }
  };
  walk(FIXTURES);

  it('re-encodes every fixture footer byte for byte', () => {
    expect(files.length).toBeGreaterThan(50);
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true);
      const footer = bytes.subarray(bytes.length - 8 - len, bytes.length - 8);
      expect(Buffer.from(encodeStruct(decodeStruct(footer, f))).equals(Buffer.from(footer)), f).toBe(true);
    }
  });

  it('decodes each column of every fixture file from its subset exactly as from the whole file', async () => {
    let checked = 0;
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(f));
      const file = await RangedParquetFile.open(parquet, storage, f, bytes.length, 'data file');
      // parquet-wasm 0.8's synchronous reader returns every column whatever `columns` says: project here.
      const whole = parquet.readParquet(bytes).intoIPCStream();
      // Every column of small files; the first three of the large ones (the TPC-H lineitem tables).
      for (const column of bytes.length > 256 * 1024 ? file.columns.names.slice(0, 3) : file.columns.names) {
        expect(valuesOf(await file.readIpc([column])), `${f} ${column}`).toEqual(valuesOf(whole, [column]));
        checked++;
      }
      expect(valuesOf(await file.readIpc(file.columns.names)), f).toEqual(valuesOf(whole));
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('reads chosen row groups of a multi-group file', async () => {
    const { dataPath } = await makeTable();
    const bytes = new Uint8Array(await readFile(dataPath));
    const file = await RangedParquetFile.open(parquet, storage, dataPath, bytes.length, 'data file');
    const got = tableFromIPC(await file.readIpc(['id'], [2, 7]));
    expect(got.numRows).toBe(2 * GROUP);
    expect([got.getChild('id')!.get(0), got.getChild('id')!.get(GROUP)]).toEqual([2000n, 7000n]);
    expect(tableFromIPC(await file.readIpc(['id', 'v'], [])).numRows).toBe(0);
  });

  it('names the file and the fault for a footer that lies', async () => {
    const { dataPath } = await makeTable();
    const bytes = new Uint8Array(await readFile(dataPath));
    const missing = join(tmp, 'gone.parquet');
    await expect(RangedParquetFile.open(parquet, storage, missing, 100, 'data file')).rejects.toMatchObject({ code: 'NotFound', message: `data file not found: ${missing}` });
    // Cut the file: the footer survives, the chunks it points at do not.
    const cut = join(tmp, 'cut.parquet');
    const footerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 8, true) + 8;
    await writeFile(cut, Buffer.concat([bytes.subarray(0, 4), bytes.subarray(bytes.length - footerLength)]));
    await expect(RangedParquetFile.open(parquet, storage, cut, footerLength + 4, 'data file')).rejects.toMatchObject({ code: 'DataInvalid', message: expect.stringContaining(`${cut}: corrupt Parquet footer: row group 0, column 0: chunk range`) });
    const notParquet = join(tmp, 'text.parquet');
    await writeFile(notParquet, 'hello, this is not parquet at all');
    await expect(RangedParquetFile.open(parquet, storage, notParquet, 33, 'data file')).rejects.toMatchObject({ code: 'DataInvalid', message: `${notParquet}: expected a Parquet file (ending with PAR1), found 33 bytes without that footer` });
  });
});

describe('pages straight from the data files', () => {
  it('reads an unsorted page of a version without deletes from the files holding it, equal to the merged version', async () => {
    const root = join(tmp, 'pages', 'events');
    await createTable(root, { columns: [{ name: 'id', type: 'long', required: true }, { name: 'v', type: 'string' }], identifierColumns: ['id'] });
    for (let c = 0; c < 4; c++) await appendRows(root, Array.from({ length: 100 }, (_, i) => ({ id: BigInt(c * 100 + i), v: `c${c}` })));
    const { port, bytes } = countingStorage(storage);
    const engine = await createNodeQueryEngine(port);
    const calls = createQueryCalls({ storage: port, engine: async () => engine });
    const page = (req: { offset: number; limit: number; sort?: { column: string; desc: boolean }[] }) => calls['query.page']({ path: root, sort: [], filters: [], ...req }, ctx);
    try {
      const dataFiles = () => [...bytes.keys()].filter((p) => p.includes('/data/')).length;
      const first = await page({ offset: 0, limit: 50 });
      expect(first.totalRows).toBe(400);
      // The first page needed one data file of four.
      expect(dataFiles()).toBe(1);
      // Pages equal the merged version's rows in its (file) order, across file boundaries too.
      const merged = (await engine.scan(root, {})).rows;
      expect(merged).toHaveLength(400);
      expect(first.rows).toEqual(merged.slice(0, 50));
      for (const [offset, limit] of [[180, 40], [99, 2], [390, 50], [0, 400]] as const) {
        expect((await page({ offset, limit })).rows, `${offset}+${limit}`).toEqual(merged.slice(offset, offset + limit));
      }
      expect(await page({ offset: 400, limit: 50 })).toMatchObject({ rows: [], totalRows: 400 });
      const sorted = await page({ offset: 0, limit: 5, sort: [{ column: 'id', desc: false }] });
      expect(sorted.rows.map((r) => r[0])).toEqual([0n, 1n, 2n, 3n, 4n]);
      // With deletes the first page does not wait for the count: the total is pending (the
      // records before deletes) until query.count answers.
      await applyRowDelta(root, { deleteKeys: [{ id: 5n }] });
      const window = await engine.window(root, {}, 0, 10);
      expect(window).toMatchObject({ totalRows: 400, totalPending: true });
      const mergedAfter = (await engine.scan(root, {})).rows;
      expect(window.rows).toEqual(mergedAfter.slice(0, 10));
      expect(mergedAfter.map((r) => r[0])).not.toContain(5n);
      expect(await calls['query.count']({ path: root }, ctx)).toEqual({ rows: 399 });
      const afterDelete = await page({ offset: 0, limit: 400 });
      expect(afterDelete).toMatchObject({ totalRows: 399, totalPending: false });
      expect(afterDelete.rows.map((r) => r[0])).not.toContain(5n);
    } finally {
      await engine.close();
    }
  });
});
