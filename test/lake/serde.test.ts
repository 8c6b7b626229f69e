import { describe, expect, it } from 'vitest';
import {
  applyTransform,
  decodeSingleValue,
  encodeSingleValue,
  normalizeLocation,
  parseJsonBigint,
  parseTableMetadata,
  resolveTablePath,
  stringifyJsonBigint,
  writeTableMetadata,
} from '../../core/lake';
import { murmur3x86_32 } from '../../core/lake/murmur3';

describe('bigint-safe JSON', () => {
  it('keeps 64-bit ids exact and leaves strings and small numbers alone', () => {
    const v = parseJsonBigint('{"a": 9158179788527662767, "b": "9158179788527662767", "c": 12, "d": -9223372036854775808, "e": 1.5e3, "f": "x\\"9999999999999999999"}') as Record<string, unknown>;
    expect(v).toEqual({ a: 9158179788527662767n, b: '9158179788527662767', c: 12, d: -9223372036854775808n, e: 1500, f: 'x"9999999999999999999' });
    expect(stringifyJsonBigint({ a: 9158179788527662767n }, 0)).toBe('{"a":9158179788527662767}');
  });
});

describe('path resolution onto the local table root', () => {
  const root = '/local/t';
  const cases: [string, string, string][] = [
    ['s3a://bucket/java/bunnies', 's3a://bucket/java/bunnies/data/x.parquet', '/local/t/data/x.parquet'],
    ['s3://b/athena/example', 's3://b/athena/example/metadata/snap-1.avro', '/local/t/metadata/snap-1.avro'],
    ['./lineitem_iceberg', 'lineitem_iceberg/metadata/a.avro', '/local/t/metadata/a.avro'],
    ['file://data/persistent/map_stats', 'file://data/persistent/map_stats/data/_day=1/f.parquet', '/local/t/data/_day=1/f.parquet'],
    ['file:/tmp/wh/t', 'file:/tmp/wh/t/data/f.parquet', '/local/t/data/f.parquet'],
    ['file:///tmp/wh/t', '/tmp/wh/t/metadata/v1.metadata.json', '/local/t/metadata/v1.metadata.json'],
    ['/tmp/wh/t', '/elsewhere/moved/t/data/a=1/f.parquet', '/local/t/data/a=1/f.parquet'],
    ['data/persistent/t', 'data/persistent/t/data/f.parquet', '/local/t/data/f.parquet'],
  ];
  for (const [location, path, want] of cases) {
    it(`${path} (location ${location})`, () => {
      expect(resolveTablePath({ tableRoot: root, location }, path)).toBe(want);
    });
  }
  it('object-storage layouts: data under write.object-storage.path', () => {
    const props = { 'write.object-storage.path': 's3://b/other/prefix' };
    expect(resolveTablePath({ tableRoot: root, location: 's3://b/t', properties: props }, 's3://b/other/prefix/Ab12/f.parquet')).toBe('/local/t/data/Ab12/f.parquet');
  });
  it('normalizes schemes', () => {
    expect(normalizeLocation('s3a://bucket/a/b/')).toBe('/a/b');
    expect(normalizeLocation('file:/abs/x')).toBe('/abs/x');
    expect(normalizeLocation('./rel/x')).toBe('rel/x');
  });
});

describe('single-value binary serialization (spec Appendix D)', () => {
  const cases: [string, unknown, string][] = [
    ['int', 34, '22000000'],
    ['long', 34n, '2200000000000000'],
    ['date', '2017-11-16', '4e440000'] /* day 17486 */,
    ['boolean', true, '01'],
    ['string', 'iceberg', '69636562657267'],
    ['decimal(9, 2)', '14.20', '058c'],
    ['decimal(9, 2)', '-1.00', '9c'],
    ['uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7', 'f79c3e09677c4bbda4793f349cb785e7'],
    ['double', 1.5, '000000000000f83f'],
    ['timestamp', '2017-11-16T22:31:08.000000', '00c3262d215e0500' /* 1510871468000000 µs */],
  ];
  for (const [type, value, hex] of cases) {
    it(`${type} ${String(value)} ⇄ ${hex}`, () => {
      const bytes = encodeSingleValue(type, value);
      expect(Buffer.from(bytes).toString('hex')).toBe(hex);
      expect(decodeSingleValue(type, bytes)).toEqual(value);
    });
  }
  it('a bound with the wrong width is DataInvalid', () => {
    expect(() => decodeSingleValue('long', new Uint8Array(3))).toThrow(/expected 8 bytes, found 3/);
  });
});

describe('partition transforms', () => {
  it('murmur3 and bucket hashes match the spec appendix B vectors', () => {
    const hash = (type: string, v: unknown) => applyTransform('bucket[2147483647]', type, v);
    expect(murmur3x86_32(new Uint8Array([0, 1, 2, 3]))).toBe(-188683207);
    // bucket = (hash & MAX_INT) % N; with N = MAX_INT the positive hash shows through.
    expect(hash('int', 34)).toBe(2017239379);
    expect(hash('long', 34n)).toBe(2017239379);
    expect(hash('decimal(4, 2)', '14.20')).toBe(-500754589 & 0x7fffffff);
    expect(hash('date', '2017-11-16')).toBe(-653330422 & 0x7fffffff);
    expect(hash('time', '22:31:08.000000')).toBe(-662762989 & 0x7fffffff);
    expect(hash('timestamp', '2017-11-16T22:31:08.000000')).toBe(-2047944441 & 0x7fffffff);
    expect(hash('string', 'iceberg')).toBe(1210000089);
    expect(hash('uuid', 'f79c3e09-677c-4bbd-a479-3f349cb785e7')).toBe(1488055340);
    expect(applyTransform('bucket[4]', 'int', 34)).toBe(2017239379 % 4);
  });
  it('truncate, temporal and void transforms', () => {
    expect(applyTransform('truncate[10]', 'int', -1)).toBe(-10);
    expect(applyTransform('truncate[10]', 'long', 15n)).toBe(10n);
    expect(applyTransform('truncate[3]', 'string', 'iceberg')).toBe('ice');
    expect(applyTransform('truncate[50]', 'decimal(9, 2)', '10.65')).toBe('10.50');
    expect(applyTransform('year', 'date', '2017-11-16')).toBe(47);
    expect(applyTransform('month', 'timestamp', '2017-11-16T22:31:08.000000')).toBe(47 * 12 + 10);
    expect(applyTransform('day', 'timestamptz', '2017-11-16T22:31:08.000000+00:00')).toBe('2017-11-16');
    expect(applyTransform('hour', 'timestamp', '1969-12-31T23:59:59.000000')).toBe(-1);
    expect(applyTransform('void', 'int', 5)).toBe(null);
    expect(applyTransform('identity', 'int', null)).toBe(null);
  });
});

describe('table metadata JSON', () => {
  const v2 = `{"format-version":2,"table-uuid":"u","location":"/t","last-sequence-number":3,"last-updated-ms":5,
    "last-column-id":3,"current-schema-id":0,"schemas":[{"type":"struct","schema-id":0,"identifier-field-ids":[1],"fields":[
      {"id":1,"name":"id","required":true,"type":"long"},
      {"id":2,"name":"tags","required":false,"type":{"type":"list","element-id":3,"element":"string","element-required":false}}]}],
    "default-spec-id":0,"partition-specs":[{"spec-id":0,"fields":[{"name":"id_bucket","transform":"bucket[4]","source-id":1,"field-id":1000}]}],
    "last-partition-id":1000,"default-sort-order-id":0,"sort-orders":[{"order-id":0,"fields":[]}],"properties":{"k":"v"},
    "current-snapshot-id":9158179788527662767,"refs":{"main":{"snapshot-id":9158179788527662767,"type":"branch"}},
    "snapshots":[{"sequence-number":3,"snapshot-id":9158179788527662767,"timestamp-ms":5,"summary":{"operation":"append"},"manifest-list":"/t/metadata/snap.avro","schema-id":0}],
    "snapshot-log":[{"timestamp-ms":5,"snapshot-id":9158179788527662767}],"metadata-log":[]}`;
  it('parses v2 and writes it back losslessly', () => {
    const m = parseTableMetadata(v2, 'v2.metadata.json');
    expect(m.currentSnapshotId).toBe(9158179788527662767n);
    expect(m.schemas[0]!.fields[1]!.type).toEqual({ type: 'list', elementId: 3, element: 'string', elementRequired: false });
    expect(parseTableMetadata(writeTableMetadata(m), 'x')).toEqual(m);
  });
  it('parses v1 spellings (schema, partition-spec without field ids)', () => {
    const m = parseTableMetadata(`{"format-version":1,"location":"/t","last-updated-ms":1,"last-column-id":1,
      "schema":{"type":"struct","fields":[{"id":1,"name":"a","required":false,"type":"int"}]},
      "partition-spec":[{"name":"a","transform":"identity","source-id":1}],"current-snapshot-id":-1}`, 'v1.metadata.json');
    expect(m.formatVersion).toBe(1);
    expect(m.partitionSpecs).toEqual([{ specId: 0, fields: [{ sourceId: 1, fieldId: 1000, name: 'a', transform: 'identity' }] }]);
    expect(m.currentSnapshotId).toBe(null);
    expect(m.lastSequenceNumber).toBe(0n);
  });
  it('reads v3 (row lineage), writes it back as v3, rejects v4 and corrupt JSON naming the file', () => {
    const v3 = parseTableMetadata(
      v2.replace('"format-version":2', '"format-version":3').replace('"current-snapshot-id"', '"next-row-id":7,"current-snapshot-id"'),
      'v9.metadata.json',
    );
    expect(v3.formatVersion).toBe(3);
    expect(v3.nextRowId).toBe(7n);
    // Written back as v3 with its next-row-id: never silently as v2 (which would drop row lineage).
    const again = parseTableMetadata(writeTableMetadata(v3), 'v10.metadata.json');
    expect([again.formatVersion, again.nextRowId]).toEqual([3, 7n]);
    expect(() => writeTableMetadata({ ...v3, nextRowId: null })).toThrow(/a format-version 3 table needs next-row-id/);
    expect(() => parseTableMetadata('{"format-version":4}', 'v9.metadata.json')).toThrow(/v9.metadata.json: format-version: expected 1, 2 or 3, found 4/);
    expect(() => parseTableMetadata('{"format-version":2, "loc', 'v9.metadata.json')).toThrow(/v9.metadata.json: expected table metadata JSON/);
    expect(() => parseTableMetadata('{"format-version":2,"table-uuid":"u","location":7}', 'v9.metadata.json')).toThrow(/v9.metadata.json: schema: expected an object, found nothing/);
    expect(() => parseTableMetadata(v2.replace('"location":"/t"', '"location":7'), 'v9.metadata.json')).toThrow(/v9.metadata.json: location: expected a string, found 7/);
  });
});
