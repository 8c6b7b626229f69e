import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import avsc from 'avsc';
import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { readParquet } from 'parquet-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { listPaimonFiles } from '../../core/lake/paimon';
import { commitPaimonChanges, compactPaimonTable, createPaimonTable, type PaimonChange } from '../../core/lake/paimon/write';
import { seededWriteEnv } from '../../core/lake/write';
import { readAvroFile } from '../../core/lake/serde/avro';
import { createLocalStorage } from '../../core/storage/node';
import { tableRoot } from '../paimon/helpers';

/**
 * The writer's files against Java Paimon's: pk_table_scan_and_read_mor's first two commits (its
 * README lists them) are replayed through the writer into a new table, and the two tables are
 * compared file by file: schema file, snapshot JSON, manifest and manifest-list Avro schemas and
 * records (all but names, sizes and creation times), Parquet schemas and rows, directory layout.
 */

const storage = createLocalStorage();
const fixture = tableRoot('pk_table_scan_and_read_mor');
const TWO_ROADS = 'Two roads diverged in a wood, and I took the one less traveled by, And that has made all the difference.';

const row = (f0: string, f1: number, f2: number, f3: number) => ({ f0, f1, f2, f3 });
const COMMIT_1: PaimonChange[] = [
  row(TWO_ROADS, 10, 1, 11.0),
  row('Alice', 10, 1, 11.1),
  row('Bob', 10, 0, 12.1),
  row('Emily', 10, 0, 13.1),
  row('Tony', 10, 0, 14.1),
  row('Alex', 10, 0, 16.1),
  row('David', 10, 0, 17.1),
  row('Lucy', 20, 1, 14.1),
  row('Paul', 20, 1, 18.1),
].map((r) => ({ kind: '+I', row: r }));
const COMMIT_2: PaimonChange[] = [
  { kind: '-D', row: row('Tony', 10, 0, 14.1) },
  { kind: '+U', row: row('Alice', 10, 1, 19.1) },
];

type Rec = Record<string, unknown>;
let root: string;

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Rec;
const avro = async (path: string) => readAvroFile(readFileSync(path), path);
const manifestPath = (table: string, name: string) => join(table, 'manifest', name);

/** The records of the manifests a snapshot's delta list names. */
async function deltaEntries(table: string, snapshotId: number): Promise<Rec[]> {
  const snap = json(join(table, 'snapshot', `snapshot-${snapshotId}`));
  const list = await avro(manifestPath(table, snap.deltaManifestList as string));
  const out: Rec[] = [];
  for (const m of list.records) out.push(...(await avro(manifestPath(table, m._FILE_NAME as string))).records);
  return out;
}

/** An entry without what differs between two writers of the same rows: names, sizes, times. */
function comparable(e: Rec): Rec {
  const f = { ...(e._FILE as Rec) };
  delete f._FILE_NAME;
  delete f._FILE_SIZE;
  delete f._CREATION_TIME;
  return { ...e, _FILE: f };
}
const entryId = (e: Rec) => `${Buffer.from(e._PARTITION as Uint8Array).toString('hex')}|${e._BUCKET}|${(e._FILE as Rec)._MIN_SEQUENCE_NUMBER}`;

beforeAll(async () => {
  root = join(mkdtempSync(join(tmpdir(), 'tidemark-paimon-shape-')), 'pk_table_scan_and_read_mor');
  const env = seededWriteEnv(21);
  await createPaimonTable(
    root,
    {
      columns: [{ name: 'f0', type: 'STRING NOT NULL' }, { name: 'f1', type: 'INT NOT NULL' }, { name: 'f2', type: 'INT NOT NULL' }, { name: 'f3', type: 'DOUBLE' }],
      primaryKeys: ['f0', 'f1', 'f2'],
      partitionKeys: ['f1'],
      options: { bucket: '2', 'bucket-key': 'f2', 'manifest.format': 'avro', 'file.format': 'parquet' },
    },
    env,
  );
  await commitPaimonChanges(root, COMMIT_1, { commitUser: 'replay', commitIdentifier: 1n, env });
  await commitPaimonChanges(root, COMMIT_2, { commitUser: 'replay', commitIdentifier: 2n, env });
});

describe('Paimon writer: files shaped as Java Paimon writes them (pk_table_scan_and_read_mor)', () => {
  it('schema-0 equals the fixture but for its creation time', () => {
    const ours = json(join(root, 'schema', 'schema-0'));
    const theirs = json(join(fixture, 'schema', 'schema-0'));
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    expect({ ...ours, timeMillis: 0 }).toEqual({ ...theirs, timeMillis: 0 });
  });

  it('snapshot JSON: the same fields in the same order, and the same counts', () => {
    for (const id of [1, 2]) {
      const ours = json(join(root, 'snapshot', `snapshot-${id}`));
      const theirs = json(join(fixture, 'snapshot', `snapshot-${id}`));
      expect(Object.keys(ours)).toEqual(Object.keys(theirs));
      const same = ['version', 'id', 'schemaId', 'changelogManifestList', 'commitIdentifier', 'commitKind', 'logOffsets', 'totalRecordCount', 'deltaRecordCount', 'changelogRecordCount', 'nextRowId'];
      for (const k of same) expect(ours[k], `snapshot-${id} ${k}`).toEqual(theirs[k]);
      expect(ours.baseManifestList).toMatch(/^manifest-list-[0-9a-f-]{36}-\d+$/);
      expect(ours.deltaManifestList).toMatch(/^manifest-list-[0-9a-f-]{36}-\d+$/);
      expect(ours.baseManifestListSize).toBe(readFileSync(manifestPath(root, ours.baseManifestList as string)).length);
      expect(ours.deltaManifestListSize).toBe(readFileSync(manifestPath(root, ours.deltaManifestList as string)).length);
    }
    expect(readFileSync(join(root, 'snapshot', 'LATEST'), 'utf8')).toBe('2');
    expect(readFileSync(join(root, 'snapshot', 'EARLIEST'), 'utf8')).toBe('1');
  });

  it('manifest and manifest-list Avro schemas are the fixture schemas', async () => {
    const oursSnap = json(join(root, 'snapshot', 'snapshot-2'));
    const theirsSnap = json(join(fixture, 'snapshot', 'snapshot-2'));
    const oursList = await avro(manifestPath(root, oursSnap.baseManifestList as string));
    const theirsList = await avro(manifestPath(fixture, theirsSnap.baseManifestList as string));
    expect(oursList.schema).toEqual(theirsList.schema);
    const oursManifest = await avro(manifestPath(root, oursList.records[0]!._FILE_NAME as string));
    const theirsManifest = await avro(manifestPath(fixture, theirsList.records[0]!._FILE_NAME as string));
    expect(oursManifest.schema).toEqual(theirsManifest.schema);
    // Java compresses with zstandard; Node 20 has no zstd encoder, so ours are deflate (any Avro reader decodes both).
    expect(oursManifest.metadata['avro.codec']).toBe('deflate');
    expect(theirsManifest.metadata['avro.codec']).toBe('zstandard');
  });

  it('manifest entries equal Java’s: partitions, buckets, keys, key and value stats (truncate(16)), sequence numbers, levels', async () => {
    for (const id of [1, 2]) {
      const ours = (await deltaEntries(root, id)).map(comparable).sort((a, b) => (entryId(a) < entryId(b) ? -1 : 1));
      const theirs = (await deltaEntries(fixture, id)).map(comparable).sort((a, b) => (entryId(a) < entryId(b) ? -1 : 1));
      expect(ours.length, `snapshot ${id}`).toBe(id === 1 ? 3 : 2);
      expect(ours).toEqual(theirs);
    }
  });

  it('manifest-list rows equal Java’s but for names and sizes', async () => {
    for (const id of [1, 2]) {
      const strip = async (table: string) => {
        const snap = json(join(table, 'snapshot', `snapshot-${id}`));
        const rows = [...(await avro(manifestPath(table, snap.baseManifestList as string))).records, ...(await avro(manifestPath(table, snap.deltaManifestList as string))).records];
        return rows.map((r) => ({ ...r, _FILE_NAME: null, _FILE_SIZE: null }));
      };
      expect(await strip(root)).toEqual(await strip(fixture));
    }
  });

  it('data files: same directories, Paimon file names, same Parquet schema and rows', async () => {
    const ours = await listPaimonFiles(storage, root);
    const theirs = await listPaimonFiles(storage, fixture, { snapshotId: 2n });
    const dirs = (files: { path: string }[], table: string) => files.map((f) => relative(table, f.path).replace(/\/[^/]+$/, '')).sort();
    expect(dirs(ours, root)).toEqual(dirs(theirs, fixture));
    for (const f of ours) expect(f.fileName).toMatch(/^data-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-\d+\.parquet$/);
    for (const dir of ['manifest', 'schema', 'snapshot']) expect(readdirSync(join(root, dir)).length).toBeGreaterThan(0);
    expect(readdirSync(root).sort()).toEqual(['f1=10', 'f1=20', 'manifest', 'schema', 'snapshot']);

    const read = (path: string) => tableFromIPC(readParquet(readFileSync(path)).intoIPCStream());
    const shape = (path: string) => read(path).schema.fields.map((x) => [x.name, String(x.type), x.nullable, x.metadata.get('PARQUET:field_id')]);
    const byKey = (files: typeof ours) => new Map(files.map((f) => [`${relative(f.path.slice(0, f.path.indexOf('/bucket-')), f.path).split('/')[0]}|${JSON.stringify(f.partition)}|${f.minSequenceNumber}`, f]));
    const mine = byKey(ours);
    const java = byKey(theirs);
    expect([...mine.keys()].sort()).toEqual([...java.keys()].sort());
    for (const [k, f] of mine) {
      const j = java.get(k)!;
      expect(shape(f.path), k).toEqual(shape(j.path));
      const rows = (p: string) => read(p).toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)));
      expect(rows(f.path), k).toEqual(rows(j.path));
    }
  });

  it('independent readers: hyparquet reads our data files as parquet-wasm does, avsc decodes our manifests', async () => {
    const ours = await listPaimonFiles(storage, root, { snapshotId: 2n });
    for (const f of ours) {
      const bytes = readFileSync(f.path);
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const md = parquetMetadata(buf);
      expect(md.schema.slice(1).map((x) => [x.name, x.field_id])).toEqual([
        ['_KEY_f0', 1073741823],
        ['_KEY_f2', 1073741825],
        ['_SEQUENCE_NUMBER', 2147483646],
        ['_VALUE_KIND', 2147483645],
        ['f0', 0],
        ['f1', 1],
        ['f2', 2],
        ['f3', 3],
      ]);
      const viaHyparquet = await parquetReadObjects({ file: buf, compressors });
      const viaWasm = tableFromIPC(readParquet(bytes).intoIPCStream()).toArray().map((r) => r.toJSON() as Record<string, unknown>);
      const plain = (rows: Record<string, unknown>[]) => rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
      expect(plain(viaHyparquet)).toEqual(plain(viaWasm));
      expect(viaHyparquet).toHaveLength(f.recordCount);
    }
    const snap = json(join(root, 'snapshot', 'snapshot-2'));
    for (const name of [snap.baseManifestList as string, snap.deltaManifestList as string]) {
      const decoded: Record<string, unknown>[] = [];
      await new Promise<void>((res, rej) => {
        const dec = new avsc.streams.BlockDecoder();
        dec.on('data', (d: Record<string, unknown>) => decoded.push(d));
        dec.on('end', () => res());
        dec.on('error', rej);
        dec.end(readFileSync(manifestPath(root, name)));
      });
      expect(decoded.length).toBeGreaterThan(0);
      for (const m of decoded) {
        expect(m._FILE_NAME).toMatch(/^manifest-[0-9a-f-]{36}-\d+$/);
        expect(Number(m._FILE_SIZE)).toBe(readFileSync(manifestPath(root, m._FILE_NAME as string)).length);
      }
    }
  });

  it('full compaction writes the max level (num-levels = trigger + 1 = 6) as Java’s compaction did', async () => {
    await compactPaimonTable(root, { commitUser: 'replay', full: true, env: seededWriteEnv(22) });
    const files = await listPaimonFiles(storage, root);
    expect(new Set(files.map((f) => f.level))).toEqual(new Set([5]));
    const java = await listPaimonFiles(storage, fixture, { snapshotId: 3n });
    expect(java.filter((f) => f.fileSource === 'compact').map((f) => f.level)).toContain(5);
    const snap = json(join(root, 'snapshot', 'snapshot-3'));
    expect(Object.keys(snap)).toEqual(Object.keys(json(join(fixture, 'snapshot', 'snapshot-3'))));
    expect(snap).toMatchObject({ commitKind: 'COMPACT', commitIdentifier: 2, totalRecordCount: 8, deltaRecordCount: 8 - 11 });
  });
});
