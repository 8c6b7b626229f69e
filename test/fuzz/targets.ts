/**
 * Fuzz targets for every reader of untrusted input: table metadata JSON, Avro manifest lists and
 * manifests, Parquet files, pipeline YAML and SQL. Inputs are real files from test/fixtures
 * mutated byte by byte (flips, truncation, splices, insertions) plus fast-check's arbitrary data.
 * A target passes an input when it returns a value or throws a TidemarkError; anything else (a raw
 * TypeError, RangeError, a hang past the per-input limit) is a finding.
 */
import fc from 'fast-check';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isTidemarkError, TidemarkError } from '../../core/errors';
import { parseTableMetadata } from '../../core/lake/serde/table-metadata';
import { readManifest, readManifestList } from '../../core/lake/serde/manifest-read';
import { readParquetFile } from '../../core/lake/parquet-read';
import { loadPipelineConfig } from '../../core/pipeline';
import * as parquetWasm from 'parquet-wasm';
import { RangedParquetFile } from '../../core/query/parquet';
import { selectRowGroups } from '../../core/query/row-groups';
import { findTableRefs } from '../../core/query/sql-rewrite';
import type { StoragePort } from '../../core/storage';
import { createLocalStorage } from '../../core/storage/node/index';
import { loadTable } from '../../core/lake/table';
import { FIXTURES } from '../support/fixtures';

export interface FuzzTarget {
  name: string;
  /** Real inputs the mutations start from. */
  seeds: Uint8Array[];
  run(input: Uint8Array): Promise<unknown>;
}

export interface FuzzResult {
  target: string;
  inputs: number;
  typedErrors: number;
  accepted: number;
  findings: { error: string; input: string }[];
  ms: number;
}

function files(dir: string, suffix: RegExp, max = 12): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (out.length >= max) return;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (suffix.test(e.name)) out.push(new Uint8Array(readFileSync(p)));
    }
  };
  walk(dir);
  return out;
}

const text = new TextDecoder();
const ICEBERG = join(FIXTURES, 'iceberg');

/** A storage port over one in-memory file (the Parquet reader reads through the port). */
function memoryStorage(bytes: Uint8Array): StoragePort {
  return {
    readFile: async () => bytes,
    readRange: async (_p, o, l) => bytes.subarray(o, o + l),
    stat: async () => ({ size: bytes.length, mtimeMs: 0 }),
    list: async () => [],
  };
}

/**
 * The query engine's reader: the footer by range, row-group pruning on the first column's
 * statistics, then a subset of the file (every other column, then the first alone) decoded.
 */
async function readParquetRanged(bytes: Uint8Array): Promise<unknown> {
  const file = await RangedParquetFile.open(parquetWasm, memoryStorage(bytes), '/fuzz.parquet', bytes.length, 'data file');
  const [first, ...rest] = file.columns.names;
  const groups = first === undefined ? null : selectRowGroups(file.footer, [{ column: first, op: '>=', value: 0n }]);
  if (rest.length) await file.readIpc(rest.filter((_, i) => i % 2 === 0), groups?.indexes);
  return file.readIpc(first === undefined ? [] : [first], groups?.indexes);
}

const PIPELINE = new TextEncoder().encode(`source:
  type: mysql
  hostname: 127.0.0.1
  port: 3306
  username: cdc
  password: \${env:P}
  tables: app.order_\\.*
  server-id: 5400-5404
sink:
  type: iceberg
  catalog.properties.type: hadoop
  catalog.properties.warehouse: /tmp/w
route:
  - source-table: app.order_\\.*
    sink-table: ods.orders
transform:
  - source-table: app.order_\\.*
    projection: \\*, amount * 2 AS double_amount
    filter: amount > 10 AND customer LIKE 'a%'
pipeline:
  name: p
`);

/** Manifests of one partitioned table with the context they are read in (spec, schema, list row). */
async function manifestTarget(): Promise<FuzzTarget> {
  const storage = createLocalStorage();
  const table = await loadTable(storage, join(ICEBERG, 'duckdb-iceberg/equality_deletes_mytable_partitioned'));
  const md = table.metadata;
  const snapshot = md.snapshots.find((x) => x.snapshotId === md.currentSnapshotId)!;
  const list = await readManifestList(await storage.readFile(table.resolve(snapshot.manifestList)), 'list');
  const manifest = list[0]!;
  const ctx = {
    manifest,
    spec: md.partitionSpecs.find((x) => x.specId === manifest.partitionSpecId)!,
    schema: md.schemas.find((x) => x.schemaId === md.currentSchemaId)!,
  };
  const seeds = await Promise.all(list.map((m) => storage.readFile(table.resolve(m.manifestPath))));
  return { name: 'Avro manifest', seeds, run: (b) => readManifest(b, 'fuzz-m0.avro', ctx) };
}

export async function fuzzTargets(): Promise<FuzzTarget[]> {
  const manifestLists = files(ICEBERG, /^snap-.*\.avro$/);
  return [
    { name: 'metadata JSON', seeds: files(ICEBERG, /\.metadata\.json$/), run: async (b) => parseTableMetadata(text.decode(b), 'fuzz.metadata.json') },
    { name: 'Avro manifest list', seeds: manifestLists, run: (b) => readManifestList(b, 'fuzz-snap.avro') },
    await manifestTarget(),
    { name: 'Parquet', seeds: files(ICEBERG, /\.parquet$/, 8), run: (b) => readParquetFile(memoryStorage(b), '/fuzz.parquet') },
    { name: 'Parquet (engine, ranged)', seeds: files(ICEBERG, /\.parquet$/, 8), run: (b) => readParquetRanged(b) },
    // loadPipelineConfig throws the joined validation errors as one TidemarkError.
    { name: 'pipeline YAML', seeds: [PIPELINE], run: async (b) => loadPipelineConfig(text.decode(b), { fileName: 'fuzz.yaml', env: { P: 'x' } }) },
    {
      name: 'SQL',
      seeds: [new TextEncoder().encode("SELECT a.x, count(*) FROM demo.orders FOR VERSION AS OF 1 o JOIN \"n s\".\"t\" FOR TIMESTAMP AS OF TIMESTAMP '2026-01-01 00:00:00' t ON o.id = t.id -- c\nWHERE s = 'it''s' /* x */")],
      run: async (b) => findTableRefs(text.decode(b)),
    },
  ];
}

/**
 * A target that misbehaves on purpose, to test the harness itself: it spins forever on an input
 * starting with 0xff, throws a raw TypeError on 0xfe, a TidemarkError on 0xfd, and accepts the rest.
 */
export function harnessSelfTestTarget(): FuzzTarget {
  return {
    name: 'harness self-test',
    seeds: [Uint8Array.of(1), Uint8Array.of(0xff), Uint8Array.of(0xfe), Uint8Array.of(0xfd), Uint8Array.of(2)],
    run: async (b) => {
      if (b[0] === 0xff) for (;;);
      if (b[0] === 0xfe) throw new TypeError('raw error on 0xfe');
      if (b[0] === 0xfd) throw new TidemarkError('DataInvalid', 'typed error on 0xfd');
      return b.length;
    },
  };
}

/** One mutation of a seed: flip bytes, truncate, splice two seeds, insert random bytes. */
const mutation = (seeds: Uint8Array[]) =>
  fc
    .record({
      seed: fc.nat({ max: Math.max(0, seeds.length - 1) }),
      other: fc.nat({ max: Math.max(0, seeds.length - 1) }),
      kind: fc.constantFrom('flip', 'truncate', 'splice', 'insert', 'random'),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
      count: fc.integer({ min: 1, max: 8 }),
    })
    .map(({ seed, other, kind, at, bytes, count }) => {
      const s = seeds[seed]!;
      const pos = Math.floor(at * s.length);
      switch (kind) {
        case 'flip': {
          const out = s.slice();
          for (let i = 0; i < count && out.length; i++) {
            const at = (pos + i * 7919) % out.length;
            out[at] = out[at]! ^ bytes[i % bytes.length]!;
          }
          return out;
        }
        case 'truncate':
          return s.slice(0, pos);
        case 'splice': {
          const o = seeds[other]!;
          const out = new Uint8Array(pos + (o.length - Math.floor(at * o.length)));
          out.set(s.subarray(0, pos));
          out.set(o.subarray(Math.floor(at * o.length)), pos);
          return out;
        }
        case 'insert': {
          const out = new Uint8Array(s.length + bytes.length);
          out.set(s.subarray(0, pos));
          out.set(bytes, pos);
          out.set(s.subarray(pos), pos + bytes.length);
          return out;
        }
        default:
          return bytes;
      }
    });

/** The inputs of a fuzz run: the real seeds, then mutations (endless; same seed → same inputs). */
export function* fuzzInputs(target: FuzzTarget, seed = 1): Generator<Uint8Array> {
  yield* target.seeds;
  // Mutations are drawn in batches so the time budget is spent on running inputs, not drawing them.
  for (let batch = 0; ; batch++) yield* fc.sample(mutation(target.seeds), { numRuns: 200, seed: seed + batch });
}

/**
 * Runs a target in this thread for `budgetMs` (or `maxInputs`), with the real seeds first. No
 * per-input deadline: a spinning reader blocks it (fuzzIsolated in isolated.ts runs each input
 * under a deadline in a worker).
 */
export async function fuzz(target: FuzzTarget, budgetMs: number, maxInputs = Infinity, seed = 1): Promise<FuzzResult> {
  const started = performance.now();
  const result: FuzzResult = { target: target.name, inputs: 0, typedErrors: 0, accepted: 0, findings: [], ms: 0 };
  for (const input of fuzzInputs(target, seed)) {
    if (result.inputs >= maxInputs || performance.now() - started > budgetMs) break;
    result.inputs++;
    try {
      await target.run(input);
      result.accepted++;
    } catch (e) {
      if (isTidemarkError(e)) result.typedErrors++;
      else if (result.findings.length < 5) result.findings.push({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), input: Buffer.from(input.subarray(0, 64)).toString('base64') });
      else result.findings.length++;
    }
  }
  result.ms = Math.round(performance.now() - started);
  return result;
}
