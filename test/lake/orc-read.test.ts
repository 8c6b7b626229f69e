import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { tableFromIPC, type Table } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TidemarkError } from '../../core/errors';
import { arrowFieldId, convertArrowData, decodeOrcDataFile, parseNameMapping, type NestedField } from '../../core/lake';
import { RangedParquetFile } from '../../core/query/parquet';
import { createLocalStorage } from '../../core/storage/node/index';
import { FIXTURES } from '../support/fixtures';
import { bytes, chunk, utf8, writeOrc } from '../support/orc-file';
import { expectCode, plain } from './helpers';

/**
 * Iceberg ORC data files (core/lake/orc-read.ts): the Spark-written fixture, every column type of
 * the test writer mapped by `iceberg.id` and by a name mapping, and hostile bytes.
 */
const fixtureData = join(FIXTURES, 'iceberg-v3/impala/iceberg_v3_default_value_orc/data');
const fixtureFiles = readdirSync(fixtureData).sort().map((f) => join(fixtureData, f));

/** The Iceberg schema of test/support/orc-file.ts's file, field id = ORC type index + 100. */
const FIELDS: NestedField[] = [
  { id: 101, name: 'i', required: false, type: 'int' },
  { id: 102, name: 's', required: false, type: 'string' },
  { id: 103, name: 'l', required: false, type: { type: 'list', elementId: 104, element: 'long', elementRequired: false } },
  { id: 105, name: 'm', required: false, type: { type: 'map', keyId: 106, key: 'string', valueId: 107, value: 'int', valueRequired: false } },
  { id: 108, name: 'b', required: false, type: 'boolean' },
  { id: 109, name: 'd', required: false, type: 'double' },
  { id: 110, name: 'bin', required: false, type: 'binary' },
  { id: 111, name: 'dec', required: false, type: 'decimal(10, 2)' },
  { id: 112, name: 'dt', required: false, type: 'date' },
  { id: 113, name: 'ts', required: false, type: 'timestamp' },
  { id: 114, name: 'st', required: false, type: { type: 'struct', fields: [{ id: 115, name: 'x', required: false, type: 'int' }] } },
];

const EXPECTED_VALUES: Record<string, unknown[]> = {
  i: [1, null, -3],
  s: ['b', 'a', 'b'],
  l: [[10n, -(2n ** 62n)], [], null],
  m: [[{ key: 'k', value: 1 }], [], null],
  b: [true, false, null],
  d: [1.5, null, -2.25],
  bin: [Uint8Array.of(1, 2), null, new Uint8Array(0)],
  dec: ['12.34', '-0.05', null],
  dt: ['2022-01-08', '1969-12-31', '1970-01-01'],
  ts: ['2024-01-02T03:04:05.123000', '1969-12-31T23:59:58.500000', null],
  st: [{ x: 7 }, null, { x: null }],
};

function valuesById(t: Table, file: string): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const f of FIELDS) {
    const idx = t.schema.fields.findIndex((a) => arrowFieldId(a) === f.id);
    expect(idx, `${f.name} (field id ${f.id})`).toBeGreaterThanOrEqual(0);
    out[f.name] = t.getChildAt(idx)!.data.flatMap((d) => convertArrowData(d, f.type, `${file}: ${f.name}`));
  }
  return out;
}

const withIds = (type: number): [string, string][] => (type === 0 ? [] : [['iceberg.id', String(type + 100)], ['iceberg.required', 'false']]);

describe('decodeOrcDataFile', () => {
  it('reads the Spark-written fixture (ZLIB) by iceberg.id: i = 1, then i = 2, j = 2', async () => {
    const [first, second] = await Promise.all(fixtureFiles.map(async (f) => decodeOrcDataFile(readFileSync(f), f)));
    expect(first!.schema.fields.map((f) => [f.name, arrowFieldId(f)])).toEqual([['i', 1]]);
    expect(second!.schema.fields.map((f) => [f.name, arrowFieldId(f)])).toEqual([['i', 1], ['j', 2]]);
    expect(second!.toArray().map((r) => r.toJSON())).toEqual([{ i: 2, j: 2 }]);
    expect(first!.numRows).toBe(1);
  });

  it('every column type, with nulls, by iceberg.id, uncompressed and ZLIB', async () => {
    const plainFile = writeOrc(0, (b) => b, 3, withIds);
    expect(plain(valuesById(await decodeOrcDataFile(plainFile, 'all.orc'), 'all.orc'))).toEqual(plain(EXPECTED_VALUES));
    const zlib = writeOrc(1, (b) => chunk(deflateRawSync(b), false), 3, withIds);
    expect(plain(valuesById(await decodeOrcDataFile(zlib, 'z.orc'), 'z.orc'))).toEqual(plain(EXPECTED_VALUES));
  });

  it('a file without iceberg.id attributes maps through schema.name-mapping.default, else is Unsupported', async () => {
    const file = writeOrc(0, (b) => b);
    const mapping = parseNameMapping(
      JSON.stringify([
        ...FIELDS.filter((f) => typeof f.type === 'string').map((f) => ({ 'field-id': f.id, names: [f.name] })),
        { 'field-id': 103, names: ['l'], fields: [{ 'field-id': 104, names: ['element'] }] },
        { 'field-id': 105, names: ['m'], fields: [{ 'field-id': 106, names: ['key'] }, { 'field-id': 107, names: ['value'] }] },
        { 'field-id': 114, names: ['st'], fields: [{ 'field-id': 115, names: ['x'] }] },
      ]),
    );
    expect(plain(valuesById(await decodeOrcDataFile(file, 'named.orc', mapping), 'named.orc'))).toEqual(plain(EXPECTED_VALUES));
    await expectCode(decodeOrcDataFile(file, 'noid.orc'), 'Unsupported', /^noid\.orc: ORC file has no iceberg\.id column attributes and the table has no schema\.name-mapping\.default$/);
    expect(() => parseNameMapping('{"field-id": 1}')).toThrow(/schema\.name-mapping\.default: expected a JSON array/);
  });

  it('a column without an Iceberg id is skipped, not guessed', async () => {
    const t = await decodeOrcDataFile(writeOrc(0, (b) => b, 3, (i) => (i === 1 ? [['iceberg.id', '101']] : [])), 'partial.orc');
    expect(t.schema.fields.map((f) => f.name)).toEqual(['i']);
    expect(t.getChildAt(0)!.toArray()).toEqual(Int32Array.of(1, 0, -3));
    expect(t.getChildAt(0)!.nullCount).toBe(1);
  });

  it('an unsupported codec fails as Unsupported naming the file and the codec', async () => {
    await expectCode(decodeOrcDataFile(writeOrc(2, (b) => chunk(b, true), 3, withIds), 'snappy.orc'), 'Unsupported', /^snappy\.orc: ORC compression SNAPPY is not supported/);
  });

  it('the query engine opens an ORC file as Parquet: same field ids and values, row groups and projection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-orc-'));
    try {
      const path = join(dir, 'all.orc');
      const orc = writeOrc(1, (b) => chunk(deflateRawSync(b), false), 3, withIds);
      writeFileSync(path, orc);
      const file = await RangedParquetFile.open(parquet, createLocalStorage(), path, orc.length, 'data file');
      expect([...file.columns.byFieldId.keys()]).toEqual(FIELDS.map((f) => f.id));
      expect(file.footer.rowGroups.map((g) => g.numRows)).toEqual([3]);
      const t = tableFromIPC(await file.readIpc(FIELDS.map((f) => f.name)));
      expect(plain(valuesById(t, path))).toEqual(plain(EXPECTED_VALUES));
      const projected = tableFromIPC(await file.readIpc(['dec', 'ts']));
      expect(projected.schema.fields.map((f) => f.name)).toEqual(['dec', 'ts']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('random bytes, and random damage to real files, only ever raise our typed error', async () => {
    const outcome = async (b: Uint8Array) => {
      try {
        await decodeOrcDataFile(b, 'fuzz.orc');
        return true;
      } catch (e) {
        if (!(e instanceof TidemarkError)) throw e;
        expect(['DataInvalid', 'Unsupported']).toContain(e.code);
        expect(e.message).toMatch(/^fuzz\.orc: /);
        return true;
      }
    };
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (tail) => outcome(bytes(utf8('ORC'), tail))), { numRuns: 200 });
    const real = [readFileSync(fixtureFiles[1]!), writeOrc(1, (b) => chunk(deflateRawSync(b), false), 3, withIds)];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), async (which, edits) => {
        const b = Uint8Array.from(real[which]!);
        for (const [at, v] of edits) b[at % b.length] = v;
        return outcome(b);
      }),
      { numRuns: 300 },
    );
  });
});
