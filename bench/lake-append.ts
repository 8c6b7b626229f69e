import { Decimal, Field, Float64, Int64, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, Utf8, makeData, tableToIPC } from 'apache-arrow';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import { countRows } from '../core/lake';
import { appendArrow, appendRows, createTable, defaultWriteEnv, highCardinalityColumns } from '../core/lake/write';
import { createLocalStorage } from '../core/storage/node/index';

/**
 * Append of N rows (int64, string, double, timestamp, decimal) to an Iceberg table as one commit,
 * side by side with the limit: a plain parquet-wasm write (ZSTD, same codec) of the same Arrow data
 * to a file. The append adds column metrics, field ids, a manifest, a manifest list and the metadata
 * commit. The row-object variant shows what the columnar path saves (run on fewer rows: it holds
 * every row as an object). N: env TIDEMARK_BENCH_ROWS (default 1,000,000).
 */
export const COLUMNS = [
  { name: 'id', type: 'long', required: true },
  { name: 'name', type: 'string' },
  { name: 'score', type: 'double' },
  { name: 'created_at', type: 'timestamp' },
  { name: 'amount', type: 'decimal(18, 2)' },
];

/** Arrow columns built straight from typed arrays (deterministic values, no per-row objects). */
export function buildTable(n: number): Table {
  const ids = new BigInt64Array(n);
  const scores = new Float64Array(n);
  const times = new BigInt64Array(n);
  const words = new Uint32Array(n * 4);
  const offsets = new Int32Array(n + 1);
  const enc = new TextEncoder();
  const names = Array.from({ length: 1000 }, (_, i) => enc.encode(`customer-${i.toString(36)}-${(i * 7919) % 1000}`));
  let total = 0;
  for (let i = 0; i < n; i++) total += names[i % 1000]!.length;
  const text = new Uint8Array(total);
  const t0 = 1_704_067_200_000_000n; // 2024-01-01T00:00:00Z in µs
  let at = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = BigInt(i);
    scores[i] = (i * 0.618) % 1000;
    times[i] = t0 + BigInt(i) * 1_000_003n;
    const cents = (i * 7919) % 10_000_000; // non-negative: the high words stay 0
    words[i * 4] = cents;
    const name = names[i % 1000]!;
    text.set(name, at);
    at += name.length;
    offsets[i + 1] = at;
  }
  const fields = [
    new Field('id', new Int64(), false),
    new Field('name', new Utf8(), true),
    new Field('score', new Float64(), true),
    new Field('created_at', new TimestampMicrosecond(), true),
    new Field('amount', new Decimal(2, 18, 128), true),
  ];
  const children = [
    makeData({ type: new Int64(), length: n, data: ids }),
    makeData({ type: new Utf8(), length: n, data: text, valueOffsets: offsets }),
    makeData({ type: new Float64(), length: n, data: scores }),
    makeData({ type: new TimestampMicrosecond(), length: n, data: times }),
    makeData({ type: new Decimal(2, 18, 128), length: n, data: words }),
  ];
  const schema = new Schema(fields);
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }))]);
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
}

/** Single runs of the wasm writer vary by ±20% on a shared 2-core machine: report medians. */
function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

export async function runLakeAppendBench(): Promise<Record<string, number | string>[]> {
  const rows = Number(process.env.TIDEMARK_BENCH_ROWS ?? 1_000_000);
  if (!Number.isInteger(rows) || rows <= 0) throw new Error(`TIDEMARK_BENCH_ROWS must be a positive integer, found ${process.env.TIDEMARK_BENCH_ROWS}`);
  const work = await mkdtemp(join(tmpdir(), 'tidemark-bench-append-'));
  try {
    const table = buildTable(rows);
    // Warm-up: the first parquet-wasm call compiles the module.
    writeParquet(WasmTable.fromIPCStream(tableToIPC(buildTable(1000), 'stream')));

    // Plain writes and appends alternate so that load from other processes hits both alike;
    // each append goes to a fresh table created outside the timing (one commit of N rows).
    const reps = 5;
    const plainTimes: number[] = [];
    const lakeTimes: number[] = [];
    const plainTunedTimes: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      plainTimes.push(
        await timed(async () => {
          const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
          const bytes = writeParquet(wasm, new WriterPropertiesBuilder().setCompression(Compression.ZSTD).build());
          await writeFile(join(work, `plain${rep}.parquet`), bytes);
        }),
      );
      plainTunedTimes.push(
        await timed(async () => {
          const wasm = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
          let props = new WriterPropertiesBuilder().setCompression(Compression.ZSTD);
          for (const column of highCardinalityColumns(table)) props = props.setColumnDictionaryEnabled(column, false);
          await writeFile(join(work, `tuned${rep}.parquet`), writeParquet(wasm, props.build()));
        }),
      );
      const root = join(work, 'lake', `bench${rep}`);
      await createTable(root, { columns: COLUMNS, env: defaultWriteEnv });
      lakeTimes.push(await timed(() => appendArrow(root, table)));
    }
    const plain = median(plainTimes);
    const lake = median(lakeTimes);
    const plainTuned = median(plainTunedTimes);
    const storage = createLocalStorage();
    const counted = await countRows(storage, join(work, 'lake', 'bench0'));
    if (counted !== rows) throw new Error(`lake append: expected ${rows} rows after the commit, counted ${counted}`);

    // Row objects (canonical values: bigint, string, number, ISO timestamp text, decimal text).
    const objectRows = Math.min(rows, 200_000);
    const rowsRoot = join(work, 'lake', 'rows');
    await createTable(rowsRoot, { columns: COLUMNS, env: defaultWriteEnv });
    const objects = table.slice(0, objectRows).toArray().map((r: Record<string, unknown>, i: number) => ({
      id: r.id,
      name: r.name,
      score: r.score,
      created_at: new Date(Number((r.created_at as bigint | number) ?? 0)).toISOString().replace('Z', '000'),
      amount: `${Math.floor(((i * 7919) % 10_000_000) / 100)}.${String(((i * 7919) % 10_000_000) % 100).padStart(2, '0')}`,
    }));
    const byRows = await timed(() => appendRows(rowsRoot, objects));

    const row = (variant: string, n: number, seconds: number) => ({
      variant,
      rows: n,
      seconds: Math.round(seconds * 1000) / 1000,
      rowsPerSec: Math.round(n / seconds),
      ratio: Math.round((seconds / n / (plain / rows)) * 100) / 100,
    });
    return [
      row('plain parquet-wasm write (limit)', rows, plain),
      // Same write with the lake writer's per-column dictionary choice: separates the encoding gain from the Iceberg overhead.
      row('plain write, dictionary off for high-cardinality columns', rows, plainTuned),
      row('lake appendArrow (one commit)', rows, lake),
      row('lake appendRows (row objects)', objectRows, byRows),
    ];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
